//! `kubectl checkpoint image SOURCE [REF]`: a checkpoint image (the OCI image CRI-O restores a
//! container from) of a local archive, of `NODE:PATH` on a node, or of a TARGET checkpointed now;
//! pushed to REF's registry, or written as an OCI image layout (`-o oci:DIR`,
//! `-o oci-archive:FILE`). Prints the image by digest.
//!
//! Flags, then a [`Plan`] (the source's kind, the destination, the record format: all checked
//! before any request), then the run: fetch or checkpoint when the archive is not here (into a
//! private temp directory, removed afterwards), then [`shipping::ship`].

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::checkpoint::{checkpoint_to_temp_with, CaptureFlags, RestartArgs};
use super::fetch::{fetch_one, note_left_on_node, private_temp_dir, FetchFlags};
use super::session::{render_records, runtime};
use super::shipping::{self, Destination, Origin};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster as cluster;

/// The help heading of the image flags.
pub const IMAGE: &str = "Image";

/// Arguments of `kubectl checkpoint image`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # A local archive, pushed (prints REGISTRY/REPOSITORY@sha256:...)
  kubectl checkpoint image counter.tar registry.example.com/ckpt/counter:v1

  # Checkpoint a pod now and push its image to a registry on this machine
  kubectl checkpoint image -n ckpt pod/counter 127.0.0.1:5000/ckpt/counter:v1

  # An archive on its node, as an OCI image layout for an air-gapped site
  kubectl checkpoint image \\
      worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar \\
      -o oci-archive:counter.oci.tar

Restore it with `kubectl checkpoint restore IMAGE --node NODE` (CRI-O).")]
pub struct ImageArgs {
    /// The checkpoint: a local archive, `NODE:PATH` on a node, or a TARGET to checkpoint now.
    ///
    /// A file here is used as it is (with its custody manifest, when it was fetched); `NODE:PATH`
    /// is fetched first; anything else is a TARGET (`pod/NAME`, `NAME`) whose container is
    /// checkpointed and fetched, and its archive left on the node.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The image to push: `REGISTRY/REPOSITORY[:TAG]`.
    ///
    /// With `-o oci:DIR` or `-o oci-archive:FILE`, optional: its tag is recorded in the
    /// layout's index.
    #[arg(value_name = "REF")]
    pub reference: Option<String>,
    /// Where the image goes instead of a registry, `oci:DIR` or `oci-archive:FILE`, and/or the
    /// record format, `json` or `yaml`; may be given twice.
    #[arg(short = 'o', long, value_name = "FORMAT|oci:DIR|oci-archive:FILE", help_heading = IMAGE)]
    pub output: Vec<String>,
    /// Send the image over plain HTTP to a registry that is not on this machine (anyone on
    /// the way can read and change it); a registry on localhost always gets plain HTTP.
    #[arg(long, help_heading = IMAGE)]
    pub insecure: bool,
    /// The container to checkpoint (TARGET), or the name the image records when the archive
    /// names none.
    #[arg(short = 'c', long, help_heading = IMAGE)]
    pub container: Option<String>,
    /// Seconds the kubelet may take for the checkpoint (TARGET).
    #[arg(long, value_name = "SECONDS", help_heading = IMAGE, hide_short_help = true)]
    pub timeout: Option<u64>,
    /// After the checkpoint (TARGET): whether the container still runs.
    #[command(flatten)]
    pub restart: RestartArgs,
    /// Fetch options (NODE:PATH and TARGET).
    #[command(flatten)]
    pub fetch_flags: FetchFlags,
    /// Connection flags (NODE:PATH and TARGET).
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// What the archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SourceKind {
    /// A file here.
    Local(PathBuf),
    /// An archive on a node.
    NodePath(String),
    /// A pod to checkpoint now.
    Target(String),
}

/// The kind of SOURCE: a file that exists here, else `NODE:PATH` when it parses as one, else a
/// TARGET.
pub(super) fn plan_source(source: &str) -> Result<SourceKind, Error> {
    let path = PathBuf::from(source);
    if path.exists() {
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "{source} is a directory: a checkpoint image is made of an archive (a .tar as the kubelet writes it)"
            )));
        }
        return Ok(SourceKind::Local(path));
    }
    if source.contains(':') {
        cluster::parse_node_path(source)?;
        return Ok(SourceKind::NodePath(source.to_string()));
    }
    if source.ends_with(".tar") || source.contains(".tar.") {
        return Err(Error::Usage(format!(
            "{source}: no such file (a TARGET is `pod/NAME` or `NAME`)"
        )));
    }
    Ok(SourceKind::Target(source.to_string()))
}

/// What `image` was asked, validated before anything is read or sent.
struct Plan {
    source: SourceKind,
    destination: Destination,
    /// REF's tag, for a layout's index.
    tag: Option<String>,
    records: Option<OutputFormat>,
}

/// The destination and record format of `-o` values and REF.
pub(super) fn plan_outputs(
    outputs: &[String],
    reference: Option<&str>,
    insecure: bool,
) -> Result<(Destination, Option<OutputFormat>), Error> {
    let mut layout = None;
    let mut records = None;
    for value in outputs {
        match value.as_str() {
            "json" | "yaml" if records.is_none() => {
                records = Some(if value == "json" {
                    OutputFormat::Json
                } else {
                    OutputFormat::Yaml
                })
            }
            other => match shipping::parse_layout(other) {
                Some(dest) if layout.is_none() => layout = Some(dest),
                _ => {
                    return Err(Error::Usage(format!(
                        "-o {other}: give at most one of json or yaml, and at most one of oci:DIR or oci-archive:FILE"
                    )))
                }
            },
        }
    }
    let destination = match (layout, reference) {
        (Some(Destination::OciDir(dir)), _) if dir.as_os_str().is_empty() => {
            return Err(Error::Usage("-o oci:DIR needs a directory".into()))
        }
        (Some(Destination::OciArchive(file)), _) if file.as_os_str().is_empty() => {
            return Err(Error::Usage("-o oci-archive:FILE needs a file".into()))
        }
        (Some(layout), Some(reference)) => {
            // Only its tag is used; it must still be a reference.
            checkpoint_registry::parse_reference(reference)?;
            layout
        }
        (Some(layout), None) => layout,
        (None, Some(reference)) => {
            Destination::Registry(shipping::registry_destination(reference, insecure)?)
        }
        (None, None) => {
            return Err(Error::Usage(
                "image needs REF (REGISTRY/REPOSITORY[:TAG]) to push to, or -o oci:DIR / -o oci-archive:FILE".into(),
            ))
        }
    };
    Ok((destination, records))
}

fn plan(args: &ImageArgs) -> Result<Plan, Error> {
    let source = plan_source(&args.source)?;
    let (destination, records) =
        plan_outputs(&args.output, args.reference.as_deref(), args.insecure)?;
    if let Destination::OciDir(path) | Destination::OciArchive(path) = &destination {
        let non_empty_dir = std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some());
        if (path.exists() && !path.is_dir()) || non_empty_dir {
            return Err(checkpoint_registry::Error::OutputExists { path: path.clone() }.into());
        }
    }
    let tag = match (&destination, args.reference.as_deref()) {
        (Destination::Registry(_), _) | (_, None) => None,
        (_, Some(reference)) => checkpoint_registry::parse_reference(reference)?
            .tag()
            .map(str::to_string),
    };
    Ok(Plan {
        source,
        destination,
        tag,
        records,
    })
}

/// An archive here, and where it came from; the temp directory of a fetched one goes with it.
pub(super) struct LocalArchive {
    /// The archive.
    pub path: PathBuf,
    /// Where it came from.
    pub origin: Origin,
    /// The temp directory holding a fetched copy (removed on drop).
    _temp: Option<TempHolder>,
}

/// Whatever keeps a fetched archive's temp directory alive.
enum TempHolder {
    Dir {
        /// Removed on drop.
        _dir: tempfile::TempDir,
    },
    Checkpoint(Box<super::checkpoint::TempCheckpoint>),
}

/// The archive of `source` on this machine: as it is, fetched from its node, or checkpointed
/// and fetched.
pub(super) fn collect_local(
    rt: &tokio::runtime::Runtime,
    source: &SourceKind,
    capture: &CaptureFlags<'_>,
    show_progress: bool,
) -> Result<LocalArchive, Error> {
    match source {
        SourceKind::Local(path) => Ok(LocalArchive {
            path: path.clone(),
            origin: Origin::default(),
            _temp: None,
        }),
        SourceKind::NodePath(text) => {
            let node_path = cluster::parse_node_path(text)?;
            let conn = rt.block_on(cluster::connect(&capture.kube.connect_params(None)))?;
            let dir = private_temp_dir()?;
            let dest = dir.path().join(node_path.basename());
            let record = fetch_one(
                rt,
                &conn,
                &node_path,
                &dest,
                capture.fetch_flags,
                show_progress,
            )?;
            Ok(LocalArchive {
                path: record.dest.clone(),
                origin: Origin {
                    source: Some(text.clone()),
                    node: Some(record.node.clone()),
                },
                _temp: Some(TempHolder::Dir { _dir: dir }),
            })
        }
        SourceKind::Target(target) => {
            let fetched = checkpoint_to_temp_with(capture, Some(target))?;
            Ok(LocalArchive {
                path: fetched.path.clone(),
                origin: Origin {
                    source: Some(fetched.source.clone()),
                    node: Some(fetched.record.node.clone()),
                },
                _temp: Some(TempHolder::Checkpoint(Box::new(fetched))),
            })
        }
    }
}

impl LocalArchive {
    /// Says, for an archive this run took off a node, that it stays there.
    pub fn note_left_on_node(&self) {
        if let Some(TempHolder::Checkpoint(fetched)) = &self._temp {
            if !fetched.deleted {
                note_left_on_node(&fetched.record.node, &fetched.record.path);
            }
        }
    }
}

/// Runs `image`.
pub fn run(args: ImageArgs) -> Result<Outcome, Error> {
    let plan = plan(&args)?;
    let show_progress = plan.records.is_none() && std::io::stderr().is_terminal();
    let needs_runtime = !matches!(plan.source, SourceKind::Local(_))
        || matches!(plan.destination, Destination::Registry(_));
    let rt = if needs_runtime {
        Some(runtime()?)
    } else {
        None
    };
    let capture = CaptureFlags {
        kube: &args.kube,
        container: args.container.as_deref(),
        timeout: args.timeout,
        restart: args.restart,
        fetch_flags: &args.fetch_flags,
    };
    let local = match (&plan.source, &rt) {
        (SourceKind::Local(path), _) => LocalArchive {
            path: path.clone(),
            origin: Origin::default(),
            _temp: None,
        },
        (source, Some(rt)) => collect_local(rt, source, &capture, show_progress)?,
        (_, None) => return Err(Error::Usage("no async runtime".into())),
    };
    let record = shipping::ship(
        rt.as_ref(),
        &local.path,
        &local.origin,
        args.container.as_deref(),
        &plan.destination,
        plan.tag.as_deref(),
        show_progress,
    )?;
    if !render_records(plan.records, &record)? {
        crate::stdout::with(|out| {
            writeln!(out, "{}", crate::output::escape_text(&record.render_line()))
        })
        .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
        shipping::note_image(&record);
    }
    local.note_left_on_node();
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.tar");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(
            plan_source(file.to_str().unwrap()).unwrap(),
            SourceKind::Local(file.clone())
        );
        assert_eq!(
            plan_source("node-a:/var/lib/kubelet/checkpoints/c.tar").unwrap(),
            SourceKind::NodePath("node-a:/var/lib/kubelet/checkpoints/c.tar".into())
        );
        assert_eq!(
            plan_source("pod/counter").unwrap(),
            SourceKind::Target("pod/counter".into())
        );
        assert!(plan_source("node-a:/etc/passwd").is_err());
        assert!(plan_source("missing.tar").is_err());
        assert!(plan_source(dir.path().to_str().unwrap()).is_err());
    }

    #[test]
    fn outputs_and_references() {
        let (dest, records) =
            plan_outputs(&["oci:out".into(), "json".into()], None, false).unwrap();
        assert!(
            matches!(dest, Destination::OciDir(p) if p.as_path() == std::path::Path::new("out"))
        );
        assert_eq!(records, Some(OutputFormat::Json));
        assert!(plan_outputs(&[], None, false).is_err());
        assert!(plan_outputs(&["oci:a".into(), "oci-archive:b".into()], None, false).is_err());
        assert!(plan_outputs(&["table".into()], Some("r/x"), false).is_err());
        let (dest, _) = plan_outputs(&[], Some("127.0.0.1:5000/ckpt/app:v1"), false).unwrap();
        assert!(matches!(dest, Destination::Registry(p) if p.registry() == "127.0.0.1:5000"));
    }
}

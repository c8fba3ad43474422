//! `kubectl checkpoint fetch NODE:PATH [DEST]`, and the fetch step `--fetch` and `analyze
//! TARGET` share: a progress bar, Ctrl-C handling, `--delete-after-fetch`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::kube_args::{HelperArgs, RECORD_FORMATS};
use super::pick::{given_source, pick_archives};
use super::picker::Choose;
use super::progress::Activity;
use super::session::{ctrl_c, render_records, runtime};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster::{self as cluster, FetchParams, FetchRecord, NodePath, Verify};

/// The help heading of the fetch flags.
pub const FETCH: &str = "Fetch";

/// Arguments of `kubectl checkpoint fetch`.
#[derive(Debug, Args)]
#[command(mut_arg("namespace", |arg| arg.help(
    "The namespace of the helper pod that reads the archive on its node; defaults to the context's namespace"
)))]
#[command(after_help = "Examples:
  # Copy an archive here (NODE:PATH, as `kubectl checkpoint` prints it)
  kubectl checkpoint fetch worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar

  # Into a file of your choice, then delete the node's copy
  kubectl checkpoint fetch --delete-after-fetch \\
      worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar counters.tar

  # Run the helper pod in a dedicated namespace, from a mirrored image
  kubectl checkpoint fetch --helper-namespace checkpoint-helpers \\
      --helper-image registry.example.com/busybox:1.36 \\
      worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar")]
pub struct FetchArgs {
    /// The archive on the node, as `NODE:PATH` (as `kubectl checkpoint` prints it); on a
    /// terminal, left out to pick one from a list.
    pub source: Option<String>,
    /// Where to write the archive: a file, or a directory to put it in (an existing one, or a
    /// DEST ending in `/`, made if its parent exists); default: its name in the current
    /// directory.
    pub dest: Option<PathBuf>,
    /// Output format: a json or yaml record instead of the local path.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(RECORD_FORMATS))]
    pub output: Option<OutputFormat>,
    /// Fetch options.
    #[command(flatten)]
    pub flags: FetchFlags,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Options of every fetch.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = FETCH)]
pub struct FetchFlags {
    /// Delete the archive from the node once it is fetched and verified.
    #[arg(long)]
    pub delete_after_fetch: bool,
    /// How to check the copy: `sha256` has the node hash the archive too (in the same pass that
    /// streams it) and compares (chain of custody); `size` compares sizes only, and hashes on
    /// the node only after a resumed stream. The copy's sha256 is reported either way.
    #[arg(long, value_enum, default_value_t = VerifyArg::Sha256, hide_short_help = true)]
    pub verify: VerifyArg,
    /// Replace DEST (and its custody manifest) if it exists; without it an existing file is
    /// never overwritten.
    #[arg(long, hide_short_help = true)]
    pub overwrite: bool,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
}

impl FetchFlags {
    /// The fetch parameters, helpers in `namespace` unless `--helper-namespace`.
    pub(super) fn fetch_params(&self, namespace: &str) -> FetchParams {
        FetchParams {
            verify: match self.verify {
                VerifyArg::Sha256 => Verify::Sha256,
                VerifyArg::Size => Verify::Size,
            },
            overwrite: self.overwrite,
            helper: self.helper.helper_params(namespace),
        }
    }
}

/// `--verify` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyArg {
    /// Compare the node's sha256 with the copy's.
    Sha256,
    /// Compare sizes (and sha256 after a resumed stream).
    Size,
}

/// One line about a finished fetch: where, how big, its sha256 and how it was checked, and
/// where it resumed an earlier run's partial copy.
pub(super) fn render_fetched(record: &FetchRecord) -> String {
    let checked = match record.verified {
        Verify::Sha256 => "matches the node's",
        Verify::Size => "size checked",
    };
    let resumed = if record.resumed_from_partial > 0 {
        format!(
            "; resumed at {} of {}",
            crate::output::human_size(record.resumed_from_partial),
            crate::output::human_size(record.size)
        )
    } else {
        String::new()
    };
    let breaks = match record.resumes {
        0 => String::new(),
        1 => "; the stream broke once and was resumed".to_string(),
        n => format!("; the stream broke {n} times and was resumed"),
    };
    format!(
        "{}  {}  sha256:{} ({checked}{resumed}{breaks})",
        crate::output::escape_text(&record.dest.display().to_string()),
        crate::output::human_size(record.size),
        record.sha256
    )
}

/// Fetches one archive, with a progress bar when `show_progress`, stopping cleanly on Ctrl-C;
/// deletes it from the node afterwards with `--delete-after-fetch`.
pub(super) fn fetch_one(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    source: &NodePath,
    dest: &std::path::Path,
    flags: &FetchFlags,
    show_progress: bool,
) -> Result<FetchRecord, cluster::Error> {
    let params = flags.fetch_params(&conn.namespace);
    let activity = Activity::new(show_progress);
    let fetched = rt.block_on(cluster::collect_archive(
        conn,
        source,
        dest,
        &params,
        &activity,
        ctrl_c(),
    ));
    drop(activity);
    if let Err(cluster::Error::Interrupted(_)) = &fetched {
        let part = cluster::part_path(dest);
        if part.exists() {
            let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
            crate::messages::note(format_args!(
                "the partial copy stays in {} ({}): run the same fetch again to resume",
                part.display(),
                crate::output::human_size(have)
            ));
        }
    }
    let record = fetched?;
    if flags.delete_after_fetch {
        delete_fetched(rt, conn, &record, &params.helper, "--delete-after-fetch")?;
    }
    Ok(record)
}

/// Runs `fetch`.
pub fn run(args: FetchArgs) -> Result<Outcome, Error> {
    let given = args.source.clone().unwrap_or_default();
    let source = given_source(args.source.as_deref(), "fetch")?;
    // The local side first: no helper pod starts for a copy that cannot be written.
    let dest_plan = DestPlan::of(args.dest.as_deref(), args.flags.overwrite)?;
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    let source = match source {
        Some(source) => source,
        None => {
            let helper = args.flags.helper.helper_params(&conn.namespace);
            pick_archives(&rt, &conn, &helper, "fetch", Choose::One)?
                .into_iter()
                .next()
                .ok_or(Error::Cancelled)?
        }
    };
    let dest = dest_plan.dest(&source);
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let record = match fetch_one(&rt, &conn, &source, &dest, &args.flags, show_progress) {
        Err(cluster::Error::NoSuchNode { node }) if std::path::Path::new(&given).exists() => {
            return Err(Error::Usage(format!(
                "node {node} does not exist; {given} is a file here: analyse a local archive with `kubectl checkpoint analyze --local {given}`"
            )))
        }
        other => other?,
    };
    if !render_records(args.output, &record)? {
        crate::stdout::with(|out| writeln!(out, "{}", render_fetched(&record)))
            .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    }
    if !args.flags.delete_after_fetch {
        note_left_on_node(&record.node, &record.path);
    }
    Ok(Outcome::Success)
}

/// Where `--fetch` writes, checked before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DestPlan {
    /// The current directory, under the archive's own name.
    Here,
    /// This directory (made if its parent exists), under the archives' own names.
    Dir(PathBuf),
    /// This file (one archive).
    File(PathBuf),
}

impl DestPlan {
    /// The plan of `--fetch[=DEST]`: the directory must exist (or be makeable, for a DEST
    /// ending in `/`), and a file DEST must not exist unless `overwrite`.
    pub fn of(dest: Option<&Path>, overwrite: bool) -> Result<DestPlan, Error> {
        let Some(dest) = dest else {
            cluster::check_dest_dir(Path::new("."), false)?;
            return Ok(DestPlan::Here);
        };
        let as_dir = dest.as_os_str().to_string_lossy().ends_with('/') || dest.is_dir();
        if as_dir {
            cluster::check_dest_dir(dest, true)?;
            return Ok(DestPlan::Dir(dest.to_path_buf()));
        }
        let parent = dest.parent().unwrap_or(Path::new(""));
        cluster::check_dest_dir(parent, false)?;
        if dest.exists() && !overwrite {
            return Err(cluster::Error::Exists {
                path: dest.to_path_buf(),
                reason: "exists; evidence is never replaced silently: pass --overwrite to replace it, or choose another DEST".into(),
            }
            .into());
        }
        Ok(DestPlan::File(dest.to_path_buf()))
    }

    /// For `archives` archives: several never go into one file, so a file DEST becomes a
    /// directory of that name.
    pub(super) fn for_count(self, archives: usize) -> Result<DestPlan, Error> {
        match self {
            DestPlan::File(path) if archives > 1 => {
                cluster::check_dest_dir(&path, true)?;
                Ok(DestPlan::Dir(path))
            }
            other => Ok(other),
        }
    }

    /// The local file for the archive `source`.
    pub(super) fn dest(&self, source: &cluster::NodePath) -> PathBuf {
        match self {
            DestPlan::Here => PathBuf::from(source.basename()),
            DestPlan::Dir(dir) => cluster::build_dest(source, Some(dir), true),
            DestPlan::File(file) => file.clone(),
        }
    }
}

/// Deletes a fetched and verified archive from its node and records that in its custody
/// manifest (`by` says what asked for it).
pub(super) fn delete_fetched(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    fetched: &FetchRecord,
    helper: &cluster::HelperParams,
    by: &str,
) -> Result<(), cluster::Error> {
    let source = cluster::parse_node_path(&format!("{}:{}", fetched.node, fetched.path))?;
    let activity = Activity::new(std::io::stderr().is_terminal());
    // The archive was just verified against the node's: it is the kubelet's, whatever tar
    // says of it.
    rt.block_on(cluster::delete_archive(
        conn,
        &source,
        true,
        helper,
        &activity,
        ctrl_c(),
    ))?;
    drop(activity);
    cluster::record_node_deletion(&fetched.dest, by)
}

/// Says that the archive `path` stays on `node` after a fetch, and the command that deletes it.
pub(super) fn note_left_on_node(node: &str, path: &str) {
    crate::messages::note(format_args!(
        "the archive stays on node {node} (the kubelet never deletes it); delete it with: kubectl checkpoint delete {node}:{path}"
    ));
}

/// A private temporary directory (0700, removed when dropped) for an archive fetched only to
/// be worked on here.
pub(super) fn private_temp_dir() -> Result<tempfile::TempDir, cluster::Error> {
    tempfile::Builder::new()
        .prefix("kubectl-checkpoint-")
        .tempdir()
        .map_err(|source| cluster::Error::Write {
            path: std::env::temp_dir(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::DestPlan;

    #[test]
    fn fetch_destinations_are_checked_here_first() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nonexistent/dir/");
        let err = DestPlan::of(Some(&missing), false).unwrap_err().to_string();
        assert!(err.contains("parent directory"), "{err}");
        let sub = PathBuf::from(format!("{}/", dir.path().join("out").display()));
        assert_eq!(
            DestPlan::of(Some(&sub), false).unwrap(),
            DestPlan::Dir(sub.clone())
        );
        assert!(dir.path().join("out").is_dir());
        let file = dir.path().join("a.tar");
        assert_eq!(
            DestPlan::of(Some(&file), false).unwrap(),
            DestPlan::File(file.clone())
        );
        std::fs::write(&file, b"evidence").unwrap();
        let err = DestPlan::of(Some(&file), false).unwrap_err().to_string();
        assert!(err.contains("--overwrite"), "{err}");
        assert!(DestPlan::of(Some(&file), true).is_ok());
        let err = DestPlan::of(Some(&dir.path().join("no/a.tar")), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}

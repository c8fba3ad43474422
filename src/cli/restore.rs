//! `kubectl checkpoint restore IMAGE|ARCHIVE`: a new pod that restores a checkpoint (on a CRI-O
//! node), waited for, and checked to have been restored rather than started fresh; with
//! `--quarantine`, in a forensic sandbox of its own.
//!
//! Flags, then the plan (is SOURCE an archive here, which then needs `--registry`, or an
//! image), then the run: the node first (a containerd node is refused before anything is
//! pushed or created), the image made and pushed from an ARCHIVE, then `revive`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::kube_args::RECORD_FORMATS;
use super::revive::{self, ReviveParams};
use super::session::runtime;
use super::shipping::{self, Destination, Origin};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster as cluster;

/// The help heading of the restore flags.
pub const RESTORE: &str = "Restore";

/// Arguments of `kubectl checkpoint restore`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Restore a checkpoint image as a new pod on a CRI-O node
  kubectl checkpoint restore -n ckpt 127.0.0.1:5000/ckpt/counter:v1 \\
      --node worker-crio

  # From an archive: build its image, push it, restore it
  kubectl checkpoint restore counter.tar \\
      --registry registry.example.com/ckpt --node worker-crio

  # A suspicious container, restored in a sandbox to watch it live
  kubectl checkpoint restore registry.example.com/ckpt/suspect:v1 \\
      --quarantine --node worker-crio")]
pub struct RestoreArgs {
    /// A checkpoint image (`REGISTRY/REPOSITORY[:TAG|@DIGEST]`), or a checkpoint archive here
    /// (with --registry).
    #[arg(value_name = "IMAGE|ARCHIVE")]
    pub source: String,
    /// The new pod's name (default: the original pod's, with `-restored-HHMMSS`).
    #[arg(long, value_name = "NAME", help_heading = RESTORE)]
    pub name: Option<String>,
    /// The node to restore on (`spec.nodeName`); it must run CRI-O.
    ///
    /// Without it, the scheduler chooses when every Ready node runs CRI-O; otherwise you are
    /// asked to choose one.
    #[arg(long, value_name = "NODE", help_heading = RESTORE)]
    pub node: Option<String>,
    /// Where to push the image of an ARCHIVE: `REGISTRY[/REPOSITORY]`
    /// (the image is `REGISTRY/REPOSITORY/POD:checkpoint-TIME`).
    #[arg(long, value_name = "REGISTRY", help_heading = RESTORE)]
    pub registry: Option<String>,
    /// A forensic sandbox: a namespace of its own (a new one: -n, or `quarantine-POD-TIME`), a
    /// NetworkPolicy denying all ingress and egress, no service account token, no host
    /// namespaces, restartPolicy Never, provenance labels.
    #[arg(long, help_heading = RESTORE)]
    pub quarantine: bool,
    /// Seconds to wait for the pod to run.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, help_heading = RESTORE)]
    pub timeout: u64,
    /// Talk to a registry that is not on this machine over plain HTTP.
    #[arg(long, help_heading = RESTORE, hide_short_help = true)]
    pub insecure: bool,
    /// Output format: a json or yaml record instead of `pod/NAME`.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(RECORD_FORMATS), help_heading = RESTORE)]
    pub output: Option<OutputFormat>,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// `REGISTRY[/REPOSITORY]` + the pod (or container) name + a time tag: where an archive's image
/// goes when only a registry is given.
pub(super) fn build_image_reference(registry: &str, name: &str, now: &str) -> String {
    let repository: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stamp: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    format!(
        "{}/{}:checkpoint-{stamp}",
        registry.trim_end_matches('/'),
        repository.trim_matches(|c: char| !c.is_ascii_alphanumeric())
    )
}

/// Runs `restore`.
pub fn run(args: RestoreArgs) -> Result<Outcome, Error> {
    let archive = PathBuf::from(&args.source);
    let is_archive = archive.is_file();
    if is_archive && args.registry.is_none() {
        return Err(Error::Usage(format!(
            "{} is an archive: restore pushes its image first, so give --registry REGISTRY[/REPOSITORY] (a registry the node can pull from), or build the image with `kubectl checkpoint image`",
            args.source
        )));
    }
    if !is_archive {
        checkpoint_registry::parse_reference(&args.source)?;
    }
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    // Before anything is pushed or created.
    let node = revive::check_node(&rt, &conn, args.node.as_deref())?;
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let reference = if is_archive {
        let registry = args.registry.as_deref().unwrap_or_default();
        let checkpoint = checkpoint_model::archive::Checkpoint::open(&archive)?;
        let meta = checkpoint.metadata()?;
        if !matches!(
            meta.engine,
            checkpoint_model::archive::Engine::CriO | checkpoint_model::archive::Engine::Podman
        ) {
            return Err(cluster::Error::RestoreRefused {
                node: node.clone().unwrap_or_else(|| "any node".to_string()),
                reason: format!(
                    "{} was written by {}: CRI-O restores only CRI-O (and Podman) checkpoints",
                    archive.display(),
                    meta.engine
                ),
            }
            .into());
        }
        let name = meta
            .pod
            .or(meta.name)
            .unwrap_or_else(|| "checkpoint".to_string());
        let reference = build_image_reference(registry, &name, &now);
        let destination =
            Destination::Registry(shipping::registry_destination(&reference, args.insecure)?);
        let record = shipping::ship(
            Some(&rt),
            &archive,
            &Origin::default(),
            None,
            &destination,
            None,
            show_progress,
        )?;
        crate::messages::note(format_args!("pushed {}", record.image));
        record.image
    } else {
        args.source.clone()
    };
    let namespace = match (&args.kube.namespace, args.quarantine) {
        (Some(ns), _) => Some(ns.clone()),
        (None, true) => None,
        (None, false) => Some(conn.namespace.clone()),
    };
    let params = ReviveParams {
        registry: shipping::registry_destination(&reference, args.insecure)?,
        namespace,
        name: args.name.clone(),
        node,
        quarantine: args.quarantine,
        timeout: Duration::from_secs(args.timeout),
        show_progress,
    };
    let record = revive::revive(&rt, &conn, &params)?;
    revive::report(args.output, &record)?;
    Ok(if record.evidence.restored {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_from_a_registry_and_a_pod() {
        assert_eq!(
            build_image_reference("127.0.0.1:5000/ckpt/", "Counter_1", "2026-12-07T08:01:02Z"),
            "127.0.0.1:5000/ckpt/counter_1:checkpoint-20261207080102"
        );
        assert!(checkpoint_registry::parse_reference(&build_image_reference(
            "r.example",
            "x",
            "2026-12-07T08:01:02Z"
        ))
        .is_ok());
        assert_eq!(
            revive::build_quarantine_name("Counter", "2026-12-07T08:01:02Z"),
            "quarantine-counter-20261207080102"
        );
    }
}

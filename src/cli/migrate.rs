//! `kubectl checkpoint migrate pod/NAME --registry REG [--to-node NODE]`: checkpoint a
//! container, make and push its checkpoint image, restore it as a new pod on the target node,
//! check that it was restored, and only with `--delete-original` delete the original pod. The
//! node-maintenance case: move a long-running container off a node without losing its state.
//!
//! The target node is checked before the checkpoint is taken (a containerd node is refused:
//! nothing is done). A pod a controller owns is said plainly: the restored pod is not the
//! controller's (its labels are ours, so no selector adopts it), and deleting the original makes
//! the controller start a fresh replacement that is not restored.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;
use k8s_openapi::api::core::v1::Pod;

use super::checkpoint::{checkpoint_to_temp_with, CaptureFlags, RestartArgs};
use super::fetch::{note_left_on_node, FetchFlags};
use super::kube_args::RECORD_FORMATS;
use super::restore::build_image_reference;
use super::revive::{self, ReviveParams};
use super::session::runtime;
use super::shipping::{self, Destination, Origin};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster as cluster;

/// The help heading of the migrate flags.
pub const MIGRATE: &str = "Migrate";

/// Arguments of `kubectl checkpoint migrate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Move a container's state to a CRI-O node; the original keeps running
  kubectl checkpoint migrate -n ckpt pod/counter --to-node worker-crio \\
      --registry 127.0.0.1:5000/ckpt

  # ... and delete the original once the restored pod runs
  kubectl checkpoint migrate -n ckpt pod/counter --to-node worker-crio \\
      --registry registry.example.com/ckpt --delete-original")]
pub struct MigrateArgs {
    /// The pod to move: `pod/NAME` or `NAME`.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The node to restore on; it must run CRI-O (default: the scheduler's choice when every
    /// Ready node runs CRI-O).
    #[arg(long, value_name = "NODE", help_heading = MIGRATE)]
    pub to_node: Option<String>,
    /// Where to push the checkpoint image: `REGISTRY[/REPOSITORY]`; the target node must be
    /// able to pull from it.
    #[arg(long, value_name = "REGISTRY", required = true, help_heading = MIGRATE)]
    pub registry: String,
    /// The restored pod's name (default: the original's, with `-restored-HHMMSS`).
    #[arg(long, value_name = "NAME", help_heading = MIGRATE)]
    pub name: Option<String>,
    /// Delete the original pod once the restored one runs and was checked to be restored.
    #[arg(long, help_heading = MIGRATE)]
    pub delete_original: bool,
    /// The container to move (default: the pod's default or only container).
    #[arg(short = 'c', long, help_heading = MIGRATE)]
    pub container: Option<String>,
    /// Seconds the kubelet may take for the checkpoint.
    #[arg(long, value_name = "SECONDS", help_heading = MIGRATE, hide_short_help = true)]
    pub timeout: Option<u64>,
    /// Seconds to wait for the restored pod to run.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, help_heading = MIGRATE, hide_short_help = true)]
    pub wait: u64,
    /// Talk to a registry that is not on this machine over plain HTTP.
    #[arg(long, help_heading = MIGRATE, hide_short_help = true)]
    pub insecure: bool,
    /// Output format: a json or yaml record instead of `pod/NAME`.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(RECORD_FORMATS), help_heading = MIGRATE)]
    pub output: Option<OutputFormat>,
    /// After the checkpoint: whether the original still runs.
    #[command(flatten)]
    pub restart: RestartArgs,
    /// Fetch options.
    #[command(flatten)]
    pub fetch_flags: FetchFlags,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The controller that owns `pod`, as `Kind/name`.
fn owner_of(pod: &Pod) -> Option<String> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| format!("{}/{}", o.kind, o.name))
}

/// What a controller does about the original and the restored pod, in plain words.
fn describe_controller(owner: &str, pod: &str, delete: bool) -> String {
    let deleting = if delete {
        format!("deleting {pod} makes {owner} create a replacement that starts fresh from its image (not restored), beside the restored pod")
    } else {
        format!("{pod} stays, and {owner} keeps managing it")
    };
    format!(
        "pod {pod} is owned by {owner}: {deleting}; the restored pod is not {owner}'s (it carries no label of its selector), so {owner} neither counts nor replaces it. To move such a workload, scale it down after the restore, or give its template the checkpoint image (docs/restore.md)"
    )
}

/// Runs `migrate`.
pub fn run(args: MigrateArgs) -> Result<Outcome, Error> {
    let target = cluster::parse_target(Some(&args.target), None)?;
    let cluster::Target::Pod(pod_name) = &target else {
        return Err(Error::Usage(
            "migrate moves one pod: name it as pod/NAME or NAME".into(),
        ));
    };
    let pod_name = pod_name.clone();
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    // The target first: a node that cannot restore means nothing is checkpointed.
    let node = revive::check_node(&rt, &conn, args.to_node.as_deref())?;
    let (original, source_node) = rt.block_on(cluster::collect_migrating_pod(
        &conn,
        &conn.namespace,
        &pod_name,
    ))?;
    let owner = owner_of(&original);
    // A containerd node writes containerd's layout, which CRI-O cannot restore.
    if let Some(found) = &source_node {
        if let runtime @ cluster::NodeRuntime::Containerd(_) = cluster::decode_runtime(found) {
            return Err(cluster::Error::RestoreRefused {
                node: args.to_node.clone().unwrap_or_else(|| "any node".to_string()),
                reason: format!(
                    "pod {pod_name} runs on node {} ({runtime}): its checkpoint would be in containerd's layout, and CRI-O restores only CRI-O (and Podman) checkpoints",
                    found.metadata.name.as_deref().unwrap_or_default()
                ),
            }
            .into());
        }
    }
    let capture = CaptureFlags {
        kube: &args.kube,
        container: args.container.as_deref(),
        timeout: args.timeout,
        restart: args.restart,
        fetch_flags: &args.fetch_flags,
    };
    let fetched = checkpoint_to_temp_with(&capture, Some(&format!("pod/{pod_name}")))?;
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let reference = build_image_reference(&args.registry, &pod_name, &now);
    let destination =
        Destination::Registry(shipping::registry_destination(&reference, args.insecure)?);
    let image = shipping::ship(
        Some(&rt),
        &fetched.path,
        &Origin {
            source: Some(fetched.source.clone()),
            node: Some(fetched.record.node.clone()),
        },
        None,
        &destination,
        None,
        show_progress,
    )?;
    crate::messages::note(format_args!(
        "checkpointed {} and pushed {}",
        fetched.source, image.image
    ));
    let params = ReviveParams {
        registry: shipping::registry_destination(&image.image, args.insecure)?,
        namespace: Some(conn.namespace.clone()),
        name: args.name.clone(),
        node,
        quarantine: false,
        timeout: Duration::from_secs(args.wait),
        show_progress,
    };
    let record = revive::revive(&rt, &conn, &params)?;
    revive::report(args.output, &record)?;
    if let Some(owner) = &owner {
        crate::messages::note(describe_controller(owner, &pod_name, args.delete_original));
    }
    let delete = args.delete_original && record.evidence.restored;
    if args.delete_original && !record.evidence.restored {
        crate::messages::warning(format_args!(
            "the original pod {pod_name} is kept: the new pod does not look restored"
        ));
    }
    if delete {
        rt.block_on(cluster::delete_migrated_pod(
            &conn,
            &conn.namespace,
            &pod_name,
        ))?;
        crate::messages::note(format_args!(
            "deleted the original pod {pod_name} (--delete-original)"
        ));
    } else if !args.delete_original {
        crate::messages::note(format_args!(
            "the original pod {pod_name} keeps running on {}: two copies of the process run now; delete it with --delete-original next time, or: kubectl delete pod -n {} {pod_name}",
            fetched.record.node, conn.namespace
        ));
    }
    note_left_on_node(&fetched.record.node, &fetched.record.path);
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
    fn a_controller_is_named_with_what_it_will_do() {
        let kept = describe_controller("ReplicaSet/web-6d4", "web-6d4-abc", false);
        assert!(kept.contains("keeps managing it"), "{kept}");
        let deleted = describe_controller("ReplicaSet/web-6d4", "web-6d4-abc", true);
        assert!(deleted.contains("starts fresh"), "{deleted}");
        assert!(deleted.contains("not ReplicaSet/web-6d4's"), "{deleted}");
    }
}

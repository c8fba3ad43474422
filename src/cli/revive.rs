//! A checkpoint image brought back to life as a pod, and what is said about it: what `restore`
//! and `migrate` share.
//!
//! The node is judged first (CRI-O restores; containerd does not), then the image's annotations
//! are read from its registry (the container's name and the recorded spec), then the pod is
//! created (in its quarantine with `--quarantine`), waited for with progress, and its log read
//! for the evidence that it was restored rather than started fresh.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use serde::Serialize;

use super::progress::Activity;
use super::session::{ctrl_c, render_records};
use super::OutputFormat;
use crate::Error;
use checkpoint_cluster::{self as cluster, RestoreEvidence, RestoreParams};
use checkpoint_registry::{self as registry, ImageProvenance, RegistryParams};

/// The restored pod, as `-o json|yaml` prints it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RestoreRecord {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The node it runs on.
    pub node: Option<String>,
    /// The checkpoint image, by digest.
    pub image: String,
    /// The container restored.
    pub container: String,
    /// Whether it runs in a quarantine.
    pub quarantine: bool,
    /// Whether it was restored, and how we know.
    pub evidence: RestoreEvidence,
    /// What the image says of where the checkpoint came from.
    pub provenance: ImageProvenance,
}

/// What the pod is to be.
#[derive(Debug, Clone)]
pub(super) struct ReviveParams {
    /// The image (as pushed or given) and how to reach its registry.
    pub registry: RegistryParams,
    /// The namespace (for a quarantine: the one to create); `None` for a quarantine named
    /// after the original pod.
    pub namespace: Option<String>,
    /// `--name`; `None`: from the original pod's name.
    pub name: Option<String>,
    /// The node it must run on, as checked.
    pub node: Option<String>,
    /// `--quarantine`.
    pub quarantine: bool,
    /// How long to wait for it to run.
    pub timeout: Duration,
    /// Draw progress on stderr.
    pub show_progress: bool,
}

/// The namespace a quarantine gets when `-n` names none: `quarantine-BASE-TIME`.
pub(super) fn build_quarantine_name(base: &str, now: &str) -> String {
    let base: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let base = base.trim_matches('-');
    let stamp: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    let mut name = format!("quarantine-{base}");
    name.truncate(63 - stamp.len() - 1);
    format!("{}-{stamp}", name.trim_end_matches('-'))
}

/// The node the restore goes to, checked before anything is created or pushed.
pub(super) fn check_node(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    node: Option<&str>,
) -> Result<Option<String>, Error> {
    Ok(rt.block_on(cluster::collect_restore_node(&conn.client, node))?)
}

/// The labels and annotations that say where a restored pod came from.
fn build_provenance_metadata(
    provenance: &ImageProvenance,
    image: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let key = |k: &str| format!("{}{k}", cluster::PROVENANCE_PREFIX);
    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    for (name, value) in [
        ("restored-from-pod", &provenance.pod),
        ("restored-from-namespace", &provenance.namespace),
        ("restored-from-node", &provenance.node),
        ("restored-container", &provenance.container),
    ] {
        if let Some(value) = value {
            match cluster::build_label_value(value) {
                Some(label) => {
                    labels.insert(key(name), label);
                }
                None => {
                    annotations.insert(key(name), value.clone());
                }
            }
        }
    }
    annotations.insert(key("checkpoint-image"), image.to_string());
    if let Some(sha) = &provenance.archive_sha256 {
        annotations.insert(key("archive-sha256"), sha.clone());
    }
    if let Some(time) = &provenance.checkpointed {
        annotations.insert(key("checkpointed"), time.clone());
    }
    (labels, annotations)
}

/// Restores the image of `params` as a pod and waits for it: the image's annotations first
/// (refusing an image that is not a checkpoint image), then the pod, then the evidence.
pub(super) fn revive(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    params: &ReviveParams,
) -> Result<RestoreRecord, Error> {
    let activity = Activity::new(params.show_progress && std::io::stderr().is_terminal());
    {
        use checkpoint_cluster::Reporter;
        activity.waiting(&format!(
            "the manifest of {}",
            params.registry.reference.whole()
        ));
    }
    let remote = rt.block_on(registry::collect_image(&params.registry))?;
    let provenance = registry::decode_provenance(&remote.annotations);
    let Some(container) = provenance.container.clone() else {
        return Err(registry::Error::NotACheckpointImage {
            reference: params.registry.reference.whole(),
            reason: format!(
                "its manifest has no annotation {}",
                registry::CHECKPOINT_NAME
            ),
        }
        .into());
    };
    if !provenance.ours {
        crate::messages::note(
            "the image was not built by kubectl-checkpoint: its ports and resources are unknown, the pod gets none",
        );
    }
    let base = params
        .name
        .clone()
        .or_else(|| provenance.pod.clone())
        .unwrap_or_else(|| container.clone());
    let name = match &params.name {
        Some(name) => name.clone(),
        None => {
            let stamp = k8s_openapi::jiff::Timestamp::now()
                .strftime("%H%M%S")
                .to_string();
            let mut base = base.clone();
            base.truncate(40);
            format!("{}-restored-{stamp}", base.trim_end_matches('-'))
        }
    };
    let namespace = match &params.namespace {
        Some(namespace) => namespace.clone(),
        None => build_quarantine_name(&base, &k8s_openapi::jiff::Timestamp::now().to_string()),
    };
    let (labels, annotations) = build_provenance_metadata(&provenance, &remote.image);
    let restore = RestoreParams {
        namespace: namespace.clone(),
        name: name.clone(),
        node: params.node.clone(),
        image: remote.image.clone(),
        container: container.clone(),
        spec: provenance.spec.clone(),
        quarantine: params.quarantine,
        labels,
        annotations,
    };
    let created = rt.block_on(cluster::create_restore(conn, &restore))?;
    let pod = rt.block_on(cluster::watch_restore(
        conn,
        &namespace,
        &name,
        &container,
        params.timeout,
        &activity,
        ctrl_c(),
    ));
    drop(activity);
    let pod = match pod {
        Ok(pod) => pod,
        Err(err) => {
            crate::messages::note(format_args!(
                "the pod stays for you to look at: kubectl describe pod -n {ns} {name}; delete it with: kubectl delete pod -n {ns} {name}{quarantine}",
                ns = namespace,
                quarantine = if params.quarantine {
                    format!(" (or the whole quarantine: kubectl delete namespace {namespace})")
                } else {
                    String::new()
                }
            ));
            return Err(err.into());
        }
    };
    let evidence = rt.block_on(cluster::collect_restore_evidence(conn, &pod, &container));
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .or_else(|| created.spec.as_ref().and_then(|s| s.node_name.clone()));
    Ok(RestoreRecord {
        namespace: namespace.clone(),
        pod: name,
        node,
        image: remote.image,
        container,
        quarantine: params.quarantine,
        evidence,
        provenance,
    })
}

/// Prints a restore's record (`-o json|yaml`, else `pod/NAME -n NAMESPACE`), then says on
/// stderr whether it was restored ([`note_restored`]).
pub(super) fn report(format: Option<OutputFormat>, record: &RestoreRecord) -> Result<(), Error> {
    if !render_records(format, record)? {
        crate::stdout::with(|out| {
            writeln!(
                out,
                "{}",
                crate::output::escape_text(&format!("pod/{} -n {}", record.pod, record.namespace))
            )
        })
        .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    }
    note_restored(record);
    Ok(())
}

/// What a restore says on stderr: restored or not, and for a quarantine how to look at it.
fn note_restored(record: &RestoreRecord) {
    if record.evidence.restored {
        crate::messages::note(&record.evidence.how);
    } else {
        crate::messages::warning(&record.evidence.how);
    }
    if record.quarantine {
        let (ns, pod) = (&record.namespace, &record.pod);
        crate::messages::note(format_args!(
            "quarantined in namespace {ns}: NetworkPolicy {} denies all ingress and egress, no service account token is mounted, no host namespaces are shared",
            cluster::DENY_ALL_POLICY
        ));
        crate::messages::note(
            "a NetworkPolicy isolates the pod only where the cluster's network plugin enforces NetworkPolicy (Calico, Cilium, Antrea, ...); with one that does not (flannel alone, a plain bridge), the pod can still reach the network",
        );
        for line in [
            "Look at it:".to_string(),
            format!("  a shell beside the restored process:  kubectl exec -n {ns} -it {pod} -- sh"),
            format!("  its output, from before the checkpoint on:  kubectl logs -n {ns} -f {pod}"),
            format!("  what the kubelet does with it:  kubectl get events -n {ns} --watch"),
            format!("  checkpoint it again and look inside:  kubectl checkpoint analyze -n {ns} pod/{pod}"),
            format!("When done: kubectl delete namespace {ns}"),
        ] {
            crate::messages::line(line);
        }
    }
}

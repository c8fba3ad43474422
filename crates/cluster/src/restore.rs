//! Restoring a checkpoint as a new pod: which nodes can, the pod (and for forensics its
//! quarantine), the wait for it to run, and the evidence that it was restored rather than
//! started fresh.
//!
//! Kubernetes restores a container when the pod's image is a checkpoint image: the kubelet pulls
//! it like any image and asks the runtime to create the container; CRI-O sees the image's
//! `io.kubernetes.cri-o.annotations.checkpoint.name` and restores the checkpoint in it instead of
//! starting the image. containerd (2.1, and at its main branch) checkpoints through CRI but does
//! not restore: on a containerd node such a pod fails to start over and over. So a node's
//! `status.nodeInfo.containerRuntimeVersion` is read first ([`judge_restore_node`]) and a
//! restore is refused there, before anything is created.
//!
//! The pod gets the container name, ports, resources and bind mounts (an empty directory for
//! each volume: CRI-O refuses a restore without them) the checkpoint recorded; not its
//! environment, which the restored process keeps in its memory (CRI-O builds the restored
//! container from the checkpoint). With `--quarantine` it runs in a namespace of its own with a
//! NetworkPolicy denying all ingress and egress (which only a CNI that enforces NetworkPolicy
//! applies), no service account token, no host namespaces, and labels saying where it came from.
//!
//! Building is pure (`build_*`, `judge_*`, `decode_*`); `collect_*`, `create_*` and `watch_*`
//! touch the API.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use checkpoint_model::archive::RecordedSpec;
use checkpoint_model::archive::SERVICE_ACCOUNT_DIR;
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, Event, Namespace, Node, Pod,
    PodSecurityContext, PodSpec, ResourceRequirements, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{ListParams, LogParams, PostParams};
use kube::Api;
use serde::Serialize;

use super::{from_kube, Call, Connection, Error, Reporter, Result};

/// Label on everything a restore creates (value `kubectl-checkpoint-restore`).
pub const RESTORE_LABEL: &str = "app.kubernetes.io/managed-by";
const RESTORE_LABEL_VALUE: &str = "kubectl-checkpoint";
/// Label prefix of the provenance labels and annotations.
pub const PROVENANCE_PREFIX: &str = "kubectl-checkpoint.io/";

/// A node's container runtime, from `status.nodeInfo.containerRuntimeVersion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "name", content = "version", rename_all = "lowercase")]
pub enum NodeRuntime {
    /// `cri-o://VERSION`: restores checkpoint images.
    #[serde(rename = "cri-o")]
    CriO(String),
    /// `containerd://VERSION`: checkpoints, does not restore.
    Containerd(String),
    /// Anything else (`docker://`, a runtime we do not know).
    Other(String),
}

/// The runtime a node reports.
pub fn decode_runtime(node: &Node) -> NodeRuntime {
    let version = node
        .status
        .as_ref()
        .and_then(|s| s.node_info.as_ref())
        .map(|i| i.container_runtime_version.clone())
        .unwrap_or_default();
    match version.split_once("://") {
        Some(("cri-o", v)) => NodeRuntime::CriO(v.to_string()),
        Some(("containerd", v)) => NodeRuntime::Containerd(v.to_string()),
        _ => NodeRuntime::Other(version),
    }
}

impl std::fmt::Display for NodeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeRuntime::CriO(v) => write!(f, "CRI-O {v}"),
            NodeRuntime::Containerd(v) => write!(f, "containerd {v}"),
            NodeRuntime::Other(v) if v.is_empty() => write!(f, "an unreported runtime"),
            NodeRuntime::Other(v) => write!(f, "{v}"),
        }
    }
}

/// Why `node` cannot restore a checkpoint image, or `None` when it can (CRI-O, Ready).
pub fn judge_restore_node(node: &Node) -> Option<String> {
    match decode_runtime(node) {
        NodeRuntime::CriO(_) => {}
        NodeRuntime::Containerd(version) => {
            return Some(format!(
                "it runs containerd {version}, which checkpoints containers but cannot restore them (a pod with a checkpoint image fails to start there, again and again); restore on a CRI-O node"
            ))
        }
        NodeRuntime::Other(version) => {
            return Some(format!(
                "its runtime ({}) does not restore checkpoint images; restore on a CRI-O node",
                if version.is_empty() { "unreported" } else { &version }
            ))
        }
    }
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True");
    if !ready {
        return Some("it is not Ready".to_string());
    }
    None
}

/// Where the restored pod may run: the node asked for (checked), or, without one, every node
/// when all Ready ones run CRI-O (the scheduler picks), else a refusal naming the CRI-O nodes.
pub async fn collect_restore_node(
    client: &kube::Client,
    node: Option<&str>,
) -> Result<Option<String>> {
    let nodes: Api<Node> = Api::all(client.clone());
    if let Some(name) = node {
        let found = nodes
            .get_opt(name)
            .await
            .map_err(|err| from_kube(format!("reading node {name}"), Call::Read, err))?;
        let Some(found) = found else {
            return Err(Error::NoSuchNode {
                node: name.to_string(),
            });
        };
        return match judge_restore_node(&found) {
            None => Ok(Some(name.to_string())),
            Some(reason) => Err(Error::RestoreRefused {
                node: name.to_string(),
                reason,
            }),
        };
    }
    let all = super::collect_node_objects(client).await?;
    let usable: Vec<String> = all
        .iter()
        .filter(|n| judge_restore_node(n).is_none())
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let others: Vec<String> = all
        .iter()
        .filter(|n| judge_restore_node(n).is_some())
        .map(|n| {
            format!(
                "{} ({})",
                n.metadata.name.clone().unwrap_or_default(),
                decode_runtime(n)
            )
        })
        .collect();
    match (usable.is_empty(), others.is_empty()) {
        (true, _) => Err(Error::RestoreRefused {
            node: "any node".to_string(),
            reason: format!(
                "no Ready node runs CRI-O ({}); containerd checkpoints but cannot restore",
                others.join(", ")
            ),
        }),
        (false, true) => Ok(None),
        (false, false) => Err(Error::Target(format!(
            "only some nodes can restore a checkpoint (CRI-O: {}; not: {}): choose one with --node",
            usable.join(", "),
            others.join(", ")
        ))),
    }
}

/// What the restored pod is made of.
#[derive(Debug, Clone, Default)]
pub struct RestoreParams {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// The node it must run on (`spec.nodeName`), or `None` for the scheduler.
    pub node: Option<String>,
    /// The checkpoint image (by digest).
    pub image: String,
    /// The container's name (the checkpointed container's).
    pub container: String,
    /// The ports and resources the checkpoint recorded.
    pub spec: RecordedSpec,
    /// The forensic sandbox: a namespace of its own, deny-all NetworkPolicy, no token, no host
    /// namespaces, `restartPolicy: Never`.
    pub quarantine: bool,
    /// Provenance labels (short values) for the pod (and the quarantine namespace).
    pub labels: BTreeMap<String, String>,
    /// Provenance annotations (long values: the image, the archive's sha256).
    pub annotations: BTreeMap<String, String>,
}

/// A label value as Kubernetes takes it (at most 63 of `[A-Za-z0-9_.-]`, alphanumeric at both
/// ends); `None` when `value` cannot be one without changing its meaning.
pub fn build_label_value(value: &str) -> Option<String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    ok.then(|| value.to_string())
}

fn quantity_millis(millis: u64) -> Quantity {
    Quantity(format!("{millis}m"))
}

/// The pod that restores the checkpoint image.
pub fn build_restore_pod(params: &RestoreParams) -> Pod {
    let mut labels = params.labels.clone();
    labels.insert(RESTORE_LABEL.to_string(), RESTORE_LABEL_VALUE.to_string());
    let ports: Vec<ContainerPort> = params
        .spec
        .ports
        .iter()
        .map(|p| ContainerPort {
            name: p.name.clone(),
            container_port: p.container_port,
            protocol: p.protocol.clone(),
            ..ContainerPort::default()
        })
        .collect();
    let recorded = &params.spec.resources;
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    if let Some(millis) = recorded.cpu_request_millis {
        requests.insert("cpu".to_string(), quantity_millis(millis));
    }
    if let Some(millis) = recorded.cpu_limit_millis {
        limits.insert("cpu".to_string(), quantity_millis(millis));
    }
    if let Some(bytes) = recorded.memory_limit_bytes {
        limits.insert("memory".to_string(), Quantity(bytes.to_string()));
    }
    let resources = (!requests.is_empty() || !limits.is_empty()).then(|| ResourceRequirements {
        requests: (!requests.is_empty()).then_some(requests),
        limits: (!limits.is_empty()).then_some(limits),
        ..ResourceRequirements::default()
    });
    // CRI-O restores only into a container with every bind mount the checkpoint had: an
    // empty directory stands in for each volume (its contents are not in a checkpoint); the
    // service account token comes from the pod's own token mount, or in a quarantine from an
    // empty directory (no token).
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for (index, mount) in params.spec.mounts.iter().enumerate() {
        if mount.file || (mount.destination == SERVICE_ACCOUNT_DIR && !params.quarantine) {
            continue;
        }
        let name = if mount.destination == SERVICE_ACCOUNT_DIR {
            "no-service-account-token".to_string()
        } else {
            format!("restored-volume-{index}")
        };
        volumes.push(Volume {
            name: name.clone(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name,
            mount_path: mount.destination.clone(),
            read_only: mount.read_only.then_some(true),
            ..VolumeMount::default()
        });
    }
    let container = Container {
        name: params.container.clone(),
        image: Some(params.image.clone()),
        ports: (!ports.is_empty()).then_some(ports),
        resources,
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    };
    let mut spec = PodSpec {
        node_name: params.node.clone(),
        containers: vec![container],
        volumes: (!volumes.is_empty()).then_some(volumes),
        termination_grace_period_seconds: Some(5),
        ..PodSpec::default()
    };
    if params.quarantine {
        spec.automount_service_account_token = Some(false);
        spec.enable_service_links = Some(false);
        spec.host_network = Some(false);
        spec.host_pid = Some(false);
        spec.host_ipc = Some(false);
        spec.restart_policy = Some("Never".to_string());
        spec.security_context = Some(PodSecurityContext::default());
    }
    Pod {
        metadata: ObjectMeta {
            name: Some(params.name.clone()),
            namespace: Some(params.namespace.clone()),
            labels: Some(labels),
            annotations: (!params.annotations.is_empty()).then(|| params.annotations.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// The namespace of a quarantined restore, labelled like the pod.
pub fn build_quarantine_namespace(name: &str, labels: &BTreeMap<String, String>) -> Namespace {
    let mut labels = labels.clone();
    labels.insert(RESTORE_LABEL.to_string(), RESTORE_LABEL_VALUE.to_string());
    labels.insert(format!("{PROVENANCE_PREFIX}quarantine"), "true".to_string());
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// The name of the quarantine's NetworkPolicy.
pub const DENY_ALL_POLICY: &str = "kubectl-checkpoint-deny-all";

/// A NetworkPolicy selecting every pod of `namespace` with both policy types and no rule: no
/// traffic in or out (where the CNI enforces NetworkPolicy).
pub fn build_deny_all_policy(namespace: &str) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(DENY_ALL_POLICY.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                RESTORE_LABEL.to_string(),
                RESTORE_LABEL_VALUE.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".to_string(), "Egress".to_string()]),
            ingress: None,
            egress: None,
        }),
    }
}

/// Creates what the restore needs: for a quarantine the namespace (a new one: an existing
/// namespace is refused, its other pods and policies are not ours to judge) and its deny-all
/// policy first, then the pod. Returns the pod as created.
pub async fn create_restore(conn: &Connection, params: &RestoreParams) -> Result<Pod> {
    let client = &conn.client;
    if params.quarantine {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let what = format!("creating quarantine namespace {}", params.namespace);
        match namespaces
            .create(
                &PostParams::default(),
                &build_quarantine_namespace(&params.namespace, &params.labels),
            )
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {
                return Err(Error::Target(format!(
                    "namespace {} exists: a quarantine gets a namespace of its own (choose another with -n, or let the default name one)",
                    params.namespace
                )))
            }
            Err(err) => return Err(from_kube(what, Call::Restore, err)),
        }
        let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), &params.namespace);
        policies
            .create(
                &PostParams::default(),
                &build_deny_all_policy(&params.namespace),
            )
            .await
            .map_err(|err| {
                from_kube(
                    format!(
                        "creating NetworkPolicy {}/{DENY_ALL_POLICY}",
                        params.namespace
                    ),
                    Call::Restore,
                    err,
                )
            })?;
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &params.namespace);
    pods.create(&PostParams::default(), &build_restore_pod(params))
        .await
        .map_err(|err| match err {
            kube::Error::Api(status) if status.code == 409 => Error::Target(format!(
                "pod {}/{} exists: choose another name with --name",
                params.namespace, params.name
            )),
            err => from_kube(
                format!("creating pod {}/{}", params.namespace, params.name),
                Call::Restore,
                err,
            ),
        })
}

/// How a restored pod's container failed to start, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreFailure {
    /// The kubelet's reason (`ErrImagePull`, `CreateContainerError`, ...).
    pub reason: String,
    /// The kubelet's or runtime's message (from the container status or the events).
    pub message: String,
    /// Our advice.
    pub advice: String,
}

/// Our advice for a restore that failed with `reason` and `message`.
pub fn advise_restore(reason: &str, message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if reason.contains("ImagePull") || reason == "ErrImagePull" || lower.contains("failed to pull")
    {
        let loopback = lower.contains("127.0.0.1") || lower.contains("localhost");
        return format!(
            "the node could not pull the checkpoint image: check that the node reaches the registry and may read the repository (an imagePullSecret for a private one){}; a registry the node reaches over plain HTTP must be listed as insecure in its /etc/containers/registries.conf",
            if loopback {
                "; 127.0.0.1 and localhost in an image name are the node's own loopback, not this machine's"
            } else {
                ""
            }
        );
    }
    if lower.contains("spec.dump") || lower.contains("config.dump") {
        return "CRI-O found no readable spec.dump or config.dump in the image: it is not a CRI-O checkpoint image; build one from the kubelet's archive with `kubectl checkpoint image`".to_string();
    }
    if lower.contains("executable file not found") || lower.contains("no command specified") {
        return "the runtime ran the image as an ordinary image, so it did not restore it: the node is not CRI-O, or the image lacks the annotation io.kubernetes.cri-o.annotations.checkpoint.name on an OCI manifest".to_string();
    }
    if lower.contains("signature") {
        return "CRI-O refuses restores while a signature_policy is set in crio.conf for the pod's namespace (\"signature validation is not supported for container restore\"): remove it on that node".to_string();
    }
    if lower.contains("criu") || lower.contains("restore") {
        return "CRIU could not restore the processes on this node: the node's CRI-O log and the container's restore.log say why (different kernel or CPU features, a missing mount, a PID or a TCP connection in use)".to_string();
    }
    "the node's kubelet and CRI-O logs say more".to_string()
}

/// Where a restored pod stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreState {
    /// Its container runs.
    Running,
    /// It waits; the phase and the container's waiting reason.
    Waiting(String),
    /// It will not start as it is.
    Failed(RestoreFailure),
}

/// Reasons a container's waiting ends the wait: the kubelet goes on retrying, but a restore
/// that failed this way fails again the same way.
const FATAL_WAITING: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerError",
    "CreateContainerConfigError",
    "RunContainerError",
    "CrashLoopBackOff",
];

/// Where `pod`'s container `container` stands; a failure's message is the most telling event's
/// when the status has none.
pub fn judge_restore_state(pod: &Pod, container: &str, events: &[Event]) -> RestoreState {
    let Some(status) = pod.status.as_ref() else {
        return RestoreState::Waiting("Pending".to_string());
    };
    let phase = status
        .phase
        .clone()
        .unwrap_or_else(|| "Pending".to_string());
    let ours = status
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == container);
    let warning = events
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .filter_map(|e| e.message.clone())
        .rfind(|m| !m.starts_with("Error: "));
    if let Some(state) = ours.and_then(|c| c.state.as_ref()) {
        if state.running.is_some() {
            return RestoreState::Running;
        }
        if let Some(waiting) = &state.waiting {
            let reason = waiting.reason.clone().unwrap_or_default();
            if FATAL_WAITING.contains(&reason.as_str()) {
                let message = waiting
                    .message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or(warning)
                    .unwrap_or_default();
                return RestoreState::Failed(RestoreFailure {
                    advice: advise_restore(&reason, &message),
                    reason,
                    message,
                });
            }
            return RestoreState::Waiting(format!("{phase}, {reason}"));
        }
        if let Some(terminated) = &state.terminated {
            let reason = terminated
                .reason
                .clone()
                .unwrap_or_else(|| "Terminated".to_string());
            let message = terminated
                .message
                .clone()
                .or(warning)
                .unwrap_or_else(|| format!("exit code {}", terminated.exit_code));
            return RestoreState::Failed(RestoreFailure {
                advice: advise_restore(&reason, &message),
                reason,
                message,
            });
        }
    }
    if matches!(phase.as_str(), "Failed" | "Succeeded") {
        let message = status.message.clone().or(warning).unwrap_or_default();
        let reason = status.reason.clone().unwrap_or(phase);
        return RestoreState::Failed(RestoreFailure {
            advice: advise_restore(&reason, &message),
            reason,
            message,
        });
    }
    RestoreState::Waiting(phase)
}

/// The events about pod `name` (this uid), oldest first; none when they may not be read.
pub async fn collect_pod_events(
    conn: &Connection,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(conn.client.clone(), namespace);
    let fields = format!("involvedObject.name={name}");
    match events.list(&ListParams::default().fields(&fields)).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter(|e| {
                uid.is_none()
                    || e.involved_object.uid.is_none()
                    || e.involved_object.uid.as_deref() == uid
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Waits for the restored pod's container to run (progress through `reporter`), or to fail,
/// or `timeout`; `cancel` (Ctrl-C) stops the wait and leaves the pod.
pub async fn watch_restore(
    conn: &Connection,
    namespace: &str,
    name: &str,
    container: &str,
    timeout: Duration,
    reporter: &dyn Reporter,
    cancel: impl std::future::Future<Output = ()>,
) -> Result<Pod> {
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    let started = Instant::now();
    let mut cancel = std::pin::pin!(cancel);
    let mut last = String::new();
    loop {
        let what = format!("reading pod {namespace}/{name}");
        let pod = pods
            .get(name)
            .await
            .map_err(|err| from_kube(what, Call::Restore, err))?;
        let events = collect_pod_events(conn, namespace, name, pod.metadata.uid.as_deref()).await;
        match judge_restore_state(&pod, container, &events) {
            RestoreState::Running => return Ok(pod),
            RestoreState::Failed(failure) => {
                return Err(Error::RestoreFailed {
                    namespace: namespace.to_string(),
                    pod: name.to_string(),
                    failure,
                })
            }
            RestoreState::Waiting(state) => {
                let latest = events
                    .last()
                    .and_then(|e| {
                        Some(format!(
                            "{}: {}",
                            e.reason.as_deref()?,
                            e.message.as_deref()?
                        ))
                    })
                    .unwrap_or_default();
                let line = format!("pod {namespace}/{name} ({state}) {latest}");
                if line != last {
                    reporter.waiting(&line);
                    last = line;
                }
            }
        }
        if started.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: format!("waiting for pod {namespace}/{name} to run ({last})"),
                seconds: timeout.as_secs(),
            });
        }
        tokio::select! {
            () = &mut cancel => return Err(Error::Interrupted(super::Interruption::default())),
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// The pod `namespace/name` a migrate moves, and the node it runs on (`None` when it has none
/// yet, or the node cannot be read).
pub async fn collect_migrating_pod(
    conn: &Connection,
    namespace: &str,
    name: &str,
) -> Result<(Pod, Option<Node>)> {
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    let what = format!("reading pod {namespace}/{name}");
    let pod = pods
        .get_opt(name)
        .await
        .map_err(|err| from_kube(what, Call::Read, err))?
        .ok_or_else(|| Error::Target(format!("pod {namespace}/{name} not found")))?;
    let node = match pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
        Some(node) => Api::<Node>::all(conn.client.clone())
            .get_opt(&node)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    Ok((pod, node))
}

/// Deletes the original pod of a migrate (its grace period as it is set).
pub async fn delete_migrated_pod(conn: &Connection, namespace: &str, name: &str) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    match pods.delete(name, &kube::api::DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(from_kube(
            format!("deleting pod {namespace}/{name}"),
            Call::Restore,
            err,
        )),
    }
}

/// The evidence that a running pod restored its checkpoint rather than started fresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreEvidence {
    /// True when it was restored.
    pub restored: bool,
    /// How we know, in words.
    pub how: String,
    /// The first line of its log, with its CRI timestamp, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_log_line: Option<String>,
    /// The container's restarts since the pod was created.
    pub restart_count: i32,
}

/// Judges the evidence: the container's log (CRI-O restores the log with the checkpoint: its
/// first lines are older than the pod) and its restarts. A checkpoint image has no command of
/// its own, so a container of it that runs was restored; the log says so independently.
pub fn judge_restore_evidence(pod: &Pod, container: &str, timed_log: &str) -> RestoreEvidence {
    let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let restart_count = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.iter().find(|c| c.name == container))
        .map_or(0, |c| c.restart_count);
    let first = timed_log.lines().find(|l| !l.trim().is_empty());
    let first_time = first
        .and_then(|l| l.split_once(' '))
        .and_then(|(time, _)| time.parse::<k8s_openapi::jiff::Timestamp>().ok());
    let (restored, how) = match (first_time, created) {
        (Some(time), Some(created)) if time < created => (
            true,
            format!(
                "restored: its log goes back to {time}, before this pod was created ({created}): CRI-O restored the container with its log"
            ),
        ),
        (Some(time), Some(_)) => (
            false,
            format!(
                "started fresh, it seems: its log begins at {time}, after this pod was created; a restored container keeps the log it had at its checkpoint"
            ),
        ),
        _ => (
            true,
            "restored: it runs, and a checkpoint image has no command of its own (it wrote no log to compare)".to_string(),
        ),
    };
    let how = if restart_count > 0 {
        format!("{how}; it has restarted {restart_count} time(s) since: each restart restores the checkpoint again")
    } else {
        how
    };
    RestoreEvidence {
        restored,
        how,
        first_log_line: first.map(str::to_string),
        restart_count,
    }
}

/// Reads the restored container's log (with timestamps) and judges it.
pub async fn collect_restore_evidence(
    conn: &Connection,
    pod: &Pod,
    container: &str,
) -> RestoreEvidence {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), &namespace);
    let params = LogParams {
        container: Some(container.to_string()),
        timestamps: true,
        limit_bytes: Some(64 * 1024),
        ..LogParams::default()
    };
    let log = pods.logs(&name, &params).await.unwrap_or_default();
    judge_restore_evidence(pod, container, &log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_model::archive::{RecordedPort, RecordedResources};
    use k8s_openapi::api::core::v1::{NodeCondition, NodeStatus, NodeSystemInfo};

    fn node(runtime: &str, ready: bool) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n".into()),
                ..ObjectMeta::default()
            },
            status: Some(NodeStatus {
                node_info: Some(NodeSystemInfo {
                    container_runtime_version: runtime.into(),
                    ..NodeSystemInfo::default()
                }),
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..NodeCondition::default()
                }]),
                ..NodeStatus::default()
            }),
            ..Node::default()
        }
    }

    #[test]
    fn only_ready_crio_nodes_restore() {
        assert_eq!(judge_restore_node(&node("cri-o://1.36.3", true)), None);
        let containerd = judge_restore_node(&node("containerd://2.1.9", true)).unwrap();
        assert!(containerd.contains("cannot restore"), "{containerd}");
        assert!(judge_restore_node(&node("docker://20.10", true)).is_some());
        assert!(judge_restore_node(&node("cri-o://1.36.3", false))
            .unwrap()
            .contains("not Ready"));
    }

    #[test]
    fn the_pod_carries_the_recorded_spec_and_the_quarantine() {
        let params = RestoreParams {
            namespace: "q".into(),
            name: "counter-restored".into(),
            node: Some("crio".into()),
            image: "127.0.0.1:5000/ckpt/counter@sha256:ab".into(),
            container: "app".into(),
            spec: RecordedSpec {
                ports: vec![RecordedPort {
                    name: Some("http".into()),
                    container_port: 8080,
                    protocol: Some("TCP".into()),
                }],
                resources: RecordedResources {
                    cpu_request_millis: Some(250),
                    cpu_limit_millis: None,
                    memory_limit_bytes: Some(1 << 27),
                },
                mounts: vec![
                    checkpoint_model::archive::RecordedMount {
                        destination: SERVICE_ACCOUNT_DIR.into(),
                        file: false,
                        read_only: true,
                    },
                    checkpoint_model::archive::RecordedMount {
                        destination: "/data".into(),
                        file: false,
                        read_only: false,
                    },
                ],
            },
            quarantine: true,
            ..RestoreParams::default()
        };
        let pod = build_restore_pod(&params);
        let spec = pod.spec.unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("crio"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        assert_eq!(spec.host_network, Some(false));
        assert_eq!(spec.host_pid, Some(false));
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        let c = &spec.containers[0];
        assert_eq!(c.name, "app");
        assert!(c.command.is_none() && c.env.is_none());
        assert_eq!(c.ports.as_ref().unwrap()[0].container_port, 8080);
        let r = c.resources.as_ref().unwrap();
        assert_eq!(r.requests.as_ref().unwrap()["cpu"].0, "250m");
        assert_eq!(r.limits.as_ref().unwrap()["memory"].0, "134217728");
        // The token's directory is an empty one: no token, but the mount CRI-O expects.
        let mounts = c.volume_mounts.as_ref().unwrap();
        assert_eq!(mounts[0].mount_path, SERVICE_ACCOUNT_DIR);
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(mounts[1].mount_path, "/data");
        assert!(spec
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .all(|v| v.empty_dir.is_some()));
        let policy = build_deny_all_policy("q").spec.unwrap();
        assert_eq!(policy.policy_types.unwrap(), ["Ingress", "Egress"]);
        assert!(policy.ingress.is_none() && policy.egress.is_none());
        assert_eq!(policy.pod_selector, Some(LabelSelector::default()));
    }

    #[test]
    fn label_values_are_checked_not_mangled() {
        assert_eq!(build_label_value("counter").as_deref(), Some("counter"));
        assert!(build_label_value("a/b").is_none());
        assert!(build_label_value(&"x".repeat(64)).is_none());
        assert!(build_label_value("-x").is_none());
    }

    #[test]
    fn advice_for_each_failure() {
        for (reason, message, want) in [
            ("ErrImagePull", "Failed to pull image \"127.0.0.1:5000/x\": connection refused", "node's own loopback"),
            ("CreateContainerError", "failed to read \"spec.dump\": open: no such file", "not a CRI-O checkpoint image"),
            ("RunContainerError", "exec: \"sh\": executable file not found in $PATH", "ordinary image"),
            ("CreateContainerError", "namespaced signature policy /x defined; signature validation is not supported for container restore", "signature_policy"),
            ("CreateContainerError", "failed to restore container: criu failed", "CRIU could not restore"),
        ] {
            assert!(advise_restore(reason, message).contains(want), "{message}");
        }
    }

    #[test]
    fn a_log_older_than_the_pod_is_a_restore() {
        let mut pod = Pod::default();
        pod.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-12-07T10:00:00Z".parse().unwrap(),
            ));
        let old = "2026-12-07T09:59:00.1Z 1\n2026-12-07T10:00:05Z 2\n";
        let evidence = judge_restore_evidence(&pod, "app", old);
        assert!(evidence.restored, "{}", evidence.how);
        let fresh = "2026-12-07T10:00:01Z 1\n";
        assert!(!judge_restore_evidence(&pod, "app", fresh).restored);
        assert!(judge_restore_evidence(&pod, "app", "").restored);
    }
}

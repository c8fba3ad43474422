//! Helper pods: a small pod pinned to a node with the kubelet's checkpoint directory mounted, in
//! which fetch, list and delete run commands over exec (see `exec`). This module holds their
//! lifecycle: building the pod, deciding whether an existing one may be trusted, creating one and
//! watching it start, and removing it.
//!
//! # Security
//! The helper mounts only `/var/lib/kubelet/checkpoints` (read-only unless it deletes), runs as
//! uid 0 because the kubelet writes archives root-owned 0600 in a 0700 directory, and drops every
//! capability: the file owner's permission bits are enough for root to read them, so neither
//! `privileged` nor DAC_OVERRIDE/DAC_READ_SEARCH is needed. It gets no service account token,
//! no privilege escalation, and a read-only root filesystem. It is pinned to its node
//! (`nodeName`, so no scheduler is involved) and tolerates what a real cluster asks of a pod that
//! must run on a given node ([`build_tolerations`]): the control-plane taints, that node's own
//! NoSchedule and NoExecute taints (the kubelet rejects a pod that does not tolerate a NoExecute
//! one), and those given with `--helper-toleration`; never the taints of a node whose kubelet is
//! down (`not-ready`, `unreachable`), where it could only wait. A node that is not Ready is
//! refused before any pod is made ([`check_node_ready`]); a cluster-wide listing also leaves
//! cordoned nodes and nodes with other taints alone ([`judge_node`]) unless named.
//!
//! # Trust
//! Every byte of a fetched archive, and the node's sha256 of it, come from the helper: a pod
//! someone else controls could serve fabricated bytes with a matching hash. So a helper is used
//! only when its spec, as the API server returns it, is exactly the one we built (one container
//! with our image, command, mount and security context; no init, ephemeral or injected
//! containers, no host namespaces, no other volumes). A helper this run did not create is used
//! only when it also proves to be one this user kept (`--keep-helper`): its uid (assigned by the
//! API server, unforgeable) and nonce annotation are recorded in the local state, the kubelet still
//! runs the image digest it ran then, the container never restarted, and at least ten minutes
//! remain before its `activeDeadlineSeconds`. Anything else is not used, and a warning says why.
//!
//! # Cleanup
//! [`with_helpers`] removes every helper it created when its body ends, fails, or is cancelled
//! (Ctrl-C): names are chosen before the create request, so even a helper whose creation was
//! interrupted is deleted. Helpers kept with `--keep-helper` are recorded for later reuse instead.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, Event, HostPathVolumeSource, Node, Pod, PodSpec,
    ResourceRequirements, SecurityContext, Taint, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::Api;

use super::local_state::{self, KeptHelper};
use super::{from_kube, Call, Connection, Error, Interruption, Reporter, Result};

/// The kubelet's checkpoint directory on every node, mounted at the same path in the helper.
pub const CHECKPOINT_DIR: &str = "/var/lib/kubelet/checkpoints";
/// The label every helper pod carries (value `kubectl-checkpoint-helper`).
pub const HELPER_LABEL: &str = "app.kubernetes.io/name";
const HELPER_LABEL_VALUE: &str = "kubectl-checkpoint-helper";
/// Label saying whether the helper's mount is writable (`rw`) or not (`ro`).
const MODE_LABEL: &str = "kubectl-checkpoint/mount";
/// Annotation holding the random nonce of the run that created the helper.
const NONCE_ANNOTATION: &str = "kubectl-checkpoint/nonce";
/// The helper's container name.
pub(crate) const CONTAINER: &str = "helper";
/// The helper's volume name.
const VOLUME: &str = "checkpoints";
/// The name of the helper's emptyDir, where the node agent is written (see `agent`).
const AGENT_VOLUME: &str = "agent";
/// The most the emptyDir may hold: the agent and the spool of its analysis.
const AGENT_VOLUME_LIMIT: &str = "2Gi";
/// The helper's memory limit, which bounds the agent too (the kubelet kills it past this).
const MEMORY_LIMIT: &str = "1Gi";
/// The memory the helper asks the node for (busybox's `cat` and `sha256sum` need little).
const MEMORY_REQUEST: &str = "32Mi";
/// How long a helper lives if nobody deletes it (a killed client leaves it behind).
const LIFETIME_SECONDS: i64 = 3600;
/// A kept helper closer than this to its deadline is not reused.
const MIN_REMAINING_SECONDS: i64 = 600;
/// How often a helper's state is read when the user may not watch pods.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How helper pods are made.
#[derive(Debug, Clone)]
pub struct HelperParams {
    /// The namespace to create them in.
    pub namespace: String,
    /// The image; it needs `sh`, `cat`, `tail`, `stat`, `sha256sum`, `find` and `rm`
    /// (busybox has them).
    pub image: String,
    /// Mount the checkpoint directory writable (only `delete` needs it).
    pub writable: bool,
    /// How long to wait for the helper to run.
    pub start_timeout: Duration,
    /// Leave a helper this run created in place afterwards (a later run reuses it).
    pub keep: bool,
    /// How often a transient failure (a restarting kubelet, HTTP 500/502/503 while dialing it,
    /// a reset connection) is retried before giving up.
    pub retries: u32,
    /// Tolerations to add to the ones [`build_tolerations`] gives (`--helper-toleration`).
    pub tolerations: Vec<Toleration>,
}

/// Where the helper mounts its emptyDir, the only place the node agent is written to.
pub const AGENT_DIR: &str = "/var/run/kubectl-checkpoint";
/// Taints of a node whose kubelet is down: a helper there could only wait.
const KUBELET_DOWN_TAINTS: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];
/// Taints control-plane nodes carry (kubeadm's, and the old name).
const CONTROL_PLANE_TAINTS: [&str; 2] = [
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
];
/// The taint of a cordoned node.
const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

fn exists(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some(effect.to_string()),
        ..Toleration::default()
    }
}

/// The helper's tolerations on a node with `taints` (see the module docs, "Security"): the
/// control-plane taints, the node's own NoSchedule and NoExecute taints but those of a dead
/// kubelet, and `extra`; each once.
pub fn build_tolerations(taints: &[Taint], extra: &[Toleration]) -> Vec<Toleration> {
    let mut tolerations: Vec<Toleration> = CONTROL_PLANE_TAINTS
        .iter()
        .map(|key| exists(key, "NoSchedule"))
        .collect();
    for taint in taints {
        let effect_counts = matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute");
        if effect_counts && !KUBELET_DOWN_TAINTS.contains(&taint.key.as_str()) {
            tolerations.push(exists(&taint.key, &taint.effect));
        }
    }
    tolerations.extend(extra.iter().cloned());
    let mut unique: Vec<Toleration> = Vec::new();
    for toleration in tolerations {
        if !unique.contains(&toleration) {
            unique.push(toleration);
        }
    }
    unique
}

/// Whether `toleration` tolerates `taint`, by Kubernetes' rules.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let exists = toleration.operator.as_deref() == Some("Exists");
    let key_ok = match toleration.key.as_deref() {
        None | Some("") => exists,
        Some(key) => key == taint.key,
    };
    let value_ok =
        exists || toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
    let effect_ok = toleration
        .effect
        .as_deref()
        .is_none_or(|effect| effect.is_empty() || effect == taint.effect);
    key_ok && value_ok && effect_ok
}

/// `KEY=VALUE:EFFECT` (or `KEY:EFFECT`), as kubectl prints a taint.
fn describe_taint(taint: &Taint) -> String {
    match taint.value.as_deref().filter(|v| !v.is_empty()) {
        Some(value) => format!("{}={value}:{}", taint.key, taint.effect),
        None => format!("{}:{}", taint.key, taint.effect),
    }
}

/// Why `node` cannot run a helper pod at all: its kubelet is not Ready.
pub fn check_node_ready(node: &Node) -> std::result::Result<(), String> {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready {
        Some(ready) if ready.status == "True" => Ok(()),
        Some(ready) => Err(format!(
            "it is NotReady (Ready={}{})",
            ready.status,
            ready
                .message
                .as_deref()
                .map(|m| format!(": {}", m.trim()))
                .unwrap_or_default()
        )),
        None => Err("it reports no Ready condition".to_string()),
    }
}

/// Why a cluster-wide listing leaves `node` alone, if it does: it is not Ready, it is cordoned,
/// or it has a NoSchedule or NoExecute taint the helper does not tolerate without being told
/// (neither a control-plane taint nor one of `extra`). Named with `--node`, a cordoned or
/// tainted node is listed all the same.
pub fn judge_node(node: &Node, extra: &[Toleration]) -> Option<String> {
    if let Err(reason) = check_node_ready(node) {
        return Some(reason);
    }
    let spec = node.spec.as_ref();
    if spec.and_then(|s| s.unschedulable) == Some(true) {
        return Some("it is cordoned (spec.unschedulable)".to_string());
    }
    let allowed = build_tolerations(&[], extra);
    spec.and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .filter(|t| matches!(t.effect.as_str(), "NoSchedule" | "NoExecute"))
        .filter(|t| t.key != UNSCHEDULABLE_TAINT)
        .find(|t| !allowed.iter().any(|a| tolerates(a, t)))
        .map(|t| format!("it has the taint {}", describe_taint(t)))
}

/// The helper pod for `node` (whose taints are `taints`) named `name` with nonce `nonce` (pure;
/// [`with_helpers`] creates it).
pub fn build_helper_pod(
    node: &str,
    taints: &[Taint],
    name: &str,
    nonce: &str,
    params: &HelperParams,
) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some(name.to_string());
    pod.metadata.namespace = Some(params.namespace.clone());
    pod.metadata.labels = Some(BTreeMap::from([
        (HELPER_LABEL.to_string(), HELPER_LABEL_VALUE.to_string()),
        (MODE_LABEL.to_string(), mode(params.writable).to_string()),
    ]));
    pod.metadata.annotations = Some(BTreeMap::from([(
        NONCE_ANNOTATION.to_string(),
        nonce.to_string(),
    )]));
    pod.spec = Some(PodSpec {
        node_name: Some(node.to_string()),
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        active_deadline_seconds: Some(LIFETIME_SECONDS),
        termination_grace_period_seconds: Some(0),
        tolerations: Some(build_tolerations(taints, &params.tolerations)),
        volumes: Some(vec![
            Volume {
                name: VOLUME.into(),
                host_path: Some(HostPathVolumeSource {
                    path: CHECKPOINT_DIR.into(),
                    type_: Some("Directory".into()),
                }),
                ..Default::default()
            },
            Volume {
                name: AGENT_VOLUME.into(),
                empty_dir: Some(EmptyDirVolumeSource {
                    size_limit: Some(Quantity(AGENT_VOLUME_LIMIT.into())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]),
        containers: vec![Container {
            name: CONTAINER.into(),
            image: Some(params.image.clone()),
            command: Some(vec!["sleep".into(), LIFETIME_SECONDS.to_string()]),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: VOLUME.into(),
                    mount_path: CHECKPOINT_DIR.into(),
                    read_only: Some(!params.writable),
                    ..Default::default()
                },
                VolumeMount {
                    name: AGENT_VOLUME.into(),
                    mount_path: AGENT_DIR.into(),
                    ..Default::default()
                },
            ]),
            resources: Some(ResourceRequirements {
                limits: Some(BTreeMap::from([(
                    "memory".to_string(),
                    Quantity(MEMORY_LIMIT.into()),
                )])),
                requests: Some(BTreeMap::from([(
                    "memory".to_string(),
                    Quantity(MEMORY_REQUEST.into()),
                )])),
                ..Default::default()
            }),
            security_context: Some(SecurityContext {
                run_as_user: Some(0),
                run_as_non_root: Some(false),
                privileged: Some(false),
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".into()]),
                    add: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    pod
}

fn mode(writable: bool) -> &'static str {
    if writable {
        "rw"
    } else {
        "ro"
    }
}

/// `n` random bytes as hex, from the kernel.
pub(crate) fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom (a very odd machine): std's per-process random hash keys and the time.
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            let value = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(value.get(..chunk.len()).unwrap_or_default());
        }
    }
    hex::encode(bytes)
}

/// Whether `pod` has exactly the shape of `expected` (see the module docs, "Trust"); else why
/// not.
pub fn check_helper_spec(pod: &Pod, expected: &Pod) -> std::result::Result<(), String> {
    let (Some(spec), Some(want)) = (pod.spec.as_ref(), expected.spec.as_ref()) else {
        return Err("it has no spec".into());
    };
    if spec.node_name != want.node_name {
        return Err(format!(
            "it runs on node {}",
            spec.node_name.as_deref().unwrap_or("(none)")
        ));
    }
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let [container] = spec.containers.as_slice() else {
        return Err(format!(
            "it has containers {names:?}, not only {CONTAINER:?} (injected at admission?)"
        ));
    };
    if let Some(init) = spec.init_containers.as_ref().filter(|c| !c.is_empty()) {
        let names: Vec<&str> = init.iter().map(|c| c.name.as_str()).collect();
        return Err(format!("it has init containers {names:?}"));
    }
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|c| !c.is_empty())
    {
        return Err("ephemeral containers were added to it".into());
    }
    if spec.host_pid == Some(true)
        || spec.host_ipc == Some(true)
        || spec.host_network == Some(true)
        || spec.share_process_namespace == Some(true)
    {
        return Err("it shares host or pod namespaces".into());
    }
    if spec.automount_service_account_token != Some(false) {
        return Err("it mounts a service account token".into());
    }
    let volumes = serde_json::to_value(&spec.volumes).unwrap_or_default();
    if volumes != serde_json::to_value(&want.volumes).unwrap_or_default() {
        return Err(format!("its volumes differ ({volumes})"));
    }
    let Some(want_container) = want.containers.first() else {
        return Err("nothing to compare with".into());
    };
    if container.name != want_container.name
        || container.image != want_container.image
        || container.command != want_container.command
        || container.args.as_ref().is_some_and(|a| !a.is_empty())
    {
        return Err(format!(
            "its container runs {:?} {:?}, not {:?} {:?}",
            container.image.as_deref().unwrap_or(""),
            container.command.as_deref().unwrap_or_default(),
            want_container.image.as_deref().unwrap_or(""),
            want_container.command.as_deref().unwrap_or_default(),
        ));
    }
    // `readOnly: false` is omitted by the API server: compare it as a plain bool.
    let mounts = |c: &Container| -> Vec<(String, String, bool, Option<String>)> {
        c.volume_mounts
            .iter()
            .flatten()
            .map(|m| {
                (
                    m.name.clone(),
                    m.mount_path.clone(),
                    m.read_only.unwrap_or(false),
                    m.sub_path.clone().filter(|s| !s.is_empty()),
                )
            })
            .collect()
    };
    if mounts(container) != mounts(want_container) {
        return Err("its mounts differ".into());
    }
    let (Some(sc), Some(want_sc)) = (
        container.security_context.as_ref(),
        want_container.security_context.as_ref(),
    ) else {
        return Err("its security context is gone".into());
    };
    let added = sc
        .capabilities
        .as_ref()
        .and_then(|c| c.add.as_ref())
        .is_some_and(|a| !a.is_empty());
    if sc.run_as_user != want_sc.run_as_user
        || sc.privileged == Some(true)
        || sc.allow_privilege_escalation != want_sc.allow_privilege_escalation
        || sc.read_only_root_filesystem != want_sc.read_only_root_filesystem
        || added
    {
        return Err("its security context differs".into());
    }
    Ok(())
}

/// Whether a helper found running may be reused as the one `kept` records (see the module
/// docs); else why not.
pub(crate) fn check_kept(
    pod: &Pod,
    kept: &KeptHelper,
    expected: &Pod,
    now: Timestamp,
) -> std::result::Result<(), String> {
    if pod.metadata.uid.as_deref() != Some(kept.uid.as_str()) {
        return Err("it is not the pod that was kept (its uid differs)".into());
    }
    let nonce = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(NONCE_ANNOTATION));
    if nonce != Some(&kept.nonce) {
        return Err("its nonce annotation changed".into());
    }
    if pod.metadata.deletion_timestamp.is_some() {
        return Err("it is being deleted".into());
    }
    check_helper_spec(pod, expected)?;
    let status = pod.status.as_ref().ok_or("it has no status")?;
    if status.phase.as_deref() != Some("Running") {
        return Err(format!(
            "it is {}",
            status.phase.as_deref().unwrap_or("in an unknown phase")
        ));
    }
    let container = status
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == CONTAINER)
        .ok_or("its container has no status")?;
    if container.restart_count != 0 {
        return Err(format!(
            "its container restarted {} times",
            container.restart_count
        ));
    }
    if container.image_id != kept.image_id {
        return Err(format!(
            "it runs image {} now, not {}",
            container.image_id, kept.image_id
        ));
    }
    let deadline = pod
        .spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .ok_or("it has no deadline")?;
    let started = status.start_time.as_ref().ok_or("it has no start time")?.0;
    let left = started
        .checked_add(SignedDuration::from_secs(deadline))
        .map(|end| end.duration_since(now).as_secs())
        .unwrap_or(0);
    if left < MIN_REMAINING_SECONDS {
        return Err(format!("only {left} s remain before its deadline"));
    }
    Ok(())
}

/// A running helper pod on one node.
pub struct Helper {
    /// The pods API of the helper's namespace.
    pub(crate) pods: Api<Pod>,
    /// The helper's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its uid.
    pub uid: String,
    /// The node it runs on.
    pub node: String,
    /// Its image, as asked for.
    pub image: String,
    /// The image the kubelet runs (`imageID`, usually a digest).
    pub image_id: String,
    /// True when this run created it; false when a kept one was reused.
    pub created: bool,
    /// Whether its mount is writable.
    pub writable: bool,
    /// How often transient failures are retried.
    pub(crate) retries: u32,
}

/// A helper this scope created (or is creating), to remove or record at its end.
#[derive(Clone)]
struct Created {
    node: String,
    name: String,
    nonce: String,
    writable: bool,
    /// Set once it ran: (uid, image id).
    ran: Option<(String, String)>,
    removed: bool,
}

/// The helpers of one run: starts them on demand and removes (or records) them at the end; see
/// [`with_helpers`].
pub struct HelperScope<'a> {
    conn: &'a Connection,
    params: &'a HelperParams,
    reporter: &'a dyn Reporter,
    created: Mutex<Vec<Created>>,
}

impl<'a> HelperScope<'a> {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.conn.client.clone(), &self.params.namespace)
    }

    fn params_for(&self, writable: bool) -> HelperParams {
        HelperParams {
            writable,
            ..self.params.clone()
        }
    }

    /// A running, trusted helper on `node` (mount writable when `writable`): a kept one of this
    /// user if one qualifies, else a new one. Fails at once when the node does not exist or has
    /// no checkpoint directory.
    pub async fn start(&self, node: &str, writable: bool) -> Result<Helper> {
        let taints = self.check_node(node).await?;
        if let Some(helper) = self.reuse_kept(node, &taints, writable).await {
            return Ok(helper);
        }
        self.create(node, &taints, writable).await
    }

    /// How many helpers this scope created (or began creating) and has not removed.
    fn standing(&self) -> usize {
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|c| !c.removed)
            .count()
    }

    /// Removes a helper this scope created now (unless it is to be kept).
    pub async fn release(&self, helper: &Helper) -> Result<()> {
        if !helper.created || self.params.keep {
            return Ok(());
        }
        let result = self.delete(&helper.name).await;
        if let Some(entry) = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
            .find(|c| c.name == helper.name)
        {
            entry.removed = result.is_ok();
        }
        result
    }

    /// The node's taints, after checking that it exists and is Ready.
    async fn check_node(&self, node: &str) -> Result<Vec<Taint>> {
        let nodes: Api<Node> = Api::all(self.conn.client.clone());
        match nodes.get_opt(node).await {
            Ok(Some(found)) => {
                check_node_ready(&found).map_err(|reason| Error::NodeUnusable {
                    node: node.to_string(),
                    reason,
                })?;
                Ok(found.spec.and_then(|s| s.taints).unwrap_or_default())
            }
            Ok(None) => Err(Error::NoSuchNode {
                node: node.to_string(),
            }),
            // Not allowed to read nodes (or a hiccup): the helper's own start will tell.
            Err(_) => Ok(Vec::new()),
        }
    }

    async fn reuse_kept(&self, node: &str, taints: &[Taint], writable: bool) -> Option<Helper> {
        let dir = local_state::state_dir()?;
        let load_dir = dir.clone();
        let state = tokio::task::spawn_blocking(move || local_state::load(&load_dir))
            .await
            .ok()?;
        let server = &self.conn.server;
        let candidates: Vec<KeptHelper> = state
            .kept_helpers
            .into_iter()
            .filter(|k| {
                &k.server == server
                    && k.namespace == self.params.namespace
                    && k.node == node
                    && k.writable == writable
                    && k.image == self.params.image
            })
            .collect();
        let pods = self.pods();
        for kept in candidates {
            let pod = match pods.get_opt(&kept.name).await {
                Ok(pod) => pod,
                Err(_) => continue,
            };
            let expected = build_helper_pod(
                node,
                taints,
                &kept.name,
                &kept.nonce,
                &self.params_for(writable),
            );
            let verdict = match &pod {
                None => Err(String::new()),
                Some(pod) => check_kept(pod, &kept, &expected, Timestamp::now()),
            };
            match verdict {
                Ok(()) => {
                    return Some(Helper {
                        pods,
                        name: kept.name,
                        namespace: kept.namespace,
                        uid: kept.uid,
                        node: node.to_string(),
                        image: kept.image,
                        image_id: kept.image_id,
                        created: false,
                        writable,
                        retries: self.params.retries,
                    })
                }
                Err(reason) => {
                    if !reason.is_empty() {
                        self.reporter.warning(&format!(
                            "not reusing the kept helper pod {}/{}: {reason}; a new one is used (inspect or delete the old one with kubectl)",
                            kept.namespace, kept.name
                        ));
                    }
                    let dir = dir.clone();
                    let name = kept.name.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        local_state::update(&dir, |s| s.kept_helpers.retain(|k| k.name != name))
                    })
                    .await;
                }
            }
        }
        None
    }

    async fn create(&self, node: &str, taints: &[Taint], writable: bool) -> Result<Helper> {
        let name = format!("kubectl-checkpoint-helper-{}", random_hex(5));
        let nonce = random_hex(16);
        let params = self.params_for(writable);
        let pod = build_helper_pod(node, taints, &name, &nonce, &params);
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Created {
                node: node.to_string(),
                name: name.clone(),
                nonce: nonce.clone(),
                writable,
                ran: None,
                removed: false,
            });
        let pods = self.pods();
        let what = || {
            format!(
                "creating helper pod {}/{name} on node {node}",
                params.namespace
            )
        };
        let post = PostParams::default();
        let made = retry_transient(&what(), params.retries, self.reporter, || {
            pods.create(&post, &pod)
        })
        .await
        .map_err(|err| match err {
            kube::Error::Api(status) if status.code == 404 && names_namespace(&status) => {
                Error::NoSuchNamespace {
                    namespace: params.namespace.clone(),
                }
            }
            err => from_kube(what(), Call::Helper, err),
        })?;
        self.reporter
            .waiting(&format!("helper pod on node {node} to start"));
        let running = self.wait_running(&pods, &made, node).await?;
        check_helper_spec(&running, &pod).map_err(|reason| Error::Helper {
            namespace: params.namespace.clone(),
            pod: name.clone(),
            node: node.to_string(),
            reason: format!(
                "not used, because {reason}; run helpers in a namespace without admission changes (--helper-namespace)"
            ),
        })?;
        let uid = running.metadata.uid.clone().unwrap_or_default();
        let image_id = running
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c.iter().find(|c| c.name == CONTAINER))
            .map(|c| c.image_id.clone())
            .unwrap_or_default();
        if let Some(entry) = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
            .find(|c| c.name == name)
        {
            entry.ran = Some((uid.clone(), image_id.clone()));
        }
        Ok(Helper {
            pods,
            name,
            namespace: params.namespace.clone(),
            uid,
            node: node.to_string(),
            image: params.image.clone(),
            image_id,
            created: true,
            writable,
            retries: params.retries,
        })
    }

    fn failure(&self, name: &str, node: &str, reason: String) -> Error {
        Error::Helper {
            namespace: self.params.namespace.clone(),
            pod: name.to_string(),
            node: node.to_string(),
            reason,
        }
    }

    /// Follows the helper (a watch, or polling when watching is not allowed) and the events
    /// about it until it runs; fails early on a missing checkpoint directory, an image that
    /// cannot be pulled, or a pod that ended.
    async fn wait_running(&self, pods: &Api<Pod>, made: &Pod, node: &str) -> Result<Pod> {
        let name = made.metadata.name.clone().unwrap_or_default();
        let deadline = Instant::now() + self.params.start_timeout;
        let mut version = made.metadata.resource_version.clone().unwrap_or_default();
        let mut last = made.clone();
        let mut events = self.event_stream(&name).await;
        let mut last_warning: Option<String> = None;
        let mut sandbox_failures = 0u32;
        let mut can_watch = true;
        loop {
            match decode_helper_state(&last) {
                HelperState::Running => return Ok(last),
                HelperState::Failed(reason) => return Err(self.failure(&name, node, reason)),
                HelperState::Waiting => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let phase = last
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "unknown".into());
                let why = last_warning
                    .map(|w| format!("; last event: {w}"))
                    .unwrap_or_default();
                return Err(self.failure(
                    &name,
                    node,
                    format!(
                        "not running after {} s (phase {phase}{why}); raise --helper-timeout if the node pulls the image slowly",
                        self.params.start_timeout.as_secs()
                    ),
                ));
            }
            let mut updates: BoxStream<'static, kube::Result<WatchEvent<Pod>>> = if can_watch {
                let params = WatchParams::default()
                    .fields(&format!("metadata.name={name}"))
                    .timeout(left.as_secs().clamp(1, 290) as u32);
                match pods.watch(&params, &version).await {
                    Ok(stream) => stream.boxed(),
                    Err(kube::Error::Api(status)) if status.code == 403 => {
                        can_watch = false;
                        futures::stream::empty().boxed()
                    }
                    Err(err) => {
                        return Err(from_kube(
                            format!("watching helper pod {}/{name}", self.params.namespace),
                            Call::Helper,
                            err,
                        ))
                    }
                }
            } else {
                futures::stream::empty().boxed()
            };
            let poll = async {
                if can_watch {
                    std::future::pending::<()>().await
                } else {
                    tokio::time::sleep(POLL_INTERVAL).await
                }
            };
            tokio::pin!(poll);
            let timeout = tokio::time::sleep(left);
            tokio::pin!(timeout);
            // Read updates until the pod changes state, the watch ends, or time is up.
            loop {
                tokio::select! {
                    update = updates.next() => match update {
                        Some(Ok(WatchEvent::Added(pod) | WatchEvent::Modified(pod))) => {
                            version = pod.metadata.resource_version.clone().unwrap_or(version);
                            last = pod;
                            if !matches!(decode_helper_state(&last), HelperState::Waiting) {
                                break;
                            }
                        }
                        Some(Ok(WatchEvent::Deleted(_))) => {
                            return Err(self.failure(&name, node, "it was deleted while starting".into()));
                        }
                        Some(Ok(WatchEvent::Bookmark(mark))) => {
                            version = mark.metadata.resource_version;
                        }
                        // 410 Gone and friends: read the pod afresh and watch from there.
                        Some(Ok(WatchEvent::Error(_))) | Some(Err(_)) | None => {
                            last = self.read_pod(pods, &name).await?;
                            version = last.metadata.resource_version.clone().unwrap_or_default();
                            break;
                        }
                    },
                    event = next_event(&mut events) => match event {
                        Some(event) => {
                            match judge_event(&event, node, &last) {
                                EventVerdict::Fatal(err) => return Err(err),
                                EventVerdict::SandboxFailed(message) => {
                                    sandbox_failures += 1;
                                    // The kubelet retries a sandbox; twice failed is no hiccup.
                                    if sandbox_failures >= SANDBOX_FAILURES {
                                        return Err(self.failure(
                                            &name,
                                            node,
                                            format!("the kubelet cannot create its pod sandbox: {message}"),
                                        ));
                                    }
                                }
                                EventVerdict::Other => {}
                            }
                            if event.type_.as_deref() == Some("Warning") {
                                let text = format!(
                                    "{}: {}",
                                    event.reason.as_deref().unwrap_or(""),
                                    event.message.as_deref().unwrap_or("")
                                );
                                self.reporter.waiting(&format!(
                                    "helper pod on node {node} to start ({text})"
                                ));
                                last_warning = Some(text);
                            }
                        }
                        None => events = None,
                    },
                    () = &mut poll => {
                        last = self.read_pod(pods, &name).await?;
                        break;
                    }
                    () = &mut timeout => break,
                }
            }
        }
    }

    async fn read_pod(&self, pods: &Api<Pod>, name: &str) -> Result<Pod> {
        let what = format!("reading helper pod {}/{name}", self.params.namespace);
        retry_transient(&what, self.params.retries, self.reporter, || pods.get(name))
            .await
            .map_err(|err| from_kube(what.clone(), Call::Helper, err))
    }

    /// The events about helper `name` (those already there, then new ones), or `None` when
    /// the user may not read events.
    async fn event_stream(&self, name: &str) -> Option<BoxStream<'static, Event>> {
        let events: Api<Event> = Api::namespaced(self.conn.client.clone(), &self.params.namespace);
        let fields = format!(
            "involvedObject.name={name},involvedObject.namespace={}",
            self.params.namespace
        );
        let listed = events
            .list(&ListParams::default().fields(&fields))
            .await
            .ok()?;
        let version = listed.metadata.resource_version.clone().unwrap_or_default();
        let params = WatchParams::default()
            .fields(&fields)
            .timeout(self.params.start_timeout.as_secs().clamp(1, 290) as u32);
        let watched = events.watch(&params, &version).await.ok()?;
        let new = watched
            .try_filter_map(|event| async move {
                Ok(match event {
                    WatchEvent::Added(e) | WatchEvent::Modified(e) => Some(e),
                    _ => None,
                })
            })
            .take_while(|e| futures::future::ready(e.is_ok()))
            .filter_map(|e| async move { e.ok() });
        Some(futures::stream::iter(listed.items).chain(new).boxed())
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let pods = self.pods();
        let what = format!("deleting helper pod {}/{name}", self.params.namespace);
        let now = DeleteParams::default().grace_period(0);
        match retry_transient(&what, self.params.retries, self.reporter, || {
            pods.delete(name, &now)
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(err) => Err(from_kube(what, Call::Helper, err)),
        }
    }

    /// Removes every helper still standing, or records them for reuse when they are to be kept
    /// and the run succeeded.
    async fn finish(&self, succeeded: bool) -> Result<()> {
        let standing: Vec<Created> = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|c| !c.removed)
            .cloned()
            .collect();
        let mut first_error = None;
        let mut keep = Vec::new();
        for Created {
            node,
            name,
            nonce,
            writable,
            ran,
            ..
        } in standing
        {
            match ran {
                Some((uid, image_id)) if self.params.keep && succeeded => {
                    keep.push(KeptHelper {
                        server: self.conn.server.clone(),
                        namespace: self.params.namespace.clone(),
                        node,
                        name,
                        uid,
                        nonce,
                        image: self.params.image.clone(),
                        image_id,
                        writable,
                    });
                }
                _ => {
                    if let Err(err) = self.delete(&name).await {
                        first_error.get_or_insert(err);
                    }
                }
            }
        }
        if let (false, Some(dir)) = (keep.is_empty(), local_state::state_dir()) {
            let _ = tokio::task::spawn_blocking(move || {
                local_state::update(&dir, |s| {
                    s.kept_helpers
                        .retain(|k| !keep.iter().any(|n| n.name == k.name));
                    s.kept_helpers.extend(keep);
                })
            })
            .await;
        }
        match first_error {
            Some(err) if succeeded => Err(err),
            _ => Ok(()),
        }
    }
}

/// How many `FailedCreatePodSandBox` events end the wait for a helper.
const SANDBOX_FAILURES: u32 = 2;

/// What an event about a starting helper means.
enum EventVerdict {
    /// It can never start.
    Fatal(Error),
    /// The kubelet could not create its sandbox (it retries); the kubelet's text.
    SandboxFailed(String),
    /// Nothing that ends the wait.
    Other,
}

/// Whether `event` (about helper `pod` on `node`) says it can never start.
fn judge_event(event: &Event, node: &str, pod: &Pod) -> EventVerdict {
    let uid = pod.metadata.uid.as_deref();
    if event.involved_object.uid.is_some() && event.involved_object.uid.as_deref() != uid {
        return EventVerdict::Other;
    }
    let message = event.message.as_deref().unwrap_or("");
    match event.reason.as_deref() {
        Some("FailedMount")
            if message.contains("hostPath type check failed")
                && message.contains(CHECKPOINT_DIR) =>
        {
            EventVerdict::Fatal(Error::NoCheckpointDir {
                node: node.to_string(),
            })
        }
        Some("FailedCreatePodSandBox") => EventVerdict::SandboxFailed(message.trim().to_string()),
        _ => EventVerdict::Other,
    }
}

/// Whether a 404 Status is about a namespace (`namespaces "x" not found`).
fn names_namespace(status: &kube::core::Status) -> bool {
    status
        .details
        .as_ref()
        .is_some_and(|d| d.kind == "namespaces")
        || status.message.starts_with("namespaces \"")
}

async fn next_event(events: &mut Option<BoxStream<'static, Event>>) -> Option<Event> {
    match events {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

/// Where a helper stands, from its pod object.
enum HelperState {
    Running,
    Waiting,
    Failed(String),
}

fn decode_helper_state(pod: &Pod) -> HelperState {
    let Some(status) = pod.status.as_ref() else {
        return HelperState::Waiting;
    };
    match status.phase.as_deref() {
        Some("Running") => return HelperState::Running,
        Some(phase @ ("Failed" | "Succeeded")) => {
            // The kubelet's reason stays in the error (`UntoleratedTaint: Pod was rejected ...`).
            let why = match (status.reason.as_deref(), status.message.as_deref()) {
                (Some(reason), Some(message)) => format!(": {reason}: {}", message.trim()),
                (Some(reason), None) => format!(": {reason}"),
                (None, Some(message)) => format!(": {}", message.trim()),
                (None, None) => String::new(),
            };
            return HelperState::Failed(format!("it ended ({phase}) before it could be used{why}"));
        }
        _ => {}
    }
    let waiting = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
        .find_map(|w| w.reason.clone());
    match waiting.as_deref() {
        Some(reason @ ("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName")) => {
            HelperState::Failed(format!(
                "its image cannot be pulled ({reason}); pass --helper-image with an image the node can pull"
            ))
        }
        _ => HelperState::Waiting,
    }
}

/// Runs `request` until it succeeds, fails for good, or `retries` transient failures passed.
pub(crate) async fn retry_transient<T, F, Fut>(
    what: &str,
    retries: u32,
    reporter: &dyn Reporter,
    mut request: F,
) -> kube::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = kube::Result<T>>,
{
    let mut backoff = super::retry::Backoff::default();
    let mut attempt = 0;
    loop {
        match request().await {
            Ok(value) => return Ok(value),
            Err(err) => match super::retry::transient_reason(&err) {
                Some(reason) if attempt < retries => {
                    attempt += 1;
                    let delay = backoff.next_delay();
                    reporter.retrying(what, attempt, retries, delay, &reason);
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(err),
            },
        }
    }
}

/// Runs `body` with a [`HelperScope`] that starts helper pods on demand, then removes the ones
/// it created (or records them with `params.keep` after success), also when `body` fails or
/// `cancel` (Ctrl-C) completes first, which ends the call with [`Error::Interrupted`].
pub async fn with_helpers<T>(
    conn: &Connection,
    params: &HelperParams,
    reporter: &dyn Reporter,
    cancel: impl Future<Output = ()>,
    body: impl AsyncFnOnce(&HelperScope<'_>) -> Result<T>,
) -> Result<T> {
    let scope = HelperScope {
        conn,
        params,
        reporter,
        created: Mutex::new(Vec::new()),
    };
    let outcome = tokio::select! {
        outcome = body(&scope) => outcome,
        () = cancel => Err(Error::Interrupted(Interruption {
            helpers_removed: scope.standing(),
            pending: Vec::new(),
        })),
    };
    let finished = scope.finish(outcome.is_ok()).await;
    // The error that matters is the body's; a failed removal only matters after success.
    let value = outcome?;
    finished?;
    Ok(value)
}

/// Runs `work` in a helper pod on `node` (see [`with_helpers`]).
pub async fn with_helper<T>(
    conn: &Connection,
    node: &str,
    params: &HelperParams,
    reporter: &dyn Reporter,
    cancel: impl Future<Output = ()>,
    work: impl AsyncFnOnce(&Helper) -> Result<T>,
) -> Result<T> {
    with_helpers(conn, params, reporter, cancel, async |scope| {
        let helper = scope.start(node, params.writable).await?;
        work(&helper).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateRunning, ContainerStatus, PodStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn params(writable: bool) -> HelperParams {
        HelperParams {
            keep: false,
            namespace: "ns".into(),
            image: "busybox:1.36".into(),
            writable,
            start_timeout: Duration::from_secs(60),
            retries: 3,
            tolerations: Vec::new(),
        }
    }

    #[test]
    fn helper_pod_is_pinned_and_unprivileged() {
        let pod = build_helper_pod("node-a", &[], "h", "n0nce", &params(false));
        let annotations = pod.metadata.annotations.clone().unwrap();
        assert_eq!(annotations[NONCE_ANNOTATION], "n0nce");
        let spec = pod.spec.unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("node-a"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        // Never a blanket toleration: only the control-plane taints without node taints.
        let tolerations = spec.tolerations.unwrap();
        assert_eq!(tolerations.len(), 2);
        assert!(tolerations.iter().all(|t| t.key.is_some()));
        let volume = &spec.volumes.unwrap()[0];
        assert_eq!(volume.host_path.as_ref().unwrap().path, CHECKPOINT_DIR);
        let container = &spec.containers[0];
        assert_eq!(container.image.as_deref(), Some("busybox:1.36"));
        let mount = &container.volume_mounts.as_ref().unwrap()[0];
        assert_eq!(mount.mount_path, CHECKPOINT_DIR);
        assert_eq!(mount.read_only, Some(true));
        let sc = container.security_context.as_ref().unwrap();
        assert_eq!(sc.privileged, Some(false));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.run_as_user, Some(0));
        let caps = sc.capabilities.as_ref().unwrap();
        assert_eq!(caps.drop.as_deref(), Some(&["ALL".to_string()][..]));
        assert!(caps.add.is_none());
        let labels = pod.metadata.labels.unwrap();
        assert_eq!(labels[HELPER_LABEL], HELPER_LABEL_VALUE);
        assert_eq!(labels[MODE_LABEL], "ro");
    }

    fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: value.map(Into::into),
            effect: effect.into(),
            time_added: None,
        }
    }

    #[test]
    fn tolerations_follow_the_node_and_never_a_dead_kubelet() {
        let taints = [
            taint("dedicated", Some("gpu"), "NoSchedule"),
            taint("evict-me", None, "NoExecute"),
            taint("soft", None, "PreferNoSchedule"),
            taint("node.kubernetes.io/unreachable", None, "NoExecute"),
            taint("node.kubernetes.io/not-ready", None, "NoSchedule"),
        ];
        let extra = vec![Toleration {
            key: Some("team".into()),
            operator: Some("Equal".into()),
            value: Some("a".into()),
            effect: Some("NoSchedule".into()),
            ..Toleration::default()
        }];
        let tolerations = build_tolerations(&taints, &extra);
        let keys: Vec<&str> = tolerations
            .iter()
            .filter_map(|t| t.key.as_deref())
            .collect();
        assert_eq!(
            keys,
            [
                "node-role.kubernetes.io/control-plane",
                "node-role.kubernetes.io/master",
                "dedicated",
                "evict-me",
                "team"
            ]
        );
        for taint in &taints[..2] {
            assert!(tolerations.iter().any(|t| tolerates(t, taint)), "{taint:?}");
        }
        for taint in &taints[3..] {
            assert!(
                !tolerations.iter().any(|t| tolerates(t, taint)),
                "{taint:?}"
            );
        }
        // The same taint twice gives one toleration.
        assert_eq!(
            build_tolerations(&[taints[0].clone(), taints[0].clone()], &[]).len(),
            3
        );
    }

    #[test]
    fn a_listing_skips_unready_cordoned_and_tainted_nodes() {
        use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus};
        let node = |ready: &str, unschedulable: bool, taints: Vec<Taint>| Node {
            spec: Some(NodeSpec {
                unschedulable: Some(unschedulable),
                taints: Some(taints),
                ..NodeSpec::default()
            }),
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: ready.into(),
                    message: Some("Kubelet stopped posting node status.".into()),
                    ..NodeCondition::default()
                }]),
                ..NodeStatus::default()
            }),
            ..Node::default()
        };
        assert_eq!(judge_node(&node("True", false, vec![]), &[]), None);
        let control_plane = taint("node-role.kubernetes.io/control-plane", None, "NoSchedule");
        assert_eq!(
            judge_node(&node("True", false, vec![control_plane]), &[]),
            None
        );
        assert_eq!(
            judge_node(&node("Unknown", false, vec![]), &[]).as_deref(),
            Some("it is NotReady (Ready=Unknown: Kubelet stopped posting node status.)")
        );
        assert_eq!(
            judge_node(
                &node(
                    "True",
                    true,
                    vec![taint(UNSCHEDULABLE_TAINT, None, "NoSchedule")]
                ),
                &[]
            )
            .as_deref(),
            Some("it is cordoned (spec.unschedulable)")
        );
        let dedicated = taint("realk8s.io/runtime", Some("cri-o"), "NoSchedule");
        assert_eq!(
            judge_node(&node("True", false, vec![dedicated.clone()]), &[]).as_deref(),
            Some("it has the taint realk8s.io/runtime=cri-o:NoSchedule")
        );
        let allowed = exists("realk8s.io/runtime", "NoSchedule");
        assert_eq!(
            judge_node(&node("True", false, vec![dedicated]), &[allowed]),
            None
        );
        // A preference is no reason.
        let soft = taint("soft", None, "PreferNoSchedule");
        assert_eq!(judge_node(&node("True", false, vec![soft]), &[]), None);
    }

    #[test]
    fn delete_helper_mounts_writable() {
        let pod = build_helper_pod("n", &[], "h", "x", &params(true));
        let container = &pod.spec.unwrap().containers[0];
        assert_eq!(
            container.volume_mounts.as_ref().unwrap()[0].read_only,
            Some(false)
        );
    }

    #[test]
    fn random_values_differ() {
        assert_ne!(random_hex(5), random_hex(5));
        assert_eq!(random_hex(16).len(), 32);
    }

    /// The helper as an API server returns it once it runs: uid, status, start time.
    fn running(expected: &Pod, uid: &str, started: Timestamp) -> Pod {
        let mut pod = expected.clone();
        pod.metadata.uid = Some(uid.into());
        pod.status = Some(PodStatus {
            phase: Some("Running".into()),
            start_time: Some(Time(started)),
            container_statuses: Some(vec![ContainerStatus {
                name: CONTAINER.into(),
                image: "busybox:1.36".into(),
                image_id: "docker.io/library/busybox@sha256:abc".into(),
                restart_count: 0,
                state: Some(ContainerState {
                    running: Some(ContainerStateRunning::default()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        });
        pod
    }

    fn kept() -> KeptHelper {
        KeptHelper {
            server: "https://s".into(),
            namespace: "ns".into(),
            node: "n".into(),
            name: "h".into(),
            uid: "uid-1".into(),
            nonce: "nonce-1".into(),
            image: "busybox:1.36".into(),
            image_id: "docker.io/library/busybox@sha256:abc".into(),
            writable: false,
        }
    }

    #[test]
    fn a_kept_helper_is_reused_only_while_it_is_unchanged() {
        let expected = build_helper_pod("n", &[], "h", "nonce-1", &params(false));
        let now = Timestamp::now();
        let started = now - SignedDuration::from_secs(60);
        let good = running(&expected, "uid-1", started);
        assert_eq!(check_kept(&good, &kept(), &expected, now), Ok(()));

        type Change = (&'static str, Box<dyn Fn(&mut Pod)>);
        let changes: Vec<Change> = vec![
            (
                "uid differs",
                Box::new(|p| p.metadata.uid = Some("uid-2".into())),
            ),
            ("nonce", Box::new(|p| p.metadata.annotations = None)),
            (
                "runs \"evil:1\"",
                Box::new(|p| p.spec.as_mut().unwrap().containers[0].image = Some("evil:1".into())),
            ),
            (
                "ephemeral",
                Box::new(|p| {
                    p.spec.as_mut().unwrap().ephemeral_containers = Some(vec![Default::default()])
                }),
            ),
            (
                "containers [\"helper\", \"side\"]",
                Box::new(|p| {
                    let mut side = p.spec.as_ref().unwrap().containers[0].clone();
                    side.name = "side".into();
                    p.spec.as_mut().unwrap().containers.push(side)
                }),
            ),
            (
                "volumes differ",
                Box::new(|p| {
                    p.spec.as_mut().unwrap().volumes.as_mut().unwrap()[0]
                        .host_path
                        .as_mut()
                        .unwrap()
                        .path = "/".into()
                }),
            ),
            (
                "mounts differ",
                Box::new(|p| {
                    p.spec.as_mut().unwrap().containers[0]
                        .volume_mounts
                        .as_mut()
                        .unwrap()[0]
                        .read_only = Some(false)
                }),
            ),
            (
                "security context",
                Box::new(|p| {
                    p.spec.as_mut().unwrap().containers[0]
                        .security_context
                        .as_mut()
                        .unwrap()
                        .privileged = Some(true)
                }),
            ),
            (
                "restarted 1 times",
                Box::new(|p| {
                    p.status
                        .as_mut()
                        .unwrap()
                        .container_statuses
                        .as_mut()
                        .unwrap()[0]
                        .restart_count = 1
                }),
            ),
            (
                "runs image",
                Box::new(|p| {
                    p.status
                        .as_mut()
                        .unwrap()
                        .container_statuses
                        .as_mut()
                        .unwrap()[0]
                        .image_id = "x@sha256:def".into()
                }),
            ),
            (
                "before its deadline",
                Box::new(move |p| {
                    p.status.as_mut().unwrap().start_time =
                        Some(Time(now - SignedDuration::from_secs(LIFETIME_SECONDS - 60)))
                }),
            ),
            (
                "shares host",
                Box::new(|p| p.spec.as_mut().unwrap().share_process_namespace = Some(true)),
            ),
            (
                "being deleted",
                Box::new(move |p| p.metadata.deletion_timestamp = Some(Time(now))),
            ),
        ];
        for (want, change) in changes {
            let mut pod = good.clone();
            change(&mut pod);
            let err = check_kept(&pod, &kept(), &expected, now).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    #[test]
    fn helper_states() {
        let mut pod = build_helper_pod("n", &[], "h", "x", &params(false));
        assert!(matches!(decode_helper_state(&pod), HelperState::Waiting));
        pod.status = Some(PodStatus {
            phase: Some("Failed".into()),
            ..Default::default()
        });
        assert!(matches!(decode_helper_state(&pod), HelperState::Failed(_)));
    }
}

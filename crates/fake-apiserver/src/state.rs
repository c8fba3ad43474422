//! The fake cluster's state: objects, faults, recorded requests, and the node directories.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{Event, EventSource, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

use super::load::Load;
use super::objects::{self, mark_running, FakeNode, OwnerKind, Workload, WorkloadKind};
use super::{FakeClusterBuilder, Fault, RecordedRequest};

/// Everything the server tasks share with the test.
pub(super) struct Shared {
    /// Objects.
    pub state: Mutex<State>,
    /// Active faults.
    pub faults: Mutex<Vec<Fault>>,
    /// Requests in arrival order.
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// The accepted bearer token.
    pub token: String,
    /// The archive the kubelet copies on checkpoint.
    pub fixture: PathBuf,
    /// Whether exec runs commands in a private mount namespace with the hostPaths mounted at their
    /// container paths (root with mount privileges); else it rewrites paths (see the module docs).
    pub isolated_exec: bool,
    /// Whether `/api` and `/apis` answer in the aggregated form when asked.
    pub aggregated_discovery: bool,
    /// How many more exec requests are refused with the API server's 500 `error dialing
    /// backend` (as while a kubelet restarts).
    pub exec_refusals: std::sync::atomic::AtomicU32,
    /// Namespaces whose Pod Security `enforce` level is below privileged.
    pub restricted_namespaces: Vec<String>,
    /// How long every request waits before it is served.
    pub request_latency: Duration,
    /// Requests and checkpoints in flight, measured.
    pub load: Load,
    root: PathBuf,
    exec_counter: AtomicU64,
}

/// A pod and when it starts running (None: already running, or never scheduled).
pub(super) struct StoredPod {
    /// The object as served.
    pub pod: Pod,
    /// When a Pending pod turns Running.
    pub running_at: Option<Instant>,
    /// When a pod being deleted (deletionTimestamp set) disappears.
    pub gone_at: Option<Instant>,
    /// The resourceVersion it was created with (watch tells ADDED from MODIFIED by it).
    pub created_version: u64,
    /// When the kubelet last reported a failure about it (sandbox creation).
    pub last_failure: Option<Instant>,
}

/// The API objects.
pub(super) struct State {
    /// Pods in creation order.
    pub pods: Vec<StoredPod>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// How each node behaves (kubelet or not, sandbox failures).
    pub node_specs: Vec<FakeNode>,
    /// Containers (namespace, pod, container) that exit when checkpointed.
    pub exits_on_checkpoint: Vec<(String, String, String)>,
    /// apps/v1 workloads.
    pub workloads: Vec<Workload>,
    /// Container logs by (namespace, pod, container).
    pub logs: BTreeMap<(String, String, String), String>,
    /// How long a created pod stays Pending.
    pub pod_start_delay: Duration,
    /// Events (core/v1), oldest first.
    pub events: Vec<Event>,
    /// Images whose pull fails, with the registry's error text.
    pub pull_failures: Vec<(String, String)>,
    /// Container logs with their CRI timestamps by (namespace, pod, container): what a
    /// restored container's log holds from before its pod existed.
    pub timed_logs: BTreeMap<(String, String, String), Vec<(Timestamp, String)>>,
    /// Namespaces created through the API, with their labels.
    pub created_namespaces: Vec<k8s_openapi::api::core::v1::Namespace>,
    /// NetworkPolicies created through the API.
    pub network_policies: Vec<k8s_openapi::api::networking::v1::NetworkPolicy>,
    /// `<root>/nodes`: each node's `/` is a directory in it.
    nodes_root: PathBuf,
    resource_version: u64,
}

impl Shared {
    /// Builds the state and the node directories under `root`.
    /// `isolated_exec`: whether exec can give each command a container view (see the crate
    /// docs).
    pub fn new(
        root: PathBuf,
        token: String,
        isolated_exec: bool,
        builder: &FakeClusterBuilder,
    ) -> Self {
        let FakeClusterBuilder {
            nodes,
            pods,
            workloads,
            fixture,
            pod_start_delay,
            aggregated_discovery,
            restricted_namespaces,
            request_latency,
            ..
        } = builder;
        let (fixture, pod_start_delay, aggregated_discovery) =
            (fixture.clone(), *pod_start_delay, *aggregated_discovery);
        let now = Timestamp::now();
        let mut state = State {
            pods: Vec::new(),
            nodes: Vec::new(),
            node_specs: nodes.to_vec(),
            exits_on_checkpoint: Vec::new(),
            workloads: workloads.to_vec(),
            logs: BTreeMap::new(),
            pod_start_delay,
            events: Vec::new(),
            pull_failures: Vec::new(),
            timed_logs: BTreeMap::new(),
            created_namespaces: Vec::new(),
            network_policies: Vec::new(),
            nodes_root: root.join("nodes"),
            resource_version: 1000,
        };
        let shared_root = root.clone();
        for (index, node) in nodes.iter().enumerate() {
            state.nodes.push(node.build(
                index,
                objects::fake_uid(&format!("node/{}", node.name)),
                now,
            ));
            let dir = node_checkpoint_dir(&shared_root, &node.name);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .unwrap_or_else(|e| panic!("fake cluster: create {}: {e}", dir.display()));
        }
        for spec in pods {
            for (container, text) in &spec.logs {
                let key = (spec.namespace.clone(), spec.name.clone(), container.clone());
                state.logs.insert(key, text.clone());
            }
            let uid = objects::fake_uid(&format!("pod/{}/{}", spec.namespace, spec.name));
            let mut pod = spec.build(uid, now);
            let version = state.next_resource_version();
            pod.metadata.resource_version = Some(version.clone());
            state.pods.push(StoredPod {
                pod,
                running_at: None,
                gone_at: None,
                created_version: version.parse().unwrap_or(0),
                last_failure: None,
            });
            for container in &spec.exits_on_checkpoint {
                state.exits_on_checkpoint.push((
                    spec.namespace.clone(),
                    spec.name.clone(),
                    container.clone(),
                ));
            }
            if let Some(owner) = spec
                .owner
                .as_ref()
                .filter(|o| o.kind == OwnerKind::ReplicaSet)
            {
                state.add_implied_replicaset(&spec.namespace, &owner.name, &spec.labels);
            }
        }
        Self {
            state: Mutex::new(state),
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            token,
            fixture,
            isolated_exec,
            aggregated_discovery,
            exec_refusals: std::sync::atomic::AtomicU32::new(0),
            restricted_namespaces: restricted_namespaces.clone(),
            request_latency: *request_latency,
            load: Load::default(),
            root,
            exec_counter: AtomicU64::new(0),
        }
    }

    /// `<root>/nodes/<node>`: the node's `/`.
    pub fn node_root(&self, node: &str) -> PathBuf {
        self.root.join("nodes").join(node)
    }

    /// The node's `/var/lib/kubelet/checkpoints`.
    pub fn node_checkpoint_dir(&self, node: &str) -> PathBuf {
        node_checkpoint_dir(&self.root, node)
    }

    /// The directory exec runs a pod's commands in (its "container root").
    pub fn container_root(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        self.root
            .join("containers")
            .join(format!("{namespace}_{pod}_{container}"))
    }

    /// A fresh directory name for one exec's overlay (tmpfs mounted there inside its namespace).
    pub fn exec_scratch_dir(&self) -> PathBuf {
        let n = self.exec_counter.fetch_add(1, Ordering::Relaxed);
        self.root.join("exec").join(n.to_string())
    }

    /// Whether `fault` is active.
    pub fn has_fault(&self, fault: &Fault) -> bool {
        super::lock(&self.faults).contains(fault)
    }

    /// The active faults.
    pub fn faults(&self) -> Vec<Fault> {
        super::lock(&self.faults).clone()
    }
}

fn node_checkpoint_dir(root: &Path, node: &str) -> PathBuf {
    root.join("nodes")
        .join(node)
        .join("var/lib/kubelet/checkpoints")
}

impl State {
    /// The next `resourceVersion`.
    pub fn next_resource_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// The current `resourceVersion` (for lists).
    pub fn resource_version(&self) -> String {
        self.resource_version.to_string()
    }

    /// Turns created pods whose start delay passed into Running ones and removes deleted pods
    /// whose grace period ended.
    pub fn refresh(&mut self) {
        let now = Instant::now();
        self.pods.retain(|p| p.gone_at.is_none_or(|at| at > now));
        let mut due = Vec::new();
        for (i, stored) in self.pods.iter().enumerate() {
            if stored.running_at.is_some_and(|at| at <= now) {
                due.push(i);
            }
        }
        for i in due {
            match self.pods.get(i).map(|stored| self.node_blocks(&stored.pod)) {
                Some(NodeBlock::None) | None => {}
                Some(NodeBlock::NoKubelet) => continue,
                Some(NodeBlock::Sandbox(message)) => {
                    let report = self.pods.get(i).is_some_and(|s| {
                        s.last_failure
                            .is_none_or(|at| now >= at + Duration::from_secs(1))
                    });
                    if report {
                        if let Some(stored) = self.pods.get_mut(i) {
                            stored.last_failure = Some(now);
                        }
                        if let Some(pod) = self.pods.get(i).map(|s| s.pod.clone()) {
                            self.add_event(&pod, "FailedCreatePodSandBox", &message);
                        }
                    }
                    continue;
                }
                Some(NodeBlock::Taint(taint)) => {
                    // The kubelet's admission rejects a pod that does not tolerate a NoExecute
                    // taint of its node.
                    let version = self.next_resource_version();
                    if let Some(stored) = self.pods.get_mut(i) {
                        stored.running_at = None;
                        stored.pod.metadata.resource_version = Some(version);
                        if let Some(status) = stored.pod.status.as_mut() {
                            status.phase = Some("Failed".to_string());
                            status.reason = Some("UntoleratedTaint".to_string());
                            status.message = Some(format!(
                                "Pod was rejected: Predicate TaintToleration failed: The node had taints that the pod didn't tolerate: {taint}"
                            ));
                        }
                    }
                    continue;
                }
            }
            let missing = self
                .pods
                .get(i)
                .and_then(|stored| self.missing_host_dir(&stored.pod));
            if let Some(path) = missing {
                // The kubelet cannot mount it: the pod stays Pending and says so in an event.
                if let Some(stored) = self.pods.get_mut(i) {
                    stored.running_at = None;
                }
                if let Some(pod) = self.pods.get(i).map(|s| s.pod.clone()) {
                    self.add_event(
                        &pod,
                        "FailedMount",
                        &format!("MountVolume.SetUp failed for volume \"checkpoints\" : hostPath type check failed: {path} is not a directory"),
                    );
                }
                continue;
            }
            let failing = self
                .pods
                .get(i)
                .and_then(|stored| self.pull_failure(&stored.pod));
            if let Some((container, image, message)) = failing {
                // The kubelet: Pulling, then Failed twice (the registry's words, then the
                // reason), the container waiting in ErrImagePull; it retries with a backoff.
                let version = self.next_resource_version();
                if let Some(stored) = self.pods.get_mut(i) {
                    stored.running_at = None;
                    stored.pod.metadata.resource_version = Some(version);
                    objects::mark_waiting(&mut stored.pod, &container, "ErrImagePull", &message);
                }
                if let Some(pod) = self.pods.get(i).map(|s| s.pod.clone()) {
                    self.add_typed_event(
                        &pod,
                        "Normal",
                        "Pulling",
                        &format!("Pulling image \"{image}\""),
                    );
                    self.add_event(
                        &pod,
                        "Failed",
                        &format!("Failed to pull image \"{image}\": {message}"),
                    );
                    self.add_event(&pod, "Failed", "Error: ErrImagePull");
                }
                continue;
            }
            let version = self.next_resource_version();
            if let Some(stored) = self.pods.get_mut(i) {
                stored.running_at = None;
                mark_running(&mut stored.pod, Timestamp::now());
                stored.pod.metadata.resource_version = Some(version);
            }
            if let Some(pod) = self.pods.get(i).map(|s| s.pod.clone()) {
                for container in pod.spec.iter().flat_map(|s| s.containers.iter()) {
                    let image = container.image.clone().unwrap_or_default();
                    self.add_typed_event(
                        &pod,
                        "Normal",
                        "Pulled",
                        &format!("Container image \"{image}\" already present on machine"),
                    );
                    self.add_typed_event(
                        &pod,
                        "Normal",
                        "Created",
                        &format!("Created container: {}", container.name),
                    );
                    self.add_typed_event(
                        &pod,
                        "Normal",
                        "Started",
                        &format!("Started container {}", container.name),
                    );
                }
            }
        }
    }

    /// The first container of `pod` whose image cannot be pulled: its name, the image and the
    /// registry's error text.
    fn pull_failure(&self, pod: &Pod) -> Option<(String, String, String)> {
        pod.spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .find_map(|c| {
                let image = c.image.clone().unwrap_or_default();
                self.pull_failures
                    .iter()
                    .find(|(failing, _)| *failing == image)
                    .map(|(_, message)| (c.name.clone(), image, message.clone()))
            })
    }

    /// What keeps a pod from starting on its node, as that node's kubelet would see it.
    fn node_blocks(&self, pod: &Pod) -> NodeBlock {
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
            return NodeBlock::None;
        };
        let Some(spec) = self.node_specs.iter().find(|n| n.name == node) else {
            return NodeBlock::None;
        };
        if !spec.kubelet {
            return NodeBlock::NoKubelet;
        }
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.clone())
            .unwrap_or_default();
        let untolerated = spec
            .taints
            .iter()
            .filter(|(_, _, effect)| effect == "NoExecute")
            .find(|(key, value, effect)| {
                !tolerations.iter().any(|t| {
                    let key_ok = match t.key.as_deref() {
                        None | Some("") => t.operator.as_deref() == Some("Exists"),
                        Some(k) => k == key,
                    };
                    let value_ok = t.operator.as_deref() == Some("Exists")
                        || t.value.as_deref().unwrap_or("") == value;
                    let effect_ok = t
                        .effect
                        .as_deref()
                        .is_none_or(|e| e.is_empty() || e == effect);
                    key_ok && value_ok && effect_ok
                })
            });
        if let Some((key, value, effect)) = untolerated {
            return NodeBlock::Taint(format!("{{{key}: {value}}} ({effect})"));
        }
        match &spec.sandbox_failure {
            Some(message) => NodeBlock::Sandbox(message.clone()),
            None => NodeBlock::None,
        }
    }

    /// The first `hostPath` of type `Directory` that does not exist on the pod's node.
    fn missing_host_dir(&self, pod: &Pod) -> Option<String> {
        let spec = pod.spec.as_ref()?;
        let node = spec.node_name.as_deref()?;
        spec.volumes.iter().flatten().find_map(|volume| {
            let host = volume.host_path.as_ref()?;
            let is_dir = host.type_.as_deref() == Some("Directory");
            let on_node = self
                .nodes_root
                .join(node)
                .join(host.path.trim_start_matches('/'));
            (is_dir && !on_node.is_dir()).then(|| host.path.clone())
        })
    }

    /// Records a Warning event from the kubelet about `pod`.
    pub fn add_event(&mut self, pod: &Pod, reason: &str, message: &str) {
        self.add_typed_event(pod, "Warning", reason, message);
    }

    /// Records a kubelet event of `type_` (`Normal`, `Warning`) about `pod`.
    pub fn add_typed_event(&mut self, pod: &Pod, type_: &str, reason: &str, message: &str) {
        let version = self.next_resource_version();
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let now = Time(Timestamp::now());
        self.events.push(Event {
            metadata: ObjectMeta {
                name: Some(format!("{name}.{version}")),
                namespace: Some(namespace.clone()),
                resource_version: Some(version),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(name),
                namespace: Some(namespace),
                uid: pod.metadata.uid.clone(),
                ..ObjectReference::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some(type_.into()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            }),
            ..Event::default()
        });
    }

    /// Namespaces: `default`, `kube-system` and those of pods and workloads, sorted.
    pub fn namespaces(&self) -> Vec<String> {
        let mut names: Vec<String> = ["default".to_string(), "kube-system".to_string()]
            .into_iter()
            .chain(
                self.pods
                    .iter()
                    .filter_map(|p| p.pod.metadata.namespace.clone()),
            )
            .chain(self.workloads.iter().map(|w| w.namespace.clone()))
            .chain(
                self.created_namespaces
                    .iter()
                    .filter_map(|n| n.metadata.name.clone()),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether `node` exists.
    pub fn has_node(&self, node: &str) -> bool {
        self.nodes
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some(node))
    }

    /// The pod `namespace/name`.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods.iter().map(|p| &p.pod).find(|p| {
            p.metadata.namespace.as_deref() == Some(namespace)
                && p.metadata.name.as_deref() == Some(name)
        })
    }

    fn add_implied_replicaset(
        &mut self,
        namespace: &str,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) {
        let exists = self.workloads.iter().any(|w| {
            w.kind == WorkloadKind::ReplicaSet && w.namespace == namespace && w.name == name
        });
        if exists {
            return;
        }
        let deployment = name.rsplit_once('-').map(|(d, _)| d).filter(|d| {
            self.workloads.iter().any(|w| {
                w.kind == WorkloadKind::Deployment && w.namespace == namespace && w.name == *d
            })
        });
        let labels: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut rs = Workload::new(WorkloadKind::ReplicaSet, namespace, name, &labels);
        rs.owner = deployment.map(|d| ("Deployment".to_string(), d.to_string()));
        self.workloads.push(rs);
    }
}

/// Why a pod cannot start on its node.
enum NodeBlock {
    /// Nothing: it starts.
    None,
    /// No kubelet runs there: it stays Pending, silently.
    NoKubelet,
    /// Its sandbox cannot be made: it stays Pending, with this event text.
    Sandbox(String),
    /// The kubelet rejects it: it does not tolerate this NoExecute taint.
    Taint(String),
}

/// A fresh random-looking token (time and a counter through FNV; unique per cluster in a process).
pub(super) fn random_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!(
        "{nanos}/{}/{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    objects::fake_hex(&seed, 40)
}

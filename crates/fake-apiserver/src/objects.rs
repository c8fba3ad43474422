//! The test-facing descriptions of pods and workloads, and the k8s-openapi objects built from them.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStatus,
    HostPathVolumeSource, Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo,
    Pod, PodCondition, PodSpec as CorePodSpec, PodStatus, PodTemplateSpec, Taint, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use k8s_openapi::jiff::Timestamp;

/// Phase of a pod given to the builder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// Scheduled and all containers running and ready.
    #[default]
    Running,
    /// Scheduled, containers not started.
    Pending,
}

/// Kind of a controller owning a pod.
#[allow(clippy::enum_variant_names)] // Kubernetes' kind names
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    /// `apps/v1` ReplicaSet (itself owned by a Deployment of the same name minus the hash).
    ReplicaSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
}

/// The controller of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Its kind.
    pub kind: OwnerKind,
    /// Its name (same namespace as the pod).
    pub name: String,
}

/// A hostPath volume mounted in every container of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPathMount {
    /// Path on the node, e.g. `/var/lib/kubelet/checkpoints`.
    pub host_path: String,
    /// Path in the containers, e.g. `/checkpoints`.
    pub mount_path: String,
}

/// A pod for [`super::FakeClusterBuilder::pod_with`]. Start from [`PodSpec::new`].
#[derive(Clone, Debug, Default)]
pub struct PodSpec {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.nodeName`; empty: not scheduled (stays Pending whatever `phase` says).
    pub node: String,
    /// Container names (image `quay.io/fake/<name>:latest`).
    pub containers: Vec<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `status.phase`.
    pub phase: Phase,
    /// Controller owner reference, if any.
    pub owner: Option<Owner>,
    /// hostPath volumes mounted in every container.
    pub host_paths: Vec<HostPathMount>,
    /// What each container has logged (`pods/log`), by container name.
    pub logs: BTreeMap<String, String>,
    /// Containers whose main process exits when they are checkpointed (as busybox 1.36's
    /// `sleep` does): the kubelet then restarts them, with a new container ID.
    pub exits_on_checkpoint: Vec<String>,
}

impl PodSpec {
    /// A Running pod with these containers, no labels, no owner.
    pub fn new(namespace: &str, name: &str, node: &str, containers: &[&str]) -> Self {
        Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
            node: node.to_string(),
            containers: containers.iter().map(|c| c.to_string()).collect(),
            ..Self::default()
        }
    }

    /// Adds a label.
    #[must_use]
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_string(), value.to_string());
        self
    }

    /// Adds an annotation.
    #[must_use]
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_string(), value.to_string());
        self
    }

    /// Sets the phase.
    #[must_use]
    pub fn phase(mut self, phase: Phase) -> Self {
        self.phase = phase;
        self
    }

    /// Sets the controller.
    #[must_use]
    pub fn owner(mut self, kind: OwnerKind, name: &str) -> Self {
        self.owner = Some(Owner {
            kind,
            name: name.to_string(),
        });
        self
    }

    /// Sets what `container` has logged.
    #[must_use]
    pub fn log(mut self, container: &str, text: &str) -> Self {
        self.logs.insert(container.to_string(), text.to_string());
        self
    }

    /// Makes `container` exit when it is checkpointed: shortly after the checkpoint the kubelet
    /// reports it restarted (restartCount + 1, a new containerID, lastState terminated
    /// `Completed` with exit code 0), as a container whose main process is busybox's `sleep`.
    #[must_use]
    pub fn exits_on_checkpoint(mut self, container: &str) -> Self {
        self.exits_on_checkpoint.push(container.to_string());
        self
    }

    /// Mounts hostPath `host_path` at `mount_path` in every container.
    #[must_use]
    pub fn host_path(mut self, host_path: &str, mount_path: &str) -> Self {
        self.host_paths.push(HostPathMount {
            host_path: host_path.to_string(),
            mount_path: mount_path.to_string(),
        });
        self
    }

    /// The Pod object (status filled in for Running; for Pending only the phase).
    pub(super) fn build(&self, uid: String, now: Timestamp) -> Pod {
        let volumes: Vec<Volume> = self
            .host_paths
            .iter()
            .enumerate()
            .map(|(i, m)| Volume {
                name: format!("host-{i}"),
                host_path: Some(HostPathVolumeSource {
                    path: m.host_path.clone(),
                    type_: None,
                }),
                ..Volume::default()
            })
            .collect();
        let mounts: Vec<VolumeMount> = self
            .host_paths
            .iter()
            .enumerate()
            .map(|(i, m)| VolumeMount {
                name: format!("host-{i}"),
                mount_path: m.mount_path.clone(),
                ..VolumeMount::default()
            })
            .collect();
        let containers = self
            .containers
            .iter()
            .map(|c| Container {
                name: c.clone(),
                image: Some(format!("quay.io/fake/{c}:latest")),
                volume_mounts: (!mounts.is_empty()).then(|| mounts.clone()),
                ..Container::default()
            })
            .collect();
        let owner_references = self.owner.as_ref().map(|o| {
            vec![OwnerReference {
                api_version: "apps/v1".to_string(),
                kind: match o.kind {
                    OwnerKind::ReplicaSet => "ReplicaSet",
                    OwnerKind::StatefulSet => "StatefulSet",
                    OwnerKind::DaemonSet => "DaemonSet",
                }
                .to_string(),
                name: o.name.clone(),
                uid: fake_uid(&format!("{}/{}", self.namespace, o.name)),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]
        });
        let mut pod = Pod {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(self.namespace.clone()),
                uid: Some(uid),
                labels: (!self.labels.is_empty()).then(|| self.labels.clone()),
                annotations: (!self.annotations.is_empty()).then(|| self.annotations.clone()),
                owner_references,
                creation_timestamp: Some(Time(now)),
                ..ObjectMeta::default()
            },
            spec: Some(CorePodSpec {
                containers,
                node_name: (!self.node.is_empty()).then(|| self.node.clone()),
                volumes: (!volumes.is_empty()).then_some(volumes),
                restart_policy: Some("Always".to_string()),
                ..CorePodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some("Pending".to_string()),
                ..PodStatus::default()
            }),
        };
        if self.phase == Phase::Running && !self.node.is_empty() {
            mark_running(&mut pod, now);
        }
        pod
    }
}

/// Sets a scheduled pod's status to Running with every container running and ready.
/// Container `container` of `pod` waits with `reason` and `message` (the pod stays Pending), as
/// the kubelet reports an image it cannot pull.
pub(super) fn mark_waiting(pod: &mut Pod, container: &str, reason: &str, message: &str) {
    let image = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .find(|c| c.name == container)
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let status = pod.status.get_or_insert_with(PodStatus::default);
    status.phase = Some("Pending".to_string());
    status.container_statuses = Some(vec![ContainerStatus {
        name: container.to_string(),
        image,
        ready: false,
        started: Some(false),
        state: Some(ContainerState {
            waiting: Some(k8s_openapi::api::core::v1::ContainerStateWaiting {
                reason: Some(reason.to_string()),
                message: Some(message.to_string()),
            }),
            ..ContainerState::default()
        }),
        ..ContainerStatus::default()
    }]);
}

pub(super) fn mark_running(pod: &mut Pod, now: Timestamp) {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let statuses = spec
        .containers
        .iter()
        .map(|c| ContainerStatus {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            image_id: format!(
                "{}@sha256:{}",
                c.image.clone().unwrap_or_default(),
                fake_hex(&c.name, 64)
            ),
            container_id: Some(format!(
                "cri-o://{}",
                fake_hex(&format!("{namespace}/{name}/{}", c.name), 64)
            )),
            ready: true,
            started: Some(true),
            restart_count: 0,
            state: Some(ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Time(now)),
                }),
                ..ContainerState::default()
            }),
            ..ContainerStatus::default()
        })
        .collect();
    let condition = |type_: &str| PodCondition {
        type_: type_.to_string(),
        status: "True".to_string(),
        last_transition_time: Some(Time(now)),
        ..PodCondition::default()
    };
    pod.status = Some(PodStatus {
        phase: Some("Running".to_string()),
        conditions: Some(vec![
            condition("PodScheduled"),
            condition("Initialized"),
            condition("ContainersReady"),
            condition("Ready"),
        ]),
        container_statuses: Some(statuses),
        host_ip: Some("10.0.0.10".to_string()),
        pod_ip: Some("10.244.0.10".to_string()),
        start_time: Some(Time(now)),
        qos_class: Some("BestEffort".to_string()),
        ..PodStatus::default()
    });
}

/// What the kubelet reports once `container` of `pod` exited at a checkpoint and was started
/// again: restartCount + 1, a new container ID, the old one in `lastState` (Completed, exit 0).
pub(super) fn mark_restarted(pod: &mut Pod, container: &str, now: Timestamp) {
    let Some(status) = pod
        .status
        .as_mut()
        .and_then(|s| s.container_statuses.as_mut())
        .and_then(|c| c.iter_mut().find(|c| c.name == container))
    else {
        return;
    };
    let old_id = status.container_id.clone();
    let started = status
        .state
        .as_ref()
        .and_then(|s| s.running.as_ref())
        .and_then(|r| r.started_at.clone());
    status.restart_count += 1;
    status.container_id = Some(format!(
        "cri-o://{}",
        fake_hex(
            &format!(
                "{}/{container}/{}",
                old_id.clone().unwrap_or_default(),
                status.restart_count
            ),
            64
        )
    ));
    status.last_state = Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            container_id: old_id,
            exit_code: 0,
            reason: Some("Completed".to_string()),
            started_at: started,
            finished_at: Some(Time(now)),
            ..ContainerStateTerminated::default()
        }),
        ..ContainerState::default()
    });
    status.state = Some(ContainerState {
        running: Some(ContainerStateRunning {
            started_at: Some(Time(now)),
        }),
        ..ContainerState::default()
    });
}

/// A node for [`super::FakeClusterBuilder::node_with`]: Ready with a kubelet unless told
/// otherwise. Start from [`FakeNode::new`].
#[derive(Clone, Debug)]
pub struct FakeNode {
    /// The node's name.
    pub name: String,
    /// Its Ready condition is True.
    pub ready: bool,
    /// A kubelet runs there: pods assigned to it start (without one they stay Pending).
    pub kubelet: bool,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// `spec.taints` as (key, value, effect).
    pub taints: Vec<(String, String, String)>,
    /// Pod sandboxes cannot be made there: pods stay Pending and the kubelet reports
    /// `FailedCreatePodSandBox` with this text, again every second.
    pub sandbox_failure: Option<String>,
    /// How long its kubelet takes for each checkpoint (a busy node, a large container).
    pub checkpoint_delay: Duration,
    /// `status.nodeInfo.containerRuntimeVersion` (`cri-o://1.31.0` unless set).
    pub runtime: String,
}

impl FakeNode {
    /// A Ready node with a kubelet.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ready: true,
            kubelet: true,
            unschedulable: false,
            taints: Vec::new(),
            sandbox_failure: None,
            checkpoint_delay: Duration::ZERO,
            runtime: "cri-o://1.31.0".to_string(),
        }
    }

    /// The node's container runtime, as its kubelet reports it (`containerd://2.1.9`).
    #[must_use]
    pub fn with_runtime(mut self, version: &str) -> Self {
        self.runtime = version.to_string();
        self
    }

    /// A node whose kubelet stopped posting status: NotReady (Unknown), with the
    /// `node.kubernetes.io/unreachable` taints the node controller adds, and no kubelet.
    #[must_use]
    pub fn without_kubelet(mut self) -> Self {
        self.ready = false;
        self.kubelet = false;
        for effect in ["NoSchedule", "NoExecute"] {
            self.taints.push((
                "node.kubernetes.io/unreachable".to_string(),
                String::new(),
                effect.to_string(),
            ));
        }
        self
    }

    /// A node still Ready whose kubelet just died: pods assigned to it stay Pending, without a
    /// word (the node controller has not noticed yet).
    #[must_use]
    pub fn silent(mut self) -> Self {
        self.kubelet = false;
        self
    }

    /// Cordons it (`spec.unschedulable`, with the taint the node controller adds).
    #[must_use]
    pub fn cordoned(mut self) -> Self {
        self.unschedulable = true;
        self.taints.push((
            "node.kubernetes.io/unschedulable".to_string(),
            String::new(),
            "NoSchedule".to_string(),
        ));
        self
    }

    /// Adds a taint.
    #[must_use]
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.taints
            .push((key.to_string(), value.to_string(), effect.to_string()));
        self
    }

    /// Makes its kubelet take `delay` for each checkpoint.
    #[must_use]
    pub fn checkpoint_delay(mut self, delay: Duration) -> Self {
        self.checkpoint_delay = delay;
        self
    }

    /// Makes every pod sandbox fail there with `message`.
    #[must_use]
    pub fn sandbox_failure(mut self, message: &str) -> Self {
        self.sandbox_failure = Some(message.to_string());
        self
    }

    /// The Node object.
    pub(super) fn build(&self, index: usize, uid: String, now: Timestamp) -> Node {
        let mut node = build_node(&self.name, index, uid, now);
        if let Some(info) = node.status.as_mut().and_then(|s| s.node_info.as_mut()) {
            info.container_runtime_version = self.runtime.clone();
        }
        if !self.taints.is_empty() || self.unschedulable {
            node.spec = Some(NodeSpec {
                unschedulable: self.unschedulable.then_some(true),
                taints: (!self.taints.is_empty()).then(|| {
                    self.taints
                        .iter()
                        .map(|(key, value, effect)| Taint {
                            key: key.clone(),
                            value: (!value.is_empty()).then(|| value.clone()),
                            effect: effect.clone(),
                            time_added: None,
                        })
                        .collect()
                }),
                ..NodeSpec::default()
            });
        }
        if !self.ready {
            if let Some(condition) = node
                .status
                .as_mut()
                .and_then(|s| s.conditions.as_mut())
                .and_then(|c| c.first_mut())
            {
                condition.status = "Unknown".to_string();
                condition.reason = Some("NodeStatusUnknown".to_string());
                condition.message = Some("Kubelet stopped posting node status.".to_string());
            }
        }
        node
    }
}

/// A Ready node.
pub(super) fn build_node(name: &str, index: usize, uid: String, now: Timestamp) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            uid: Some(uid),
            labels: Some(BTreeMap::from([
                ("kubernetes.io/hostname".to_string(), name.to_string()),
                ("kubernetes.io/os".to_string(), "linux".to_string()),
            ])),
            creation_timestamp: Some(Time(now)),
            ..ObjectMeta::default()
        },
        spec: None,
        status: Some(NodeStatus {
            addresses: Some(vec![
                NodeAddress {
                    type_: "InternalIP".to_string(),
                    address: format!("10.0.0.{}", 10 + index),
                },
                NodeAddress {
                    type_: "Hostname".to_string(),
                    address: name.to_string(),
                },
            ]),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".to_string(),
                status: "True".to_string(),
                reason: Some("KubeletReady".to_string()),
                message: Some("kubelet is posting ready status".to_string()),
                last_transition_time: Some(Time(now)),
                last_heartbeat_time: Some(Time(now)),
            }]),
            node_info: Some(NodeSystemInfo {
                architecture: "amd64".to_string(),
                boot_id: fake_uid(&format!("boot/{name}")),
                container_runtime_version: "cri-o://1.31.0".to_string(),
                kernel_version: "6.1.0".to_string(),
                kube_proxy_version: "v1.31.4".to_string(),
                kubelet_version: "v1.31.4".to_string(),
                machine_id: fake_hex(&format!("machine/{name}"), 32),
                operating_system: "linux".to_string(),
                os_image: "Debian GNU/Linux 12 (bookworm)".to_string(),
                system_uuid: fake_uid(&format!("system/{name}")),
                ..NodeSystemInfo::default()
            }),
            ..NodeStatus::default()
        }),
    }
}

/// Kind of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// `deployments`.
    Deployment,
    /// `statefulsets`.
    StatefulSet,
    /// `daemonsets`.
    DaemonSet,
    /// `replicasets`.
    ReplicaSet,
}

impl WorkloadKind {
    /// The resource name in `/apis/apps/v1`.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
            WorkloadKind::ReplicaSet => "replicasets",
        }
    }

    /// Parses a resource name of `/apis/apps/v1`.
    pub fn from_resource(resource: &str) -> Option<Self> {
        [
            Self::Deployment,
            Self::StatefulSet,
            Self::DaemonSet,
            Self::ReplicaSet,
        ]
        .into_iter()
        .find(|k| k.resource() == resource)
    }
}

/// An `apps/v1` workload: kind, namespace, name, selector labels (`matchLabels`, also the template's).
#[derive(Clone, Debug)]
pub struct Workload {
    /// Kind.
    pub kind: WorkloadKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Selector labels.
    pub labels: BTreeMap<String, String>,
    /// Controller owner reference (a ReplicaSet's Deployment), as (kind, name).
    pub owner: Option<(String, String)>,
}

impl Workload {
    /// A workload with no owner.
    pub fn new(kind: WorkloadKind, namespace: &str, name: &str, labels: &[(&str, &str)]) -> Self {
        Self {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            owner: None,
        }
    }

    /// The JSON object (Deployment, StatefulSet, DaemonSet or ReplicaSet) with `spec.selector`.
    pub(super) fn build(&self, now: Timestamp) -> serde_json::Value {
        let metadata = ObjectMeta {
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            uid: Some(fake_uid(&format!("{}/{}", self.namespace, self.name))),
            labels: Some(self.labels.clone()),
            creation_timestamp: Some(Time(now)),
            owner_references: self.owner.as_ref().map(|(kind, name)| {
                vec![OwnerReference {
                    api_version: "apps/v1".to_string(),
                    kind: kind.clone(),
                    name: name.clone(),
                    uid: fake_uid(&format!("{}/{}", self.namespace, name)),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }]
            }),
            ..ObjectMeta::default()
        };
        let selector = LabelSelector {
            match_labels: Some(self.labels.clone()),
            match_expressions: None,
        };
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(self.labels.clone()),
                ..ObjectMeta::default()
            }),
            spec: None,
        };
        let value = match self.kind {
            WorkloadKind::Deployment => serde_json::to_value(Deployment {
                metadata,
                spec: Some(DeploymentSpec {
                    replicas: Some(1),
                    selector,
                    template,
                    ..DeploymentSpec::default()
                }),
                status: None,
            }),
            WorkloadKind::StatefulSet => serde_json::to_value(StatefulSet {
                metadata,
                spec: Some(StatefulSetSpec {
                    replicas: Some(1),
                    selector,
                    template,
                    service_name: Some(self.name.clone()),
                    ..StatefulSetSpec::default()
                }),
                status: None,
            }),
            WorkloadKind::DaemonSet => serde_json::to_value(DaemonSet {
                metadata,
                spec: Some(DaemonSetSpec {
                    selector,
                    template,
                    ..DaemonSetSpec::default()
                }),
                status: None,
            }),
            WorkloadKind::ReplicaSet => serde_json::to_value(ReplicaSet {
                metadata,
                spec: Some(ReplicaSetSpec {
                    replicas: Some(1),
                    selector,
                    template: Some(template),
                    ..ReplicaSetSpec::default()
                }),
                status: None,
            }),
        };
        value.unwrap_or(serde_json::Value::Null)
    }
}

/// A stable UUID-shaped id derived from `seed`.
pub(super) fn fake_uid(seed: &str) -> String {
    let h = fake_hex(seed, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `len` stable hex digits derived from `seed` (FNV-1a, repeated).
pub(super) fn fake_hex(seed: &str, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut round: u64 = 0;
    while out.len() < len {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
        for byte in seed.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{hash:016x}"));
        round += 1;
    }
    out.truncate(len);
    out
}

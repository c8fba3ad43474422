//! A fake Kubernetes API server, with a fake kubelet behind its nodes proxy, for integration tests.
//!
//! It speaks the real wire protocols so that both our plugin and the real `/usr/bin/kubectl` can talk
//! to it: HTTPS with a CA and a leaf certificate made at start (SAN `IP:127.0.0.1`, `DNS:localhost`),
//! bearer-token auth on every request, discovery (`/version`, `/api`, `/api/v1`, `/apis`,
//! `/apis/apps/v1`, and the aggregated v2 form of `/api` and `/apis` when asked for), pods (get, list with label and field
//! selectors, watch, create, graceful delete, Table printing, logs with timestamps, image pulls that fail), nodes (get, list, with
//! their container runtime), namespaces and NetworkPolicies (create), deployments / statefulsets / daemonsets /
//! replicasets (get, list), the kubelet checkpoint API through
//! `POST /api/v1/nodes/{node}/proxy/checkpoint/{ns}/{pod}/{container}`, and exec over websockets
//! (`v5.channel.k8s.io`, `v4.channel.k8s.io`) that runs the command for real on this machine.
//! Beside it, [`FakeRegistry`]: an OCI registry (plain HTTP on 127.0.0.1, Basic or Bearer auth,
//! chunked and monolithic blob uploads, manifests) for the checkpoint-image verbs.
//!
//! # Nodes and host paths
//! Each node has a root directory standing for its filesystem; [`FakeCluster::node_dir`] is its
//! `/var/lib/kubelet/checkpoints` (0700). A pod's `hostPath` volume `P` maps to `<node root>/P`.
//!
//! Exec runs the command for real. Where the machine allows it (root with mount privileges, as on
//! the team's machine and CI), each command gets a container view: a private mount namespace, a
//! copy-on-write overlay of the host's `/` (its writes vanish), the host's `/dev`, `/proc`, `/sys`,
//! `/tmp`, and each hostPath bind-mounted at its `mountPath`; then `chroot`, cwd `/`. Paths in the
//! command and in its output are the container's, exactly as in a real pod.
//! Otherwise ([`FakeCluster::isolated_exec`] false) the command runs in a per-container directory
//! holding a symlink at each (relative) mount path, with every whole-path occurrence of a mount
//! path in the arguments made relative: reads and tar member names still match, but paths a
//! command prints come out relative.
//!
//! # Load
//! [`FakeClusterBuilder::request_latency`] delays every request and [`FakeNode::checkpoint_delay`]
//! each checkpoint on one node; [`FakeCluster::load`] says how many requests and checkpoints were
//! in flight at once and when each checkpoint ran (the fan-out tests and benchmark read it).
//!
//! # Runtime
//! [`FakeClusterBuilder::start`] is synchronous and runs the server on its own thread with its own
//! tokio runtime, so it works from plain `#[test]` and from `#[tokio::test]` alike. Dropping the
//! [`FakeCluster`] stops the server and removes its directories.
//!
//! # Usage
//! ```ignore
//! mod support;
//! use support::fake_apiserver::{FakeCluster, Fault};
//! let cluster = FakeCluster::builder()
//!     .node("node-a")
//!     .pod("demo", "counters-857d7978fd-jnkck", "node-a", &["counter"])
//!     .start();
//! let kubeconfig = cluster.write_kubeconfig(dir.path());
//! cluster.set_fault(Fault::Runtime500("checkpoint/restore support not available".into()));
//! assert!(cluster.requests().iter().any(|r| r.method == "POST"));
//! ```

mod discovery;
mod exec;
mod kubeconfig;
mod kubelet;
mod load;
mod objects;
mod registry;
mod respond;
mod selector;
mod server;
mod state;
mod table;
mod tls;
mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

pub use load::{CheckpointSpan, LoadReport};
pub use registry::{FakeRegistry, RegistryAuth, RegistryRequest};

#[allow(unused_imports)] // each test binary uses a different part of the interface
pub use objects::{
    FakeNode, HostPathMount, Owner, OwnerKind, Phase, PodSpec, Workload, WorkloadKind,
};

/// A failure the fake cluster plays until [`FakeCluster::clear_faults`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every request gets the API server's 401 Status, as with a revoked token.
    Unauthorized,
    /// The API server denies `create` on `nodes/proxy` (403 Status JSON).
    Forbidden403,
    /// The kubelet denies the API server's identity `nodes/checkpoint` (403 kubelet text).
    KubeletForbidden,
    /// The kubelet has no checkpoint route: the ContainerCheckpoint feature gate is off.
    GateOff404,
    /// The container runtime fails the checkpoint with this error text (kubelet 500).
    Runtime500(String),
    /// Exec streams are cut (TCP close, no close frame) after this many stdout bytes.
    DropExecStreamAfter(u64),
    /// Exec stdout is sent at most this many bytes per second.
    ThrottleExec(u64),
    /// The API server takes every request (TLS and HTTP) and never answers it, as an
    /// overloaded or wedged server does.
    HangRequests,
    /// The kubelet takes this long to checkpoint; it finishes (and writes the archive) even
    /// when the client has gone, as a real kubelet does.
    SlowCheckpoint(Duration),
}

/// One request as the fake server received it. Tokens are never stored.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path and query exactly as sent, e.g. `/api/v1/namespaces/demo/pods?labelSelector=app%3Dx`.
    pub path_and_query: String,
    /// Whether the request carried the right bearer token.
    pub authorized: bool,
    /// The `Accept` header, if any.
    pub accept: Option<String>,
    /// The request body (empty for upgrades and bodiless requests).
    pub body: Vec<u8>,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The `Impersonate-User` header, if any.
    pub impersonate_user: Option<String>,
    /// Every `Impersonate-Group` header, in order.
    pub impersonate_groups: Vec<String>,
}

impl RecordedRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(p, _)| p)
    }

    /// All values of query parameter `key`, percent-decoded.
    pub fn query_values(&self, key: &str) -> Vec<String> {
        let query = self.path_and_query.split_once('?').map_or("", |(_, q)| q);
        form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .collect()
    }
}

/// Builds a [`FakeCluster`]: nodes, pods, workloads, the checkpoint archive the kubelet "writes".
#[must_use]
pub struct FakeClusterBuilder {
    nodes: Vec<FakeNode>,
    pods: Vec<PodSpec>,
    workloads: Vec<Workload>,
    fixture: PathBuf,
    pod_start_delay: Duration,
    namespace: String,
    aggregated_discovery: bool,
    restricted_namespaces: Vec<String>,
    request_latency: Duration,
}

impl FakeClusterBuilder {
    /// Labels `namespace` `pod-security.kubernetes.io/enforce=baseline`: pods with hostPath
    /// volumes are refused there, as Pod Security admission does.
    pub fn baseline_namespace(mut self, namespace: &str) -> Self {
        self.restricted_namespaces.push(namespace.to_string());
        self
    }

    /// Adds a node (Ready, cri-o, kubelet v1.31) with its own checkpoint directory.
    pub fn node(self, name: &str) -> Self {
        self.node_with(FakeNode::new(name))
    }

    /// Adds a node described in full (NotReady, without a kubelet, cordoned, tainted, failing
    /// its pod sandboxes), with its own checkpoint directory.
    pub fn node_with(mut self, node: FakeNode) -> Self {
        self.nodes.push(node);
        self
    }

    /// Adds a Running pod with these containers on `node`.
    pub fn pod(self, namespace: &str, name: &str, node: &str, containers: &[&str]) -> Self {
        self.pod_with(PodSpec::new(namespace, name, node, containers))
    }

    /// Adds a pod described in full (labels, annotations, phase, owner, hostPath mounts).
    pub fn pod_with(mut self, pod: PodSpec) -> Self {
        self.pods.push(pod);
        self
    }

    /// Adds a Deployment whose selector (and template) has these labels.
    pub fn deployment(self, namespace: &str, name: &str, labels: &[(&str, &str)]) -> Self {
        self.workload(Workload::new(
            WorkloadKind::Deployment,
            namespace,
            name,
            labels,
        ))
    }

    /// Adds a StatefulSet whose selector has these labels.
    pub fn statefulset(self, namespace: &str, name: &str, labels: &[(&str, &str)]) -> Self {
        self.workload(Workload::new(
            WorkloadKind::StatefulSet,
            namespace,
            name,
            labels,
        ))
    }

    /// Adds a DaemonSet whose selector has these labels.
    pub fn daemonset(self, namespace: &str, name: &str, labels: &[(&str, &str)]) -> Self {
        self.workload(Workload::new(
            WorkloadKind::DaemonSet,
            namespace,
            name,
            labels,
        ))
    }

    /// Adds a ReplicaSet whose selector has these labels (ReplicaSets named by pod owners are
    /// added on their own, owned by the Deployment whose name is theirs minus the hash).
    pub fn replicaset(self, namespace: &str, name: &str, labels: &[(&str, &str)]) -> Self {
        self.workload(Workload::new(
            WorkloadKind::ReplicaSet,
            namespace,
            name,
            labels,
        ))
    }

    /// Adds any workload.
    pub fn workload(mut self, workload: Workload) -> Self {
        self.workloads.push(workload);
        self
    }

    /// The archive the fake kubelet copies on checkpoint (default: the CRI-O fixture).
    pub fn checkpoint_fixture(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixture = path.into();
        self
    }

    /// How long created pods stay Pending before they run (default 200 ms).
    pub fn pod_start_delay(mut self, delay: Duration) -> Self {
        self.pod_start_delay = delay;
        self
    }

    /// How long every request waits before it is served (default none): the round trip to a
    /// distant or busy API server.
    pub fn request_latency(mut self, latency: Duration) -> Self {
        self.request_latency = latency;
        self
    }

    /// Whether `/api` and `/apis` answer aggregated discovery (v2) when asked, as API servers
    /// >= 1.30 do (default true); false plays an older server and clients fall back.
    pub fn aggregated_discovery(mut self, on: bool) -> Self {
        self.aggregated_discovery = on;
        self
    }

    /// The namespace of the kubeconfig context (default `default`).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.to_string();
        self
    }

    /// Starts the server on 127.0.0.1 (a free port) on its own thread and runtime.
    ///
    /// # Panics
    /// When the machine cannot bind a socket or create directories (a broken test machine).
    pub fn start(self) -> FakeCluster {
        let root = tempfile::tempdir().expect("fake cluster: create temp dir");
        let token = state::random_token();
        let tls = tls::TlsMaterial::generate().expect("fake cluster: make certificates");
        let isolated_exec = exec::probe_isolation(&root.path().join("exec").join("probe"));
        let shared = Arc::new(state::Shared::new(
            root.path().to_path_buf(),
            token.clone(),
            isolated_exec,
            &self,
        ));
        let handle = server::spawn(Arc::clone(&shared), &tls).expect("fake cluster: start server");
        FakeCluster {
            shared,
            addr: handle.addr,
            ca_pem: tls.ca_pem,
            token,
            namespace: self.namespace,
            server: Some(handle),
            _root: root,
        }
    }
}

/// A running fake cluster; see the module docs.
pub struct FakeCluster {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    ca_pem: String,
    token: String,
    namespace: String,
    server: Option<server::ServerHandle>,
    _root: tempfile::TempDir,
}

impl FakeCluster {
    /// A builder with no nodes, pods or workloads.
    pub fn builder() -> FakeClusterBuilder {
        FakeClusterBuilder {
            nodes: Vec::new(),
            pods: Vec::new(),
            workloads: Vec::new(),
            // The repository's sample archive, two levels above this crate.
            fixture: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar"),
            pod_start_delay: Duration::from_millis(200),
            namespace: "default".to_string(),
            aggregated_discovery: true,
            restricted_namespaces: Vec::new(),
            request_latency: Duration::ZERO,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The CA certificate (PEM) that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes `dir/kubeconfig` (0600): cluster `fake` (CA data), user `fake` (token), context `fake`
    /// with the builder's namespace, current-context `fake`.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        self.write_kubeconfig_with_token(dir, &self.token)
    }

    /// Like [`Self::write_kubeconfig`] with another token (to test rejection).
    pub fn write_kubeconfig_with_token(&self, dir: &Path, token: &str) -> PathBuf {
        kubeconfig::write(dir, &self.url(), &self.ca_pem, token, &self.namespace)
            .expect("fake cluster: write kubeconfig")
    }

    /// The host directory standing for `node`'s `/var/lib/kubelet/checkpoints`.
    ///
    /// # Panics
    /// When the node was not added to the builder.
    pub fn node_dir(&self, node: &str) -> PathBuf {
        assert!(
            self.lock_state()
                .nodes
                .iter()
                .any(|n| n.metadata.name.as_deref() == Some(node)),
            "fake cluster has no node {node}"
        );
        self.shared.node_checkpoint_dir(node)
    }

    /// Whether exec gives commands the container view (see the module docs).
    pub fn isolated_exec(&self) -> bool {
        self.shared.isolated_exec
    }

    /// Adds a fault (several may be active).
    pub fn set_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Refuses the next `n` exec requests with the API server's `500 error dialing backend`, as
    /// while a kubelet restarts.
    pub fn refuse_exec(&self, n: u32) {
        self.shared
            .exec_refusals
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// The events recorded so far (core/v1).
    pub fn events(&self) -> Vec<k8s_openapi::api::core::v1::Event> {
        self.lock_state().events.clone()
    }

    /// Changes pod `namespace/name` as `change` says (as `kubectl patch` or an attacker with
    /// `patch pods` would), giving it a new resourceVersion.
    pub fn modify_pod(&self, namespace: &str, name: &str, change: impl FnOnce(&mut Pod)) {
        let mut state = self.lock_state();
        let version = state.next_resource_version();
        if let Some(stored) = state.pods.iter_mut().find(|p| {
            p.pod.metadata.namespace.as_deref() == Some(namespace)
                && p.pod.metadata.name.as_deref() == Some(name)
        }) {
            change(&mut stored.pod);
            stored.pod.metadata.resource_version = Some(version);
        }
    }

    /// Pulls of `image` fail from now on with `message` (the registry's words): pods with it
    /// stay Pending, their container waiting in `ErrImagePull`, with the kubelet's events.
    pub fn fail_image_pulls(&self, image: &str, message: &str) {
        self.lock_state()
            .pull_failures
            .push((image.to_string(), message.to_string()));
    }

    /// The log of container `container` of pod `namespace/name` (which may not exist yet), as
    /// lines with their CRI timestamps: `pods/log?timestamps=true` shows them.
    pub fn set_timed_log(
        &self,
        namespace: &str,
        name: &str,
        container: &str,
        lines: &[(k8s_openapi::jiff::Timestamp, &str)],
    ) {
        self.lock_state().timed_logs.insert(
            (
                namespace.to_string(),
                name.to_string(),
                container.to_string(),
            ),
            lines.iter().map(|(t, l)| (*t, (*l).to_string())).collect(),
        );
    }

    /// The namespaces created through the API.
    pub fn created_namespaces(&self) -> Vec<k8s_openapi::api::core::v1::Namespace> {
        self.lock_state().created_namespaces.clone()
    }

    /// The NetworkPolicies created through the API.
    pub fn network_policies(&self) -> Vec<k8s_openapi::api::networking::v1::NetworkPolicy> {
        self.lock_state().network_policies.clone()
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The load measured so far: peak requests and checkpoints in flight, and when each
    /// checkpoint ran.
    pub fn load(&self) -> LoadReport {
        self.shared.load.report()
    }

    /// The pods as they are now (created ones included, deleted ones gone).
    pub fn pods(&self) -> Vec<Pod> {
        let mut state = self.lock_state();
        state.refresh();
        state.pods.iter().map(|p| p.pod.clone()).collect()
    }

    fn lock_state(&self) -> MutexGuard<'_, state::State> {
        lock(&self.shared.state)
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

/// A TCP server on 127.0.0.1 that accepts every connection and never says a word (no TLS
/// handshake, no answer), as a wedged API server or a wrong port behind a load balancer.
/// Dropping it closes the connections.
pub struct SilentServer {
    addr: SocketAddr,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    /// Starts listening on a free port.
    ///
    /// # Panics
    /// When the machine cannot bind a socket.
    pub fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("silent server: bind");
        listener
            .set_nonblocking(true)
            .expect("silent server: nonblocking");
        let addr = listener.local_addr().expect("silent server: address");
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            loop {
                match stopped.recv_timeout(Duration::from_millis(20)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                while let Ok((stream, _)) = listener.accept() {
                    held.push(stream);
                }
            }
        });
        SilentServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not hide the first failure).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

//! Talking to Kubernetes: loading the kubeconfig, resolving targets to pods and containers, the
//! checkpoint POST through the nodes proxy, helper pods on nodes, files streamed over exec
//! with a chain-of-custody record, and pods that restore a checkpoint image (`restore`).
//!
//! Everything here is async and runs on the runtime the `cli` verb starts; nothing here prints:
//! what an operation waits for, its retries and its warnings go to a [`Reporter`]. Request
//! building (`build_*`) and answer parsing (`decode_*`) are pure and unit-tested; the
//! `collect_*` functions touch the network. API failures become [`Advice`] in one place,
//! [`advise`], so that every verb tells the user what to do about a 401, 403, 404 or 500.
//! Transient failures (a restarting kubelet) are retried where that is safe, see `retry`.
//!
//! Credentials stay inside the `kube` client: no error or log line here carries a token.

mod advice;
mod agent;
mod capture;
mod checkpoint;
mod clock;
mod connect;
mod exec;
mod fan_out;
mod helper;
mod listing;
mod local_state;
mod partial;
mod reporter;
mod restart;
mod restore;
mod retry;
mod target;
mod transfer;
mod transport;

pub use advice::{advise, Advice, Call, Problem};
pub use agent::{
    build_agent_command, collect_node_platform, decode_exit_code, decode_io_line, our_architecture,
    AgentBinary, AgentRefusal, AgentRun, IO_LINE_PREFIX, IO_REPORT_ENV,
};
pub use capture::{collect_checkpoints, CaptureParams, Captured, FetchPlan};
pub use checkpoint::{
    build_checkpoint_path, build_checkpoint_request, collect_checkpoint,
    decode_checkpoint_response, CheckpointRecord, ContainerRef,
};
pub use connect::{
    collect_contexts, collect_identity, connect, ConnectParams, Connection, Identity,
    KubeconfigProblem, CONNECT_TIMEOUT, DEFAULT_PARALLEL, USER_AGENT,
};
pub use exec::ExecOutput;
pub use helper::{
    build_helper_pod, build_tolerations, check_helper_spec, check_node_ready, judge_node,
    tolerates, with_helper, with_helpers, Helper, HelperParams, HelperScope, AGENT_DIR,
    CHECKPOINT_DIR, HELPER_LABEL,
};
pub use listing::{
    build_delete_command, build_list_command, build_stat_command, check_archive_name,
    check_namespace, collect_archive_facts, collect_listings, collect_namespaces,
    collect_node_objects, collect_nodes, decode_checkpoint_name, decode_delete_output,
    decode_listing, delete_archive, delete_checked, ArchiveName, DeleteOutcome, ListedArchive,
    NodeListing,
};
pub use partial::part_path;
pub use reporter::{Progress, Reporter, Silent};
pub use restart::{
    apply_restart_check, collect_restart_checks, judge_restart, read_snapshot, ContainerSnapshot,
    RestartCheck,
};
pub use restore::{
    advise_restore, build_deny_all_policy, build_label_value, build_quarantine_namespace,
    build_restore_pod, collect_migrating_pod, collect_pod_events, collect_restore_evidence,
    collect_restore_node, create_restore, decode_runtime, delete_migrated_pod,
    judge_restore_evidence, judge_restore_node, judge_restore_state, watch_restore, NodeRuntime,
    RestoreEvidence, RestoreFailure, RestoreParams, RestoreState, DENY_ALL_POLICY,
    PROVENANCE_PREFIX, RESTORE_LABEL,
};
pub use retry::{transient_reason, Backoff};
pub use target::{
    build_selector, choose_container, collect_pods, collect_running_pods, collect_workload_names,
    parse_target, pod_ref, ContainerChoice, Target, WorkloadKind,
};
pub use transfer::{
    build_dest, build_stream_command, check_dest, check_dest_dir, collect_archive, parse_node_path,
    record_node_deletion, FetchParams, FetchRecord, FetchTiming, NodePath, Verify,
};
pub use transport::{RequestLog, RequestTimedOut};

use std::path::PathBuf;
use std::time::Duration;

/// Errors of this module. Each names the object (pod, container, node, file) it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig, or the flags that choose from it, cannot be used; said in kubectl's words.
    #[error("{0}")]
    Kubeconfig(KubeconfigProblem),
    /// The client could not be built from the configuration (TLS, proxy, auth plugin).
    #[error("building the Kubernetes client: {0}")]
    BuildClient(#[source] kube::Error),
    /// The API server (or the kubelet behind it) refused a request; the advice says what to do.
    #[error("{what}: {advice}")]
    Api {
        /// The action and object, e.g. `checkpoint of pod demo/p, container c on node n`.
        what: String,
        /// The server's answer and what to do about it.
        advice: Advice,
    },
    /// A request failed before an answer came (connection, TLS, protocol). The message says it
    /// in kubectl's words; kube's own text is added only when there are none for it (it is not
    /// a cause in the chain, so that `UnknownIssuer` and the like never reach the user).
    #[error("{what}: {}", describe_request_failure(server.as_ref(), failure))]
    Request {
        /// The action and object.
        what: String,
        /// The API server it went to and its connect timeout, when known.
        server: Option<(String, Duration)>,
        /// What kube reported.
        failure: Box<kube::Error>,
    },
    /// A request got no answer within `--request-timeout`.
    #[error("{what}: no answer from the server {server} within {} (--request-timeout)", transport::describe_duration(*.limit))]
    RequestTimeout {
        /// The action and object.
        what: String,
        /// The API server.
        server: String,
        /// The limit that passed.
        limit: std::time::Duration,
    },
    /// An action took longer than allowed.
    #[error("{what}: no answer within {seconds} s (raise --timeout if the container is large)")]
    Timeout {
        /// The action and object.
        what: String,
        /// The limit that passed.
        seconds: u64,
    },
    /// The TARGET or selector could not be used.
    #[error("{0}")]
    Target(String),
    /// The pod has no node yet, or no longer runs.
    #[error("pod {namespace}/{pod} {state}; only running pods can be checkpointed")]
    PodNotRunning {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        pod: String,
        /// Its state in words (`is Pending and not scheduled to a node`).
        state: String,
    },
    /// The pod has several containers and none was chosen.
    #[error("pod {namespace}/{pod} has several containers ({}); choose one with -c CONTAINER or use --all-containers", containers.join(", "))]
    ChooseContainer {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        pod: String,
        /// Its containers.
        containers: Vec<String>,
    },
    /// The container asked for is not in the pod.
    #[error("pod {namespace}/{pod} has no container {container:?} (it has: {})", containers.join(", "))]
    NoSuchContainer {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        pod: String,
        /// The container asked for.
        container: String,
        /// The pod's containers.
        containers: Vec<String>,
    },
    /// A `NODE:PATH` argument is malformed or points outside the checkpoint directory.
    #[error("{input:?}: {reason}")]
    NodePath {
        /// What the user typed.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The node named does not exist.
    #[error("node {node} does not exist (kubectl get nodes lists them)")]
    NoSuchNode {
        /// The node asked for.
        node: String,
    },
    /// The namespace named does not exist.
    #[error("namespace {namespace:?} not found (kubectl get namespaces lists them)")]
    NoSuchNamespace {
        /// The namespace asked for.
        namespace: String,
    },
    /// The node cannot run a helper pod now (its kubelet is not Ready).
    #[error("node {node} cannot run the helper pod: {reason}")]
    NodeUnusable {
        /// The node.
        node: String,
        /// Why, from its conditions.
        reason: String,
    },
    /// A file on a node that `delete` will not remove without `--force`.
    #[error("{node}:{path} is not a checkpoint archive ({reason}); it was not deleted: pass --force to delete it anyway")]
    NotAnArchive {
        /// The node.
        node: String,
        /// The file on the node.
        path: String,
        /// Why it does not look like one.
        reason: String,
    },
    /// A file on a node that is not there (any more).
    #[error("{node}:{path} does not exist (already deleted?); `kubectl checkpoint list --node {node}` shows the node's archives")]
    ArchiveGone {
        /// The node.
        node: String,
        /// The file on the node.
        path: String,
    },
    /// The node has no checkpoint directory, so the helper cannot mount it.
    #[error("node {node} has no {CHECKPOINT_DIR}: no checkpoint was ever taken there")]
    NoCheckpointDir {
        /// The node.
        node: String,
    },
    /// A local file may not be written.
    #[error("{} {reason}", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The helper pod on a node did not come up.
    #[error("helper pod {namespace}/{pod} on node {node}: {reason}")]
    Helper {
        /// The helper's namespace.
        namespace: String,
        /// The helper's name.
        pod: String,
        /// Its node.
        node: String,
        /// What went wrong, with the fix.
        reason: String,
    },
    /// The node agent was not run, or did not finish.
    #[error("node {node}: {refusal}")]
    Agent {
        /// The node.
        node: String,
        /// Why.
        refusal: AgentRefusal,
    },
    /// A command in the helper pod failed.
    #[error("{what} on node {node}: {message}")]
    Exec {
        /// The node the helper runs on.
        node: String,
        /// What the command was for.
        what: String,
        /// The command's error output or status.
        message: String,
    },
    /// Copying an archive off a node failed after all retries, or its checksum did not match.
    #[error("fetching {node}:{path}: {reason}")]
    Transfer {
        /// The node.
        node: String,
        /// The archive path on the node.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Writing a local file failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An answer from the server could not be decoded.
    #[error("unexpected answer to {what}: {reason}")]
    Decode {
        /// The request.
        what: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// The node cannot restore a checkpoint (checked before anything is created).
    #[error("cannot restore on {node}: {reason}")]
    RestoreRefused {
        /// The node (or `any node`).
        node: String,
        /// Why, with the runtime it runs.
        reason: String,
    },
    /// The restored pod's container did not start.
    #[error("pod {namespace}/{pod} did not start: {}: {}", failure.reason, failure.message)]
    RestoreFailed {
        /// The pod's namespace.
        namespace: String,
        /// The pod.
        pod: String,
        /// The kubelet's reason and message, and our advice.
        failure: RestoreFailure,
    },
    /// The user pressed Ctrl-C: what was under way, and what stays behind.
    #[error("{0}")]
    Interrupted(Interruption),
}

/// What a Ctrl-C left behind: the helper pods removed, and the checkpoints the kubelets were
/// still taking (a kubelet finishes a checkpoint whose client went away, and writes its
/// archive). A partial copy of a fetch stays as `DEST.part` (the CLI says where).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interruption {
    /// How many helper pods this run created and removed.
    pub helpers_removed: usize,
    /// The checkpoints requested and not answered yet.
    pub pending: Vec<ContainerRef>,
}

impl std::fmt::Display for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted")?;
        match self.helpers_removed {
            0 => {}
            1 => write!(f, "; the helper pod this run created was removed")?,
            n => write!(f, "; the {n} helper pods this run created were removed")?,
        }
        for target in &self.pending {
            write!(
                f,
                "; the kubelet on node {node} may still finish the checkpoint of pod {ns}/{pod}, container {container}, and write it to {node}:{dir}/checkpoint-{pod}_{ns}-{container}-<time>.tar (`kubectl checkpoint list --node {node}` shows it, `kubectl checkpoint delete` removes it)",
                node = target.node,
                ns = target.namespace,
                pod = target.pod,
                container = target.container,
                dir = CHECKPOINT_DIR,
            )?;
        }
        Ok(())
    }
}

impl Error {
    /// What the user can do about this error, in our own words and possibly on several lines
    /// (an RBAC rule as YAML to copy): shown after the message, on lines of its own and not
    /// escaped, since nothing in it comes from the server.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Api { advice, .. } => advice.hint.as_deref(),
            Error::RestoreFailed { failure, .. } => Some(&failure.advice),
            _ => None,
        }
    }
}

/// Results of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a kube error of the request described by `what` into our error, with advice for API
/// statuses.
pub(crate) fn from_kube(what: String, call: Call, err: kube::Error) -> Error {
    match err {
        kube::Error::Api(status) => Error::Api {
            what,
            advice: advise(&status, call),
        },
        // A refused exec upgrade keeps only its status code.
        kube::Error::UpgradeConnection(kube::client::UpgradeConnectionError::ProtocolSwitch(
            code,
        )) => {
            let status = kube::core::Status::failure(
                &format!(
                    "exec refused ({})",
                    code.canonical_reason().unwrap_or("no reason given")
                ),
                code.canonical_reason().unwrap_or(""),
            )
            .with_code(code.as_u16());
            Error::Api {
                what,
                advice: advise(&status, call),
            }
        }
        source => match transport::timed_out(&source) {
            Some(limit) => Error::RequestTimeout {
                what,
                server: connect::current_server()
                    .map(|(server, _)| server)
                    .unwrap_or_else(|| "(unknown)".to_string()),
                limit,
            },
            None => Error::Request {
                what,
                server: connect::current_server(),
                failure: Box::new(source),
            },
        },
    }
}

/// kubectl's words for a request that got no answer: name the server, say "refused" when
/// nothing listens there, "no answer" when connecting timed out, and what is wrong with a
/// certificate the server showed (rustls names it `UnknownIssuer`; kubectl `x509: certificate
/// signed by unknown authority`).
fn describe_request_failure(server: Option<&(String, Duration)>, source: &kube::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
    let mut refused = false;
    let mut timed_out = false;
    let mut text = String::new();
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            timed_out |= io.kind() == std::io::ErrorKind::TimedOut;
        }
        text.push_str(&err.to_string());
        text.push('\n');
        cause = err.source();
    }
    let certificate = [
        ("UnknownIssuer", "is signed by a certificate authority this kubeconfig does not trust (kubectl: x509: certificate signed by unknown authority); check the cluster's certificate-authority(-data), or pass --certificate-authority FILE"),
        ("NotValidForName", "is not valid for this host name (kubectl: x509: certificate is valid for other names); use the server name the certificate names"),
        ("Expired", "has expired (kubectl: x509: certificate has expired or is not yet valid)"),
        ("NotValidYet", "is not valid yet (check this machine's clock)"),
        ("BadSignature", "has a bad signature"),
    ]
    .into_iter()
    .find(|(name, _)| text.contains("invalid peer certificate") && text.contains(name))
    .map(|(_, words)| words);
    match (server, refused, timed_out, certificate) {
        (Some((server, _)), true, _, _) => format!(
            "the connection to the server {server} was refused - did you specify the right host or port?"
        ),
        (Some((server, limit)), false, true, _) => format!(
            "unable to connect to the server {server}: no answer within {} (TCP connect and TLS handshake)",
            transport::describe_duration(*limit)
        ),
        (Some((server, _)), false, false, Some(words)) => {
            format!("unable to connect to the server {server}: its certificate {words}")
        }
        (Some((server, _)), ..) => format!("unable to connect to the server {server}: {source}"),
        (None, ..) => source.to_string(),
    }
}

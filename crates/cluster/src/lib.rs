//! Talking to Kubernetes: loading the kubeconfig, resolving targets to pods and containers, the
//! checkpoint POST through the nodes proxy, helper pods on nodes, and files streamed over exec
//! with a chain-of-custody record.
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
mod capture;
mod checkpoint;
mod connect;
mod exec;
mod helper;
mod listing;
mod local_state;
mod partial;
mod reporter;
mod retry;
mod target;
mod transfer;

pub use advice::{advise, Advice, Call, Problem};
pub use capture::{collect_checkpoints, Captured, FetchPlan};
pub use checkpoint::{
    build_checkpoint_path, build_checkpoint_request, collect_checkpoint,
    decode_checkpoint_response, CheckpointRecord, ContainerRef,
};
pub use connect::{
    collect_contexts, collect_identity, connect, ConnectParams, Connection, Identity, USER_AGENT,
};
pub use exec::ExecOutput;
pub use helper::{
    build_helper_pod, check_helper_spec, with_helper, with_helpers, Helper, HelperParams,
    HelperScope, CHECKPOINT_DIR, HELPER_LABEL,
};
pub use listing::{
    build_delete_command, build_list_command, collect_listings, collect_namespaces, collect_nodes,
    decode_checkpoint_name, decode_listing, delete_archive, ArchiveName, ListedArchive,
    NodeListing,
};
pub use partial::part_path;
pub use reporter::{Progress, Reporter, Silent};
pub use retry::{transient_reason, Backoff};
pub use target::{
    build_selector, choose_container, collect_pods, collect_running_pods, collect_workload_names,
    parse_target, pod_ref, ContainerChoice, Target, WorkloadKind,
};
pub use transfer::{
    build_dest, build_stream_command, check_dest, collect_archive, parse_node_path, FetchParams,
    FetchRecord, FetchTiming, NodePath, Verify,
};

use std::path::PathBuf;

/// Errors of this module. Each names the object (pod, container, node, file) it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the kubeconfig given with `--kubeconfig` (or a `--context` in it) failed.
    #[error("loading kubeconfig {}: {source}", path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(default)".to_string()))]
    LoadKubeconfig {
        /// The file given with `--kubeconfig`, if any.
        path: Option<PathBuf>,
        /// What kube reported.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// Neither a kubeconfig nor an in-cluster service account was found.
    #[error("no cluster to talk to (set KUBECONFIG, use --kubeconfig, or run in a pod): {0}")]
    InferConfig(#[source] kube::config::InferConfigError),
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
    /// A request failed before an answer came (connection, TLS, protocol).
    #[error("{what}: {}", describe_request_failure(server.as_deref(), source))]
    Request {
        /// The action and object.
        what: String,
        /// The API server it went to, when known.
        server: Option<String>,
        /// What kube reported.
        #[source]
        source: kube::Error,
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
    /// The user pressed Ctrl-C; the helper pods this run created were removed (a partial copy
    /// stays as `DEST.part`, for the next fetch to resume).
    #[error("interrupted; the helper pods this run created were removed")]
    Interrupted,
}

impl Error {
    /// What the user can do about this error, in our own words and possibly on several lines
    /// (an RBAC rule as YAML to copy): shown after the message, on lines of its own and not
    /// escaped, since nothing in it comes from the server.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Api { advice, .. } => advice.hint.as_deref(),
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
        source => Error::Request {
            what,
            server: connect::current_server(),
            source,
        },
    }
}

/// kubectl's words for a request that got no answer: name the server, and say "refused" when
/// nothing listens there.
fn describe_request_failure(server: Option<&str>, source: &kube::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
    let mut refused = false;
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        cause = err.source();
    }
    match (server, refused) {
        (Some(server), true) => format!(
            "the connection to the server {server} was refused - did you specify the right host or port? ({source})"
        ),
        (Some(server), false) => format!("unable to connect to the server {server}: {source}"),
        (None, _) => source.to_string(),
    }
}

//! Helper pods: a small pod pinned to a node with the kubelet's checkpoint directory mounted, in
//! which fetch, list and delete run commands over exec.
//!
//! # Security
//! The helper mounts only `/var/lib/kubelet/checkpoints` (read-only unless it deletes), runs as
//! uid 0 because the kubelet writes archives root-owned 0600 in a 0700 directory, and drops every
//! capability: the file owner's permission bits are enough for root to read them, so neither
//! `privileged` nor DAC_OVERRIDE/DAC_READ_SEARCH is needed. It gets no service account token,
//! no privilege escalation, a read-only root filesystem, and tolerates every taint so it can
//! run on any node the checkpointed pod ran on.

use std::collections::BTreeMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures::future::{BoxFuture, Shared};
use futures::FutureExt;
use k8s_openapi::api::core::v1::{
    Capabilities, Container, HostPathVolumeSource, Pod, PodSpec, SecurityContext, Toleration,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, AttachedProcess, DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use tokio::io::AsyncReadExt;

use super::{from_kube, Call, Error, Result};

/// The kubelet's checkpoint directory on every node, mounted at the same path in the helper.
pub const CHECKPOINT_DIR: &str = "/var/lib/kubelet/checkpoints";
/// The label every helper pod carries (value `helper`), used to find and reuse them.
pub const HELPER_LABEL: &str = "app.kubernetes.io/name";
const HELPER_LABEL_VALUE: &str = "kubectl-checkpoint-helper";
/// Label saying whether the helper's mount is writable (`rw`) or not (`ro`).
const MODE_LABEL: &str = "kubectl-checkpoint/mount";
/// The helper's container name.
const CONTAINER: &str = "helper";
/// How long a helper lives if nobody deletes it (a killed client leaves it behind).
const LIFETIME_SECONDS: i64 = 3600;
/// The most output a helper command may print for [`Helper::run`].
const MAX_OUTPUT: usize = 16 << 20;

/// How helper pods are made.
#[derive(Debug, Clone)]
pub struct HelperParams {
    /// The namespace to create them in.
    pub namespace: String,
    /// The image; it needs `cat`, `tail`, `stat`, `sha256sum`, `find` and `rm` (busybox has them).
    pub image: String,
    /// Mount the checkpoint directory writable (only `delete` needs it).
    pub writable: bool,
    /// How long to wait for the helper to run.
    pub start_timeout: Duration,
    /// Leave a helper this run created in place afterwards (a later run reuses it).
    pub keep: bool,
}

/// The helper pod for `node` named `name` (pure; [`with_helper`] creates it).
pub fn build_helper_pod(node: &str, name: &str, params: &HelperParams) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some(name.to_string());
    pod.metadata.namespace = Some(params.namespace.clone());
    pod.metadata.labels = Some(BTreeMap::from([
        (HELPER_LABEL.to_string(), HELPER_LABEL_VALUE.to_string()),
        (MODE_LABEL.to_string(), mode(params.writable).to_string()),
    ]));
    pod.spec = Some(PodSpec {
        node_name: Some(node.to_string()),
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        active_deadline_seconds: Some(LIFETIME_SECONDS),
        termination_grace_period_seconds: Some(0),
        tolerations: Some(vec![Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        }]),
        volumes: Some(vec![Volume {
            name: "checkpoints".into(),
            host_path: Some(HostPathVolumeSource {
                path: CHECKPOINT_DIR.into(),
                type_: Some("Directory".into()),
            }),
            ..Default::default()
        }]),
        containers: vec![Container {
            name: CONTAINER.into(),
            image: Some(params.image.clone()),
            command: Some(vec!["sleep".into(), LIFETIME_SECONDS.to_string()]),
            volume_mounts: Some(vec![VolumeMount {
                name: "checkpoints".into(),
                mount_path: CHECKPOINT_DIR.into(),
                read_only: Some(!params.writable),
                ..Default::default()
            }]),
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

/// A random-enough suffix for helper names (no RNG crate: std's per-process random hash keys).
fn random_suffix() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:010x}", hasher.finish() & 0xff_ffff_ffff)
}

/// Runs `work` in a helper pod on `node`: reuses a running helper (found by label) or creates
/// one and waits until it runs. A helper this call created is deleted afterwards unless
/// `params.keep`, also when `work` fails or when `cancel` (Ctrl-C) completes first, which ends
/// the call with [`Error::Interrupted`].
pub async fn with_helper<T>(
    client: &Client,
    node: &str,
    params: &HelperParams,
    cancel: impl Future<Output = ()>,
    work: impl AsyncFnOnce(&Helper) -> Result<T>,
) -> Result<T> {
    let mut cancel = std::pin::pin!(cancel);
    let helper = tokio::select! {
        helper = Helper::acquire(client, node, params) => helper?,
        () = &mut cancel => return Err(Error::Interrupted),
    };
    let outcome = tokio::select! {
        outcome = async {
            helper.wait_running(params).await?;
            work(&helper).await
        } => outcome,
        () = &mut cancel => Err(Error::Interrupted),
    };
    if helper.created && !(params.keep && outcome.is_ok()) {
        let removed = helper.remove().await;
        // The error that matters is the work's; a failed removal only matters after success.
        if outcome.is_ok() {
            removed?;
        }
    }
    outcome
}

/// What a short command printed.
#[derive(Debug)]
pub struct ExecOutput {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
}

/// A running helper pod on one node.
pub struct Helper {
    /// The pods API of the helper's namespace.
    pub(crate) pods: Api<Pod>,
    /// The helper's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The node it runs on.
    pub node: String,
    /// True when this run created it (so it deletes it); false when an existing one was reused.
    pub created: bool,
}

impl Helper {
    /// Finds a running helper on `node` or creates one (which may not run yet).
    async fn acquire(client: &Client, node: &str, params: &HelperParams) -> Result<Helper> {
        let pods: Api<Pod> = Api::namespaced(client.clone(), &params.namespace);
        let labels = format!(
            "{HELPER_LABEL}={HELPER_LABEL_VALUE},{MODE_LABEL}={}",
            mode(params.writable)
        );
        let existing = pods
            .list(&ListParams::default().labels(&labels))
            .await
            .map_err(|err| {
                from_kube(
                    format!("listing helper pods in {}", params.namespace),
                    Call::Helper,
                    err,
                )
            })?;
        let reusable = existing.items.into_iter().find(|p| {
            p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)
                && p.metadata.deletion_timestamp.is_none()
                && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        });
        if let Some(pod) = reusable {
            return Ok(Helper {
                pods,
                name: pod.metadata.name.unwrap_or_default(),
                namespace: params.namespace.clone(),
                node: node.to_string(),
                created: false,
            });
        }
        let name = format!("kubectl-checkpoint-helper-{}", random_suffix());
        let pod = build_helper_pod(node, &name, params);
        pods.create(&PostParams::default(), &pod)
            .await
            .map_err(|err| {
                from_kube(
                    format!(
                        "creating helper pod {}/{name} on node {node}",
                        params.namespace
                    ),
                    Call::Helper,
                    err,
                )
            })?;
        Ok(Helper {
            pods,
            name,
            namespace: params.namespace.clone(),
            node: node.to_string(),
            created: true,
        })
    }

    /// Waits until the helper runs; fails early when its image cannot be pulled.
    async fn wait_running(&self, params: &HelperParams) -> Result<()> {
        let started = Instant::now();
        loop {
            let pod = self.pods.get(&self.name).await.map_err(|err| {
                from_kube(
                    format!("reading helper pod {}/{}", self.namespace, self.name),
                    Call::Helper,
                    err,
                )
            })?;
            let status = pod.status.unwrap_or_default();
            match status.phase.as_deref() {
                Some("Running") => return Ok(()),
                Some(phase @ ("Failed" | "Succeeded")) => {
                    return Err(self.failure(format!("it ended ({phase}) before it could be used")))
                }
                _ => {}
            }
            let waiting = status
                .container_statuses
                .iter()
                .flatten()
                .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
                .find_map(|w| w.reason.clone());
            if let Some(reason @ ("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName")) =
                waiting.as_deref()
            {
                return Err(self.failure(format!(
                    "its image cannot be pulled ({reason}); pass --helper-image with an image the node can pull"
                )));
            }
            if started.elapsed() >= params.start_timeout {
                return Err(self.failure(format!(
                    "not running after {} s (phase {}); if the node has no {CHECKPOINT_DIR} yet, no checkpoint was ever taken there",
                    params.start_timeout.as_secs(),
                    status.phase.as_deref().unwrap_or("unknown"),
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn failure(&self, reason: String) -> Error {
        Error::Helper {
            namespace: self.namespace.clone(),
            pod: self.name.clone(),
            node: self.node.clone(),
            reason,
        }
    }

    /// Deletes the helper now (no grace period).
    pub async fn remove(&self) -> Result<()> {
        self.pods
            .delete(&self.name, &DeleteParams::default().grace_period(0))
            .await
            .map(|_| ())
            .map_err(|err| {
                from_kube(
                    format!("deleting helper pod {}/{}", self.namespace, self.name),
                    Call::Helper,
                    err,
                )
            })
    }

    /// Parameters for exec into the helper: stdout and stderr, no stdin, roomy pipes.
    pub(crate) fn attach_params() -> AttachParams {
        AttachParams::default()
            .container(CONTAINER)
            .stdin(false)
            .stdout(true)
            .stderr(true)
            .max_stdout_buf_size(1 << 20)
            .max_stderr_buf_size(64 << 10)
    }

    /// Runs a short command, collects its output (at most 16 MiB) and fails on a non-zero exit.
    pub async fn run(&self, what: &str, command: &[String]) -> Result<ExecOutput> {
        let describe = || format!("{what} in helper pod {}/{}", self.namespace, self.name);
        let mut process = self
            .pods
            .exec(&self.name, command.to_vec(), &Self::attach_params())
            .await
            .map_err(|err| from_kube(describe(), Call::Helper, err))?;
        let status = exec_status(&mut process);
        let (stdout, stderr) = match (process.stdout(), process.stderr()) {
            (Some(out), Some(err)) => (out, err),
            _ => {
                return Err(self.exec_error(what, "exec gave no output streams".into()));
            }
        };
        let (out, err) = tokio::join!(
            drain_bounded(stdout, MAX_OUTPUT, &status),
            drain_bounded(stderr, 64 << 10, &status)
        );
        let (out, overflow) =
            out.map_err(|e| self.exec_error(what, format!("reading its output: {e}")))?;
        let (err, _) =
            err.map_err(|e| self.exec_error(what, format!("reading its errors: {e}")))?;
        if overflow {
            return Err(self.exec_error(what, "it printed more than 16 MiB".into()));
        }
        let status = status.await;
        check_status(status.as_ref(), &err).map_err(|message| self.exec_error(what, message))?;
        Ok(ExecOutput {
            stdout: out,
            stderr: err,
        })
    }

    pub(crate) fn exec_error(&self, what: &str, message: String) -> Error {
        Error::Exec {
            node: self.node.clone(),
            what: what.to_string(),
            message,
        }
    }
}

/// The exit status of an exec, awaitable from several readers at once. It resolves when kube's
/// exec task ends: with the status, or `None` when the stream broke.
pub(crate) type ExecStatus = Shared<BoxFuture<'static, Option<Status>>>;

/// Takes the process's status future in shareable form.
pub(crate) fn exec_status(process: &mut AttachedProcess) -> ExecStatus {
    match process.take_status() {
        Some(status) => status.boxed().shared(),
        None => futures::future::ready(None).boxed().shared(),
    }
}

/// How long to wait for bytes still buffered after a broken exec stream.
const BUFFERED_GRACE: Duration = Duration::from_millis(200);

/// Reads once from an exec output stream, appending to `buf` (into its spare capacity, so a
/// buffer is never zeroed first). kube 5 never closes the output pipes when its exec
/// task fails (a dropped connection), so once the task ended without a status, a read that
/// finds nothing buffered counts as the end of the stream.
pub(crate) async fn read_exec(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    buf: &mut BytesMut,
    status: &ExecStatus,
) -> std::io::Result<usize> {
    tokio::select! {
        biased;
        n = reader.read_buf(buf) => n,
        ended = status.clone() => match ended {
            Some(_) => reader.read_buf(buf).await,
            None => tokio::time::timeout(BUFFERED_GRACE, reader.read_buf(buf))
                .await
                .unwrap_or(Ok(0)),
        },
    }
}

/// Reads `reader` to its end, keeping the first `limit` bytes; true when more came.
pub(crate) async fn drain_bounded(
    mut reader: impl tokio::io::AsyncRead + Unpin,
    limit: usize,
    status: &ExecStatus,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut overflow = false;
    let mut buf = BytesMut::with_capacity(16 << 10);
    loop {
        buf.clear();
        let n = read_exec(&mut reader, &mut buf, status).await?;
        if n == 0 {
            return Ok((kept, overflow));
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        overflow |= n > room;
    }
}

/// `Ok` for a successful exec status; else the command's error output, or its status text.
pub(crate) fn check_status(
    status: Option<&Status>,
    stderr: &[u8],
) -> std::result::Result<(), String> {
    let Some(status) = status else {
        return Err("the exec stream ended without an exit status".into());
    };
    if status.status.as_deref() == Some("Success") {
        return Ok(());
    }
    let text = String::from_utf8_lossy(stderr).trim().to_string();
    if !text.is_empty() {
        return Err(text);
    }
    Err(status
        .message
        .clone()
        .unwrap_or_else(|| "the command failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(writable: bool) -> HelperParams {
        HelperParams {
            keep: false,
            namespace: "ns".into(),
            image: "busybox:1.36".into(),
            writable,
            start_timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn helper_pod_is_pinned_and_unprivileged() {
        let pod = build_helper_pod("node-a", "h", &params(false));
        let spec = pod.spec.unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("node-a"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        let tolerations = spec.tolerations.unwrap();
        assert_eq!(tolerations.len(), 1);
        assert_eq!(tolerations[0].operator.as_deref(), Some("Exists"));
        assert!(tolerations[0].key.is_none());
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

    #[test]
    fn delete_helper_mounts_writable() {
        let pod = build_helper_pod("n", "h", &params(true));
        let container = &pod.spec.unwrap().containers[0];
        assert_eq!(
            container.volume_mounts.as_ref().unwrap()[0].read_only,
            Some(false)
        );
    }

    #[test]
    fn suffixes_differ() {
        assert_ne!(random_suffix(), random_suffix());
    }
}

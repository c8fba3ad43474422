//! Commands in a helper pod over exec: short commands whose output is collected (bounded), and
//! the low-level reads the transfer uses. Transient failures to start an exec (the API server
//! cannot dial a restarting kubelet) are retried with [`Backoff`]; the helper's lifecycle lives
//! in `helper`.

use std::time::Duration;

use bytes::BytesMut;
use futures::future::{BoxFuture, Shared};
use futures::FutureExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, AttachedProcess};
use tokio::io::AsyncReadExt;

use super::retry::{transient_reason, Backoff};
use super::{from_kube, Call, Error, Helper, Reporter, Result};

/// The most output a helper command may print for [`Helper::run`].
const MAX_OUTPUT: usize = 16 << 20;
/// The most error output kept of any command.
pub(crate) const MAX_ERRORS: usize = 64 << 10;
/// How long to wait for bytes still buffered after a broken exec stream.
const BUFFERED_GRACE: Duration = Duration::from_millis(200);

/// What a short command printed.
#[derive(Debug)]
pub struct ExecOutput {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
}

impl Helper {
    /// Parameters for exec into the helper: stdout and stderr, no stdin, roomy pipes.
    pub(crate) fn attach_params() -> AttachParams {
        AttachParams::default()
            .container(super::helper::CONTAINER)
            .stdin(false)
            .stdout(true)
            .stderr(true)
            .max_stdout_buf_size(1 << 20)
            .max_stderr_buf_size(MAX_ERRORS)
    }

    /// Starts `command` in the helper, retrying transient refusals (within the helper's
    /// retries, reported to `reporter`). `what` names the command in errors.
    pub(crate) async fn start_exec(
        &self,
        what: &str,
        command: &[String],
        reporter: &dyn Reporter,
    ) -> Result<AttachedProcess> {
        self.start_exec_as(what, command, &Self::attach_params(), reporter)
            .await
    }

    /// [`Helper::start_exec`] with the command's stdin open.
    pub(crate) async fn start_exec_with_stdin(
        &self,
        what: &str,
        command: &[String],
        reporter: &dyn Reporter,
    ) -> Result<AttachedProcess> {
        let params = Self::attach_params().stdin(true);
        self.start_exec_as(what, command, &params, reporter).await
    }

    async fn start_exec_as(
        &self,
        what: &str,
        command: &[String],
        params: &AttachParams,
        reporter: &dyn Reporter,
    ) -> Result<AttachedProcess> {
        let mut backoff = Backoff::default();
        let mut attempt = 0;
        loop {
            match self.pods.exec(&self.name, command.to_vec(), params).await {
                Ok(process) => return Ok(process),
                Err(err) => match transient_reason(&err) {
                    Some(reason) if attempt < self.retries => {
                        attempt += 1;
                        let delay = backoff.next_delay();
                        reporter.retrying(what, attempt, self.retries, delay, &reason);
                        tokio::time::sleep(delay).await;
                    }
                    _ => {
                        return Err(from_kube(
                            format!("{what} in helper pod {}/{}", self.namespace, self.name),
                            Call::Helper,
                            err,
                        ))
                    }
                },
            }
        }
    }

    /// Runs a short command, collects its output (at most 16 MiB) and fails on a non-zero exit.
    pub async fn run(
        &self,
        what: &str,
        command: &[String],
        reporter: &dyn Reporter,
    ) -> Result<ExecOutput> {
        let mut process = self.start_exec(what, command, reporter).await?;
        let status = exec_status(&mut process);
        let (stdout, stderr) = match (process.stdout(), process.stderr()) {
            (Some(out), Some(err)) => (out, err),
            _ => {
                return Err(self.exec_error(what, "exec gave no output streams".into()));
            }
        };
        let (out, err) = tokio::join!(
            drain_bounded(stdout, MAX_OUTPUT, &status),
            drain_bounded(stderr, MAX_ERRORS, &status)
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

    /// The error of a command `what` that failed with `message`.
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

//! The node agent: this program run inside a helper pod, next to the archive, so that only a
//! report travels (`analyze --remote`).
//!
//! One exec does it all, so that nothing on the node is reused from another run: the agent's
//! bytes go over the exec stream's stdin into the helper's emptyDir ([`AGENT_DIR`]) under a name
//! made of this run's nonce; the node's `sha256sum` of the file must equal the sha256 of the
//! bytes sent, and the file must answer `--version` with our version, before it runs; it runs
//! under `timeout -s KILL` with the helper's read-only checkpoint mount, its memory bounded by
//! the helper's limit and its spool in the emptyDir; then it is removed. The agent is never
//! downloaded from anywhere: it is this executable ([`AgentBinary::ours`], when the node's
//! operating system and architecture are ours) or a file the user names (`--agent-binary`).
//!
//! # Trust
//! The node runs the agent: a compromised node can answer anything, as it can serve any archive
//! bytes to a fetch. The checks catch a file changed on the node between the copy and the check
//! (refused: [`AgentRefusal::Tampered`]) and a binary that cannot run there (another
//! architecture, a dynamically linked build: [`AgentRefusal::CannotRun`]); they cannot make a
//! node honest. What the agent prints on stderr comes from the node and is handed on as bytes,
//! for the caller to escape.

use sha2::{Digest, Sha256};
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Api;
use tokio::io::AsyncWriteExt;

use super::exec::{drain_bounded, exec_status, MAX_ERRORS};
use super::helper::AGENT_DIR;
use super::{Connection, Error, Helper, Reporter, Result};

/// The environment variable that makes the agent print, as its last stderr line, how many bytes
/// it read ([`IO_LINE_PREFIX`] then the number).
pub const IO_REPORT_ENV: &str = "KUBECTL_CHECKPOINT_AGENT_IO";
/// The start of the agent's last stderr line when [`IO_REPORT_ENV`] is set.
pub const IO_LINE_PREFIX: &str = "kubectl-checkpoint-agent-io: read ";
/// The most report the agent may print.
const MAX_REPORT: usize = 256 << 20;
/// Exit codes of the wrapper script (the agent itself exits 0, 1, 2 or 130).
const EXIT_COPY_FAILED: i32 = 120;
const EXIT_TAMPERED: i32 = 121;
const EXIT_CANNOT_RUN: i32 = 122;
/// What a shell reports for a command killed by SIGKILL (the timeout).
const EXIT_KILLED: i32 = 137;

/// The executable to run on the node.
#[derive(Debug, Clone)]
pub struct AgentBinary {
    /// Its bytes.
    pub bytes: std::sync::Arc<Vec<u8>>,
    /// Their sha256, hex.
    pub sha256: String,
    /// Where it came from (this executable's path, or `--agent-binary`'s).
    pub path: std::path::PathBuf,
}

impl AgentBinary {
    /// Reads `path` (blocking: call it before the runtime, or in `spawn_blocking`).
    pub fn read(path: &std::path::Path) -> std::io::Result<AgentBinary> {
        let bytes = std::fs::read(path)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(AgentBinary {
            bytes: std::sync::Arc::new(bytes),
            sha256,
            path: path.to_path_buf(),
        })
    }

    /// This executable.
    pub fn ours() -> std::io::Result<AgentBinary> {
        AgentBinary::read(&std::env::current_exe()?)
    }
}

/// Kubernetes' name (`nodeInfo.architecture`) of the architecture this program was built for.
pub fn our_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The node's operating system and architecture, as its status reports them (`linux`,
/// `amd64`).
pub async fn collect_node_platform(conn: &Connection, node: &str) -> Result<(String, String)> {
    let nodes: Api<Node> = Api::all(conn.client.clone());
    let found = nodes
        .get_opt(node)
        .await
        .map_err(|e| super::from_kube(format!("reading node {node}"), super::Call::Helper, e))?
        .ok_or_else(|| Error::NoSuchNode {
            node: node.to_string(),
        })?;
    let info = found.status.and_then(|s| s.node_info);
    Ok(info
        .map(|i| (i.operating_system, i.architecture))
        .unwrap_or_default())
}

/// Why an agent was not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentRefusal {
    /// The file on the node is not the bytes sent.
    #[error("the agent written on the node has sha256 {found}, not {sent} as sent: it was changed on the node, which may be compromised; it was not run")]
    Tampered {
        /// The sha256 of the bytes sent.
        sent: String,
        /// The node's sha256 of the file.
        found: String,
    },
    /// The file does not run there, or does not answer as this version does.
    #[error("the agent does not run on the node ({detail}): is it built for the node's architecture, and static?")]
    CannotRun {
        /// What the node said, as it said it.
        detail: String,
    },
    /// The copy to the node failed.
    #[error("the agent could not be copied to the node ({detail})")]
    CopyFailed {
        /// What the node said.
        detail: String,
    },
    /// The agent ran longer than allowed and was killed.
    #[error("the agent was killed after {seconds} s (its time limit)")]
    TimedOut {
        /// The limit.
        seconds: u64,
    },
}

/// What an agent run gave.
#[derive(Debug)]
pub struct AgentRun {
    /// Its standard output: the report, rendered on the node.
    pub stdout: Vec<u8>,
    /// Its standard error, as the node sent it (without the I/O line).
    pub stderr: Vec<u8>,
    /// Its exit code.
    pub exit_code: i32,
    /// How many bytes it read on the node, as it reports them.
    pub read_on_node: Option<u64>,
    /// Bytes sent to the node (the agent).
    pub sent: u64,
    /// Bytes that came back (stdout and stderr).
    pub received: u64,
}

/// The wrapper script run with `sh -c`: `$1` the agent's size, `$2` its sha256, `$3` the file
/// to write, `$4` the expected `--version` line, `$5` the time limit in seconds, then the
/// agent's arguments (pure).
pub fn build_agent_command(
    agent: &AgentBinary,
    nonce: &str,
    timeout: Duration,
    args: &[String],
) -> Vec<String> {
    let script = format!(
        "umask 077\n\
         f=\"$3\"\n\
         head -c \"$1\" > \"$f\" || {{ rm -f \"$f\"; exit {EXIT_COPY_FAILED}; }}\n\
         s=$(sha256sum \"$f\") || {{ rm -f \"$f\"; exit {EXIT_COPY_FAILED}; }}\n\
         s=${{s%% *}}\n\
         if [ \"$s\" != \"$2\" ]; then rm -f \"$f\"; echo \"$s\" >&2; exit {EXIT_TAMPERED}; fi\n\
         chmod 0500 \"$f\"\n\
         v=$(timeout -s KILL 20 \"$f\" --version 2>&1)\n\
         if [ \"$v\" != \"$4\" ]; then rm -f \"$f\"; printf '%s\\n' \"$v\" | head -c 2048 >&2; exit {EXIT_CANNOT_RUN}; fi\n\
         t=\"$5\"\n\
         shift 5\n\
         TMPDIR={AGENT_DIR} {IO_REPORT_ENV}=1 timeout -s KILL \"$t\" \"$f\" \"$@\"\n\
         rc=$?\n\
         rm -f \"$f\"\n\
         exit $rc\n"
    );
    let mut command = vec![
        "sh".to_string(),
        "-c".to_string(),
        script,
        "sh".to_string(),
        agent.bytes.len().to_string(),
        agent.sha256.clone(),
        format!("{AGENT_DIR}/agent-{nonce}"),
        format!("kubectl-checkpoint {}", env!("CARGO_PKG_VERSION")),
        timeout.as_secs().max(1).to_string(),
    ];
    command.extend(args.iter().cloned());
    command
}

/// The exit code an exec status carries (0 for success; `None` when it says none).
pub fn decode_exit_code(status: &Status) -> Option<i32> {
    if status.status.as_deref() == Some("Success") {
        return Some(0);
    }
    status
        .details
        .as_ref()?
        .causes
        .as_ref()?
        .iter()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))?
        .message
        .as_deref()?
        .trim()
        .parse()
        .ok()
}

/// Splits the agent's I/O line off its stderr: the rest, and the bytes it read.
pub fn decode_io_line(stderr: &[u8]) -> (Vec<u8>, Option<u64>) {
    let trimmed = stderr.strip_suffix(b"\n").unwrap_or(stderr);
    let start = trimmed
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let last = trimmed.get(start..).unwrap_or_default();
    let read = std::str::from_utf8(last)
        .ok()
        .and_then(|line| line.strip_prefix(IO_LINE_PREFIX))
        .and_then(|n| n.trim().parse().ok());
    match read {
        Some(read) => (
            trimmed.get(..start).unwrap_or_default().to_vec(),
            Some(read),
        ),
        None => (stderr.to_vec(), None),
    }
}

impl Helper {
    /// Copies `agent` into this helper, checks it and runs it with `args` (see the module
    /// docs), within `timeout`. A refusal is [`Error::Agent`]; the agent's own exit code, 1 or
    /// 2 included, is in the [`AgentRun`].
    pub async fn run_agent(
        &self,
        agent: &AgentBinary,
        args: &[String],
        timeout: Duration,
        reporter: &dyn Reporter,
    ) -> Result<AgentRun> {
        let nonce = super::helper::random_hex(8);
        let command = build_agent_command(agent, &nonce, timeout, args);
        let what = "running the agent";
        let mut process = self.start_exec_with_stdin(what, &command, reporter).await?;
        let status = exec_status(&mut process);
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (process.stdin(), process.stdout(), process.stderr())
        else {
            return Err(self.exec_error(what, "exec gave no streams".into()));
        };
        let bytes = agent.bytes.clone();
        let send = async move {
            let sent = stdin.write_all(&bytes).await;
            let _ = stdin.shutdown().await;
            sent
        };
        let (sent, out, err) = tokio::time::timeout(timeout + Duration::from_secs(60), async {
            tokio::join!(
                send,
                drain_bounded(&mut stdout, MAX_REPORT, &status),
                drain_bounded(&mut stderr, MAX_ERRORS, &status)
            )
        })
        .await
        .map_err(|_| self.exec_error(what, format!("no end after {} s", timeout.as_secs())))?;
        let (out, too_long) =
            out.map_err(|e| self.exec_error(what, format!("reading its output: {e}")))?;
        let (err, _) =
            err.map_err(|e| self.exec_error(what, format!("reading its errors: {e}")))?;
        if too_long {
            return Err(self.exec_error(what, "its report is longer than 256 MiB".into()));
        }
        let Some(status) = status.await else {
            return Err(
                self.exec_error(what, "the exec stream ended without an exit status".into())
            );
        };
        let Some(exit_code) = decode_exit_code(&status) else {
            let message = status.message.unwrap_or_else(|| "no exit code".into());
            return Err(self.exec_error(what, message));
        };
        let detail = || String::from_utf8_lossy(&err).trim().to_string();
        let refusal = match exit_code {
            EXIT_COPY_FAILED => Some(AgentRefusal::CopyFailed {
                detail: match &sent {
                    Err(e) => format!("{e}; {}", detail()),
                    Ok(()) => detail(),
                },
            }),
            EXIT_TAMPERED => Some(AgentRefusal::Tampered {
                sent: agent.sha256.clone(),
                found: detail(),
            }),
            EXIT_CANNOT_RUN => Some(AgentRefusal::CannotRun { detail: detail() }),
            EXIT_KILLED => Some(AgentRefusal::TimedOut {
                seconds: timeout.as_secs(),
            }),
            _ => None,
        };
        if let Some(refusal) = refusal {
            return Err(Error::Agent {
                node: self.node.clone(),
                refusal,
            });
        }
        let received = (out.len() + err.len()) as u64;
        let (stderr, read_on_node) = decode_io_line(&err);
        Ok(AgentRun {
            stdout: out,
            stderr,
            exit_code,
            read_on_node,
            sent: agent.bytes.len() as u64,
            received,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    #[test]
    fn exit_codes_come_from_the_status() {
        let ok = Status {
            status: Some("Success".into()),
            ..Status::default()
        };
        assert_eq!(decode_exit_code(&ok), Some(0));
        let failed = Status {
            status: Some("Failure".into()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some("121".into()),
                    ..StatusCause::default()
                }]),
                ..StatusDetails::default()
            }),
            ..Status::default()
        };
        assert_eq!(decode_exit_code(&failed), Some(121));
        assert_eq!(decode_exit_code(&Status::default()), None);
    }

    #[test]
    fn the_io_line_is_taken_off_stderr() {
        let (rest, read) = decode_io_line(b"warning: x\nkubectl-checkpoint-agent-io: read 42\n");
        assert_eq!((rest.as_slice(), read), (&b"warning: x\n"[..], Some(42)));
        let (rest, read) = decode_io_line(b"kubectl-checkpoint-agent-io: read 7\n");
        assert_eq!((rest.as_slice(), read), (&b""[..], Some(7)));
        let (rest, read) = decode_io_line(b"no line\n");
        assert_eq!((rest.as_slice(), read), (&b"no line\n"[..], None));
    }

    #[test]
    fn the_command_carries_size_sum_name_and_arguments() {
        let agent = AgentBinary {
            bytes: std::sync::Arc::new(b"abc".to_vec()),
            sha256: "ba7816bf".into(),
            path: "/x".into(),
        };
        let command = build_agent_command(
            &agent,
            "n1",
            Duration::from_secs(30),
            &["analyze".into(), "--local".into()],
        );
        assert_eq!(
            command.get(3..).unwrap(),
            [
                "sh",
                "3",
                "ba7816bf",
                "/var/run/kubectl-checkpoint/agent-n1",
                &format!("kubectl-checkpoint {}", env!("CARGO_PKG_VERSION")),
                "30",
                "analyze",
                "--local"
            ]
        );
    }
}

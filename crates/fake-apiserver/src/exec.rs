//! Exec over websockets (`v5.channel.k8s.io`, `v4.channel.k8s.io`), running the command for real.
//!
//! Frames are binary, first byte = channel: 0 stdin, 1 stdout, 2 stderr, 3 status JSON, 4 resize;
//! with v5, `[255, ch]` closes a channel. All output goes out before the status frame, then a close
//! frame. hostPath mounts are mapped to the node's directories (see the module docs of the parent).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::respond::{not_found, response, status_response, Body, Query};
use super::state::Shared;
use super::{lock, Fault};

/// Subprotocols in the server's order of preference.
const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;

/// What to run and how.
struct ExecPlan {
    /// What is spawned (the requested command, possibly wrapped in the isolation script).
    argv: Vec<String>,
    /// The command as requested (for status messages).
    requested: Vec<String>,
    cwd: PathBuf,
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

/// Validates the exec request like the API server, then upgrades and runs the session.
pub(super) async fn handle(
    shared: Arc<Shared>,
    namespace: &str,
    pod_name: &str,
    query: &Query,
    headers: &HeaderMap,
    upgrade: Option<OnUpgrade>,
) -> Response<Body> {
    let pod = {
        let mut state = lock(&shared.state);
        state.refresh();
        state.pod(namespace, pod_name).cloned()
    };
    let Some(pod) = pod else {
        return not_found("pods", "", pod_name);
    };
    let refusals = &shared.exec_refusals;
    if refusals
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| n.checked_sub(1),
        )
        .is_ok()
    {
        return status_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "error dialing backend: dial tcp 127.0.0.1:10250: connect: connection refused",
            None,
        );
    }
    let plan = match build_plan(&shared, &pod, query) {
        Ok(plan) => plan,
        Err(resp) => return *resp,
    };
    let Some(key) = headers
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec())
    else {
        return status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Upgrade request required",
            None,
        );
    };
    let upgrading = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(upgrade) = upgrade.filter(|_| upgrading) else {
        return status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Upgrade request required",
            None,
        );
    };
    let offered: Vec<String> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .collect();
    let Some(protocol) = PROTOCOLS.iter().find(|p| offered.iter().any(|o| o == *p)) else {
        return status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server supports {PROTOCOLS:?}"),
            None,
        );
    };
    let v5 = *protocol == "v5.channel.k8s.io";
    let faults = shared.faults();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        run_session(ws, v5, plan, &faults).await;
    });
    let mut resp = response(StatusCode::SWITCHING_PROTOCOLS, "", Vec::new());
    resp.headers_mut().remove(header::CONTENT_TYPE);
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", accept);
    }
    h.insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    resp
}

fn build_plan(shared: &Shared, pod: &Pod, query: &Query) -> Result<ExecPlan, Box<Response<Body>>> {
    let bad = |m: String| {
        Box::new(status_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &m,
            None,
        ))
    };
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let container_name = match query.get("container") {
        Some(c) => c.to_string(),
        None if spec.containers.len() == 1 => spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        None => {
            let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
            return Err(bad(format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let Some(container) = spec.containers.iter().find(|c| c.name == container_name) else {
        return Err(bad(format!(
            "container {container_name} is not valid for pod {pod_name}"
        )));
    };
    let Some(node) = spec.node_name.clone() else {
        return Err(bad(format!("pod {pod_name} does not have a host assigned")));
    };
    if pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Running") {
        return Err(bad(format!("container not found (\"{container_name}\")")));
    }
    let argv = query.all("command");
    if argv.is_empty() {
        return Err(bad("you must specify at least 1 command".to_string()));
    }
    let cwd = shared.container_root(&namespace, &pod_name, &container_name);
    let mut mounts: Vec<(String, PathBuf)> = Vec::new();
    for mount in container.volume_mounts.iter().flatten() {
        let volume = spec.volumes.iter().flatten().find(|v| v.name == mount.name);
        // A hostPath is the node's directory; an emptyDir, one directory per pod and volume
        // under the node's root (kept while the pod exists, as the kubelet keeps it).
        let mut host = match volume {
            Some(v) if v.host_path.is_some() => {
                let path = v.host_path.as_ref().map(|h| h.path.as_str()).unwrap_or("");
                shared.node_root(&node).join(path.trim_start_matches('/'))
            }
            Some(v) if v.empty_dir.is_some() => shared
                .node_root(&node)
                .join("var/lib/kubelet/pods")
                .join(format!("{namespace}_{pod_name}"))
                .join(&v.name),
            _ => continue,
        };
        if let Some(sub) = mount.sub_path.as_deref().filter(|s| !s.is_empty()) {
            host = host.join(sub);
        }
        let mount_path = mount.mount_path.trim_end_matches('/').to_string();
        if mount_path.is_empty() {
            continue;
        }
        mounts.push((mount_path, host));
    }
    let internal = |what: &str, e: std::io::Error| {
        Box::new(status_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &format!("fake apiserver: {what}: {e}"),
            None,
        ))
    };
    for (_, host) in &mounts {
        if !host.exists() {
            std::fs::create_dir_all(host).map_err(|e| internal("create hostPath directory", e))?;
        }
    }
    let (argv, cwd) = if shared.isolated_exec {
        let scratch = shared.exec_scratch_dir();
        std::fs::create_dir_all(&scratch)
            .map_err(|e| internal("create exec scratch directory", e))?;
        mounts.sort_by_key(|(m, _)| m.len());
        (isolated_argv(&scratch, &mounts, &argv), PathBuf::from("/"))
    } else {
        prepare_container_root(&cwd, &mounts).map_err(|e| internal("prepare container root", e))?;
        mounts.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
        let rewritten = argv
            .iter()
            .map(|a| rewrite_mount_paths(a, &mounts))
            .collect();
        (rewritten, cwd)
    };
    Ok(ExecPlan {
        argv,
        requested: query.all("command"),
        cwd,
        stdin: query.flag("stdin"),
        stdout: query.flag("stdout"),
        stderr: query.flag("stderr"),
    })
}

/// Quotes `text` for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The shell script that gives a command its container view: a private mount namespace, a
/// copy-on-write overlay of the host's `/` (writes land on a tmpfs in `scratch`), the host's
/// `/dev`, `/proc`, `/sys`, `/tmp`, each hostPath bind-mounted at its mount path, then `chroot`.
pub(super) fn isolation_script(scratch: &Path, mounts: &[(String, PathBuf)]) -> String {
    let mut script = format!(
        "set -e\nT={}\nmount -t tmpfs tmpfs \"$T\"\nmkdir -p \"$T/u\" \"$T/w\" \"$T/r\"\n\
         mount -t overlay overlay -o lowerdir=/,upperdir=\"$T/u\",workdir=\"$T/w\" \"$T/r\"\n\
         for d in dev proc sys tmp; do if [ -d \"/$d\" ]; then mount --rbind \"/$d\" \"$T/r/$d\"; fi; done\n",
        shell_quote(&scratch.to_string_lossy())
    );
    for (mount_path, host) in mounts {
        let target = shell_quote(mount_path);
        script.push_str(&format!(
            "mkdir -p \"$T/r\"{target}\nmount --bind {} \"$T/r\"{target}\n",
            shell_quote(&host.to_string_lossy())
        ));
    }
    script.push_str("exec chroot \"$T/r\" \"$@\"\n");
    script
}

/// `unshare ... sh -c SCRIPT sh COMMAND...`.
fn isolated_argv(scratch: &Path, mounts: &[(String, PathBuf)], command: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.push(isolation_script(scratch, mounts));
    argv.push("sh".to_string());
    argv.extend(command.iter().cloned());
    argv
}

/// Whether this machine lets us build the isolated view (root with mount privileges).
pub(super) fn probe_isolation(scratch: &Path) -> bool {
    if std::fs::create_dir_all(scratch).is_err() {
        return false;
    }
    let argv = isolated_argv(scratch, &[], &["true".to_string()]);
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Creates the container root with a symlink at each (relative) mount path to its host directory.
fn prepare_container_root(cwd: &Path, mounts: &[(String, PathBuf)]) -> std::io::Result<()> {
    std::fs::create_dir_all(cwd)?;
    for (mount_path, host) in mounts {
        if !host.exists() {
            std::fs::create_dir_all(host)?;
        }
        let link = cwd.join(mount_path.trim_start_matches('/'));
        if link.symlink_metadata().is_ok() {
            continue;
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(host, &link)?;
    }
    Ok(())
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

/// Replaces each whole-path occurrence of a mount path in `arg` by the same path made relative.
fn rewrite_mount_paths(arg: &str, mounts: &[(String, PathBuf)]) -> String {
    let mut out = arg.to_string();
    for (mount_path, _) in mounts {
        let relative = mount_path.trim_start_matches('/');
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        let mut previous: Option<char> = None;
        while let Some(pos) = rest.find(mount_path.as_str()) {
            let before = rest[..pos].chars().next_back().or(previous);
            let after = rest[pos + mount_path.len()..].chars().next();
            let starts_ok = before.is_none_or(|c| !is_path_char(c));
            let ends_ok = after.is_none_or(|c| c == '/' || !is_path_char(c));
            result.push_str(&rest[..pos]);
            if starts_ok && ends_ok {
                result.push_str(relative);
            } else {
                result.push_str(mount_path);
            }
            previous = mount_path.chars().next_back();
            rest = &rest[pos + mount_path.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// The status frame's JSON: `metav1.Status` without TypeMeta, as the kubelet writes it.
#[derive(Serialize)]
struct ExecStatus {
    metadata: serde_json::Map<String, serde_json::Value>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<StatusDetails>,
}

fn success_status() -> ExecStatus {
    ExecStatus {
        metadata: Default::default(),
        status: "Success",
        message: None,
        reason: None,
        details: None,
    }
}

fn exit_status(argv: &[String], code: i32) -> ExecStatus {
    ExecStatus {
        metadata: Default::default(),
        status: "Failure",
        message: Some(format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            argv.join(" ")
        )),
        reason: Some("NonZeroExitCode"),
        details: Some(StatusDetails {
            causes: Some(vec![StatusCause {
                reason: Some("ExitCode".to_string()),
                message: Some(code.to_string()),
                field: None,
            }]),
            ..StatusDetails::default()
        }),
    }
}

fn internal_status(message: String) -> ExecStatus {
    ExecStatus {
        metadata: Default::default(),
        status: "Failure",
        message: Some(message),
        reason: Some("InternalError"),
        details: None,
    }
}

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Whether the session continues after a frame was handled.
enum Flow {
    Continue,
    /// The connection is to be cut without a close frame.
    Cut,
}

async fn run_session(ws: Ws, v5: bool, plan: ExecPlan, faults: &[Fault]) {
    let (mut sink, mut stream) = ws.split();
    let mut command = tokio::process::Command::new(plan.argv.first().map_or("", String::as_str));
    command
        .args(plan.argv.iter().skip(1))
        .current_dir(&plan.cwd)
        .stdin(if plan.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(if plan.stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(if plan.stderr {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let status = internal_status(format!(
                "failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: {:?}: {e}",
                plan.requested.first().map_or("", String::as_str)
            ));
            let _ = send_status(&mut sink, &status).await;
            finish(sink, stream).await;
            return;
        }
    };
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<(u8, Bytes)>(8);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(pump(stdout, STDOUT, out_tx.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(pump(stderr, STDERR, out_tx.clone()));
    }
    drop(out_tx);
    let mut stdin_tx = child.stdin.take().map(|mut stdin| {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        tokio::spawn(async move {
            while let Some(data) = rx.recv().await {
                if stdin.write_all(&data).await.is_err() {
                    break;
                }
            }
            let _ = stdin.shutdown().await;
        });
        tx
    });

    let drop_after = faults.iter().find_map(|f| match f {
        Fault::DropExecStreamAfter(n) => Some(*n),
        _ => None,
    });
    let throttle = faults.iter().find_map(|f| match f {
        Fault::ThrottleExec(rate) => Some((*rate).max(1)),
        _ => None,
    });
    let mut stdout_sent: u64 = 0;
    let mut client_open = true;
    loop {
        tokio::select! {
            out = out_rx.recv() => {
                let Some((channel, data)) = out else { break };
                let flow = if channel == STDOUT {
                    send_stdout(&mut sink, data, &mut stdout_sent, drop_after, throttle).await
                } else {
                    send_frame(&mut sink, channel, &data).await
                };
                if matches!(flow, Flow::Cut) {
                    return; // dropping the socket closes TCP without a close frame; the child is killed
                }
            }
            incoming = stream.next(), if client_open => match incoming {
                Some(Ok(Message::Binary(frame))) => match frame.first() {
                    Some(&STDIN) => {
                        if let Some(tx) = &stdin_tx {
                            let _ = tx.send(frame.slice(1..)).await;
                        }
                    }
                    Some(&CLOSE) if v5 && frame.get(1) == Some(&STDIN) => stdin_tx = None,
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    client_open = false;
                    stdin_tx = None;
                    let _ = child.start_kill();
                }
                Some(Ok(_)) => {}
            }
        }
    }
    drop(stdin_tx);
    let status = match child.wait().await {
        Ok(exit) if exit.success() => success_status(),
        Ok(exit) => {
            use std::os::unix::process::ExitStatusExt;
            let code = exit
                .code()
                .unwrap_or_else(|| 128 + exit.signal().unwrap_or(0));
            exit_status(&plan.requested, code)
        }
        Err(e) => internal_status(format!("fake apiserver: wait for command: {e}")),
    };
    if client_open {
        let _ = send_status(&mut sink, &status).await;
        finish(sink, stream).await;
    }
}

/// Reads a pipe into frames for `channel` (never empty ones).
async fn pump(
    mut pipe: impl tokio::io::AsyncRead + Unpin,
    channel: u8,
    tx: tokio::sync::mpsc::Sender<(u8, Bytes)>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let Some(data) = buf.get(..n) else { return };
                if tx
                    .send((channel, Bytes::copy_from_slice(data)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

type Sink = futures::stream::SplitSink<Ws, Message>;
type Stream = futures::stream::SplitStream<Ws>;

async fn send_frame(sink: &mut Sink, channel: u8, data: &[u8]) -> Flow {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(data);
    match sink.send(Message::Binary(frame.into())).await {
        Ok(()) => Flow::Continue,
        Err(_) => Flow::Cut,
    }
}

/// Sends stdout, applying the throttle and drop faults.
async fn send_stdout(
    sink: &mut Sink,
    data: Bytes,
    sent: &mut u64,
    drop_after: Option<u64>,
    throttle: Option<u64>,
) -> Flow {
    let mut data = data;
    let mut cut = false;
    if let Some(limit) = drop_after {
        let room = usize::try_from(limit.saturating_sub(*sent)).unwrap_or(usize::MAX);
        if data.len() >= room {
            data.truncate(room);
            cut = true;
        }
    }
    let piece_len = throttle.map_or(data.len().max(1), |rate| {
        usize::try_from(rate / 10).unwrap_or(usize::MAX).max(1)
    });
    for piece in data.chunks(piece_len) {
        if matches!(send_frame(sink, STDOUT, piece).await, Flow::Cut) {
            return Flow::Cut;
        }
        *sent += piece.len() as u64;
        if let Some(rate) = throttle {
            tokio::time::sleep(Duration::from_secs_f64(piece.len() as f64 / rate as f64)).await;
        }
    }
    if cut {
        let _ = sink.flush().await;
        return Flow::Cut;
    }
    Flow::Continue
}

async fn send_status(sink: &mut Sink, status: &ExecStatus) -> Flow {
    let json = serde_json::to_vec(status).unwrap_or_default();
    send_frame(sink, STATUS, &json).await
}

/// Sends a normal close frame and waits (bounded) for the client's.
async fn finish(mut sink: Sink, mut stream: Stream) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "".into(),
        })))
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_rewritten_only_as_whole_paths() {
        let mounts = vec![("/host/ckpt".to_string(), PathBuf::from("/x"))];
        let cases = [
            ("/host/ckpt", "host/ckpt"),
            ("/host/ckpt/a.tar", "host/ckpt/a.tar"),
            (
                "tar cf - /host/ckpt/a | tail -c+5",
                "tar cf - host/ckpt/a | tail -c+5",
            ),
            ("'/host/ckpt/a' /host/ckpt", "'host/ckpt/a' host/ckpt"),
            ("/host/ckptx", "/host/ckptx"),
            ("/a/host/ckpt", "/a/host/ckpt"),
        ];
        for (arg, want) in cases {
            assert_eq!(rewrite_mount_paths(arg, &mounts), want, "{arg}");
        }
    }
}

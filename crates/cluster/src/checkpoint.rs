//! The kubelet checkpoint API through the API server's nodes proxy:
//! `POST /api/v1/nodes/{node}/proxy/checkpoint/{namespace}/{pod}/{container}?timeout=N`.

use std::fmt;
use std::time::{Duration, Instant};

use kube::Client;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};

use super::restart::ContainerSnapshot;
use super::{from_kube, Call, Error, Reporter, Result};

/// Characters escaped in one path segment: everything that would end or change the segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One container on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    /// The node the pod runs on (`spec.nodeName`).
    pub node: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The container's name.
    pub container: String,
    /// Its status when its pod was read, before the checkpoint (`None`: none reported).
    pub status: Option<ContainerSnapshot>,
}

impl fmt::Display for ContainerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pod {}/{}, container {} on node {}",
            self.namespace, self.pod, self.container, self.node
        )
    }
}

/// What one checkpoint produced; the JSON/YAML record of `kubectl checkpoint -o json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// The node holding the archive.
    pub node: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The container's name.
    pub container: String,
    /// The archive's path on the node.
    pub path: String,
    /// Seconds the checkpoint request took.
    pub duration_seconds: f64,
    /// Where `--fetch` wrote the archive on this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<std::path::PathBuf>,
    /// Why `--fetch` could not copy it (the archive stays on the node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_error: Option<String>,
    /// Whether the container exited or restarted right after the checkpoint: its main process
    /// did not survive CRIU's interruption (see docs/enabling-checkpointing.md).
    #[serde(default)]
    pub workload_restarted: bool,
    /// How it ended, when it did (`it exited (Completed, exit code 0) and the kubelet started
    /// it again`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_reason: Option<String>,
    /// The container ID before the checkpoint.
    #[serde(default)]
    pub container_id_before: Option<String>,
    /// The container ID a few seconds after it.
    #[serde(default)]
    pub container_id_after: Option<String>,
    /// The restart count before the checkpoint.
    #[serde(default)]
    pub restart_count_before: Option<i32>,
    /// The restart count a few seconds after it.
    #[serde(default)]
    pub restart_count_after: Option<i32>,
    /// Whether the archive was deleted from the node after it was fetched
    /// (`--delete-after-fetch`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted_from_node: bool,
}

/// The nodes-proxy path of the checkpoint request, each segment percent-encoded.
pub fn build_checkpoint_path(target: &ContainerRef, timeout: Option<Duration>) -> String {
    let mut path = format!(
        "/api/v1/nodes/{}/proxy/checkpoint/{}/{}/{}",
        utf8_percent_encode(&target.node, SEGMENT),
        utf8_percent_encode(&target.namespace, SEGMENT),
        utf8_percent_encode(&target.pod, SEGMENT),
        utf8_percent_encode(&target.container, SEGMENT),
    );
    if let Some(timeout) = timeout {
        path.push_str(&format!("?timeout={}", timeout.as_secs().max(1)));
    }
    path
}

/// The checkpoint request: a POST with an empty body.
pub fn build_checkpoint_request(
    target: &ContainerRef,
    timeout: Option<Duration>,
) -> Result<http::Request<Vec<u8>>> {
    http::Request::post(build_checkpoint_path(target, timeout))
        .body(Vec::new())
        .map_err(|err| Error::Target(format!("cannot build a request for {target}: {err}")))
}

#[derive(Deserialize)]
struct CheckpointResponse {
    items: Vec<String>,
}

/// The archive path from the kubelet's answer `{"items":["/var/lib/kubelet/checkpoints/..."]}`.
pub fn decode_checkpoint_response(body: &str) -> Result<String, String> {
    let response: CheckpointResponse = serde_json::from_str(body)
        .map_err(|err| format!("not the kubelet's {{\"items\": [...]}} JSON: {err}"))?;
    match response.items.as_slice() {
        [path] if path.starts_with('/') => Ok(path.clone()),
        [path] => Err(format!("archive path {path:?} is not absolute")),
        items => Err(format!("expected one archive path, got {}", items.len())),
    }
}

/// Whether a failed checkpoint request never reached the kubelet (the API server could not
/// dial it), so that sending it again cannot checkpoint twice.
fn never_reached_kubelet(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status)
        if status.code == 500 && status.message.contains("error dialing backend"))
}

/// Checkpoints one container and returns where the kubelet wrote the archive. A request the
/// API server could not deliver to the kubelet (`error dialing backend`, as while the kubelet
/// restarts) is sent again up to `retries` times, with a backoff, reported to `reporter`.
pub async fn collect_checkpoint(
    client: &Client,
    target: &ContainerRef,
    timeout: Option<Duration>,
    retries: u32,
    reporter: &dyn Reporter,
) -> Result<CheckpointRecord> {
    let what = format!("checkpoint of {target}");
    let started = Instant::now();
    let send = async {
        let mut backoff = super::retry::Backoff::default();
        let mut attempt = 0;
        loop {
            let request = build_checkpoint_request(target, timeout)?;
            match client.request_text(request).await {
                Err(err) if never_reached_kubelet(&err) && attempt < retries => {
                    attempt += 1;
                    let delay = backoff.next_delay();
                    reporter.retrying(&what, attempt, retries, delay, &err_text(&err));
                    tokio::time::sleep(delay).await;
                }
                other => {
                    return other.map_err(|err| from_kube(what.clone(), Call::Checkpoint, err))
                }
            }
        }
    };
    let body = match timeout {
        // The kubelet enforces `timeout` itself; allow the answer some slack on top.
        Some(limit) => tokio::time::timeout(limit + Duration::from_secs(30), send)
            .await
            .map_err(|_| Error::Timeout {
                what: what.clone(),
                seconds: limit.as_secs(),
            })?,
        None => send.await,
    }?;
    let path = decode_checkpoint_response(&body).map_err(|reason| Error::Decode {
        what: what.clone(),
        reason,
    })?;
    Ok(CheckpointRecord {
        node: target.node.clone(),
        namespace: target.namespace.clone(),
        pod: target.pod.clone(),
        container: target.container.clone(),
        path,
        duration_seconds: started.elapsed().as_secs_f64(),
        fetched: None,
        fetch_error: None,
        workload_restarted: false,
        restart_reason: None,
        container_id_before: target.status.as_ref().and_then(|s| s.container_id.clone()),
        container_id_after: None,
        restart_count_before: target.status.as_ref().map(|s| s.restart_count),
        restart_count_after: None,
        deleted_from_node: false,
    })
}

fn err_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => format!("HTTP {}: {}", status.code, status.message),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(node: &str, ns: &str, pod: &str, container: &str) -> ContainerRef {
        ContainerRef {
            node: node.into(),
            namespace: ns.into(),
            pod: pod.into(),
            container: container.into(),
            status: None,
        }
    }

    #[test]
    fn builds_exact_paths() {
        let cases = [
            (
                target("node-a", "demo", "counters-857d7978fd-jnkck", "counter"),
                None,
                "/api/v1/nodes/node-a/proxy/checkpoint/demo/counters-857d7978fd-jnkck/counter",
            ),
            (
                target("node-a", "demo", "p", "c"),
                Some(Duration::from_secs(120)),
                "/api/v1/nodes/node-a/proxy/checkpoint/demo/p/c?timeout=120",
            ),
            (
                target("node-a:10250", "ns", "p", "c"),
                Some(Duration::from_millis(10)),
                "/api/v1/nodes/node-a:10250/proxy/checkpoint/ns/p/c?timeout=1",
            ),
            (
                target("n", "a/b", "p?x", "c d#e%"),
                None,
                "/api/v1/nodes/n/proxy/checkpoint/a%2Fb/p%3Fx/c%20d%23e%25",
            ),
        ];
        for (target, timeout, want) in cases {
            assert_eq!(build_checkpoint_path(&target, timeout), want);
        }
    }

    #[test]
    fn request_is_an_empty_post() {
        let req = build_checkpoint_request(&target("n", "ns", "p", "c"), None).unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri(), "/api/v1/nodes/n/proxy/checkpoint/ns/p/c");
        assert!(req.body().is_empty());
    }

    #[test]
    fn decodes_the_kubelet_answer() {
        let ok = r#"{"items":["/var/lib/kubelet/checkpoints/checkpoint-p_ns-c-2023-08-24T11:24:18Z.tar"]}"#;
        assert_eq!(
            decode_checkpoint_response(ok).unwrap(),
            "/var/lib/kubelet/checkpoints/checkpoint-p_ns-c-2023-08-24T11:24:18Z.tar"
        );
        assert!(decode_checkpoint_response(r#"{"items":[]}"#)
            .unwrap_err()
            .contains("got 0"));
        assert!(decode_checkpoint_response(r#"{"items":["rel.tar"]}"#)
            .unwrap_err()
            .contains("not absolute"));
        assert!(decode_checkpoint_response("<html>").is_err());
    }

    #[test]
    fn record_round_trips_through_json() {
        let record = CheckpointRecord {
            node: "n".into(),
            namespace: "ns".into(),
            pod: "p".into(),
            container: "c".into(),
            path: "/x.tar".into(),
            duration_seconds: 1.5,
            fetched: None,
            fetch_error: None,
            workload_restarted: true,
            restart_reason: Some("it exited".into()),
            container_id_before: Some("containerd://a".into()),
            container_id_after: Some("containerd://b".into()),
            restart_count_before: Some(0),
            restart_count_after: Some(1),
            deleted_from_node: false,
        };
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("fetched") && !json.contains("deleted_from_node"));
        assert!(json.contains("\"workload_restarted\":true"), "{json}");
        assert_eq!(
            serde_json::from_str::<CheckpointRecord>(&json).unwrap(),
            record
        );
    }
}

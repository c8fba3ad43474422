//! The fake kubelet behind `/api/v1/nodes/{node}/proxy/...`: the checkpoint API of KEP-2008.
//!
//! Kubelet answers are plain text (go-restful `WriteError`), passed through by the API server;
//! the API server's own refusals (unknown node, RBAC) are `Status` JSON.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::Duration;

use hyper::{Method, Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::respond::{json_response, not_found, response, status_response, Body, Query};
use super::state::Shared;
use super::{lock, Fault};

/// The kubelet's checkpoint answer.
#[derive(Serialize)]
struct CheckpointItems {
    items: Vec<String>,
}

/// Handles a nodes-proxy request; `node` may carry a port (`node-a:10250`) or scheme (`https:node-a:10250`).
pub(super) async fn handle(
    shared: Arc<Shared>,
    node: &str,
    rest: &[&str],
    method: &Method,
    query: &Query,
) -> Response<Body> {
    let node_name = node_name(node);
    if !lock(&shared.state).has_node(node_name) {
        return not_found("nodes", "", node_name);
    }
    if shared.has_fault(&Fault::Forbidden403) {
        return status_response(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "nodes \"{node_name}\" is forbidden: User \"fake-user\" cannot create resource \"nodes/proxy\" in API group \"\" at the cluster scope"
            ),
            Some(StatusDetails {
                name: Some(node_name.to_string()),
                kind: Some("nodes".to_string()),
                ..StatusDetails::default()
            }),
        );
    }
    let ["checkpoint", namespace, pod, container] = rest else {
        return kubelet_text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    if shared.has_fault(&Fault::GateOff404) {
        return kubelet_text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    if shared.has_fault(&Fault::KubeletForbidden) {
        return kubelet_text(
            StatusCode::FORBIDDEN,
            "Forbidden (user=system:kube-apiserver, verb=create, resource=nodes, subresource(s)=[checkpoint])",
        );
    }
    if method != Method::POST {
        return kubelet_text(StatusCode::METHOD_NOT_ALLOWED, "405: Method Not Allowed");
    }
    // The kubelet goes on when the client hangs up (a Ctrl-C): the work runs on its own task.
    let (shared, node, namespace, pod, container) = (
        Arc::clone(&shared),
        node_name.to_string(),
        namespace.to_string(),
        pod.to_string(),
        container.to_string(),
    );
    let timeout = query.get("timeout").map(str::to_string);
    let work = tokio::spawn(async move {
        checkpoint(
            &shared,
            &node,
            &namespace,
            &pod,
            &container,
            timeout.as_deref(),
        )
        .await
    });
    match work.await {
        Ok(response) => response,
        Err(e) => kubelet_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("fake kubelet: {e}"),
        ),
    }
}

/// `node-a`, `node-a:10250`, `https:node-a:10250` -> `node-a`.
fn node_name(node: &str) -> &str {
    let node = node
        .strip_prefix("https:")
        .or_else(|| node.strip_prefix("http:"))
        .unwrap_or(node);
    node.split_once(':').map_or(node, |(name, _)| name)
}

fn kubelet_text(code: StatusCode, text: &str) -> Response<Body> {
    response(code, "text/plain; charset=utf-8", text.as_bytes().to_vec())
}

async fn checkpoint(
    shared: &Arc<Shared>,
    node: &str,
    namespace: &str,
    pod_name: &str,
    container: &str,
    timeout: Option<&str>,
) -> Response<Body> {
    let (running, node_delay) = {
        let mut state = lock(&shared.state);
        state.refresh();
        let node_delay = state
            .node_specs
            .iter()
            .find(|n| n.name == node)
            .map_or(Duration::ZERO, |n| n.checkpoint_delay);
        let Some(pod) = state
            .pod(namespace, pod_name)
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
        else {
            return kubelet_text(StatusCode::NOT_FOUND, "pod does not exist");
        };
        let spec = pod.spec.clone().unwrap_or_default();
        let known = spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .any(|c| c.name == container);
        if !known {
            return kubelet_text(
                StatusCode::NOT_FOUND,
                &format!("container {container} does not exist"),
            );
        }
        let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
        (running, node_delay)
    };
    if let Some(timeout) = timeout {
        if timeout.parse::<i64>().is_err() {
            return kubelet_text(
                StatusCode::NOT_FOUND,
                "cannot parse value of timeout parameter",
            );
        }
    }
    let runtime_error = shared.faults().into_iter().find_map(|f| match f {
        Fault::Runtime500(text) => Some(text),
        _ => None,
    });
    let runtime_error = runtime_error.or_else(|| {
        (!running).then(|| {
            format!("rpc error: code = NotFound desc = could not find container \"{container}\"")
        })
    });
    if let Some(text) = runtime_error {
        return kubelet_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("checkpointing of {namespace}/{pod_name}/{container} failed ({text})"),
        );
    }
    let _running = shared
        .load
        .checkpoint(node, format!("{namespace}/{pod_name}/{container}"));
    let slow = shared.faults().into_iter().find_map(|f| match f {
        Fault::SlowCheckpoint(delay) => Some(delay),
        _ => None,
    });
    let delay = slow.unwrap_or_default() + node_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let stamp = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let file_name = format!("checkpoint-{pod_name}_{namespace}-{container}-{stamp}.tar");
    let target = shared.node_checkpoint_dir(node).join(&file_name);
    let fixture = shared.fixture.clone();
    let copied = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        let mut source = std::fs::File::open(&fixture)?;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&target)?;
        let n = std::io::copy(&mut source, &mut out)?;
        out.flush()?;
        Ok(n)
    })
    .await;
    let exits = lock(&shared.state)
        .exits_on_checkpoint
        .iter()
        .any(|(ns, p, c)| ns == namespace && p == pod_name && c == container);
    if exits && matches!(copied, Ok(Ok(_))) {
        // The main process returns when CRIU lets it go; the kubelet notices and restarts it.
        let shared = Arc::clone(shared);
        let (namespace, pod_name, container) = (
            namespace.to_string(),
            pod_name.to_string(),
            container.to_string(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let mut state = lock(&shared.state);
            let version = state.next_resource_version();
            if let Some(stored) = state.pods.iter_mut().find(|p| {
                p.pod.metadata.namespace.as_deref() == Some(namespace.as_str())
                    && p.pod.metadata.name.as_deref() == Some(pod_name.as_str())
            }) {
                super::objects::mark_restarted(&mut stored.pod, &container, Timestamp::now());
                stored.pod.metadata.resource_version = Some(version);
            }
        });
    }
    match copied {
        Ok(Ok(_)) => json_response(
            StatusCode::OK,
            &CheckpointItems { items: vec![format!("/var/lib/kubelet/checkpoints/{file_name}")] },
        ),
        Ok(Err(e)) => kubelet_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("checkpointing of {namespace}/{pod_name}/{container} failed (fake kubelet: copy fixture: {e})"),
        ),
        Err(e) => kubelet_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("checkpointing of {namespace}/{pod_name}/{container} failed (fake kubelet: {e})"),
        ),
    }
}

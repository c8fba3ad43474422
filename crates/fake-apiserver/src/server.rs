//! The HTTPS server: accept loop, auth and recording, routing, discovery, pods, nodes and workloads.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{Event, Namespace, NamespaceStatus, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, DeleteOptions,
    GroupVersionForDiscovery, ListMeta, ObjectMeta, ServerAddressByClientCIDR, StatusDetails, Time,
};
use k8s_openapi::apimachinery::pkg::version::Info;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::discovery;
use super::objects::{fake_uid, WorkloadKind};
use super::respond::{
    bad_request, json_response, not_found, not_found_path, response, status_response,
    typed_json_response, Body, Query,
};
use super::selector::{FieldSelector, LabelSelector};
use super::state::{Shared, StoredPod};
use super::table;
use super::watch::{watch_pods, PodFilter};
use super::{exec, kubelet, lock, Fault, RecordedRequest};

/// The running server: its address and how to stop it.
pub(super) struct ServerHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting, cancels connection tasks (killing exec'd processes) and joins the thread.
    pub fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

/// Binds 127.0.0.1:0 and serves on a new thread with its own runtime.
pub(super) fn spawn(
    shared: Arc<Shared>,
    tls: &super::tls::TlsMaterial,
) -> std::io::Result<ServerHandle> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&tls.server_config));
    let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("fake-apiserver")
        .build()?;
    let thread = std::thread::Builder::new()
        .name("fake-apiserver".to_string())
        .spawn(move || {
            runtime.block_on(accept_loop(listener, acceptor, shared, shutdown_rx));
            runtime.shutdown_timeout(Duration::from_secs(2));
        })?;
    Ok(ServerHandle {
        addr,
        shutdown,
        thread,
    })
}

async fn accept_loop(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let acceptor = acceptor.clone();
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .with_upgrades()
                .await;
        });
    }
}

/// Largest request body accepted (pod manifests are small).
const MAX_BODY_BYTES: usize = 1 << 20;

async fn handle(shared: Arc<Shared>, mut req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let impersonate_user = req
        .headers()
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let impersonate_groups = req
        .headers()
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    let token_ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == shared.token);
    let authorized = token_ok && !shared.has_fault(&Fault::Unauthorized);
    let path = req.uri().path().to_string();
    let query = Query(
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    );
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();

    let is_exec = matches!(
        segs.as_slice(),
        ["api", "v1", "namespaces", _, "pods", _, "exec"]
    );
    let upgrade = if is_exec {
        Some(hyper::upgrade::on(&mut req))
    } else {
        None
    };
    let headers = req.headers().clone();
    let body = if is_exec {
        Vec::new()
    } else {
        match Limited::new(req.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(_) => {
                return status_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    "request body too large",
                    None,
                )
            }
        }
    };
    let table = table::wants_table(accept.as_deref());
    let aggregated = shared.aggregated_discovery && discovery::wants_aggregated(accept.as_deref());
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path_and_query,
        authorized,
        accept,
        body: body.clone(),
        user_agent,
        impersonate_user,
        impersonate_groups,
    });
    // A watch stays open by design: only the other requests count as in flight.
    let _in_flight = (!query.flag("watch")).then(|| shared.load.request());
    if !shared.request_latency.is_zero() {
        tokio::time::sleep(shared.request_latency).await;
    }
    if shared.has_fault(&Fault::HangRequests) {
        // Taken, never answered: the client's own timeout is all that ends it.
        std::future::pending::<()>().await;
    }
    if !authorized {
        return status_response(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
            None,
        );
    }

    match (segs.as_slice(), &method) {
        (["version"], &Method::GET) => json_response(StatusCode::OK, &version_info()),
        (["api"], &Method::GET) if aggregated => typed_json_response(
            discovery::AGGREGATED_V2,
            &discovery::aggregated(&[("", core_v1_resources())]),
        ),
        (["apis"], &Method::GET) if aggregated => typed_json_response(
            discovery::AGGREGATED_V2,
            &discovery::aggregated(&[("apps", apps_v1_resources())]),
        ),
        (["api"], &Method::GET) => json_response(StatusCode::OK, &api_versions()),
        (["api", "v1"], &Method::GET) => json_response(StatusCode::OK, &core_v1_resources()),
        (["apis"], &Method::GET) => json_response(StatusCode::OK, &api_groups()),
        (["apis", "apps"], &Method::GET) => json_response(StatusCode::OK, &apps_group()),
        (["apis", "apps", "v1"], &Method::GET) => {
            json_response(StatusCode::OK, &apps_v1_resources())
        }
        (["api", "v1", "pods"], &Method::GET) => list_pods(&shared, None, &query, table),
        (["api", "v1", "namespaces", ns, "pods"], &Method::GET) => {
            list_pods(&shared, Some(ns), &query, table)
        }
        (["api", "v1", "namespaces", ns, "pods"], &Method::POST) => create_pod(&shared, ns, &body),
        (["api", "v1", "namespaces", ns, "pods", name], &Method::GET) => {
            get_pod(&shared, ns, name, table)
        }
        (["api", "v1", "namespaces", ns, "pods", name], &Method::DELETE) => {
            delete_pod(&shared, ns, name, &query, &body)
        }
        (["api", "v1", "namespaces", ns, "pods", name, "exec"], &Method::GET | &Method::POST) => {
            exec::handle(shared, ns, name, &query, &headers, upgrade).await
        }
        (["api", "v1", "namespaces", ns, "pods", name, "log"], &Method::GET) => {
            pod_log(&shared, ns, name, &query)
        }
        (["api", "v1", "namespaces", ns, "events"], &Method::GET) => {
            list_events(&shared, ns, &query)
        }
        (["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"], &Method::POST) => {
            self_subject_review()
        }
        (["api", "v1", "namespaces"], &Method::GET) => list_namespaces(&shared),
        (["api", "v1", "namespaces"], &Method::POST) => create_namespace(&shared, &body),
        (
            ["apis", "networking.k8s.io", "v1", "namespaces", ns, "networkpolicies"],
            &Method::POST,
        ) => create_network_policy(&shared, ns, &body),
        (["api", "v1", "namespaces", name], &Method::GET) => get_namespace(&shared, name),
        (["api", "v1", "nodes"], &Method::GET) => list_nodes(&shared, &query),
        (["api", "v1", "nodes", name], &Method::GET) => get_node(&shared, name),
        (["api", "v1", "nodes", node, "proxy", rest @ ..], _) => {
            kubelet::handle(shared, node, rest, &method, &query).await
        }
        (["apis", "apps", "v1", "namespaces", ns, resource], &Method::GET) => {
            match WorkloadKind::from_resource(resource) {
                Some(kind) => list_workloads(&shared, Some(ns), kind, &query),
                None => not_found_path(),
            }
        }
        (["apis", "apps", "v1", resource], &Method::GET) => {
            match WorkloadKind::from_resource(resource) {
                Some(kind) => list_workloads(&shared, None, kind, &query),
                None => not_found_path(),
            }
        }
        (["apis", "apps", "v1", "namespaces", ns, resource, name], &Method::GET) => {
            match WorkloadKind::from_resource(resource) {
                Some(kind) => get_workload(&shared, ns, kind, name),
                None => not_found_path(),
            }
        }
        (["version" | "api" | "apis"] | ["api" | "apis", ..], _) if is_known_path(&segs) => {
            status_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                Some(StatusDetails::default()),
            )
        }
        _ => not_found_path(),
    }
}

/// Whether some method is served at this path (to tell 405 from 404).
fn is_known_path(segs: &[&str]) -> bool {
    matches!(
        segs,
        ["version"]
            | ["api"]
            | ["api", "v1"]
            | ["apis"]
            | ["apis", "apps"]
            | ["apis", "apps", "v1"]
            | ["api", "v1", "pods"]
            | ["api", "v1", "namespaces", _, "pods"]
            | ["api", "v1", "namespaces", _, "pods", _]
            | ["api", "v1", "namespaces", _, "pods", _, "exec"]
            | ["api", "v1", "namespaces", _, "pods", _, "log"]
            | ["api", "v1", "namespaces"]
            | ["api", "v1", "namespaces", _]
            | ["api", "v1", "namespaces", _, "events"]
            | ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]
            | ["api", "v1", "nodes"]
            | ["api", "v1", "nodes", _]
    )
}

fn version_info() -> Info {
    Info {
        build_date: "2024-12-10T11:36:15Z".to_string(),
        compiler: "gc".to_string(),
        git_commit: "fake0000000000000000000000000000000000000".to_string(),
        git_tree_state: "clean".to_string(),
        git_version: "v1.31.4".to_string(),
        go_version: "go1.22.9".to_string(),
        major: "1".to_string(),
        minor: "31".to_string(),
        platform: "linux/amd64".to_string(),
        ..Info::default()
    }
}

fn api_versions() -> APIVersions {
    APIVersions {
        server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".to_string(),
            server_address: "127.0.0.1:6443".to_string(),
        }],
        versions: vec!["v1".to_string()],
    }
}

fn resource(
    name: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    verbs: &[&str],
    short: &[&str],
) -> APIResource {
    APIResource {
        name: name.to_string(),
        singular_name: singular.to_string(),
        kind: kind.to_string(),
        namespaced,
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        short_names: (!short.is_empty()).then(|| short.iter().map(|s| s.to_string()).collect()),
        ..APIResource::default()
    }
}

const OBJECT_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn core_v1_resources() -> APIResourceList {
    APIResourceList {
        group_version: "v1".to_string(),
        resources: vec![
            resource(
                "events",
                "event",
                "Event",
                true,
                &["get", "list", "watch"],
                &["ev"],
            ),
            resource(
                "namespaces",
                "namespace",
                "Namespace",
                false,
                OBJECT_VERBS,
                &["ns"],
            ),
            resource("nodes", "node", "Node", false, OBJECT_VERBS, &["no"]),
            resource(
                "nodes/proxy",
                "",
                "NodeProxyOptions",
                false,
                &["create", "delete", "get", "patch", "update"],
                &[],
            ),
            resource("pods", "pod", "Pod", true, OBJECT_VERBS, &["po"]),
            resource(
                "pods/exec",
                "",
                "PodExecOptions",
                true,
                &["create", "get"],
                &[],
            ),
            resource("pods/log", "", "Pod", true, &["get"], &[]),
        ],
    }
}

fn apps_version() -> GroupVersionForDiscovery {
    GroupVersionForDiscovery {
        group_version: "apps/v1".to_string(),
        version: "v1".to_string(),
    }
}

fn apps_group() -> APIGroup {
    APIGroup {
        name: "apps".to_string(),
        preferred_version: Some(apps_version()),
        server_address_by_client_cidrs: None,
        versions: vec![apps_version()],
    }
}

fn api_groups() -> APIGroupList {
    APIGroupList {
        groups: vec![apps_group()],
    }
}

fn apps_v1_resources() -> APIResourceList {
    APIResourceList {
        group_version: "apps/v1".to_string(),
        resources: vec![
            resource(
                "daemonsets",
                "daemonset",
                "DaemonSet",
                true,
                OBJECT_VERBS,
                &["ds"],
            ),
            resource(
                "deployments",
                "deployment",
                "Deployment",
                true,
                OBJECT_VERBS,
                &["deploy"],
            ),
            resource(
                "replicasets",
                "replicaset",
                "ReplicaSet",
                true,
                OBJECT_VERBS,
                &["rs"],
            ),
            resource(
                "statefulsets",
                "statefulset",
                "StatefulSet",
                true,
                OBJECT_VERBS,
                &["sts"],
            ),
        ],
    }
}

/// A `*List` object: apiVersion, kind, metadata.resourceVersion, items.
#[derive(Serialize)]
struct ListObject<T> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: ListMeta,
    items: Vec<T>,
}

const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "status.phase",
];

fn pod_field(pod: &Pod, field: &str) -> String {
    match field {
        "metadata.name" => pod.metadata.name.clone(),
        "metadata.namespace" => pod.metadata.namespace.clone(),
        "spec.nodeName" => pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        "status.phase" => pod.status.as_ref().and_then(|s| s.phase.clone()),
        _ => None,
    }
    .unwrap_or_default()
}

fn selectors(query: &Query, fields: &[&str]) -> Result<(LabelSelector, FieldSelector), String> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), fields)?;
    Ok((labels, fields))
}

fn list_pods(
    shared: &Arc<Shared>,
    namespace: Option<&str>,
    query: &Query,
    table: bool,
) -> Response<Body> {
    let (labels, fields) = match selectors(query, POD_FIELDS) {
        Ok(s) => s,
        Err(message) => return bad_request(&message),
    };
    if query.flag("watch") {
        let since = query.get("resourceVersion").and_then(|v| v.parse().ok());
        let timeout = query.get("timeoutSeconds").and_then(|v| v.parse().ok());
        let filter = PodFilter {
            namespace: namespace.map(str::to_string),
            labels,
            fields,
            field: pod_field,
        };
        return watch_pods(Arc::clone(shared), filter, since, timeout);
    }
    let mut state = lock(&shared.state);
    state.refresh();
    let items: Vec<Pod> = state
        .pods
        .iter()
        .map(|p| &p.pod)
        .filter(|p| namespace.is_none_or(|ns| p.metadata.namespace.as_deref() == Some(ns)))
        .filter(|p| labels.matches(p.metadata.labels.as_ref()))
        .filter(|p| fields.matches(|f| pod_field(p, f)))
        .cloned()
        .collect();
    if table {
        let table = table::pods_table(&items, state.resource_version());
        return response(
            StatusCode::OK,
            table::TABLE_V1,
            serde_json::to_vec(&table).unwrap_or_default(),
        );
    }
    let list = ListObject {
        api_version: "v1",
        kind: "PodList",
        metadata: ListMeta {
            resource_version: Some(state.resource_version()),
            ..ListMeta::default()
        },
        items,
    };
    json_response(StatusCode::OK, &list)
}

fn get_pod(shared: &Shared, namespace: &str, name: &str, table: bool) -> Response<Body> {
    let mut state = lock(&shared.state);
    state.refresh();
    match state.pod(namespace, name) {
        Some(pod) if table => {
            let table = table::pods_table(std::slice::from_ref(pod), state.resource_version());
            response(
                StatusCode::OK,
                table::TABLE_V1,
                serde_json::to_vec(&table).unwrap_or_default(),
            )
        }
        Some(pod) => json_response(StatusCode::OK, pod),
        None => not_found("pods", "", name),
    }
}

/// `pods/log`: the container's log text as the builder gave it (`tailLines` honoured).
fn pod_log(shared: &Shared, namespace: &str, name: &str, query: &Query) -> Response<Body> {
    let mut state = lock(&shared.state);
    state.refresh();
    let Some(pod) = state.pod(namespace, name) else {
        return not_found("pods", "", name);
    };
    let spec = pod.spec.clone().unwrap_or_default();
    let container = match query.get("container") {
        Some(c) => c.to_string(),
        None if spec.containers.len() == 1 => spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        None => {
            let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
            return bad_request(&format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            ));
        }
    };
    if !spec.containers.iter().any(|c| c.name == container) {
        return bad_request(&format!(
            "container {container} is not valid for pod {name}"
        ));
    }
    if pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Running") {
        return bad_request(&format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        ));
    }
    let key = (namespace.to_string(), name.to_string(), container);
    let timestamps = query.flag("timestamps");
    let text = match state.timed_logs.get(&key) {
        Some(lines) => lines
            .iter()
            .map(|(time, line)| {
                if timestamps {
                    format!("{time} {line}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect(),
        None => state.logs.get(&key).cloned().unwrap_or_default(),
    };
    let text = match query.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            lines[lines.len().saturating_sub(n)..].concat()
        }
        None => text,
    };
    response(StatusCode::OK, "text/plain", text.into_bytes())
}

/// Characters the API server uses for `generateName` suffixes.
const NAME_SUFFIX_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn create_pod(shared: &Shared, namespace: &str, body: &[u8]) -> Response<Body> {
    let mut pod: Pod = match serde_json::from_slice(body) {
        Ok(pod) => pod,
        Err(e) => return bad_request(&format!("error decoding request body: {e}")),
    };
    if pod
        .metadata
        .namespace
        .as_deref()
        .is_some_and(|ns| ns != namespace)
    {
        return bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        );
    }
    let mut state = lock(&shared.state);
    let name = match (&pod.metadata.name, &pod.metadata.generate_name) {
        (Some(name), _) if !name.is_empty() => name.clone(),
        (_, Some(prefix)) if !prefix.is_empty() => {
            let seed = super::state::random_token();
            let suffix: String = seed
                .bytes()
                .take(5)
                .map(|b| char::from(NAME_SUFFIX_CHARS[usize::from(b) % NAME_SUFFIX_CHARS.len()]))
                .collect();
            format!("{prefix}{suffix}")
        }
        _ => return status_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required",
            None,
        ),
    };
    if state.pod(namespace, &name).is_some() {
        return status_response(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("pods \"{name}\" already exists"),
            Some(StatusDetails {
                name: Some(name),
                kind: Some("pods".to_string()),
                ..StatusDetails::default()
            }),
        );
    }
    let host_path = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .and_then(|v| v.iter().find(|v| v.host_path.is_some()))
        .map(|v| v.name.clone());
    if let (Some(volume), true) = (
        host_path,
        shared.restricted_namespaces.iter().any(|n| n == namespace),
    ) {
        return status_response(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "pods \"{name}\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"{volume}\")"
            ),
            Some(StatusDetails {
                name: Some(name),
                kind: Some("pods".to_string()),
                ..StatusDetails::default()
            }),
        );
    }
    let Some(spec) = pod.spec.as_mut().filter(|s| !s.containers.is_empty()) else {
        return status_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            &format!("Pod \"{name}\" is invalid: spec.containers: Required value"),
            None,
        );
    };
    if spec.node_name.is_none() {
        spec.node_name = state.nodes.first().and_then(|n| n.metadata.name.clone());
    }
    let schedulable = spec.node_name.as_deref().is_some_and(|n| state.has_node(n));
    let now = Timestamp::now();
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = Some(namespace.to_string());
    pod.metadata.uid = Some(fake_uid(&format!(
        "pod/{namespace}/{name}/{}",
        super::state::random_token()
    )));
    pod.metadata.creation_timestamp = Some(Time(now));
    let version = state.next_resource_version();
    pod.metadata.resource_version = Some(version.clone());
    pod.status = Some(k8s_openapi::api::core::v1::PodStatus {
        phase: Some("Pending".to_string()),
        qos_class: Some("BestEffort".to_string()),
        ..Default::default()
    });
    let running_at = schedulable.then(|| Instant::now() + state.pod_start_delay);
    state.pods.push(StoredPod {
        pod: pod.clone(),
        running_at,
        gone_at: None,
        created_version: version.parse().unwrap_or(0),
        last_failure: None,
    });
    json_response(StatusCode::CREATED, &pod)
}

/// Default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE_SECONDS: i64 = 30;

/// Deletes a pod like the API server: a running pod gets `deletionTimestamp` and lingers until its
/// containers "stop" (the builder's pod start delay), unless the grace period is 0; others go at once.
fn delete_pod(
    shared: &Shared,
    namespace: &str,
    name: &str,
    query: &Query,
    body: &[u8],
) -> Response<Body> {
    let options: Option<DeleteOptions> = serde_json::from_slice(body).ok();
    let grace = query
        .get("gracePeriodSeconds")
        .and_then(|g| g.parse::<i64>().ok())
        .or_else(|| options.and_then(|o| o.grace_period_seconds));
    let mut state = lock(&shared.state);
    state.refresh();
    let index = state.pods.iter().position(|p| {
        p.pod.metadata.namespace.as_deref() == Some(namespace)
            && p.pod.metadata.name.as_deref() == Some(name)
    });
    let Some(index) = index else {
        return not_found("pods", "", name);
    };
    let version = state.next_resource_version();
    let linger = state.pod_start_delay;
    let Some(stored) = state.pods.get_mut(index) else {
        return not_found("pods", "", name);
    };
    let running = stored.pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    if stored.gone_at.is_some() {
        return json_response(StatusCode::OK, &stored.pod);
    }
    let now = Timestamp::now();
    stored.pod.metadata.resource_version = Some(version);
    if running && grace != Some(0) {
        let grace = grace.unwrap_or(DEFAULT_GRACE_SECONDS);
        let deadline = now
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(grace))
            .unwrap_or(now);
        stored.pod.metadata.deletion_timestamp = Some(Time(deadline));
        stored.pod.metadata.deletion_grace_period_seconds = Some(grace);
        stored.gone_at = Some(Instant::now() + linger);
        return json_response(StatusCode::OK, &stored.pod);
    }
    let mut pod = state.pods.remove(index).pod;
    pod.metadata.deletion_timestamp = Some(Time(now));
    pod.metadata.deletion_grace_period_seconds = Some(0);
    json_response(StatusCode::OK, &pod)
}

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
    "involvedObject.kind",
    "reason",
    "type",
];

fn event_field(event: &Event, field: &str) -> String {
    let object = &event.involved_object;
    match field {
        "involvedObject.name" => object.name.clone(),
        "involvedObject.namespace" => object.namespace.clone(),
        "involvedObject.uid" => object.uid.clone(),
        "involvedObject.kind" => object.kind.clone(),
        "reason" => event.reason.clone(),
        "type" => event.type_.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

/// Events of a namespace (list or watch), filtered by field selectors on the involved object.
fn list_events(shared: &Arc<Shared>, namespace: &str, query: &Query) -> Response<Body> {
    let (_, fields) = match selectors(query, EVENT_FIELDS) {
        Ok(s) => s,
        Err(message) => return bad_request(&message),
    };
    let namespace = namespace.to_string();
    let matches = move |event: &Event| {
        event.metadata.namespace.as_deref() == Some(namespace.as_str())
            && fields.matches(|f| event_field(event, f))
    };
    if query.flag("watch") {
        let since = query
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let timeout = query.get("timeoutSeconds").and_then(|v| v.parse().ok());
        return super::watch::watch_events(Arc::clone(shared), Box::new(matches), since, timeout);
    }
    let mut state = lock(&shared.state);
    state.refresh();
    let list = ListObject {
        api_version: "v1",
        kind: "EventList",
        metadata: ListMeta {
            resource_version: Some(state.resource_version()),
            ..ListMeta::default()
        },
        items: state
            .events
            .iter()
            .filter(|e| matches(e))
            .cloned()
            .collect(),
    };
    json_response(StatusCode::OK, &list)
}

/// `kubectl auth whoami`: the fake's one user.
fn self_subject_review() -> Response<Body> {
    json_response(
        StatusCode::CREATED,
        &serde_json::json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {
                "username": "fake-user",
                "groups": ["system:authenticated"],
            }},
        }),
    )
}

fn namespace_object(name: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            uid: Some(fake_uid(&format!("namespace/{name}"))),
            labels: Some(std::collections::BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                name.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: None,
        status: Some(NamespaceStatus {
            phase: Some("Active".to_string()),
            conditions: None,
        }),
    }
}

fn list_namespaces(shared: &Shared) -> Response<Body> {
    let state = lock(&shared.state);
    let list = ListObject {
        api_version: "v1",
        kind: "NamespaceList",
        metadata: ListMeta {
            resource_version: Some(state.resource_version()),
            ..ListMeta::default()
        },
        items: state
            .namespaces()
            .iter()
            .map(|n| namespace_object(n))
            .collect(),
    };
    json_response(StatusCode::OK, &list)
}

fn get_namespace(shared: &Shared, name: &str) -> Response<Body> {
    let state = lock(&shared.state);
    if let Some(created) = state
        .created_namespaces
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(name))
    {
        return json_response(StatusCode::OK, created);
    }
    if state.namespaces().iter().any(|n| n == name) {
        json_response(StatusCode::OK, &namespace_object(name))
    } else {
        not_found("namespaces", "", name)
    }
}

/// `POST /api/v1/namespaces`: 409 when it exists, else stored with its labels.
fn create_namespace(shared: &Shared, body: &[u8]) -> Response<Body> {
    let mut namespace: Namespace = match serde_json::from_slice(body) {
        Ok(n) => n,
        Err(e) => return bad_request(&format!("error decoding request body: {e}")),
    };
    let Some(name) = namespace.metadata.name.clone().filter(|n| !n.is_empty()) else {
        return status_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "Namespace \"\" is invalid: metadata.name: Required value: name or generateName is required",
            None,
        );
    };
    let mut state = lock(&shared.state);
    if state.namespaces().iter().any(|n| n == &name) {
        return status_response(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("namespaces \"{name}\" already exists"),
            Some(StatusDetails {
                name: Some(name),
                kind: Some("namespaces".to_string()),
                ..StatusDetails::default()
            }),
        );
    }
    let mut labels = namespace.metadata.labels.clone().unwrap_or_default();
    labels.insert("kubernetes.io/metadata.name".to_string(), name.clone());
    namespace.metadata.labels = Some(labels);
    namespace.metadata.uid = Some(fake_uid(&format!("namespace/{name}")));
    namespace.metadata.creation_timestamp = Some(Time(Timestamp::now()));
    namespace.metadata.resource_version = Some(state.next_resource_version());
    namespace.status = Some(NamespaceStatus {
        phase: Some("Active".to_string()),
        conditions: None,
    });
    state.created_namespaces.push(namespace.clone());
    json_response(StatusCode::CREATED, &namespace)
}

/// `POST .../networkpolicies`: stored as sent (the fake enforces nothing, like a CNI without
/// NetworkPolicy support).
fn create_network_policy(shared: &Shared, namespace: &str, body: &[u8]) -> Response<Body> {
    let mut policy: k8s_openapi::api::networking::v1::NetworkPolicy =
        match serde_json::from_slice(body) {
            Ok(p) => p,
            Err(e) => return bad_request(&format!("error decoding request body: {e}")),
        };
    let mut state = lock(&shared.state);
    if !state.namespaces().iter().any(|n| n == namespace) {
        return not_found("namespaces", "", namespace);
    }
    policy.metadata.namespace = Some(namespace.to_string());
    policy.metadata.uid = Some(fake_uid(&format!(
        "networkpolicy/{namespace}/{}",
        policy.metadata.name.clone().unwrap_or_default()
    )));
    policy.metadata.resource_version = Some(state.next_resource_version());
    state.network_policies.push(policy.clone());
    json_response(StatusCode::CREATED, &policy)
}

const NODE_FIELDS: &[&str] = &["metadata.name", "spec.unschedulable"];

fn list_nodes(shared: &Shared, query: &Query) -> Response<Body> {
    let (labels, fields) = match selectors(query, NODE_FIELDS) {
        Ok(s) => s,
        Err(message) => return bad_request(&message),
    };
    let state = lock(&shared.state);
    let items: Vec<Node> = state
        .nodes
        .iter()
        .filter(|n| labels.matches(n.metadata.labels.as_ref()))
        .filter(|n| {
            fields.matches(|f| match f {
                "metadata.name" => n.metadata.name.clone().unwrap_or_default(),
                _ => n
                    .spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false)
                    .to_string(),
            })
        })
        .cloned()
        .collect();
    let list = ListObject {
        api_version: "v1",
        kind: "NodeList",
        metadata: ListMeta {
            resource_version: Some(state.resource_version()),
            ..ListMeta::default()
        },
        items,
    };
    json_response(StatusCode::OK, &list)
}

fn get_node(shared: &Shared, name: &str) -> Response<Body> {
    let state = lock(&shared.state);
    match state
        .nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(name))
    {
        Some(node) => json_response(StatusCode::OK, node),
        None => not_found("nodes", "", name),
    }
}

fn list_workloads(
    shared: &Shared,
    namespace: Option<&str>,
    kind: WorkloadKind,
    query: &Query,
) -> Response<Body> {
    let (labels, fields) = match selectors(query, &["metadata.name", "metadata.namespace"]) {
        Ok(s) => s,
        Err(message) => return bad_request(&message),
    };
    let state = lock(&shared.state);
    let now = Timestamp::now();
    let items: Vec<serde_json::Value> = state
        .workloads
        .iter()
        .filter(|w| w.kind == kind && namespace.is_none_or(|ns| w.namespace == ns))
        .filter(|w| labels.matches(Some(&w.labels)))
        .filter(|w| {
            fields.matches(|f| {
                if f == "metadata.name" {
                    w.name.clone()
                } else {
                    w.namespace.clone()
                }
            })
        })
        .map(|w| w.build(now))
        .collect();
    let list_kind = match kind {
        WorkloadKind::Deployment => "DeploymentList",
        WorkloadKind::StatefulSet => "StatefulSetList",
        WorkloadKind::DaemonSet => "DaemonSetList",
        WorkloadKind::ReplicaSet => "ReplicaSetList",
    };
    let list = ListObject {
        api_version: "apps/v1",
        kind: list_kind,
        metadata: ListMeta {
            resource_version: Some(state.resource_version()),
            ..ListMeta::default()
        },
        items,
    };
    json_response(StatusCode::OK, &list)
}

fn get_workload(
    shared: &Shared,
    namespace: &str,
    kind: WorkloadKind,
    name: &str,
) -> Response<Body> {
    let state = lock(&shared.state);
    match state
        .workloads
        .iter()
        .find(|w| w.kind == kind && w.namespace == namespace && w.name == name)
    {
        Some(w) => json_response(StatusCode::OK, &w.build(Timestamp::now())),
        None => not_found(kind.resource(), "apps", name),
    }
}

//! Pod watches (`?watch=true`): a chunked stream of `{"type":..,"object":..}` lines, made by
//! polling the state, honouring `resourceVersion` (events after it) and `timeoutSeconds`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{header, Response, StatusCode};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::WatchEvent;
use tokio::sync::mpsc;

use super::lock;
use super::respond::Body;
use super::selector::{FieldSelector, LabelSelector};
use super::state::Shared;

/// Longest watch when the client gives no `timeoutSeconds`.
const DEFAULT_WATCH_SECONDS: u64 = 300;
/// How often the state is compared.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Which pods a watch follows.
pub(super) struct PodFilter {
    /// Namespace, or all.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`; `field` gives a pod's value of a field.
    pub fields: FieldSelector,
    /// Looks a field up.
    pub field: fn(&Pod, &str) -> String,
}

type Key = (String, String);

/// (key, resourceVersion, created version, object) of the pods matching now.
fn snapshot(shared: &Shared, filter: &PodFilter) -> Vec<(Key, u64, u64, Pod)> {
    let mut state = lock(&shared.state);
    state.refresh();
    state
        .pods
        .iter()
        .filter(|p| {
            let pod = &p.pod;
            filter
                .namespace
                .as_deref()
                .is_none_or(|ns| pod.metadata.namespace.as_deref() == Some(ns))
                && filter.labels.matches(pod.metadata.labels.as_ref())
                && filter.fields.matches(|f| (filter.field)(pod, f))
        })
        .map(|p| {
            let key = (
                p.pod.metadata.namespace.clone().unwrap_or_default(),
                p.pod.metadata.name.clone().unwrap_or_default(),
            );
            let version = p
                .pod
                .metadata
                .resource_version
                .as_deref()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (key, version, p.created_version, p.pod.clone())
        })
        .collect()
}

/// Starts a watch; events after `since` (all current pods as ADDED when `since` is absent or 0).
pub(super) fn watch_pods(
    shared: Arc<Shared>,
    filter: PodFilter,
    since: Option<u64>,
    timeout_seconds: Option<u64>,
) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let timeout = Duration::from_secs(timeout_seconds.unwrap_or(DEFAULT_WATCH_SECONDS));
    tokio::spawn(async move {
        let deadline = Instant::now() + timeout;
        let mut seen: BTreeMap<Key, (u64, Pod)> = BTreeMap::new();
        if let Some(since) = since.filter(|s| *s > 0) {
            for (key, version, created, pod) in snapshot(&shared, &filter) {
                if created <= since {
                    seen.insert(key, (version.min(since), pod));
                }
            }
        }
        loop {
            let current = snapshot(&shared, &filter);
            let mut events = Vec::new();
            for (key, version, _, pod) in &current {
                match seen.get(key) {
                    None => events.push(WatchEvent::Added(pod.clone())),
                    Some((old, _)) if old != version => {
                        events.push(WatchEvent::Modified(pod.clone()))
                    }
                    Some(_) => {}
                }
            }
            let gone: Vec<Key> = seen
                .keys()
                .filter(|k| !current.iter().any(|(c, ..)| c == *k))
                .cloned()
                .collect();
            for key in gone {
                if let Some((_, pod)) = seen.remove(&key) {
                    events.push(WatchEvent::Deleted(pod));
                }
            }
            for (key, version, _, pod) in current {
                seen.insert(key, (version, pod));
            }
            for event in events {
                if !send_line(&tx, &event).await {
                    return;
                }
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    });
    streaming_json(rx)
}

/// Which events a watch follows.
pub(super) type EventFilter = Box<dyn Fn(&k8s_openapi::api::core::v1::Event) -> bool + Send>;

/// Starts a watch of events created after resourceVersion `since` (ADDED only: the fake's
/// events never change).
pub(super) fn watch_events(
    shared: Arc<Shared>,
    filter: EventFilter,
    since: u64,
    timeout_seconds: Option<u64>,
) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let timeout = Duration::from_secs(timeout_seconds.unwrap_or(DEFAULT_WATCH_SECONDS));
    tokio::spawn(async move {
        let deadline = Instant::now() + timeout;
        let mut sent = since;
        loop {
            let fresh: Vec<(u64, k8s_openapi::api::core::v1::Event)> = {
                let mut state = lock(&shared.state);
                state.refresh();
                state
                    .events
                    .iter()
                    .filter_map(|e| {
                        let version = e.metadata.resource_version.as_deref()?.parse().ok()?;
                        (version > sent && filter(e)).then(|| (version, e.clone()))
                    })
                    .collect()
            };
            for (version, event) in fresh {
                sent = sent.max(version);
                if !send_line(&tx, &WatchEvent::Added(event)).await {
                    return;
                }
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    });
    streaming_json(rx)
}

/// Sends one watch event as a JSON line; false once the client is gone.
async fn send_line<T: serde::Serialize>(tx: &mpsc::Sender<Bytes>, event: &WatchEvent<T>) -> bool {
    let mut line = serde_json::to_vec(event).unwrap_or_default();
    line.push(b'\n');
    tx.send(Bytes::from(line)).await.is_ok()
}

/// A 200 response whose body streams the lines `rx` receives, until the sender ends.
fn streaming_json(rx: mpsc::Receiver<Bytes>) -> Response<Body> {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    let body = BodyExt::boxed_unsync(StreamBody::new(stream));
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

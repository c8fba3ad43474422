//! A fake OCI registry for the tests: the distribution API's push and pull routes over plain
//! HTTP on 127.0.0.1, with the auth challenges real registries send.
//!
//! Routes (OCI distribution spec): `GET /v2/`; blob uploads (`POST .../blobs/uploads/`,
//! monolithic with `?digest=`, chunked `PATCH` with `Content-Range`, `PUT ...?digest=` that
//! checks the sha256 of what arrived and answers `DIGEST_INVALID` otherwise); `HEAD`/`GET`
//! blobs; `PUT`/`GET`/`HEAD` manifests by tag or digest, with `Docker-Content-Digest`. Auth:
//! none, Basic (`WWW-Authenticate: Basic realm=...`), or Bearer with a token service at
//! `/token` that takes Basic credentials (as docker's distribution and most hosted registries
//! do). [`FakeRegistry::set_down`] makes every request answer `503 Service Unavailable`, as a
//! registry behind a load balancer with no backend. Every request is recorded (method and path,
//! never headers: they hold credentials).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::lock;

/// How the fake registry wants clients to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    /// Anyone may push and pull.
    None,
    /// HTTP Basic with this user and password.
    Basic(String, String),
    /// Bearer tokens from `/token`, which takes Basic with this user and password.
    Bearer(String, String),
}

/// One request the registry received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRequest {
    /// `GET`, `PATCH`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
}

#[derive(Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, Vec<u8>>,
    /// (repository, tag or digest) -> (media type, bytes).
    manifests: HashMap<(String, String), (String, Vec<u8>)>,
    requests: Vec<RegistryRequest>,
    tokens: Vec<String>,
    down: bool,
    next_upload: u64,
}

/// A running fake registry; dropping it stops it.
pub struct FakeRegistry {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRegistry {
    /// Starts a registry on 127.0.0.1 (a free port) that wants `auth`.
    ///
    /// # Panics
    /// When no port can be bound or no thread started (the test cannot run).
    pub fn start(auth: RegistryAuth) -> FakeRegistry {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let (shutdown, mut shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("fake-registry")
            .build()
            .expect("runtime");
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("fake-registry".to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let auth = Arc::new(auth);
                    loop {
                        let accepted = tokio::select! {
                            _ = &mut shutdown_rx => return,
                            accepted = listener.accept() => accepted,
                        };
                        let Ok((tcp, _)) = accepted else { continue };
                        let state = Arc::clone(&shared);
                        let auth = Arc::clone(&auth);
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                let state = Arc::clone(&state);
                                let auth = Arc::clone(&auth);
                                async move {
                                    Ok::<_, Infallible>(handle(&state, &auth, addr, req).await)
                                }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(tcp), service)
                                .await;
                        });
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("registry thread");
        FakeRegistry {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// While `down`, every request gets `503 Service Unavailable`.
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RegistryRequest> {
        lock(&self.state).requests.clone()
    }

    /// The manifest stored under `repository` and `reference` (tag or digest): its media type
    /// and bytes.
    pub fn manifest(&self, repository: &str, reference: &str) -> Option<(String, Vec<u8>)> {
        lock(&self.state)
            .manifests
            .get(&(repository.to_string(), reference.to_string()))
            .cloned()
    }

    /// The blob with `digest` (`sha256:...`).
    pub fn blob(&self, digest: &str) -> Option<Vec<u8>> {
        lock(&self.state).blobs.get(digest).cloned()
    }

    /// Stores a manifest as a push would (for images this tool did not build).
    pub fn put_manifest(&self, repository: &str, tag: &str, media_type: &str, bytes: &[u8]) {
        let digest = sha256(bytes);
        let mut state = lock(&self.state);
        for reference in [tag.to_string(), digest] {
            state.manifests.insert(
                (repository.to_string(), reference),
                (media_type.to_string(), bytes.to_vec()),
            );
        }
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

type Body = Full<Bytes>;

fn reply(code: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Response<Body> {
    let mut builder = Response::builder().status(code);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The distribution spec's error body.
fn error(
    code: StatusCode,
    name: &str,
    message: &str,
    headers: &[(&str, String)],
) -> Response<Body> {
    let body = serde_json::json!({"errors": [{"code": name, "message": message}]});
    let mut headers = headers.to_vec();
    headers.push(("Content-Type", "application/json".to_string()));
    reply(code, &headers, body.to_string().into_bytes())
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The 401 to send, or `None` when the request may go on.
fn check_auth(
    state: &Mutex<State>,
    auth: &RegistryAuth,
    addr: SocketAddr,
    header: Option<&str>,
    path: &str,
) -> Option<Response<Body>> {
    let basic_ok = |user: &str, pass: &str| {
        let want = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        header.is_some_and(|h| h.strip_prefix("Basic ") == Some(want.as_str()))
    };
    match auth {
        RegistryAuth::None => None,
        RegistryAuth::Basic(user, pass) if basic_ok(user, pass) => None,
        RegistryAuth::Basic(..) => Some(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
            &[(
                "WWW-Authenticate",
                "Basic realm=\"fake-registry\"".to_string(),
            )],
        )),
        RegistryAuth::Bearer(..) => {
            let token = header.and_then(|h| h.strip_prefix("Bearer "));
            if token.is_some_and(|t| lock(state).tokens.iter().any(|known| known == t)) {
                return None;
            }
            let repository = path
                .strip_prefix("/v2/")
                .and_then(|rest| {
                    ["/blobs/", "/manifests/"]
                        .iter()
                        .find_map(|marker| rest.find(marker).map(|at| &rest[..at]))
                })
                .unwrap_or("");
            let scope = if repository.is_empty() {
                String::new()
            } else {
                format!(",scope=\"repository:{repository}:pull,push\"")
            };
            Some(error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "authentication required",
                &[(
                    "WWW-Authenticate",
                    format!(
                        "Bearer realm=\"http://{addr}/token\",service=\"fake-registry\"{scope}"
                    ),
                )],
            ))
        }
    }
}

async fn handle(
    state: &Mutex<State>,
    auth: &RegistryAuth,
    addr: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("authorization");
    let content_type = header("content-type").unwrap_or_default();
    {
        let mut state = lock(state);
        state.requests.push(RegistryRequest {
            method: method.to_string(),
            path: path.clone(),
        });
        if state.down {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "no backend is available",
                &[],
            );
        }
    }
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return error(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", "body", &[]),
    };
    if path == "/token" {
        let (RegistryAuth::Bearer(user, pass) | RegistryAuth::Basic(user, pass)) = auth else {
            return reply(StatusCode::NOT_FOUND, &[], Vec::new());
        };
        let want = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        if authorization
            .as_deref()
            .and_then(|h| h.strip_prefix("Basic "))
            != Some(want.as_str())
        {
            return error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "incorrect username or password",
                &[],
            );
        }
        let token = format!("token-{}", lock(state).tokens.len() + 1);
        lock(state).tokens.push(token.clone());
        let body = serde_json::json!({"token": token, "expires_in": 300});
        return reply(
            StatusCode::OK,
            &[("Content-Type", "application/json".into())],
            body.to_string().into_bytes(),
        );
    }
    if let Some(denied) = check_auth(state, auth, addr, authorization.as_deref(), &path) {
        return denied;
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return reply(StatusCode::NOT_FOUND, &[], Vec::new());
    };
    if rest.is_empty() {
        return reply(
            StatusCode::OK,
            &[("Content-Type", "application/json".into())],
            b"{}".to_vec(),
        );
    }
    if let Some(at) = rest.find("/blobs/uploads") {
        let repository = &rest[..at];
        let id = rest[at + "/blobs/uploads".len()..].trim_start_matches('/');
        return upload(state, &method, repository, id, &query, body);
    }
    if let Some(at) = rest.rfind("/blobs/") {
        let digest = &rest[at + "/blobs/".len()..];
        let blob = lock(state).blobs.get(digest).cloned();
        return match (blob, &method) {
            (Some(blob), &Method::HEAD) => reply(
                StatusCode::OK,
                &[
                    ("Content-Length", blob.len().to_string()),
                    ("Docker-Content-Digest", digest.to_string()),
                ],
                Vec::new(),
            ),
            (Some(blob), &Method::GET) => reply(
                StatusCode::OK,
                &[("Docker-Content-Digest", digest.to_string())],
                blob,
            ),
            _ => error(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
                &[],
            ),
        };
    }
    if let Some(at) = rest.rfind("/manifests/") {
        let repository = rest[..at].to_string();
        let reference = rest[at + "/manifests/".len()..].to_string();
        return match method {
            Method::PUT => {
                let digest = sha256(&body);
                let mut state = lock(state);
                for key in [reference.clone(), digest.clone()] {
                    state.manifests.insert(
                        (repository.clone(), key),
                        (content_type.clone(), body.clone()),
                    );
                }
                reply(
                    StatusCode::CREATED,
                    &[
                        ("Location", format!("/v2/{repository}/manifests/{digest}")),
                        ("Docker-Content-Digest", digest),
                    ],
                    Vec::new(),
                )
            }
            Method::GET | Method::HEAD => {
                let found = lock(state).manifests.get(&(repository, reference)).cloned();
                match found {
                    Some((media_type, bytes)) => {
                        let digest = sha256(&bytes);
                        let body = if method == Method::GET {
                            bytes
                        } else {
                            Vec::new()
                        };
                        reply(
                            StatusCode::OK,
                            &[
                                ("Content-Type", media_type),
                                ("Docker-Content-Digest", digest),
                            ],
                            body,
                        )
                    }
                    None => error(
                        StatusCode::NOT_FOUND,
                        "MANIFEST_UNKNOWN",
                        "manifest unknown",
                        &[],
                    ),
                }
            }
            _ => reply(StatusCode::METHOD_NOT_ALLOWED, &[], Vec::new()),
        };
    }
    reply(StatusCode::NOT_FOUND, &[], Vec::new())
}

/// The blob upload routes.
fn upload(
    state: &Mutex<State>,
    method: &Method,
    repository: &str,
    id: &str,
    query: &str,
    body: Vec<u8>,
) -> Response<Body> {
    let mut state = lock(state);
    let location = |id: &str| format!("/v2/{repository}/blobs/uploads/{id}");
    match (method, id.is_empty()) {
        (&Method::POST, true) => {
            if let Some(digest) = query_value(query, "digest") {
                return finish(&mut state, repository, digest, body);
            }
            state.next_upload += 1;
            let id = format!("upload-{}", state.next_upload);
            state.uploads.insert(id.clone(), Vec::new());
            reply(
                StatusCode::ACCEPTED,
                &[
                    ("Location", location(&id)),
                    ("Range", "0-0".into()),
                    ("Docker-Upload-UUID", id),
                ],
                Vec::new(),
            )
        }
        (&Method::PATCH, false) => {
            let Some(upload) = state.uploads.get_mut(id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "upload unknown",
                    &[],
                );
            };
            upload.extend_from_slice(&body);
            let end = upload.len().saturating_sub(1);
            reply(
                StatusCode::ACCEPTED,
                &[
                    ("Location", location(id)),
                    ("Range", format!("0-{end}")),
                    ("Docker-Upload-UUID", id.to_string()),
                ],
                Vec::new(),
            )
        }
        (&Method::PUT, false) => {
            let Some(mut data) = state.uploads.remove(id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "upload unknown",
                    &[],
                );
            };
            data.extend_from_slice(&body);
            let Some(digest) = query_value(query, "digest") else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "DIGEST_INVALID",
                    "digest missing",
                    &[],
                );
            };
            let digest = digest.replace("%3A", ":").replace("%3a", ":");
            finish(&mut state, repository, &digest, data)
        }
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, &[], Vec::new()),
    }
}

/// Stores `data` as the blob `digest` after checking that it is.
fn finish(state: &mut State, repository: &str, digest: &str, data: Vec<u8>) -> Response<Body> {
    let digest = digest.replace("%3A", ":").replace("%3a", ":");
    if sha256(&data) != digest {
        return error(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
            &[],
        );
    }
    state.blobs.insert(digest.clone(), data);
    reply(
        StatusCode::CREATED,
        &[
            ("Location", format!("/v2/{repository}/blobs/{digest}")),
            ("Docker-Content-Digest", digest),
        ],
        Vec::new(),
    )
}

//! The layer every request goes through before kube's own (authentication, extra headers, TLS):
//! kubectl's `--request-timeout` and its `-v` request log.
//!
//! The timeout bounds the wait for an answer's head: a plain request, the kubelet's checkpoint
//! answer, the start of a watch or of an exec stream (not the stream itself, which may rightly
//! stay quiet while the node hashes an archive). A request that passes it fails with
//! [`RequestTimedOut`], which [`super::from_kube`] turns into a plain error naming the server.
//!
//! The log (`-v=6` and up, kubectl's levels) says each request's method, URL, status and time;
//! `-v=7` adds the headers of the request as it leaves this layer and the ones kube adds after it
//! (`User-Agent`, `Impersonate-*`). This layer runs before kube's authentication: the
//! `Authorization` header and client certificates are never in reach of the log.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response};
use kube::client::Body;

/// Boxed errors, as kube's service stack passes them.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where `-v` lines go.
#[derive(Clone)]
pub struct RequestLog {
    /// kubectl's `-v` level: 6 requests, 7 and up their headers too.
    pub verbosity: u8,
    /// Receives each line (the CLI prints it on stderr).
    pub sink: Arc<dyn Fn(&str) + Send + Sync>,
}

impl RequestLog {
    /// Writes `line` when the verbosity is at least `level`.
    pub fn line(&self, level: u8, line: &str) {
        if self.verbosity >= level {
            (self.sink)(line);
        }
    }
}

/// A request that got no answer within `--request-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {} (--request-timeout)", describe_duration(*.limit))]
pub struct RequestTimedOut {
    /// The limit that passed.
    pub limit: Duration,
}

/// `2 s`, `1.5 s`, `3 min`.
pub(crate) fn describe_duration(limit: Duration) -> String {
    let seconds = limit.as_secs_f64();
    if seconds >= 120.0 && seconds % 60.0 == 0.0 {
        format!("{} min", seconds / 60.0)
    } else if seconds.fract() == 0.0 {
        format!("{seconds} s")
    } else {
        format!("{seconds:.1} s")
    }
}

/// The layer: its settings.
#[derive(Clone)]
pub(crate) struct RequestLayer {
    /// `--request-timeout`.
    pub timeout: Option<Duration>,
    /// `-v`.
    pub log: Option<RequestLog>,
    /// The API server's URL, to log whole URLs.
    pub server: String,
    /// The headers kube adds after this layer (name, value), for `-v=7`.
    pub extra_headers: Vec<(String, String)>,
}

impl<S> tower_layer::Layer<S> for RequestLayer {
    type Service = RequestService<S>;

    fn layer(&self, inner: S) -> RequestService<S> {
        RequestService {
            inner,
            settings: self.clone(),
        }
    }
}

/// The service of [`RequestLayer`].
pub(crate) struct RequestService<S> {
    inner: S,
    settings: RequestLayer,
}

impl<S, B> tower_service::Service<Request<Body>> for RequestService<S>
where
    S: tower_service::Service<Request<Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let method = request.method().clone();
        let url = format!("{}{}", self.settings.server, request.uri());
        if let Some(log) = &self.settings.log {
            if log.verbosity >= 7 {
                log.line(7, &format!("{method} {url}"));
                log.line(7, "Request Headers:");
                for (name, value) in request.headers() {
                    if name == http::header::AUTHORIZATION {
                        continue;
                    }
                    log.line(
                        7,
                        &format!("    {name}: {}", value.to_str().unwrap_or("(not text)")),
                    );
                }
                for (name, value) in &self.settings.extra_headers {
                    log.line(7, &format!("    {name}: {value}"));
                }
            }
        }
        let started = Instant::now();
        let answer = self.inner.call(request);
        let timeout = self.settings.timeout;
        let log = self.settings.log.clone();
        Box::pin(async move {
            let answer = async { answer.await.map_err(Into::into) };
            let result: Result<Response<B>, BoxError> = match timeout {
                Some(limit) => match tokio::time::timeout(limit, answer).await {
                    Ok(result) => result,
                    Err(_) => Err(Box::new(RequestTimedOut { limit }) as BoxError),
                },
                None => answer.await,
            };
            if let Some(log) = &log {
                let took = started.elapsed().as_millis();
                let outcome = match &result {
                    Ok(response) => {
                        let status = response.status();
                        format!(
                            "{} {}",
                            status.as_u16(),
                            status.canonical_reason().unwrap_or("")
                        )
                    }
                    Err(err) => format!("failed ({err})"),
                };
                log.line(
                    6,
                    &format!(
                        "{method} {url} {} in {took} milliseconds",
                        outcome.trim_end()
                    ),
                );
            }
            result
        })
    }
}

/// The [`RequestTimedOut`] in `err`'s chain of causes, if any.
pub(crate) fn timed_out(err: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = cause {
        if let Some(timeout) = err.downcast_ref::<RequestTimedOut>() {
            return Some(timeout.limit);
        }
        cause = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(describe_duration(Duration::from_secs(2)), "2 s");
        assert_eq!(describe_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(describe_duration(Duration::from_secs(180)), "3 min");
        assert_eq!(describe_duration(Duration::from_secs(90)), "90 s");
    }

    #[test]
    fn a_timeout_is_found_through_wrapping_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("wrapped")]
        struct Wrapper(#[source] RequestTimedOut);
        let err = Wrapper(RequestTimedOut {
            limit: Duration::from_secs(3),
        });
        assert_eq!(timed_out(&err), Some(Duration::from_secs(3)));
        let other = std::io::Error::other("x");
        assert_eq!(timed_out(&other), None);
    }

    #[test]
    fn log_lines_honour_the_level() {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        let log = RequestLog {
            verbosity: 6,
            sink: Arc::new(move |line: &str| seen.lock().unwrap().push(line.to_string())),
        };
        log.line(6, "six");
        log.line(7, "seven");
        assert_eq!(*lines.lock().unwrap(), ["six"]);
    }
}

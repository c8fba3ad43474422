//! Which failures are worth retrying, and how long to wait before the next try.
//!
//! A kubelet that restarts, an API server that cannot dial it for a few seconds (`HTTP 500:
//! error dialing backend: ... connection refused`), a 502/503 from a load balancer, a reset
//! connection: these pass by themselves, so the helper-pod verbs retry them within `--retries`,
//! waiting 0.5 s, then twice as long each time up to 10 s, and say so through the [`Reporter`].
//! Everything else (401, 403, 404, a command that failed) is final at once.
//!
//! kube's own retry layer is switched off in [`super::connect`]: it would retry 503s silently
//! for minutes, and it cannot see the upgrade failures of exec at all.
//!
//! [`Reporter`]: super::Reporter

use std::time::Duration;

use kube::client::UpgradeConnectionError;

/// The first wait after a transient failure.
const FIRST_DELAY: Duration = Duration::from_millis(500);
/// The longest wait between two tries.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Waits that double from 0.5 s up to 10 s.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST_DELAY }
    }
}

impl Backoff {
    /// The wait before the next try (and doubles the one after it).
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_DELAY);
        delay
    }

    /// Starts again from 0.5 s (after a try that made progress).
    pub fn reset(&mut self) {
        self.next = FIRST_DELAY;
    }
}

/// Why `err` is worth retrying, in words; `None` when it is final.
pub fn transient_reason(err: &kube::Error) -> Option<String> {
    match err {
        kube::Error::Api(status) => {
            let message = status.message.to_ascii_lowercase();
            let dial = [
                "error dialing backend",
                "connection refused",
                "connection reset",
                "broken pipe",
                "i/o timeout",
                "no route to host",
                "eof",
            ]
            .iter()
            .any(|needle| message.contains(needle));
            match status.code {
                502 | 503 | 429 => Some(format!("HTTP {}: {}", status.code, status.message)),
                500 if dial => Some(format!("HTTP 500: {}", status.message)),
                // The kubelet's own text (not the API server's `pods "x" not found`): a kubelet
                // that just restarted does not know its pods for a moment.
                404 if message == "pod does not exist" => Some(format!(
                    "HTTP 404: {} (the kubelet restarted and has not synced its pods yet?)",
                    status.message
                )),
                _ => None,
            }
        }
        // exec's upgrade keeps only the status code of a refused upgrade.
        kube::Error::UpgradeConnection(UpgradeConnectionError::ProtocolSwitch(code))
            if matches!(code.as_u16(), 500 | 502 | 503 | 504) =>
        {
            Some(format!("exec refused with HTTP {code}"))
        }
        kube::Error::UpgradeConnection(UpgradeConnectionError::GetPendingUpgrade(err)) => {
            Some(err.to_string())
        }
        kube::Error::HyperError(err) => Some(err.to_string()),
        kube::Error::Service(err) => Some(err.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(
            Status::failure(message, "InternalError").with_code(code),
        ))
    }

    #[test]
    fn backoff_doubles_to_ten_seconds_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..8)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(500));
    }

    #[test]
    fn dial_errors_and_gateway_statuses_are_transient() {
        let transient = [
            api(
                500,
                "error dialing backend: dial tcp 127.0.0.1:10250: connect: connection refused",
            ),
            api(503, "the server is currently unable to handle the request"),
            api(502, "bad gateway"),
            api(429, "too many requests"),
            api(404, "pod does not exist"),
            kube::Error::UpgradeConnection(UpgradeConnectionError::ProtocolSwitch(
                http::StatusCode::INTERNAL_SERVER_ERROR,
            )),
        ];
        for err in &transient {
            assert!(transient_reason(err).is_some(), "{err}");
        }
        let reason = transient_reason(&transient[0]).unwrap();
        assert!(reason.contains("connection refused"), "{reason}");
    }

    #[test]
    fn refusals_are_final() {
        let last = [
            api(500, "checkpointing of a/b/c failed (criu failed)"),
            api(403, "pods is forbidden"),
            api(404, "pods \"x\" not found"),
            api(401, "Unauthorized"),
            kube::Error::UpgradeConnection(UpgradeConnectionError::ProtocolSwitch(
                http::StatusCode::FORBIDDEN,
            )),
            kube::Error::UpgradeConnection(UpgradeConnectionError::ProtocolSwitch(
                http::StatusCode::NOT_FOUND,
            )),
        ];
        for err in &last {
            assert!(transient_reason(err).is_none(), "{err}");
        }
    }
}

//! What the server measures of the load a client puts on it: how many requests were in flight
//! at once, how many checkpoints ran at once (in all and on one node), and when each
//! checkpoint ran. Watches are long-lived by design and are not counted as requests in flight.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::lock;

/// One checkpoint as the fake kubelet ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSpan {
    /// The node whose kubelet ran it.
    pub node: String,
    /// `namespace/pod/container`.
    pub container: String,
    /// When the kubelet took the request.
    pub started: Instant,
    /// When it answered.
    pub ended: Instant,
}

/// The load measured since the server started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The most requests (watches aside) in flight at one time.
    pub peak_requests: usize,
    /// The most checkpoints running at one time, across all nodes.
    pub peak_checkpoints: usize,
    /// The most checkpoints running at one time on any one node.
    pub peak_checkpoints_on_one_node: usize,
    /// Every checkpoint, in the order they ended.
    pub checkpoints: Vec<CheckpointSpan>,
}

/// The live counters behind a [`LoadReport`].
#[derive(Default)]
pub(super) struct Load {
    requests: Arc<Mutex<Gauge>>,
    checkpoints: Mutex<CheckpointGauge>,
}

#[derive(Default)]
struct Gauge {
    now: usize,
    peak: usize,
}

#[derive(Default)]
struct CheckpointGauge {
    all: Gauge,
    per_node: BTreeMap<String, Gauge>,
    done: Vec<CheckpointSpan>,
}

impl Gauge {
    fn enter(&mut self) {
        self.now += 1;
        self.peak = self.peak.max(self.now);
    }

    fn leave(&mut self) {
        self.now = self.now.saturating_sub(1);
    }
}

impl Load {
    /// Counts a request in flight until the guard drops.
    pub fn request(&self) -> RequestInFlight {
        lock(&self.requests).enter();
        RequestInFlight(Arc::clone(&self.requests))
    }

    /// Counts a checkpoint of `container` running on `node` until the guard drops, then logs it.
    pub fn checkpoint(&self, node: &str, container: String) -> CheckpointInFlight<'_> {
        let mut gauge = lock(&self.checkpoints);
        gauge.all.enter();
        gauge.per_node.entry(node.to_string()).or_default().enter();
        CheckpointInFlight {
            load: self,
            node: node.to_string(),
            container,
            started: Instant::now(),
        }
    }

    /// What was measured so far.
    pub fn report(&self) -> LoadReport {
        let requests = lock(&self.requests);
        let checkpoints = lock(&self.checkpoints);
        LoadReport {
            peak_requests: requests.peak,
            peak_checkpoints: checkpoints.all.peak,
            peak_checkpoints_on_one_node: checkpoints
                .per_node
                .values()
                .map(|g| g.peak)
                .max()
                .unwrap_or(0),
            checkpoints: checkpoints.done.clone(),
        }
    }
}

/// A request being served; see [`Load::request`].
pub(super) struct RequestInFlight(Arc<Mutex<Gauge>>);

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        lock(&self.0).leave();
    }
}

/// A checkpoint being taken; see [`Load::checkpoint`].
pub(super) struct CheckpointInFlight<'a> {
    load: &'a Load,
    node: String,
    container: String,
    started: Instant,
}

impl Drop for CheckpointInFlight<'_> {
    fn drop(&mut self) {
        let mut gauge = lock(&self.load.checkpoints);
        gauge.all.leave();
        if let Some(node) = gauge.per_node.get_mut(&self.node) {
            node.leave();
        }
        gauge.done.push(CheckpointSpan {
            node: std::mem::take(&mut self.node),
            container: std::mem::take(&mut self.container),
            started: self.started,
            ended: Instant::now(),
        });
    }
}

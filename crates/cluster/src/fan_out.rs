//! How much runs at once when one command works on many containers and nodes: at most
//! [`Connection::parallel`](super::Connection::parallel) in all, and at most
//! [`PER_NODE`] checkpoints on one node (each is a CRIU dump that freezes a container and
//! writes its memory to the node's disk). A task waiting for its node holds no place in the
//! overall bound, so a slow node never keeps the other nodes waiting.

use std::collections::HashMap;

use tokio::sync::{Semaphore, SemaphorePermit};

/// How many checkpoints run at the same time on one node.
pub const PER_NODE: usize = 2;

/// The bounds of one fan-out.
pub(crate) struct Limits {
    all: Semaphore,
    per_node: HashMap<String, Semaphore>,
}

/// A place in the bounds, given back when dropped.
pub(crate) struct Place<'a> {
    _all: Option<SemaphorePermit<'a>>,
    _node: Option<SemaphorePermit<'a>>,
}

impl Limits {
    /// At most `all` tasks at once, at most `per_node` of them on any one of `nodes`.
    pub fn new<'n>(all: usize, per_node: usize, nodes: impl IntoIterator<Item = &'n str>) -> Self {
        Self {
            all: Semaphore::new(all.max(1)),
            per_node: nodes
                .into_iter()
                .map(|node| (node.to_string(), Semaphore::new(per_node.max(1))))
                .collect(),
        }
    }

    /// Waits for a place on `node` first (a node not given to [`Limits::new`] has no bound of
    /// its own), then for one in all; both are first come, first served.
    pub async fn enter(&self, node: &str) -> Place<'_> {
        let node = match self.per_node.get(node) {
            Some(bound) => bound.acquire().await.ok(),
            None => None,
        };
        let all = self.all.acquire().await.ok();
        Place {
            _all: all,
            _node: node,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// Runs `jobs` (node, how long) through `limits`; returns the most running at once in all
    /// and on one node, and the order in which the jobs finished.
    async fn run(limits: &Limits, jobs: &[(&str, u64)]) -> (usize, usize, Vec<usize>) {
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let on_node: Mutex<HashMap<String, (usize, usize)>> = Mutex::new(HashMap::new());
        let finished = Mutex::new(Vec::new());
        futures::future::join_all(jobs.iter().enumerate().map(async |(index, (node, ms))| {
            let _place = limits.enter(node).await;
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(running, Ordering::SeqCst);
            {
                let mut map = on_node.lock().unwrap();
                let entry = map.entry(node.to_string()).or_default();
                entry.0 += 1;
                entry.1 = entry.1.max(entry.0);
            }
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            on_node.lock().unwrap().get_mut(*node).unwrap().0 -= 1;
            now.fetch_sub(1, Ordering::SeqCst);
            finished.lock().unwrap().push(index);
        }))
        .await;
        let node_peak = on_node.lock().unwrap().values().map(|v| v.1).max().unwrap();
        (
            peak.load(Ordering::SeqCst),
            node_peak,
            finished.into_inner().unwrap(),
        )
    }

    #[tokio::test]
    async fn bounds_hold_in_all_and_per_node() {
        let nodes = ["a", "b", "c", "d"];
        let jobs: Vec<(&str, u64)> = (0..40).map(|i| (nodes[i % 4], 10)).collect();
        let limits = Limits::new(5, 2, nodes);
        let (peak, node_peak, finished) = run(&limits, &jobs).await;
        assert_eq!((peak, node_peak, finished.len()), (5, 2, 40));
    }

    #[tokio::test]
    async fn a_slow_node_holds_no_place_the_others_need() {
        // Six long jobs on one node come first; the fast nodes' jobs must not queue behind
        // them: only PER_NODE of the slow node's take places in all.
        let mut jobs: Vec<(&str, u64)> = vec![("slow", 300); 6];
        jobs.extend((0..6).map(|i| (["a", "b", "c"][i % 3], 10)));
        let limits = Limits::new(4, PER_NODE, ["slow", "a", "b", "c"]);
        let (_, _, finished) = run(&limits, &jobs).await;
        let first_six: Vec<usize> = finished[..6].to_vec();
        assert!(
            first_six.iter().all(|i| *i >= 6),
            "the fast nodes' jobs finished first: {finished:?}"
        );
    }
}

//! Work on many nodes and containers at once: `--parallel` bounds the checkpoints in flight,
//! no node runs more than two at once, and a slow node never holds the others back. The fake
//! API server measures what it was asked to do at the same time.

use std::time::Duration;

use crate::support;

use checkpoint_cluster::CheckpointRecord;
use support::fake_apiserver::{FakeCluster, FakeNode, PodSpec};
use support::plugin::{stderr, Plugin};

/// Three pods on each of `a-slow` (2 s per checkpoint) and three fast nodes (100 ms); the slow
/// node's pods come first in the targets' order.
fn batch_cluster() -> FakeCluster {
    let mut builder = FakeCluster::builder()
        .node_with(FakeNode::new("a-slow").checkpoint_delay(Duration::from_secs(2)));
    for node in ["b", "c", "d"] {
        builder =
            builder.node_with(FakeNode::new(node).checkpoint_delay(Duration::from_millis(100)));
    }
    for node in ["a-slow", "b", "c", "d"] {
        for i in 0..3 {
            builder = builder.pod_with(
                PodSpec::new("jobs", &format!("{node}-{i}"), node, &["work"]).label("app", "batch"),
            );
        }
    }
    builder.start()
}

fn checkpoint_all(plugin: &Plugin, parallel: &str) -> Vec<CheckpointRecord> {
    let out = plugin.run(&[
        "-l",
        "app=batch",
        "-n",
        "jobs",
        "-o",
        "json",
        "--restart-check",
        "0",
        "--parallel",
        parallel,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_slow_node_holds_no_other_node_back_and_the_bounds_hold() {
    let cluster = batch_cluster();
    let plugin = Plugin::new(&cluster);
    let records = checkpoint_all(&plugin, "4");
    let pods: Vec<&str> = records.iter().map(|r| r.pod.as_str()).collect();
    let mut sorted = pods.clone();
    sorted.sort_unstable();
    assert_eq!(
        pods, sorted,
        "records come in the targets' order, not as they finish"
    );
    assert_eq!(records.len(), 12);

    let load = cluster.load();
    assert_eq!(load.peak_checkpoints, 4, "{load:?}");
    assert_eq!(load.peak_checkpoints_on_one_node, 2, "{load:?}");
    let first_slow_end = load
        .checkpoints
        .iter()
        .filter(|c| c.node == "a-slow")
        .map(|c| c.ended)
        .min()
        .unwrap();
    let fast: Vec<_> = load
        .checkpoints
        .iter()
        .filter(|c| c.node != "a-slow")
        .collect();
    assert_eq!(fast.len(), 9);
    assert!(
        fast.iter().all(|c| c.ended < first_slow_end),
        "every fast node's checkpoint ended before the slow node's first: {load:?}"
    );
}

#[test]
fn parallel_one_works_one_container_at_a_time_and_zero_is_refused() {
    let cluster = batch_cluster();
    let plugin = Plugin::new(&cluster);
    let records = checkpoint_all(&plugin, "1");
    assert_eq!(records.len(), 12);
    let load = cluster.load();
    assert_eq!(
        (load.peak_checkpoints, load.peak_checkpoints_on_one_node),
        (1, 1),
        "{load:?}"
    );
    let spans = &load.checkpoints;
    assert!(
        spans.windows(2).all(|w| w[0].ended <= w[1].started),
        "one after the other: {spans:?}"
    );

    let out = plugin.run(&["-l", "app=batch", "-n", "jobs", "--parallel", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--parallel"), "{}", stderr(&out));
}

//! Fan-out at cluster scale against the fake API server of the tests, with a round trip on every
//! request and a kubelet that takes its time on every node: `checkpoint -l` of 5 pods per node,
//! `list -A`, and `--fetch` of one archive per node, each with `--parallel 1` (one after the
//! other: the same work done one by one) and wider bounds. Prints one markdown table row per
//! case: median wall time of the rounds (alternated), the speed-up over `--parallel 1`, the peak
//! requests and checkpoints the server had in flight at once, and for the checkpoint cases when
//! the last fast node's checkpoint ended against the slow node's last. Used by
//! `scripts/bench-fan-out.sh` (docs/performance.md, "Fan-out at cluster scale").
//!
//! Usage: `cargo run --release --example bench_fan_out -- BINARY [ROUNDS] [BOUNDS]`, BOUNDS as
//! `1,8,32` (the default) or `-` for a binary without `--parallel`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake_apiserver::{FakeCluster, FakeNode, LoadReport, PodSpec};

/// Every request's round trip.
const LATENCY: Duration = Duration::from_millis(10);
/// Each checkpoint on a node.
const CHECKPOINT: Duration = Duration::from_millis(200);
/// Each checkpoint on the one slow node.
const SLOW_CHECKPOINT: Duration = Duration::from_millis(1500);
/// How long a helper pod takes to start.
const POD_START: Duration = Duration::from_millis(500);
/// Pods per node in the checkpoint cases.
const PODS_PER_NODE: usize = 5;

/// One case: what runs, on how many nodes.
struct Case {
    verb: Verb,
    nodes: usize,
}

#[derive(Clone, Copy)]
enum Verb {
    Checkpoint,
    List,
    Fetch,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Checkpoint => "checkpoint -l (5 pods a node)",
            Verb::List => "list -A",
            Verb::Fetch => "checkpoint -l --fetch (1 pod a node)",
        }
    }
}

/// One run's figures.
struct Run {
    wall: Duration,
    load: LoadReport,
    started: Instant,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let binary = std::fs::canonicalize(args.next().ok_or("usage: bench_fan_out BINARY [ROUNDS]")?)?;
    let rounds: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    // `-` runs the binary without the flag (a build from before it, at its own fixed bounds).
    let bounds: Vec<Option<usize>> = match args.next().as_deref() {
        None => vec![Some(1), Some(8), Some(32)],
        Some("-") => vec![None],
        Some(list) => list
            .split(',')
            .map(|b| b.parse().map(Some))
            .collect::<Result<_, _>>()?,
    };
    let cases = [
        Case {
            verb: Verb::Checkpoint,
            nodes: 5,
        },
        Case {
            verb: Verb::Checkpoint,
            nodes: 20,
        },
        Case {
            verb: Verb::List,
            nodes: 5,
        },
        Case {
            verb: Verb::List,
            nodes: 20,
        },
        Case {
            verb: Verb::Fetch,
            nodes: 20,
        },
    ];
    println!(
        "| work | nodes | --parallel | median wall | speed-up | peak requests | peak checkpoints (one node) | fast nodes done / slow node done |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in &cases {
        // Alternate the bounds within each round, so drift hits all alike.
        let mut runs: Vec<Vec<Run>> = bounds.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (slot, parallel) in bounds.iter().enumerate() {
                runs[slot].push(run_case(&binary, case, *parallel)?);
            }
        }
        let medians: Vec<Duration> = runs.iter().map(|r| median(r)).collect();
        for (slot, parallel) in bounds.iter().enumerate() {
            let last = runs[slot].last().ok_or("no rounds")?;
            let done = match case.verb {
                Verb::Checkpoint => finish_times(last),
                Verb::List | Verb::Fetch => "-".to_string(),
            };
            println!(
                "| {} | {} | {} | {:.2} s | {:.1}x | {} | {} ({}) | {} |",
                case.verb.name(),
                case.nodes,
                parallel.map_or("(none)".to_string(), |p| p.to_string()),
                medians[slot].as_secs_f64(),
                medians[0].as_secs_f64() / medians[slot].as_secs_f64(),
                last.load.peak_requests,
                last.load.peak_checkpoints,
                last.load.peak_checkpoints_on_one_node,
                done
            );
        }
    }
    Ok(())
}

/// Starts a fresh cluster for `case` and runs the binary once, with `--parallel` when given.
fn run_case(
    binary: &Path,
    case: &Case,
    parallel: Option<usize>,
) -> Result<Run, Box<dyn std::error::Error>> {
    let pods_per_node = match case.verb {
        Verb::Checkpoint => PODS_PER_NODE,
        Verb::List | Verb::Fetch => 1,
    };
    let mut builder = FakeCluster::builder()
        .request_latency(LATENCY)
        .pod_start_delay(POD_START);
    for n in 0..case.nodes {
        let node = format!("node-{n:02}");
        // node-00 is the slow one; its pods come first in the targets' order.
        let delay = if n == 0 { SLOW_CHECKPOINT } else { CHECKPOINT };
        builder = builder.node_with(FakeNode::new(&node).checkpoint_delay(delay));
        for p in 0..pods_per_node {
            builder = builder.pod_with(
                PodSpec::new("bench", &format!("{node}-pod-{p}"), &node, &["work"])
                    .label("app", "bench"),
            );
        }
    }
    let cluster = builder.start();
    let home = tempfile::tempdir()?;
    let kubeconfig = cluster.write_kubeconfig(home.path());
    if matches!(case.verb, Verb::List) {
        // Something to list on every node.
        for n in 0..case.nodes {
            let dir = cluster.node_dir(&format!("node-{n:02}"));
            std::fs::copy(
                fixture(),
                dir.join(format!(
                    "checkpoint-node-{n:02}-pod-0_bench-work-2026-12-07T08:00:00Z.tar"
                )),
            )?;
        }
    }
    let fetched = home.path().join("fetched");
    std::fs::create_dir(&fetched)?;
    let mut args: Vec<String> = match case.verb {
        Verb::Checkpoint => ["-l", "app=bench", "-n", "bench", "--restart-check", "0"]
            .map(String::from)
            .to_vec(),
        Verb::List => ["list", "-A"].map(String::from).to_vec(),
        Verb::Fetch => vec![
            "-l".into(),
            "app=bench".into(),
            "-n".into(),
            "bench".into(),
            "--restart-check".into(),
            "0".into(),
            format!("--fetch={}/", fetched.display()),
        ],
    };
    if let Some(parallel) = parallel {
        args.extend(["--parallel".to_string(), parallel.to_string()]);
    }
    let started = Instant::now();
    let out = Command::new(binary)
        .args(&args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("HOME", home.path())
        .current_dir(home.path())
        .output()?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(format!("{args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(Run {
        wall,
        load: cluster.load(),
        started,
    })
}

/// The sample archive the fake kubelet copies.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar")
}

fn median(runs: &[Run]) -> Duration {
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort_unstable();
    walls[walls.len() / 2]
}

/// When the fast nodes' last checkpoint and the slow node's last ended, from the run's start.
fn finish_times(run: &Run) -> String {
    let last_end = |slow: bool| {
        run.load
            .checkpoints
            .iter()
            .filter(|c| (c.node == "node-00") == slow)
            .map(|c| c.ended.saturating_duration_since(run.started))
            .max()
            .unwrap_or_default()
    };
    format!(
        "{:.2} s / {:.2} s",
        last_end(false).as_secs_f64(),
        last_end(true).as_secs_f64()
    )
}

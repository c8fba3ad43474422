//! `kubectl checkpoint fetch` and `--fetch`: archives streamed through a helper pod's exec from
//! the fake cluster, byte-identical to the fixture, resumed after cut streams, cleaned up on
//! Ctrl-C.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use checkpoint_cluster::{CheckpointRecord, FetchRecord, Verify};
use checkpoint_model::archive::CustodyRecord;
use support::fake_apiserver::{FakeCluster, Fault, PodSpec};
use support::plugin::{
    checkpoint_posts, exec_commands, fixture, helper_pods, stderr, stdout, Plugin,
};

const POD: &str = "counters-857d7978fd-jnkck";

const FIXTURE_SHA256: &str = "589d39ec47afb0768f4ac888cad5f2c515050b70e2f692c01218766d74dc7c98";

fn demo() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .start()
}

/// Checkpoints the demo pod and returns `node-a:PATH`.
fn checkpoint(plugin: &Plugin) -> String {
    let out = plugin.run(&[POD, "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

fn assert_is_fixture(path: &Path) {
    let got = std::fs::read(path).unwrap();
    let want = std::fs::read(fixture()).unwrap();
    assert_eq!(got.len(), want.len(), "{}", path.display());
    assert!(got == want, "{} differs from the fixture", path.display());
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
}

fn no_part_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".part"), "left behind: {name}");
    }
}

#[test]
fn checkpoint_with_fetch_copies_the_archive_byte_for_byte() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "-o", "json", "--fetch=out.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records[0].fetched.as_deref(), Some(Path::new("out.tar")));
    assert_is_fixture(&plugin.dir.path().join("out.tar"));
    assert!(
        helper_pods(&cluster).is_empty(),
        "helper left: {:?}",
        helper_pods(&cluster)
    );
    // The helper was pinned, read-only, unprivileged; exec ran stat, sha256sum and cat.
    let creates: Vec<_> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path() == "/api/v1/namespaces/demo/pods")
        .collect();
    assert_eq!(creates.len(), 1);
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_slice(&creates[0].body).unwrap();
    let spec = pod.spec.unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("node-a"));
    assert_eq!(spec.containers[0].image.as_deref(), Some("busybox:1.36"));
    // Two execs at once: stat and the bytes, and the node's sha256 of the archive.
    let commands = exec_commands(&cluster);
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(
        commands.iter().any(|c| c.starts_with("sh -c ")
            && c.contains("stat -c '%s %Y'")
            && c.contains("exec cat")
            && c.contains(" kubectl-checkpoint /var/lib/kubelet/checkpoints/checkpoint-")),
        "{commands:?}"
    );
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("sha256sum /var/lib/kubelet/checkpoints/")),
        "{commands:?}"
    );
    // The helper was created while the kubelet dumped: its POST is not after the checkpoint's.
    let requests = cluster.requests();
    let helper_post = requests
        .iter()
        .position(|r| r.method == "POST" && r.path() == "/api/v1/namespaces/demo/pods");
    let exec = requests.iter().position(|r| r.path().ends_with("/exec"));
    assert!(helper_post < exec);
    // Every request says who we are.
    for request in &requests {
        assert_eq!(
            request.user_agent.as_deref(),
            Some(concat!("kubectl-checkpoint/", env!("CARGO_PKG_VERSION"))),
            "{}",
            request.path_and_query
        );
    }
}

#[test]
fn fetch_prints_the_local_path_and_defaults_to_the_basename() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let out = plugin.run(&["fetch", &source, "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let name = source.rsplit('/').next().unwrap();
    // The path, its size and its sha256, checked against the node's.
    assert_eq!(
        stdout(&out).trim(),
        format!("{name}  8.8 MiB  sha256:{FIXTURE_SHA256} (matches the node's)")
    );
    assert_is_fixture(&plugin.dir.path().join(name));
    // Into a directory.
    std::fs::create_dir(plugin.dir.path().join("d")).unwrap();
    let out = plugin.run(&["fetch", &source, "d", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("d").join(name));
}

#[test]
fn a_cut_stream_is_resumed_and_verified() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    // 9,236,480 bytes cut every 3,000,000: three resumes finish it.
    cluster.set_fault(Fault::DropExecStreamAfter(3_000_000));
    let out = plugin.run(&["fetch", &source, "got.tar", "-n", "demo", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: FetchRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record.resumes, 3);
    assert_eq!(record.verified, Verify::Sha256);
    assert_eq!(record.size, 9_236_480);
    assert_eq!(
        record.sha256,
        "589d39ec47afb0768f4ac888cad5f2c515050b70e2f692c01218766d74dc7c98"
    );
    assert_is_fixture(&plugin.dir.path().join("got.tar"));
    let tails: Vec<String> = exec_commands(&cluster)
        .into_iter()
        .filter(|c| c.contains("exec tail -c"))
        .collect();
    assert_eq!(tails.len(), 3);
    assert!(tails[0].ends_with(" 3000001"), "{tails:?}");
    // Each resume was announced, after a backoff.
    assert_eq!(
        stderr(&out).matches("retrying in 0.5 s").count(),
        3,
        "{}",
        stderr(&out)
    );
    assert!(helper_pods(&cluster).is_empty());

    // Too few retries: an error, and the partial copy stays for the next run.
    let out = plugin.run(&["fetch", &source, "bad.tar", "-n", "demo", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "the stream broke at byte 6000000 of 9236480 and 1 resumes did not finish it"
        ) && stderr(&out).contains("bad.tar.part: run the same command again to resume"),
        "{}",
        stderr(&out)
    );
    assert!(!plugin.dir.path().join("bad.tar").exists());
    let part = plugin.dir.path().join("bad.tar.part");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 6_000_000);
    let mode = std::fs::metadata(&part).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(helper_pods(&cluster).is_empty());

    // The next run takes it over and fetches only the rest; the whole is checked on the node.
    cluster.clear_faults();
    let out = plugin.run(&["fetch", &source, "bad.tar", "-n", "demo", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: FetchRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record.resumed_from_partial, 6_000_000);
    assert_eq!(record.verified, Verify::Sha256);
    assert_is_fixture(&plugin.dir.path().join("bad.tar"));
    no_part_files(plugin.dir.path());
    assert!(!plugin.dir.path().join("bad.tar.part.json").exists());
    let last: Vec<String> = exec_commands(&cluster).into_iter().rev().take(2).collect();
    assert!(last[0].starts_with("sha256sum "), "{last:?}");
    assert!(last[1].ends_with(" 6000001"), "{last:?}");
}

#[test]
fn verify_size_skips_the_node_hash_unless_a_stream_was_resumed() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let fetch = |dest: &str| {
        let out = plugin.run(&[
            "fetch", &source, dest, "-n", "demo", "--verify", "size", "-o", "json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<FetchRecord>(&out.stdout).unwrap()
    };
    let record = fetch("size.tar");
    assert_eq!((record.verified, record.resumes), (Verify::Size, 0));
    // The copy's own sha256 is still computed and reported.
    assert_eq!(
        record.sha256,
        "589d39ec47afb0768f4ac888cad5f2c515050b70e2f692c01218766d74dc7c98"
    );
    assert_is_fixture(&plugin.dir.path().join("size.tar"));
    assert!(
        !exec_commands(&cluster)
            .iter()
            .any(|c| c.contains("sha256sum")),
        "{:?}",
        exec_commands(&cluster)
    );

    // Joined pieces are checked against the node's hash after all.
    cluster.set_fault(Fault::DropExecStreamAfter(5_000_000));
    let record = fetch("resumed.tar");
    assert_eq!((record.verified, record.resumes), (Verify::Sha256, 1));
    assert_is_fixture(&plugin.dir.path().join("resumed.tar"));
    let commands = exec_commands(&cluster);
    let tail = commands.iter().position(|c| c.ends_with(" 5000001"));
    let hash = commands.iter().position(|c| c.starts_with("sha256sum "));
    assert!(tail.is_some() && hash > tail, "{commands:?}");
    assert!(helper_pods(&cluster).is_empty());
}

#[test]
fn ctrl_c_removes_the_helper_and_keeps_the_partial_file_to_resume() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    cluster.set_fault(Fault::ThrottleExec(1_000_000));
    let child = plugin.spawn(&["fetch", &source, "slow.tar", "-n", "demo"]);
    let part = plugin.dir.path().join("slow.tar.part");
    let started = Instant::now();
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 500_000 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no bytes arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(helper_pods(&cluster).len(), 1);
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    // Ctrl-C: 130, as a shell reports it.
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("slow.tar.part (")
            && stderr(&out).contains("run the same fetch again to resume")
            && stderr(&out).contains("the helper pod this run created was removed"),
        "{}",
        stderr(&out)
    );
    assert!(!plugin.dir.path().join("slow.tar").exists());
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept >= 500_000, "{kept}");
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
    cluster.clear_faults();
    let out = plugin.run(&["fetch", &source, "slow.tar", "-n", "demo", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: FetchRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record.resumed_from_partial, kept);
    assert_is_fixture(&plugin.dir.path().join("slow.tar"));
    no_part_files(plugin.dir.path());
    // The custody record keeps both tries: the interrupted one and the one that finished it.
    let custody: CustodyRecord = serde_json::from_slice(
        &std::fs::read(plugin.dir.path().join("slow.tar.custody.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(custody.attempts.len(), 2, "{:?}", custody.attempts);
    let (first, last) = (&custody.attempts[0], &custody.attempts[1]);
    assert_eq!(first.from_byte, 0);
    assert!(first.outcome.starts_with("interrupted"), "{first:?}");
    assert!(first.bytes >= 500_000 && first.bytes <= kept, "{first:?}");
    assert_eq!(last.from_byte, kept);
    assert_eq!(last.outcome, "completed");
    assert_eq!(last.bytes, 9_236_480 - kept);
    assert_ne!(first.helper, last.helper, "each run had its own helper");
    assert!(first.started <= first.ended && first.ended <= last.started);

    // In text, a resumed fetch says where it resumed.
    std::fs::remove_file(plugin.dir.path().join("slow.tar")).unwrap();
    std::fs::remove_file(plugin.dir.path().join("slow.tar.custody.json")).unwrap();
    cluster.set_fault(Fault::ThrottleExec(1_000_000));
    let child = plugin.spawn(&["fetch", &source, "slow.tar", "-n", "demo"]);
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 500_000 {
        std::thread::sleep(Duration::from_millis(50));
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .unwrap();
    child.wait_with_output().unwrap();
    cluster.clear_faults();
    let kept = std::fs::metadata(&part).unwrap().len();
    let out = plugin.run(&["fetch", &source, "slow.tar", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    let want = format!("resumed at {} of 8.8 MiB", human(kept));
    assert!(line.contains(&want), "{want}: {line}");
}

/// Sizes as the tool prints them (KiB, MiB with one decimal).
fn human(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if kib < 1024.0 {
        format!("{kib:.1} KiB")
    } else {
        format!("{:.1} MiB", kib / 1024.0)
    }
}

#[test]
fn paths_outside_the_checkpoint_directory_are_refused() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    for source in [
        "node-a:/var/lib/kubelet/checkpoints/../../../etc/passwd",
        "node-a:/etc/passwd",
        "node-a:../x.tar",
    ] {
        let out = plugin.run(&["fetch", source, "-n", "demo"]);
        assert_eq!(out.status.code(), Some(2), "{source}");
        assert!(
            stderr(&out).contains("inside /var/lib/kubelet/checkpoints"),
            "{}",
            stderr(&out)
        );
    }
    assert!(cluster.requests().is_empty());
}

#[test]
fn keep_helper_is_reused_and_delete_after_fetch_removes_the_archive() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo", "--keep-helper"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = helper_pods(&cluster);
    assert_eq!(kept.len(), 1);

    let out = plugin.run(&[
        "fetch",
        &source,
        "b.tar",
        "-n",
        "demo",
        "--delete-after-fetch",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("b.tar"));
    let name = source.rsplit('/').next().unwrap();
    assert!(!cluster.node_dir("node-a").join(name).exists());
    // The kept read-only helper was reused (and stays); deleting needed a writable one.
    let helpers = helper_pods(&cluster);
    assert_eq!(helpers, kept);
    let out = plugin.run(&["fetch", &source, "c.tar", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("on node node-a"), "{}", stderr(&out));
    no_part_files(plugin.dir.path());
}

/// Not a test: serves a fake cluster for `scripts/bench-fetch.sh` until its stop file appears.
/// Env: BENCH_DIR (kubeconfig and the `ready` and `stop` files go there), BENCH_ARCHIVE (linked
/// into node-a's checkpoint directory), BENCH_DROP_AFTER (cut every exec stream after N bytes).
#[test]
#[ignore]
fn serve_for_benchmark() {
    let (Some(dir), Some(archive)) = (
        std::env::var_os("BENCH_DIR"),
        std::env::var_os("BENCH_ARCHIVE"),
    ) else {
        return;
    };
    let dir = Path::new(&dir);
    let archive = Path::new(&archive);
    let cluster = FakeCluster::builder()
        .node("node-a")
        .namespace("demo")
        .pod_with(
            support::fake_apiserver::PodSpec::new("demo", "reader", "node-a", &["c"]).host_path(
                "/var/lib/kubelet/checkpoints",
                "/var/lib/kubelet/checkpoints",
            ),
        )
        .pod_start_delay(Duration::from_millis(0))
        .start();
    let target = cluster
        .node_dir("node-a")
        .join(archive.file_name().unwrap());
    if std::fs::hard_link(archive, &target).is_err() {
        std::fs::copy(archive, &target).unwrap();
    }
    if let Some(n) = std::env::var("BENCH_DROP_AFTER")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        cluster.set_fault(Fault::DropExecStreamAfter(n));
    }
    cluster.write_kubeconfig(dir);
    std::fs::write(dir.join("ready"), b"").unwrap();
    while !dir.join("stop").exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn analyze_target_checkpoints_fetches_and_analyses_leaving_nothing_behind() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let tmp = plugin.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = plugin
        .command(&[
            "analyze",
            &format!("pod/{POD}"),
            "-c",
            "counter",
            "-n",
            "demo",
            "-o",
            "json",
        ])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report["container_name"], "counter");
    assert_eq!(report["pod"], POD);
    assert_eq!(report["namespace"], "demo");
    assert_eq!(report["process_tree"]["pid"], 27426);
    assert_eq!(report["process_tree"]["command"], "python3");
    // Named after the node's copy, which is deleted once the analysis succeeded, and said so.
    let source = report["checkpoint"].as_str().unwrap();
    let (node, path) = source.split_once(':').unwrap();
    assert_eq!(node, "node-a");
    let name = path.rsplit('/').next().unwrap();
    assert!(!cluster.node_dir("node-a").join(name).exists(), "{source}");
    assert!(
        stderr(&out).contains(&format!("note: deleted {source} from the node"))
            && stderr(&out).contains("--keep-on-node keeps it"),
        "{}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
    assert!(
        helper_pods(&cluster).is_empty(),
        "helper left: {:?}",
        helper_pods(&cluster)
    );
    // With --keep-on-node the node's copy stays, and the command that deletes it is named;
    // `analyze pod NAME` is TYPE NAME, as kubectl takes it.
    let out = plugin
        .command(&[
            "analyze",
            "pod",
            POD,
            "-n",
            "demo",
            "--keep-on-node",
            "-o",
            "json",
        ])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let source = reports[0]["checkpoint"].as_str().unwrap();
    let name = source.rsplit('/').next().unwrap();
    assert!(cluster.node_dir("node-a").join(name).exists(), "{source}");
    assert!(
        stderr(&out).contains(&format!(
            "the archive stays on the node (--keep-on-node); delete it with: kubectl checkpoint delete {source}"
        )),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::read_dir(&tmp).unwrap().next().is_none());
    assert!(helper_pods(&cluster).is_empty());
    // A failed analysis keeps the node's copy for another try.
    let out = plugin
        .command(&["analyze", POD, "-n", "demo", "--pid", "999999", "--memory"])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the analysis failed, so the archive stays on the node"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_source_is_picked_from_the_nodes_archives_on_a_terminal() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod("demo", POD, "node-a", &["counter"])
        .pod("shop", "web-1", "node-b", &["app"])
        .start();
    let plugin = Plugin::new(&cluster);
    checkpoint(&plugin);
    let out = plugin.run(&["web-1", "-n", "shop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = stdout(&out).trim().to_string();
    let name = source.rsplit('/').next().unwrap();

    let mut terminal = plugin.on_terminal(&["fetch", "-n", "demo"]);
    terminal.wait_for("Checkpoint archive to fetch");
    terminal.wait_for("shop/web-1 app");
    terminal.press(&["\x1b[B", "\r"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    assert!(screen.contains(&format!("demo/{POD} counter")), "{screen}");
    assert!(screen.contains("8.8 MiB   node-a"), "{screen}");
    assert_is_fixture(&plugin.dir.path().join(name));
    no_part_files(plugin.dir.path());
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );

    // Without a terminal: no prompt, no helper pod, an error saying what to give.
    let before = cluster.requests().len();
    let out = plugin.run(&["fetch", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("fetch needs the archive as NODE:PATH"),
        "{}",
        stderr(&out)
    );
    assert_eq!(cluster.requests().len(), before);
}

#[test]
fn analyze_without_a_target_picks_a_pod_on_a_terminal() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", "api-0", "node-a", &["api"])
        .pod("demo", POD, "node-a", &["counter"])
        .start();
    let plugin = Plugin::new(&cluster);
    let mut terminal = plugin.on_terminal(&["analyze", "-n", "demo", "--ps-tree", "--cmdline"]);
    terminal.wait_for("Pod of namespace demo to checkpoint");
    terminal.wait_for(POD);
    terminal.press(&["\x1b[B", "\r"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains("/usr/bin/python3 -u /app/counters.py"),
        "{screen}"
    );
    assert!(screen.contains("27426"), "{screen}");
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
    assert_eq!(
        checkpoint_posts(&cluster),
        [format!(
            "/api/v1/nodes/node-a/proxy/checkpoint/demo/{POD}/counter"
        )]
    );

    // Without a terminal: exit 2 and what to give, before any request.
    let out = plugin.run(&["analyze", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("analyze needs a TARGET to checkpoint (pod/NAME or NAME), or --local"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&["analyze", "--local"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("analyze --local needs one or more"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_fetch_writes_a_custody_manifest_and_never_overwrites_evidence() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let (node, path) = source.split_once(':').unwrap();
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: FetchRecord = serde_json::from_slice(&out.stdout).unwrap();
    let manifest_path = plugin.dir.path().join("a.tar.custody.json");
    assert_eq!(record.custody, Path::new("a.tar.custody.json"));
    let mode = std::fs::metadata(&manifest_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let manifest: CustodyRecord =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest.format, "kubectl-checkpoint/custody/v1");
    assert_eq!(manifest.archive.file, "a.tar");
    assert_eq!(manifest.archive.size, 9_236_480);
    assert_eq!(manifest.archive.sha256, FIXTURE_SHA256);
    assert_eq!(manifest.source.node, node);
    assert_eq!(manifest.source.path, path);
    assert_eq!(manifest.source.server, cluster.url());
    assert_eq!(manifest.source.size, 9_236_480);
    // The node's own hash and its mtime of the file.
    assert_eq!(manifest.source.sha256.as_deref(), Some(FIXTURE_SHA256));
    let on_node = std::fs::metadata(
        cluster
            .node_dir(node)
            .join(path.rsplit('/').next().unwrap()),
    )
    .unwrap();
    let mtime = on_node
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mtime = k8s_openapi::jiff::Timestamp::from_second(mtime as i64).unwrap();
    assert_eq!(
        manifest.source.modified,
        mtime.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
    );
    assert_eq!(manifest.verified, "sha256");
    // Who fetched it, as the API server says (SelfSubjectReview), and through which helper.
    let user = manifest.fetched_by.unwrap();
    assert_eq!(user.username, "fake-user");
    assert_eq!(user.groups, ["system:authenticated"]);
    assert!(manifest
        .helper
        .name
        .starts_with("kubectl-checkpoint-helper-"));
    assert!(!manifest.helper.uid.is_empty());
    assert_eq!(manifest.helper.image, "busybox:1.36");
    assert!(manifest.helper.image_id.starts_with("busybox:1.36@sha256:"));
    assert!(manifest.helper.created_by_this_run);
    assert_eq!(
        manifest.tool,
        concat!("kubectl-checkpoint/", env!("CARGO_PKG_VERSION"))
    );
    assert!(manifest.started <= manifest.finished && manifest.finished.ends_with('Z'));
    assert_eq!((manifest.resumes, manifest.resumed_from_partial), (0, 0));
    assert!(cluster
        .requests()
        .iter()
        .any(|r| r.method == "POST"
            && r.path() == "/apis/authentication.k8s.io/v1/selfsubjectreviews"));

    // A second fetch to the same file refuses before any helper starts; --overwrite replaces.
    std::fs::write(plugin.dir.path().join("a.tar"), b"evidence").unwrap();
    let before = cluster.requests().len();
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("a.tar exists; evidence is never replaced silently: pass --overwrite"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(plugin.dir.path().join("a.tar")).unwrap(),
        b"evidence"
    );
    assert_eq!(cluster.requests().len(), before);
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo", "--overwrite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("a.tar"));

    // `--fetch FILE` for one container writes that file.
    let out = plugin.run(&[POD, "-n", "demo", "--fetch=one.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("one.tar"));
    assert!(plugin.dir.path().join("one.tar.custody.json").is_file());
    let manifest: CustodyRecord = serde_json::from_slice(
        &std::fs::read(plugin.dir.path().join("one.tar.custody.json")).unwrap(),
    )
    .unwrap();
    let taken = manifest.checkpoint.unwrap();
    assert_eq!(
        (taken.namespace.as_str(), taken.pod.as_str()),
        ("demo", POD)
    );
    assert_eq!(taken.container, "counter");
}

#[test]
fn a_restarting_kubelet_is_waited_for_within_the_retries() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    // The API server cannot dial the kubelet for a few exec requests, then can again.
    cluster.refuse_exec(3);
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("a.tar"));
    let err = stderr(&out);
    assert!(
        err.contains("HTTP 500: error dialing backend: dial tcp 127.0.0.1:10250: connect: connection refused; retrying in 0.5 s (retry 1 of 3)"),
        "{err}"
    );
    // Too many: the error says what the server said.
    cluster.refuse_exec(5);
    let out = plugin.run(&["fetch", &source, "b.tar", "-n", "demo", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HTTP 500"), "{}", stderr(&out));
    assert!(helper_pods(&cluster).is_empty());
}

#[test]
fn a_missing_node_is_named_at_once() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let started = Instant::now();
    let out = plugin.run(&[
        "fetch",
        "node-x:/var/lib/kubelet/checkpoints/a.tar",
        "-n",
        "demo",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("node node-x does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(cluster.pods().len() == 1, "no helper pod was made");
    // A local file whose timestamp's colon reads as NODE:PATH.
    let file = "checkpoint-p_demo-c-2023-08-24T11:24:18Z.tar";
    std::fs::write(plugin.dir.path().join(file), b"x").unwrap();
    let out = plugin.run(&["fetch", file, "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("analyze --local {file}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_full_disk_is_reported_as_the_io_error_it_is() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    // Files of at most 1 MiB (ulimit -f counts 1 KiB blocks); SIGXFSZ ignored, so write(2)
    // fails with EFBIG as on a full file system.
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1024; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["fetch", &source, "full.tar", "-n", "demo", "--kubeconfig"])
        .arg(&plugin.kubeconfig)
        .current_dir(plugin.dir.path())
        .env("HOME", plugin.dir.path())
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("writing ") && err.contains("full.tar.part: File too large"),
        "{err}"
    );
    assert!(!err.contains("writer stopped"), "{err}");
    assert!(helper_pods(&cluster).is_empty());
}

#[test]
fn only_a_kept_helper_that_is_unchanged_is_reused() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        // A look-alike someone else made, with the helper's labels: never used.
        .pod_with(
            PodSpec::new(
                "demo",
                "kubectl-checkpoint-helper-f00",
                "node-a",
                &["helper"],
            )
            .label("app.kubernetes.io/name", "kubectl-checkpoint-helper")
            .label("kubectl-checkpoint/mount", "ro"),
        )
        .start();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo", "--keep-helper"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut kept = helper_pods(&cluster);
    kept.retain(|n| n != "kubectl-checkpoint-helper-f00");
    assert_eq!(kept.len(), 1);
    let execs = |cluster: &FakeCluster| -> Vec<String> {
        cluster
            .requests()
            .iter()
            .filter(|r| r.path().ends_with("/exec"))
            .map(|r| r.path().to_string())
            .collect()
    };
    assert!(execs(&cluster).iter().all(|p| p.contains(&kept[0])));
    // The kept one is reused as it is.
    let out = plugin.run(&["fetch", &source, "b.tar", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: CustodyRecord = serde_json::from_slice(
        &std::fs::read(plugin.dir.path().join("b.tar.custody.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest.helper.name, kept[0]);
    assert!(!manifest.helper.created_by_this_run);
    // Someone changes its image: it is no longer trusted, and a new helper serves the fetch.
    cluster.modify_pod("demo", &kept[0], |pod| {
        pod.spec.as_mut().unwrap().containers[0].image = Some("evil/busybox:1".into());
    });
    let out = plugin.run(&["fetch", &source, "c.tar", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("not reusing the kept helper pod demo/{}", kept[0]))
            && stderr(&out).contains("evil/busybox:1"),
        "{}",
        stderr(&out)
    );
    let manifest: CustodyRecord = serde_json::from_slice(
        &std::fs::read(plugin.dir.path().join("c.tar.custody.json")).unwrap(),
    )
    .unwrap();
    assert_ne!(manifest.helper.name, kept[0]);
    assert!(manifest.helper.created_by_this_run);
    assert!(!execs(&cluster).iter().any(|p| p.contains("helper-f00")));
}

#[test]
fn a_pod_security_refusal_keeps_the_archive_and_says_what_to_do() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .baseline_namespace("demo")
        .start();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "--fetch=out.tar", "-o", "json"]);
    // The checkpoint was taken: exit 1 (some items failed), and the record names the archive.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let record = &records[0];
    assert!(record.fetched.is_none());
    let error = record.fetch_error.as_deref().unwrap();
    assert!(error.contains("violates PodSecurity"), "{error}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("kubectl checkpoint fetch node-a:{}", record.path))
            && err.contains("pod-security.kubernetes.io/enforce=privileged")
            && err.contains("--helper-namespace checkpoint-helpers")
            && !err.contains("you need `create` and `delete` on `pods`"),
        "{err}"
    );
    assert!(cluster
        .node_dir("node-a")
        .join(record.path.rsplit('/').next().unwrap())
        .exists());
    // In one step with a namespace for the helpers.
    let out = plugin.run(&[
        POD,
        "-n",
        "demo",
        "--fetch=out.tar",
        "--helper-namespace",
        "checkpoint-helpers",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("out.tar"));
    assert!(cluster
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path() == "/api/v1/namespaces/checkpoint-helpers/pods"));
}

#[test]
fn the_helper_is_watched_not_polled() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .pod_start_delay(Duration::from_secs(3))
        .start();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let before = cluster.requests().len();
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let helper_reads = cluster
        .requests()
        .iter()
        .skip(before)
        .filter(|r| r.method == "GET" && r.path().starts_with("/api/v1/namespaces/demo/pods"))
        .filter(|r| r.query_values("watch").is_empty())
        .count();
    let watches = cluster
        .requests()
        .iter()
        .skip(before)
        .filter(|r| r.query_values("watch") == ["true"])
        .count();
    // Three seconds of start-up: one pod watch and one event watch, no polling (every 250 ms
    // would be a dozen GETs).
    assert!(helper_reads <= 4, "{helper_reads} GETs");
    assert!((1..=4).contains(&watches), "{watches} watches");
}

#[test]
fn two_checkpoints_in_one_second_warn_that_the_first_was_replaced() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    // The fake kubelet names archives by the second, as the real one: retry until two runs
    // fall into the same second.
    for _ in 0..5 {
        let first = plugin.run(&[POD, "-n", "demo", "--restart-check", "0"]);
        let second = plugin.run(&[POD, "-n", "demo", "--restart-check", "0"]);
        assert!(first.status.success() && second.status.success());
        if stdout(&first) == stdout(&second) {
            assert!(
                stderr(&second).contains("was written again: the kubelet names archives by the second, so this checkpoint replaced the one taken at"),
                "{}",
                stderr(&second)
            );
            return;
        }
        assert!(
            !stderr(&second).contains("written again"),
            "{}",
            stderr(&second)
        );
    }
    panic!("no two checkpoints fell into the same second");
}

#[test]
fn analyze_shows_the_custody_and_warns_when_the_archive_changed() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let out = plugin.run(&["fetch", &source, "a.tar", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (node, path) = source.split_once(':').unwrap();
    let out = plugin.run(&["analyze", "--local", "a.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "Custody:       fetched from {node}:{path} by fake-user at "
        )) && stdout(&out)
            .contains("(sha256 checked on the node); the archive matches its recorded sha256"),
        "{}",
        stdout(&out)
    );
    let out = plugin.run(&["analyze", "--local", "a.tar", "-o", "json"]);
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["custody"]["matches"], true);
    assert_eq!(
        reports[0]["custody"]["record"]["fetched_by"]["username"],
        "fake-user"
    );

    // One byte changed in the copy: the report and stderr both say so.
    let copy = plugin.dir.path().join("a.tar");
    let mut bytes = std::fs::read(&copy).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&copy, &bytes).unwrap();
    let out = plugin.run(&["analyze", "--local", "a.tar"]);
    assert!(
        stdout(&out).contains("WARNING: the archive's sha256 is")
            && stdout(&out).contains("it changed since it was fetched"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("warning: a.tar does not match its custody record"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&["analyze", "--local", "a.tar", "-o", "json"]);
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["custody"]["matches"], false);
}

/// What a terminal `cols` wide shows after `bytes` (text, `\r`, `\n`, and the CSI sequences
/// indicatif and console use: cursor up/down/column, erase line, erase below); and the widest
/// line ever drawn.
fn render_terminal(bytes: &str, _cols: usize) -> (Vec<String>, usize) {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col, mut widest) = (0usize, 0usize, 0usize);
    let mut chars = bytes.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
            }
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut arg = String::new();
                let mut cmd = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        cmd = c;
                        break;
                    }
                    arg.push(c);
                }
                let n: usize = arg.trim_start_matches('?').parse().unwrap_or(1).max(1);
                match cmd {
                    'A' => row = row.saturating_sub(n),
                    'B' => row += n,
                    'G' => col = n - 1,
                    'K' => {
                        if let Some(line) = lines.get_mut(row) {
                            match arg.as_str() {
                                "2" => line.clear(),
                                "1" => line.iter_mut().take(col + 1).for_each(|c| *c = ' '),
                                _ => line.truncate(col),
                            }
                        }
                    }
                    'J' => {
                        if let Some(line) = lines.get_mut(row) {
                            line.truncate(col);
                        }
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            '\x1b' => {}
            c if c.is_control() => {}
            c => {
                while lines.len() <= row {
                    lines.push(Vec::new());
                }
                let line = &mut lines[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                // No wrapping: a line wider than the terminal shows as such.
                col += 1;
                widest = widest.max(col);
            }
        }
        while lines.len() <= row {
            lines.push(Vec::new());
        }
    }
    let shown = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    (shown, widest)
}

#[test]
fn the_progress_bar_fits_the_terminal_and_ctrl_c_leaves_nothing_of_it() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    cluster.set_fault(Fault::ThrottleExec(1_000_000));
    for cols in [80u16, 100, 120] {
        let dest = format!("w{cols}.tar");
        let mut terminal =
            plugin.on_terminal_of_width(&["fetch", &source, &dest, "-n", "demo"], cols);
        // The bar, with the archive's name shortened in the middle to fit.
        terminal.wait_for("MiB");
        std::thread::sleep(Duration::from_millis(700));
        let drawn = terminal.screen();
        let (_, widest) = render_terminal(&drawn, usize::from(cols));
        assert!(
            widest <= usize::from(cols),
            "{cols} columns: a line of {widest}"
        );
        assert!(drawn.contains('…'), "{cols} columns: {drawn:?}");
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(terminal.id() as i32).unwrap(),
            rustix::process::Signal::INT,
        )
        .unwrap();
        let (status, screen) = terminal.finish();
        assert_eq!(status.code(), Some(130), "{screen}");
        let (shown, _) = render_terminal(&screen, usize::from(cols));
        // Nothing of the bar or the spinner stays; the error and the note do.
        assert!(
            !shown
                .iter()
                .any(|l| l.contains("MiB") || l.contains("waiting for")),
            "{cols} columns: {shown:#?}"
        );
        assert!(
            shown.iter().any(|l| l.contains("interrupted")),
            "{cols} columns: {shown:#?}"
        );
    }
    assert!(helper_pods(&cluster).is_empty());
}

/// The pods the plugin asked the API server to create.
fn created_pods(cluster: &FakeCluster) -> Vec<k8s_openapi::api::core::v1::Pod> {
    cluster
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/pods"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[test]
fn the_local_side_is_checked_before_any_helper_pod() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let name = source.rsplit('/').next().unwrap();
    // A directory that cannot be made: refused as typed (the slash kept), no helper pod.
    let out = plugin.run(&["fetch", &source, "/nonexistent/dir/", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: /nonexistent/dir/ cannot be made: its parent directory /nonexistent does not exist\n"
    );
    let out = plugin.run(&["fetch", &source, "/nonexistent/dir/a.tar", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/dir does not exist (no such directory)"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&[POD, "-n", "demo", "--fetch=/nonexistent/x/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        checkpoint_posts_after(&cluster, 1),
        "checkpointed though it could not be written"
    );
    // Evidence already there: refused before anything is sent.
    std::fs::write(plugin.dir.path().join("taken.tar"), b"evidence").unwrap();
    let out = plugin.run(&["fetch", &source, "taken.tar", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--overwrite"), "{}", stderr(&out));
    assert!(
        created_pods(&cluster).is_empty(),
        "a helper pod before the local checks"
    );
    // DEST/ whose parent exists is made, and the archive goes in under its own name.
    let out = plugin.run(&["fetch", &source, "evidence/", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_is_fixture(&plugin.dir.path().join("evidence").join(name));
}

/// True when exactly `n` checkpoint requests were made so far.
fn checkpoint_posts_after(cluster: &FakeCluster, n: usize) -> bool {
    support::plugin::checkpoint_posts(cluster).len() == n
}

#[test]
fn the_helper_image_and_namespace_come_from_the_environment_too() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .pod("helpers", "placeholder", "node-a", &["x"])
        .start();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let out = plugin
        .command(&["fetch", &source, "a.tar", "-n", "demo"])
        .env(
            "KUBECTL_CHECKPOINT_HELPER_IMAGE",
            "registry.example.com/busybox:1.36",
        )
        .env("KUBECTL_CHECKPOINT_HELPER_NAMESPACE", "helpers")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pods = created_pods(&cluster);
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].metadata.namespace.as_deref(), Some("helpers"));
    let image = pods[0].spec.as_ref().unwrap().containers[0].image.clone();
    assert_eq!(image.as_deref(), Some("registry.example.com/busybox:1.36"));
    // A flag wins over the variable.
    std::fs::remove_file(plugin.dir.path().join("a.tar")).unwrap();
    std::fs::remove_file(plugin.dir.path().join("a.tar.custody.json")).unwrap();
    let out = plugin
        .command(&[
            "fetch",
            &source,
            "a.tar",
            "-n",
            "demo",
            "--helper-image",
            "busybox:1.36",
        ])
        .env(
            "KUBECTL_CHECKPOINT_HELPER_IMAGE",
            "registry.example.com/busybox:1.36",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pods = created_pods(&cluster);
    assert_eq!(
        pods[1].spec.as_ref().unwrap().containers[0]
            .image
            .as_deref(),
        Some("busybox:1.36")
    );
}

#[test]
fn what_stays_on_the_node_is_said_and_a_deletion_is_recorded() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "--fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let local = stdout(&out);
    let file = local.split_whitespace().next().unwrap().to_string();
    let on_node = cluster.node_dir("node-a").join(&file);
    assert!(on_node.exists());
    assert!(
        stderr(&out).contains(&format!(
            "note: the archive stays on node node-a (the kubelet never deletes it); delete it with: kubectl checkpoint delete node-a:/var/lib/kubelet/checkpoints/{file}"
        )),
        "{}",
        stderr(&out)
    );
    // --delete-after-fetch: gone from the node, and the custody manifest says when and why.
    std::fs::remove_file(plugin.dir.path().join(&file)).unwrap();
    std::fs::remove_file(plugin.dir.path().join(format!("{file}.custody.json"))).unwrap();
    let out = plugin.run(&[
        POD,
        "-n",
        "demo",
        "--fetch=kept.tar",
        "--delete-after-fetch",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(records[0].deleted_from_node);
    let name = records[0].path.rsplit('/').next().unwrap();
    assert!(!cluster.node_dir("node-a").join(name).exists());
    assert!(!stderr(&out).contains("stays on node"), "{}", stderr(&out));
    let custody: CustodyRecord = serde_json::from_slice(
        &std::fs::read(plugin.dir.path().join("kept.tar.custody.json")).unwrap(),
    )
    .unwrap();
    let deletion = custody.deleted_from_node.expect("the deletion is recorded");
    assert_eq!(deletion.by, "--delete-after-fetch");
    assert!(deletion.deleted >= custody.finished, "{deletion:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(plugin.dir.path().join("kept.tar.custody.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The fetch verb records it the same way.
    let source = checkpoint(&plugin);
    let out = plugin.run(&[
        "fetch",
        &source,
        "f.tar",
        "-n",
        "demo",
        "--delete-after-fetch",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let custody: CustodyRecord = serde_json::from_slice(
        &std::fs::read(plugin.dir.path().join("f.tar.custody.json")).unwrap(),
    )
    .unwrap();
    assert!(custody.deleted_from_node.is_some());
    // --delete-after-fetch without --fetch is a slip, said before anything is done.
    let out = plugin.run(&[POD, "-n", "demo", "--delete-after-fetch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("add --fetch"), "{}", stderr(&out));
}

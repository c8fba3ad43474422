//! `kubectl checkpoint fetch` and `--fetch`: archives streamed through a helper pod's exec from
//! the fake cluster, byte-identical to the fixture, resumed after cut streams, cleaned up on
//! Ctrl-C.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use kubectl_checkpoint::cluster::{CheckpointRecord, FetchRecord, Verify};
use support::fake_apiserver::{FakeCluster, Fault};
use support::plugin::{
    checkpoint_posts, exec_commands, fixture, helper_pods, stderr, stdout, Plugin,
};

const POD: &str = "counters-857d7978fd-jnkck";

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
    let out = plugin.run(&[POD, "-n", "demo", "-o", "json", "--fetch", "out.tar"]);
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
    let commands = exec_commands(&cluster);
    assert!(commands
        .iter()
        .any(|c| c.starts_with("stat -c %s /var/lib/kubelet/checkpoints/")));
    assert!(commands
        .iter()
        .any(|c| c.starts_with("sha256sum /var/lib/kubelet/checkpoints/")));
    assert!(commands
        .iter()
        .any(|c| c.starts_with("cat /var/lib/kubelet/checkpoints/")));
}

#[test]
fn fetch_prints_the_local_path_and_defaults_to_the_basename() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let source = checkpoint(&plugin);
    let out = plugin.run(&["fetch", &source, "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let name = source.rsplit('/').next().unwrap();
    assert_eq!(stdout(&out).trim(), name);
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
        .filter(|c| c.starts_with("tail "))
        .collect();
    assert_eq!(tails.len(), 3);
    assert!(
        tails[0].starts_with("tail -c +3000001 /var/lib/kubelet/checkpoints/"),
        "{tails:?}"
    );
    assert!(helper_pods(&cluster).is_empty());

    // Too few retries: an error, and neither the file nor a .part is left.
    let out = plugin.run(&["fetch", &source, "bad.tar", "-n", "demo", "--retries", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "the stream broke at byte 6000000 of 9236480 and 1 resumes did not finish it"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!plugin.dir.path().join("bad.tar").exists());
    no_part_files(plugin.dir.path());
    assert!(helper_pods(&cluster).is_empty());
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
            .any(|c| c.starts_with("sha256sum")),
        "{:?}",
        exec_commands(&cluster)
    );

    // Joined pieces are checked against the node's hash after all.
    cluster.set_fault(Fault::DropExecStreamAfter(5_000_000));
    let record = fetch("resumed.tar");
    assert_eq!((record.verified, record.resumes), (Verify::Sha256, 1));
    assert_is_fixture(&plugin.dir.path().join("resumed.tar"));
    let commands = exec_commands(&cluster);
    let tail = commands
        .iter()
        .position(|c| c.starts_with("tail -c +5000001 "));
    let hash = commands.iter().position(|c| c.starts_with("sha256sum "));
    assert!(tail.is_some() && hash > tail, "{commands:?}");
    assert!(helper_pods(&cluster).is_empty());
}

#[test]
fn ctrl_c_removes_the_helper_and_the_partial_file() {
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
    assert!(!part.exists() && !plugin.dir.path().join("slow.tar").exists());
    no_part_files(plugin.dir.path());
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
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
    // Named after the node's copy, which stays without --delete-after-fetch.
    let source = report["checkpoint"].as_str().unwrap();
    let (node, path) = source.split_once(':').unwrap();
    assert_eq!(node, "node-a");
    let name = path.rsplit('/').next().unwrap();
    assert!(cluster.node_dir("node-a").join(name).exists(), "{source}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
    assert!(
        helper_pods(&cluster).is_empty(),
        "helper left: {:?}",
        helper_pods(&cluster)
    );
    // With --delete-after-fetch the node's copy goes too.
    let out = plugin
        .command(&[
            "analyze",
            POD,
            "-n",
            "demo",
            "--delete-after-fetch",
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
    assert!(!cluster.node_dir("node-a").join(name).exists(), "{source}");
    assert!(std::fs::read_dir(&tmp).unwrap().next().is_none());
    assert!(helper_pods(&cluster).is_empty());
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

//! `kubectl checkpoint list` and `delete`: archives on nodes read through helper pods.

use crate::support;

use checkpoint_cluster::ListedArchive;
use support::fake_apiserver::{FakeCluster, FakeNode};
use support::plugin::{helper_pods, stderr, stdout, Plugin};

const POD: &str = "counters-857d7978fd-jnkck";

fn cluster() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod("demo", POD, "node-a", &["counter"])
        .pod("kube-system", "dns-1", "node-b", &["core-dns"])
        .start()
}

#[test]
fn lists_archives_on_every_node_with_names_decoded() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    for (target, ns) in [(POD, "demo"), ("dns-1", "kube-system")] {
        let out = plugin.run(&[target, "-n", ns]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    std::fs::write(cluster.node_dir("node-a").join("notes.txt"), b"x").unwrap();

    let out = plugin.run(&["list", "-A", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let archives: Vec<ListedArchive> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(archives.len(), 3, "{archives:?}");
    let demo = archives
        .iter()
        .find(|a| a.name.as_ref().is_some_and(|n| n.pod == POD))
        .unwrap();
    let name = demo.name.as_ref().unwrap();
    assert_eq!((demo.node.as_str(), demo.size), ("node-a", 9_236_480));
    assert_eq!(
        (name.namespace.as_str(), name.container.as_str()),
        ("demo", "counter")
    );
    assert!(demo.path.starts_with(&format!(
        "/var/lib/kubelet/checkpoints/checkpoint-{POD}_demo-counter-"
    )));
    // `kube-system` has a `-`: split by the cluster's namespaces, not at the first `-`.
    let dns = archives
        .iter()
        .find(|a| a.name.as_ref().is_some_and(|n| n.pod == "dns-1"))
        .unwrap();
    let name = dns.name.as_ref().unwrap();
    assert_eq!(
        (name.namespace.as_str(), name.container.as_str()),
        ("kube-system", "core-dns")
    );
    assert_eq!(dns.node, "node-b");
    assert!(archives
        .iter()
        .any(|a| a.name.is_none() && a.path.ends_with("/notes.txt")));
    assert!(helper_pods(&cluster).is_empty());

    // The table, for one node.
    let out = plugin.run(&["list", "-A", "--node", "node-a"]);
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("NAMESPACE")
            && header.contains("CONTAINER")
            && header.contains("NODE")
            && header.ends_with("PATH"),
        "{header}"
    );
    assert_eq!(lines.clone().count(), 2, "{text}");
    assert!(
        text.contains("demo")
            && text.contains("8.8 MiB")
            && text.contains("node-a ")
            && text.contains("/var/lib/kubelet/checkpoints/checkpoint-"),
        "{text}"
    );
    assert!(!text.contains("dns-1"));

    // For one target: only its archives.
    let out = plugin.run(&["list", &format!("pod/{POD}"), "-n", "demo", "-o", "json"]);
    let archives: Vec<ListedArchive> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(archives.len(), 1);
    assert_eq!(archives[0].name.as_ref().unwrap().pod, POD);
}

#[test]
fn delete_removes_one_archive() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo"]);
    let source = stdout(&out).trim().to_string();
    let file = cluster
        .node_dir("node-a")
        .join(source.rsplit('/').next().unwrap());
    assert!(file.is_file());
    let out = plugin.run(&["delete", &source, "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("deleted {source}"));
    assert!(!file.exists());
    assert!(helper_pods(&cluster).is_empty());
    // Again: it is gone, said plainly.
    let out = plugin.run(&["delete", &source, "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "{source} does not exist (already deleted?); `kubectl checkpoint list --node node-a` shows the node's archives"
        )),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("rm:"), "{}", stderr(&out));
    let out = plugin.run(&["delete", "node-a:/etc/passwd"]);
    assert!(stderr(&out).contains("inside /var/lib/kubelet/checkpoints"));
}

#[test]
fn delete_without_a_source_offers_the_archives_on_a_terminal() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo"]);
    let source = stdout(&out).trim().to_string();
    let file = cluster
        .node_dir("node-a")
        .join(source.rsplit('/').next().unwrap());
    let mut terminal = plugin.on_terminal(&["delete", "-n", "demo"]);
    terminal.wait_for("Checkpoint archive to delete");
    terminal.wait_for(&format!("demo/{POD} counter"));
    terminal.type_keys("\r");
    // What will be deleted, then the question.
    terminal.wait_for(&format!("  {source}"));
    terminal.wait_for(&format!("pod demo/{POD}, container counter, taken "));
    terminal.wait_for("It cannot be undone");
    terminal.type_keys("y");
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    assert!(screen.contains(&format!("deleted {source}")), "{screen}");
    assert!(!file.exists());

    // Nothing left to offer.
    let terminal = plugin.on_terminal(&["delete", "-n", "demo"]);
    let (status, screen) = terminal.finish();
    assert_eq!(status.code(), Some(2), "{screen}");
    assert!(
        screen.contains("no checkpoint archives on any of the 2 nodes"),
        "{screen}"
    );
}

#[test]
fn ctrl_c_while_listing_removes_the_helper_pods() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod_start_delay(std::time::Duration::from_secs(60))
        .start();
    let plugin = Plugin::new(&cluster);
    let child = plugin.spawn(&["list", "-n", "default"]);
    let started = std::time::Instant::now();
    while helper_pods(&cluster).len() < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the helpers were never created"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    // Ctrl-C: 130, as a shell reports it.
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted; the 2 helper pods this run created were removed"),
        "{}",
        stderr(&out)
    );
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
}

#[test]
fn keep_helper_keeps_the_listing_helper_for_the_next_run() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&["list", "--node", "node-a", "-n", "demo", "--keep-helper"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = helper_pods(&cluster);
    assert_eq!(kept.len(), 1);
    let out = plugin.run(&["list", "--node", "node-a", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Reused, and left alone because this run did not create it.
    assert_eq!(helper_pods(&cluster), kept);
}

#[test]
fn a_node_that_never_checkpointed_has_no_archives_and_does_not_stall_the_listing() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // node-b has no /var/lib/kubelet/checkpoints: its helper cannot mount it.
    std::fs::remove_dir(cluster.node_dir("node-b")).unwrap();
    let started = std::time::Instant::now();
    let out = plugin.run(&["list", "-A", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let archives: Vec<ListedArchive> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(archives.len(), 1);
    assert_eq!(archives[0].node, "node-a");
    let out = plugin.run(&["list", "-A", "--node", "node-b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("No checkpoint archives found."),
        "{}",
        stderr(&out)
    );
    // The kubelet's FailedMount event ended the wait at once, not the helper timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(cluster
        .events()
        .iter()
        .any(|e| e.reason.as_deref() == Some("FailedMount")));
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
    // fetch says why there is nothing to fetch.
    let out = plugin.run(&["fetch", "node-b:/var/lib/kubelet/checkpoints/a.tar"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "node node-b has no /var/lib/kubelet/checkpoints: no checkpoint was ever taken there"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hard_errors_print_nothing_on_stdout_in_json() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&["list", "--node", "node-x", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("node node-x does not exist"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&["pod/nosuch", "-n", "demo", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
}

/// The pods the plugin asked for (helper pods), with the node each was pinned to.
fn helper_nodes(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/pods"))
        .filter_map(|r| {
            let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_slice(&r.body).ok()?;
            pod.spec?.node_name
        })
        .collect()
}

#[test]
fn list_skips_nodes_a_helper_cannot_or_should_not_run_on() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node_with(FakeNode::new("node-gone").without_kubelet())
        .node_with(FakeNode::new("node-cordoned").cordoned())
        .node_with(FakeNode::new("node-gpu").taint("dedicated", "gpu", "NoSchedule"))
        .node_with(FakeNode::new("node-control").taint(
            "node-role.kubernetes.io/control-plane",
            "",
            "NoSchedule",
        ))
        .pod("demo", POD, "node-a", &["counter"])
        .start();
    let plugin = Plugin::new(&cluster);
    assert!(plugin.run(&[POD, "-n", "demo"]).status.success());
    let started = std::time::Instant::now();
    let out = plugin.run(&["list", "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    let err = stderr(&out);
    for (node, why) in [
        (
            "node-gone",
            "it is NotReady (Ready=Unknown: Kubelet stopped posting node status.)",
        ),
        ("node-cordoned", "it is cordoned (spec.unschedulable)"),
        ("node-gpu", "it has the taint dedicated=gpu:NoSchedule"),
    ] {
        assert!(
            err.contains(&format!("note: skipped node {node}: {why}")),
            "{err}"
        );
    }
    assert!(
        err.contains("`--node node-gpu` lists it all the same"),
        "{err}"
    );
    // Helpers went to the good node and the control plane only.
    let mut nodes = helper_nodes(&cluster);
    nodes.sort();
    assert_eq!(nodes, ["node-a", "node-control"]);

    // Tolerated, or named: listed.
    let out = plugin.run(&[
        "list",
        "-n",
        "demo",
        "--helper-toleration",
        "dedicated=gpu:NoSchedule",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("skipped node node-gpu"),
        "{}",
        stderr(&out)
    );
    assert!(helper_nodes(&cluster).iter().any(|n| n == "node-gpu"));
    let out = plugin.run(&["list", "-n", "demo", "--node", "node-cordoned"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A NotReady node named on its own is refused at once, without a helper.
    let out = plugin.run(&["list", "-n", "demo", "--node", "node-gone"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("node node-gone cannot run the helper pod: it is NotReady"),
        "{}",
        stderr(&out)
    );
    assert!(!helper_nodes(&cluster).iter().any(|n| n == "node-gone"));
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
}

#[test]
fn helpers_tolerate_their_nodes_taints_but_never_a_blanket() {
    let cluster = FakeCluster::builder()
        .node_with(FakeNode::new("node-a").taint("evict", "yes", "NoExecute"))
        .pod("demo", POD, "node-a", &["counter"])
        .start();
    let plugin = Plugin::new(&cluster);
    // The kubelet rejects a pod that does not tolerate a NoExecute taint of its node: the
    // helper tolerates that taint, so the fetch works.
    let out = plugin.run(&[POD, "-n", "demo", "--fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let created: Vec<k8s_openapi::api::core::v1::Pod> = cluster
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/pods"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(created.len(), 1);
    let tolerations = created[0]
        .spec
        .as_ref()
        .unwrap()
        .tolerations
        .clone()
        .unwrap();
    let keys: Vec<&str> = tolerations
        .iter()
        .filter_map(|t| t.key.as_deref())
        .collect();
    assert_eq!(
        keys,
        [
            "node-role.kubernetes.io/control-plane",
            "node-role.kubernetes.io/master",
            "evict"
        ]
    );
    assert!(
        tolerations.iter().all(|t| t.key.is_some()),
        "{tolerations:?}"
    );
}

#[test]
fn one_slow_node_never_holds_back_the_others_rows() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node_with(FakeNode::new("node-b").silent())
        .pod("demo", POD, "node-a", &["counter"])
        .start();
    let plugin = Plugin::new(&cluster);
    assert!(plugin.run(&[POD, "-n", "demo"]).status.success());
    let mut child = plugin
        .command(&["list", "-n", "demo", "--helper-timeout", "8"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    let mut row = String::new();
    use std::io::BufRead;
    stdout.read_line(&mut header).unwrap();
    stdout.read_line(&mut row).unwrap();
    let rows_after = started.elapsed();
    assert!(header.starts_with("POD "), "{header}");
    assert!(row.starts_with(POD), "{row}");
    let out = child.wait_with_output().unwrap();
    let finished = started.elapsed();
    // node-a's rows came while node-b's helper was still awaited (its own 8 s deadline).
    assert!(
        rows_after < std::time::Duration::from_secs(5)
            && finished >= std::time::Duration::from_secs(8),
        "rows after {rows_after:?}, done after {finished:?}"
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("node-b") && stderr(&out).contains("not running after 8 s"),
        "{}",
        stderr(&out)
    );
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
}

#[test]
fn a_helper_the_kubelet_cannot_start_fails_fast_with_the_kubelets_reason() {
    let reason = "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: could not join or create cgroup";
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node_with(FakeNode::new("node-b").sandbox_failure(reason))
        .pod("demo", POD, "node-a", &["counter"])
        .start();
    let plugin = Plugin::new(&cluster);
    assert!(plugin.run(&[POD, "-n", "demo"]).status.success());
    let started = std::time::Instant::now();
    let out = plugin.run(&["list", "-n", "demo"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the kubelet cannot create its pod sandbox")
            && err.contains("could not join or create cgroup"),
        "{err}"
    );
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
}

#[test]
fn list_says_where_the_archives_are_when_this_namespace_has_none() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    for (target, ns) in [(POD, "demo"), ("dns-1", "kube-system")] {
        assert!(plugin.run(&[target, "-n", ns]).status.success());
    }
    let out = plugin.run(&["list", "-n", "default"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains(
            "No checkpoint archives found in namespace default; 2 archives in other namespaces: use -A."
        ),
        "{}",
        stderr(&out)
    );
    // A namespace that does not exist: said once, and no helper pod tried.
    let before = helper_nodes(&cluster).len();
    let out = plugin.run(&["list", "-n", "nosuchns"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("namespace \"nosuchns\" not found"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stderr(&out).matches("error:").count(),
        1,
        "{}",
        stderr(&out)
    );
    assert_eq!(helper_nodes(&cluster).len(), before);
}

#[test]
fn delete_removes_only_checkpoint_archives_unless_forced() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let dir = cluster.node_dir("node-a");
    std::fs::write(dir.join("notes.txt"), b"keep me").unwrap();
    // Named like an archive, not one inside.
    let fake = "checkpoint-p_demo-c-2024-01-02T03:04:05Z.tar";
    std::fs::write(dir.join(fake), b"not a tar").unwrap();
    let out = plugin.run(&["delete", "node-a:notes.txt", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("node-a:/var/lib/kubelet/checkpoints/notes.txt is not a checkpoint archive (its name is not the kubelet's")
            && stderr(&out).contains("pass --force to delete it anyway"),
        "{}",
        stderr(&out)
    );
    assert!(dir.join("notes.txt").exists());
    assert!(
        helper_nodes(&cluster).is_empty(),
        "a helper for a name check"
    );
    let out = plugin.run(&["delete", &format!("node-a:{fake}"), "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("it does not open as a tar holding checkpoint/, spec.dump or config.dump"),
        "{}",
        stderr(&out)
    );
    assert!(dir.join(fake).exists());
    // Several at once: each says how it went, the others are done (exit 1).
    let out = plugin.run(&[POD, "-n", "demo"]);
    let source = stdout(&out).trim().to_string();
    let out = plugin.run(&["delete", "node-a:notes.txt", &source, "-n", "demo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("deleted {source}"));
    // --force deletes anything in the directory.
    let out = plugin.run(&[
        "delete",
        "--force",
        "node-a:notes.txt",
        &format!("node-a:{fake}"),
        "-n",
        "demo",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.join("notes.txt").exists() && !dir.join(fake).exists());
    assert!(
        helper_pods(&cluster).is_empty(),
        "{:?}",
        helper_pods(&cluster)
    );
}

#[test]
fn deleting_several_on_a_terminal_shows_each_archive_before_asking() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let first = stdout(&plugin.run(&[POD, "-n", "demo", "--restart-check", "0"]))
        .trim()
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = stdout(&plugin.run(&[POD, "-n", "demo", "--restart-check", "0"]))
        .trim()
        .to_string();
    assert_ne!(first, second);
    let mut terminal = plugin.on_terminal_of_width(&["delete", &first, &second, "-n", "demo"], 100);
    for source in [&first, &second] {
        // Each archive as NODE:PATH, then when it was taken: two checkpoints of one container
        // differ.
        let file = source.rsplit('/').next().unwrap();
        let time = file
            .trim_end_matches(".tar")
            .rsplit("counter-")
            .next()
            .unwrap()
            .to_string();
        terminal.wait_for(&format!("  {source}"));
        terminal.wait_for(&format!("container counter, taken {time}, 8.8 MiB"));
    }
    terminal.wait_for("Delete these 2 archives from their nodes? It cannot be undone");
    terminal.type_keys("n");
    let (status, screen) = terminal.finish();
    assert_eq!(status.code(), Some(130), "{screen}");
    for source in [&first, &second] {
        let file = cluster
            .node_dir("node-a")
            .join(source.rsplit('/').next().unwrap());
        assert!(file.exists(), "deleted though declined: {source}");
    }
}

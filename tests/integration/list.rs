//! `kubectl checkpoint list` and `delete`: archives on nodes read through helper pods.

use crate::support;

use checkpoint_cluster::ListedArchive;
use support::fake_apiserver::FakeCluster;
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
            && header.ends_with("ARCHIVE")
    );
    assert_eq!(lines.clone().count(), 2, "{text}");
    assert!(
        text.contains("demo")
            && text.contains("8.8 MiB")
            && text.contains("node-a:/var/lib/kubelet/checkpoints/checkpoint-")
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
    // Again: the node says why.
    let out = plugin.run(&["delete", &source, "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("No such file"), "{}", stderr(&out));
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
    let child = plugin.spawn(&["list", "-n", "demo"]);
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
        stderr(&out).contains("interrupted; the helper pods this run created were removed"),
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

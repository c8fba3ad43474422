//! `kubectl checkpoint TARGET`: the checkpoint POST through the fake API server's nodes proxy,
//! targets (pod, deploy/, -l), container choice, output, and the advice of every error.

use crate::support;

use checkpoint_cluster::CheckpointRecord;
use support::fake_apiserver::{FakeCluster, Fault, Phase, PodSpec};
use support::plugin::{checkpoint_posts, stderr, stdout, Plugin};

const POD: &str = "counters-857d7978fd-jnkck";

fn demo() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod("demo", POD, "node-a", &["counter"])
        .start()
}

#[test]
fn checkpoints_a_pod_and_prints_node_and_path() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[&format!("pod/{POD}"), "-n", "demo", "--timeout", "30"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    let line = line.trim();
    let path = line.strip_prefix("node-a:").unwrap();
    let prefix = format!("/var/lib/kubelet/checkpoints/checkpoint-{POD}_demo-counter-");
    assert!(
        path.starts_with(&prefix) && path.ends_with(".tar"),
        "{line}"
    );
    let name = path.rsplit('/').next().unwrap();
    assert!(cluster.node_dir("node-a").join(name).is_file());
    assert_eq!(
        checkpoint_posts(&cluster),
        [format!(
            "/api/v1/nodes/node-a/proxy/checkpoint/demo/{POD}/counter?timeout=30"
        )]
    );
}

#[test]
fn json_output_is_typed_records() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r.node.as_str(), r.namespace.as_str()), ("node-a", "demo"));
    assert_eq!((r.pod.as_str(), r.container.as_str()), (POD, "counter"));
    assert!(r
        .path
        .starts_with("/var/lib/kubelet/checkpoints/checkpoint-"));
    assert!(r.duration_seconds >= 0.0 && r.fetched.is_none());

    let out = plugin.run(&[POD, "-n", "demo", "-o", "yaml"]);
    let records: Vec<CheckpointRecord> = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(records[0].container, "counter");
}

fn web_cluster() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod_with(PodSpec::new("shop", "web-1", "node-a", &["app"]).label("app", "web"))
        .pod_with(PodSpec::new("shop", "web-2", "node-b", &["app"]).label("app", "web"))
        .pod_with(PodSpec::new("shop", "db-0", "node-b", &["db"]).label("app", "db"))
        .deployment("shop", "web", &[("app", "web")])
        .start()
}

#[test]
fn deployment_and_selector_checkpoint_every_pod() {
    let cluster = web_cluster();
    let plugin = Plugin::new(&cluster);
    for target in [
        &["deploy/web"][..],
        &["-l", "app=web"][..],
        &["deployment.apps/web"][..],
    ] {
        let mut args = target.to_vec();
        args.extend(["-n", "shop", "-o", "json"]);
        let out = plugin.run(&args);
        assert!(out.status.success(), "{target:?}: {}", stderr(&out));
        let mut records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
        records.sort_by(|a, b| a.pod.cmp(&b.pod));
        let got: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.pod.as_str(), r.node.as_str()))
            .collect();
        assert_eq!(
            got,
            [("web-1", "node-a"), ("web-2", "node-b")],
            "{target:?}"
        );
    }
    let posts = checkpoint_posts(&cluster);
    assert_eq!(posts.len(), 6);
    assert!(posts.iter().all(|p| !p.contains("db-0")));
}

#[test]
fn one_failing_pod_gives_exit_1_and_the_others_still_run() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod_with(PodSpec::new("shop", "web-1", "node-a", &["app"]).label("app", "web"))
        .pod_with(
            PodSpec::new("shop", "web-2", "", &["app"])
                .label("app", "web")
                .phase(Phase::Pending),
        )
        .start();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&["-l", "app=web", "-n", "shop"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("node-a:/var/lib/kubelet/checkpoints/checkpoint-web-1_shop-app-")
    );
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(
        stderr(&out).contains("pod shop/web-2 is Pending and not scheduled to a node"),
        "{}",
        stderr(&out)
    );

    let out = plugin.run(&["pod/web-2", "-n", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not scheduled to a node"));
}

#[test]
fn container_choice_follows_kubectl() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("ns", "two", "node-a", &["app", "sidecar"])
        .pod_with(
            PodSpec::new("ns", "annotated", "node-a", &["app", "sidecar"])
                .annotation("kubectl.kubernetes.io/default-container", "sidecar"),
        )
        .start();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&["two", "-n", "ns"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "pod ns/two has several containers (app, sidecar); choose one with -c CONTAINER"
        ),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&["two", "-n", "ns", "-c", "sidecar"]);
    assert!(
        stdout(&out).contains("checkpoint-two_ns-sidecar-"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&["annotated", "-n", "ns"]);
    assert!(
        stdout(&out).contains("checkpoint-annotated_ns-sidecar-"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&["two", "-n", "ns", "-c", "nope"]);
    assert!(stderr(&out).contains("pod ns/two has no container \"nope\" (it has: app, sidecar)"));
    let out = plugin.run(&["two", "-n", "ns", "--all-containers", "-o", "json"]);
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let containers: Vec<&str> = records.iter().map(|r| r.container.as_str()).collect();
    assert_eq!(containers, ["app", "sidecar"]);
}

#[test]
fn context_and_namespace_flags_are_honoured() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .namespace("demo")
        .pod("demo", POD, "node-a", &["counter"])
        .pod("other", "o-1", "node-a", &["c"])
        .start();
    let plugin = Plugin::new(&cluster);
    // A kubeconfig whose current context points nowhere; `--context fake` must be used.
    let text = std::fs::read_to_string(&plugin.kubeconfig).unwrap();
    let mut config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    config["current-context"] = "nowhere".into();
    let contexts = config["contexts"].as_sequence_mut().unwrap();
    let mut nowhere = contexts[0].clone();
    nowhere["name"] = "nowhere".into();
    nowhere["context"]["cluster"] = "nowhere".into();
    contexts.push(nowhere);
    let clusters = config["clusters"].as_sequence_mut().unwrap();
    let mut bad = clusters[0].clone();
    bad["name"] = "nowhere".into();
    bad["cluster"]["server"] = "https://127.0.0.1:9".into();
    clusters.push(bad);
    std::fs::write(
        &plugin.kubeconfig,
        serde_yaml_ng::to_string(&config).unwrap(),
    )
    .unwrap();

    // The context's namespace (demo) is the default.
    let out = plugin.run(&[POD, "--context", "fake"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("checkpoint-{POD}_demo-counter-")));
    let out = plugin.run(&["o-1", "--context", "fake", "-n", "other"]);
    assert!(
        stdout(&out).contains("checkpoint-o-1_other-c-"),
        "{}",
        stderr(&out)
    );
    let out = plugin.run(&[POD]);
    assert_eq!(out.status.code(), Some(2));
    assert!(cluster.requests().iter().all(|r| r.authorized));
}

#[test]
fn every_error_names_the_object_and_says_what_to_do() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    let cases: Vec<(Fault, Vec<&str>)> = vec![
        (
            Fault::Forbidden403,
            vec!["HTTP 403", "create", "nodes/proxy", "resources: [\"nodes/proxy\"]", "verbs: [\"create\"]"],
        ),
        (
            Fault::KubeletForbidden,
            vec!["HTTP 403", "subresource(s)=[checkpoint]", "resources: [\"nodes/checkpoint\"]", "system:kubelet-api-admin"],
        ),
        (
            Fault::GateOff404,
            vec!["HTTP 404", "ContainerCheckpoint feature gate is off", "--feature-gates=ContainerCheckpoint=true"],
        ),
        (
            Fault::Runtime500("rpc error: code = Unknown desc = checkpoint/restore support not available".into()),
            vec!["HTTP 500", "checkpoint/restore support not available", "enable_criu_support = true"],
        ),
        (
            Fault::Runtime500("rpc error: code = Unknown desc = CRIU binary not found or too old".into()),
            vec!["HTTP 500", "install CRIU"],
        ),
        (
            Fault::Runtime500("rpc error: code = Unimplemented desc = unknown method CheckpointContainer for service runtime.v1.RuntimeService".into()),
            vec!["HTTP 500", "does not implement CheckpointContainer", "containerd 2.0"],
        ),
        (Fault::Unauthorized, vec!["HTTP 401", "kubectl auth whoami"]),
    ];
    for (fault, wants) in cases {
        cluster.clear_faults();
        cluster.set_fault(fault.clone());
        let out = plugin.run(&[POD, "-n", "demo"]);
        assert_eq!(out.status.code(), Some(2), "{fault:?}");
        let err = stderr(&out);
        if fault != Fault::Unauthorized {
            assert!(
                err.contains(&format!(
                    "checkpoint of pod demo/{POD}, container counter on node node-a"
                )),
                "{fault:?}: {err}"
            );
        }
        for want in wants {
            assert!(err.contains(want), "{fault:?}: missing {want:?} in {err}");
        }
        assert!(!err.contains(cluster.token()), "token leaked: {err}");
        assert!(stdout(&out).is_empty());
    }
    cluster.clear_faults();
    let out = plugin.run(&["pod/ghost", "-n", "demo"]);
    assert!(
        stderr(&out).contains("getting pod demo/ghost: HTTP 404"),
        "{}",
        stderr(&out)
    );
}

/// Our advice keeps its real newlines (the ClusterRole can be copied as it is printed), while
/// the server's text on the same error is escaped: a runtime message with a newline and an
/// escape sequence cannot forge a line or reach the terminal raw.
#[test]
fn hints_print_on_real_lines_and_server_text_is_escaped() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    cluster.set_fault(Fault::Forbidden403);
    let err = stderr(&plugin.run(&[POD, "-n", "demo"]));
    assert!(!err.contains("\\n"), "a literal \\n in: {err}");
    let role: Vec<&str> = err
        .lines()
        .skip_while(|line| !line.contains("apiVersion: rbac.authorization.k8s.io/v1"))
        .collect();
    assert_eq!(
        role,
        [
            "  apiVersion: rbac.authorization.k8s.io/v1",
            "  kind: ClusterRole",
            "  metadata:",
            "    name: container-checkpointer",
            "  rules:",
            "  - apiGroups: [\"\"]",
            "    resources: [\"nodes/proxy\"]",
            "    verbs: [\"create\"]",
        ],
        "{err}"
    );
    let yaml: String = role
        .iter()
        .map(|line| format!("{}\n", &line[2..]))
        .collect();
    let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(parsed["kind"], "ClusterRole");
    assert_eq!(parsed["rules"][0]["resources"][0], "nodes/proxy");

    cluster.clear_faults();
    cluster.set_fault(Fault::Runtime500(
        "criu failed\nerror: forged line\x1b]0;owned\x07".into(),
    ));
    let err = stderr(&plugin.run(&[POD, "-n", "demo"]));
    assert!(
        err.contains("criu failed\\nerror: forged line\\x1b]0;owned\\x07"),
        "{err}"
    );
    assert!(!err.contains('\x1b') && !err.lines().any(|l| l.starts_with("error: forged")));
    // The runtime's hint is on its own line after the escaped message.
    assert!(
        err.lines()
            .any(|line| line.starts_with("the container runtime failed to checkpoint")),
        "{err}"
    );
}

#[test]
fn a_missing_target_is_picked_from_the_running_pods_on_a_terminal() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod_with(PodSpec::new("shop", "web-1", "node-a", &["app"]))
        .pod_with(PodSpec::new("shop", "web-2", "node-b", &["app"]))
        .pod_with(PodSpec::new("shop", "batch-0", "node-a", &["job"]).phase(Phase::Pending))
        .pod_with(PodSpec::new("other", "db-0", "node-b", &["db"]))
        .start();
    let plugin = Plugin::new(&cluster);
    let mut terminal = plugin.on_terminal(&["-n", "shop"]);
    terminal.wait_for("Pod of namespace shop to checkpoint");
    terminal.wait_for("web-2   node-b   app");
    terminal.press(&["\x1b[B", "\r"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    // Only the running pods of the namespace were offered, in name order.
    assert!(screen.contains("web-1   node-a   app"), "{screen}");
    assert!(
        !screen.contains("batch-0") && !screen.contains("db-0"),
        "{screen}"
    );
    assert!(
        screen.contains("node-b:/var/lib/kubelet/checkpoints/checkpoint-web-2_shop-app-"),
        "{screen}"
    );
    assert_eq!(
        checkpoint_posts(&cluster),
        ["/api/v1/nodes/node-b/proxy/checkpoint/shop/web-2/app"]
    );

    // Without a terminal nothing prompts: the error says what to give.
    let out = plugin.run(&["-n", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("what to checkpoint? give TARGET"),
        "{}",
        stderr(&out)
    );
    assert_eq!(checkpoint_posts(&cluster).len(), 1);
}

#[test]
fn a_container_is_picked_on_a_terminal_and_q_cancels() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("ns", "two", "node-a", &["app", "sidecar"])
        .start();
    let plugin = Plugin::new(&cluster);
    let mut terminal = plugin.on_terminal(&["two", "-n", "ns"]);
    terminal.wait_for("Container of pod two to checkpoint");
    terminal.wait_for("sidecar");
    // Type to filter, then Enter.
    terminal.press(&["s", "i", "d", "\r"]);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains("node-a:/var/lib/kubelet/checkpoints/checkpoint-two_ns-sidecar-"),
        "{screen}"
    );

    let mut terminal = plugin.on_terminal(&["two", "-n", "ns"]);
    terminal.wait_for("sidecar");
    terminal.type_keys("q");
    let (status, screen) = terminal.finish();
    // Cancelled: 130, as after Ctrl-C.
    assert_eq!(status.code(), Some(130), "{screen}");
    assert!(
        screen.contains("cancelled at the prompt; nothing was done"),
        "{screen}"
    );
    assert_eq!(checkpoint_posts(&cluster).len(), 1);
}

#[test]
fn a_checkpoint_that_ends_its_container_is_reported_and_fails_the_run() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", POD, "node-a", &["counter"])
        .pod_with(PodSpec::new("demo", "sleeper", "node-a", &["main"]).exits_on_checkpoint("main"))
        .start();
    let plugin = Plugin::new(&cluster);

    // A container that survives: the same ID and count before and after, exit 0.
    let out = plugin.run(&[POD, "-n", "demo", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let r = &records[0];
    assert!(!r.workload_restarted && r.restart_reason.is_none(), "{r:?}");
    assert!(r.container_id_before.is_some());
    assert_eq!(r.container_id_before, r.container_id_after);
    assert_eq!(
        (r.restart_count_before, r.restart_count_after),
        (Some(0), Some(0))
    );

    // The sleeper exits when CRIU lets it go; the kubelet restarts it.
    let out = plugin.run(&["pod/sleeper", "-n", "demo", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let r = &records[0];
    assert!(r.workload_restarted, "{r:?}");
    assert_eq!(
        (r.restart_count_before, r.restart_count_after),
        (Some(0), Some(1))
    );
    assert_ne!(r.container_id_before, r.container_id_after);
    assert!(r
        .container_id_after
        .as_deref()
        .unwrap()
        .starts_with("cri-o://"));
    assert_eq!(
        r.restart_reason.as_deref(),
        Some("it exited (Completed, exit code 0) and the kubelet started it again")
    );
    let err = stderr(&out);
    assert!(
        err.contains(
            "error: the checkpoint ended container main of pod demo/sleeper on node node-a"
        ) && err.contains("restartCount 0 -> 1")
            && err.contains("--allow-restart accepts this"),
        "{err}"
    );
    // The archive is still named on stdout in text mode.
    let out = plugin.run(&["pod/sleeper", "-n", "demo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out)
        .starts_with("node-a:/var/lib/kubelet/checkpoints/checkpoint-sleeper_demo-main-"));

    // --allow-restart: said as a warning, exit 0.
    let out = plugin.run(&["pod/sleeper", "-n", "demo", "--allow-restart"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: the checkpoint ended container main")
            && stderr(&out).contains("(--allow-restart: not an error)"),
        "{}",
        stderr(&out)
    );
    // Without the watch (--restart-check 0) nothing is known after, nothing is claimed.
    let out = plugin.run(&[
        "pod/sleeper",
        "-n",
        "demo",
        "--restart-check",
        "0",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!records[0].workload_restarted && records[0].restart_count_after.is_none());
}

#[test]
fn ctrl_c_while_the_kubelet_dumps_says_where_the_archive_will_appear() {
    let cluster = demo();
    let plugin = Plugin::new(&cluster);
    cluster.set_fault(Fault::SlowCheckpoint(std::time::Duration::from_secs(3)));
    let child = plugin.spawn(&[POD, "-n", "demo"]);
    let started = std::time::Instant::now();
    while checkpoint_posts(&cluster).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no checkpoint request"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the kubelet on node node-a may still finish the checkpoint of pod demo/{POD}, container counter, and write it to node-a:/var/lib/kubelet/checkpoints/checkpoint-{POD}_demo-counter-<time>.tar"
        )) && err.contains("`kubectl checkpoint list --node node-a` shows it"),
        "{err}"
    );
    assert!(!err.contains("helper pod"), "no helper was made: {err}");
    // And so it does.
    let dir = cluster.node_dir("node-a");
    while std::fs::read_dir(&dir).unwrap().next().is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no archive came"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

//! Proves the fake API server faithful: the real `/usr/bin/kubectl` talks to it.
//!
//! Each test gets its own cluster, temp HOME (kubectl's discovery cache) and kubeconfig, and runs
//! kubectl under `timeout` so a missing answer fails instead of hanging.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::fake_apiserver::{FakeCluster, Fault, OwnerKind, Phase, PodSpec};

/// Seconds any kubectl call may take.
const KUBECTL_TIMEOUT_SECS: &str = "60";

struct Kubectl {
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn new(cluster: &FakeCluster) -> Self {
        let home = tempfile::tempdir().unwrap();
        let kubeconfig = cluster.write_kubeconfig(home.path());
        Self { home, kubeconfig }
    }

    fn with_token(cluster: &FakeCluster, token: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let kubeconfig = cluster.write_kubeconfig_with_token(home.path(), token);
        Self { home, kubeconfig }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.arg(KUBECTL_TIMEOUT_SECS)
            .arg("kubectl")
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBECTL_REMOTE_COMMAND_WEBSOCKETS");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        assert_ne!(out.status.code(), Some(124), "kubectl {args:?} timed out");
        out
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn home(&self) -> &Path {
        self.home.path()
    }
}

fn demo_cluster() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .namespace("demo")
        .pod_with(
            PodSpec::new("demo", "counters-857d7978fd-jnkck", "node-a", &["counter"])
                .label("app", "counters")
                .log("counter", "count 1\ncount 2\ncount 3\n"),
        )
        .pod("demo", "web-0", "node-b", &["web", "sidecar"])
        .pod("other", "db-0", "node-b", &["db"])
        .start()
}

#[test]
fn kubectl_lists_pods_as_json() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let out = kubectl.ok(&["get", "pods", "-n", "demo", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["counters-857d7978fd-jnkck", "web-0"]);
    assert_eq!(list["items"][0]["status"]["phase"], "Running");

    let out = kubectl.ok(&["get", "pods", "-A", "-l", "app=counters", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let out = kubectl.ok(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "spec.nodeName=node-b",
        "-o",
        "json",
    ]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let requests = cluster.requests();
    assert!(
        requests.iter().all(|r| r.authorized),
        "kubectl sent the token every time"
    );
    assert!(
        requests.iter().all(|r| r.path() != "/api/v1"),
        "kubectl took the aggregated discovery and skipped the per-version documents"
    );
    assert!(requests
        .iter()
        .any(|r| r.path() == "/api/v1/namespaces/demo/pods"));
    assert!(
        requests
            .iter()
            .any(|r| r.query_values("labelSelector") == ["app=counters"]),
        "label selector reached the server"
    );
    let _ = kubectl.home();
}

#[test]
fn kubectl_prints_the_servers_pod_table() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let out = kubectl.ok(&["get", "pods", "-n", "demo", "-o", "wide"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"],
        "{text}"
    );
    assert_eq!(
        lines[1][..4],
        ["counters-857d7978fd-jnkck", "1/1", "Running", "0"],
        "{text}"
    );
    assert_eq!(lines[2][..4], ["web-0", "2/2", "Running", "0"], "{text}");
    assert_eq!(lines[2][6], "node-b");
    assert_eq!(lines.len(), 3);
}

#[test]
fn kubectl_reads_container_logs() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let out = kubectl.ok(&[
        "logs",
        "-n",
        "demo",
        "counters-857d7978fd-jnkck",
        "--tail=2",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "count 2\ncount 3\n");
    let out = kubectl.run(&["logs", "-n", "demo", "web-0", "-c", "nope"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("container nope is not valid for pod web-0"),
        "stderr: {stderr}"
    );
}

#[test]
fn kubectl_falls_back_to_legacy_discovery() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod("demo", "web-0", "node-a", &["web"])
        .aggregated_discovery(false)
        .start();
    let kubectl = Kubectl::new(&cluster);
    let out = kubectl.ok(&["get", "pods", "-n", "demo", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["items"][0]["metadata"]["name"], "web-0");
    assert!(cluster.requests().iter().any(|r| r.path() == "/api/v1"));
}

#[test]
fn kubectl_get_missing_pod_reports_not_found() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let out = kubectl.run(&["get", "pod", "-n", "demo", "nope", "-o", "json"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pods \"nope\" not found"),
        "stderr: {stderr}"
    );
}

#[test]
fn kubectl_with_wrong_token_is_unauthorized() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::with_token(&cluster, "not-the-token");
    let out = kubectl.run(&["get", "pods", "-n", "demo", "-o", "json"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("You must be logged in to the server"),
        "stderr: {stderr}"
    );
    assert!(cluster.requests().iter().all(|r| !r.authorized));

    // The right token, revoked: the same refusal.
    let kubectl = Kubectl::new(&cluster);
    kubectl.ok(&["get", "pods", "-n", "demo", "-o", "json"]);
    cluster.set_fault(Fault::Unauthorized);
    let out = kubectl.run(&["get", "pods", "-n", "demo", "-o", "json"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unauthorized") || stderr.contains("You must be logged in"),
        "stderr: {stderr}"
    );
}

#[test]
fn kubectl_raw_post_checkpoints_through_the_nodes_proxy() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let path = "/api/v1/nodes/node-a/proxy/checkpoint/demo/counters-857d7978fd-jnkck/counter";
    let out = kubectl.ok(&["create", "--raw", path, "-f", "/dev/null"]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = answer["items"][0].as_str().unwrap();
    let name = item.strip_prefix("/var/lib/kubelet/checkpoints/").unwrap();
    assert!(
        name.starts_with("checkpoint-counters-857d7978fd-jnkck_demo-counter-"),
        "{name}"
    );
    assert!(name.ends_with("Z.tar"), "{name}");
    let archive = cluster.node_dir("node-a").join(name);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar");
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        std::fs::read(fixture).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let post = cluster
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.path_and_query, path);

    // Kubelet texts come back through kubectl.
    let out = kubectl.run(&[
        "create",
        "--raw",
        path.replace("counter", "nope").as_str(),
        "-f",
        "/dev/null",
    ]);
    assert!(!out.status.success());
    cluster.set_fault(Fault::Runtime500(
        "rpc error: code = Unknown desc = checkpoint/restore support not available".into(),
    ));
    let out = kubectl.run(&["create", "--raw", path, "-f", "/dev/null"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("checkpoint/restore support not available"),
        "stderr: {stderr}"
    );
}

#[test]
fn kubectl_exec_streams_stdout_stderr_and_exit_code() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let out = kubectl.run(&[
        "exec",
        "-n",
        "demo",
        "counters-857d7978fd-jnkck",
        "-c",
        "counter",
        "--",
        "sh",
        "-c",
        "echo hi; echo err >&2; exit 3",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "err\ncommand terminated with exit code 3\n"
    );
    assert_eq!(out.status.code(), Some(3));
    let exec = cluster
        .requests()
        .into_iter()
        .find(|r| r.path().ends_with("/exec"))
        .unwrap();
    assert_eq!(exec.method, "GET", "kubectl >= 1.30 execs over websockets");
    assert_eq!(
        exec.query_values("command"),
        ["sh", "-c", "echo hi; echo err >&2; exit 3"]
    );
    assert_eq!(exec.query_values("container"), ["counter"]);
}

/// A helper pod as a client would create it: the node's checkpoint directory mounted by hostPath.
fn helper_pod_manifest(node: &str) -> String {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "ckpt-helper", "namespace": "demo", "labels": {"app": "ckpt-helper"}},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "containers": [{
                "name": "helper",
                "image": "busybox",
                "command": ["sleep", "3600"],
                "volumeMounts": [{"name": "checkpoints", "mountPath": "/host-checkpoints", "readOnly": true}],
            }],
            "volumes": [{"name": "checkpoints", "hostPath": {"path": "/var/lib/kubelet/checkpoints", "type": "Directory"}}],
        },
    })
    .to_string()
}

/// Creates the helper pod with kubectl and waits (a watch) for it to be Ready.
fn create_helper(cluster: &FakeCluster, kubectl: &Kubectl) {
    let manifest = kubectl.home().join("helper.json");
    std::fs::write(&manifest, helper_pod_manifest("node-a")).unwrap();
    // The fake serves no /openapi documents, so client-side validation is off.
    kubectl.ok(&[
        "create",
        "--validate=false",
        "-f",
        manifest.to_str().unwrap(),
    ]);
    let out = kubectl.ok(&[
        "wait",
        "-n",
        "demo",
        "--for=condition=Ready",
        "pod/ckpt-helper",
        "--timeout=20s",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod/ckpt-helper condition met\n"
    );
    assert!(
        cluster
            .requests()
            .iter()
            .any(|r| r.query_values("watch") == ["true"]),
        "kubectl wait watched"
    );
}

/// Writes a file of `len` pseudo-random bytes into node-a's checkpoint directory.
fn node_file(cluster: &FakeCluster, name: &str, len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    std::fs::write(cluster.node_dir("node-a").join(name), &data).unwrap();
    data
}

#[test]
fn kubectl_creates_waits_copies_from_and_deletes_a_helper_pod() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    create_helper(&cluster, &kubectl);

    let data = node_file(
        &cluster,
        "checkpoint-x_demo-c-2023-08-24T11:24:18Z.tar",
        3 << 20,
    );
    let dest = kubectl.home().join("copy.tar");
    let out = kubectl.ok(&[
        "cp",
        "-c",
        "helper",
        "demo/ckpt-helper:/host-checkpoints/checkpoint-x_demo-c-2023-08-24T11:24:18Z.tar",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(
        std::fs::read(&dest).unwrap() == data,
        "kubectl cp copied the node file byte for byte"
    );
    let exec = cluster
        .requests()
        .into_iter()
        .find(|r| r.path().ends_with("/exec"))
        .unwrap();
    assert_eq!(
        exec.query_values("command"),
        [
            "tar",
            "cf",
            "-",
            "/host-checkpoints/checkpoint-x_demo-c-2023-08-24T11:24:18Z.tar"
        ]
    );

    let out = kubectl.ok(&[
        "delete",
        "pod",
        "-n",
        "demo",
        "ckpt-helper",
        "--timeout=20s",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod \"ckpt-helper\" deleted\n"
    );
    assert!(cluster
        .pods()
        .iter()
        .all(|p| p.metadata.name.as_deref() != Some("ckpt-helper")));
}

#[test]
fn kubectl_cp_sees_a_dropped_exec_stream_and_a_throttled_one() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    create_helper(&cluster, &kubectl);
    let data = node_file(&cluster, "big.tar", 1 << 20);
    let dest = kubectl.home().join("big.tar");
    let src = "demo/ckpt-helper:/host-checkpoints/big.tar";

    cluster.set_fault(Fault::DropExecStreamAfter(100_000));
    let out = kubectl.run(&["cp", "-c", "helper", src, dest.to_str().unwrap()]);
    let copied = std::fs::read(&dest).map(|d| d.len()).unwrap_or(0);
    assert!(
        copied < data.len(),
        "a cut stream gives a partial file ({copied} bytes)"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("websocket: close 1006 (abnormal closure): unexpected EOF"),
        "stderr: {stderr}"
    );
    assert!(!out.status.success());

    cluster.clear_faults();
    cluster.set_fault(Fault::ThrottleExec(1 << 20));
    let started = std::time::Instant::now();
    kubectl.ok(&["cp", "-c", "helper", src, dest.to_str().unwrap()]);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert!(std::fs::read(&dest).unwrap() == data);
}

#[test]
fn kubectl_raw_post_shows_the_api_server_and_kubelet_refusals() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let path = "/api/v1/nodes/node-a:10250/proxy/checkpoint/demo/counters-857d7978fd-jnkck/counter?timeout=30";
    let cases = [
        (
            Fault::Forbidden403,
            "cannot create resource \"nodes/proxy\"",
        ),
        (Fault::KubeletForbidden, "Forbidden"),
        (
            Fault::GateOff404,
            "the server could not find the requested resource",
        ),
    ];
    for (fault, want) in cases {
        cluster.clear_faults();
        cluster.set_fault(fault.clone());
        let out = kubectl.run(&["create", "--raw", path, "-f", "/dev/null"]);
        assert!(!out.status.success(), "{fault:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{fault:?}: stderr: {stderr}");
    }
    assert!(std::fs::read_dir(cluster.node_dir("node-a"))
        .unwrap()
        .next()
        .is_none());
    cluster.clear_faults();
    let out = kubectl.ok(&["create", "--raw", path, "-f", "/dev/null"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("/var/lib/kubelet/checkpoints/checkpoint-")
    );
}

#[test]
fn kubectl_runs_our_plugin_binary() {
    let cluster = demo_cluster();
    let kubectl = Kubectl::new(&cluster);
    let plugin_dir = Path::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        plugin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = kubectl
        .command(&["checkpoint", "--help"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.stdout, ours.stdout, "kubectl ran our binary");
    assert!(!out.stdout.is_empty());
}

#[test]
fn kubectl_gets_workloads_and_sees_exec_refusals() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .deployment("demo", "counters", &[("app", "counters")])
        .statefulset("demo", "db", &[("app", "db")])
        .daemonset("demo", "agent", &[("app", "agent")])
        .pod_with(
            PodSpec::new("demo", "counters-857d7978fd-jnkck", "node-a", &["counter"])
                .label("app", "counters")
                .owner(OwnerKind::ReplicaSet, "counters-857d7978fd"),
        )
        .pod_with(PodSpec::new("demo", "pending-0", "node-a", &["app"]).phase(Phase::Pending))
        .start();
    let kubectl = Kubectl::new(&cluster);
    for (resource, name) in [
        ("deploy", "counters"),
        ("sts", "db"),
        ("ds", "agent"),
        ("rs", "counters-857d7978fd"),
    ] {
        let out = kubectl.ok(&["get", resource, "-n", "demo", name, "-o", "json"]);
        let object: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(object["metadata"]["name"], name);
        assert!(
            object["spec"]["selector"]["matchLabels"].is_object(),
            "{resource}: {object}"
        );
    }
    let out = kubectl.ok(&[
        "get",
        "rs",
        "-n",
        "demo",
        "counters-857d7978fd",
        "-o",
        "json",
    ]);
    let rs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["name"], "counters");

    let out = kubectl.run(&[
        "exec",
        "-n",
        "demo",
        "counters-857d7978fd-jnkck",
        "-c",
        "nope",
        "--",
        "true",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("container nope is not valid for pod counters-857d7978fd-jnkck"),
        "stderr: {stderr}"
    );
    let out = kubectl.run(&["exec", "-n", "demo", "pending-0", "--", "true"]);
    assert!(!out.status.success());

    // stdin reaches the command and its end closes the command's stdin (v5 close frame).
    let mut child = kubectl
        .command(&[
            "exec",
            "-i",
            "-n",
            "demo",
            "counters-857d7978fd-jnkck",
            "--",
            "sh",
            "-c",
            "wc -c; exit 0",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&[b'x'; 100_000])
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100000");
}

#[tokio::test]
async fn kube_client_lists_and_execs_from_a_tokio_test() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, AttachParams, ListParams};
    use tokio::io::AsyncReadExt as _;

    let cluster = demo_cluster();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig =
        kube::config::Kubeconfig::read_from(cluster.write_kubeconfig(dir.path())).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "demo");
    let list = pods
        .list(&ListParams::default().labels("app=counters"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);

    let ap = AttachParams::default()
        .container("counter")
        .stdin(false)
        .stdout(true)
        .stderr(true);
    let mut attached = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        pods.exec(
            "counters-857d7978fd-jnkck",
            ["sh", "-c", "printf out; printf err >&2; exit 7"],
            &ap,
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let mut stdout = attached.stdout().unwrap();
    let mut stderr = attached.stderr().unwrap();
    let status = attached.take_status().unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    let (a, b) = tokio::join!(
        stdout.read_to_string(&mut out),
        stderr.read_to_string(&mut err)
    );
    a.unwrap();
    b.unwrap();
    let status = status.await.unwrap();
    assert_eq!((out.as_str(), err.as_str()), ("out", "err"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let causes = status.details.unwrap().causes.unwrap();
    assert_eq!(causes[0].message.as_deref(), Some("7"));
}

#[test]
fn kubectl_sees_who_it_is_a_failed_mount_event_and_a_pod_security_refusal() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod("demo", "counters-857d7978fd-jnkck", "node-a", &["counter"])
        .baseline_namespace("locked")
        .start();
    let kubectl = Kubectl::new(&cluster);
    // SelfSubjectReview, as `kubectl auth whoami` asks for it.
    let out = kubectl.ok(&[
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fake-user");
    // node-b never checkpointed: a hostPath pod there stays Pending with the kubelet's event.
    std::fs::remove_dir(cluster.node_dir("node-b")).unwrap();
    let manifest = kubectl.home().join("helper.json");
    std::fs::write(&manifest, helper_pod_manifest("node-b")).unwrap();
    kubectl.ok(&[
        "create",
        "--validate=false",
        "-f",
        manifest.to_str().unwrap(),
    ]);
    let mut events = String::new();
    for _ in 0..40 {
        let out = kubectl.ok(&[
            "get",
            "events",
            "-n",
            "demo",
            "--field-selector",
            "involvedObject.name=ckpt-helper",
            "-o",
            "jsonpath={.items[*].reason}: {.items[*].message}",
        ]);
        events = String::from_utf8_lossy(&out.stdout).into_owned();
        if events.contains("FailedMount") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        events.starts_with("FailedMount: MountVolume.SetUp failed for volume")
            && events.contains(
                "hostPath type check failed: /var/lib/kubelet/checkpoints is not a directory"
            ),
        "{events}"
    );
    let phase = kubectl.ok(&[
        "get",
        "pod",
        "-n",
        "demo",
        "ckpt-helper",
        "-o",
        "jsonpath={.status.phase}",
    ]);
    assert_eq!(String::from_utf8_lossy(&phase.stdout), "Pending");
    // Pod Security admission refuses a hostPath pod in a baseline namespace.
    let locked = helper_pod_manifest("node-a").replace("\"demo\"", "\"locked\"");
    std::fs::write(&manifest, locked).unwrap();
    let out = kubectl.run(&[
        "create",
        "--validate=false",
        "-f",
        manifest.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"checkpoints\")"
        ),
        "{stderr}"
    );
}

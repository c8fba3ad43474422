//! End-to-end tests against a real cluster: every verb through a real API server, kubelet,
//! container runtime and CRIU. They are `#[ignore]`d, so `cargo test` skips them and says so;
//! `cargo test --test integration e2e:: -- --ignored` runs them and fails loudly when no cluster
//! is given.
//!
//! Environment (docs/testing.md says how to get a cluster):
//! - `KUBECTL_CHECKPOINT_E2E_KUBECONFIG` (required): a kubeconfig whose user may create
//!   namespaces, pods, deployments, service accounts, roles and tokens, and `nodes/proxy`.
//! - `KUBECTL_CHECKPOINT_E2E_IMAGE`: the workload and helper image (default `busybox:1.36`).
//! - `KUBECTL_CHECKPOINT_E2E_NODE`: the node to run the workloads on (default: the first
//!   Ready node).
//! - `KUBECTL_CHECKPOINT_E2E_AGENT`: a static kubectl-checkpoint of this version, the node
//!   agent of the `e2e_remote_*` tests (`scripts/build-release.sh linux-amd64` builds one).
//! - `KUBECTL_CHECKPOINT_E2E_RESTART_KUBELET`: a shell command that restarts that node's
//!   kubelet, for `e2e_fetch_survives_a_kubelet_restart` (which fails without it: skip it
//!   with `--skip kubelet_restart` on clusters where you cannot restart a kubelet).
//!
//! Each test works in a namespace of its own (`kc-e2e-...`, deleted at the end) and a temp
//! HOME, and runs the real `kubectl` to set up what it needs. Workloads loop over `sleep 1`
//! rather than run one long `sleep`: busybox 1.36's `sleep` returns when the dump interrupts it,
//! so such a container would exit at its first checkpoint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use checkpoint_cluster::{CheckpointRecord, FetchRecord, ListedArchive, Verify};
use checkpoint_model::archive::CustodyRecord;
use sha2::{Digest, Sha256};

const SECRET: &str = "E2E_SECRET_4711";

/// Tests share the cluster; the one that restarts a kubelet runs alone (write lock), the others
/// side by side (read locks).
static KUBELET: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    KUBELET.read().unwrap_or_else(|e| e.into_inner())
}

/// The cluster the tests run against.
struct Cluster {
    kubeconfig: PathBuf,
    image: String,
    node: String,
}

fn cluster() -> Cluster {
    let Some(kubeconfig) = std::env::var_os("KUBECTL_CHECKPOINT_E2E_KUBECONFIG") else {
        panic!(
            "no cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG to a kubeconfig of a real cluster \
             (docs/testing.md); these tests never pass without one"
        );
    };
    let kubeconfig = PathBuf::from(kubeconfig);
    assert!(
        kubeconfig.is_file(),
        "{} is not a file",
        kubeconfig.display()
    );
    let image = std::env::var("KUBECTL_CHECKPOINT_E2E_IMAGE").unwrap_or("busybox:1.36".into());
    let mut cluster = Cluster {
        kubeconfig,
        image,
        node: String::new(),
    };
    cluster.node = match std::env::var("KUBECTL_CHECKPOINT_E2E_NODE") {
        Ok(node) => node,
        Err(_) => cluster
            .kubectl_ok(&[
                "get",
                "nodes",
                "-o",
                "jsonpath={.items[?(@.status.conditions[-1].status==\"True\")].metadata.name}",
            ])
            .split_whitespace()
            .next()
            .expect("the cluster has no Ready node")
            .to_string(),
    };
    cluster
}

impl Cluster {
    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl")
    }

    fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn apply(&self, yaml: &str) {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl apply");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(yaml.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kubectl apply: {}\n{yaml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A fresh namespace (deleted when dropped), optionally with a Pod Security level.
    fn namespace(&self, test: &str, enforce: Option<&str>) -> Namespace<'_> {
        let name = format!("kc-e2e-{test}-{}", std::process::id() % 100_000);
        let _ = self.kubectl(&["delete", "namespace", &name, "--wait=true"]);
        let labels = enforce
            .map(|level| format!("\n  labels: {{pod-security.kubernetes.io/enforce: {level}}}"))
            .unwrap_or_default();
        self.apply(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}{labels}\n"
        ));
        // Wait for the default service account (a controller-manager makes it; without one,
        // make it ourselves).
        for _ in 0..20 {
            if self
                .kubectl(&["get", "serviceaccount", "default", "-n", &name])
                .status
                .success()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let _ = self.kubectl(&["create", "serviceaccount", "default", "-n", &name]);
        Namespace {
            cluster: self,
            name,
        }
    }

    /// A pod with containers `app` (holds SECRET in its shell's memory, and `mib` MiB of
    /// random text) and `side`, on the test node; waits until it is Ready.
    fn workload(&self, namespace: &str, name: &str, mib: u32) {
        let fill = if mib > 0 {
            format!("F=$(head -c {} /dev/urandom | base64); ", mib << 20)
        } else {
            String::new()
        };
        self.apply(&format!(
            r#"apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}}}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: {image}
    env: [{{name: APP_MODE, value: e2e}}]
    command: ["sh", "-c", "S=E2E_SECRET_$((4700+11)); {fill}touch /tmp/ready; while true; do sleep 1; done"]
    readinessProbe: {{exec: {{command: ["test", "-e", "/tmp/ready"]}}, periodSeconds: 1}}
  - name: side
    image: {image}
    command: ["sh", "-c", "while true; do sleep 1; done"]
"#,
            node = self.node,
            image = self.image,
        ));
        self.kubectl_ok(&[
            "wait",
            "-n",
            namespace,
            &format!("pod/{name}"),
            "--for=condition=Ready",
            "--timeout=180s",
        ]);
    }
}

/// A namespace of one test, deleted at the end.
struct Namespace<'a> {
    cluster: &'a Cluster,
    name: String,
}

impl Drop for Namespace<'_> {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .kubectl(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

/// Our binary with a temp HOME (its local state) and working directory.
struct Plugin {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Plugin {
    fn new(cluster: &Cluster) -> Plugin {
        Plugin {
            dir: tempfile::tempdir().unwrap(),
            kubeconfig: cluster.kubeconfig.clone(),
        }
    }

    fn with_kubeconfig(kubeconfig: PathBuf) -> Plugin {
        Plugin {
            dir: tempfile::tempdir().unwrap(),
            kubeconfig,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"));
        cmd.args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        eprintln!(
            "$ kubectl-checkpoint {}\n-> {:?}\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Deletes every archive on the nodes of pods of `namespace` (the kubelet never does), the
    /// helpers in `helpers` (else in `namespace`).
    fn delete_archives_of(&self, namespace: &str, helpers: Option<&str>) {
        let helpers = helpers.unwrap_or(namespace);
        let out = self.run(&[
            "list",
            "-n",
            namespace,
            "-o",
            "name",
            "--helper-namespace",
            helpers,
        ]);
        let sources: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        if sources.is_empty() {
            return;
        }
        let mut args = vec![
            "delete",
            "-y",
            "-n",
            namespace,
            "--helper-namespace",
            helpers,
        ];
        args.extend(sources.iter().map(String::as_str));
        let out = self.run(&args);
        assert!(out.status.success(), "cleaning up: {}", stderr(&out));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

fn custody(path: &Path) -> CustodyRecord {
    let mut name = path.as_os_str().to_owned();
    name.push(".custody.json");
    serde_json::from_slice(&std::fs::read(PathBuf::from(name)).unwrap()).unwrap()
}

/// Checkpoints `pod`'s container `app` and returns its record.
fn checkpoint(plugin: &Plugin, namespace: &str, pod: &str) -> CheckpointRecord {
    let out = plugin.ok(&[
        "-n",
        namespace,
        &format!("pod/{pod}"),
        "-c",
        "app",
        "-o",
        "json",
    ]);
    let mut records: Vec<CheckpointRecord> = serde_json::from_str(&out).unwrap();
    assert_eq!(records.len(), 1);
    records.remove(0)
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_checkpoint_list_fetch_with_custody_analyze_delete() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("basic", None);
    cluster.workload(&ns.name, "app", 0);
    let plugin = Plugin::new(&cluster);
    let record = checkpoint(&plugin, &ns.name, "app");
    assert_eq!(record.node, cluster.node);
    assert!(record.path.starts_with(&format!(
        "/var/lib/kubelet/checkpoints/checkpoint-app_{}-app-",
        ns.name
    )));
    let source = format!("{}:{}", record.node, record.path);

    // list finds it, on the node and by TARGET.
    let listed: Vec<ListedArchive> =
        serde_json::from_str(&plugin.ok(&["list", "-A", "--node", &cluster.node, "-o", "json"]))
            .unwrap();
    let found = listed.iter().find(|a| a.path == record.path).unwrap();
    assert_eq!(found.name.as_ref().unwrap().namespace, ns.name);
    let by_target = plugin.ok(&["list", "-n", &ns.name, "pod/app"]);
    assert!(by_target.contains(&record.path), "{by_target}");

    // fetch: the node's sha256 equals the copy's; a custody manifest names everything.
    let fetched: FetchRecord = serde_json::from_str(
        &plugin.ok(&["fetch", &source, "a.tar", "-o", "json", "-n", &ns.name]),
    )
    .unwrap();
    assert_eq!(fetched.verified, Verify::Sha256);
    let copy = plugin.path("a.tar");
    assert_eq!(fetched.sha256, sha256_file(&copy));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let manifest = custody(&copy);
    assert_eq!(
        manifest.source.sha256.as_deref(),
        Some(fetched.sha256.as_str())
    );
    assert_eq!(manifest.source.node, cluster.node);
    assert_eq!(manifest.source.path, record.path);
    let whoami = cluster.kubectl(&[
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    if whoami.status.success() {
        assert_eq!(
            manifest.fetched_by.as_ref().map(|u| u.username.as_str()),
            Some(String::from_utf8_lossy(&whoami.stdout).trim())
        );
    }
    assert!(
        manifest.helper.image_id.contains("sha256:"),
        "{:?}",
        manifest.helper
    );
    // The same DEST again is refused.
    let again = plugin.run(&["fetch", &source, "a.tar", "-n", &ns.name]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--overwrite"));

    // analyze the copy (custody shown), and the pod directly, with a memory search.
    let report = plugin.ok(&["analyze", "--local", "a.tar"]);
    assert!(
        report.contains("the archive matches its recorded sha256"),
        "{report}"
    );
    assert!(
        report.contains("containerd") || report.contains("CRI-O"),
        "{report}"
    );
    let found = plugin.ok(&[
        "analyze", "-n", &ns.name, "pod/app", "-c", "app", "--search", SECRET,
    ]);
    assert!(found.contains(SECRET), "{found}");
    let found = plugin.ok(&["analyze", "--local", "a.tar", "--search", SECRET]);
    assert!(found.contains(SECRET), "{found}");

    // delete removes it from the node.
    let deleted = plugin.ok(&["delete", &source, "-n", &ns.name]);
    assert!(deleted.contains("deleted"), "{deleted}");
    let listed: Vec<ListedArchive> =
        serde_json::from_str(&plugin.ok(&["list", "-A", "--node", &cluster.node, "-o", "json"]))
            .unwrap();
    assert!(!listed.iter().any(|a| a.path == record.path));
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_checkpoint_with_fetch_and_workloads() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("workloads", None);
    cluster.apply(&format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      nodeName: {node}
      terminationGracePeriodSeconds: 1
      containers:
      - {{name: app, image: {image}, command: ["sh", "-c", "while true; do sleep 1; done"]}}
"#,
        ns = ns.name,
        node = cluster.node,
        image = cluster.image,
    ));
    let rolled = cluster.kubectl(&[
        "rollout",
        "status",
        "-n",
        &ns.name,
        "deploy/web",
        "--timeout=120s",
    ]);
    assert!(
        rolled.status.success(),
        "deploy/web did not roll out (the cluster needs a kube-controller-manager): {}",
        stderr(&rolled)
    );
    let plugin = Plugin::new(&cluster);
    let records: Vec<CheckpointRecord> =
        serde_json::from_str(&plugin.ok(&["-n", &ns.name, "deploy/web", "-o", "json"])).unwrap();
    assert_eq!(records.len(), 2);
    let records: Vec<CheckpointRecord> =
        serde_json::from_str(&plugin.ok(&["-n", &ns.name, "-l", "app=web", "-o", "json"])).unwrap();
    assert_eq!(records.len(), 2);
    // --fetch of several: DEST is a directory, one verified copy (and manifest) per archive.
    let records: Vec<CheckpointRecord> = serde_json::from_str(&plugin.ok(&[
        "-n",
        &ns.name,
        "deploy/web",
        "--fetch=out",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(records.len(), 2);
    for record in &records {
        let local = plugin.dir.path().join(record.fetched.as_ref().unwrap());
        assert!(local.starts_with(plugin.path("out")), "{}", local.display());
        assert_eq!(custody(&local).archive.sha256, sha256_file(&local));
        assert_eq!(
            custody(&local).checkpoint.unwrap().pod,
            record.pod,
            "the manifest names the checkpointed pod"
        );
    }
    // --fetch FILE for one container writes that file, and --delete-after-fetch leaves nothing.
    let pod = &records[0].pod;
    let out = plugin.ok(&[
        "-n",
        &ns.name,
        &format!("pod/{pod}"),
        "--fetch=one.tar",
        "--delete-after-fetch",
    ]);
    assert!(out.starts_with("one.tar  "), "{out}");
    assert!(plugin.path("one.tar").is_file());
    assert!(custody(&plugin.path("one.tar")).deleted_from_node.is_some());
    // The archives this test left on the node go.
    plugin.delete_archives_of(&ns.name, None);
}

/// A checkpoint big enough (about 130 MiB) that a transfer can be cut while it runs.
fn big_archive(cluster: &Cluster, ns: &str, plugin: &Plugin) -> String {
    cluster.workload(ns, "big", 96);
    let record = checkpoint(plugin, ns, "big");
    format!("{}:{}", record.node, record.path)
}

/// Starts `fetch SOURCE DEST ARGS...` and waits until its partial copy (`DEST.part`) holds
/// more than 4 MiB; the flag is false when the fetch ended (or two minutes passed) before.
fn fetch_under_way(
    plugin: &Plugin,
    source: &str,
    dest: &str,
    args: &[&str],
) -> (std::process::Child, bool) {
    let mut child = plugin
        .command(&[&["fetch", source, dest], args].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let part = plugin.path(&format!("{dest}.part"));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) > 4 << 20 {
            return (child, true);
        }
        if child.try_wait().unwrap().is_some() {
            return (child, false);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (child, false)
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_fetch_resumes_after_cut_streams() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("resume", None);
    let plugin = Plugin::new(&cluster);
    let source = big_archive(&cluster, &ns.name, &plugin);

    // 1. The stream is cut on the node (its readers killed): resumed within the same run.
    let (child, cut) = fetch_under_way(
        &plugin,
        &source,
        "cut.tar",
        &["-n", &ns.name, "--retries", "5", "-o", "json"],
    );
    assert!(cut, "the fetch ended before its stream could be cut");
    {
        let helpers = cluster.kubectl_ok(&[
            "get",
            "pods",
            "-n",
            &ns.name,
            "-l",
            "app.kubernetes.io/name=kubectl-checkpoint-helper",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ]);
        let helper = helpers.split_whitespace().next().expect("a helper pod");
        // Every process of the helper but its `sleep` (pid 1): the streaming shell and its
        // pipeline die, as when a node kills them.
        let killed = cluster.kubectl(&["exec", "-n", &ns.name, helper, "--", "kill", "-9", "-1"]);
        eprintln!("kill -9 -1 in {helper}: {}", stderr(&killed));
    }
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", stderr(&out));
    assert!(out.status.success(), "{}", stderr(&out));
    let record: FetchRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record.verified, Verify::Sha256);
    assert_eq!(record.sha256, sha256_file(&plugin.path("cut.tar")));
    {
        assert!(record.resumes >= 1, "the cut was not noticed: {record:?}");
        assert!(
            stderr(&out).contains("the stream broke at byte"),
            "{}",
            stderr(&out)
        );
        // Every try is in the custody record: the cut one(s), then the one that finished.
        let attempts = custody(&plugin.path("cut.tar")).attempts;
        assert_eq!(attempts.len() as u32, record.resumes + 1, "{attempts:?}");
        assert!(
            attempts[0].outcome.starts_with("the stream broke at byte"),
            "{attempts:?}"
        );
        assert_eq!(attempts.last().unwrap().outcome, "completed");
        let bytes: u64 = attempts.iter().map(|a| a.bytes).sum();
        assert_eq!(bytes, record.size, "{attempts:?}");
    }

    // 2. The fetch is interrupted here (Ctrl-C): the partial copy stays, the next run
    //    resumes it and checks the whole on the node.
    let (child, under_way) = fetch_under_way(&plugin, &source, "int.tar", &["-n", &ns.name]);
    assert!(under_way, "the fetch ended before it could be interrupted");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run the same fetch again to resume"),
        "{}",
        stderr(&out)
    );
    let kept = std::fs::metadata(plugin.path("int.tar.part"))
        .unwrap()
        .len();
    // In text: where it resumed, in plain words, and the copy verified as usual.
    let out = plugin.run(&["fetch", &source, "int.tar", "-n", &ns.name]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        line.contains("(matches the node's; resumed at ") && line.contains(" of "),
        "{line}"
    );
    assert!(
        stderr(&out).contains("resuming ")
            && stderr(&out).contains("from the partial copy an earlier run left"),
        "{}",
        stderr(&out)
    );
    let manifest = custody(&plugin.path("int.tar"));
    assert_eq!(manifest.resumed_from_partial, kept);
    assert_eq!(
        manifest.source.sha256.as_deref(),
        Some(sha256_file(&plugin.path("int.tar")).as_str())
    );
    // The interrupted run's try and this one's, each with its helper.
    let attempts = &manifest.attempts;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        attempts[0].outcome.starts_with("interrupted"),
        "{attempts:?}"
    );
    assert_eq!(attempts[1].from_byte, kept);
    assert_eq!(attempts[1].outcome, "completed");
    assert_ne!(attempts[0].helper_uid, attempts[1].helper_uid);
    plugin.ok(&["delete", &source, "-n", &ns.name]);
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_fetch_survives_a_kubelet_restart() {
    let _alone = KUBELET.write().unwrap_or_else(|e| e.into_inner());
    let cluster = cluster();
    let Ok(restart) = std::env::var("KUBECTL_CHECKPOINT_E2E_RESTART_KUBELET") else {
        panic!(
            "set KUBECTL_CHECKPOINT_E2E_RESTART_KUBELET to a shell command that restarts the \
             kubelet of node {} (docs/testing.md), or skip this test with --skip kubelet_restart",
            cluster.node
        );
    };
    let ns = cluster.namespace("restart", None);
    let plugin = Plugin::new(&cluster);
    let source = big_archive(&cluster, &ns.name, &plugin);
    let (child, cut) = fetch_under_way(
        &plugin,
        &source,
        "r.tar",
        &["-n", &ns.name, "--retries", "8", "-o", "json"],
    );
    assert!(cut, "the fetch ended before the kubelet could be restarted");
    let restarted = Command::new("sh").args(["-c", &restart]).status().unwrap();
    assert!(restarted.success(), "{restart} failed");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let record: FetchRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert!(record.resumes >= 1, "{record:?}");
    assert_eq!(record.verified, Verify::Sha256);
    assert_eq!(record.sha256, sha256_file(&plugin.path("r.tar")));
    assert!(stderr(&out).contains("retrying in"), "{}", stderr(&out));
    plugin.ok(&["delete", &source, "-n", &ns.name]);
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_refusals_get_the_right_advice() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("refuse", None);
    cluster.workload(&ns.name, "app", 0);
    let plugin = Plugin::new(&cluster);

    // Missing pod, container, node.
    let out = plugin.run(&["-n", &ns.name, "pod/nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let out = plugin.run(&["-n", &ns.name, "pod/app", "-c", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no container \"nosuch\""),
        "{}",
        stderr(&out)
    );
    let started = Instant::now();
    let out = plugin.run(&["fetch", "no-such-node:/var/lib/kubelet/checkpoints/a.tar"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("node no-such-node does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // A user without nodes/proxy (a service account with pod rights only): the RBAC advice.
    cluster.apply(&format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata: {{name: limited, namespace: {ns}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: limited, namespace: {ns}}}
rules:
- {{apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create", "delete"]}}
- {{apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: limited, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: limited}}
subjects: [{{kind: ServiceAccount, name: limited, namespace: {ns}}}]
"#,
        ns = ns.name
    ));
    let token = cluster.kubectl_ok(&["create", "token", "limited", "-n", &ns.name]);
    let server = cluster.kubectl_ok(&[
        "config",
        "view",
        "--minify",
        "--raw",
        "-o",
        "jsonpath={.clusters[0].cluster.server}",
    ]);
    let ca = cluster.kubectl_ok(&[
        "config",
        "view",
        "--minify",
        "--raw",
        "-o",
        "jsonpath={.clusters[0].cluster.certificate-authority-data}",
    ]);
    let limited = tempfile::tempdir().unwrap();
    let kubeconfig = limited.path().join("kubeconfig");
    let ca_line = if ca.is_empty() {
        "insecure-skip-tls-verify: true".to_string()
    } else {
        format!("certificate-authority-data: {ca}")
    };
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    {ca_line}\nusers:\n- name: limited\n  user:\n    token: {}\ncontexts:\n- name: c\n  context: {{cluster: c, user: limited, namespace: {}}}\ncurrent-context: c\n",
            token.trim(),
            ns.name
        ),
    )
    .unwrap();
    let limited_plugin = Plugin::with_kubeconfig(kubeconfig);
    let out = limited_plugin.run(&["pod/app", "-c", "app"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nodes/proxy") && !stderr(&out).contains(token.trim()),
        "{}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_pod_security_refusal_and_helper_namespace() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("baseline", Some("baseline"));
    let helpers = cluster.namespace("helpers", Some("privileged"));
    cluster.workload(&ns.name, "app", 0);
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&["-n", &ns.name, "pod/app", "-c", "app", "--fetch=psa/"]);
    // The checkpoint was taken; its fetch was refused: exit 1, the archive named on stdout.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("{}:/var/lib/kubelet/checkpoints/", cluster.node)),
        "{stdout}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("PodSecurity")
            && err.contains("--helper-namespace")
            && !err.contains("you need `create` and `delete` on `pods`"),
        "{err}"
    );
    // In one step with a helper namespace that allows the helper.
    let out = plugin.ok(&[
        "-n",
        &ns.name,
        "pod/app",
        "-c",
        "app",
        "--fetch=psa/",
        "--helper-namespace",
        &helpers.name,
    ]);
    let local = out.split_whitespace().next().unwrap();
    assert!(plugin.path(local).is_file(), "{out}");
    plugin.delete_archives_of(&ns.name, Some(&helpers.name));
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_a_checkpoint_that_ends_its_container_fails_the_run() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("sleeper", None);
    // busybox 1.36's `sleep` returns when CRIU interrupts it: the container exits at its
    // checkpoint and the kubelet restarts it.
    cluster.apply(&format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: sleeper, namespace: {ns}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - {{name: main, image: {image}, command: ["sleep", "3600"]}}
"#,
        ns = ns.name,
        node = cluster.node,
        image = cluster.image,
    ));
    cluster.kubectl_ok(&[
        "wait",
        "-n",
        &ns.name,
        "pod/sleeper",
        "--for=condition=Ready",
        "--timeout=120s",
    ]);
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&["-n", &ns.name, "pod/sleeper", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let record = &records[0];
    assert!(record.workload_restarted, "{record:?}");
    assert_eq!(record.restart_count_before, Some(0));
    assert!(record.restart_count_after >= Some(1), "{record:?}");
    assert_ne!(record.container_id_before, record.container_id_after);
    let err = stderr(&out);
    assert!(
        err.contains("the checkpoint ended container main of pod")
            && err.contains("--allow-restart accepts this"),
        "{err}"
    );
    // What the kubelet says agrees.
    let restarts = cluster.kubectl_ok(&[
        "get",
        "pod",
        "sleeper",
        "-n",
        &ns.name,
        "-o",
        "jsonpath={.status.containerStatuses[0].restartCount}",
    ]);
    assert!(restarts.trim().parse::<i32>().unwrap() >= 1, "{restarts}");
    // --allow-restart: reported, exit 0.
    cluster.kubectl_ok(&[
        "wait",
        "-n",
        &ns.name,
        "pod/sleeper",
        "--for=condition=Ready",
        "--timeout=120s",
    ]);
    let out = plugin.run(&["-n", &ns.name, "pod/sleeper", "--allow-restart"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--allow-restart: not an error"),
        "{}",
        stderr(&out)
    );
    // A workload that survives its checkpoint is not reported.
    cluster.workload(&ns.name, "app", 0);
    let record = checkpoint(&plugin, &ns.name, "app");
    assert!(!record.workload_restarted, "{record:?}");
    assert_eq!(record.container_id_before, record.container_id_after);
    plugin.delete_archives_of(&ns.name, None);
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_delete_refuses_what_is_not_an_archive() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("notes", None);
    let notes = format!("notes-{}.txt", ns.name);
    // A file in the node's checkpoint directory that is not a checkpoint.
    cluster.apply(&format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: writer, namespace: {ns}}}
spec:
  nodeName: {node}
  restartPolicy: Never
  containers:
  - name: writer
    image: {image}
    command: ["sh", "-c", "echo operator notes > /checkpoints/{notes}"]
    volumeMounts: [{{name: ckpt, mountPath: /checkpoints}}]
  volumes: [{{name: ckpt, hostPath: {{path: /var/lib/kubelet/checkpoints, type: DirectoryOrCreate}}}}]
"#,
        ns = ns.name,
        node = cluster.node,
        image = cluster.image,
    ));
    cluster.kubectl_ok(&[
        "wait",
        "-n",
        &ns.name,
        "pod/writer",
        "--for=jsonpath={.status.phase}=Succeeded",
        "--timeout=120s",
    ]);
    let plugin = Plugin::new(&cluster);
    let source = format!("{}:/var/lib/kubelet/checkpoints/{notes}", cluster.node);
    let out = plugin.run(&["delete", &source, "-n", &ns.name]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a checkpoint archive")
            && stderr(&out).contains("pass --force to delete it anyway"),
        "{}",
        stderr(&out)
    );
    let listed: Vec<ListedArchive> = serde_json::from_str(&plugin.ok(&[
        "list",
        "-A",
        "--node",
        &cluster.node,
        "-n",
        &ns.name,
        "-o",
        "json",
    ]))
    .unwrap();
    assert!(
        listed.iter().any(|a| a.path.ends_with(&notes)),
        "notes.txt is gone"
    );
    // With --force it goes; a second delete says it is gone, plainly.
    let out = plugin.ok(&["delete", "--force", &source, "-n", &ns.name]);
    assert!(out.contains("deleted"), "{out}");
    let out = plugin.run(&["delete", "--force", &source, "-n", &ns.name]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not exist (already deleted?)") && !stderr(&out).contains("rm:"),
        "{}",
        stderr(&out)
    );
}

/// A Node object no kubelet stands behind, deleted when dropped.
struct GhostNode<'a> {
    cluster: &'a Cluster,
    name: String,
}

impl Drop for GhostNode<'_> {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .kubectl(&["delete", "node", &self.name, "--wait=false"]);
    }
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_list_skips_a_node_without_a_kubelet_at_once() {
    let _shared = shared();
    let cluster = cluster();
    let ns = cluster.namespace("ghost", None);
    cluster.workload(&ns.name, "app", 0);
    let plugin = Plugin::new(&cluster);
    let record = checkpoint(&plugin, &ns.name, "app");
    // A second node as one that is joining: a Node object, tainted, with no kubelet behind it
    // (so never Ready, and no helper could ever run there).
    let ghost = GhostNode {
        cluster: &cluster,
        name: format!("kc-e2e-ghost-{}", std::process::id() % 100_000),
    };
    cluster.apply(&format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {}\n  labels: {{kubectl-checkpoint-e2e: ghost}}\nspec:\n  taints:\n  - {{key: kc-e2e/joining, effect: NoSchedule}}\n",
        ghost.name
    ));
    let started = Instant::now();
    let out = plugin.run(&["list", "-n", &ns.name]);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("app") && text.starts_with("POD "), "{text}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("note: skipped node {}: it", ghost.name))
            && (err.contains("NotReady") || err.contains("no Ready condition")),
        "{err}"
    );
    // The good node's rows came at once: no wait for a helper on the ghost.
    assert!(took < Duration::from_secs(60), "{took:?}");
    let helpers = cluster.kubectl_ok(&[
        "get",
        "pods",
        "-A",
        "-l",
        "app.kubernetes.io/name=kubectl-checkpoint-helper",
        "--field-selector",
        &format!("spec.nodeName={}", ghost.name),
        "-o",
        "name",
    ]);
    assert!(
        helpers.trim().is_empty(),
        "a helper on the ghost node: {helpers}"
    );
    // Named, it is refused at once.
    let out = plugin.run(&["list", "-n", &ns.name, "--node", &ghost.name]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot run the helper pod"),
        "{}",
        stderr(&out)
    );
    plugin.ok(&[
        "delete",
        &format!("{}:{}", record.node, record.path),
        "-n",
        &ns.name,
    ]);
}

// Checkpoint images, restore and migrate (issue 21). They need a node running CRI-O (containerd
// checkpoints but cannot restore) and a registry this machine can push to and that node can
// pull from: `KUBECTL_CHECKPOINT_E2E_REGISTRY` (e.g. `127.0.0.1:5000` on the realk8s cluster of
// docs/testing.md, whose CRI-O node shares this machine's loopback). Without either, they say
// so and skip.

/// The CRI-O node and the registry, or why these tests cannot run here.
fn crio_setup(cluster: &Cluster) -> Result<(String, String), String> {
    let nodes = cluster.kubectl_ok(&[
        "get",
        "nodes",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.status.nodeInfo.containerRuntimeVersion}{\"\\n\"}{end}",
    ]);
    let crio = nodes
        .lines()
        .find_map(|l| l.split_once(" cri-o://").map(|(name, _)| name.to_string()))
        .ok_or_else(|| {
            format!(
                "no node runs CRI-O (nodes: {})",
                nodes.trim().replace('\n', "; ")
            )
        })?;
    let registry = std::env::var("KUBECTL_CHECKPOINT_E2E_REGISTRY").map_err(|_| {
        "KUBECTL_CHECKPOINT_E2E_REGISTRY is not set (a registry this machine pushes to and the CRI-O node pulls from, e.g. 127.0.0.1:5000)".to_string()
    })?;
    Ok((crio, registry))
}

/// Skips the test (with the reason on stderr) when there is no CRI-O node or registry.
macro_rules! crio_or_skip {
    ($cluster:expr) => {
        match crio_setup(&$cluster) {
            Ok(setup) => setup,
            Err(reason) => {
                eprintln!("SKIPPED: {reason}: checkpoint images are restored only by CRI-O");
                return;
            }
        }
    };
}

/// A busybox counter on `node`: `i` goes up every second, to stdout and /tmp/counter.
fn counter(cluster: &Cluster, namespace: &str, name: &str, node: &str) {
    cluster.apply(&format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: {image}
    command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; echo $i; sleep 1; done"]
"#,
        image = cluster.image,
    ));
    cluster.kubectl_ok(&[
        "wait",
        "-n",
        namespace,
        &format!("pod/{name}"),
        "--for=condition=Ready",
        "--timeout=180s",
    ]);
}

/// The counter of pod `name` now.
fn count(cluster: &Cluster, namespace: &str, name: &str) -> u64 {
    let text = cluster.kubectl_ok(&["exec", "-n", namespace, name, "--", "cat", "/tmp/counter"]);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("counter of {name}: {text:?}"))
}

/// The counter's log as numbers: continuous from 1 (no step back to 1) and its last value.
fn continuous_log(cluster: &Cluster, namespace: &str, name: &str) -> u64 {
    let log = cluster.kubectl_ok(&["logs", "-n", namespace, name]);
    let numbers: Vec<u64> = log.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert_eq!(numbers.first(), Some(&1), "{name}'s log starts at 1: {log}");
    for pair in numbers.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "{name}'s log steps from {} to {}",
            pair[0],
            pair[1]
        );
    }
    *numbers.last().unwrap()
}

/// Deletes the archives this test left on `node` for pods of `namespace`.
fn delete_archives_on(plugin: &Plugin, namespace: &str, node: &str) {
    let out = plugin.run(&["list", "--node", node, "-n", namespace, "-o", "name"]);
    let sources: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if sources.is_empty() {
        return;
    }
    let mut args = vec!["delete", "-y", "-n", namespace];
    args.extend(sources.iter().map(String::as_str));
    let _ = plugin.run(&args);
}

/// The restored pod's record, checked to be a restore.
fn restored(plugin: &Plugin, args: &[&str]) -> serde_json::Value {
    let out = plugin.run(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["evidence"]["restored"], true, "{record}");
    record
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_image_then_restore_continues_the_counter_and_in_quarantine() {
    let _guard = shared();
    let cluster = cluster();
    let (crio, registry) = crio_or_skip!(cluster);
    let ns = cluster.namespace("restore", None);
    let plugin = Plugin::new(&cluster);
    counter(&cluster, &ns.name, "counter", &crio);
    std::thread::sleep(Duration::from_secs(10));
    let before = count(&cluster, &ns.name, "counter");
    let reference = format!("{registry}/kc-e2e/counter:{}", std::process::id());
    let image = plugin.ok(&["image", "-n", &ns.name, "pod/counter", &reference]);
    let image = image.trim().to_string();
    let after_checkpoint = count(&cluster, &ns.name, "counter");
    assert!(image.contains("@sha256:"), "{image}");
    // The original goes: only the checkpoint remembers where it was.
    cluster.kubectl_ok(&[
        "delete",
        "pod",
        "-n",
        &ns.name,
        "counter",
        "--grace-period=1",
        "--wait=true",
    ]);
    std::thread::sleep(Duration::from_secs(5));
    let started = Instant::now();
    let record = restored(
        &plugin,
        &[
            "restore",
            &image,
            "-n",
            &ns.name,
            "--node",
            &crio,
            "--name",
            "counter-restored",
            "-o",
            "json",
        ],
    );
    assert_eq!(record["node"], crio.as_str());
    std::thread::sleep(Duration::from_secs(3));
    let now = count(&cluster, &ns.name, "counter-restored");
    let last = continuous_log(&cluster, &ns.name, "counter-restored");
    eprintln!(
        "counter: {before} before the checkpoint, {after_checkpoint} just after it, {now} in the restored pod {:.1} s after `restore` started; its log runs 1..{last} without a step back",
        started.elapsed().as_secs_f64()
    );
    // A fresh start would be at ~3 now; the restored counter goes on from the checkpoint.
    assert!(before >= 8, "the counter ran long enough to tell: {before}");
    assert!(
        now >= before,
        "restored at {now}, checkpointed at {before}..{after_checkpoint}"
    );
    assert!(
        now <= after_checkpoint + started.elapsed().as_secs() + 3,
        "{now} is more than the seconds since the checkpoint allow"
    );
    // In quarantine: a namespace of its own, the same counter.
    let quarantine = format!("{}-q", ns.name);
    let record = restored(
        &plugin,
        &[
            "restore",
            &image,
            "--quarantine",
            "-n",
            &quarantine,
            "--node",
            &crio,
            "--name",
            "suspect",
            "-o",
            "json",
        ],
    );
    let _cleanup = Namespace {
        cluster: &cluster,
        name: quarantine.clone(),
    };
    assert_eq!(record["quarantine"], true);
    std::thread::sleep(Duration::from_secs(2));
    let in_quarantine = count(&cluster, &quarantine, "suspect");
    eprintln!(
        "quarantined counter: {in_quarantine} (checkpointed at {before}..{after_checkpoint})"
    );
    assert!(in_quarantine >= before, "{in_quarantine} < {before}");
    continuous_log(&cluster, &quarantine, "suspect");
    let token = cluster.kubectl_ok(&[
        "exec",
        "-n",
        &quarantine,
        "suspect",
        "--",
        "ls",
        "-A",
        "/var/run/secrets/kubernetes.io/serviceaccount",
    ]);
    assert_eq!(
        token.trim(),
        "",
        "no service account token in the quarantine"
    );
    let policy = cluster.kubectl_ok(&[
        "get",
        "networkpolicy",
        "-n",
        &quarantine,
        "-o",
        "jsonpath={.items[0].spec.policyTypes}",
    ]);
    assert!(
        policy.contains("Ingress") && policy.contains("Egress"),
        "{policy}"
    );
    let automount = cluster.kubectl_ok(&[
        "get",
        "pod",
        "-n",
        &quarantine,
        "suspect",
        "-o",
        "jsonpath={.spec.automountServiceAccountToken}",
    ]);
    assert_eq!(automount, "false");
    delete_archives_on(&plugin, &ns.name, &crio);
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_migrate_onto_the_crio_node_keeps_the_original() {
    let _guard = shared();
    let cluster = cluster();
    let (crio, registry) = crio_or_skip!(cluster);
    let ns = cluster.namespace("migrate", None);
    let plugin = Plugin::new(&cluster);
    counter(&cluster, &ns.name, "counter", &crio);
    std::thread::sleep(Duration::from_secs(10));
    let before = count(&cluster, &ns.name, "counter");
    let record = restored(
        &plugin,
        &[
            "migrate",
            "pod/counter",
            "-n",
            &ns.name,
            "--to-node",
            &crio,
            "--registry",
            &format!("{registry}/kc-e2e"),
            "--name",
            "counter-moved",
            "-o",
            "json",
        ],
    );
    assert_eq!(record["node"], crio.as_str());
    std::thread::sleep(Duration::from_secs(2));
    let moved = count(&cluster, &ns.name, "counter-moved");
    let original = count(&cluster, &ns.name, "counter");
    eprintln!(
        "migrated counter: {moved}; the original, still running: {original}; {before} before"
    );
    assert!(moved >= before, "{moved} < {before}");
    continuous_log(&cluster, &ns.name, "counter-moved");
    let phase = cluster.kubectl_ok(&[
        "get",
        "pod",
        "-n",
        &ns.name,
        "counter",
        "-o",
        "jsonpath={.status.phase}",
    ]);
    assert_eq!(phase, "Running", "the original is kept");
    delete_archives_on(&plugin, &ns.name, &crio);
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_restore_on_a_containerd_node_is_refused_with_the_reason() {
    let _guard = shared();
    let cluster = cluster();
    let nodes = cluster.kubectl_ok(&[
        "get",
        "nodes",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.status.nodeInfo.containerRuntimeVersion}{\"\\n\"}{end}",
    ]);
    let Some(containerd) = nodes.lines().find_map(|l| {
        l.split_once(" containerd://")
            .map(|(name, _)| name.to_string())
    }) else {
        eprintln!(
            "SKIPPED: no node runs containerd (nodes: {})",
            nodes.trim().replace('\n', "; ")
        );
        return;
    };
    let ns = cluster.namespace("refuse", None);
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[
        "restore",
        "127.0.0.1:5000/kc-e2e/never:pulled",
        "-n",
        &ns.name,
        "--node",
        &containerd,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot restore on {containerd}")),
        "{err}"
    );
    assert!(
        err.contains("checkpoints containers but cannot restore them"),
        "{err}"
    );
    let pods = cluster.kubectl_ok(&["get", "pods", "-n", &ns.name, "-o", "name"]);
    assert_eq!(pods.trim(), "", "nothing was created");
}

/// The node agent for `analyze --remote`: a static build of this version
/// (`KUBECTL_CHECKPOINT_E2E_AGENT`, e.g. `target/x86_64-unknown-linux-gnu/dist/kubectl-checkpoint`
/// from `scripts/build-release.sh linux-amd64`). The test binary's own kubectl-checkpoint is a
/// dynamically linked development build, which a helper image without a libc cannot run.
fn static_agent() -> PathBuf {
    let Some(agent) = std::env::var_os("KUBECTL_CHECKPOINT_E2E_AGENT") else {
        panic!(
            "no agent: set KUBECTL_CHECKPOINT_E2E_AGENT to a static kubectl-checkpoint of this \
             version (scripts/build-release.sh linux-amd64 builds one; docs/testing.md)"
        );
    };
    PathBuf::from(agent)
}

/// The helper pods of `namespace`.
fn helper_pods(cluster: &Cluster, namespace: &str) -> Vec<String> {
    cluster
        .kubectl_ok(&[
            "get",
            "pods",
            "-n",
            namespace,
            "-l",
            "app.kubernetes.io/name=kubectl-checkpoint-helper",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_remote_analysis_equals_the_local_one() {
    let _shared = shared();
    let cluster = cluster();
    let agent = static_agent();
    let agent = agent.to_str().unwrap();
    let ns = cluster.namespace("remote", None);
    cluster.workload(&ns.name, "app", 0);
    let plugin = Plugin::new(&cluster);
    let record = checkpoint(&plugin, &ns.name, "app");
    let source = format!("{}:{}", record.node, record.path);
    // The same archive here, without its custody record, at a relative path that reads
    // `NODE:PATH`, so that the local report names it as the remote one does.
    plugin.ok(&["fetch", &source, "a.tar", "-n", &ns.name]);
    let local_copy = plugin.path(&source);
    std::fs::create_dir_all(local_copy.parent().unwrap()).unwrap();
    std::fs::copy(plugin.path("a.tar"), &local_copy).unwrap();
    for view in [
        &[][..],
        &["--search", SECRET],
        &["--secrets"],
        &["--all"],
        &["-o", "json"],
    ] {
        let mut args = vec![
            "analyze",
            "--remote",
            &source,
            "-n",
            &ns.name,
            "--agent-binary",
            agent,
        ];
        args.extend_from_slice(view);
        let started = Instant::now();
        let remote = plugin.run(&args);
        let remote_time = started.elapsed();
        let mut args = vec!["analyze", "--local", &source];
        args.extend_from_slice(view);
        let started = Instant::now();
        let local = plugin.run(&args);
        eprintln!(
            "{view:?}: remote {:.2} s, local (of the copy) {:.2} s",
            remote_time.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        assert_eq!(remote.status.code(), local.status.code(), "{view:?}");
        assert!(!local.stdout.is_empty(), "{view:?}");
        assert!(
            remote.stdout == local.stdout,
            "{view:?}: the report on the node differs from the local one"
        );
        let err = stderr(&remote);
        assert!(
            err.contains(&format!(
                "note: analysed on node {} by the agent",
                cluster.node
            )),
            "{err}"
        );
    }
    let found = String::from_utf8_lossy(
        &plugin
            .run(&["analyze", "--local", &source, "--search", SECRET])
            .stdout,
    )
    .into_owned();
    assert!(found.contains(SECRET), "{found}");
    // A TARGET: checkpointed, analysed there, and its archive deleted from the node afterwards.
    let out = plugin.run(&[
        "analyze",
        "--remote",
        "-n",
        &ns.name,
        "pod/app",
        "-c",
        "app",
        "--agent-binary",
        agent,
        "--search",
        SECRET,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(
        stderr(&out).contains("analysed on node"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("note: deleted"), "{}", stderr(&out));
    assert!(helper_pods(&cluster, &ns.name).is_empty());
    plugin.delete_archives_of(&ns.name, None);
}

#[test]
#[ignore = "needs a real cluster: set KUBECTL_CHECKPOINT_E2E_KUBECONFIG (docs/testing.md)"]
fn e2e_remote_analysis_refuses_an_agent_that_cannot_run_or_was_changed() {
    let _shared = shared();
    let cluster = cluster();
    let agent = static_agent();
    let agent = agent.to_str().unwrap();
    let ns = cluster.namespace("agent", None);
    cluster.workload(&ns.name, "app", 0);
    let plugin = Plugin::new(&cluster);
    let record = checkpoint(&plugin, &ns.name, "app");
    let source = format!("{}:{}", record.node, record.path);

    // Not a program for this node (here: not a program at all): refused, then fetched and
    // analysed here.
    let other = plugin.path("agent-for-another-node");
    std::fs::write(&other, b"\x7fELF not for this node\n").unwrap();
    let out = plugin.run(&[
        "analyze",
        "--remote",
        &source,
        "-n",
        &ns.name,
        "--agent-binary",
        other.to_str().unwrap(),
        "--search",
        SECRET,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(SECRET));
    let err = stderr(&out);
    assert!(
        err.contains("the agent does not run on the node")
            && err.contains("fetching the archive and analysing it here instead"),
        "{err}"
    );

    // A helper kept for the next run, in which something on the node keeps writing into every
    // agent file it finds: the next run's agent is refused, and nothing else is tried.
    plugin.ok(&[
        "analyze",
        "--remote",
        &source,
        "-n",
        &ns.name,
        "--agent-binary",
        agent,
        "--keep-helper",
    ]);
    let helper = helper_pods(&cluster, &ns.name)
        .into_iter()
        .next()
        .expect("the kept helper");
    let mut tamperer = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args([
            "exec",
            "-n",
            &ns.name,
            &helper,
            "--",
            "sh",
            "-c",
            "while :; do for f in /var/run/kubectl-checkpoint/agent-*; do \
             [ -f \"$f\" ] && printf WXYZ | dd of=\"$f\" bs=1 seek=4096 conv=notrunc 2>/dev/null; \
             done; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let out = plugin.run(&[
        "analyze",
        "--remote",
        &source,
        "-n",
        &ns.name,
        "--agent-binary",
        agent,
        "--keep-helper",
    ]);
    let _ = tamperer.kill();
    let _ = tamperer.wait();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("it was changed on the node, which may be compromised; it was not run"),
        "{err}"
    );
    assert!(!err.contains("fetching the archive"), "{err}");
    assert!(out.stdout.is_empty());
    let _ = cluster.kubectl(&["delete", "pod", "-n", &ns.name, &helper, "--wait=false"]);
    plugin.delete_archives_of(&ns.name, None);
}

//! `kubectl checkpoint restore` and `migrate` against the fake API server and the fake registry:
//! the pod made from the recorded spec, the quarantine's namespace, policy and pod, the evidence
//! of a restore, and every refusal: a containerd node (before anything is read, pushed or
//! created), a cluster where some nodes cannot restore, an image that is not a checkpoint image,
//! a pull that fails, an archive without a registry.

use crate::support;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use support::fake_apiserver::{
    FakeCluster, FakeNode, FakeRegistry, Owner, OwnerKind, PodSpec, RegistryAuth,
};
use support::plugin::{checkpoint_posts, fixture, stderr, stdout, Plugin};

const POD: &str = "counters-857d7978fd-jnkck";

/// A CRI-O node `node-a` (the fake's default runtime) running the demo pod, and a containerd
/// node `node-b`.
fn cluster() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .node_with(FakeNode::new("node-b").with_runtime("containerd://2.1.9"))
        .pod("demo", POD, "node-a", &["counter"])
        .start()
}

/// Pushes the fixture's image to `registry` and returns it by digest.
fn push(plugin: &Plugin, registry: &FakeRegistry, tag: &str) -> String {
    let out = plugin.run(&[
        "image",
        fixture().to_str().unwrap(),
        &format!("{}/ckpt/counter:{tag}", registry.host()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// The log CRI-O restores with the container: lines from before the pod existed.
fn restored_log(cluster: &FakeCluster, namespace: &str, pod: &str) {
    let then = Timestamp::now() - SignedDuration::from_secs(600);
    cluster.set_timed_log(
        namespace,
        pod,
        "counter",
        &[
            (then, "1"),
            (then + SignedDuration::from_secs(1), "2"),
            (Timestamp::now() + SignedDuration::from_secs(1), "3"),
        ],
    );
}

fn created_pods(cluster: &FakeCluster, namespace: &str) -> Vec<Pod> {
    cluster
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST" && r.path() == format!("/api/v1/namespaces/{namespace}/pods")
        })
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[test]
fn an_image_is_restored_as_a_pod_from_its_recorded_spec() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    let image = push(&plugin, &registry, "v1");
    restored_log(&cluster, "demo", "counter-back");
    let out = plugin.run(&[
        "restore",
        &format!("{}/ckpt/counter:v1", registry.host()),
        "-n",
        "demo",
        "--node",
        "node-a",
        "--name",
        "counter-back",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["pod"], "counter-back");
    assert_eq!(record["evidence"]["restored"], true);
    assert!(record["evidence"]["how"]
        .as_str()
        .unwrap()
        .contains("before this pod was created"));
    let pods = created_pods(&cluster, "demo");
    assert_eq!(pods.len(), 1);
    let spec = pods[0].spec.clone().unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("node-a"));
    let container = &spec.containers[0];
    assert_eq!(
        container.name, "counter",
        "the checkpointed container's name"
    );
    assert_eq!(
        container.image.as_deref(),
        Some(image.as_str()),
        "the image by digest"
    );
    assert!(container.command.is_none() && container.env.is_none());
    let labels = pods[0].metadata.labels.clone().unwrap();
    assert_eq!(labels["kubectl-checkpoint.io/restored-from-pod"], POD);
    assert_eq!(
        labels["kubectl-checkpoint.io/restored-from-namespace"],
        "demo"
    );
    // The plain output: the pod, and how we know it was restored.
    restored_log(&cluster, "demo", "counter-again");
    let out = plugin.run(&[
        "restore",
        &image,
        "-n",
        "demo",
        "--node",
        "node-a",
        "--name",
        "counter-again",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "pod/counter-again -n demo");
    assert!(
        stderr(&out).contains("note: restored: its log goes back to"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_quarantine_has_its_namespace_policy_and_no_token() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    let image = push(&plugin, &registry, "q");
    restored_log(&cluster, "forensics-1", "suspect");
    let out = plugin.run(&[
        "restore",
        &image,
        "--quarantine",
        "-n",
        "forensics-1",
        "--node",
        "node-a",
        "--name",
        "suspect",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("denies all ingress and egress"), "{err}");
    assert!(
        err.contains("network plugin enforces NetworkPolicy"),
        "{err}"
    );
    assert!(
        err.contains("kubectl exec -n forensics-1 -it suspect -- sh"),
        "{err}"
    );
    assert!(!err.contains("\\n"), "our lines keep their newlines: {err}");
    let namespaces = cluster.created_namespaces();
    assert_eq!(namespaces.len(), 1);
    let labels = namespaces[0].metadata.labels.clone().unwrap();
    assert_eq!(labels["kubectl-checkpoint.io/quarantine"], "true");
    assert_eq!(labels["kubectl-checkpoint.io/restored-from-pod"], POD);
    let policies = cluster.network_policies();
    assert_eq!(policies.len(), 1);
    let policy = policies[0].spec.clone().unwrap();
    assert_eq!(policy.policy_types.unwrap(), ["Ingress", "Egress"]);
    assert!(policy.ingress.is_none() && policy.egress.is_none());
    assert_eq!(policy.pod_selector.unwrap_or_default(), Default::default());
    let pod = &created_pods(&cluster, "forensics-1")[0];
    let spec = pod.spec.clone().unwrap();
    assert_eq!(spec.automount_service_account_token, Some(false));
    assert_eq!(spec.host_network, Some(false));
    assert_eq!(spec.host_pid, Some(false));
    assert_eq!(spec.host_ipc, Some(false));
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    // The fixture's container had a token mount: CRI-O expects a mount there, an empty one.
    let mounts = spec.containers[0].volume_mounts.clone().unwrap_or_default();
    assert!(
        mounts
            .iter()
            .any(|m| m.mount_path == "/var/run/secrets/kubernetes.io/serviceaccount"),
        "{mounts:?}"
    );
    assert!(spec.volumes.unwrap().iter().all(|v| v.empty_dir.is_some()));
    // A quarantine is a new namespace, never one that exists.
    let out = plugin.run(&[
        "restore",
        &image,
        "--quarantine",
        "-n",
        "forensics-1",
        "--node",
        "node-a",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
}

#[test]
fn a_containerd_node_is_refused_before_anything_is_made() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    let image = push(&plugin, &registry, "v1");
    let before = registry.requests().len();
    let out = plugin.run(&["restore", &image, "-n", "demo", "--node", "node-b"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("cannot restore on node-b"), "{err}");
    assert!(err.contains("containerd 2.1.9"), "{err}");
    assert!(created_pods(&cluster, "demo").is_empty());
    assert_eq!(
        registry.requests().len(),
        before,
        "the registry was not even asked"
    );
    // Without --node, in a cluster of both kinds: which nodes can.
    let out = plugin.run(&["restore", &image, "-n", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CRI-O: node-a"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("choose one with --node"),
        "{}",
        stderr(&out)
    );
    // migrate onto it: nothing is checkpointed.
    let out = plugin.run(&[
        "migrate",
        &format!("pod/{POD}"),
        "-n",
        "demo",
        "--to-node",
        "node-b",
        "--registry",
        &format!("{}/ckpt", registry.host()),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot restore on node-b"),
        "{}",
        stderr(&out)
    );
    assert!(checkpoint_posts(&cluster).is_empty());
}

#[test]
fn a_pull_failure_is_said_with_advice_and_the_pod_left_to_look_at() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    let image = push(&plugin, &registry, "v1");
    cluster.fail_image_pulls(
        &image,
        "rpc error: code = Unknown desc = pinging container registry 127.0.0.1: connection refused",
    );
    let out = plugin.run(&[
        "restore",
        &image,
        "-n",
        "demo",
        "--node",
        "node-a",
        "--name",
        "nopull",
        "--timeout",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("pod demo/nopull did not start: ErrImagePull"),
        "{err}"
    );
    assert!(err.contains("connection refused"), "{err}");
    assert!(
        err.contains("the node could not pull the checkpoint image"),
        "{err}"
    );
    assert!(err.contains("node's own loopback"), "{err}");
    assert!(err.contains("kubectl describe pod -n demo nopull"), "{err}");
}

#[test]
fn an_image_that_is_not_a_checkpoint_is_refused() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    registry.put_manifest(
        "library/busybox",
        "1.36",
        "application/vnd.oci.image.manifest.v1+json",
        manifest,
    );
    let out = plugin.run(&[
        "restore",
        &format!("{}/library/busybox:1.36", registry.host()),
        "-n",
        "demo",
        "--node",
        "node-a",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("is not a checkpoint image"), "{err}");
    assert!(
        err.contains("io.kubernetes.cri-o.annotations.checkpoint.name"),
        "{err}"
    );
    assert!(created_pods(&cluster, "demo").is_empty());
}

#[test]
fn an_archive_needs_a_registry_and_is_pushed_then_restored() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[
        "restore",
        fixture().to_str().unwrap(),
        "-n",
        "demo",
        "--node",
        "node-a",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give --registry"), "{}", stderr(&out));
    let registry = FakeRegistry::start(RegistryAuth::None);
    restored_log(&cluster, "demo", "from-archive");
    let out = plugin.run(&[
        "restore",
        fixture().to_str().unwrap(),
        "-n",
        "demo",
        "--node",
        "node-a",
        "--registry",
        &format!("{}/ckpt", registry.host()),
        "--name",
        "from-archive",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pod = &created_pods(&cluster, "demo")[0];
    let image = pod.spec.clone().unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert!(
        image.starts_with(&format!("{}/ckpt/{POD}@sha256:", registry.host())),
        "{image}"
    );
}

#[test]
fn migrate_restores_a_new_pod_and_deletes_the_original_only_when_asked() {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod_with(PodSpec {
            owner: Some(Owner {
                kind: OwnerKind::ReplicaSet,
                name: "counters-857d7978fd".into(),
            }),
            ..PodSpec::new("demo", POD, "node-a", &["counter"])
        })
        .start();
    let plugin = Plugin::new(&cluster);
    let registry = FakeRegistry::start(RegistryAuth::None);
    restored_log(&cluster, "demo", "moved");
    let out = plugin.run(&[
        "migrate",
        &format!("pod/{POD}"),
        "-n",
        "demo",
        "--to-node",
        "node-a",
        "--registry",
        &format!("{}/ckpt", registry.host()),
        "--name",
        "moved",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "pod/moved -n demo");
    let err = stderr(&out);
    assert!(
        err.contains("owned by ReplicaSet/counters-857d7978fd"),
        "{err}"
    );
    assert!(err.contains("keeps running"), "{err}");
    assert_eq!(checkpoint_posts(&cluster).len(), 1);
    assert!(cluster
        .pods()
        .iter()
        .any(|p| p.metadata.name.as_deref() == Some(POD)));
    let deletes = |cluster: &FakeCluster| {
        cluster
            .requests()
            .iter()
            .filter(|r| {
                r.method == "DELETE" && r.path() == format!("/api/v1/namespaces/demo/pods/{POD}")
            })
            .count()
    };
    assert_eq!(deletes(&cluster), 0);
    restored_log(&cluster, "demo", "moved-2");
    let out = plugin.run(&[
        "migrate",
        POD,
        "-n",
        "demo",
        "--to-node",
        "node-a",
        "--registry",
        &format!("{}/ckpt", registry.host()),
        "--name",
        "moved-2",
        "--delete-original",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("starts fresh"), "{}", stderr(&out));
    assert_eq!(deletes(&cluster), 1);
}

//! The command line as a kubectl user types it, through the real kubectl's plugin mechanism:
//! flags before the verb, mistyped verbs, `-o` values a verb cannot honour, errors that name
//! the server, `KUBECONFIG` lists, and the hints for common slips (`analyze FILE` without
//! `--local`, a CRIU image given to analyze, an archive given to decode, `--fetch pod/x`).

use std::path::Path;
use std::process::Command;

use checkpoint_cluster::{CheckpointRecord, ListedArchive};
use serde::Deserialize;

use crate::support::fake_apiserver::{FakeCluster, Fault, PodSpec};
use crate::support::plugin::{checkpoint_posts, fixture, stderr, stdout, Plugin};

const POD: &str = "counters-857d7978fd-jnkck";
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-checkpoint");

fn cluster() -> FakeCluster {
    FakeCluster::builder()
        .node("node-a")
        .pod_with(PodSpec::new("demo", POD, "node-a", &["counter"]).label("app", "counters"))
        .pod("demo", "list", "node-a", &["app"])
        .pod("demo", "lst", "node-a", &["app"])
        .pod_with(
            PodSpec::new("demo", "multi", "node-a", &["app", "sidecar"])
                .annotation("kubectl.kubernetes.io/default-container", "app"),
        )
        .pod("other", "elsewhere", "node-a", &["app"])
        .start()
}

fn local(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn verbs_win_wherever_the_global_flags_stand() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.kubectl(&["-n", "demo", POD]);
    assert!(out.status.success(), "{}", stderr(&out));

    // `kubectl checkpoint -n demo list`: the verb, not a pod named `list`.
    let out = plugin.kubectl(&["-n", "demo", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("NAMESPACE"), "{}", stdout(&out));
    assert!(stdout(&out).contains(POD), "{}", stdout(&out));
    assert_eq!(
        checkpoint_posts(&cluster).len(),
        1,
        "list checkpointed something"
    );

    for args in [
        &["-o", "json", "-n", "demo", "list"][..],
        &["--context", "fake", "-o", "json", "-n", "demo", "list"],
        &["--namespace=demo", "-ojson", "list"],
    ] {
        let out = plugin.kubectl(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let archives: Vec<ListedArchive> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(archives.len(), 1, "{args:?}");
    }

    // `-n demo analyze --local FILE` analyses the file.
    let path = fixture();
    let out = plugin.kubectl(&["-n", "demo", "analyze", "--local", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("counter"), "{}", stdout(&out));
    assert_eq!(checkpoint_posts(&cluster).len(), 1);

    // A pod really named `list` is `pod/list`.
    let out = plugin.kubectl(&["-n", "demo", "pod/list", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].pod, "list");
}

#[test]
fn a_mistyped_verb_gets_a_suggestion() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    // Not a pod either: the verb it resembles, after the pod lookup failed.
    for (typo, verb) in [
        ("fecth", "fetch"),
        ("analyse", "analyze"),
        ("delet", "delete"),
    ] {
        let out = plugin.kubectl(&["-n", "demo", typo]);
        assert_eq!(out.status.code(), Some(2), "{typo}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("`{typo}` is not a verb (did you mean `{verb}`?)")),
            "{typo}: {err}"
        );
        assert!(err.contains(&format!("demo/{typo}")), "{typo}: {err}");
    }
    // Flags of the verb after the typo: clap cannot parse them, the suggestion says why.
    let out = plugin.kubectl(&["analyse", "--local", "x.tar"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown verb `analyse`: did you mean `analyze`?"),
        "{}",
        stderr(&out)
    );
    // A pod of that name exists: it is checkpointed, as kubectl would take it.
    let out = plugin.kubectl(&["-n", "demo", "lst"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(checkpoint_posts(&cluster)
        .iter()
        .any(|p| p.contains("/checkpoint/demo/lst/app")));
}

#[test]
fn output_formats_a_verb_cannot_honour_are_refused() {
    for args in [
        &["pod/x", "-o", "table"][..],
        &["pod/x", "-o", "tree"],
        &[
            "fetch",
            "n:/var/lib/kubelet/checkpoints/a.tar",
            "-o",
            "wide",
        ],
        &["list", "-o", "tree"],
        &["diff", "a.tar", "b.tar", "-o", "wide"],
    ] {
        let out = local(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("invalid value") && err.contains("possible values"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn cluster_flags_belong_to_the_cluster_verbs() {
    for verb in ["decode", "coredump", "completion"] {
        let help = String::from_utf8(local(&[verb, "--help"]).stdout).unwrap();
        for flag in ["--kubeconfig", "--context", "--namespace"] {
            assert!(!help.contains(flag), "{verb} --help shows {flag}");
        }
    }
    let out = local(&["decode", "--kubeconfig", "/k", "x.img"]);
    assert_eq!(out.status.code(), Some(2));
    for (verb, says) in [
        ("fetch", "helper pod that reads the archive"),
        ("delete", "helper pod that deletes the archive"),
        ("list", "whose archives to list"),
    ] {
        let help = String::from_utf8(local(&[verb, "--help"]).stdout).unwrap();
        let line = help
            .lines()
            .skip_while(|l| !l.contains("--namespace"))
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains(says), "{verb}: {line}");
    }
}

#[test]
fn errors_name_the_server_they_could_not_reach() {
    let dir = tempfile::tempdir().unwrap();
    // A port where nothing listens.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\n"
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["pod/x", "-n", "demo", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the connection to the server https://127.0.0.1:{port}/ was refused"
        )),
        "{err}"
    );
}

#[test]
fn kubeconfig_lists_skip_missing_files_as_kubectl_does() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let list = format!(
        "{}:{}",
        plugin.dir.path().join("missing").display(),
        plugin.kubeconfig.display()
    );
    let out = plugin.kubectl_with_env(&["list", "-o", "json"], &[("KUBECONFIG", &list)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let archives: Vec<ListedArchive> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(archives.is_empty());
}

#[test]
fn a_default_container_is_announced_as_kubectl_does() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.kubectl(&["-n", "demo", "multi"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Defaulted container \"app\" out of: app, sidecar"),
        "{}",
        stderr(&out)
    );
    // Named with -c: nothing to announce.
    let out = plugin.kubectl(&["-n", "demo", "multi", "-c", "sidecar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Defaulted"), "{}", stderr(&out));
}

#[test]
fn fetch_taking_the_target_as_its_destination_is_explained() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.kubectl(&["-n", "demo", "--fetch", "pod/multi"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`pod/multi` was taken as the destination of --fetch")
            && err.contains("kubectl checkpoint pod/multi --fetch"),
        "{err}"
    );
    assert!(checkpoint_posts(&cluster).is_empty());
}

#[test]
fn list_filters_like_kubectl_get() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    for (pod, ns) in [(POD, "demo"), ("elsewhere", "other")] {
        let out = plugin.kubectl(&["-n", ns, pod]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    std::fs::write(cluster.node_dir("node-a").join("notes.txt"), b"x").unwrap();

    // The current namespace by default; -A for all, and for files not named by the kubelet.
    let json = |args: &[&str]| -> Vec<ListedArchive> {
        let out = plugin.kubectl(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let demo = json(&["list", "-n", "demo", "-o", "json"]);
    assert_eq!(demo.len(), 1);
    assert_eq!(json(&["list", "-A", "-o", "json"]).len(), 3);
    assert_eq!(json(&["list", "-n", "other", "-o", "json"]).len(), 1);
    assert_eq!(
        json(&["list", "-n", "demo", "-l", "app=counters", "-o", "json"]).len(),
        1
    );
    assert_eq!(
        json(&["list", "-n", "other", "-l", "app=counters", "-o", "json"]).len(),
        0
    );

    // Times are RFC 3339 in JSON and YAML.
    #[derive(Deserialize)]
    struct Raw {
        modified: String,
    }
    let out = plugin.kubectl(&["list", "-n", "demo", "-o", "json"]);
    let raw: Vec<Raw> = serde_json::from_slice(&out.stdout).unwrap();
    let modified = &raw[0].modified;
    assert!(
        modified.len() == 20 && modified.ends_with('Z') && modified.as_bytes()[10] == b'T',
        "{modified}"
    );
    // In YAML, quoted: a YAML 1.1 reader resolves a plain one to a timestamp, not a string.
    let out = plugin.kubectl(&["list", "-n", "demo", "-o", "yaml"]);
    assert!(
        stdout(&out).contains(&format!("modified: \"{modified}\"")),
        "{}",
        stdout(&out)
    );
    let raw: Vec<Raw> = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(&raw[0].modified, modified);

    // Tables: sizes as everywhere else, --no-headers, -o wide adds the exact size and time.
    let out = plugin.kubectl(&["list", "-n", "demo"]);
    assert!(stdout(&out).contains("8.8 MiB"), "{}", stdout(&out));
    let out = plugin.kubectl(&["list", "-n", "demo", "--no-headers"]);
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(stdout(&out).starts_with("demo "), "{}", stdout(&out));
    let out = plugin.kubectl(&["list", "-n", "demo", "-o", "wide"]);
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    assert!(
        header.contains(" BYTES ") && header.ends_with(" MODIFIED"),
        "{header}"
    );
    assert!(text.contains(&format!("9236480   {modified}")), "{text}");
}

#[test]
fn slips_with_local_files_get_a_hint() {
    let archive = fixture();
    let archive = archive.to_str().unwrap();

    // analyze FILE without --local.
    let out = local(&["analyze", archive]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "did you mean `kubectl checkpoint analyze --local {archive}`?"
        )),
        "{}",
        stderr(&out)
    );

    // One CRIU image given to analyze.
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criu-4.2/py/pstree.img");
    let image = image.to_str().unwrap();
    let out = local(&["analyze", "--local", image]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "is one CRIU image (PSTREE), not a checkpoint: decode it with `kubectl checkpoint decode {image}`"
        )),
        "{}",
        stderr(&out)
    );

    // An archive given to decode without :MEMBER: its images to choose from.
    let out = local(&["decode", archive]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is a checkpoint archive: name one of its images as ARCHIVE:MEMBER"),
        "{err}"
    );
    for image in [
        "pstree.img",
        "inventory.img",
        "pagemap-27426.img",
        "core-27426.img",
    ] {
        assert!(err.contains(image), "{image}: {err}");
    }
}

#[test]
fn a_checkpoint_past_its_timeout_says_to_raise_it() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    // What the kubelet answers when the runtime's checkpoint outlives `timeout`.
    cluster.set_fault(Fault::Runtime500(
        "checkpointing of demo/counters/counter failed (rpc error: code = DeadlineExceeded desc = context deadline exceeded)".into(),
    ));
    let out = plugin.kubectl(&["-n", "demo", POD, "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("raise --timeout"), "{}", stderr(&out));
    assert!(checkpoint_posts(&cluster)[0].contains("timeout=1"));
}

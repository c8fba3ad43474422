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
    assert!(stdout(&out).starts_with("POD "), "{}", stdout(&out));
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
            "the connection to the server https://127.0.0.1:{port} was refused"
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
fn fetch_never_takes_the_next_word() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    // `--fetch` takes no value unless written `--fetch=DEST`: the next word is the TARGET.
    let out = plugin.kubectl(&["-n", "demo", "--fetch", "pod/multi"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(checkpoint_posts(&cluster).len(), 1);
    let posts = checkpoint_posts(&cluster);
    assert!(posts[0].contains("/checkpoint/demo/multi/app"), "{posts:?}");
    let local = stdout(&out);
    let file = local.split_whitespace().next().unwrap();
    assert!(file.starts_with("checkpoint-multi_demo-app-"), "{local}");
    assert!(plugin.dir.path().join(file).is_file());
    assert!(!plugin.dir.path().join("pod").exists());

    // The old spelling with a DEST after the flag is refused, with the new one.
    let out = plugin.kubectl(&["-n", "demo", "pod/multi", "--fetch", "out.tar"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("write --fetch=out.tar"), "{err}");
    assert_eq!(checkpoint_posts(&cluster).len(), 1, "checkpointed again");

    // --fetch=DEST writes there.
    let out = plugin.kubectl(&["-n", "demo", "pod/multi", "--fetch=out.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(plugin.dir.path().join("out.tar").is_file());
}

#[test]
fn kubectl_forms_and_other_tools_verbs_are_understood() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    // TYPE NAME, as `kubectl get pod NAME`.
    let out = plugin.kubectl(&["-n", "demo", "pod", POD]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(checkpoint_posts(&cluster)[0].contains(&format!("/demo/{POD}/counter")));
    let out = plugin.kubectl(&["list", "-n", "demo", "pod", POD, "-o", "name"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    // checkpointctl's verbs point to analyze; `ls` and `rm` are list and delete.
    let out = plugin.kubectl(&["show", "some.tar"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`show` is checkpointctl's verb; here it is `analyze`"),
        "{}",
        stderr(&out)
    );
    let out = plugin.kubectl(&["-n", "demo", "inspect"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `analyze`?"),
        "{}",
        stderr(&out)
    );
    let out = plugin.kubectl(&["-n", "demo", "ls", "-o", "name"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = stdout(&out).trim().to_string();
    assert!(
        source.starts_with("node-a:/var/lib/kubelet/checkpoints/"),
        "{source}"
    );
    let out = plugin.kubectl(&["rm", "-n", "demo", &source]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("deleted {source}"));
    // `version` prints the version.
    let out = plugin.kubectl(&["version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("kubectl-checkpoint {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        checkpoint_posts(&cluster).len(),
        1,
        "a verb was checkpointed"
    );
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
    assert!(
        stdout(&out).starts_with(&format!("{POD} ")),
        "{}",
        stdout(&out)
    );
    // -o wide: the exact size and time, then the path, last.
    let out = plugin.kubectl(&["list", "-n", "demo", "-o", "wide"]);
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("POD ") && header.contains(" BYTES ") && header.ends_with(" PATH"),
        "{header}"
    );
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "POD",
            "CONTAINER",
            "NODE",
            "AGE",
            "SIZE",
            "BYTES",
            "MODIFIED",
            "PATH"
        ]
    );
    assert!(
        text.contains(&format!(
            "9236480   {modified}   /var/lib/kubelet/checkpoints/"
        )),
        "{text}"
    );
    // -A adds the namespace; -o name gives NODE:PATH lines for delete.
    let out = plugin.kubectl(&["list", "-A", "--no-headers"]);
    assert!(
        stdout(&out).lines().any(|l| l.starts_with("demo ")),
        "{}",
        stdout(&out)
    );
    let out = plugin.kubectl(&["list", "-n", "demo", "-o", "name"]);
    let names = stdout(&out);
    assert_eq!(names.lines().count(), 1, "{names}");
    assert!(
        names.starts_with("node-a:/var/lib/kubelet/checkpoints/checkpoint-"),
        "{names}"
    );
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

/// A kubeconfig with two clusters (`good`: the fake, with its CA; `bare`: the fake without a CA;
/// `dead`: a port nothing listens on) and two users (`right`, `wrong` tokens); the current
/// context `broken` (dead, wrong), and `works` (good, right).
fn two_of_each(cluster: &FakeCluster, dir: &Path) -> std::path::PathBuf {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(cluster.ca_pem());
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- {{name: good, cluster: {{server: '{url}', certificate-authority-data: {ca}}}}}
- {{name: bare, cluster: {{server: '{url}'}}}}
- {{name: dead, cluster: {{server: 'https://127.0.0.1:{dead_port}'}}}}
users:
- {{name: right, user: {{token: {token}}}}}
- {{name: wrong, user: {{token: not-the-token}}}}
contexts:
- {{name: broken, context: {{cluster: dead, user: wrong, namespace: demo}}}}
- {{name: works, context: {{cluster: good, user: right, namespace: demo}}}}
current-context: broken
",
        url = cluster.url(),
        token = cluster.token(),
    );
    let path = dir.join("two-of-each");
    std::fs::write(&path, text).unwrap();
    path
}

/// The plugin with only these arguments (no --kubeconfig appended), HOME in `dir`.
fn bare(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("timeout")
        .arg("60")
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn kubectls_connection_flags_choose_and_override_the_kubeconfig() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = two_of_each(&cluster, dir.path());
    let kc = kubeconfig.to_str().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cluster.ca_pem()).unwrap();
    let ca = ca.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            POD,
            "--kubeconfig",
            kc,
            "-o",
            "json",
            "--restart-check",
            "0",
        ];
        args.extend_from_slice(extra);
        bare(dir.path(), &args)
    };
    let ok = |extra: &[&str]| {
        let out = run(extra);
        assert!(out.status.success(), "{extra:?}: {}", stderr(&out));
        let records: Vec<CheckpointRecord> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(records[0].pod, POD);
    };
    // The current context cannot work; --context, or --cluster and --user, choose others.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("was refused"), "{}", stderr(&out));
    ok(&["--context", "works"]);
    ok(&["--cluster", "good", "--user", "right"]);
    // --user alone keeps the context's dead cluster.
    let out = run(&["--user", "right"]);
    assert!(stderr(&out).contains("was refused"), "{}", stderr(&out));
    // --server: the cluster's CA is kept (here: none, so the fake's certificate is unknown).
    let out = run(&["--server", &cluster.url(), "--user", "right"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("unable to connect to the server {}: its certificate is signed by a certificate authority this kubeconfig does not trust", cluster.url()))
            && err.contains("--certificate-authority"),
        "{err}"
    );
    assert!(!err.contains("UnknownIssuer"), "{err}");
    ok(&[
        "--server",
        &cluster.url(),
        "--user",
        "right",
        "--certificate-authority",
        ca,
    ]);
    ok(&[
        "--server",
        &cluster.url(),
        "--user",
        "right",
        "--insecure-skip-tls-verify",
    ]);
    // --token replaces the user's credentials; a wrong one is refused, and shown nowhere.
    ok(&[
        "--context",
        "works",
        "--user",
        "wrong",
        "--token",
        cluster.token(),
    ]);
    let out = run(&["--context", "works", "--token", "s3cr3t-wrong-token"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HTTP 401"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("s3cr3t"), "{}", stderr(&out));
    // Flags alone, no kubeconfig anywhere.
    let out = bare(
        dir.path(),
        &[
            POD,
            "-n",
            "demo",
            "--server",
            &cluster.url(),
            "--token",
            cluster.token(),
            "--certificate-authority",
            ca,
            "--restart-check",
            "0",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A --user, --cluster or --context that is not there is named, with what there is.
    for (flag, want) in [
        (
            "--context",
            "context \"nosuch\" (--context) is not in kubeconfig",
        ),
        (
            "--cluster",
            "cluster \"nosuch\" (--cluster) is not in kubeconfig",
        ),
        ("--user", "user \"nosuch\" (--user) is not in kubeconfig"),
    ] {
        let out = run(&[flag, "nosuch"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains(want) && stderr(&out).contains(kc),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn as_and_as_group_impersonate_as_kubectl_does() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[
        POD,
        "-n",
        "demo",
        "--as",
        "alice",
        "--as-group",
        "g1",
        "--as-group",
        "g2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = cluster.requests();
    let ours: Vec<_> = requests
        .iter()
        .filter(|r| {
            r.user_agent
                .as_deref()
                .is_some_and(|a| a.starts_with("kubectl-checkpoint/"))
        })
        .collect();
    assert!(!ours.is_empty());
    for request in &ours {
        assert_eq!(
            request.impersonate_user.as_deref(),
            Some("alice"),
            "{}",
            request.path_and_query
        );
        assert_eq!(
            request.impersonate_groups,
            ["g1", "g2"],
            "{}",
            request.path_and_query
        );
    }
    // Without the flags: no impersonation.
    let before = cluster.requests().len();
    assert!(plugin.run(&[POD, "-n", "demo"]).status.success());
    assert!(cluster.requests()[before..]
        .iter()
        .all(|r| r.impersonate_user.is_none() && r.impersonate_groups.is_empty()));
}

#[test]
fn v_logs_each_request_and_never_a_credential() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "-v=6", "--restart-check", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "GET {}/api/v1/namespaces/demo/pods/{POD} 200 OK in ",
            cluster.url()
        )) && err.contains(&format!(
            "POST {}/api/v1/nodes/node-a/proxy/checkpoint/demo/{POD}/counter 200 OK in ",
            cluster.url()
        )) && err.contains("Config loaded from file: "),
        "{err}"
    );
    assert!(err.lines().all(|l| l.starts_with('I')), "{err}");
    assert!(!err.contains("Request Headers"), "{err}");
    // -v=9 adds the headers, still without the token.
    let out = plugin.run(&[POD, "-n", "demo", "--v", "9", "--restart-check", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Request Headers:") && err.contains("user-agent: kubectl-checkpoint/"),
        "{err}"
    );
    assert!(
        !err.contains(cluster.token()) && !err.to_lowercase().contains("authorization"),
        "{err}"
    );
    // Nothing without -v.
    let out = plugin.run(&[POD, "-n", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).lines().any(|l| l.starts_with('I')),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_server_that_never_answers_is_given_up_on_clearly() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    // TLS and HTTP work, the answer never comes: --request-timeout ends it.
    cluster.set_fault(Fault::HangRequests);
    let started = std::time::Instant::now();
    let out = plugin.run(&[POD, "-n", "demo", "--request-timeout", "1s"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "getting pod demo/{POD}: no answer from the server {} within 1 s (--request-timeout)",
            cluster.url()
        )),
        "{}",
        stderr(&out)
    );
    cluster.clear_faults();

    // Connections taken, not a byte back: connecting gives up (2 s here, 10 s by default).
    let silent = crate::support::fake_apiserver::SilentServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\n",
            silent.url()
        ),
    )
    .unwrap();
    let kc = kubeconfig.to_str().unwrap();
    for (extra, limit, within) in [
        (&["--request-timeout", "2s"][..], 8, "2 s"),
        (&[][..], 20, "10 s"),
    ] {
        let started = std::time::Instant::now();
        let mut args = vec!["pod/x", "-n", "demo", "--kubeconfig", kc];
        args.extend_from_slice(extra);
        let out = bare(dir.path(), &args);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(limit), "{took:?}");
        assert_eq!(out.status.code(), Some(2));
        // With --request-timeout as long as connecting may take, either limit may end it.
        let connect = format!(
            "unable to connect to the server {}: no answer within {within} (TCP connect and TLS handshake)",
            silent.url()
        );
        let request = format!(
            "no answer from the server {} within {within} (--request-timeout)",
            silent.url()
        );
        let err = stderr(&out);
        assert!(
            err.contains(&connect) || (!extra.is_empty() && err.contains(&request)),
            "{err}"
        );
    }
}

#[test]
fn kubeconfig_problems_are_said_as_kubectl_says_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let no_library = |err: &str| {
        for internal in [
            "failed to infer config",
            "in-cluster",
            "failed to read kubeconfig from",
            "\\\"",
        ] {
            assert!(!err.contains(internal), "{internal}: {err}");
        }
    };
    let out = bare(home, &["pod/x", "--kubeconfig", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: kubeconfig /nonexistent: no such file\n"
    );
    let out = Command::new(BIN)
        .args(["pod/x"])
        .env("HOME", home)
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("no kubeconfig: none of the files KUBECONFIG names exists (/nonexistent)")
            && !err.contains("set KUBECONFIG"),
        "{err}"
    );
    no_library(&err);
    let out = bare(home, &["pod/x"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "no kubeconfig: {}/.kube/config does not exist and KUBECONFIG is not set",
            home.display()
        )),
        "{err}"
    );
    no_library(&err);
    let broken = home.join("broken");
    std::fs::write(&broken, "clusters: [[[").unwrap();
    let out = bare(home, &["pod/x", "--kubeconfig", broken.to_str().unwrap()]);
    assert!(
        stderr(&out).contains(&format!(
            "kubeconfig {} is not a valid kubeconfig",
            broken.display()
        )),
        "{}",
        stderr(&out)
    );
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[POD, "-n", "demo", "--context", "nosuch"]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: context \"nosuch\" (--context) is not in kubeconfig {} (it has: fake)\n",
            plugin.kubeconfig.display()
        )
    );
}

#[test]
fn the_overview_fits_80_and_100_columns_without_cutting_names() {
    let cluster = cluster();
    let plugin = Plugin::new(&cluster);
    let archive = fixture();
    let archive = archive.to_str().unwrap();
    for columns in [80u16, 100] {
        let terminal =
            plugin.on_terminal_of_width(&["analyze", "--local", archive, archive], columns);
        let (status, screen) = terminal.finish();
        assert!(status.success(), "{screen}");
        let rows: Vec<&str> = screen
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| l.contains("8.8 MiB"))
            .collect();
        assert_eq!(rows.len(), 2, "{screen}");
        for row in rows {
            assert!(
                row.chars().count() <= usize::from(columns),
                "{columns}: {row}"
            );
            // The pod and the time whole; the path may give way.
            assert!(
                row.contains(&format!("{POD}/counter   2023-08-24 11:24:18"))
                    || row.contains(&format!("{POD}/counter   demo")),
                "{columns}: {row}"
            );
        }
    }
}

//! `kubectl checkpoint completion`: the real kubectl completes `kubectl checkpoint ...` through
//! the `kubectl_complete-checkpoint` helper we write, and the real bash, zsh and fish complete
//! `kubectl-checkpoint ...` through our scripts: verbs and flags from the clap definition, names
//! (namespaces, contexts, pods, workloads, containers, nodes, archives) from the fake cluster.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use crate::support::fake_apiserver::{FakeCluster, PodSpec};
use crate::support::plugin::{stderr, Plugin};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-checkpoint");

fn run_plugin(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn bash_script_parses() {
    let script = stdout_of(&run_plugin(&["completion", "bash"]));
    assert!(script.contains("kubectl-checkpoint"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubectl-checkpoint.bash");
    fs::write(&path, script).unwrap();
    let status = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(status.success(), "bash -n rejects the script");
}

#[test]
fn a_shell_is_required() {
    let out = run_plugin(&["completion"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<SHELL>"));
    let out = run_plugin(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A PATH holding the plugin and its kubectl completion helper, as an operator installs them.
fn plugin_path(dir: &Path) -> String {
    symlink(BIN, dir.join("kubectl-checkpoint")).unwrap();
    let helper = dir.join("kubectl_complete-checkpoint");
    fs::write(&helper, stdout_of(&run_plugin(&["completion", "kubectl"]))).unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:/usr/local/bin:/usr/bin:/bin", dir.display())
}

fn kubectl_complete(dir: &Path, path: &str, words: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("__complete")
        .args(words)
        .env("PATH", path)
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .output()
        .expect("kubectl is installed (.ci/run installs it)");
    stdout_of(&out)
}

#[test]
fn real_kubectl_completes_plugin_verbs_and_flag_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin_path(dir.path());

    let got = kubectl_complete(dir.path(), &path, &["checkpoint", "an"]);
    let lines: Vec<&str> = got.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("analyze\t")), "{got}");
    assert!(!lines.iter().any(|l| l.starts_with("fetch")), "{got}");

    let got = kubectl_complete(dir.path(), &path, &["checkpoint", "analyze", "-o", ""]);
    let words: Vec<&str> = got
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default())
        .collect();
    assert_eq!(
        words,
        ["table", "wide", "tree", "json", "yaml", ":4"],
        "{got}"
    );

    let got = kubectl_complete(dir.path(), &path, &["checkpoint", "completion", "f"]);
    assert!(got.lines().any(|l| l.starts_with("fish")), "{got}");
}

/// A cluster with names to complete, a kubeconfig for it, and a PATH holding the plugin.
struct Names {
    cluster: FakeCluster,
    plugin: Plugin,
    path: String,
}

fn names() -> Names {
    let cluster = FakeCluster::builder()
        .node("node-a")
        .node("node-b")
        .pod_with(PodSpec::new("demo", "web-1", "node-a", &["app", "sidecar"]).label("app", "web"))
        .pod("demo", "db-0", "node-b", &["db"])
        .pod("shop", "cart-0", "node-a", &["cart"])
        .deployment("demo", "web", &[("app", "web")])
        .start();
    let plugin = Plugin::new(&cluster);
    let path = plugin_path(plugin.dir.path());
    Names {
        cluster,
        plugin,
        path,
    }
}

impl Names {
    /// An environment where the shells and kubectl find the plugin and the cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("PATH", &self.path)
            .env("HOME", self.plugin.dir.path())
            .env("XDG_CACHE_HOME", self.plugin.dir.path().join("cache"))
            .env("KUBECONFIG", &self.plugin.kubeconfig)
            .current_dir(self.plugin.dir.path());
        command
    }

    /// `kubectl-checkpoint list ARGS` in the same environment (its cache is the completion's).
    fn list(&self, args: &[&str]) -> std::process::Output {
        self.command(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
            .arg("list")
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// The words `kubectl __complete checkpoint WORDS` offers.
    fn kubectl(&self, words: &[&str]) -> Vec<String> {
        let out = self
            .command("kubectl")
            .arg("__complete")
            .arg("checkpoint")
            .args(words)
            .output()
            .unwrap();
        words_of(&stdout_of(&out))
    }
}

/// The candidate words of completion output (descriptions and the directive dropped).
fn words_of(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with(':') && !l.is_empty())
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

fn has(words: &[String], want: &[&str]) -> bool {
    want.iter().all(|w| words.iter().any(|x| x == w))
}

#[test]
fn real_kubectl_completes_names_from_the_cluster() {
    let n = names();
    let got = n.kubectl(&["-n", ""]);
    assert!(has(&got, &["demo", "shop"]), "{got:?}");
    let got = n.kubectl(&["--context", ""]);
    assert_eq!(got, ["fake"]);
    // TARGET: the namespace's pods, the kind prefixes, and the verbs.
    let got = n.kubectl(&["-n", "demo", ""]);
    assert!(
        has(&got, &["web-1", "db-0", "deploy/", "pod/", "list"]),
        "{got:?}"
    );
    assert!(!got.contains(&"cart-0".to_string()), "{got:?}");
    let got = n.kubectl(&["-n", "demo", "deploy/"]);
    assert_eq!(got, ["deploy/web"]);
    let got = n.kubectl(&["-n", "demo", "pod/w"]);
    assert_eq!(got, ["pod/web-1"]);
    // -c: the containers of the pod already typed.
    let got = n.kubectl(&["-n", "demo", "web-1", "-c", ""]);
    assert_eq!(got, ["app", "sidecar"]);
    let got = n.kubectl(&["analyze", "-n", "shop", ""]);
    assert_eq!(
        got,
        ["cart-0", "pod/", "deploy/", "sts/", "ds/", "rs/", "job/"]
    );
    let got = n.kubectl(&["list", "--node", ""]);
    assert_eq!(got, ["node-a", "node-b"]);
}

#[test]
fn archives_complete_from_what_list_saw_and_completion_never_makes_a_pod() {
    let n = names();
    let out = n.plugin.run(&["-n", "demo", "web-1", "-c", "app"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let helpers = |cluster: &FakeCluster| {
        cluster
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path().ends_with("/pods"))
            .count()
    };

    // No `list` yet: nothing to offer, and no helper pod for a TAB.
    assert!(n.kubectl(&["fetch", ""]).is_empty());
    assert!(n.kubectl(&["delete", "node-a:"]).is_empty());
    assert_eq!(helpers(&n.cluster), 0, "completion created a pod");

    // An explicit `list` remembers what it saw (whatever its -n: archives are the nodes').
    let out = n.list(&["-n", "shop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = helpers(&n.cluster);
    assert_eq!(listed, 2, "one helper per node for the listing");
    let got = n.kubectl(&["fetch", ""]);
    assert_eq!(got, std::slice::from_ref(&source));
    let got = n.kubectl(&["delete", "node-a:"]);
    assert_eq!(got, std::slice::from_ref(&source));
    assert_eq!(helpers(&n.cluster), listed, "completion created a pod");
    let cache_dir = n.plugin.dir.path().join("cache/kubectl-checkpoint");
    for entry in fs::read_dir(&cache_dir).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn bash_completes_through_the_plugin() {
    let n = names();
    let script = stdout_of(&run_plugin(&["completion", "bash"]));
    let complete = |line: &str, comp_words: &str, cword: usize| -> Vec<String> {
        let program = format!(
            "source /dev/stdin <<<\"$SCRIPT\"\n\
             COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}; COMP_WORDS=({comp_words}); COMP_CWORD={cword}\n\
             _kubectl_checkpoint; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = n
            .command("bash")
            .arg("-c")
            .arg(program)
            .env("SCRIPT", &script)
            .output()
            .unwrap();
        stdout_of(&out).lines().map(str::to_string).collect()
    };
    let got = complete("kubectl-checkpoint -n ", "kubectl-checkpoint -n ''", 2);
    assert!(has(&got, &["demo", "shop"]), "{got:?}");
    let got = complete("kubectl-checkpoint an", "kubectl-checkpoint an", 1);
    assert_eq!(got, ["analyze"]);
    let got = complete(
        "kubectl-checkpoint -n demo web-1 -c s",
        "kubectl-checkpoint -n demo web-1 -c s",
        5,
    );
    assert_eq!(got, ["sidecar"]);

    // bash splits NODE:PATH at the colon: the reply replaces only what follows it.
    let out = n.plugin.run(&["-n", "demo", "db-0"]);
    let source = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(n.list(&["-A"]).status.success());
    let path = source.strip_prefix("node-b:").unwrap();
    let got = complete(
        "kubectl-checkpoint fetch node-b:",
        "kubectl-checkpoint fetch node-b :",
        3,
    );
    assert_eq!(got, [format!(":{path}")]);
    let got = complete(
        "kubectl-checkpoint fetch node-b:/var",
        "kubectl-checkpoint fetch node-b : /var",
        4,
    );
    assert_eq!(got, [path.to_string()]);
}

#[test]
fn zsh_completes_through_the_plugin() {
    let n = names();
    let script = stdout_of(&run_plugin(&["completion", "zsh"]));
    assert!(script.starts_with("#compdef kubectl-checkpoint"));
    // zsh's completion system is replaced by stubs that print what would be offered.
    let program = "compdef() { :; }\n\
         _describe() { print -rl -- \"${(@P)2}\"; }\n\
         _files() { print FILES; }\n\
         eval \"$SCRIPT\"\n\
         words=(kubectl-checkpoint -n demo web-1 -c ''); CURRENT=6; _kubectl-checkpoint\n\
         words=(kubectl-checkpoint fet); CURRENT=2; _kubectl-checkpoint\n\
         words=(kubectl-checkpoint decode ''); CURRENT=3; _kubectl-checkpoint";
    let out = n
        .command("zsh")
        .arg("-f")
        .arg("-c")
        .arg(program)
        .env("SCRIPT", &script)
        .output()
        .unwrap();
    let got = stdout_of(&out);
    let lines: Vec<&str> = got.lines().collect();
    for container in ["app", "sidecar"] {
        assert!(
            lines
                .iter()
                .any(|l| *l == container || l.starts_with(&format!("{container}:"))),
            "{got}"
        );
    }
    assert!(lines.iter().any(|l| l.starts_with("fetch:Copy")), "{got}");
    assert_eq!(lines.last(), Some(&"FILES"), "{got}");
}

#[test]
fn fish_completes_through_the_plugin() {
    let n = names();
    let dir = n.plugin.dir.path().join("fish");
    fs::create_dir_all(&dir).unwrap();
    let script = dir.join("kubectl-checkpoint.fish");
    fs::write(&script, stdout_of(&run_plugin(&["completion", "fish"]))).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let out = n
            .command("fish")
            .arg("--no-config")
            .arg("-c")
            .arg(format!("source {}; complete -C {line:?}", script.display()))
            .output()
            .unwrap();
        words_of(&stdout_of(&out))
    };
    let got = complete("kubectl-checkpoint -n ");
    assert!(has(&got, &["demo", "shop"]), "{got:?}");
    let got = complete("kubectl-checkpoint -n demo deploy/");
    assert_eq!(got, ["deploy/web"]);
    let got = complete("kubectl-checkpoint list --node node-");
    assert_eq!(got, ["node-a", "node-b"]);
}

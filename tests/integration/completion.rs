//! `kubectl checkpoint completion`: the shell scripts parse, and the real kubectl completes
//! `kubectl checkpoint ...` through the `kubectl_complete-checkpoint` helper we write.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

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
fn zsh_and_fish_scripts_complete_the_binary() {
    let zsh = stdout_of(&run_plugin(&["completion", "zsh"]));
    assert!(zsh.starts_with("#compdef kubectl-checkpoint"), "{zsh:.80}");
    let fish = stdout_of(&run_plugin(&["completion", "fish"]));
    for verb in ["analyze", "fetch", "coredump", "completion"] {
        assert!(
            fish.contains(&format!("-a \"{verb}\"")),
            "fish script lacks {verb}"
        );
    }
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
    assert_eq!(words, ["table", "tree", "json", "yaml", ":4"], "{got}");

    let got = kubectl_complete(dir.path(), &path, &["checkpoint", "completion", "f"]);
    assert!(got.lines().any(|l| l.starts_with("fish")), "{got}");
}

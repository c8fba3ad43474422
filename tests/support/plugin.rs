//! Runs our binary against a fake cluster: a temp HOME and kubeconfig per test, `timeout` so a
//! hang fails, and helpers to read what it printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::fake_apiserver::FakeCluster;
use super::terminal::Terminal;

/// Seconds one run of the plugin may take.
const TIMEOUT_SECS: &str = "90";

/// The CRI-O fixture the fake kubelet copies on checkpoint.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar",
    )
}

/// A temp HOME and working directory with a kubeconfig for one fake cluster.
pub struct Plugin {
    /// Temp HOME and working directory.
    pub dir: tempfile::TempDir,
    /// The kubeconfig written for the cluster.
    pub kubeconfig: PathBuf,
}

impl Plugin {
    /// A kubeconfig for `cluster` in a fresh temp dir.
    pub fn new(cluster: &FakeCluster) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = cluster.write_kubeconfig(dir.path());
        Self { dir, kubeconfig }
    }

    /// The command, run in the temp dir with `--kubeconfig` appended.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.arg(TIMEOUT_SECS)
            .arg(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The command without `timeout` in between, so that signals and the terminal reach the
    /// plugin itself.
    fn direct_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"));
        cmd.args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG");
        cmd
    }

    /// Starts without waiting (stdout and stderr piped).
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut cmd = self.direct_command(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    }

    /// `kubectl checkpoint ARGS` through the real kubectl's plugin mechanism: the binary on PATH
    /// as `kubectl-checkpoint`, the kubeconfig in `$KUBECONFIG` (nothing appended, so the words
    /// reach the plugin as typed).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with_env(args, &[])
    }

    /// [`Plugin::kubectl`] with more environment variables (e.g. another `KUBECONFIG`).
    pub fn kubectl_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let bin = self.dir.path().join("bin");
        if !bin.join("kubectl-checkpoint").exists() {
            std::fs::create_dir_all(&bin).unwrap();
            std::os::unix::fs::symlink(
                env!("CARGO_BIN_EXE_kubectl-checkpoint"),
                bin.join("kubectl-checkpoint"),
            )
            .unwrap();
        }
        let mut cmd = Command::new("timeout");
        cmd.arg(TIMEOUT_SECS)
            .arg("/usr/bin/kubectl")
            .arg("checkpoint")
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .stdin(Stdio::null());
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().unwrap()
    }

    /// Starts on a pseudo-terminal `cols` columns wide.
    pub fn on_terminal_of_width(&self, args: &[&str], cols: u16) -> Terminal {
        Terminal::spawn_sized(self.direct_command(args), cols)
    }

    /// Starts on a pseudo-terminal, to answer its prompts.
    pub fn on_terminal(&self, args: &[&str]) -> Terminal {
        Terminal::spawn(self.direct_command(args))
    }
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The checkpoint POSTs the fake kubelet received (path and query), in order.
pub fn checkpoint_posts(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path().contains("/proxy/checkpoint/"))
        .map(|r| r.path_and_query)
        .collect()
}

/// The commands helper pods were asked to exec, arguments joined by spaces, in order.
pub fn exec_commands(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/exec"))
        .map(|r| r.query_values("command").join(" "))
        .collect()
}

/// Helper pods the plugin created that still exist.
pub fn helper_pods(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .pods()
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .filter(|n| n.starts_with("kubectl-checkpoint-helper-"))
        .collect()
}

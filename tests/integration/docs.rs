//! The documentation stays true to the code.
//!
//! - docs/cli.md and the man pages under docs/man/ are generated from the clap definition by the
//!   binary's own tests (src/cli/reference.rs), which fail when the files differ.
//! - Every relative link between the Markdown files points at a file that exists.
//! - The commands of docs/getting-started.md that need no cluster (fenced blocks opened with
//!   ` ```sh no-cluster `) run through the real kubectl's plugin mechanism, each must exit 0, and
//!   the output of each block must contain every fact of the `<!-- expect: a | b -->` line that
//!   follows it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The exit status of an error that stopped the verb, as documented (docs/cli.md).
const EXIT_ERROR: u8 = 2;

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Relative link targets of a Markdown text: `](target)`, without any `#fragment`.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        rest = &rest[end..];
        if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
            continue;
        }
        let path = target.split('#').next().unwrap_or_default();
        if !path.is_empty() {
            links.push(path.to_string());
        }
    }
    links
}

#[test]
fn relative_links_resolve() {
    let mut files = vec![repo_path("README.md"), repo_path("CHANGELOG.md")];
    for entry in fs::read_dir(repo_path("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut broken = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for link in relative_links(&text) {
            let target = file.parent().unwrap().join(&link);
            if !target.exists() {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn link_scanner_finds_relative_links_only() {
    let text = "see [a](docs/a.md#x), [b](https://x.test/y), [c](#top) and [d](../d.md).";
    assert_eq!(relative_links(text), ["docs/a.md", "../d.md"]);
}

/// A fenced block of commands that need no cluster, and the facts its output must contain.
#[derive(Debug)]
struct NoClusterBlock {
    /// 1-based line of the opening fence.
    line: usize,
    /// The commands, `\` continuations joined.
    commands: Vec<String>,
    /// Strings the combined stdout of the commands must contain.
    expect: Vec<String>,
}

fn decode_no_cluster_blocks(markdown: &str) -> Vec<NoClusterBlock> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```sh no-cluster" {
            i += 1;
            continue;
        }
        let line = i + 1;
        let mut commands = Vec::new();
        let mut pending = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            let text = lines[i].trim();
            i += 1;
            if pending.is_empty() && (text.is_empty() || text.starts_with('#')) {
                continue;
            }
            if let Some(head) = text.strip_suffix('\\') {
                pending.push_str(head.trim_end());
                pending.push(' ');
            } else {
                pending.push_str(text);
                commands.push(std::mem::take(&mut pending));
            }
        }
        i += 1;
        let expect = lines
            .get(i)
            .and_then(|l| l.trim().strip_prefix("<!-- expect:"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|l| l.split('|').map(|f| f.trim().to_string()).collect())
            .unwrap_or_default();
        blocks.push(NoClusterBlock {
            line,
            commands,
            expect,
        });
    }
    blocks
}

#[test]
fn no_cluster_block_decoder() {
    let text = "x\n```sh no-cluster\n# c\nkubectl a \\\n  --b\n\nkubectl c\n```\n<!-- expect: one | two -->\n```sh\nnot run\n```\n";
    let blocks = decode_no_cluster_blocks(text);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].line, 2);
    assert_eq!(blocks[0].commands, ["kubectl a --b", "kubectl c"]);
    assert_eq!(blocks[0].expect, ["one", "two"]);
}

/// Runs the no-cluster commands of `doc` as an operator would: `kubectl` is the real kubectl, which
/// finds the plugin on PATH; the working directory sees the repository's `tests/` (the sample),
/// and there is no kubeconfig.
fn run_no_cluster_blocks(doc: &str) -> Vec<NoClusterBlock> {
    let markdown = fs::read_to_string(repo_path(doc)).unwrap();
    let blocks = decode_no_cluster_blocks(&markdown);
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    let work = home.path().join("work");
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kubectl-checkpoint"),
        bin.join("kubectl-checkpoint"),
    )
    .unwrap();
    std::os::unix::fs::symlink(repo_path("tests"), work.join("tests")).unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());

    for block in &blocks {
        assert!(
            !block.expect.is_empty(),
            "{doc}:{}: a no-cluster block needs an `<!-- expect: ... -->` line after it",
            block.line
        );
        let mut stdout = String::new();
        for command in &block.commands {
            let out = Command::new("bash")
                .arg("-c")
                .arg(command)
                .current_dir(&work)
                .env("PATH", &path)
                .env("HOME", home.path())
                .env("KUBECONFIG", home.path().join("no-kubeconfig"))
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{doc}:{}: `{command}` exited with {:?}:\n{}",
                block.line,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        for fact in &block.expect {
            assert!(
                stdout.contains(fact.as_str()),
                "{doc}:{}: the output lacks {fact:?}:\n{stdout}",
                block.line
            );
        }
    }
    blocks
}

#[test]
fn getting_started_commands_without_a_cluster_work() {
    let blocks = run_no_cluster_blocks("docs/getting-started.md");
    assert!(blocks.len() >= 3, "no-cluster blocks: {blocks:?}");
    let commands: Vec<&String> = blocks.iter().flat_map(|b| &b.commands).collect();
    for verb in ["--version", "analyze", "decode", "coredump"] {
        assert!(
            commands
                .iter()
                .any(|c| c.starts_with(&format!("kubectl checkpoint {verb}"))),
            "the guide runs `kubectl checkpoint {verb}` (as kubectl runs the plugin): {commands:?}"
        );
    }
    assert!(
        commands.iter().any(|c| c.contains(" --search ")),
        "the guide finds a secret with analyze --search: {commands:?}"
    );
}

fn run_plugin(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"));
    command.args(args).env_remove("NO_COLOR");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn usage_errors_exit_2_as_documented() {
    let out = run_plugin(&["--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(i32::from(EXIT_ERROR)));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
    let out = run_plugin(&["analyze"], &[]);
    assert_eq!(out.status.code(), Some(i32::from(EXIT_ERROR)));
}

/// Runs the plugin under a pseudo-terminal (util-linux `script`), so that it sees a TTY.
fn run_on_tty(args: &str, no_color: bool) -> String {
    let mut command = Command::new("script");
    command
        .args([
            "-qec",
            &format!("{} {args}", env!("CARGO_BIN_EXE_kubectl-checkpoint")),
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color");
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let out = command.output().expect("util-linux script is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_only_on_a_tty_and_never_with_no_color() {
    const ESC: char = '\u{1b}';
    let tty = run_on_tty("--help", false);
    assert!(tty.contains("Usage"), "{tty}");
    assert!(tty.contains(ESC), "help on a terminal is coloured");
    let tty_no_color = run_on_tty("--help", true);
    assert!(tty_no_color.contains("Usage"), "{tty_no_color}");
    assert!(
        !tty_no_color.contains(ESC),
        "NO_COLOR turns colour off: {tty_no_color:?}"
    );
    let piped = run_plugin(&["--help"], &[]);
    assert!(
        !String::from_utf8_lossy(&piped.stdout).contains(ESC),
        "no colour into a pipe"
    );
}

#[test]
fn forensics_walkthrough_commands_work() {
    let blocks = run_no_cluster_blocks("docs/forensics-walkthrough.md");
    let commands: Vec<&String> = blocks.iter().flat_map(|b| &b.commands).collect();
    for step in [
        "kubectl checkpoint decode",
        "kubectl checkpoint analyze --local tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar --search ",
        "kubectl checkpoint coredump",
        "gdb ",
        "kubectl checkpoint analyze --local tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar --secrets",
        "kubectl checkpoint analyze --local tests/fixtures/crio-secrets/",
    ] {
        assert!(
            commands.iter().any(|c| c.starts_with(step)),
            "the walkthrough runs `{step}`: {commands:?}"
        );
    }
}

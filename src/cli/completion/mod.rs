//! `kubectl checkpoint completion SHELL`: shell completion scripts, and the completion helper
//! kubectl itself calls for `kubectl checkpoint <TAB>`.
//!
//! Every way in ends in the same place, `--complete-words`, so bash, zsh, fish and kubectl all
//! offer the same words:
//! - `completion bash|zsh|fish` writes a small script (under `completion/`) for the binary's own
//!   name, `kubectl-checkpoint`, that calls back with the words typed so far.
//! - `completion kubectl` writes `kubectl_complete-checkpoint`, the executable that kubectl (1.26
//!   and later) looks for on PATH to complete a plugin's arguments. kubectl runs it with the words
//!   after `kubectl checkpoint`, the last one being the word under the cursor (empty when none),
//!   and reads one candidate per line, `WORD<TAB>DESCRIPTION`, then `:DIRECTIVE` (cobra's shell
//!   completion directive).
//!
//! `--complete-words` reads the words against the clap definition ([`walk`]): verbs, flags
//! and flag values come from clap ([`build_completions`]); names come from the cluster
//! ([`cluster`]): namespaces, contexts, pods and workloads, containers, nodes and archives.

mod cluster;
mod walk;

use std::io::Write;

use clap::{Args, CommandFactory, ValueEnum};

use super::{Cli, Outcome};
use crate::Error;
use cluster::collect_cluster_candidates;
pub(super) use cluster::remember_archives;
use walk::{build_walk, Slot};

/// Arguments of `kubectl checkpoint completion`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # bash: load for this shell, or install for all sessions
  source <(kubectl-checkpoint completion bash)
  kubectl-checkpoint completion bash \\
      > ~/.local/share/bash-completion/completions/kubectl-checkpoint

  # zsh: put the script on $fpath
  kubectl-checkpoint completion zsh > \"${fpath[1]}/_kubectl-checkpoint\"

  # fish
  kubectl-checkpoint completion fish \\
      > ~/.config/fish/completions/kubectl-checkpoint.fish

  # kubectl checkpoint <TAB> (kubectl 1.26+): a helper next to the plugin
  kubectl checkpoint completion kubectl \\
      > ~/.local/bin/kubectl_complete-checkpoint
  chmod +x ~/.local/bin/kubectl_complete-checkpoint")]
pub struct CompletionArgs {
    /// The shell to write a script for; `kubectl` writes the kubectl_complete-checkpoint helper.
    #[arg(value_enum, required_unless_present = "complete_words")]
    pub shell: Option<CompletionShell>,
    /// Print the completions of WORDS in kubectl's plugin completion protocol.
    #[arg(long, hide = true, requires = "words")]
    pub complete_words: bool,
    /// The words after `kubectl checkpoint`; the last one is the word being completed.
    #[arg(last = true, allow_hyphen_values = true, hide = true)]
    pub words: Vec<String>,
}

/// Where completion scripts can be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// GNU bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// kubectl's plugin completion: the kubectl_complete-checkpoint executable.
    Kubectl,
}

/// The name completion scripts complete: the binary as it lies on PATH.
const BIN_NAME: &str = "kubectl-checkpoint";

/// cobra's `ShellCompDirectiveDefault`: the shell may also offer file names.
pub const DIRECTIVE_DEFAULT: u8 = 0;
/// cobra's `ShellCompDirectiveNoSpace`: no space after the word (`deploy/` goes on).
pub const DIRECTIVE_NO_SPACE: u8 = 2;
/// cobra's `ShellCompDirectiveNoFileComp`: offer only the candidates given.
pub const DIRECTIVE_NO_FILE_COMP: u8 = 4;

/// Completion candidates for kubectl's plugin completion protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// `(word, description)` pairs, in the order to offer them.
    pub candidates: Vec<(String, String)>,
    /// The cobra shell completion directive.
    pub directive: u8,
}

/// Runs `completion`.
pub fn run(args: CompletionArgs) -> Result<Outcome, Error> {
    if args.complete_words {
        let mut completions = build_completions(&args.words);
        let mut root = Cli::command();
        root.build();
        let walk = build_walk(&root, &args.words);
        let current = args.words.last().map(String::as_str).unwrap_or_default();
        if let Some(found) = collect_cluster_candidates(&walk, current) {
            // The cluster answered for this slot: its names, not file names.
            completions.candidates.extend(found);
            completions.directive = if completions
                .candidates
                .iter()
                .all(|(word, _)| word.ends_with('/'))
                && !completions.candidates.is_empty()
            {
                DIRECTIVE_NO_SPACE | DIRECTIVE_NO_FILE_COMP
            } else {
                DIRECTIVE_NO_FILE_COMP
            };
        }
        crate::stdout::with(|out| render_completions(&completions, out)).map_err(write_error)?;
    } else if let Some(shell) = args.shell {
        crate::stdout::with(|out| render_script(shell, out)).map_err(write_error)?;
    }
    Ok(Outcome::Success)
}

fn write_error(err: std::io::Error) -> Error {
    Error::Output(crate::output::Error::from(err))
}

/// Writes the completion script for `shell`. Each one asks this binary for the candidates
/// (`--complete-words`), so all shells complete the same words, cluster names included.
pub fn render_script(shell: CompletionShell, out: &mut dyn Write) -> std::io::Result<()> {
    let script = match shell {
        CompletionShell::Bash => include_str!("bash.sh"),
        CompletionShell::Zsh => include_str!("zsh.zsh"),
        CompletionShell::Fish => include_str!("fish.fish"),
        CompletionShell::Kubectl => {
            return writeln!(
                out,
                "#!/bin/sh\n\
                 # kubectl_complete-checkpoint: completes `kubectl checkpoint ...` for kubectl 1.26+.\n\
                 # Put it on PATH next to kubectl-checkpoint and make it executable.\n\
                 exec {BIN_NAME} completion --complete-words -- \"$@\""
            );
        }
    };
    out.write_all(script.as_bytes())
}

/// Writes completions in kubectl's plugin protocol: `WORD<TAB>DESCRIPTION` lines, then `:DIRECTIVE`.
pub fn render_completions(completions: &Completions, out: &mut dyn Write) -> std::io::Result<()> {
    for (word, description) in &completions.candidates {
        if description.is_empty() {
            writeln!(out, "{word}")?;
        } else {
            writeln!(out, "{word}\t{description}")?;
        }
    }
    writeln!(out, ":{}", completions.directive)
}

/// Computes the completions of the last of `words` (the words after `kubectl checkpoint`), from
/// the clap definition alone.
pub fn build_completions(words: &[String]) -> Completions {
    let mut root = Cli::command();
    root.build();
    let current = words.last().map(String::as_str).unwrap_or_default();
    let walk = build_walk(&root, words);
    let command = walk
        .verb
        .as_deref()
        .and_then(|verb| root.find_subcommand(verb))
        .unwrap_or(&root);

    match &walk.slot {
        Slot::FlagValue(id) => {
            let arg = command
                .get_arguments()
                .chain(root.get_arguments())
                .find(|arg| arg.get_id() == id.as_str());
            let values = arg
                .map(|arg| value_candidates(arg, current))
                .unwrap_or_default();
            let directive = if arg.is_some_and(|arg| !arg.get_possible_values().is_empty()) {
                DIRECTIVE_NO_FILE_COMP
            } else {
                DIRECTIVE_DEFAULT
            };
            Completions {
                candidates: values,
                directive,
            }
        }
        Slot::Flag => {
            let mut candidates = Vec::new();
            for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
                let help = help_line(arg.get_help());
                if let Some(long) = arg.get_long() {
                    let word = format!("--{long}");
                    if word.starts_with(current) {
                        candidates.push((word, help.clone()));
                    }
                }
                if let Some(short) = arg.get_short() {
                    let word = format!("-{short}");
                    if word.starts_with(current) {
                        candidates.push((word, help));
                    }
                }
            }
            Completions {
                candidates,
                directive: DIRECTIVE_NO_FILE_COMP,
            }
        }
        Slot::Positional { verb, index } => {
            let mut candidates: Vec<(String, String)> = Vec::new();
            if verb.is_none() && *index == 0 {
                candidates.extend(
                    root.get_subcommands()
                        .filter(|sub| !sub.is_hide_set() && sub.get_name().starts_with(current))
                        .map(|sub| (sub.get_name().to_string(), help_line(sub.get_about()))),
                );
            }
            let positionals: Vec<&clap::Arg> = command
                .get_positionals()
                .filter(|arg| !arg.is_hide_set())
                .collect();
            for arg in &positionals {
                candidates.extend(value_candidates(arg, current));
            }
            // Free-form positionals (pods, paths) leave the shell its file names.
            let free_form = positionals
                .iter()
                .any(|arg| arg.get_possible_values().is_empty());
            Completions {
                candidates,
                directive: if free_form {
                    DIRECTIVE_DEFAULT
                } else {
                    DIRECTIVE_NO_FILE_COMP
                },
            }
        }
    }
}

fn value_candidates(arg: &clap::Arg, current: &str) -> Vec<(String, String)> {
    arg.get_possible_values()
        .into_iter()
        .filter(|value| !value.is_hide_set() && value.get_name().starts_with(current))
        .map(|value| (value.get_name().to_string(), help_line(value.get_help())))
        .collect()
}

fn help_line(help: Option<&clap::builder::StyledStr>) -> String {
    help.map(|text| {
        let text = text.to_string();
        text.lines()
            .next()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_string()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> Vec<String> {
        line.iter().map(|w| w.to_string()).collect()
    }

    fn names(completions: &Completions) -> Vec<&str> {
        completions
            .candidates
            .iter()
            .map(|(word, _)| word.as_str())
            .collect()
    }

    #[test]
    fn completes_verbs_and_flags_from_the_clap_definition() {
        // (words after `kubectl checkpoint`, expected candidates that must appear, directive)
        let cases: &[(&[&str], &[&str], u8)] = &[
            (&["an"], &["analyze"], DIRECTIVE_DEFAULT),
            (&["co"], &["completion", "coredump"], DIRECTIVE_DEFAULT),
            (
                &["completion", ""],
                &["bash", "zsh", "fish", "kubectl"],
                DIRECTIVE_NO_FILE_COMP,
            ),
            (&["completion", "z"], &["zsh"], DIRECTIVE_NO_FILE_COMP),
            (&["analyze", "--lo"], &["--local"], DIRECTIVE_NO_FILE_COMP),
            (
                &["analyze", "-o", ""],
                &["table", "tree", "json", "yaml"],
                DIRECTIVE_NO_FILE_COMP,
            ),
            (
                &["analyze", "--output", "j"],
                &["json"],
                DIRECTIVE_NO_FILE_COMP,
            ),
            (
                &["fetch", "--kube"],
                &["--kubeconfig"],
                DIRECTIVE_NO_FILE_COMP,
            ),
            (&["fetch", "--kubeconfig", ""], &[], DIRECTIVE_DEFAULT),
            (
                &["--con"],
                &["--container", "--context"],
                DIRECTIVE_NO_FILE_COMP,
            ),
        ];
        for (line, want, directive) in cases {
            let got = build_completions(&words(line));
            for word in *want {
                assert!(
                    names(&got).contains(word),
                    "{line:?}: {word} missing from {got:?}"
                );
            }
            assert_eq!(got.directive, *directive, "{line:?}: {got:?}");
        }
    }

    #[test]
    fn offers_only_candidates_with_the_typed_prefix() {
        let got = build_completions(&words(&["completion", "b"]));
        assert_eq!(names(&got), ["bash"]);
        let got = build_completions(&words(&["analyze", "-o", "y"]));
        assert_eq!(names(&got), ["yaml"]);
        let got = build_completions(&words(&["zzz-no-such"]));
        assert!(got.candidates.is_empty(), "{got:?}");
    }

    #[test]
    fn hidden_flags_are_not_offered() {
        let got = build_completions(&words(&["completion", "--"]));
        assert!(!names(&got).contains(&"--complete-words"), "{got:?}");
    }

    #[test]
    fn no_words_completes_the_verbs() {
        let got = build_completions(&[]);
        for verb in [
            "fetch",
            "list",
            "delete",
            "analyze",
            "decode",
            "coredump",
            "completion",
        ] {
            assert!(names(&got).contains(&verb), "{verb}: {got:?}");
        }
    }

    #[test]
    fn renders_kubectl_protocol_lines() {
        let completions = Completions {
            candidates: vec![
                ("analyze".to_string(), "Analyse a checkpoint".to_string()),
                ("x".to_string(), String::new()),
            ],
            directive: DIRECTIVE_NO_FILE_COMP,
        };
        let mut out = Vec::new();
        render_completions(&completions, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "analyze\tAnalyse a checkpoint\nx\n:4\n"
        );
    }

    #[test]
    fn scripts_name_the_binary() {
        for (shell, marker) in [
            (CompletionShell::Bash, "complete -F"),
            (CompletionShell::Zsh, "#compdef kubectl-checkpoint"),
            (CompletionShell::Fish, "complete -c kubectl-checkpoint"),
            (
                CompletionShell::Kubectl,
                "exec kubectl-checkpoint completion --complete-words --",
            ),
        ] {
            let mut out = Vec::new();
            render_script(shell, &mut out).unwrap();
            let script = String::from_utf8(out).unwrap();
            assert!(script.contains(marker), "{shell:?}: {marker} not in script");
        }
    }
}

//! `kubectl checkpoint completion SHELL`: shell completion scripts, and the completion helper
//! kubectl itself calls for `kubectl checkpoint <TAB>`.
//!
//! Two ways in:
//! - `completion bash|zsh|fish` writes a clap_complete script that completes the binary's own
//!   name, `kubectl-checkpoint`.
//! - `completion kubectl` writes `kubectl_complete-checkpoint`, the executable that kubectl (1.26
//!   and later) looks for on PATH to complete a plugin's arguments. kubectl runs it with the words
//!   after `kubectl checkpoint`, the last one being the word under the cursor (empty when none),
//!   and reads one candidate per line, `WORD<TAB>DESCRIPTION`, then `:DIRECTIVE` (cobra's shell
//!   completion directive). The helper calls back into this binary (`--complete-words`), so its
//!   answers always follow the clap definition. No cluster is contacted: pod and node names are
//!   not completed.

use std::io::Write;

use clap::{Args, CommandFactory, ValueEnum};

use super::{Cli, Outcome};
use crate::Error;

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
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.complete_words {
        let completions = build_completions(&args.words);
        render_completions(&completions, &mut out).map_err(write_error)?;
    } else if let Some(shell) = args.shell {
        render_script(shell, &mut out).map_err(write_error)?;
    }
    out.flush().map_err(write_error)?;
    Ok(Outcome::Success)
}

fn write_error(err: std::io::Error) -> Error {
    Error::Output(crate::output::Error::from(err))
}

/// Writes the completion script for `shell`.
pub fn render_script(shell: CompletionShell, out: &mut dyn Write) -> std::io::Result<()> {
    let generator = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
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
    let mut command = Cli::command();
    clap_complete::generate(generator, &mut command, BIN_NAME, out);
    Ok(())
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
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };

    // Walk the finished words: descend into verbs, skip the values of flags that take one.
    let mut command = &root;
    let mut pending_value: Option<&clap::Arg> = None;
    let mut after_double_dash = false;
    for word in before {
        if pending_value.take().is_some() {
            continue;
        }
        if after_double_dash {
            continue;
        }
        if word == "--" {
            after_double_dash = true;
        } else if word.starts_with('-') {
            if !word.contains('=') {
                pending_value = find_flag(command, word).filter(|arg| takes_value(arg));
            }
        } else if let Some(sub) = command.find_subcommand(word) {
            command = sub;
        }
    }

    if let Some(arg) = pending_value {
        let values = value_candidates(arg, current);
        let directive = if arg.get_possible_values().is_empty() {
            DIRECTIVE_DEFAULT
        } else {
            DIRECTIVE_NO_FILE_COMP
        };
        return Completions {
            candidates: values,
            directive,
        };
    }

    if current.starts_with('-') && !after_double_dash {
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
        return Completions {
            candidates,
            directive: DIRECTIVE_NO_FILE_COMP,
        };
    }

    let mut candidates: Vec<(String, String)> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name().starts_with(current))
        .map(|sub| (sub.get_name().to_string(), help_line(sub.get_about())))
        .collect();
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

fn find_flag<'a>(command: &'a clap::Command, word: &str) -> Option<&'a clap::Arg> {
    if let Some(long) = word.strip_prefix("--") {
        command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long))
    } else {
        let mut chars = word.strip_prefix('-')?.chars();
        let short = chars.next()?;
        // `-nfoo` carries its value already.
        if chars.next().is_some() {
            return None;
        }
        command
            .get_arguments()
            .find(|arg| arg.get_short() == Some(short))
    }
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|range| range.takes_values())
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

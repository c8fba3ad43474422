//! The command line: clap definitions of every verb, and dispatch to the verb's `run`.
//!
//! kubectl runs `kubectl-checkpoint` with the user's arguments untouched, so this module parses
//! kubectl's own flags (`--kubeconfig`, `--context`, `-n`, `-o`) itself, with kubectl's meanings.
//! Each verb lives in its own submodule with its argument struct and its `run`.
//!
//! Exit codes: 0 success, 1 some items failed (the others were done), 2 error, 130 cancelled
//! (Ctrl-C, or Esc/q at a prompt).

mod analyze;
mod archive_args;
mod argv;
mod checkpoint;
mod completion;
mod coredump;
mod decode;
mod diff;
mod fetch;
mod image;
mod kube_args;
mod list;
mod memory_args;
mod migrate;
mod pick;
mod picker;
mod progress;
#[cfg(test)]
mod reference;
mod remote_analysis;
mod restore;
mod revive;
mod secrets_args;
mod session;
mod shipping;

pub use kube_args::{KubeArgs, OutputFormat};

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

use crate::Error;

/// Exit code when some items of a multi-item verb failed and the others were done.
pub const EXIT_PARTIAL: u8 = 1;
/// Exit code for an error that stopped the verb.
pub const EXIT_ERROR: u8 = 2;
/// Exit code when the user cancelled (Ctrl-C, or Esc/q at a prompt): 128 + SIGINT, as a shell
/// reports a process that Ctrl-C ended.
pub const EXIT_CANCELLED: u8 = 130;

/// Forensic container checkpointing for kubectl and oc.
///
/// Without a verb, checkpoints the TARGET's container through the kubelet checkpoint API.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-checkpoint",
    bin_name = "kubectl checkpoint",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:
  kubectl checkpoint -n demo pod/counters-857d7978fd-jnkck
  kubectl checkpoint -n demo pod counters-857d7978fd-jnkck -c counter --fetch
  kubectl checkpoint analyze --local tests/fixtures/crio/*.tar

More flags and examples: kubectl checkpoint --help. Runs the same as
`oc checkpoint`. Exit codes: 0 success, 1 some items failed, 2 error,
130 cancelled.",
    after_long_help = "Examples:
  # Checkpoint the only container of a pod; prints NODE:PATH of the archive
  kubectl checkpoint -n demo pod/counters-857d7978fd-jnkck

  # Checkpoint one container and copy the archive to this machine
  kubectl checkpoint -n demo pod counters-857d7978fd-jnkck -c counter --fetch

  # ... into a directory of its own
  kubectl checkpoint -n demo counters-857d7978fd-jnkck --fetch=evidence/

  # Every container of every pod of a deployment, as JSON records
  kubectl checkpoint -n demo deploy/counters --all-containers -o json

  # Pods by label, giving the kubelet two minutes per checkpoint
  kubectl checkpoint -n demo -l app=counters --timeout 120

  # Analyse the sample archive shipped with the source (no cluster needed)
  kubectl checkpoint analyze --local tests/fixtures/crio/*.tar

Runs the same as `oc checkpoint`. Exit codes: 0 success,
1 some items failed (the others were done), 2 error, 130 cancelled."
)]
pub struct Cli {
    /// A verb other than checkpointing.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Arguments of the default verb: checkpoint a container.
    #[command(flatten)]
    pub checkpoint: checkpoint::CheckpointArgs,
}

/// The verbs besides the default one.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy a checkpoint archive from a node to this machine through a helper pod.
    Fetch(fetch::FetchArgs),
    /// List checkpoint archives on nodes.
    #[command(visible_alias = "ls")]
    List(list::ListArgs),
    /// Delete checkpoint archives from nodes.
    #[command(visible_alias = "rm")]
    Delete(list::DeleteArgs),
    /// Analyse a checkpoint: processes, files, sockets, memory, secrets.
    Analyze(analyze::AnalyzeArgs),
    /// Build a checkpoint image (what CRI-O restores a container from) and push it, or write
    /// it as an OCI image layout.
    Image(image::ImageArgs),
    /// Restore a checkpoint as a new pod on a CRI-O node (optionally in a forensic quarantine).
    Restore(restore::RestoreArgs),
    /// Move a container's running state to another node: checkpoint, image, push, restore.
    Migrate(migrate::MigrateArgs),
    /// Decode one CRIU image file like `crit decode`.
    Decode(decode::DecodeArgs),
    /// Compare two checkpoints: processes, files, sockets, memory, root file system, metadata.
    Diff(diff::DiffArgs),
    /// Write ELF core files of the checkpointed processes for gdb.
    Coredump(coredump::CoredumpArgs),
    /// Write a shell completion script (bash, zsh, fish) or kubectl's completion helper.
    Completion(completion::CompletionArgs),
    /// Print the version.
    Version(VersionArgs),
}

/// Arguments of `kubectl checkpoint version`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # The plugin's version (as --version prints it)
  kubectl checkpoint version")]
pub struct VersionArgs {}

/// How a verb that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Success,
    /// Some items failed (each was reported on stderr); the others were done.
    PartialFailure,
    /// `diff` found differences (exit 1, as diff(1)).
    Differences,
    /// `diff` could not compare some parts (each was reported on stderr; exit 2, as diff(1)).
    Trouble,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::PartialFailure | Outcome::Differences => ExitCode::from(EXIT_PARTIAL),
            Outcome::Trouble => ExitCode::from(EXIT_ERROR),
        }
    }
}

/// Parses the command line as kubectl hands it over: the verb wins wherever the flags stand
/// (`kubectl checkpoint -n demo list`), and a mistyped verb gets a suggestion instead of a
/// complaint about the flags that follow it.
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let args = argv::build_verb_first(args.into_iter().collect());
    Cli::try_parse_from(&args).map_err(|err| {
        let shows_text = matches!(
            err.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        let suggestion = argv::first_word(&args)
            .and_then(|word| word.to_str())
            .and_then(|word| Some((word, argv::build_verb_suggestion(word)?)));
        match suggestion {
            Some((word, verb)) if !shows_text => Cli::command().error(
                ErrorKind::InvalidSubcommand,
                format!("unknown verb `{word}`: did you mean `{verb}`?"),
            ),
            _ => err,
        }
    })
}

/// The exit code of a verb that failed with `err`.
pub fn exit_code(err: &Error) -> u8 {
    if err.is_cancelled() {
        EXIT_CANCELLED
    } else {
        EXIT_ERROR
    }
}

/// Runs the verb the command line names.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        None => {
            // `kubectl checkpoint lst`: checkpoint a pod named `lst` if there is one, else say
            // which verb was probably meant.
            let verb = cli
                .checkpoint
                .target
                .as_deref()
                .and_then(argv::build_verb_suggestion);
            let word = cli.checkpoint.target.clone().unwrap_or_default();
            checkpoint::run(cli.checkpoint).map_err(|err| match verb {
                Some(verb) if !err.is_cancelled() => Error::NotAVerb {
                    word,
                    verb,
                    source: Box::new(err),
                },
                _ => err,
            })
        }
        Some(Command::Fetch(args)) => fetch::run(args),
        Some(Command::List(args)) => list::run(args),
        Some(Command::Delete(args)) => list::run_delete(args),
        Some(Command::Analyze(args)) => analyze::run(args),
        Some(Command::Image(args)) => image::run(args),
        Some(Command::Restore(args)) => restore::run(args),
        Some(Command::Migrate(args)) => migrate::run(args),
        Some(Command::Decode(args)) => decode::run(args),
        Some(Command::Diff(args)) => diff::run(args),
        Some(Command::Coredump(args)) => coredump::run(args),
        Some(Command::Completion(args)) => completion::run(args),
        Some(Command::Version(VersionArgs {})) => {
            crate::stdout::with(|out| {
                writeln!(out, "kubectl-checkpoint {}", env!("CARGO_PKG_VERSION"))
            })
            .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
            Ok(Outcome::Success)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

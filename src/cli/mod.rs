//! The command line: clap definitions of every verb, and dispatch to the verb's `run`.
//!
//! kubectl runs `kubectl-checkpoint` with the user's arguments untouched, so this module parses
//! kubectl's own flags (`--kubeconfig`, `--context`, `-n`, `-o`) itself, with kubectl's meanings.
//! Each verb lives in its own submodule with its argument struct and its `run`.
//!
//! Exit codes: 0 success, 1 some items failed (the others were done), 2 error.

mod analyze;
mod checkpoint;
mod completion;
mod coredump;
mod decode;
mod fetch;
mod kube_args;
mod list;
mod memory_args;
mod pick;

pub use kube_args::{KubeArgs, OutputFormat};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::Error;

/// Exit code when some items of a multi-item verb failed and the others were done.
pub const EXIT_PARTIAL: u8 = 1;
/// Exit code for an error that stopped the verb.
pub const EXIT_ERROR: u8 = 2;

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
  # Checkpoint the only container of a pod; prints NODE:PATH of the archive
  kubectl checkpoint -n demo pod/counters-857d7978fd-jnkck

  # Checkpoint one container and copy the archive to this machine
  kubectl checkpoint -n demo counters-857d7978fd-jnkck -c counter --fetch

  # Every container of every pod of a deployment, as JSON records
  kubectl checkpoint -n demo deploy/counters --all-containers -o json

  # Pods by label, giving the kubelet two minutes per checkpoint
  kubectl checkpoint -n demo -l app=counters --timeout 120

  # Analyse the sample archive shipped with the source (no cluster needed)
  kubectl checkpoint analyze --local tests/fixtures/crio/*.tar

Runs the same as `oc checkpoint`. Exit codes: 0 success,
1 some items failed (the others were done), 2 error."
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
    List(list::ListArgs),
    /// Delete a checkpoint archive from a node.
    Delete(list::DeleteArgs),
    /// Analyse a checkpoint: processes, files, sockets, memory, secrets.
    Analyze(analyze::AnalyzeArgs),
    /// Decode one CRIU image file like `crit decode`.
    Decode(decode::DecodeArgs),
    /// Write ELF core files of the checkpointed processes for gdb.
    Coredump(coredump::CoredumpArgs),
    /// Write a shell completion script (bash, zsh, fish) or kubectl's completion helper.
    Completion(completion::CompletionArgs),
}

/// How a verb that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Success,
    /// Some items failed (each was reported on stderr); the others were done.
    PartialFailure,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::PartialFailure => ExitCode::from(EXIT_PARTIAL),
        }
    }
}

/// Runs the verb the command line names.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        None => checkpoint::run(cli.checkpoint),
        Some(Command::Fetch(args)) => fetch::run(args),
        Some(Command::List(args)) => list::run(args),
        Some(Command::Delete(args)) => list::run_delete(args),
        Some(Command::Analyze(args)) => analyze::run(args),
        Some(Command::Decode(args)) => decode::run(args),
        Some(Command::Coredump(args)) => coredump::run(args),
        Some(Command::Completion(args)) => completion::run(args),
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

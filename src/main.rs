//! The `kubectl-checkpoint` binary: parse, run, turn the outcome into an exit code.
//!
//! The binary holds what only a command needs, in private modules:
//!
//! - [`cli`] parses the command line into a plan per verb and drives the library crates
//!   (`checkpoint_cluster` for the cluster, `checkpoint_model` and `checkpoint_forensics` for
//!   checkpoints);
//! - [`output`] renders their reports as tables, trees, JSON or YAML;
//! - [`error`] is the one place that turns an error into a message and an exit code.
//!
//! Only `cli` and `output` write to the terminal, stdout through [`stdout`] and stderr through
//! [`messages`].

mod cli;
mod error;
mod messages;
mod output;
mod stdout;

use std::process::ExitCode;

use error::Error;

fn main() -> ExitCode {
    let parsed = match cli::parse_args(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(err) => err.exit(),
    };
    // What is still buffered for stdout goes out before the exit status is decided: failing to
    // write it is the command's failure.
    let run = cli::run(parsed).and_then(|outcome| {
        stdout::flush().map_err(|err| Error::Output(output::Error::Io(err)))?;
        Ok(outcome)
    });
    if std::env::var_os(checkpoint_cluster::IO_REPORT_ENV).is_some() {
        messages::agent_io();
    }
    match run {
        Ok(outcome) => outcome.exit_code(),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            messages::error_of(&err);
            ExitCode::from(cli::exit_code(&err))
        }
    }
}

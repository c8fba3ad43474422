//! The `kubectl-checkpoint` binary: parse, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use kubectl_checkpoint::cli::{self, Cli};

fn main() -> ExitCode {
    let parsed = Cli::parse();
    match cli::run(parsed) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.render());
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}

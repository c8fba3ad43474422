//! The `kubectl-checkpoint` binary: parse, run, turn the outcome into an exit code.

use std::process::ExitCode;

use kubectl_checkpoint::cli;

fn main() -> ExitCode {
    let parsed = match cli::parse_args(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(err) => err.exit(),
    };
    match cli::run(parsed) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.render());
            ExitCode::from(cli::exit_code(&err))
        }
    }
}

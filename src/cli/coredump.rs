//! `kubectl checkpoint coredump PATH`: ELF core files of checkpointed processes.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::Error;

/// Arguments of `kubectl checkpoint coredump`.
#[derive(Debug, Args)]
pub struct CoredumpArgs {
    /// A checkpoint archive or CRIU image directory.
    pub input: PathBuf,
    /// Write cores of these processes only (default: all).
    #[arg(long = "pid")]
    pub pids: Vec<u32>,
    /// Directory for the core files.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// Runs `coredump`.
pub fn run(_args: CoredumpArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("coredump"))
}

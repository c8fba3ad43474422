//! `kubectl checkpoint analyze`.

use std::path::PathBuf;

use clap::Args;

use super::memory_args::MemoryArgs;
use super::{Outcome, OutputFormat};
use crate::Error;

/// Arguments of `kubectl checkpoint analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Analyse archives or image directories on this machine.
    #[arg(long)]
    pub local: bool,
    /// Checkpoint archives or CRIU image directories.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Memory views and search.
    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// Runs `analyze`.
pub fn run(_args: AnalyzeArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("analyze"))
}

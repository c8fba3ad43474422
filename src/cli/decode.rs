//! `kubectl checkpoint decode PATH`: one CRIU image as JSON, like `crit decode`.

use clap::Args;

use super::Outcome;
use crate::Error;

/// Arguments of `kubectl checkpoint decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// An image file, or `ARCHIVE:MEMBER` for a member of a checkpoint archive.
    pub path: String,
    /// Indent the JSON.
    #[arg(long)]
    pub pretty: bool,
}

/// Runs `decode`.
pub fn run(_args: DecodeArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("decode"))
}

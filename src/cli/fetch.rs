//! `kubectl checkpoint fetch NODE:PATH [DEST]`.

use clap::Args;

use super::{KubeArgs, Outcome};
use crate::Error;

/// Arguments of `kubectl checkpoint fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The archive on the node, as `NODE:PATH`.
    pub source: String,
    /// Where to write the archive on this machine.
    pub dest: Option<std::path::PathBuf>,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs `fetch`.
pub fn run(_args: FetchArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("fetch"))
}

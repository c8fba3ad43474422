//! `kubectl checkpoint list` and `kubectl checkpoint delete`.

use clap::Args;

use super::{KubeArgs, Outcome};
use crate::Error;

/// Arguments of `kubectl checkpoint list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List the checkpoints on this node only.
    #[arg(long)]
    pub node: Option<String>,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Arguments of `kubectl checkpoint delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The archive on the node, as `NODE:PATH`.
    pub source: String,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs `list`.
pub fn run(_args: ListArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("list"))
}

/// Runs `delete`.
pub fn run_delete(_args: DeleteArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("delete"))
}

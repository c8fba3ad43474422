//! The default verb: checkpoint containers through the kubelet checkpoint API.

use clap::Args;

use super::{KubeArgs, Outcome};
use crate::Error;

/// Arguments of `kubectl checkpoint TARGET`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// What to checkpoint: `pod/NAME` or `NAME`.
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// The container to checkpoint.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs the default verb.
pub fn run(_args: CheckpointArgs) -> Result<Outcome, Error> {
    Err(Error::NotYet("TARGET (checkpoint)"))
}

//! Flags of `analyze` that read process memory: summaries, dumps and search.

use clap::Args;

/// Memory flags of `kubectl checkpoint analyze`.
#[derive(Debug, Default, Args)]
pub struct MemoryArgs {}

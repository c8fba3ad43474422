//! The forensic views of a checkpoint: pure functions of the model of `checkpoint_model`.
//!
//! - [`analyze`]: the reports of `analyze` (overview, summary, process tree, files, sockets,
//!   mounts, root file system changes, indicators, crit's `x` views, secrets);
//! - [`memory`]: the memory views (per-process summaries, search reports, raw dumps, hexdumps);
//! - [`secrets`]: the credential rules and the scanner that finds them in bytes;
//! - [`diff`]: two checkpoints compared;
//! - [`coredump`]: ELF core files of the checkpointed processes.
//!
//! Views build report structs and never print; the binary renders them.

pub mod analyze;
pub mod coredump;
pub mod diff;
pub mod memory;
pub mod secrets;

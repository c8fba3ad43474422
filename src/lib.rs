//! kubectl-checkpoint: forensic container checkpointing for `kubectl` and `oc`.
//!
//! The flow of data through the modules:
//!
//! - [`cli`] parses the command line into a plan per verb and drives the rest;
//! - [`cluster`] talks to Kubernetes (checkpoint POST through the nodes proxy, helper pods, exec);
//! - [`archive`] reads checkpoint tarballs (plain, gzip, zstd) and image directories in place;
//! - [`criu`] decodes CRIU image bytes into typed entries;
//! - [`dump`] decodes and validates one checkpoint's images once: the model every view walks,
//!   with the reader of process memory (private and shared pages) by address;
//! - [`memory`] builds the memory views (summaries, search, raw dumps, hexdumps) on it;
//! - [`analyze`] turns decoded images into report structs, and [`coredump`] into ELF core files;
//! - [`diff`] compares two checkpoints into a report of what was added, removed and changed;
//! - [`output`] renders reports as tables, trees, JSON or YAML.
//!
//! Only `cli` and `output` write to the terminal.

pub mod analyze;
pub mod archive;
pub mod cli;
pub mod cluster;
pub mod coredump;
pub mod criu;
pub mod diff;
pub mod dump;
pub mod error;
pub mod memory;
pub mod output;
pub mod secrets;

pub use error::Error;

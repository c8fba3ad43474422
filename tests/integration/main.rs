//! The integration tests, linked into one test binary (as ripgrep does): each file of this
//! directory is one module, for one verb or one area, and `tests/support` holds what they share.
//! Linking kube, tokio and the fake API server once instead of once per file is most of the time
//! `cargo test` saves.
//!
//! A new area is one file here plus one `mod` line below. Run one module with
//! `cargo test --test integration fetch::`, one test with its full name.

#[path = "../support/mod.rs"]
mod support;

mod analyze;
mod archive;
mod checkpoint;
mod command_line;
mod completion;
mod coredump;
mod criu_conformance;
mod criu_images;
mod decode;
mod diff;
mod docs;
mod e2e;
mod fake_apiserver;
mod fan_out;
mod fetch;
mod fixture_truth;
mod hostile;
mod hostile_model;
mod images;
mod indicators;
mod krew;
mod list;
mod memsearch;
mod model;
mod pickers;
mod remote_analysis;
mod restore;
mod secrets;
mod summary;
mod whole_truth;
mod wrong_images;

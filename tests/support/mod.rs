//! Helpers shared by the integration tests (`tests/integration`, one test binary). Each test module
//! uses a different part, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod archive_builder;
pub mod crit;
pub mod hostile_inputs;
pub use fake_apiserver;
pub mod measure;
pub mod memgen;
pub mod plugin;
pub mod terminal;
pub mod truth;

//! Helpers shared by the integration tests. Each test binary (`mod support;`) uses a different part,
//! hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod fake_apiserver;
pub mod plugin;
pub mod terminal;

//! The memory views of `analyze`, built on [`checkpoint_model::dump::ProcessMemory`]: per-process
//! summaries, the search reports, raw dumps and hexdumps. The search itself (one pass with a
//! fixed-size buffer, in place or as a compressed archive streams by) is
//! [`checkpoint_model::search`].
//!
//! - [`search`]: `--search`, a consumer of the one byte pipeline
//!   ([`checkpoint_model::sources`]) over process memory and every other source;
//! - [`report`]: the serde report structs of the memory views (summary, search, dump, hexdump).
//!
//! This module never prints; `cli` drives it and `output` renders its reports.

pub mod report;
pub mod search;

pub use checkpoint_model::dump::{MemoryLayout, PresentRun, ProcessMemory, Vma, PAGE_SIZE};
pub use checkpoint_model::search::{Matcher, PatternError};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint's images or memory failed.
    #[error(transparent)]
    Dump(#[from] checkpoint_model::dump::Error),
    /// An area too large to read into memory.
    #[error("the {what} of {len} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was to be read.
        what: &'static str,
        /// Its length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// Creating or writing a dump file failed.
    #[error("writing {path}: {source}")]
    CreateDump {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing output failed.
    #[error("writing memory: {0}")]
    Write(#[source] std::io::Error),
    /// A source could not be searched to its end (the reason says where and why).
    #[error("{0}")]
    Unreadable(String),
}

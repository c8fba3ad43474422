//! Reading process memory out of a checkpoint: pagemap runs laid over `pages-N.img`, by virtual
//! address.
//!
//! - [`images`]: reading pstree, core, mm, pagemap and files images out of a checkpoint;
//! - [`layout`]: VMAs (named like `/proc/PID/maps`) and present runs, pure data;
//! - [`process`]: [`ProcessMemory`], reads by address and streams runs from the pages file;
//! - [`search`]: the one-pass streaming search with a fixed-size buffer;
//! - [`report`]: the serde report structs of the memory views (summary, search, dump, hexdump).
//!
//! This module never prints; `cli` drives it and `output` renders its reports.

pub mod images;
pub mod layout;
pub mod process;
pub mod report;
pub mod search;

pub use images::{checkpoint_processes, read_process_images, ArgBounds, ProcessImages};
pub use layout::{MemoryLayout, PresentRun, Vma, PAGE_SIZE};
pub use process::{Piece, ProcessMemory};
pub use search::{Matcher, PatternError};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Archive(#[from] crate::archive::Error),
    /// Decoding an image failed.
    #[error(transparent)]
    Criu(#[from] crate::criu::Error),
    /// An image that must hold an entry holds none.
    #[error("{image}: holds no entry")]
    NoEntry {
        /// The image.
        image: String,
    },
    /// An address the checkpoint holds no page for.
    #[error("pid {pid}: address {vaddr:#x} is not in the checkpoint's pages")]
    NotPresent {
        /// Process id.
        pid: u32,
        /// The first absent address.
        vaddr: u64,
    },
    /// A pagemap run points past the end of the pages file.
    #[error(
        "{pages}: the pagemap puts {len:#x} bytes of address {vaddr:#x} at offset {offset:#x}, but the file has {file_len:#x} bytes"
    )]
    RunOutsidePages {
        /// The pages file.
        pages: String,
        /// Address of the run.
        vaddr: u64,
        /// Offset the run claims.
        offset: u64,
        /// Length of the run in bytes.
        len: u64,
        /// Length of the pages file.
        file_len: u64,
    },
    /// Reading the pages file failed.
    #[error("{pages}: {source}")]
    ReadPages {
        /// The pages file.
        pages: String,
        /// Where and why.
        #[source]
        source: search::ReadError,
    },
    /// An area whose end lies before its start.
    #[error("the area {start:#x}..{end:#x} is reversed: it ends before it starts")]
    BadArea {
        /// Start address.
        start: u64,
        /// End address.
        end: u64,
    },
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
}

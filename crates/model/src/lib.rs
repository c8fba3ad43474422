//! One checkpoint, read in place and decoded once: the model every forensic view walks.
//!
//! - [`archive`]: checkpoint archives (plain tar, gzip, zstd) and CRIU image directories,
//!   read in place and never extracted; container metadata, `rootfs-diff.tar`, custody records;
//! - [`dump`]: the images of one checkpoint decoded and validated once ([`dump::Dump`]): tasks,
//!   files, memory layouts, shared memory, the data stored outside process memory;
//! - [`sources`]: every byte the checkpoint stores, as one list of sources with their
//!   locations, and the one engine that reads them for a consumer (the memory search, the
//!   secrets scan);
//! - [`search`]: the one-pass streaming search with a fixed-size buffer, and [`streamed`]: the
//!   same search over a compressed archive as it streams by;
//! - [`sparse`]: files we write sparsely within their file system's free space (the archive's
//!   spool, cores, memory dumps), and [`sizes`]: byte counts for people.
//!
//! This crate knows CRIU images (through `checkpoint_images`) and archives; it knows nothing of
//! the command line, of output formats or of Kubernetes clusters.

pub mod archive;
pub mod dump;
pub mod search;
pub mod sizes;
pub mod sources;
pub mod sparse;
pub mod streamed;

/// The CRIU message types the model's facts are made of (the entries of the file table, a
/// thread's core, ...), for views to read. Only the model decodes images.
pub use checkpoint_images::messages;
/// The page size of every CRIU image, and a pagemap's runs as decoded.
pub use checkpoint_images::{PageMap, PageRun, PAGE_SIZE};

/// The text of an error and each of its causes, joined by `: `, leaving out causes whose text
/// the previous message already contains: what a report keeps as the reason a fact could not be
/// read. It is not escaped; whoever shows it to a person escapes it.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

//! Decoding of CRIU image files in process: framing, magics, typed entries, crit-compatible JSON.
//!
//! - [`Magic`]: every image type of CRIU's magic.h, with crit's names;
//! - [`entries`] / [`Entries`]: the framing (magic words, u32 length + protobuf payload, extra raw
//!   bytes after some entries), yielding borrowed [`RawEntry`]s;
//! - [`read_entries`]: typed entries of one image through the [`CriuMessage`] trait, with the
//!   prost structs of [`messages`];
//! - [`PageMap`]: a pagemap image as runs laid over `pages-<id>.img`;
//! - [`decode_image`]: any image as crit-style JSON (`crit decode`).
//!
//! This module only sees bytes: it never opens archives or talks to a cluster. Every error names
//! the file and the byte offset (`checkpoint/pagemap-1.img: entry 3 at byte 0x1c4: ...`); no
//! length read from an image sizes an allocation before it was checked against the bytes left.
//!
//! Decoders accept images of CRIU 3.x and 4.x: unknown fields are skipped, and the pagemap page
//! count is read from field 5 (CRIU >= 4.2) else field 2 (older CRIU).

pub mod budget;
mod image;
mod json;
mod magic;
pub mod messages;
mod pagemap;
pub mod schema;
pub mod vma;
pub mod wire;

pub use image::{
    encode_image, entries, first_entry, first_entry_with_extra, for_each_entry,
    for_each_entry_with_extra, read_entries, read_header, CriuMessage, Entries, ExtraSpan,
    RawEntry,
};
pub use json::{
    check_not_raw, count_entries, decode_image, decode_image_with, encode_quoted_printable,
    raw_image_kind, DecodedImage, Style,
};
pub use magic::{Magic, IMG_COMMON, IMG_SERVICE};
pub use pagemap::{PageLocation, PageMap, PageRun, PAGE_SIZE, PE_LAZY, PE_PARENT, PE_PRESENT};

/// Errors of this module. Each names the file and, where there is one, the byte offset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Reading an image file failed.
    #[error("{file}: {source}")]
    ReadFile {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file ends inside the magic words.
    #[error("{file}: byte 0x{offset:x}: image header cut short: {left} of {need} bytes")]
    TruncatedHeader {
        /// The file.
        file: String,
        /// Where the missing word starts.
        offset: u64,
        /// Bytes needed.
        need: u64,
        /// Bytes there.
        left: u64,
    },
    /// The magic number is not one of CRIU's.
    #[error("{file}: byte 0x{offset:x}: unknown image magic 0x{magic:08x} (raw images such as pages-*.img have no magic)")]
    UnknownMagic {
        /// The file.
        file: String,
        /// Offset of the magic word.
        offset: u64,
        /// The number found.
        magic: u32,
    },
    /// The image is of another type than the caller asked for.
    #[error("{file}: byte 0x{offset:x}: is a {found} image, expected {expected}")]
    WrongMagic {
        /// The file.
        file: String,
        /// Offset of the magic word that names the image type.
        offset: u64,
        /// The image type found.
        found: Magic,
        /// The image type asked for.
        expected: Magic,
    },
    /// An entry is malformed.
    #[error("{file}: entry {entry} at byte 0x{offset:x}: {problem}")]
    Entry {
        /// The file.
        file: String,
        /// Index of the entry, from 0 (the pagemap head is entry 0 of a pagemap).
        entry: u64,
        /// Offset of the entry's length word.
        offset: u64,
        /// What is wrong.
        problem: Problem,
    },
    /// The file holds raw page data, not entries (`pages-*.img`).
    #[error("{file}: raw page data with no image header: read it through its pagemap-*.img (crit refuses it too)")]
    RawPages {
        /// The file.
        file: String,
    },
    /// The file is one of CRIU's raw images (tmpfs tarballs, `ip`/iptables dumps), not entries.
    #[error("{file}: {what}, stored by CRIU without an image header: not decodable as entries (crit refuses it too)")]
    RawImage {
        /// The file.
        file: String,
        /// What the file holds.
        what: &'static str,
    },
}

/// What is wrong with one entry.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file ends inside the u32 length word.
    #[error("length word cut short: {left} of 4 bytes")]
    TruncatedLength {
        /// Bytes there.
        left: u64,
    },
    /// The length word claims more bytes than the file has.
    #[error("length {length} exceeds the {left} bytes left")]
    Length {
        /// Claimed length.
        length: u64,
        /// Bytes left after the length word.
        left: u64,
    },
    /// The raw payload after the message claims more bytes than the file has.
    #[error("extra payload of {length} bytes exceeds the {left} bytes left")]
    ExtraLength {
        /// Claimed length.
        length: u64,
        /// Bytes left after the message.
        left: u64,
    },
    /// prost could not decode the message.
    #[error("cannot decode {message}: {source}")]
    Decode {
        /// The `.proto` message name.
        message: &'static str,
        /// prost's error.
        source: prost::DecodeError,
    },
    /// The protobuf wire format is broken.
    #[error("cannot decode {message}: {source}")]
    Wire {
        /// The `.proto` message name.
        message: &'static str,
        /// Where and what.
        source: wire::WireError,
    },
    /// The image holds more entries than are decoded into memory together.
    #[error("the image holds more than {limit} entries; refusing to decode more")]
    TooManyEntries {
        /// The cap in force.
        limit: u64,
    },
    /// An entry's repeated fields hold more elements than any real image does.
    #[error("{message} holds more than {limit} elements in its repeated fields")]
    TooManyElements {
        /// The `.proto` message name.
        message: &'static str,
        /// The cap in force.
        limit: u64,
    },
    /// The entry decodes but breaks a rule of its image type.
    #[error("{0}")]
    Invalid(String),
}

//! The container's root file system changes: the listing of `rootfs-diff.tar` (a tar of the
//! files the container added or changed, gzip-compressed by some engines despite its name) and
//! `deleted.files` (a JSON list of deleted paths). Only headers are read; nothing is extracted.

use std::io::{BufRead, BufReader, Read};

use super::tar_stream::{MemberKind, StreamSource, Walker};

/// The member holding changed files.
pub(super) const MEMBER: &str = "rootfs-diff.tar";

/// The member listing deleted files.
pub(super) const DELETED: &str = "deleted.files";

/// The most entries listed from one `rootfs-diff.tar`.
const ENTRY_LIMIT: usize = 1_000_000;

/// Changes of the container's root file system.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RootfsDiff {
    /// Files added or changed (from `rootfs-diff.tar`), in archive order.
    pub changed: Vec<ChangedFile>,
    /// Paths deleted (from `deleted.files`), as listed.
    pub deleted: Vec<String>,
}

/// One entry of `rootfs-diff.tar`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangedFile {
    /// The path inside the container, as stored (without a leading `./`); never used as a path here.
    pub name: String,
    /// What it is.
    pub kind: MemberKind,
    /// Size in bytes (0 for non-regular entries).
    pub size: u64,
}

/// Lists `rootfs-diff.tar` read from `reader` (plain, gzip or zstd, told by content).
pub(super) fn list_changed(reader: impl Read) -> Result<Vec<ChangedFile>, String> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    if head.is_empty() {
        return Ok(Vec::new());
    }
    const NAME: &str = "rootfs-diff.tar";
    if head.starts_with(&[0x1f, 0x8b]) {
        walk(Walker::new(
            StreamSource(flate2::read::MultiGzDecoder::new(reader)),
            NAME,
            "gzip stream",
        ))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(reader).map_err(|e| e.to_string())?;
        walk(Walker::new(StreamSource(decoder), NAME, "zstd stream"))
    } else {
        walk(Walker::new(StreamSource(reader), NAME, "tar data"))
    }
}

fn walk<S: super::tar_stream::Source>(mut walker: Walker<S>) -> Result<Vec<ChangedFile>, String> {
    let mut out = Vec::new();
    while let Some(entry) = walker.next_entry().map_err(|e| nested_message(&e))? {
        if out.len() >= ENTRY_LIMIT {
            return Err(format!("more than {ENTRY_LIMIT} entries"));
        }
        let name = entry.name.trim_start_matches("./").to_owned();
        if name.is_empty() {
            continue;
        }
        out.push(ChangedFile {
            name,
            kind: entry.kind,
            size: entry.size,
        });
    }
    Ok(out)
}

/// Streams every regular file of `rootfs-diff.tar` read from `reader` (plain, gzip or zstd) to
/// `visit(path, size, data)`, in archive order; `visit` returns `false` to stop. Nothing is
/// written.
pub(super) fn visit_files(
    reader: impl Read,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    if head.is_empty() {
        return Ok(());
    }
    const NAME: &str = "rootfs-diff.tar";
    if head.starts_with(&[0x1f, 0x8b]) {
        let source = StreamSource(flate2::read::MultiGzDecoder::new(reader));
        walk_files(Walker::new(source, NAME, "gzip stream"), visit)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(reader).map_err(|e| e.to_string())?;
        walk_files(
            Walker::new(StreamSource(decoder), NAME, "zstd stream"),
            visit,
        )
    } else {
        walk_files(Walker::new(StreamSource(reader), NAME, "tar data"), visit)
    }
}

fn walk_files<S: super::tar_stream::Source>(
    mut walker: Walker<S>,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut count = 0usize;
    while let Some(entry) = walker.next_entry().map_err(|e| nested_message(&e))? {
        count += 1;
        if count > ENTRY_LIMIT {
            return Err(format!("more than {ENTRY_LIMIT} entries"));
        }
        if entry.kind != MemberKind::File {
            continue;
        }
        let name = entry.name.trim_start_matches("./").to_owned();
        let mut data = walker.data();
        if !visit(&name, entry.size, &mut data).map_err(|e| e.to_string())? {
            break;
        }
    }
    Ok(())
}

/// The nested tar's error without repeating the member name the caller adds.
fn nested_message(e: &super::Error) -> String {
    let text = e.to_string();
    text.strip_prefix("rootfs-diff.tar: ")
        .map(str::to_owned)
        .unwrap_or(text)
}

/// Parses `deleted.files`: a JSON array of paths.
pub(super) fn parse_deleted(bytes: &[u8]) -> Result<Vec<String>, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not a JSON list of paths: {e}"))
}

//! The container's root file system changes: the listing of `rootfs-diff.tar` (a tar of the
//! files the container added or changed, gzip-compressed by some engines despite its name) and
//! `deleted.files` (a JSON list of deleted paths). Only headers are read; nothing is extracted.
//!
//! Both lists are bounded like the archive's own index ([`Caps`]): at most
//! [`OpenParams::max_members`](super::OpenParams::max_members) entries whose names take at most
//! [`OpenParams::max_name_bytes`](super::OpenParams::max_name_bytes), so a small compressed
//! `rootfs-diff.tar` of millions of entries or of long GNU names cannot exhaust memory.

use std::io::{BufRead, BufReader, Read};

use super::tar_stream::{MemberKind, StreamSource, Walker};

/// The member holding changed files.
pub(super) const MEMBER: &str = "rootfs-diff.tar";

/// The member listing deleted files.
pub(super) const DELETED: &str = "deleted.files";

/// How many entries a listing may hold, and how many bytes their names may take together.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caps {
    /// Most entries.
    pub entries: u64,
    /// Most bytes of names.
    pub name_bytes: u64,
}

impl Caps {
    /// Checks one more entry of `name_len` bytes, given the entries and name bytes so far.
    fn admit(&self, entries: usize, name_bytes: &mut u64, name_len: usize) -> Result<(), String> {
        if entries as u64 >= self.entries {
            return Err(format!(
                "more than {} entries (raise the limit with --max-members)",
                self.entries
            ));
        }
        *name_bytes = name_bytes.saturating_add(name_len as u64);
        if *name_bytes > self.name_bytes {
            return Err(format!(
                "the names of its first {} entries take more than {} bytes (raise the limit with --max-name-bytes)",
                entries + 1,
                self.name_bytes
            ));
        }
        Ok(())
    }
}

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
pub(super) fn list_changed(reader: impl Read, caps: Caps) -> Result<Vec<ChangedFile>, String> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    if head.is_empty() {
        return Ok(Vec::new());
    }
    const NAME: &str = "rootfs-diff.tar";
    if head.starts_with(&[0x1f, 0x8b]) {
        walk(
            Walker::new(
                StreamSource(flate2::read::MultiGzDecoder::new(reader)),
                NAME,
                "gzip stream",
            ),
            caps,
        )
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(reader).map_err(|e| e.to_string())?;
        walk(
            Walker::new(StreamSource(decoder), NAME, "zstd stream"),
            caps,
        )
    } else {
        walk(Walker::new(StreamSource(reader), NAME, "tar data"), caps)
    }
}

fn walk<S: super::tar_stream::Source>(
    mut walker: Walker<S>,
    caps: Caps,
) -> Result<Vec<ChangedFile>, String> {
    let mut out = Vec::new();
    let mut name_bytes = 0u64;
    while let Some(entry) = walker.next_entry().map_err(|e| nested_message(&e))? {
        let mut name = entry.name;
        let root = name.len() - name.trim_start_matches("./").len();
        name.drain(..root);
        if name.is_empty() {
            continue;
        }
        caps.admit(out.len(), &mut name_bytes, name.len())?;
        out.push(ChangedFile {
            name,
            kind: entry.kind,
            size: entry.size,
        });
    }
    Ok(out)
}

/// Streams every regular file of the tar `name` (`rootfs-diff.tar`, a tmpfs image) read from
/// `reader` (plain, gzip or zstd) to `visit(path, size, data)`, in archive order; `visit`
/// returns `false` to stop. Nothing is written.
pub(super) fn visit_files(
    reader: impl Read,
    name: &str,
    caps: Caps,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    if head.is_empty() {
        return Ok(());
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        let source = StreamSource(flate2::read::MultiGzDecoder::new(reader));
        walk_files(Walker::new(source, name, "gzip stream"), caps, visit)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(reader).map_err(|e| e.to_string())?;
        walk_files(
            Walker::new(StreamSource(decoder), name, "zstd stream"),
            caps,
            visit,
        )
    } else {
        walk_files(
            Walker::new(StreamSource(reader), name, "tar data"),
            caps,
            visit,
        )
    }
}

fn walk_files<S: super::tar_stream::Source>(
    mut walker: Walker<S>,
    caps: Caps,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut count = 0usize;
    let mut name_bytes = 0u64;
    while let Some(entry) = walker.next_entry().map_err(|e| nested_message(&e))? {
        caps.admit(count, &mut name_bytes, entry.name.len())?;
        count += 1;
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

/// Parses `deleted.files`: a JSON array of paths, within `caps` (checked while parsing, so a
/// list of millions of empty strings stops at the cap).
pub(super) fn parse_deleted(bytes: &[u8], caps: Caps) -> Result<Vec<String>, String> {
    use serde::de::{Deserializer, SeqAccess, Visitor};

    struct Paths(Caps);

    impl<'de> Visitor<'de> for Paths {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of paths")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            let mut name_bytes = 0u64;
            while let Some(path) = seq.next_element::<String>()? {
                self.0
                    .admit(out.len(), &mut name_bytes, path.len())
                    .map_err(serde::de::Error::custom)?;
                out.push(path);
            }
            Ok(out)
        }
    }

    let mut de = serde_json::Deserializer::from_slice(bytes);
    let paths = (&mut de)
        .deserialize_seq(Paths(caps))
        .and_then(|paths| de.end().map(|()| paths))
        .map_err(|e| format!("not a JSON list of paths: {e}"))?;
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Caps = Caps {
        entries: 3,
        name_bytes: 10,
    };

    #[test]
    fn deleted_files_within_caps() {
        assert_eq!(
            parse_deleted(br#"["/a","/b"]"#, SMALL).unwrap(),
            ["/a", "/b"]
        );
        let err = parse_deleted(br#"["","","",""]"#, SMALL).unwrap_err();
        assert!(err.contains("more than 3 entries"), "{err}");
        let err = parse_deleted(br#"["/0123456789"]"#, SMALL).unwrap_err();
        assert!(err.contains("take more than 10 bytes"), "{err}");
        assert!(parse_deleted(br#"{"a":1}"#, SMALL).is_err());
        assert!(parse_deleted(br#"["/a"] x"#, SMALL).is_err());
    }
}

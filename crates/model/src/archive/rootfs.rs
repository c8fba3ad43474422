//! The container's root file system changes: the listing of `rootfs-diff.tar` (a tar of the
//! files the container added or changed, gzip-compressed by some engines despite its name) and
//! `deleted.files` (a JSON list of deleted paths). Only headers are read; nothing is extracted.
//!
//! Both lists are bounded like the archive's own index ([`Caps`]): at most
//! [`OpenParams::max_members`](super::OpenParams::max_members) entries whose names take at most
//! [`OpenParams::max_name_bytes`](super::OpenParams::max_name_bytes), so a small compressed
//! `rootfs-diff.tar` of millions of entries or of long GNU names cannot exhaust memory.
//!
//! Time is bounded too. A plain `rootfs-diff.tar` is read as far as it goes: its bytes are in
//! the archive. A compressed one can claim anything (a 1 TiB file of zeros is 0.9 MB of zstd),
//! and listing it means decompressing every file's data to reach the next header, so each pass
//! (listing, hashing for `diff`, the searches of its files) stops after [`Caps::expanded_bytes`]
//! decompressed bytes (see [`expansion_limit`]): a listing keeps what it read and says where it
//! stopped ([`RootfsDiff::incomplete`]), a pass over the files fails with the same words.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::tar_stream::{MemberKind, StreamSource, Walker};
use crate::sizes::human_size;

/// The member holding changed files.
pub(super) const MEMBER: &str = "rootfs-diff.tar";

/// The member listing deleted files.
pub(super) const DELETED: &str = "deleted.files";

/// At least this many bytes may be decompressed from a compressed `rootfs-diff.tar` per pass.
pub const EXPANSION_FLOOR: u64 = 1 << 30;

/// A compressed `rootfs-diff.tar` may decompress to this many times its size per pass (above
/// [`EXPANSION_FLOOR`]); text compresses about ten times, a file of zeros without bound.
pub const EXPANSION_RATIO: u64 = 100;

/// The bytes a pass may decompress from a compressed `rootfs-diff.tar` of `compressed` bytes:
/// `explicit` if given, else the larger of [`EXPANSION_FLOOR`] and [`EXPANSION_RATIO`] times its
/// size. A bound sized by what the archive holds, not by what its headers claim.
pub fn expansion_limit(explicit: Option<u64>, compressed: u64) -> u64 {
    explicit.unwrap_or_else(|| {
        compressed
            .saturating_mul(EXPANSION_RATIO)
            .max(EXPANSION_FLOOR)
    })
}

/// How many entries a listing may hold, how many bytes their names may take together, and how
/// many bytes a compressed stream may decompress to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caps {
    /// Most entries.
    pub entries: u64,
    /// Most bytes of names.
    pub name_bytes: u64,
    /// Most bytes decompressed from a compressed stream (a plain one is read as far as it goes).
    pub expanded_bytes: u64,
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
    /// Why `changed` stops early, when it does: a compressed `rootfs-diff.tar` that
    /// decompresses past its bound ([`expansion_limit`]); the entry it stopped in is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// A listing of `rootfs-diff.tar`: its entries, and why it stops early when it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Listing {
    /// The entries read.
    pub entries: Vec<ChangedFile>,
    /// Where and why reading stopped before the end.
    pub incomplete: Option<String>,
}

/// Reads a decompressor's output up to `limit` bytes; past it, an error, and `tripped` is set.
struct Bounded<R> {
    inner: R,
    left: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more tells a stream that ends right at the bound from one that goes on.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.tripped.set(true);
                    Err(io::Error::other("decompression bound reached"))
                }
            };
        }
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Where a pass over a compressed `rootfs-diff.tar` stopped at its bound, in words: the entry it
/// was reading (or the header after `last`), and the bound.
fn bound_reached(limit: u64, last: Option<(&str, u64)>, entries: usize) -> String {
    let place = match last {
        Some((name, size)) => format!(
            "in entry `{name}` ({} declared, after {entries} entries)",
            human_size(size)
        ),
        None => "before its first entry".to_owned(),
    };
    format!(
        "stopped {place}: it decompresses past {} (the bound of a compressed tar in a checkpoint, rootfs-diff.tar or a tmpfs image: the larger of {} and {EXPANSION_RATIO} times its size; raise it with --rootfs-diff-limit)",
        human_size(limit),
        human_size(EXPANSION_FLOOR)
    )
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

/// What `rootfs-diff.tar`'s bytes are: a compressed stream (read through a bounded
/// decompressor) or plain tar data.
enum Stream<'a, R> {
    /// gzip or zstd (named for messages), decompressed within the bound.
    Compressed(Box<dyn Read + 'a>, &'static str),
    /// Plain tar data.
    Plain(R),
}

/// A decompressing source over `reader` when its first bytes say gzip or zstd, bounded by
/// `limit` decompressed bytes (see [`Bounded`]), else the plain reader.
fn decompressor<'a, R: BufRead + 'a>(
    mut reader: R,
    limit: u64,
    tripped: &Rc<Cell<bool>>,
) -> Result<Stream<'a, R>, String> {
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    let (inner, what): (Box<dyn Read + 'a>, _) = if head.starts_with(&[0x1f, 0x8b]) {
        (
            Box::new(flate2::read::MultiGzDecoder::new(reader)),
            "gzip stream",
        )
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(reader).map_err(|e| e.to_string())?;
        (Box::new(decoder), "zstd stream")
    } else {
        return Ok(Stream::Plain(reader));
    };
    let bounded = Bounded {
        inner,
        left: limit,
        tripped: Rc::clone(tripped),
    };
    Ok(Stream::Compressed(Box::new(bounded), what))
}

/// Lists `rootfs-diff.tar` read from `reader` (plain, gzip or zstd, told by content); a
/// compressed one as far as [`Caps::expanded_bytes`] allows.
pub(super) fn list_changed(reader: impl Read, caps: Caps) -> Result<Listing, String> {
    let mut reader = BufReader::new(reader);
    if reader.fill_buf().map_err(|e| e.to_string())?.is_empty() {
        return Ok(Listing::default());
    }
    const NAME: &str = "rootfs-diff.tar";
    let tripped = Rc::new(Cell::new(false));
    match decompressor(reader, caps.expanded_bytes, &tripped)? {
        Stream::Compressed(source, what) => walk(
            Walker::new(StreamSource(source), NAME, what),
            caps,
            &tripped,
        ),
        Stream::Plain(reader) => walk(
            Walker::new(StreamSource(reader), NAME, "tar data"),
            caps,
            &tripped,
        ),
    }
}

fn walk<S: super::tar_stream::Source>(
    mut walker: Walker<S>,
    caps: Caps,
    tripped: &Cell<bool>,
) -> Result<Listing, String> {
    let mut out = Listing::default();
    let mut name_bytes = 0u64;
    loop {
        let entry = match walker.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(_) if tripped.get() => {
                let last = out.entries.last().map(|f| (f.name.as_str(), f.size));
                out.incomplete = Some(bound_reached(caps.expanded_bytes, last, out.entries.len()));
                break;
            }
            Err(e) => return Err(nested_message(&e)),
        };
        let mut name = entry.name;
        let root = name.len() - name.trim_start_matches("./").len();
        name.drain(..root);
        if name.is_empty() {
            continue;
        }
        caps.admit(out.entries.len(), &mut name_bytes, name.len())?;
        out.entries.push(ChangedFile {
            name,
            kind: entry.kind,
            size: entry.size,
        });
    }
    Ok(out)
}

/// Streams every regular file of the tar `name` (`rootfs-diff.tar`, a tmpfs image) read from
/// `reader` (plain, gzip or zstd) to `visit(path, size, data)`, in archive order; `visit`
/// returns `false` to stop. Nothing is written. A compressed one that decompresses past
/// [`Caps::expanded_bytes`] is an error naming the entry being read.
pub(super) fn visit_files(
    reader: impl Read,
    name: &str,
    caps: Caps,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut reader = BufReader::new(reader);
    if reader.fill_buf().map_err(|e| e.to_string())?.is_empty() {
        return Ok(());
    }
    let tripped = Rc::new(Cell::new(false));
    match decompressor(reader, caps.expanded_bytes, &tripped)? {
        Stream::Compressed(source, what) => walk_files(
            Walker::new(StreamSource(source), name, what),
            caps,
            &tripped,
            visit,
        ),
        Stream::Plain(reader) => walk_files(
            Walker::new(StreamSource(reader), name, "tar data"),
            caps,
            &tripped,
            visit,
        ),
    }
}

fn walk_files<S: super::tar_stream::Source>(
    mut walker: Walker<S>,
    caps: Caps,
    tripped: &Cell<bool>,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut count = 0usize;
    let mut name_bytes = 0u64;
    let mut last: Option<(String, u64)> = None;
    let stopped = |last: &Option<(String, u64)>, count: usize| {
        let last = last.as_ref().map(|(name, size)| (name.as_str(), *size));
        bound_reached(caps.expanded_bytes, last, count)
    };
    loop {
        let entry = match walker.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(_) if tripped.get() => return Err(stopped(&last, count)),
            Err(e) => return Err(nested_message(&e)),
        };
        caps.admit(count, &mut name_bytes, entry.name.len())?;
        count += 1;
        let name = entry.name.trim_start_matches("./").to_owned();
        last = Some((name.clone(), entry.size));
        if entry.kind != MemberKind::File {
            continue;
        }
        let mut data = walker.data();
        match visit(&name, entry.size, &mut data) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) if tripped.get() => return Err(stopped(&last, count - 1)),
            Err(e) => return Err(e.to_string()),
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
        expanded_bytes: 1 << 20,
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

//! [`MemberReader`] (alias [`PagesReader`]): `Read + Seek` over one member, wherever its bytes
//! live; mostly `pages-<id>.img`.
//!
//! The reader is a window `[base, base + len)` of a file read with positional reads (`pread`), so
//! several readers can share one file handle, seeking is free, and nothing is buffered: a plain
//! tar's member is a window of the archive file itself, a compressed archive's member is its own
//! spooled temporary file, and an image directory's member is the file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// A reader over `checkpoint/pages-<id>.img`'s raw page data, as [`Checkpoint::open_pages`]
/// returns it.
///
/// [`Checkpoint::open_pages`]: super::Checkpoint::open_pages
pub type PagesReader = MemberReader;

/// Reads one member's bytes in place (a window of the archive file, a spool file, the file of a
/// directory, or bytes kept in memory).
///
/// Invariants: positions are relative to the start of the member (for a pages image, byte 0 is
/// the first byte of the first present page in pagemap order); reads never return bytes past
/// [`MemberReader::len`] (the member's end is EOF even when the archive goes on); seeking past
/// the end is allowed and reads there return 0 bytes. Clones share the file handle but not the
/// position. The reader holds no buffer: wrap it in a `BufReader` for small reads, or read large
/// chunks directly; [`MemberReader::read_exact_at`] reads without seeking.
#[derive(Debug, Clone)]
pub struct MemberReader {
    backing: Backing,
    base: u64,
    len: u64,
    pos: u64,
    name: String,
}

impl MemberReader {
    pub(super) fn new(file: Arc<File>, base: u64, len: u64, name: String) -> Self {
        MemberReader {
            backing: Backing::File(file),
            base,
            len,
            pos: 0,
            name,
        }
    }

    pub(super) fn from_memory(bytes: Arc<Vec<u8>>, name: String) -> Self {
        MemberReader {
            len: bytes.len() as u64,
            backing: Backing::Memory(bytes),
            base: 0,
            pos: 0,
            name,
        }
    }

    /// A reader of no bytes, named `name`.
    pub fn empty(name: &str) -> Self {
        MemberReader::from_memory(Arc::new(Vec::new()), name.to_owned())
    }

    /// A reader of a member whose bytes were handed to a [`PagesVisitor`](super::PagesVisitor)
    /// while the archive streamed by and not kept: its length is known, every read fails.
    pub(super) fn streamed(len: u64, name: String) -> Self {
        MemberReader {
            backing: Backing::Streamed,
            base: 0,
            len,
            pos: 0,
            name,
        }
    }

    /// True if the member's bytes were streamed to a visitor at open and cannot be read.
    pub fn is_streamed(&self) -> bool {
        matches!(self.backing, Backing::Streamed)
    }

    /// The size of the member in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if the member is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the member comes from, for messages: `ARCHIVE:checkpoint/pages-<id>.img`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Fills `buf` from `offset` of the member without moving the reader's position.
    ///
    /// Fails with `UnexpectedEof` if `offset + buf.len()` is past the end of the member.
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: {} bytes at offset {offset} run past the end ({} bytes)",
                    self.name,
                    buf.len(),
                    self.len
                ),
            ));
        }
        match &self.backing {
            Backing::File(file) => file.read_exact_at(buf, self.base + offset),
            Backing::Streamed => Err(self.streamed_error()),
            Backing::Memory(bytes) => {
                let from = usize::try_from(offset).map_err(io::Error::other)?;
                let src = bytes
                    .get(from..from + buf.len())
                    .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }
}

/// Where a reader's bytes are.
#[derive(Debug, Clone)]
enum Backing {
    /// A window of a file, read with `pread`.
    File(Arc<File>),
    /// Bytes kept in memory (small members of compressed archives).
    Memory(Arc<Vec<u8>>),
    /// Bytes handed to a visitor at open and not kept.
    Streamed,
}

impl MemberReader {
    /// The error every read of a streamed member gives.
    pub(super) fn streamed_error(&self) -> io::Error {
        io::Error::other(format!(
            "{}: its bytes were searched as the compressed archive streamed by and were not kept (open the archive without streaming to read them)",
            self.name
        ))
    }
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let dst = buf.get_mut(..want).unwrap_or_default();
        let n = match &self.backing {
            Backing::File(file) => file.read_at(dst, self.base + self.pos)?,
            Backing::Streamed => return Err(self.streamed_error()),
            Backing::Memory(bytes) => {
                let from = usize::try_from(self.pos).unwrap_or(usize::MAX);
                let src = bytes.get(from..).unwrap_or_default();
                let n = src.len().min(dst.len());
                dst.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(src.get(..n).unwrap_or_default());
                n
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: ends early at offset {}", self.name, self.pos),
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for MemberReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            // Keep base + pos from overflowing in later reads.
            Some(pos) if pos <= u64::MAX - self.base => {
                self.pos = pos;
                Ok(pos)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: seek to {to:?} is out of range", self.name),
            )),
        }
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

//! [`PagesReader`]: `Read + Seek` over one `pages-<id>.img`, wherever its bytes live.
//!
//! The reader is a window `[base, base + len)` of a file read with positional reads (`pread`), so
//! several readers can share one file handle, seeking is free, and nothing is buffered: a plain
//! tar's member is a window of the archive file itself, a compressed archive's member is its own
//! spooled temporary file, and an image directory's member is the file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Reads the raw page data of `checkpoint/pages-<id>.img`.
///
/// Invariants: positions are relative to the start of the pages image (byte 0 is the first byte
/// of the first present page in pagemap order); reads never return bytes past [`PagesReader::len`]
/// (the image's end is EOF even when the archive goes on); seeking past the end is allowed and
/// reads there return 0 bytes. The reader holds no buffer: wrap it in a `BufReader` for small
/// reads, or read large chunks directly.
#[derive(Debug, Clone)]
pub struct PagesReader {
    backing: Backing,
    base: u64,
    len: u64,
    pos: u64,
    name: String,
}

impl PagesReader {
    pub(super) fn new(file: Arc<File>, base: u64, len: u64, name: String) -> Self {
        PagesReader {
            backing: Backing::File(file),
            base,
            len,
            pos: 0,
            name,
        }
    }

    pub(super) fn from_memory(bytes: Arc<Vec<u8>>, name: String) -> Self {
        PagesReader {
            len: bytes.len() as u64,
            backing: Backing::Memory(bytes),
            base: 0,
            pos: 0,
            name,
        }
    }

    /// The size of the pages image in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if the image holds no pages.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the image comes from, for messages: `ARCHIVE:checkpoint/pages-<id>.img`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Fills `buf` from `offset` of the pages image without moving the reader's position.
    ///
    /// Fails with `UnexpectedEof` if `offset + buf.len()` is past the end of the image.
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
}

impl Read for PagesReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let dst = buf.get_mut(..want).unwrap_or_default();
        let n = match &self.backing {
            Backing::File(file) => file.read_at(dst, self.base + self.pos)?,
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

impl Seek for PagesReader {
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

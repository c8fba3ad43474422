//! A small, defensive walker over tar headers: ustar, pax (`x`/`g`) and GNU long names (`L`/`K`).
//!
//! It reads one header block at a time from any [`Source`] (a seekable file or a decompressing
//! stream), hands out the member's data through a bounded reader, and skips whatever the caller did
//! not read. It never allocates by a declared length: pax and long-name data are capped at
//! [`EXTENSION_LIMIT`], and member data are only ever read through a `take(size)` window.
//!
//! The walker does not judge member names (that is the caller's policy), but it is strict about the
//! archive's end: input that stops before the end-of-archive block is reported as truncated, so a
//! tar cut at a member boundary is not mistaken for a complete one.

use std::io::{self, Read};

use super::Error;

/// The tar block size.
pub(super) const BLOCK: u64 = 512;

/// The largest pax extended header or GNU long name we read.
pub(super) const EXTENSION_LIMIT: u64 = 1 << 20;

/// What a tar member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    /// A regular file (typeflag `0`, NUL or `7`).
    File,
    /// A directory (`5`).
    Directory,
    /// A symbolic link (`2`); never followed.
    Symlink,
    /// A hard link to another member (`1`); never followed.
    Hardlink,
    /// A GNU sparse file (typeflag `S`, or pax `GNU.sparse.*` records, as `tar --sparse`
    /// writes): its data is a map of the file's regions, not the file, and is never read as it.
    Sparse,
    /// Anything else: devices, FIFOs, volume labels.
    Other,
}

impl MemberKind {
    /// The short name reports use (`file`, `dir`, `symlink`, `hardlink`, `sparse`, `other`).
    pub fn short_name(self) -> &'static str {
        match self {
            MemberKind::File => "file",
            MemberKind::Directory => "dir",
            MemberKind::Symlink => "symlink",
            MemberKind::Hardlink => "hardlink",
            MemberKind::Sparse => "sparse",
            MemberKind::Other => "other",
        }
    }

    /// A word for messages.
    pub fn describe(self) -> &'static str {
        match self {
            MemberKind::File => "regular file",
            MemberKind::Directory => "directory",
            MemberKind::Symlink => "symbolic link",
            MemberKind::Hardlink => "hard link",
            MemberKind::Sparse => "GNU sparse file (tar --sparse)",
            MemberKind::Other => "special file",
        }
    }
}

/// One member's header, after pax and GNU long-name records were applied.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The name as stored (lossy UTF-8), not yet normalised.
    pub name: String,
    /// The link target of symlinks and hard links.
    pub link_name: Option<String>,
    pub kind: MemberKind,
    /// Bytes of data that follow the header (0 for links, directories and devices).
    pub size: u64,
    /// Byte offset of the member's (last) header block in the tar stream.
    pub header_offset: u64,
    /// Byte offset of the member's data in the tar stream.
    pub data_offset: u64,
}

/// What follows a tar's end-of-archive block, as [`Walker::scan_trailer`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Trailer {
    /// Offset of the end-of-archive block (the first all-zero header block).
    pub end_block: u64,
    /// Bytes read after that block (at most the scan limit).
    pub scanned: u64,
    /// Offset of the first byte after it that is not zero.
    pub first_nonzero: Option<u64>,
    /// True if more bytes follow than were scanned.
    pub more: bool,
}

/// Where tar bytes come from.
pub(super) trait Source: Read {
    /// Skips up to `n` bytes; returns how many were skipped (fewer only at the end of input).
    fn skip(&mut self, n: u64) -> io::Result<u64>;
}

/// A decompressing (or any other forward-only) stream: skipping reads and discards.
pub(super) struct StreamSource<R>(pub R);

impl<R: Read> Read for StreamSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> Source for StreamSource<R> {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        io::copy(&mut (&mut self.0).take(n), &mut io::sink())
    }
}

/// A seekable file of known length: skipping seeks, so indexing a plain tar reads headers only.
///
/// Runs of small members are read [`FileSource::RUN`] bytes at a time. After a skip past the
/// buffer (a large member's data), only the rest of the page holding the next header is read:
/// a larger read there would read (and make the kernel read ahead) the data of the member
/// that follows, which for a pages file is what the index means to skip.
pub(super) struct FileSource {
    file: std::fs::File,
    len: u64,
    /// Offset in the file of `buf[0]`.
    base: u64,
    buf: Vec<u8>,
    /// Bytes of `buf` read from the file.
    filled: usize,
    /// Bytes of `buf` handed out or skipped.
    used: usize,
    /// True after a skip past the buffer: the next read is one page.
    skipped: bool,
}

impl FileSource {
    /// Bytes read at a time through a run of small members.
    const RUN: usize = 64 * 1024;
    /// The page the header after a skip is read from.
    const PAGE: u64 = 4096;

    pub fn new(file: std::fs::File, len: u64) -> Self {
        FileSource {
            file,
            len,
            base: 0,
            buf: vec![0; Self::RUN],
            filled: 0,
            used: 0,
            skipped: false,
        }
    }

    /// The file offset of the next byte.
    fn pos(&self) -> u64 {
        self.base + self.used as u64
    }
}

impl Read for FileSource {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        if self.used == self.filled {
            let pos = self.pos();
            let left = self.len.saturating_sub(pos);
            let want = if self.skipped {
                (Self::PAGE - pos % Self::PAGE).max(BLOCK)
            } else {
                Self::RUN as u64
            };
            let want = usize::try_from(want.min(left)).unwrap_or(Self::RUN);
            let space = self.buf.get_mut(..want).unwrap_or_default();
            let n = loop {
                match self.file.read_at(space, pos) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.base = pos;
            self.filled = n;
            self.used = 0;
            self.skipped = false;
        }
        let have = self.buf.get(self.used..self.filled).unwrap_or_default();
        let n = have.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), have.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.used += n;
        Ok(n)
    }
}

impl Source for FileSource {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let step = n.min(self.len.saturating_sub(self.pos()));
        let in_buf = (self.filled - self.used) as u64;
        if step <= in_buf {
            self.used += step as usize;
        } else {
            self.base = self.pos() + step;
            self.filled = 0;
            self.used = 0;
            self.skipped = true;
        }
        Ok(step)
    }
}

/// Walks the members of one tar stream in order.
pub(super) struct Walker<S> {
    src: S,
    archive: String,
    /// What `src` is, for messages (`tar file`, `gzip stream`).
    stream: &'static str,
    /// Offset in the tar stream of the next byte `src` yields.
    pos: u64,
    /// Data bytes of the current member not yet consumed by the caller.
    remaining: u64,
    /// Padding after the current member's data.
    padding: u64,
    /// The current member, for error messages.
    current: Option<(String, u64, u64)>,
    done: bool,
}

#[derive(Default)]
struct Pending {
    path: Option<String>,
    link_path: Option<String>,
    size: Option<u64>,
    /// Pax `GNU.sparse.*` records: the member that follows is a sparse file.
    sparse: bool,
}

impl<S: Source> Walker<S> {
    /// A walker over `src`; `archive` names the archive and `stream` what `src` is in errors.
    pub fn new(src: S, archive: &str, stream: &'static str) -> Self {
        Walker {
            src,
            archive: archive.to_owned(),
            stream,
            pos: 0,
            remaining: 0,
            padding: 0,
            current: None,
            done: false,
        }
    }

    /// The next member, or `None` after the end-of-archive block.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Error> {
        if self.done {
            return Ok(None);
        }
        self.finish_current()?;
        let mut pending = Pending::default();
        loop {
            let header_offset = self.pos;
            let mut block = [0u8; BLOCK as usize];
            let got = self.read_block(&mut block)?;
            if got == 0 {
                return Err(Error::Truncated {
                    archive: self.archive.clone(),
                    offset: header_offset,
                });
            }
            if got < block.len() {
                return Err(Error::BadHeader {
                    archive: self.archive.clone(),
                    offset: header_offset,
                    reason: format!("only {got} of 512 header bytes before the end (truncated)"),
                });
            }
            if block.iter().all(|&b| b == 0) {
                self.done = true;
                return Ok(None);
            }
            let header =
                Header::parse(&block).map_err(|reason| self.bad_header(header_offset, reason))?;
            if header.sparse_extended {
                self.skip_sparse_extensions(header_offset)?;
            }
            let data_offset = self.pos;
            let typeflag = header.typeflag;
            match typeflag {
                b'x' | b'g' | b'L' | b'K' => {
                    let data = self.read_extension(&header, header_offset)?;
                    match typeflag {
                        b'x' => parse_pax(&data, &mut pending)
                            .map_err(|reason| self.bad_header(header_offset, reason))?,
                        b'L' => pending.path = Some(c_string(&data)),
                        b'K' => pending.link_path = Some(c_string(&data)),
                        // Global pax headers set defaults we have no use for.
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
            let kind = match typeflag {
                _ if pending.sparse => MemberKind::Sparse,
                b'S' => MemberKind::Sparse,
                b'0' | 0 | b'7' => MemberKind::File,
                b'1' => MemberKind::Hardlink,
                b'2' => MemberKind::Symlink,
                b'5' => MemberKind::Directory,
                _ => MemberKind::Other,
            };
            // Links, devices, directories and FIFOs carry no data, whatever the size field says.
            let header_only = matches!(typeflag, b'1'..=b'6');
            let declared = pending.size.unwrap_or(header.size);
            let size = if header_only { 0 } else { declared };
            let name = pending.path.take().unwrap_or(header.name);
            let link_name = match kind {
                MemberKind::Symlink | MemberKind::Hardlink => {
                    Some(pending.link_path.take().unwrap_or(header.link_name))
                }
                _ => None,
            };
            self.remaining = size;
            self.padding = pad(size);
            self.current = Some((name.clone(), data_offset, size));
            return Ok(Some(Entry {
                name,
                link_name,
                kind,
                size,
                header_offset,
                data_offset,
            }));
        }
    }

    /// Skips the extension blocks of a GNU sparse header's region map (each says whether
    /// another follows, in byte 504), at most [`EXTENSION_LIMIT`] bytes of them.
    fn skip_sparse_extensions(&mut self, header_offset: u64) -> Result<(), Error> {
        let mut block = [0u8; BLOCK as usize];
        for _ in 0..EXTENSION_LIMIT / BLOCK {
            let at = self.pos;
            if self.read_block(&mut block)? < block.len() {
                return Err(Error::Truncated {
                    archive: self.archive.clone(),
                    offset: at,
                });
            }
            if block[504] == 0 {
                return Ok(());
            }
        }
        Err(self.bad_header(
            header_offset,
            format!("the sparse map goes on past {EXTENSION_LIMIT} bytes of extension blocks"),
        ))
    }

    /// After the end-of-archive block: reads on towards the end of the input (at most `limit`
    /// more bytes, plus one to tell whether more follow), so that a compressed stream's own end
    /// and checksum are checked too, and says what lies there. Tar writers pad with zeros (the
    /// second end block, then up to a record); anything else is data other tools may read.
    pub fn scan_trailer(&mut self, limit: u64) -> Result<Trailer, Error> {
        let end_block = self.pos.saturating_sub(BLOCK);
        let mut trailer = Trailer {
            end_block,
            scanned: 0,
            first_nonzero: None,
            more: false,
        };
        let mut buf = [0u8; 64 * 1024];
        let mut reader = (&mut self.src).take(limit.saturating_add(1));
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::Read {
                        archive: self.archive.clone(),
                        stream: self.stream,
                        offset: self.pos,
                        source: io::Error::new(
                            e.kind(),
                            format!("after the end-of-archive block at byte {end_block}: {e}"),
                        ),
                    })
                }
            };
            let chunk = buf.get(..n).unwrap_or_default();
            if trailer.first_nonzero.is_none() {
                if let Some(at) = chunk.iter().position(|&b| b != 0) {
                    trailer.first_nonzero = Some(self.pos + at as u64);
                }
            }
            self.pos = self.pos.saturating_add(n as u64);
            trailer.scanned += n as u64;
        }
        if trailer.scanned > limit {
            trailer.more = true;
            trailer.scanned = limit;
        }
        Ok(trailer)
    }

    /// A reader over the rest of the current member's data. Reading fewer bytes than the member
    /// holds is fine: the next [`Walker::next_entry`] skips the rest.
    pub fn data(&mut self) -> MemberData<'_, S> {
        MemberData { walker: self }
    }

    /// Consumes the current member's data (through `data()`, or by skipping) and checks it was all there.
    fn finish_current(&mut self) -> Result<(), Error> {
        if self.remaining > 0 {
            let want = self.remaining;
            let skipped = self.src.skip(want).map_err(|e| self.read_error(e))?;
            self.pos = self.pos.saturating_add(skipped);
            self.remaining = want - skipped.min(want);
            if self.remaining > 0 {
                return Err(self.truncated_member());
            }
        }
        if self.padding > 0 {
            let want = self.padding;
            let skipped = self.src.skip(want).map_err(|e| self.read_error(e))?;
            self.pos = self.pos.saturating_add(skipped);
            self.padding = 0;
            if skipped < want {
                return Err(Error::Truncated {
                    archive: self.archive.clone(),
                    offset: self.pos,
                });
            }
        }
        self.current = None;
        Ok(())
    }

    /// The error for a member whose data ended early.
    pub fn truncated_member(&self) -> Error {
        let (member, offset, size) = self.current.clone().unwrap_or_default();
        Error::TruncatedMember {
            archive: self.archive.clone(),
            member,
            offset,
            size,
            end: self.pos,
        }
    }

    fn read_block(&mut self, block: &mut [u8]) -> Result<usize, Error> {
        let mut got = 0;
        while got < block.len() {
            let rest = block.get_mut(got..).unwrap_or_default();
            match self.src.read(rest) {
                Ok(0) => break,
                Ok(n) => {
                    got += n;
                    self.pos = self.pos.saturating_add(n as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        }
        Ok(got)
    }

    fn read_extension(&mut self, header: &Header, header_offset: u64) -> Result<Vec<u8>, Error> {
        if header.size > EXTENSION_LIMIT {
            return Err(self.bad_header(
                header_offset,
                format!(
                    "extended header of {} bytes (more than {EXTENSION_LIMIT})",
                    header.size
                ),
            ));
        }
        self.remaining = header.size;
        self.padding = pad(header.size);
        self.current = Some(("(extended header)".to_owned(), self.pos, header.size));
        let mut data = Vec::with_capacity(header.size.min(64 * 1024) as usize);
        self.data()
            .read_to_end(&mut data)
            .map_err(|e| self.read_error(e))?;
        self.finish_current()?;
        Ok(data)
    }

    fn bad_header(&self, offset: u64, reason: String) -> Error {
        Error::BadHeader {
            archive: self.archive.clone(),
            offset,
            reason,
        }
    }

    /// The error for a failed read (or decompression) at the current position.
    pub fn read_error(&self, source: io::Error) -> Error {
        Error::Read {
            archive: self.archive.clone(),
            stream: self.stream,
            offset: self.pos,
            source,
        }
    }
}

/// The data of the walker's current member; reads stop at its end.
pub(super) struct MemberData<'a, S> {
    walker: &'a mut Walker<S>,
}

impl<S: Source> Read for MemberData<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let w = &mut *self.walker;
        let max = usize::try_from(w.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if max == 0 {
            return Ok(0);
        }
        let n = w.src.read(buf.get_mut(..max).unwrap_or_default())?;
        w.remaining -= (n as u64).min(w.remaining);
        w.pos = w.pos.saturating_add(n as u64);
        Ok(n)
    }
}

/// True if `head` starts with a valid tar header block (checksum right).
pub(super) fn looks_like_header(head: &[u8]) -> bool {
    <&[u8; BLOCK as usize]>::try_from(head.get(..BLOCK as usize).unwrap_or_default())
        .is_ok_and(|block| Header::parse(block).is_ok())
}

/// Padding that follows `size` data bytes.
fn pad(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// The fields of one header block we use.
struct Header {
    name: String,
    link_name: String,
    size: u64,
    typeflag: u8,
    /// A GNU sparse header (`S`) whose region map goes on in extension blocks after it.
    sparse_extended: bool,
}

impl Header {
    fn parse(block: &[u8; BLOCK as usize]) -> Result<Header, String> {
        let field = |from: usize, to: usize| block.get(from..to).unwrap_or_default();
        let stored = parse_octal(field(148, 156))
            .ok_or_else(|| "checksum field is not octal (not a tar header?)".to_owned())?;
        // The sums with the checksum field counted as eight spaces: every byte summed, then
        // the field's own bytes swapped for spaces (two plain sums the compiler vectorises).
        let checksum_field = field(148, 156);
        let unsigned: u64 = block.iter().map(|&b| u64::from(b)).sum::<u64>()
            - checksum_field.iter().map(|&b| u64::from(b)).sum::<u64>()
            + 8 * 32;
        let signed: i64 = block.iter().map(|&b| i64::from(b as i8)).sum::<i64>()
            - checksum_field
                .iter()
                .map(|&b| i64::from(b as i8))
                .sum::<i64>()
            + 8 * 32;
        if stored != unsigned && i64::try_from(stored).ok() != Some(signed) {
            return Err(format!(
                "checksum {stored:o} does not match the header's {unsigned:o} (not a tar header, or corrupt)"
            ));
        }
        let typeflag = block[156];
        let size = parse_size(field(124, 136))?;
        let mut name = c_string(field(0, 100));
        // POSIX ustar ("ustar\0") keeps a name prefix; GNU ("ustar  ") uses that space otherwise.
        if field(257, 263) == b"ustar\0" {
            let prefix = c_string(field(345, 500));
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        Ok(Header {
            name,
            link_name: c_string(field(157, 257)),
            size,
            typeflag,
            sparse_extended: typeflag == b'S' && block[482] != 0,
        })
    }
}

/// The text before the first NUL, as lossy UTF-8.
fn c_string(bytes: &[u8]) -> String {
    let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

/// An octal number padded with spaces or NULs; `None` if other characters occur.
fn parse_octal(bytes: &[u8]) -> Option<u64> {
    let text = bytes
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| b != b' ' && b != 0);
    let mut value: u64 = 0;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(value)
}

/// The size field: octal, or GNU base-256 when the first byte's high bit is set.
fn parse_size(bytes: &[u8]) -> Result<u64, String> {
    match bytes.first() {
        Some(&first) if first & 0x80 != 0 => {
            if first == 0xff {
                return Err("negative size field".to_owned());
            }
            let mut value: u64 = u64::from(first & 0x7f);
            for &b in bytes.get(1..).unwrap_or_default() {
                value = value
                    .checked_mul(256)
                    .and_then(|v| v.checked_add(u64::from(b)))
                    .ok_or_else(|| "size field overflows 64 bits".to_owned())?;
            }
            Ok(value)
        }
        _ => parse_octal(bytes).ok_or_else(|| "size field is not octal".to_owned()),
    }
}

/// Applies the records of a pax extended header (`"<len> <key>=<value>\n"`).
fn parse_pax(mut data: &[u8], pending: &mut Pending) -> Result<(), String> {
    while !data.is_empty() && data.iter().any(|&b| b != 0) {
        let space = memchr::memchr(b' ', data).ok_or("pax record without a length")?;
        let len: usize = std::str::from_utf8(data.get(..space).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("pax record length is not a number")?;
        let record = data
            .get(..len)
            .filter(|r| len > space + 1 && r.last() == Some(&b'\n'))
            .ok_or("pax record length runs past its header")?;
        let body = record.get(space + 1..len - 1).unwrap_or_default();
        let eq = memchr::memchr(b'=', body).ok_or("pax record without `=`")?;
        let key = body.get(..eq).unwrap_or_default();
        let value = body.get(eq + 1..).unwrap_or_default();
        match key {
            b"path" => pending.path = Some(String::from_utf8_lossy(value).into_owned()),
            b"linkpath" => pending.link_path = Some(String::from_utf8_lossy(value).into_owned()),
            key if key.starts_with(b"GNU.sparse.") => {
                pending.sparse = true;
                if key == b"GNU.sparse.name" {
                    pending.path = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
            b"size" => {
                let size = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or("pax size is not a number")?;
                pending.size = Some(size);
            }
            _ => {}
        }
        data = data.get(len..).unwrap_or_default();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_octal_and_base256() {
        let cases: &[(&[u8], Result<u64, ()>)] = &[
            (b"00000000644\0", Ok(0o644)),
            (b"        12 \0", Ok(0o12)),
            (b"\0\0\0\0\0\0\0\0\0\0\0\0", Ok(0)),
            (b"0000000008\0\0", Err(())),
            (&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], Ok(256)),
            (&[0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], Err(())),
            (&[0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Err(())),
        ];
        for (bytes, want) in cases {
            assert_eq!(parse_size(bytes).map_err(|_| ()), *want, "{bytes:?}");
        }
    }

    #[test]
    fn pax_records_set_path_and_size() {
        let mut p = Pending::default();
        parse_pax(b"31 path=checkpoint/pages-1.img\n13 size=4096\n", &mut p).unwrap();
        assert_eq!(p.path.as_deref(), Some("checkpoint/pages-1.img"));
        assert_eq!(p.size, Some(4096));
        for bad in [
            &b"99 path=x\n"[..],
            b"x path=y\n",
            b"5 ab\n",
            b"12 path=abc",
        ] {
            assert!(parse_pax(bad, &mut Pending::default()).is_err(), "{bad:?}");
        }
    }
}

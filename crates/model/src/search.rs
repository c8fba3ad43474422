//! Streaming search of process memory: one sequential pass over a pages file through a fixed-size
//! buffer, reporting each match with its virtual address.
//!
//! The pages file is read segment by segment (see [`Segment`]): runs that follow each other both in
//! memory and in the file are searched as one stream, so a match spanning two such runs is found;
//! runs that are not contiguous in memory never produce a match across their edge. Between buffer
//! refills the last bytes are kept (the longest possible match plus the context), so matches that
//! cross a buffer edge are found exactly once. Matches do not overlap (like `grep -o`).
//!
//! A regex whose matches can be longer than [`REGEX_WINDOW`] bytes may have such long matches cut
//! at a buffer edge; literal searches have no such limit.

use std::io::{self, Read, Seek, SeekFrom};

use memchr::memmem;
use regex::bytes::Regex;

use crate::dump::layout::Segment;

/// Bytes read per refill.
pub const CHUNK_SIZE: usize = 1 << 20;
/// Longest regex match guaranteed to be found across buffer edges, for unbounded regexes.
pub const REGEX_WINDOW: usize = 4096;

/// Why a pattern cannot be searched for.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// The search string is empty.
    #[error("the search string is empty")]
    Empty,
    /// The regex does not compile.
    #[error("invalid regex: {0}")]
    Regex(#[from] regex::Error),
    /// The regex matches the empty string, which would match at every address.
    #[error("the regex `{0}` matches the empty string")]
    MatchesEmpty(String),
}

/// What to look for: a literal byte string or a byte regex.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A literal, searched with `memchr::memmem`.
    Literal(Box<memmem::Finder<'static>>),
    /// A regex over bytes, with the longest match length it can produce if bounded.
    Regex(Regex, Option<usize>),
}

impl Matcher {
    /// A literal matcher.
    pub fn literal(needle: &[u8]) -> Result<Self, PatternError> {
        if needle.is_empty() {
            return Err(PatternError::Empty);
        }
        Ok(Matcher::Literal(Box::new(
            memmem::Finder::new(needle).into_owned(),
        )))
    }

    /// A regex matcher (`regex::bytes` syntax; Unicode off by default is not assumed).
    pub fn regex(pattern: &str) -> Result<Self, PatternError> {
        let regex = Regex::new(pattern)?;
        let hir =
            regex_syntax::parse(pattern).map_err(|err| regex::Error::Syntax(err.to_string()))?;
        let props = hir.properties();
        if props.minimum_len().unwrap_or(0) == 0 {
            return Err(PatternError::MatchesEmpty(pattern.to_owned()));
        }
        Ok(Matcher::Regex(regex, props.maximum_len()))
    }

    /// Bytes a match may span beyond its first byte, for the buffer overlap.
    fn reach(&self) -> usize {
        match self {
            Matcher::Literal(finder) => finder.needle().len(),
            Matcher::Regex(_, Some(max)) => (*max).min(REGEX_WINDOW),
            Matcher::Regex(_, None) => REGEX_WINDOW,
        }
    }

    /// The first match starting at or after `from`, as (start, end).
    fn find_at(&self, haystack: &[u8], from: usize) -> Option<(usize, usize)> {
        match self {
            Matcher::Literal(finder) => {
                let start = from + finder.find(haystack.get(from..)?)?;
                Some((start, start + finder.needle().len()))
            }
            Matcher::Regex(regex, _) => regex
                .find_at(haystack, from)
                .map(|found| (found.start(), found.end())),
        }
    }
}

/// One match, borrowed from the search buffer.
#[derive(Debug)]
pub struct Match<'a> {
    /// Virtual address of the first matched byte.
    pub vaddr: u64,
    /// Byte offset of the first matched byte in the pages file.
    pub pages_offset: u64,
    /// Up to `context` bytes before the match (fewer at a segment start).
    pub before: &'a [u8],
    /// The matched bytes.
    pub matched: &'a [u8],
    /// Up to `context` bytes after the match (fewer at a segment end).
    pub after: &'a [u8],
}

/// Receives matches and progress.
pub trait SearchSink {
    /// Called for each match in address order within a segment; return `false` to stop.
    fn matched(&mut self, found: &Match<'_>) -> bool;
    /// Called after each refill with the number of new bytes read.
    fn progress(&mut self, _bytes: u64) {}
    /// Called before the matches of another pages file, with its name.
    fn pages_file(&mut self, _name: &str) {}
}

/// A failure while streaming the pages file.
#[derive(Debug, thiserror::Error)]
#[error("reading {len} bytes at offset {offset:#x} (virtual address {vaddr:#x})")]
pub struct ReadError {
    /// Byte offset in the pages file.
    pub offset: u64,
    /// Virtual address of that byte.
    pub vaddr: u64,
    /// Bytes asked for.
    pub len: u64,
    /// The cause (`UnexpectedEof` for a short file).
    #[source]
    pub source: io::Error,
}

/// Searches `segments` of `pages` (in the given order, which should be file order) for `matcher`,
/// with `context` bytes of context on each side of a match. Returns `Ok(false)` if the sink
/// stopped the search.
///
/// Memory use is one buffer of about [`CHUNK_SIZE`] bytes, whatever the file size.
pub fn search_segments<R: Read + Seek>(
    pages: &mut R,
    segments: &[Segment],
    matcher: &Matcher,
    context: usize,
    sink: &mut dyn SearchSink,
) -> Result<bool, ReadError> {
    let mut buf = SearchBuffer::new(matcher, context);
    let mut position: Option<u64> = None;
    for segment in segments {
        if position != Some(segment.pages_offset) {
            pages
                .seek(SeekFrom::Start(segment.pages_offset))
                .map_err(|source| ReadError {
                    offset: segment.pages_offset,
                    vaddr: segment.vaddr,
                    len: segment.len,
                    source,
                })?;
        }
        if !search_segment(pages, segment, matcher, context, sink, &mut buf)? {
            return Ok(false);
        }
        position = segment.pages_offset.checked_add(segment.len);
    }
    Ok(true)
}

/// The buffer of a search: about [`CHUNK_SIZE`] bytes, more when the matcher's reach and the
/// context need it. One serves every segment of a search.
pub struct SearchBuffer {
    buf: Vec<u8>,
}

impl SearchBuffer {
    /// A buffer for `matcher` with `context` bytes of context.
    pub fn new(matcher: &Matcher, context: usize) -> Self {
        let tail = matcher.reach() + context;
        let keep_before = context + 8;
        SearchBuffer {
            buf: vec![0u8; CHUNK_SIZE.max(4 * (tail + keep_before))],
        }
    }
}

/// Searches one segment of `pages`, which must be positioned at the segment's first byte: the
/// segment is one stream (nothing is found across its edges). Returns `Ok(false)` if the sink
/// stopped the search.
pub fn search_segment<R: Read + ?Sized>(
    pages: &mut R,
    segment: &Segment,
    matcher: &Matcher,
    context: usize,
    sink: &mut dyn SearchSink,
    buffer: &mut SearchBuffer,
) -> Result<bool, ReadError> {
    // A match starting at `p` is reported only once the buffer holds `p + tail` bytes (or the
    // segment ended), so that the whole match and its after-context are in the buffer.
    let tail = matcher.reach() + context;
    let keep_before = context + 8; // before-context plus a little for look-behind assertions
    let buf = &mut buffer.buf;
    let capacity = buf.len();
    let mut filled = 0usize; // bytes valid in buf
    let mut buf_vaddr = segment.vaddr; // address of buf[0]
    let mut buf_offset = segment.pages_offset; // file offset of buf[0]
    let mut search_from = 0usize;
    let mut remaining = segment.len;
    loop {
        while filled < capacity && remaining > 0 {
            let want = (capacity - filled).min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let read_at = buf_offset + filled as u64;
            let space = buf.get_mut(filled..filled + want).unwrap_or_default();
            let read = read_some(pages, space).map_err(|source| ReadError {
                offset: read_at,
                vaddr: buf_vaddr + filled as u64,
                len: remaining,
                source,
            })?;
            filled += read;
            remaining -= read as u64;
            sink.progress(read as u64);
        }
        let at_end = remaining == 0;
        let data = buf.get(..filled).unwrap_or_default();
        let limit = if at_end {
            filled
        } else {
            filled.saturating_sub(tail)
        };
        let mut next = search_from;
        while let Some((start, end)) = matcher.find_at(data, next) {
            if start >= limit {
                break;
            }
            let found = Match {
                vaddr: buf_vaddr + start as u64,
                pages_offset: buf_offset + start as u64,
                before: data
                    .get(start.saturating_sub(context)..start)
                    .unwrap_or_default(),
                matched: data.get(start..end).unwrap_or_default(),
                after: data.get(end..filled.min(end + context)).unwrap_or_default(),
            };
            if !sink.matched(&found) {
                return Ok(false);
            }
            next = if end > start { end } else { start + 1 };
        }
        if at_end {
            return Ok(true);
        }
        let resume = next.max(limit);
        let keep_from = resume.saturating_sub(keep_before);
        buf.copy_within(keep_from..filled, 0);
        filled -= keep_from;
        buf_vaddr += keep_from as u64;
        buf_offset += keep_from as u64;
        search_from = resume - keep_from;
    }
}

/// A stream read front to back (a file of `rootfs-diff.tar`, for [`search_segments`] or the
/// secrets scanner): seeking is allowed only to where it already is, which is all a search of
/// one segment from offset 0 does.
pub struct Sequential<'a> {
    inner: &'a mut dyn Read,
    pos: u64,
}

impl<'a> Sequential<'a> {
    /// Wraps a stream at its start.
    pub fn new(inner: &'a mut dyn Read) -> Self {
        Sequential { inner, pos: 0 }
    }
}

impl Read for Sequential<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Sequential<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match to {
            SeekFrom::Start(at) if at == self.pos => Ok(self.pos),
            SeekFrom::Current(0) => Ok(self.pos),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a stream is read front to back",
            )),
        }
    }
}

/// Reads at least one byte into a non-empty `buf`, retrying on interruption; a premature end of
/// file is `UnexpectedEof`.
fn read_some<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(0) if !buf.is_empty() => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the pages file ends early",
                ))
            }
            Ok(read) => return Ok(read),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Cursor;

    /// (vaddr, pages offset, before, matched, after)
    pub(crate) type Hit = (u64, u64, Vec<u8>, Vec<u8>, Vec<u8>);

    /// A sink that keeps every hit and counts the bytes searched (the streamed search's
    /// tests use it too).
    #[derive(Default)]
    pub(crate) struct Collect {
        pub(crate) hits: Vec<Hit>,
        pub(crate) bytes: u64,
    }

    impl SearchSink for Collect {
        fn matched(&mut self, found: &Match<'_>) -> bool {
            self.hits.push((
                found.vaddr,
                found.pages_offset,
                found.before.to_vec(),
                found.matched.to_vec(),
                found.after.to_vec(),
            ));
            true
        }
        fn progress(&mut self, bytes: u64) {
            self.bytes += bytes;
        }
    }

    fn run(data: &[u8], segments: &[Segment], matcher: &Matcher, context: usize) -> Collect {
        let mut sink = Collect::default();
        let done = search_segments(
            &mut Cursor::new(data),
            segments,
            matcher,
            context,
            &mut sink,
        );
        assert!(matches!(done, Ok(true)));
        sink
    }

    /// Reference: every non-overlapping match inside each segment, found on the whole segment slice.
    fn naive(data: &[u8], segments: &[Segment], needle: &[u8]) -> Vec<u64> {
        let mut out = Vec::new();
        for seg in segments {
            let start = seg.pages_offset as usize;
            let slice = &data[start..start + seg.len as usize];
            let mut pos = 0;
            while let Some(idx) = memmem::find(&slice[pos..], needle) {
                out.push(seg.vaddr + (pos + idx) as u64);
                pos += idx + needle.len();
            }
        }
        out
    }

    #[test]
    fn finds_matches_across_buffer_edges_once() {
        let needle = b"NEEDLE_0123456789";
        let len = 3 * CHUNK_SIZE + 12345;
        let mut data = vec![b'x'; len];
        // Plant a needle at every position near each chunk edge, and some elsewhere.
        let mut planted = Vec::new();
        for edge in [
            CHUNK_SIZE,
            2 * CHUNK_SIZE - needle.len() - 3,
            3 * CHUNK_SIZE - 40,
        ] {
            for delta in 0..needle.len() + 2 {
                let at = edge - needle.len() - 1 + delta * (needle.len() + 1) * 2;
                if at + needle.len() <= len {
                    data[at..at + needle.len()].copy_from_slice(needle);
                    planted.push(at);
                }
            }
        }
        data[7..7 + needle.len()].copy_from_slice(needle);
        let segs = [Segment {
            vaddr: 0x10000,
            len: len as u64,
            pages_offset: 0,
        }];
        let matcher = Matcher::literal(needle).unwrap();
        let sink = run(&data, &segs, &matcher, 5);
        let got: Vec<u64> = sink.hits.iter().map(|h| h.0).collect();
        assert_eq!(got, naive(&data, &segs, needle));
        assert!(got.len() > 10);
        assert_eq!(sink.bytes, len as u64);
        for (vaddr, offset, before, matched, after) in &sink.hits {
            assert_eq!(*offset, vaddr - 0x10000);
            assert_eq!(matched, needle);
            let at = *offset as usize;
            assert_eq!(before, &data[at.saturating_sub(5)..at]);
            assert_eq!(
                after,
                &data[at + needle.len()..(at + needle.len() + 5).min(len)]
            );
        }
    }

    #[test]
    fn spans_contiguous_runs_but_not_gaps() {
        // Two segments back to back in the file: "...SEC" | "RET..." is not contiguous in memory.
        let mut data = vec![0u8; 3 * 4096];
        data[4096 - 3..4096 + 3].copy_from_slice(b"SECRET");
        data[2 * 4096 - 3..2 * 4096 + 3].copy_from_slice(b"SECRET");
        let segs = [
            Segment {
                vaddr: 0x1000,
                len: 4096,
                pages_offset: 0,
            },
            Segment {
                vaddr: 0x9000,
                len: 2 * 4096,
                pages_offset: 4096,
            },
        ];
        let sink = run(&data, &segs, &Matcher::literal(b"SECRET").unwrap(), 2);
        let got: Vec<(u64, u64)> = sink.hits.iter().map(|h| (h.0, h.1)).collect();
        assert_eq!(got, vec![(0x9000 + 4096 - 3, 2 * 4096 - 3)]);
    }

    #[test]
    fn segments_out_of_file_order_seek() {
        let mut data = vec![0u8; 2 * 4096];
        data[10..14].copy_from_slice(b"KEY1");
        data[4096 + 20..4096 + 24].copy_from_slice(b"KEY2");
        let segs = [
            Segment {
                vaddr: 0x5000,
                len: 4096,
                pages_offset: 4096,
            },
            Segment {
                vaddr: 0x1000,
                len: 4096,
                pages_offset: 0,
            },
        ];
        let sink = run(&data, &segs, &Matcher::regex("KEY[0-9]").unwrap(), 0);
        let got: Vec<(u64, Vec<u8>)> = sink.hits.iter().map(|h| (h.0, h.3.clone())).collect();
        assert_eq!(
            got,
            vec![
                (0x5000 + 20, b"KEY2".to_vec()),
                (0x1000 + 10, b"KEY1".to_vec())
            ]
        );
    }

    #[test]
    fn regex_matches_across_buffer_edge() {
        let len = 2 * CHUNK_SIZE;
        let mut data = vec![b' '; len];
        let text = b"token=abcdef123456;";
        let at = CHUNK_SIZE - 7;
        data[at..at + text.len()].copy_from_slice(text);
        let segs = [Segment {
            vaddr: 0,
            len: len as u64,
            pages_offset: 0,
        }];
        let sink = run(
            &data,
            &segs,
            &Matcher::regex(r"token=[a-z0-9]+").unwrap(),
            0,
        );
        let got: Vec<(u64, Vec<u8>)> = sink.hits.iter().map(|h| (h.0, h.3.clone())).collect();
        assert_eq!(got, vec![(at as u64, b"token=abcdef123456".to_vec())]);
    }

    #[test]
    fn short_file_is_an_error_with_offset() {
        let data = vec![0u8; 4096];
        let segs = [Segment {
            vaddr: 0x1000,
            len: 8192,
            pages_offset: 0,
        }];
        let mut sink = Collect::default();
        let err = search_segments(
            &mut Cursor::new(data),
            &segs,
            &Matcher::literal(b"x").unwrap(),
            0,
            &mut sink,
        )
        .unwrap_err();
        assert_eq!(err.offset, 4096);
        assert_eq!(err.vaddr, 0x2000);
        assert_eq!(err.source.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(matches!(Matcher::literal(b""), Err(PatternError::Empty)));
        assert!(matches!(
            Matcher::regex("a*"),
            Err(PatternError::MatchesEmpty(_))
        ));
        assert!(matches!(Matcher::regex("("), Err(PatternError::Regex(_))));
    }

    #[test]
    fn sink_can_stop() {
        struct First(usize);
        impl SearchSink for First {
            fn matched(&mut self, _: &Match<'_>) -> bool {
                self.0 += 1;
                false
            }
        }
        let data = b"aXaXaX".to_vec();
        let segs = [Segment {
            vaddr: 0,
            len: 6,
            pages_offset: 0,
        }];
        let mut sink = First(0);
        let done = search_segments(
            &mut Cursor::new(data),
            &segs,
            &Matcher::literal(b"X").unwrap(),
            0,
            &mut sink,
        );
        assert!(matches!(done, Ok(false)));
        assert_eq!(sink.0, 1);
    }
}

//! Memory search over a compressed archive in its one decompression pass, with no spool file.
//!
//! A compressed archive can only be read once, front to back, and `pages-N.img` may come before
//! or after the pagemaps that say which of its bytes are which addresses. So the search is done in
//! two halves:
//!
//! 1. [`StreamedSearch`], an [`archive::PagesVisitor`], searches each pages file as it streams by,
//!    by file offset, as one stream ([`search_segments`] over the whole file), and keeps each
//!    match with up to `context` bytes on each side ([`RawHit`]);
//! 2. once the checkpoint model is loaded, [`StreamedSearch::replay`] translates one process's
//!    matches to addresses through the same segments the in-place search walks (runs contiguous
//!    both in memory and in the file), and hands them to the same [`SearchSink`] in the same
//!    order: a match that spans a break between runs that are not contiguous in memory is
//!    dropped, and context is cut at segment ends, as the in-place search does.
//!
//! Results equal the in-place search's, with one documented difference at breaks: the file is
//! searched as one stream, so a match dropped because it spans a break hides a match that would
//! start inside it after the break (only self-overlapping patterns have such), and a regex match
//! is dropped rather than cut short at the break. Memory: the kept matches, at most the match
//! limit of them (past it the search stops and says so), each with at most `2 × context` bytes of
//! context plus the match.
//!
//! [`archive::PagesVisitor`]: crate::archive::PagesVisitor

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};

use super::search::{search_segments, Match, Matcher, SearchSink};
use crate::archive::PagesVisitor;
use crate::dump::layout::Segment;
use crate::dump::{ProcessMemory, Source};

/// One match in a pages file, by file offset, with its context as the file has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHit {
    /// Offset of the first matched byte in the pages file.
    pub offset: u64,
    /// Up to `context` bytes before the match.
    pub before: Box<[u8]>,
    /// The matched bytes.
    pub matched: Box<[u8]>,
    /// Up to `context` bytes after the match.
    pub after: Box<[u8]>,
}

/// Searches pages files as a compressed archive streams by, keeping matches by file offset.
#[derive(Debug)]
pub struct StreamedSearch {
    matcher: Matcher,
    context: usize,
    limit: Option<usize>,
    /// Matches by pages file (the name its readers give), in file order.
    files: HashMap<String, Vec<RawHit>>,
    kept: usize,
    stopped: bool,
}

impl StreamedSearch {
    /// A search for `matcher` with `context` bytes on each side, keeping at most `limit`
    /// matches in all (`None`: no limit).
    pub fn new(matcher: &Matcher, context: usize, limit: Option<usize>) -> Self {
        StreamedSearch {
            matcher: matcher.clone(),
            context,
            limit,
            files: HashMap::new(),
            kept: 0,
            stopped: false,
        }
    }

    /// True when the match limit stopped the search: more matches may exist.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The matches kept for one pages file, in file order.
    pub fn raw_hits(&self, pages_name: &str) -> &[RawHit] {
        self.files.get(pages_name).map_or(&[], Vec::as_slice)
    }

    /// Hands `memory`'s matches to `sink` as [`ProcessMemory::search`] would: per pages file
    /// (private first, then shared objects in address order), per segment in file order, with
    /// their addresses, `progress` for the bytes the segments hold. Returns `false` if the sink
    /// stopped.
    pub fn replay(&self, memory: &ProcessMemory<'_>, sink: &mut dyn SearchSink) -> bool {
        let mut sources = vec![Source::Private];
        for stretch in memory.stretches() {
            if !sources.contains(&stretch.source) {
                sources.push(stretch.source);
            }
        }
        for source in sources {
            let segments = memory.segments(source);
            if segments.is_empty() {
                continue;
            }
            let name = memory.source_name(source);
            sink.pages_file(name);
            if !self.replay_segments(name, &segments, sink) {
                return false;
            }
        }
        true
    }

    /// Hands the matches of pages file `name` that lie inside `segments` (sorted by file
    /// offset, not overlapping) to `sink`, with addresses (`vaddr`) from the segments and
    /// context cut at their ends. Returns `false` if the sink stopped.
    pub fn replay_segments(
        &self,
        name: &str,
        segments: &[Segment],
        sink: &mut dyn SearchSink,
    ) -> bool {
        let hits = self.raw_hits(name);
        let mut next = 0usize;
        for segment in segments {
            sink.progress(segment.len);
            let start = segment.pages_offset;
            let end = start.saturating_add(segment.len);
            next += hits
                .get(next..)
                .unwrap_or_default()
                .partition_point(|hit| hit.offset < start);
            for hit in hits.get(next..).unwrap_or_default() {
                if hit.offset >= end {
                    break;
                }
                let hit_end = hit.offset.saturating_add(hit.matched.len() as u64);
                if hit_end > end {
                    continue; // spans the segment's end: not contiguous in memory
                }
                let room_before = usize::try_from(hit.offset - start).unwrap_or(usize::MAX);
                let room_after = usize::try_from(end - hit_end).unwrap_or(usize::MAX);
                let before = hit
                    .before
                    .get(hit.before.len().saturating_sub(room_before)..)
                    .unwrap_or_default();
                let after = hit
                    .after
                    .get(..hit.after.len().min(room_after))
                    .unwrap_or_default();
                let found = Match {
                    vaddr: segment.vaddr + (hit.offset - start),
                    pages_offset: hit.offset,
                    before,
                    matched: &hit.matched,
                    after,
                };
                if !sink.matched(&found) {
                    return false;
                }
            }
        }
        true
    }
}

impl PagesVisitor for StreamedSearch {
    fn visit_pages(
        &mut self,
        _pages_id: u32,
        name: &str,
        len: u64,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        if self.stopped {
            return Ok(());
        }
        let whole = [Segment {
            vaddr: 0,
            len,
            pages_offset: 0,
        }];
        let mut sink = Keep {
            hits: Vec::new(),
            room: self.limit.map(|limit| limit.saturating_sub(self.kept)),
        };
        let mut reader = Forward {
            inner: data,
            pos: 0,
        };
        let finished = search_segments(&mut reader, &whole, &self.matcher, self.context, &mut sink)
            .map_err(|err| io::Error::new(err.source.kind(), format!("{name}: {err}")))?;
        self.stopped = !finished;
        self.kept += sink.hits.len();
        self.files
            .entry(name.to_owned())
            .or_default()
            .extend(sink.hits);
        Ok(())
    }
}

/// Keeps matches, up to `room` of them.
struct Keep {
    hits: Vec<RawHit>,
    room: Option<usize>,
}

impl SearchSink for Keep {
    fn matched(&mut self, found: &Match<'_>) -> bool {
        if self.room.is_some_and(|room| self.hits.len() >= room) {
            return false;
        }
        self.hits.push(RawHit {
            offset: found.pages_offset,
            before: found.before.into(),
            matched: found.matched.into(),
            after: found.after.into(),
        });
        true
    }
}

/// A forward-only stream as `Read + Seek`: seeking to the current position or forward (by
/// reading) works, backward does not.
struct Forward<'a> {
    inner: &'a mut dyn Read,
    pos: u64,
}

impl Read for Forward<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Forward<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(target) => target,
            SeekFrom::Current(0) => self.pos,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a streamed pages file only seeks forward from its start",
                ))
            }
        };
        if target < self.pos {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a streamed pages file cannot seek backward",
            ));
        }
        let skip = target - self.pos;
        let skipped = io::copy(&mut (&mut *self.inner).take(skip), &mut io::sink())?;
        self.pos += skipped;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::Collect;

    /// The in-place search and the streamed one, on the same file and segments.
    fn both(data: &[u8], segments: &[Segment], matcher: &Matcher, context: usize) -> [Collect; 2] {
        let mut direct = Collect::default();
        let done = search_segments(
            &mut io::Cursor::new(data),
            segments,
            matcher,
            context,
            &mut direct,
        );
        assert!(matches!(done, Ok(true)));
        let mut streamed = StreamedSearch::new(matcher, context, None);
        streamed
            .visit_pages(1, "p", data.len() as u64, &mut &data[..])
            .unwrap();
        let mut replayed = Collect::default();
        assert!(streamed.replay_segments("p", segments, &mut replayed));
        [direct, replayed]
    }

    fn three_segments() -> [Segment; 3] {
        [
            Segment {
                vaddr: 0x10000,
                len: 2 * 4096,
                pages_offset: 0,
            },
            Segment {
                vaddr: 0x40000,
                len: 4096,
                pages_offset: 2 * 4096,
            },
            Segment {
                vaddr: 0x80000,
                len: 2 * 4096,
                pages_offset: 3 * 4096,
            },
        ]
    }

    #[test]
    fn the_streamed_search_equals_the_in_place_one() {
        let mut data = vec![b'.'; 5 * 4096];
        // Inside a segment, across a contiguous page edge, across the break between segments 0
        // and 1 (a decoy: adjacent in the file only), at the very start and end of a segment.
        for at in [
            100usize,
            4096 - 3,
            2 * 4096 - 3,
            2 * 4096 + 10,
            3 * 4096,
            5 * 4096 - 6,
        ] {
            data[at..at + 6].copy_from_slice(b"SECRET");
        }
        for matcher in [
            Matcher::literal(b"SECRET").unwrap(),
            Matcher::regex("SEC[A-Z]+").unwrap(),
        ] {
            let [direct, replayed] = both(&data, &three_segments(), &matcher, 8);
            assert_eq!(replayed.hits, direct.hits);
            assert_eq!(replayed.bytes, direct.bytes);
            let addresses: Vec<u64> = direct.hits.iter().map(|h| h.0).collect();
            assert_eq!(
                addresses,
                [
                    0x10000 + 100,
                    0x10000 + 4093,
                    0x40000 + 10,
                    0x80000,
                    0x80000 + 8186
                ]
            );
            // Context stops at segment ends.
            assert_eq!(direct.hits[3].2, b"");
            assert_eq!(direct.hits[4].4, b"");
        }
    }

    #[test]
    fn a_dropped_match_across_a_break_hides_an_overlapping_one_after_it() {
        // The documented difference: "ABAB" across the break, "ABAB" again from the break.
        let mut data = vec![b'.'; 5 * 4096];
        data[2 * 4096 - 2..2 * 4096 + 4].copy_from_slice(b"ABABAB");
        let matcher = Matcher::literal(b"ABAB").unwrap();
        let [direct, replayed] = both(&data, &three_segments(), &matcher, 0);
        let direct: Vec<u64> = direct.hits.iter().map(|h| h.0).collect();
        let replayed: Vec<u64> = replayed.hits.iter().map(|h| h.0).collect();
        assert_eq!(direct, [0x40000]);
        assert!(replayed.is_empty());
    }

    #[test]
    fn the_match_limit_stops_and_says_so() {
        let data = b"KEY KEY KEY KEY".to_vec();
        let mut streamed = StreamedSearch::new(&Matcher::literal(b"KEY").unwrap(), 0, Some(2));
        streamed
            .visit_pages(1, "p", data.len() as u64, &mut &data[..])
            .unwrap();
        assert!(streamed.stopped());
        assert_eq!(streamed.raw_hits("p").len(), 2);
        assert!(streamed.raw_hits("other").is_empty());
    }

    #[test]
    fn forward_only_streams_refuse_to_go_back() {
        let data = b"0123456789".to_vec();
        let mut slice = &data[..];
        let mut forward = Forward {
            inner: &mut slice,
            pos: 0,
        };
        assert_eq!(forward.seek(SeekFrom::Start(4)).unwrap(), 4);
        let mut two = [0u8; 2];
        forward.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"45");
        assert!(forward.seek(SeekFrom::Start(1)).is_err());
        assert_eq!(forward.stream_position().unwrap(), 6);
        assert!(forward.seek(SeekFrom::End(0)).is_err());
    }
}

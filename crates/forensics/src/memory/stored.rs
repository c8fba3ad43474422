//! Search of the data a checkpoint stores outside process memory ([`checkpoint_model::dump::stored`]) and
//! of the files in `rootfs-diff.tar`: each source searched as one stream with the same matcher
//! and buffer as process memory, hits reported by source and offset.

use super::report::{StoredHit, StoredHitCollector};
use super::Error;
use checkpoint_model::dump::layout::Segment;
use checkpoint_model::dump::Dump;
use checkpoint_model::search::{search_segments, Matcher, SearchSink, Sequential};
use checkpoint_model::streamed::StreamedSearch;

/// How a stored search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSearched {
    /// Bytes read.
    pub bytes: u64,
    /// True when it stopped at the match limit.
    pub stopped: bool,
}

/// Searches every stored source of `dump`, then the files of `rootfs-diff.tar`, appending to
/// `hits` until `room` more exist (`None`: no limit). `progress` gets the bytes read.
pub fn search_stored(
    dump: &Dump,
    matcher: &Matcher,
    context: usize,
    hits: &mut Vec<StoredHit>,
    room: Option<usize>,
    streamed: Option<&StreamedSearch>,
    progress: &mut dyn FnMut(u64),
) -> Result<StoredSearched, Error> {
    let mut bytes = 0u64;
    let mut left = room;
    for data in dump.stored_data() {
        let mut reader = dump
            .checkpoint()
            .open_image(&data.image)
            .map_err(checkpoint_model::dump::Error::from)?;
        let segments: Vec<Segment> = data
            .ranges
            .iter()
            .map(|range| Segment {
                vaddr: range.data_offset,
                len: range.len,
                pages_offset: range.file_offset,
            })
            .collect();
        let kind = serde_json::to_value(data.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut sink = Counting {
            inner: StoredHitCollector::new(&data.source, &kind, hits, left),
            bytes: &mut bytes,
            progress,
        };
        if let Some(streamed) = streamed.filter(|_| reader.is_streamed()) {
            // Shared memory nobody maps, in a pages file searched as the archive streamed by.
            let finished = streamed.replay_segments(reader.name(), &segments, &mut sink);
            let found = sink.inner.count as usize;
            left = left.map(|room| room.saturating_sub(found));
            if !finished {
                return Ok(StoredSearched {
                    bytes,
                    stopped: true,
                });
            }
            continue;
        }
        let finished = search_segments(&mut reader, &segments, matcher, context, &mut sink)
            .map_err(|source| {
                Error::Dump(checkpoint_model::dump::Error::ReadPages {
                    pages: reader.name().to_owned(),
                    source,
                })
            })?;
        let found = sink.inner.count as usize;
        left = left.map(|room| room.saturating_sub(found));
        if !finished {
            return Ok(StoredSearched {
                bytes,
                stopped: true,
            });
        }
    }
    let mut stopped = false;
    let mut failure: Option<String> = None;
    dump.checkpoint()
        .visit_rootfs_files(&mut |path, size, data| {
            let source = format!("rootfs-diff {path}");
            let mut reader = Sequential::new(data);
            let segment = Segment {
                vaddr: 0,
                len: size,
                pages_offset: 0,
            };
            let mut sink = Counting {
                inner: StoredHitCollector::new(&source, "rootfs-diff", hits, left),
                bytes: &mut bytes,
                progress,
            };
            match search_segments(&mut reader, &[segment], matcher, context, &mut sink) {
                Ok(finished) => {
                    let found = sink.inner.count as usize;
                    left = left.map(|room| room.saturating_sub(found));
                    stopped = !finished;
                    Ok(finished)
                }
                Err(err) => {
                    failure = Some(format!("{source}: {err}"));
                    Ok(false)
                }
            }
        })
        .map_err(checkpoint_model::dump::Error::from)?;
    if let Some(reason) = failure {
        return Err(Error::Dump(checkpoint_model::dump::Error::Unavailable {
            pid: 0,
            what: "rootfs-diff.tar",
            reason,
        }));
    }
    Ok(StoredSearched { bytes, stopped })
}

/// Passes matches on and counts the bytes read.
struct Counting<'a, 'b> {
    inner: StoredHitCollector<'a>,
    bytes: &'b mut u64,
    progress: &'b mut dyn FnMut(u64),
}

impl SearchSink for Counting<'_, '_> {
    fn matched(&mut self, found: &checkpoint_model::search::Match<'_>) -> bool {
        self.inner.matched(found)
    }

    fn progress(&mut self, bytes: u64) {
        *self.bytes = self.bytes.saturating_add(bytes);
        (self.progress)(bytes);
    }
}

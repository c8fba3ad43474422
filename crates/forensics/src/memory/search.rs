//! `analyze --search` and `--search-regex`: a consumer of the [`sources`] engine that finds a
//! string or a regex in every byte a checkpoint stores, with the same sources (and so the same
//! coverage) as the secrets scan.
//!
//! Process memory is searched by address; a hit names the process, the VMA and the pages file.
//! The command line and the environment are left out as sources of their own: their bytes are
//! in the process's memory, where the search finds them. Everything else (data stored outside
//! process memory, the files of `rootfs-diff.tar`, the engine's files beside the images) is
//! searched by offset in its source. Each piece of a source is one stream: nothing is found
//! across the edge of two pieces that are not contiguous (see
//! [`checkpoint_model::search`]).
//!
//! The search stops at its match limit (the report says so); a process or a source that cannot
//! be read is reported as a failure and the others are still searched.

use std::collections::HashMap;
use std::io::{self, Read};

use super::report::{printable, ProcessSearched, SearchHit, SearchReport, StoredHit};
use super::Error;
use crate::analyze::ScanEvent;
use checkpoint_model::dump::layout::Segment;
use checkpoint_model::dump::{Dump, MemoryLayout};
use checkpoint_model::search::{
    search_segment, Match, Matcher, ReadError, SearchBuffer, SearchSink,
};
use checkpoint_model::sources::{
    self, Consumer, Origin, Piece, Selection, SharedMapping, SourceEnd, SourceError,
};
use checkpoint_model::streamed::StreamedSearch;

/// What to search for, where, and how much to keep.
pub struct SearchParams<'a> {
    /// The string or regex.
    pub matcher: &'a Matcher,
    /// The pattern as given (for the report).
    pub pattern: &'a str,
    /// True for a regex.
    pub regex: bool,
    /// Bytes of context on each side of a hit.
    pub context: usize,
    /// Stop after this many hits in the checkpoint (`None`: no limit).
    pub limit: Option<usize>,
    /// Only this process (its memory); `None`: every process and every other source.
    pub pid: Option<u32>,
    /// The hits found while a compressed archive streamed by, when its pages were not kept.
    pub streamed: Option<&'a StreamedSearch>,
}

/// A part of the checkpoint that could not be searched, and why.
#[derive(Debug)]
pub struct SearchFailure {
    /// What (`pid 7`, `pipe:[1] unread data (pipes-data.img)`), when the error does not
    /// name it itself.
    pub what: Option<String>,
    /// Why.
    pub error: Error,
}

/// Searches `dump` (see the module docs). `progress` hears what is searched and the bytes
/// read. Returns the report and what could not be searched.
pub fn collect_search(
    dump: &Dump,
    params: &SearchParams<'_>,
    progress: &mut dyn FnMut(ScanEvent<'_>),
) -> (SearchReport, Vec<SearchFailure>) {
    let mut search = Search {
        dump,
        params,
        buffer: SearchBuffer::new(params.matcher, params.context),
        progress,
        report: SearchReport {
            checkpoint: dump.display_name().to_owned(),
            pattern: params.pattern.to_owned(),
            regex: params.regex,
            context: params.context,
            processes: Vec::new(),
            matches: Vec::new(),
            stored_matches: Vec::new(),
            truncated: false,
        },
        failures: Vec::new(),
        current: Current::None,
        process: None,
        read_error: None,
        pending: HashMap::new(),
    };
    sources::walk(dump, &Selection { pid: params.pid }, &mut search);
    // Processes the match limit kept from being walked: their shared hits still count.
    let mut rest: Vec<(u32, Vec<SearchHit>)> = search.pending.drain().collect();
    rest.sort_by_key(|(pid, _)| dump.tree().index_of(*pid));
    for (_, hits) in rest {
        search.report.matches.extend(hits);
    }
    if params.streamed.is_some_and(StreamedSearch::stopped) {
        search.report.truncated = true;
    }
    (search.report, search.failures)
}

/// The process being searched: its totals so far.
struct ProcessState {
    pid: u32,
    command: String,
    /// Hits of the report before this process's.
    before: usize,
    bytes: u64,
    error: Option<Error>,
}

/// The source being searched.
enum Current {
    None,
    Memory {
        pid: u32,
        command: String,
        pages: String,
    },
    Shared {
        mappings: Vec<SharedMapping>,
        pages: String,
    },
    Stored {
        what: String,
        source: String,
        kind: String,
    },
}

/// One search in progress: a consumer of the [`sources`] engine.
struct Search<'p> {
    dump: &'p Dump,
    params: &'p SearchParams<'p>,
    buffer: SearchBuffer,
    progress: &'p mut dyn FnMut(ScanEvent<'_>),
    report: SearchReport,
    failures: Vec<SearchFailure>,
    current: Current,
    process: Option<ProcessState>,
    /// Where reading the current piece failed, for the failure's message.
    read_error: Option<ReadError>,
    /// Hits in shared objects for processes that come later in the walk: each is added after
    /// its own process's private hits, in the order the processes are walked.
    pending: HashMap<u32, Vec<SearchHit>>,
}

impl Search<'_> {
    /// Room for more hits in the whole report.
    fn room(&self) -> Option<usize> {
        self.params.limit.map(|limit| {
            limit.saturating_sub(self.report.matches.len() + self.report.stored_matches.len())
        })
    }

    /// Hands the matches of one piece (read from `data`, or replayed from the streamed search
    /// when `data` is `None`) to the current source's collector. Returns `Ok(false)` when the
    /// match limit stopped the search.
    fn search_piece(&mut self, piece: &Piece, data: Option<&mut dyn Read>) -> io::Result<bool> {
        let segment = Segment {
            vaddr: piece.offset,
            len: piece.len,
            pages_offset: piece.at,
        };
        let room = self.room();
        let Search {
            dump,
            params,
            buffer,
            progress,
            report,
            current,
            process,
            read_error,
            pending,
            ..
        } = self;
        let current = &*current;
        let mut collector: Box<dyn SearchSink + '_> = match current {
            Current::Memory {
                pid,
                command,
                pages,
            } => Box::new(MemoryHits {
                layout: dump.memory_map(*pid).ok().map(|map| &map.layout),
                pid: *pid,
                command,
                pages,
                hits: &mut report.matches,
                room,
                bytes: process.as_mut().map(|p| &mut p.bytes),
                progress: &mut **progress,
            }),
            Current::Shared { mappings, pages } => Box::new(SharedHits {
                dump,
                mappings,
                pages,
                hits: &mut report.matches,
                later: pending,
                current_pid: process.as_ref().map(|p| p.pid),
                room,
                bytes: process.as_mut().map(|p| &mut p.bytes),
                progress: &mut **progress,
            }),
            Current::Stored { source, kind, .. } => Box::new(StoredHits {
                source,
                kind,
                hits: &mut report.stored_matches,
                room,
                progress: &mut **progress,
            }),
            Current::None => return Ok(true),
        };
        let finished = match data {
            Some(data) => {
                let found = search_segment(
                    data,
                    &segment,
                    params.matcher,
                    params.context,
                    collector.as_mut(),
                    buffer,
                );
                match found {
                    Ok(finished) => finished,
                    Err(err) => {
                        let io = io::Error::new(err.source.kind(), err.to_string());
                        *read_error = Some(err);
                        return Err(io);
                    }
                }
            }
            None => {
                let pages = match current {
                    Current::Memory { pages, .. } | Current::Shared { pages, .. } => pages.as_str(),
                    _ => "",
                };
                params.streamed.is_none_or(|streamed| {
                    streamed.replay_segments(pages, &[segment], collector.as_mut())
                })
            }
        };
        drop(collector);
        if !finished {
            report.truncated = true;
        }
        Ok(finished)
    }

    /// The failure of the current source, from how it ended.
    fn source_failure(&mut self, end: &SourceEnd) -> Option<Error> {
        let error = end.error.as_ref()?;
        let read_error = self.read_error.take();
        Some(match (&self.current, read_error, error) {
            (Current::Memory { pages, .. } | Current::Shared { pages, .. }, Some(source), _) => {
                Error::Dump(checkpoint_model::dump::Error::ReadPages {
                    pages: pages.clone(),
                    source,
                })
            }
            (_, _, SourceError::Open(reason)) => Error::Unreadable(reason.clone()),
            (_, _, SourceError::Memory(err)) => {
                Error::Unreadable(checkpoint_model::error_text(err))
            }
            (_, _, SourceError::Read(err)) => Error::Unreadable(format!(
                "{err} (after {} of {} bytes)",
                end.read, end.expected
            )),
        })
    }
}

impl Consumer for Search<'_> {
    fn begin(&mut self, origin: &Origin<'_>) -> bool {
        self.read_error = None;
        match *origin {
            Origin::Process { pid, command } => {
                (self.progress)(ScanEvent::Stage(&format!("pid {pid}")));
                self.process = Some(ProcessState {
                    pid,
                    command: command.to_owned(),
                    before: self.report.matches.len(),
                    bytes: 0,
                    error: None,
                });
                true
            }
            // Their bytes are in the process's memory, where the search finds them.
            Origin::CommandLine { .. } | Origin::Environment { .. } => false,
            Origin::Memory {
                pid,
                command,
                pages,
                ..
            } => {
                self.current = Current::Memory {
                    pid,
                    command: command.to_owned(),
                    pages: pages.to_owned(),
                };
                true
            }
            Origin::Shared {
                pages, mappings, ..
            } => {
                self.current = Current::Shared {
                    mappings: mappings.to_vec(),
                    pages: pages.to_owned(),
                };
                true
            }
            Origin::Stored { data } => {
                (self.progress)(ScanEvent::Stage("stored data"));
                let kind = serde_json::to_value(data.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                self.current = Current::Stored {
                    what: format!("{} ({})", data.source, data.image),
                    source: data.source.clone(),
                    kind,
                };
                true
            }
            Origin::RootfsFile { path } => {
                (self.progress)(ScanEvent::Stage(sources::ROOTFS_DIFF));
                let source = format!("rootfs-diff {path}");
                self.current = Current::Stored {
                    what: source.clone(),
                    source,
                    kind: "rootfs-diff".to_owned(),
                };
                true
            }
            Origin::TmpfsFile { image, path } => {
                (self.progress)(ScanEvent::Stage("tmpfs"));
                let image = image.rsplit_once('/').map_or(image, |(_, name)| name);
                let source = format!("tmpfs {image} {path}");
                self.current = Current::Stored {
                    what: source.clone(),
                    source,
                    kind: "tmpfs".to_owned(),
                };
                true
            }
            Origin::EngineFile { member } => {
                (self.progress)(ScanEvent::Stage("engine files"));
                self.current = Current::Stored {
                    what: member.to_owned(),
                    source: member.to_owned(),
                    kind: "engine-file".to_owned(),
                };
                true
            }
        }
    }

    fn piece(&mut self, piece: &Piece, data: &mut dyn Read) -> io::Result<bool> {
        self.search_piece(piece, Some(data))
    }

    fn streamed(&mut self, _pages: &str, piece: &Piece) -> Option<bool> {
        self.params.streamed?;
        self.search_piece(piece, None).ok()
    }

    fn end(&mut self, origin: &Origin<'_>, end: SourceEnd) -> bool {
        match origin {
            Origin::Process { .. } => {
                let Some(state) = self.process.take() else {
                    return true;
                };
                let error = state.error.or(match end.error {
                    Some(SourceError::Memory(error)) => Some(Error::Dump(error)),
                    Some(error) => Some(Error::Unreadable(error.to_string())),
                    None => None,
                });
                if let Some(hits) = self.pending.remove(&state.pid) {
                    self.report.matches.extend(hits);
                }
                if error.is_some() {
                    self.report.matches.truncate(state.before);
                }
                let matches = (self.report.matches.len() - state.before) as u64;
                self.report.processes.push(ProcessSearched {
                    pid: state.pid,
                    command: state.command,
                    bytes: if error.is_some() { 0 } else { state.bytes },
                    matches,
                    error: error.as_ref().map(|e| checkpoint_model::error_text(e)),
                });
                if let Some(error) = error {
                    let named =
                        matches!(&error, Error::Dump(e) if e.names_process() == Some(state.pid));
                    self.failures.push(SearchFailure {
                        what: (!named).then(|| format!("pid {}", state.pid)),
                        error,
                    });
                }
                !self.report.truncated
            }
            _ => {
                let failure = self.source_failure(&end);
                match std::mem::replace(&mut self.current, Current::None) {
                    Current::Memory { .. } | Current::Shared { .. } => {
                        if let (Some(error), Some(state)) = (failure, self.process.as_mut()) {
                            state.error.get_or_insert(error);
                        }
                    }
                    Current::Stored { what, .. } => {
                        if let Some(error) = failure {
                            self.failures.push(SearchFailure {
                                what: Some(what),
                                error,
                            });
                        }
                    }
                    Current::None => {}
                }
                !self.report.truncated
            }
        }
    }
}

/// Turns matches in a process's memory into [`SearchHit`]s.
struct MemoryHits<'c> {
    layout: Option<&'c MemoryLayout>,
    pid: u32,
    command: &'c str,
    pages: &'c str,
    hits: &'c mut Vec<SearchHit>,
    /// Hits this source may still add.
    room: Option<usize>,
    bytes: Option<&'c mut u64>,
    progress: &'c mut dyn FnMut(ScanEvent<'_>),
}

impl SearchSink for MemoryHits<'_> {
    fn matched(&mut self, found: &Match<'_>) -> bool {
        let vma = self.layout.and_then(|layout| layout.vma_at(found.vaddr));
        let mut context = printable(found.before);
        context.push_str(&printable(found.matched));
        context.push_str(&printable(found.after));
        self.hits.push(SearchHit {
            pid: self.pid,
            command: self.command.to_owned(),
            address: super::report::hex_address(found.vaddr),
            vaddr: found.vaddr,
            vma: vma.map_or_else(|| "[none]".into(), |v| v.name.to_string()),
            vma_start: vma
                .map(|v| super::report::hex_address(v.start))
                .unwrap_or_default(),
            offset: vma.map(|v| found.vaddr - v.start).unwrap_or(0),
            pages_file: self.pages.to_owned(),
            pages_offset: found.pages_offset,
            matched: printable(found.matched),
            context,
        });
        self.room = self.room.map(|room| room.saturating_sub(1));
        self.room.is_none_or(|room| room > 0)
    }

    fn progress(&mut self, bytes: u64) {
        if let Some(total) = self.bytes.as_deref_mut() {
            *total = total.saturating_add(bytes);
        }
        (self.progress)(ScanEvent::Bytes(bytes));
    }
}

/// Turns matches in a shared object into a [`SearchHit`] for each process that maps the bytes:
/// the current process's at once, the others' kept for their turn.
struct SharedHits<'c> {
    dump: &'c Dump,
    mappings: &'c [SharedMapping],
    pages: &'c str,
    hits: &'c mut Vec<SearchHit>,
    later: &'c mut HashMap<u32, Vec<SearchHit>>,
    current_pid: Option<u32>,
    /// Hits this source may still add.
    room: Option<usize>,
    bytes: Option<&'c mut u64>,
    progress: &'c mut dyn FnMut(ScanEvent<'_>),
}

impl SearchSink for SharedHits<'_> {
    fn matched(&mut self, found: &Match<'_>) -> bool {
        let mut context = printable(found.before);
        context.push_str(&printable(found.matched));
        context.push_str(&printable(found.after));
        for mapping in self.mappings {
            let Some(vaddr) = mapping.locate(found.vaddr, found.matched.len() as u64) else {
                continue;
            };
            let vma = self
                .dump
                .memory_map(mapping.pid)
                .ok()
                .and_then(|map| map.layout.vma_at(vaddr));
            let hit = SearchHit {
                pid: mapping.pid,
                command: mapping.command.clone(),
                address: super::report::hex_address(vaddr),
                vaddr,
                vma: vma.map_or_else(|| "[none]".into(), |v| v.name.to_string()),
                vma_start: vma
                    .map(|v| super::report::hex_address(v.start))
                    .unwrap_or_default(),
                offset: vma.map(|v| vaddr - v.start).unwrap_or(0),
                pages_file: self.pages.to_owned(),
                pages_offset: found.pages_offset,
                matched: printable(found.matched),
                context: context.clone(),
            };
            if Some(mapping.pid) == self.current_pid {
                self.hits.push(hit);
            } else {
                self.later.entry(mapping.pid).or_default().push(hit);
            }
            self.room = self.room.map(|room| room.saturating_sub(1));
            if self.room == Some(0) {
                return false;
            }
        }
        true
    }

    fn progress(&mut self, bytes: u64) {
        if let Some(total) = self.bytes.as_deref_mut() {
            *total = total.saturating_add(bytes);
        }
        (self.progress)(ScanEvent::Bytes(bytes));
    }
}

/// Turns matches in a source outside process memory into [`StoredHit`]s.
struct StoredHits<'c> {
    source: &'c str,
    kind: &'c str,
    hits: &'c mut Vec<StoredHit>,
    /// Hits this source may still add.
    room: Option<usize>,
    progress: &'c mut dyn FnMut(ScanEvent<'_>),
}

impl SearchSink for StoredHits<'_> {
    fn matched(&mut self, found: &Match<'_>) -> bool {
        let mut context = printable(found.before);
        context.push_str(&printable(found.matched));
        context.push_str(&printable(found.after));
        self.hits.push(StoredHit {
            source: self.source.to_owned(),
            kind: self.kind.to_owned(),
            offset: found.vaddr,
            matched: printable(found.matched),
            context,
        });
        self.room = self.room.map(|room| room.saturating_sub(1));
        self.room.is_none_or(|room| room > 0)
    }

    fn progress(&mut self, bytes: u64) {
        (self.progress)(ScanEvent::Bytes(bytes));
    }
}

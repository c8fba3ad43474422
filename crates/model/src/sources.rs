//! Every byte a checkpoint stores, as one list of sources, and the one engine that reads them
//! for a [`Consumer`]: the memory search and the secrets scan both walk it, so they cover the
//! same bytes, in the same order, with the same locations.
//!
//! # The sources, in this order
//! 1. For each live process in `pstree.img` order (or only [`Selection::pid`]), between a
//!    [`Origin::Process`] begin and end: its command line (each argument a stream) and its
//!    environment (each `NAME=value` string a stream) as the kernel shows them
//!    ([`Dump::strings`]; their bytes are in the process's memory too), then its private memory
//!    in file order (stream offsets are virtual addresses), then each shared-memory object it
//!    maps that no process before it mapped ([`Origin::Shared`]): read once for every selected
//!    process that maps it, so N processes mapping one object cost one read, not N (stream
//!    offsets are object offsets; each finding is located in every process that maps it).
//! 2. Unless one process was asked for: the data the checkpoint stores outside process memory
//!    ([`Dump::stored_data`]: pipe, unix and TCP queues, ghost files, shared memory nobody maps),
//!    the files of `rootfs-diff.tar`, the files of the tmpfs mounts CRIU saved
//!    (`tmpfs-dev-N.tar.gz.img`), the images whose data only their raw bytes hold (unread TTY
//!    data, SysV message queues, BPF map data), and every other regular member of the archive
//!    (`config.dump`, `spec.dump`, the container's log, `dump.log`, a file the engine or an
//!    attacker put under `checkpoint/`). The other images are what the model is made of: their
//!    data is in the sources above.
//!
//! # Division of work
//! The engine opens each source, seeks to each of its pieces, counts what it reads, and tells
//! the consumer how each source ended (read to its end, stopped by the consumer, cut short by a
//! short file or an error). The consumer decides which sources it reads ([`Consumer::begin`]:
//! the memory search leaves out the command line and environment, whose bytes it finds in
//! memory), reads each piece's bytes from the reader it is given, and may stop a source or the
//! whole walk. Memory stays bounded: pieces are read through the consumer's own fixed buffer.
//!
//! # Compressed archives
//! A compressed archive is decompressed once, at open. When its pages files went by then
//! without being spooled ([`crate::archive::Checkpoint::pages_streamed`]), a consumer that
//! recorded what it found in them by file offset (see [`crate::streamed`]) replays it for each
//! piece of a pages file ([`Consumer::streamed`]); a consumer that did not record is told the
//! source cannot be read.

use std::collections::HashMap;
use std::io::{self, Read};

use crate::archive::{MemberInfo, MemberKind};
use crate::dump::layout::{join_segments, Segment};
use crate::dump::{Dump, MemoryLayout, Source, StoredData};

/// The archive member holding the container's file system changes.
pub const ROOTFS_DIFF: &str = "rootfs-diff.tar";

/// Which sources a walk covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this process (its command line, environment and memory); `None`: every process and
    /// every source outside process memory.
    pub pid: Option<u32>,
}

/// Where the bytes of a source were in the running system, or in the archive.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A process begins (its strings and memory follow) or ends.
    Process {
        /// Its pid.
        pid: u32,
        /// Its command name.
        command: &'a str,
    },
    /// A process's command line: one piece per argument, each its own stream. Stream offsets
    /// are offsets in `/proc/PID/cmdline`, which starts at virtual address `start`.
    CommandLine {
        /// The process.
        pid: u32,
        /// Its command name.
        command: &'a str,
        /// The address of the command line's first byte.
        start: u64,
    },
    /// A process's environment: one piece per `NAME=value` string, each its own stream. Stream
    /// offsets are offsets in `/proc/PID/environ`, which starts at virtual address `start`.
    Environment {
        /// The process.
        pid: u32,
        /// Its command name.
        command: &'a str,
        /// The address of the environment area's first byte.
        start: u64,
    },
    /// One pages file's share of a process's memory. Stream offsets are virtual addresses.
    Memory {
        /// The process.
        pid: u32,
        /// Its command name.
        command: &'a str,
        /// Its mappings.
        layout: &'a MemoryLayout,
        /// The pages file, as its reader names it (`CHECKPOINT: pages-N.img`).
        pages: &'a str,
    },
    /// A shared-memory object (shared anonymous memory, a memfd, a SysV segment) that selected
    /// processes map, read once for all of them. Stream offsets are offsets in the object;
    /// [`SharedMapping::locate`] turns one into each mapping process's address.
    Shared {
        /// The object's id.
        shmid: u64,
        /// The pages file, as its reader names it.
        pages: &'a str,
        /// The processes that map it, with the parts each maps.
        mappings: &'a [SharedMapping],
    },
    /// Data stored outside process memory. Stream offsets are offsets in the data.
    Stored {
        /// What and where.
        data: &'a StoredData,
    },
    /// A file of `rootfs-diff.tar`. Stream offsets are offsets in the file.
    RootfsFile {
        /// Its path in the tar.
        path: &'a str,
    },
    /// A file of a tmpfs mount CRIU saved (`tmpfs-dev-N.tar.gz.img`). Stream offsets are
    /// offsets in the file.
    TmpfsFile {
        /// The image.
        image: &'a str,
        /// The file's path in the mount.
        path: &'a str,
    },
    /// Any other regular member of the archive: a file the container engine put there, or an
    /// image whose data only its raw bytes hold. Stream offsets are offsets in it.
    EngineFile {
        /// The member's name.
        member: &'a str,
    },
}

impl Origin<'_> {
    /// The process, for the sources of a process.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Origin::Process { pid, .. }
            | Origin::CommandLine { pid, .. }
            | Origin::Environment { pid, .. }
            | Origin::Memory { pid, .. } => Some(*pid),
            Origin::Shared { .. }
            | Origin::Stored { .. }
            | Origin::RootfsFile { .. }
            | Origin::TmpfsFile { .. }
            | Origin::EngineFile { .. } => None,
        }
    }
}

/// The parts of a shared-memory object one process maps, where its own pagemap does not hold
/// the pages (those are its private memory).
#[derive(Debug, Clone)]
pub struct SharedMapping {
    /// The process.
    pub pid: u32,
    /// Its command name.
    pub command: String,
    /// What it maps: object offset, address, length; by object offset.
    pub ranges: Vec<MappedRange>,
}

/// `len` bytes of a shared object from `offset`, mapped at `vaddr`, held at byte `at` of the
/// object's pages file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappedRange {
    /// Offset in the object.
    pub offset: u64,
    /// Address in the process.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Offset in the object's pages file.
    pub at: u64,
}

impl SharedMapping {
    /// The address in this process of the `len` bytes at object offset `offset`, when it maps
    /// all of them in one range.
    pub fn locate(&self, offset: u64, len: u64) -> Option<u64> {
        let index = self.ranges.partition_point(|r| r.offset <= offset);
        let range = self.ranges.get(index.checked_sub(1)?)?;
        let end = offset.checked_add(len)?;
        (end <= range.offset.saturating_add(range.len))
            .then(|| range.vaddr + (offset - range.offset))
    }
}

/// One piece of a source: `len` bytes of its stream from `offset`, at byte `at` of the image or
/// member that holds them. A piece that does not continue the one before (in the stream) starts
/// a new stream: nothing is found across that edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Stream offset of the first byte.
    pub offset: u64,
    /// Byte offset in the image or member.
    pub at: u64,
    /// Length in bytes.
    pub len: u64,
}

impl From<Segment> for Piece {
    fn from(segment: Segment) -> Piece {
        Piece {
            offset: segment.vaddr,
            at: segment.pages_offset,
            len: segment.len,
        }
    }
}

/// How a source ended.
#[derive(Debug)]
pub struct SourceEnd {
    /// Bytes read.
    pub read: u64,
    /// Bytes the source holds.
    pub expected: u64,
    /// True when the consumer stopped it ([`Consumer::piece`] returned `false`: a match limit,
    /// a time budget; the consumer knows which).
    pub stopped: bool,
    /// Why it could not be read to its end (or opened at all).
    pub error: Option<SourceError>,
}

impl SourceEnd {
    /// A source that could not be opened: nothing read of `expected` bytes.
    fn unopened(expected: u64, err: &(dyn std::error::Error + 'static)) -> SourceEnd {
        SourceEnd {
            read: 0,
            expected,
            stopped: false,
            error: Some(SourceError::Open(crate::error_text(err))),
        }
    }
}

/// Why a source could not be read.
#[derive(Debug)]
pub enum SourceError {
    /// Opening it failed (a process whose memory cannot be read, a member that cannot be
    /// opened): the error, as text.
    Open(String),
    /// A process's memory cannot be opened (the error names the process).
    Memory(crate::dump::Error),
    /// Reading it failed, or it ended early.
    Read(io::Error),
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Open(reason) => f.write_str(reason),
            SourceError::Memory(err) => f.write_str(&crate::error_text(err)),
            SourceError::Read(err) => write!(f, "{err}"),
        }
    }
}

/// What reads the sources: the memory search, the secrets scan. See the module docs.
pub trait Consumer {
    /// A source begins; `false` leaves it unread (its [`Consumer::end`] is not called).
    fn begin(&mut self, origin: &Origin<'_>) -> bool;

    /// One piece of the current source; `data` yields its `len` bytes (fewer if the image ends
    /// early: the engine then reports the source cut short). The consumer reads it to its end
    /// and returns `Ok(true)`, or stops early and returns `Ok(false)` to end this source (its
    /// match limit, its time budget). It counts its own progress as it reads.
    fn piece(&mut self, piece: &Piece, data: &mut dyn Read) -> io::Result<bool>;

    /// A piece of pages file `pages` that went by while a compressed archive streamed: replay
    /// what was found there (and count the piece's bytes as progress). `None` when this
    /// consumer recorded nothing (the source is then reported unreadable); `Some(false)` stops
    /// the source.
    fn streamed(&mut self, _pages: &str, _piece: &Piece) -> Option<bool> {
        None
    }

    /// The source ended; `false` stops the whole walk.
    fn end(&mut self, origin: &Origin<'_>, end: SourceEnd) -> bool;
}

/// Walks the sources of `dump` that `selection` covers (see the module docs), for `consumer`.
pub fn walk(dump: &Dump, selection: &Selection, consumer: &mut dyn Consumer) {
    let mut shared = shared_index(dump, selection);
    for task in dump.tasks() {
        if !task.state.has_resources() || selection.pid.is_some_and(|pid| pid != task.pid) {
            continue;
        }
        if !walk_process(dump, task.pid, &task.comm, &mut shared, consumer) {
            return;
        }
    }
    if selection.pid.is_some() {
        return;
    }
    for data in dump.stored_data() {
        if !walk_stored(dump, data, consumer) {
            return;
        }
    }
    if !walk_tar_files(dump, FilesOf::RootfsDiff, consumer) {
        return;
    }
    for member in dump.checkpoint().members() {
        let go_on = match member_role(dump, &member) {
            MemberRole::Tmpfs => walk_tar_files(dump, FilesOf::Tmpfs(member.name), consumer),
            MemberRole::Raw => walk_member(dump, member.name, consumer),
            MemberRole::Model | MemberRole::NoData => true,
        };
        if !go_on {
            return;
        }
    }
}

/// The bytes a walk of `selection` reads (process memory, each shared object once, stored data,
/// `rootfs-diff.tar` and the engine's files; the strings are in memory too), for a progress bar
/// and time budgets: what the checkpoint holds, not what its processes claim.
pub fn walk_size(dump: &Dump, selection: &Selection) -> u64 {
    let private = dump
        .tasks()
        .iter()
        .filter(|task| {
            task.state.has_resources() && selection.pid.is_none_or(|pid| pid == task.pid)
        })
        .filter_map(|task| dump.memory(task.pid).ok())
        .fold(0u64, |sum, memory| {
            let own = memory
                .stretches()
                .iter()
                .filter(|stretch| stretch.source == Source::Private)
                .fold(0u64, |sum, stretch| sum.saturating_add(stretch.len));
            sum.saturating_add(own)
        });
    let memory = shared_index(dump, selection)
        .values()
        .flat_map(|mappings| shared_pieces(mappings))
        .fold(private, |sum, piece| sum.saturating_add(piece.len));
    if selection.pid.is_some() {
        return memory;
    }
    let checkpoint = dump.checkpoint();
    dump.stored_data()
        .iter()
        .fold(memory, |sum, data| sum.saturating_add(data.len()))
        .saturating_add(checkpoint.member_size(ROOTFS_DIFF).unwrap_or(0))
        .saturating_add(
            checkpoint
                .members()
                .filter(|m| matches!(member_role(dump, m), MemberRole::Raw | MemberRole::Tmpfs))
                .fold(0u64, |sum, m| sum.saturating_add(m.size)),
        )
}

/// What the walk does with a member of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberRole {
    /// An image the model is made of: its data is in the other sources.
    Model,
    /// A tmpfs mount CRIU saved as a gzip tar: its files are sources.
    Tmpfs,
    /// Read as one source of bytes.
    Raw,
    /// No data: not a regular file, or `rootfs-diff.tar` (walked file by file).
    NoData,
}

/// Images whose data only their raw bytes hold (no fact of the model carries it): unread TTY
/// data, SysV message queues, BPF map data.
const RAW_DATA_IMAGES: &[&str] = &["tty-data.img", "ipcns-msg-", "bpfmap-data.img"];

/// What the walk does with `member` (see the module docs).
fn member_role(dump: &Dump, member: &MemberInfo<'_>) -> MemberRole {
    if member.kind != MemberKind::File || member.name == ROOTFS_DIFF {
        return MemberRole::NoData;
    }
    let Some(image) = dump.checkpoint().image_name_of(member.name) else {
        return MemberRole::Raw;
    };
    if image.starts_with("tmpfs-") && image.ends_with(".tar.gz.img") {
        MemberRole::Tmpfs
    } else if RAW_DATA_IMAGES.iter().any(|p| image.starts_with(p)) || !image.ends_with(".img") {
        MemberRole::Raw
    } else {
        MemberRole::Model
    }
}

/// One process: begin, strings, its private memory, the shared objects it maps that no process
/// before it mapped (each read once, for every selected process that maps it), end. Returns
/// `false` when the walk stops.
fn walk_process(
    dump: &Dump,
    pid: u32,
    command: &str,
    shared: &mut HashMap<u64, Vec<SharedMapping>>,
    consumer: &mut dyn Consumer,
) -> bool {
    let process = Origin::Process { pid, command };
    if !consumer.begin(&process) {
        return true;
    }
    let memory = match dump.memory(pid) {
        Ok(memory) => memory,
        Err(err) => {
            let end = SourceEnd {
                read: 0,
                expected: 0,
                stopped: false,
                error: Some(SourceError::Memory(err)),
            };
            return consumer.end(&process, end);
        }
    };
    let mut read = 0u64;
    let mut go_on = walk_strings(dump, pid, command, consumer);
    let streamed = dump.checkpoint().pages_streamed();
    for mut pass in memory.passes() {
        if !go_on {
            break;
        }
        let name = pass.reader.name().to_owned();
        let mappings;
        let (origin, pieces) = match pass.source {
            Source::Private => (
                Origin::Memory {
                    pid,
                    command,
                    layout: memory.layout(),
                    pages: &name,
                },
                pass.segments.iter().copied().map(Piece::from).collect(),
            ),
            Source::Shared(shmid) => {
                // Read once, with the first process that maps it.
                let Some(found) = shared.remove(&shmid) else {
                    continue;
                };
                mappings = found;
                let pieces = shared_pieces(&mappings);
                (
                    Origin::Shared {
                        shmid,
                        pages: &name,
                        mappings: &mappings,
                    },
                    pieces,
                )
            }
        };
        if !consumer.begin(&origin) {
            continue;
        }
        let end = if streamed {
            replay_pieces(&name, &pieces, consumer)
        } else {
            read_pieces(&mut pass.reader, &pieces, consumer)
        };
        read = read.saturating_add(end.read);
        go_on = consumer.end(&origin, end);
    }
    // The process ends even when the walk stops inside it, so that its totals are told.
    let end = SourceEnd {
        read,
        expected: memory.present_bytes(),
        stopped: !go_on,
        error: None,
    };
    consumer.end(&process, end) && go_on
}

/// The shared objects the selected processes map, each with the processes that map it and the
/// parts each maps (one pass over the processes).
fn shared_index(dump: &Dump, selection: &Selection) -> HashMap<u64, Vec<SharedMapping>> {
    let mut index: HashMap<u64, Vec<SharedMapping>> = HashMap::new();
    if dump.shared().objects().next().is_none() {
        return index;
    }
    for task in dump.tasks() {
        if !task.state.has_resources() || selection.pid.is_some_and(|pid| pid != task.pid) {
            continue;
        }
        let Ok(memory) = dump.memory(task.pid) else {
            continue;
        };
        let layout = memory.layout();
        let mut by_object: HashMap<u64, Vec<MappedRange>> = HashMap::new();
        for stretch in memory.stretches() {
            let Source::Shared(shmid) = stretch.source else {
                continue;
            };
            let Some(offset) = layout
                .vma_at(stretch.vaddr)
                .and_then(|vma| vma.object_offset(stretch.vaddr))
            else {
                continue;
            };
            by_object.entry(shmid).or_default().push(MappedRange {
                offset,
                vaddr: stretch.vaddr,
                len: stretch.len,
                at: stretch.pages_offset,
            });
        }
        for (shmid, mut ranges) in by_object {
            ranges.sort_by_key(|range| range.offset);
            index.entry(shmid).or_default().push(SharedMapping {
                pid: task.pid,
                command: task.comm.clone(),
                ranges,
            });
        }
    }
    index
}

/// The pieces of a shared object the `mappings` cover, each byte once, by offset in the object
/// (which is also file order: one object's pagemap lays its pages out in object order).
fn shared_pieces(mappings: &[SharedMapping]) -> Vec<Piece> {
    let mut ranges: Vec<MappedRange> = mappings
        .iter()
        .flat_map(|mapping| mapping.ranges.iter().copied())
        .collect();
    ranges.sort_by_key(|range| (range.offset, range.at));
    let mut covered: Vec<Segment> = Vec::new();
    for range in ranges {
        let (mut offset, mut at, mut len) = (range.offset, range.at, range.len);
        if let Some(last) = covered.last() {
            let last_end = last.vaddr.saturating_add(last.len);
            if offset < last_end {
                // Mapped by an earlier process too: keep only what it adds.
                let skip = (last_end - offset).min(len);
                offset += skip;
                at += skip;
                len -= skip;
            }
        }
        if len > 0 {
            covered.push(Segment {
                vaddr: offset,
                len,
                pages_offset: at,
            });
        }
    }
    join_segments(covered)
        .into_iter()
        .map(Piece::from)
        .collect()
}

/// The command line and the environment of a process, each one source of pieces held by the
/// model (see [`Dump::strings`]); one that cannot be read ends with the reason. Returns `false`
/// when the walk stops.
fn walk_strings(dump: &Dump, pid: u32, command: &str, consumer: &mut dyn Consumer) -> bool {
    let (cmdline, environ) = match dump.strings(pid) {
        Ok(strings) => (
            strings.cmdline.as_ref().map_err(|u| u.reason.clone()),
            strings.environ.as_ref().map_err(|u| u.reason.clone()),
        ),
        Err(problem) => (Err(problem.reason.clone()), Err(problem.reason)),
    };
    let start = cmdline.as_ref().map_or(0, |c| c.start);
    let origin = Origin::CommandLine {
        pid,
        command,
        start,
    };
    let pieces = cmdline.map(|cmdline| {
        let mut offset = 0usize;
        cmdline
            .bytes
            .split(|&b| b == 0)
            .map(|arg| {
                let piece = (offset, arg);
                offset += arg.len() + 1;
                piece
            })
            .collect::<Vec<_>>()
    });
    if !walk_held(&origin, pieces, consumer) {
        return false;
    }
    let start = dump
        .memory_map(pid)
        .map(|map| map.args.env_start)
        .unwrap_or(0);
    let origin = Origin::Environment {
        pid,
        command,
        start,
    };
    let pieces = environ.map(|strings| {
        strings
            .iter()
            .map(|string| {
                let offset = string.vaddr.saturating_sub(start);
                (
                    usize::try_from(offset).unwrap_or(usize::MAX),
                    string.bytes.as_slice(),
                )
            })
            .collect::<Vec<_>>()
    });
    walk_held(&origin, pieces, consumer)
}

/// A source whose pieces the model holds: `(offset, bytes)` each, or why it cannot be read.
fn walk_held(
    origin: &Origin<'_>,
    pieces: Result<Vec<(usize, &[u8])>, String>,
    consumer: &mut dyn Consumer,
) -> bool {
    if !consumer.begin(origin) {
        return true;
    }
    let pieces = match pieces {
        Ok(pieces) => pieces,
        Err(reason) => {
            let end = SourceEnd {
                read: 0,
                expected: 0,
                stopped: false,
                error: Some(SourceError::Open(reason)),
            };
            return consumer.end(origin, end);
        }
    };
    let mut end = SourceEnd {
        read: 0,
        expected: pieces.iter().map(|(_, bytes)| bytes.len() as u64).sum(),
        stopped: false,
        error: None,
    };
    for (offset, bytes) in pieces {
        let piece = Piece {
            offset: offset as u64,
            at: offset as u64,
            len: bytes.len() as u64,
        };
        let mut data = bytes;
        match consumer.piece(&piece, &mut data) {
            Ok(go_on) => {
                end.read = end.read.saturating_add(piece.len);
                if !go_on {
                    end.stopped = true;
                    break;
                }
            }
            Err(err) => {
                end.error = Some(SourceError::Read(err));
                break;
            }
        }
    }
    consumer.end(origin, end)
}

/// Stored data: its ranges of one image, or of a pages file that streamed by.
fn walk_stored(dump: &Dump, data: &StoredData, consumer: &mut dyn Consumer) -> bool {
    let origin = Origin::Stored { data };
    if !consumer.begin(&origin) {
        return true;
    }
    let pieces: Vec<Piece> = data
        .ranges
        .iter()
        .map(|range| Piece {
            offset: range.data_offset,
            at: range.file_offset,
            len: range.len,
        })
        .collect();
    let end = match dump.checkpoint().open_image(&data.image) {
        Ok(reader) if reader.is_streamed() => {
            let name = reader.name().to_owned();
            replay_pieces(&name, &pieces, consumer)
        }
        Ok(mut reader) => read_pieces(&mut reader, &pieces, consumer),
        Err(err) => SourceEnd::unopened(data.len(), &err),
    };
    consumer.end(&origin, end)
}

/// A tar inside the archive whose regular files are sources of their own.
#[derive(Clone, Copy)]
enum FilesOf<'a> {
    /// `rootfs-diff.tar`.
    RootfsDiff,
    /// A tmpfs image (`tmpfs-dev-N.tar.gz.img`, its member name).
    Tmpfs(&'a str),
}

impl<'a> FilesOf<'a> {
    fn member(self) -> &'a str {
        match self {
            FilesOf::RootfsDiff => ROOTFS_DIFF,
            FilesOf::Tmpfs(image) => image,
        }
    }

    fn origin<'p>(self, path: &'p str) -> Origin<'p>
    where
        'a: 'p,
    {
        match self {
            FilesOf::RootfsDiff => Origin::RootfsFile { path },
            FilesOf::Tmpfs(image) => Origin::TmpfsFile { image, path },
        }
    }
}

/// Every regular file of the tar `files`, each its own source; a tar that cannot be walked to
/// its end is one more source, the member, that failed. Returns `false` when the walk stops.
fn walk_tar_files(dump: &Dump, files: FilesOf<'_>, consumer: &mut dyn Consumer) -> bool {
    let mut go_on = true;
    let visited = dump
        .checkpoint()
        .visit_tar_files(files.member(), &mut |path, size, data| {
            let origin = files.origin(path);
            if !consumer.begin(&origin) {
                return Ok(true);
            }
            let piece = Piece {
                offset: 0,
                at: 0,
                len: size,
            };
            let end = read_piece_from(data, &piece, consumer);
            // A file cut short leaves the tar stream inside it: the walk of the tar ends.
            let whole = end.error.is_none() && !end.stopped;
            go_on = consumer.end(&origin, end);
            Ok(go_on && whole)
        });
    if let Err(err) = visited {
        let origin = Origin::EngineFile {
            member: files.member(),
        };
        if consumer.begin(&origin) {
            go_on = consumer.end(&origin, SourceEnd::unopened(0, &err)) && go_on;
        }
    }
    go_on
}

/// One member of the archive, as one source.
fn walk_member(dump: &Dump, member: &str, consumer: &mut dyn Consumer) -> bool {
    let origin = Origin::EngineFile { member };
    if !consumer.begin(&origin) {
        return true;
    }
    let end = match dump.checkpoint().open_member(member) {
        Ok(mut reader) => {
            let piece = Piece {
                offset: 0,
                at: 0,
                len: reader.len(),
            };
            read_pieces(&mut reader, &[piece], consumer)
        }
        Err(err) => SourceEnd::unopened(0, &err),
    };
    consumer.end(&origin, end)
}

/// Reads `pieces` of a seekable image for the consumer.
fn read_pieces<R: Read + io::Seek>(
    reader: &mut R,
    pieces: &[Piece],
    consumer: &mut dyn Consumer,
) -> SourceEnd {
    let expected = pieces.iter().fold(0u64, |sum, p| sum.saturating_add(p.len));
    let mut end = SourceEnd {
        read: 0,
        expected,
        stopped: false,
        error: None,
    };
    for piece in pieces {
        if let Err(err) = reader.seek(io::SeekFrom::Start(piece.at)) {
            end.error = Some(SourceError::Read(err));
            break;
        }
        let part = read_piece_from(reader, piece, consumer);
        end.read = end.read.saturating_add(part.read);
        end.stopped = part.stopped;
        end.error = part.error;
        if end.stopped || end.error.is_some() {
            break;
        }
    }
    end
}

/// Reads one piece from `data` (positioned at its start) for the consumer, counting what it
/// reads; a piece that ends early is an error naming how far it got.
fn read_piece_from(data: &mut dyn Read, piece: &Piece, consumer: &mut dyn Consumer) -> SourceEnd {
    let mut counted = Counted {
        inner: data.take(piece.len),
        read: 0,
    };
    let result = consumer.piece(piece, &mut counted);
    let read = counted.read;
    let mut end = SourceEnd {
        read,
        expected: piece.len,
        stopped: false,
        error: None,
    };
    match result {
        Ok(true) if read < piece.len => {
            end.error = Some(SourceError::Read(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the data ends {read} bytes into the {} bytes at byte {:#x}",
                    piece.len, piece.at
                ),
            )));
        }
        Ok(go_on) => end.stopped = !go_on,
        Err(err) => end.error = Some(SourceError::Read(err)),
    }
    end
}

/// Replays the pieces of a pages file that streamed by.
fn replay_pieces(pages: &str, pieces: &[Piece], consumer: &mut dyn Consumer) -> SourceEnd {
    let expected = pieces.iter().fold(0u64, |sum, p| sum.saturating_add(p.len));
    let mut end = SourceEnd {
        read: 0,
        expected,
        stopped: false,
        error: None,
    };
    for piece in pieces {
        match consumer.streamed(pages, piece) {
            Some(go_on) => {
                end.read = end.read.saturating_add(piece.len);
                if !go_on {
                    end.stopped = true;
                    break;
                }
            }
            None => {
                end.error = Some(SourceError::Open(format!(
                    "{pages}: the pages went by while the compressed archive was read, and were not kept"
                )));
                break;
            }
        }
    }
    end
}

/// A reader that counts what it reads.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

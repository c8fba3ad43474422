//! The one file table of a checkpoint: every open file by its CRIU file id, typed, with what
//! the other images add to it (ghost and linked-remap files from `remap-fpath.img` and
//! `ghost-file-N.img`, memfd inodes from `memfd.img`, unread pipe bytes from `pipes-data.img`,
//! unix socket queues from `sk-queues.img`, TCP queues from `tcp-stream-INO.img`, and locks from
//! `filelocks.img`).
//!
//! Entries are decoded one at a time and kept in compact form: a path is stored once as an
//! `Arc<str>` however many descriptors and mappings use it, and no longer than `PATH_MAX`
//! ([`super::text`]). `files.img` (CRIU >= 3.x) is read
//! first; the per-type images of older CRIU (`reg-files.img`, `pipes.img`, `unixsk.img`,
//! `inetsk.img`) fill in ids it lacks. An epoll instance keeps its registrations, an inotify
//! instance its watches and a fanotify instance its marks, as `files.img` holds them.
//!
//! When one of these images cannot be read (the loader marks the fact unavailable, see
//! [`super`]), the entries decoded before the error stay, and the counts that image would have
//! given are unknown rather than zero: [`FileTable::pipe_unread`], [`FileTable::fifo_unread`]
//! and [`FileTable::unix_queued`] return `None`.

use std::collections::HashMap;
use std::sync::Arc;

use super::text;

use checkpoint_images::messages::{
    EventfdFileEntry, EventpollFileEntry, EventpollTfdEntry, FanotifyFileEntry, FanotifyMarkEntry,
    FdTypes, FhEntry, FileEntry, FileLockEntry, GhostFileEntry, InetSkEntry, InotifyFileEntry,
    InotifyWdEntry, MarkType, MemfdInodeEntry, NetlinkSkEntry, PacketSockEntry, PipeDataEntry,
    PipeEntry, RegFileEntry, RemapFilePathEntry, RemapType, SignalfdEntry, SkPacketEntry,
    TcpStreamEntry, TimerfdEntry, UnixSkEntry,
};

/// A regular file (or directory: cwd and root are regular-file entries too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regular {
    /// Path when dumped (for an unlinked file: the path it had).
    pub path: Arc<str>,
    /// `O_*` flags it was opened with.
    pub flags: u32,
    /// File position.
    pub pos: u64,
    /// Size CRIU recorded, if any.
    pub size: Option<u64>,
    /// `st_mode` CRIU recorded, if any.
    pub mode: Option<u32>,
    /// Set when the file had been unlinked (opened, then deleted).
    pub deleted: Option<Deleted>,
}

impl Regular {
    /// True for directories (cwd and root are stored as regular-file entries).
    pub fn is_directory(&self) -> bool {
        self.mode.is_some_and(|mode| mode & 0o170000 == 0o040000)
    }
}

/// How CRIU kept a file that had been unlinked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// Its contents are in `ghost-file-ID.img`.
    Ghost {
        /// The `ID` of `ghost-file-ID.img`.
        remap_id: u32,
        /// Size of the contents stored (`ghost_file_entry.size`, if recorded).
        size: Option<u64>,
        /// `st_mode` of the ghost.
        mode: u32,
        /// True when CRIU stored the contents in chunks (a sparse file: between the chunks, and
        /// from the last one to `size`, the file holds zeros).
        chunked: bool,
    },
    /// CRIU linked it back under a temporary name (`remap_type` LINKED).
    Linked {
        /// The file id of the link.
        remap_id: u32,
    },
}

/// A memfd inode (`memfd.img`): what every descriptor and mapping of one memfd shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemfdInode {
    /// The name given to `memfd_create` (without the `memfd:` prefix).
    pub name: Arc<str>,
    /// Size in bytes.
    pub size: u64,
    /// `F_SEAL_*` bits.
    pub seals: u32,
    /// The `SHMID` of `pagemap-shmem-SHMID.img` holding its contents.
    pub shmid: u64,
}

impl MemfdInode {
    /// True for anonymous shared memory (`MAP_SHARED | MAP_ANONYMOUS`), which CRIU 4.x records
    /// as a memfd named `/dev/zero`, the name `/proc/PID/maps` shows for it.
    pub fn is_anonymous_shared(&self) -> bool {
        &*self.name == "/dev/zero"
    }
}

/// A timerfd's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timerfd {
    /// Clock id (`CLOCK_REALTIME` 0, `CLOCK_MONOTONIC` 1, `CLOCK_BOOTTIME` 7, ...).
    pub clockid: u32,
    /// Expirations not yet read.
    pub ticks: u64,
    /// Time left until the next expiration: seconds and nanoseconds.
    pub value: (u64, u64),
    /// Interval: seconds and nanoseconds (0 for a one-shot timer).
    pub interval: (u64, u64),
}

/// One registration of an epoll instance (`epoll_ctl(EPOLL_CTL_ADD)`): which descriptor, for
/// which events, with which data word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpollTarget {
    /// The registered descriptor, in the epoll owner's table.
    pub tfd: u32,
    /// `EPOLL*` event bits as the kernel keeps them (it adds `EPOLLERR | EPOLLHUP`).
    pub events: u32,
    /// The data word given with the registration.
    pub data: u64,
    /// The target file's device (kernel `dev_t` encoding), when CRIU recorded it.
    pub dev: Option<u32>,
    /// The target file's inode, when CRIU recorded it.
    pub inode: Option<u64>,
    /// The target file's position, when CRIU recorded it.
    pub pos: Option<u64>,
}

/// One inotify watch (`inotify_add_watch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InotifyWatch {
    /// The watch descriptor.
    pub wd: u32,
    /// The watched inode.
    pub ino: u64,
    /// Its device (kernel `dev_t` encoding).
    pub dev: u32,
    /// `IN_*` event bits watched.
    pub mask: u32,
    /// `IN_*` bits ignored.
    pub ignored_mask: u32,
    /// The watched path, as CRIU found it by the inode's file handle (`None`: not found).
    pub path: Option<Arc<str>>,
}

/// What a fanotify mark is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkTarget {
    /// An inode (a file or directory).
    Inode {
        /// The inode.
        ino: u64,
        /// Its path, as CRIU found it by the file handle (`None`: not found).
        path: Option<Arc<str>>,
    },
    /// A mount.
    Mount {
        /// The mount id.
        mnt_id: u32,
        /// The mount point, when recorded.
        path: Option<Arc<str>>,
    },
    /// A mark type this reader does not know, by number.
    Other(i32),
}

impl MarkTarget {
    /// The marked path, when known.
    pub fn path(&self) -> Option<&Arc<str>> {
        match self {
            MarkTarget::Inode { path, .. } | MarkTarget::Mount { path, .. } => path.as_ref(),
            MarkTarget::Other(_) => None,
        }
    }
}

/// One fanotify mark (`fanotify_mark(FAN_MARK_ADD)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanotifyMark {
    /// What is marked.
    pub target: MarkTarget,
    /// `FAN_MARK_*` flags of the mark.
    pub mflags: u32,
    /// `FAN_*` event bits.
    pub mask: u32,
    /// `FAN_*` bits ignored.
    pub ignored_mask: u32,
    /// The device (kernel `dev_t` encoding).
    pub dev: u32,
}

/// What a file id is.
#[derive(Debug, Clone)]
pub enum FileKind {
    /// A regular file or directory.
    Regular(Regular),
    /// A pipe end.
    Pipe {
        /// The pipe's inode.
        pipe_id: u32,
    },
    /// A FIFO end.
    Fifo {
        /// The FIFO's inode.
        pipe_id: u32,
        /// The file id of its path entry.
        path_id: Option<u32>,
    },
    /// An IPv4/IPv6 socket.
    Inet(Box<InetSkEntry>),
    /// A unix socket.
    Unix(Box<UnixSkEntry>),
    /// A netlink socket.
    Netlink(Box<NetlinkSkEntry>),
    /// A packet socket.
    Packet(Box<PacketSockEntry>),
    /// An eventfd.
    Eventfd {
        /// Its counter.
        counter: u64,
    },
    /// An epoll instance and its registrations, in image order.
    Eventpoll {
        /// The registrations.
        targets: Vec<EpollTarget>,
    },
    /// A signalfd.
    Signalfd {
        /// The signals it accepts (bit N-1 for signal N).
        mask: u64,
    },
    /// A timerfd.
    Timerfd(Timerfd),
    /// An inotify instance and its watches, in image order.
    Inotify {
        /// The watches.
        watches: Vec<InotifyWatch>,
    },
    /// A fanotify instance and its marks, in image order.
    Fanotify {
        /// `fanotify_init` flags (`FAN_CLASS_*`, `FAN_REPORT_*`, ...).
        flags: u32,
        /// `fanotify_init` event file flags (`O_*`).
        event_flags: u32,
        /// The marks.
        marks: Vec<FanotifyMark>,
    },
    /// A memfd descriptor.
    Memfd {
        /// Its inode in `memfd.img` (see [`FileTable::memfd_inode`]).
        inode_id: u64,
        /// File position.
        pos: u64,
    },
    /// A pidfd.
    Pidfd,
    /// Anything else, by its `fd_types` number.
    Other(i32),
}

/// One file of the dump.
#[derive(Debug, Clone)]
pub struct File {
    /// CRIU's file id.
    pub id: u32,
    /// CRIU's `fd_types` number of the entry.
    pub file_type: i32,
    /// What it is.
    pub kind: FileKind,
}

/// A lock held when dumped (`filelocks.img`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLock {
    /// `flock`, `posix`, `ofd` or `lease`.
    pub kind: &'static str,
    /// `read` or `write` (or `unlock`, `unknown`).
    pub mode: &'static str,
    /// Holder's pid as CRIU recorded it.
    pub pid: i32,
    /// Holder's descriptor.
    pub fd: i32,
    /// First byte (POSIX and OFD locks).
    pub start: i64,
    /// Length in bytes, 0 meaning to the end (POSIX and OFD locks).
    pub len: i64,
}

/// Bytes queued in a socket or pipe when dumped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queued {
    /// Bytes waiting to be read.
    pub recv: u64,
    /// Bytes waiting to be sent (TCP: not yet acknowledged or not yet sent).
    pub send: u64,
}

/// Every file of the dump by id, with the facts other images add.
#[derive(Debug, Clone, Default)]
pub struct FileTable {
    files: HashMap<u32, File>,
    /// Unread bytes of pipes and FIFOs, by pipe inode.
    pipe_data: HashMap<u32, u64>,
    /// Queued bytes of unix sockets, by socket file id.
    unix_queues: HashMap<u32, u64>,
    /// TCP queues by socket inode.
    tcp_queues: HashMap<u32, Queued>,
    /// Locks by `(pid, fd)`.
    locks: HashMap<(i32, i32), Vec<FileLock>>,
    /// memfd inodes by inode id.
    memfd_inodes: HashMap<u64, MemfdInode>,
    /// Counts whose image could not be read (see the module docs).
    unknown: UnknownCounts,
}

/// Which queue images could not be read: their counts are unknown, not zero.
#[derive(Debug, Clone, Copy, Default)]
struct UnknownCounts {
    pipe_data: bool,
    fifo_data: bool,
    unix_queues: bool,
}

/// A queue image whose counts are unknown (see [`FileTable::mark_unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueImage {
    /// `pipes-data.img`.
    PipeData,
    /// `fifo-data.img`.
    FifoData,
    /// `sk-queues.img`.
    UnixQueues,
}

impl FileTable {
    /// The file with this id.
    pub fn get(&self, id: u32) -> Option<&File> {
        self.files.get(&id)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when the dump has no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &File> + '_ {
        self.files.values()
    }

    /// The path of a regular file (or memfd, as `/memfd:NAME (deleted)`), as `/proc/PID/maps`
    /// names its mappings.
    pub fn path(&self, id: u32) -> Option<Arc<str>> {
        match &self.files.get(&id)?.kind {
            FileKind::Regular(reg) => Some(Arc::clone(&reg.path)),
            FileKind::Memfd { inode_id, .. } => {
                let inode = self.memfd_inodes.get(inode_id);
                Some(match inode {
                    Some(inode) if inode.is_anonymous_shared() => Arc::from("/dev/zero (deleted)"),
                    Some(inode) => Arc::from(format!("/memfd:{} (deleted)", inode.name)),
                    None => Arc::from("/memfd:? (deleted)"),
                })
            }
            _ => None,
        }
    }

    /// The inode of a memfd, by inode id.
    pub fn memfd_inode(&self, inode_id: u64) -> Option<&MemfdInode> {
        self.memfd_inodes.get(&inode_id)
    }

    /// The inode of the memfd with file id `id`.
    pub fn memfd(&self, id: u32) -> Option<&MemfdInode> {
        match &self.files.get(&id)?.kind {
            FileKind::Memfd { inode_id, .. } => self.memfd_inodes.get(inode_id),
            _ => None,
        }
    }

    /// Every memfd inode.
    pub fn memfd_inodes(&self) -> impl Iterator<Item = &MemfdInode> + '_ {
        self.memfd_inodes.values()
    }

    /// Unread bytes of a pipe (0 when `pipes-data.img` holds none); `None` when
    /// `pipes-data.img` could not be read.
    pub fn pipe_unread(&self, pipe_id: u32) -> Option<u64> {
        (!self.unknown.pipe_data).then(|| self.pipe_data.get(&pipe_id).copied().unwrap_or(0))
    }

    /// Unread bytes of a FIFO (0 when `fifo-data.img` holds none); `None` when `fifo-data.img`
    /// could not be read.
    pub fn fifo_unread(&self, pipe_id: u32) -> Option<u64> {
        (!self.unknown.fifo_data).then(|| self.pipe_data.get(&pipe_id).copied().unwrap_or(0))
    }

    /// Queued bytes of a unix socket (by its file id; 0 when `sk-queues.img` holds none);
    /// `None` when `sk-queues.img` could not be read.
    pub fn unix_queued(&self, socket_id: u32) -> Option<u64> {
        (!self.unknown.unix_queues).then(|| self.unix_queues.get(&socket_id).copied().unwrap_or(0))
    }

    /// Records that `image` could not be read: its counts become unknown.
    pub(crate) fn mark_unknown(&mut self, image: QueueImage) {
        match image {
            QueueImage::PipeData => self.unknown.pipe_data = true,
            QueueImage::FifoData => self.unknown.fifo_data = true,
            QueueImage::UnixQueues => self.unknown.unix_queues = true,
        }
    }

    /// TCP queues of a socket (by its inode).
    pub fn tcp_queued(&self, ino: u32) -> Option<Queued> {
        self.tcp_queues.get(&ino).copied()
    }

    /// Locks held through descriptor `fd` of process `pid`.
    pub fn locks(&self, pid: u32, fd: u32) -> &[FileLock] {
        let key = (
            i32::try_from(pid).unwrap_or(-1),
            i32::try_from(fd).unwrap_or(-1),
        );
        self.locks.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Adds one `files.img` entry. A later entry with the same id does not replace the first.
    pub(crate) fn add_entry(&mut self, entry: FileEntry) {
        let id = entry.id;
        let file_type = entry.r#type;
        let kind = kind_of(entry);
        self.files.entry(id).or_insert(File {
            id,
            file_type,
            kind,
        });
    }

    /// Adds a `reg-files.img` entry of older CRIU.
    pub(crate) fn add_reg(&mut self, reg: RegFileEntry) {
        let id = reg.id;
        self.files.entry(id).or_insert(File {
            id,
            file_type: FdTypes::REG as i32,
            kind: FileKind::Regular(regular(reg)),
        });
    }

    /// Adds a `pipes.img` entry of older CRIU.
    pub(crate) fn add_pipe(&mut self, pipe: PipeEntry) {
        self.files.entry(pipe.id).or_insert(File {
            id: pipe.id,
            file_type: FdTypes::PIPE as i32,
            kind: FileKind::Pipe {
                pipe_id: pipe.pipe_id,
            },
        });
    }

    /// Adds a `unixsk.img` entry of older CRIU.
    pub(crate) fn add_unix(&mut self, sk: UnixSkEntry) {
        self.files.entry(sk.id).or_insert(File {
            id: sk.id,
            file_type: FdTypes::UNIXSK as i32,
            kind: FileKind::Unix(Box::new(sk)),
        });
    }

    /// Adds an `inetsk.img` entry of older CRIU.
    pub(crate) fn add_inet(&mut self, sk: InetSkEntry) {
        self.files.entry(sk.id).or_insert(File {
            id: sk.id,
            file_type: FdTypes::INETSK as i32,
            kind: FileKind::Inet(Box::new(sk)),
        });
    }

    /// Marks the file `remap.orig_id` as deleted; `ghost` is the header of its ghost image.
    pub(crate) fn add_remap(&mut self, remap: &RemapFilePathEntry, ghost: Option<GhostFileEntry>) {
        let deleted = match RemapType::try_from(remap.remap_type.unwrap_or(0)) {
            Ok(RemapType::GHOST) => Deleted::Ghost {
                remap_id: remap.remap_id,
                size: ghost.as_ref().and_then(|g| g.size),
                mode: ghost.as_ref().map_or(0, |g| g.mode),
                chunked: ghost.as_ref().and_then(|g| g.chunks).unwrap_or(false),
            },
            Ok(RemapType::LINKED) => Deleted::Linked {
                remap_id: remap.remap_id,
            },
            _ => return,
        };
        if let Some(File {
            kind: FileKind::Regular(reg),
            ..
        }) = self.files.get_mut(&remap.orig_id)
        {
            reg.deleted = Some(deleted);
        }
    }

    /// Records a `memfd.img` inode.
    pub(crate) fn add_memfd_inode(&mut self, inode: MemfdInodeEntry) {
        self.memfd_inodes.insert(
            inode.inode_id,
            MemfdInode {
                name: Arc::from(text::bounded(inode.name, text::MEMFD_NAME_MAX)),
                size: inode.size,
                seals: inode.seals,
                shmid: u64::from(inode.shmid),
            },
        );
    }

    /// Adds the unread bytes of one `pipes-data.img` / `fifo-data.img` entry.
    pub(crate) fn add_pipe_data(&mut self, entry: &PipeDataEntry) {
        let total = self.pipe_data.entry(entry.pipe_id).or_default();
        *total = total.saturating_add(u64::from(entry.bytes));
    }

    /// Adds one queued packet of `sk-queues.img`.
    pub(crate) fn add_unix_queue(&mut self, packet: &SkPacketEntry) {
        let total = self.unix_queues.entry(packet.id_for).or_default();
        *total = total.saturating_add(u64::from(packet.length));
    }

    /// Records the queues of the TCP socket with inode `ino`.
    pub(crate) fn add_tcp_stream(&mut self, ino: u32, stream: &TcpStreamEntry) {
        self.tcp_queues.insert(
            ino,
            Queued {
                recv: u64::from(stream.inq_len),
                send: u64::from(stream.outq_len),
            },
        );
    }

    /// Records one lock of `filelocks.img`.
    pub(crate) fn add_lock(&mut self, lock: &FileLockEntry) {
        self.locks
            .entry((lock.pid, lock.fd))
            .or_default()
            .push(file_lock(lock));
    }
}

fn regular(reg: RegFileEntry) -> Regular {
    Regular {
        path: Arc::from(text::bounded(reg.name, text::PATH_MAX)),
        flags: reg.flags,
        pos: reg.pos,
        size: reg.size,
        mode: reg.mode,
        deleted: None,
    }
}

fn kind_of(entry: FileEntry) -> FileKind {
    let FileEntry {
        r#type,
        reg,
        isk,
        psk,
        nlsk,
        efd,
        epfd,
        sgfd,
        tfd,
        ify,
        ffy,
        usk,
        fifo,
        pipe,
        memfd,
        ..
    } = entry;
    match FdTypes::try_from(r#type) {
        Ok(FdTypes::REG) => reg.map_or(FileKind::Other(r#type), |reg| {
            FileKind::Regular(regular(reg))
        }),
        Ok(FdTypes::PIPE) => pipe.map_or(FileKind::Other(r#type), |p| FileKind::Pipe {
            pipe_id: p.pipe_id,
        }),
        Ok(FdTypes::FIFO) => fifo.map_or(FileKind::Other(r#type), |f| FileKind::Fifo {
            pipe_id: f.pipe_id,
            path_id: f.regf_id,
        }),
        Ok(FdTypes::INETSK) => {
            isk.map_or(FileKind::Other(r#type), |sk| FileKind::Inet(Box::new(sk)))
        }
        Ok(FdTypes::UNIXSK) => {
            usk.map_or(FileKind::Other(r#type), |sk| FileKind::Unix(Box::new(sk)))
        }
        Ok(FdTypes::NETLINKSK) => nlsk.map_or(FileKind::Other(r#type), |sk| {
            FileKind::Netlink(Box::new(sk))
        }),
        Ok(FdTypes::PACKETSK) => {
            psk.map_or(FileKind::Other(r#type), |sk| FileKind::Packet(Box::new(sk)))
        }
        Ok(FdTypes::EVENTFD) => efd.map_or(FileKind::Other(r#type), |e: EventfdFileEntry| {
            FileKind::Eventfd { counter: e.counter }
        }),
        Ok(FdTypes::EVENTPOLL) => FileKind::Eventpoll {
            targets: epfd.map_or_else(Vec::new, |e: EventpollFileEntry| {
                e.tfd.iter().map(epoll_target).collect()
            }),
        },
        Ok(FdTypes::SIGNALFD) => sgfd.map_or(FileKind::Other(r#type), |s: SignalfdEntry| {
            FileKind::Signalfd { mask: s.sigmask }
        }),
        Ok(FdTypes::TIMERFD) => tfd.map_or(FileKind::Other(r#type), |t: TimerfdEntry| {
            FileKind::Timerfd(Timerfd {
                clockid: t.clockid,
                ticks: t.ticks,
                value: (t.vsec, t.vnsec),
                interval: (t.isec, t.insec),
            })
        }),
        Ok(FdTypes::INOTIFY) => FileKind::Inotify {
            watches: ify.map_or_else(Vec::new, |i: InotifyFileEntry| {
                i.wd.iter().map(inotify_watch).collect()
            }),
        },
        Ok(FdTypes::FANOTIFY) => ffy.map_or(
            FileKind::Fanotify {
                flags: 0,
                event_flags: 0,
                marks: Vec::new(),
            },
            |f: FanotifyFileEntry| FileKind::Fanotify {
                flags: f.faflags,
                event_flags: f.evflags,
                marks: f.mark.iter().map(fanotify_mark).collect(),
            },
        ),
        Ok(FdTypes::MEMFD) => memfd.map_or(FileKind::Other(r#type), |m| FileKind::Memfd {
            inode_id: u64::from(m.inode_id),
            pos: m.pos,
        }),
        Ok(FdTypes::PIDFD) => FileKind::Pidfd,
        _ => FileKind::Other(r#type),
    }
}

fn epoll_target(entry: &EventpollTfdEntry) -> EpollTarget {
    EpollTarget {
        tfd: entry.tfd,
        events: entry.events,
        data: entry.data,
        dev: entry.dev,
        inode: entry.inode,
        pos: entry.pos,
    }
}

/// The path CRIU resolved from a file handle, bounded.
fn handle_path(handle: &FhEntry) -> Option<Arc<str>> {
    handle
        .path
        .clone()
        .map(|path| Arc::from(text::bounded(path, text::PATH_MAX)))
}

fn inotify_watch(entry: &InotifyWdEntry) -> InotifyWatch {
    InotifyWatch {
        wd: entry.wd,
        ino: entry.i_ino,
        dev: entry.s_dev,
        mask: entry.mask,
        ignored_mask: entry.ignored_mask,
        path: handle_path(&entry.f_handle),
    }
}

fn fanotify_mark(entry: &FanotifyMarkEntry) -> FanotifyMark {
    let target = match MarkType::try_from(entry.r#type) {
        Ok(MarkType::INODE) => MarkTarget::Inode {
            ino: entry.ie.as_ref().map_or(0, |ie| ie.i_ino),
            path: entry.ie.as_ref().and_then(|ie| handle_path(&ie.f_handle)),
        },
        Ok(MarkType::MOUNT) => MarkTarget::Mount {
            mnt_id: entry.me.as_ref().map_or(0, |me| me.mnt_id),
            path: entry
                .me
                .as_ref()
                .and_then(|me| me.path.clone())
                .map(|path| Arc::from(text::bounded(path, text::PATH_MAX))),
        },
        _ => MarkTarget::Other(entry.r#type),
    };
    FanotifyMark {
        target,
        mflags: entry.mflags,
        mask: entry.mask,
        ignored_mask: entry.ignored_mask,
        dev: entry.s_dev,
    }
}

fn file_lock(lock: &FileLockEntry) -> FileLock {
    // fs.h: FL_POSIX 1, FL_FLOCK 2, FL_DELEG 4, FL_ACCESS 8, FL_EXISTS 16, FL_LEASE 32,
    // FL_CLOSE 64, FL_SLEEP 128, FL_DOWNGRADE_PENDING 256, FL_UNLOCK_PENDING 512, FL_OFDLCK 1024.
    let kind = if lock.flag & 1024 != 0 {
        "ofd"
    } else if lock.flag & 1 != 0 {
        "posix"
    } else if lock.flag & 2 != 0 {
        "flock"
    } else if lock.flag & 32 != 0 {
        "lease"
    } else {
        "unknown"
    };
    // fcntl.h: F_RDLCK 0, F_WRLCK 1, F_UNLCK 2; flock's LOCK_MAND bits 32 and up are not used here.
    let mode = match lock.r#type {
        0 => "read",
        1 => "write",
        2 => "unlock",
        _ => "unknown",
    };
    FileLock {
        kind,
        mode,
        pid: lock.pid,
        fd: lock.fd,
        start: lock.start,
        len: lock.len,
    }
}

/// A table of `files.img` entries alone (no per-type images, remaps or queues), as a test or a
/// tool builds one; a later entry with the same id does not replace the first.
impl FromIterator<FileEntry> for FileTable {
    fn from_iter<I: IntoIterator<Item = FileEntry>>(entries: I) -> FileTable {
        let mut table = FileTable::default();
        for entry in entries {
            table.add_entry(entry);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_images::messages::MemfdFileEntry;

    #[test]
    fn a_path_is_shared_not_copied() {
        let mut table = FileTable::default();
        table.add_entry(FileEntry {
            r#type: FdTypes::REG as i32,
            id: 1,
            reg: Some(RegFileEntry {
                id: 1,
                name: "/srv/app/cache.db".into(),
                mode: Some(0o100644),
                ..RegFileEntry::default()
            }),
            ..FileEntry::default()
        });
        let a = table.path(1).unwrap();
        let b = table.path(1).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(table.path(2).is_none());
    }

    #[test]
    fn remaps_mark_files_deleted() {
        let mut table = FileTable::default();
        table.add_reg(RegFileEntry {
            id: 4,
            name: "/tmp/x".into(),
            ..RegFileEntry::default()
        });
        table.add_remap(
            &RemapFilePathEntry {
                orig_id: 4,
                remap_id: 9,
                remap_type: Some(RemapType::GHOST as i32),
            },
            Some(GhostFileEntry {
                size: Some(24),
                mode: 0o100600,
                ..GhostFileEntry::default()
            }),
        );
        let Some(FileKind::Regular(reg)) = table.get(4).map(|f| &f.kind) else {
            panic!("regular file expected")
        };
        assert_eq!(
            reg.deleted,
            Some(Deleted::Ghost {
                remap_id: 9,
                size: Some(24),
                mode: 0o100600,
                chunked: false,
            })
        );
    }

    #[test]
    fn memfd_inodes_fill_their_files() {
        let mut table = FileTable::default();
        table.add_entry(FileEntry {
            r#type: FdTypes::MEMFD as i32,
            id: 7,
            memfd: Some(MemfdFileEntry {
                id: 7,
                inode_id: 3,
                ..MemfdFileEntry::default()
            }),
            ..FileEntry::default()
        });
        table.add_memfd_inode(MemfdInodeEntry {
            name: "app-cache".into(),
            size: 8192,
            shmid: 4242,
            seals: 0x0f,
            inode_id: 3,
            ..MemfdInodeEntry::default()
        });
        assert_eq!(table.memfd(7).map(|i| i.shmid), Some(4242));
        assert_eq!(table.path(7).as_deref(), Some("/memfd:app-cache (deleted)"));
    }

    #[test]
    fn locks_are_found_by_holder() {
        let mut table = FileTable::default();
        table.add_lock(&FileLockEntry {
            flag: 2,
            r#type: 1,
            pid: 10,
            fd: 3,
            start: 0,
            len: 0,
        });
        let locks = table.locks(10, 3);
        assert_eq!(locks.len(), 1);
        assert_eq!((locks[0].kind, locks[0].mode), ("flock", "write"));
        assert!(table.locks(10, 4).is_empty());
    }
}

//! The report structs `analyze` builds and `output` renders: plain data, no formatting.
//!
//! JSON keys follow `checkpointctl inspect --format=json` (`container_name`, `checkpoint_size`,
//! `statistics`, `process_tree`, `file_descriptors`, `sockets`, `mounts`, ...) wherever the data is
//! the same, so scripts written against checkpointctl keep working. Sections the user did not ask
//! for are `None` and left out of the JSON.

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything reported about one checkpoint archive or image directory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckpointReport {
    /// The path the checkpoint was read from, as given on the command line.
    pub checkpoint: String,
    /// Container name (empty for a bare CRIU image directory).
    pub container_name: String,
    /// Container image name.
    pub image: String,
    /// The image's id or digest, as the engine recorded it (when it is not the name itself).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    /// Container ID.
    pub id: String,
    /// OCI runtime (`runc`, `crun`, ...).
    pub runtime: String,
    /// When the container was created, as the engine wrote it.
    pub created: String,
    /// When the container was checkpointed, as the engine wrote it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub checkpointed: String,
    /// Container engine (`CRI-O`, `Podman`, `containerd`; empty for a bare image directory).
    pub engine: String,
    /// The container's IP address.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip: String,
    /// The pod the container ran in.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pod: String,
    /// The pod's namespace.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Sizes of the checkpoint and of its parts, in bytes.
    pub checkpoint_size: CheckpointSize,
    /// The chain of custody recorded when the archive was fetched (`ARCHIVE.custody.json`),
    /// and whether the archive still matches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody: Option<checkpoint_model::archive::CustodyStatus>,
    /// The forensic summary (the default view of one checkpoint; JSON without section flags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<super::SummaryReport>,
    /// CRIU's dump statistics (`--stats`).
    #[serde(rename = "statistics", skip_serializing_if = "Option::is_none")]
    pub statistics: Option<DumpStatistics>,
    /// Kubernetes metadata (`--metadata`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataReport>,
    /// The process tree, from its root (`--ps-tree`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_tree: Option<ProcessNode>,
    /// Open files of each process (`--files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_descriptors: Option<Vec<ProcessFiles>>,
    /// SysV shared-memory segments of the IPC namespace (`--files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysv_shm: Option<Vec<SysvReport>>,
    /// Sockets of each process that has any (`--sockets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sockets: Option<Vec<ProcessSockets>>,
    /// Mount points (`--mounts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<MountReport>>,
    /// Files the container changed or deleted in its root file system (`--rootfs-diff`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootfs_diff: Option<RootfsDiffReport>,
    /// Compromise indicators (`--indicators`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicators: Option<super::indicators::IndicatorReport>,
    /// Facts of the whole checkpoint that could not be read (an image missing, broken, or of
    /// another type than its name says), each with the error naming the image and byte offset;
    /// everything else is reported. A process's own facts that could not be read are in its
    /// node of the process tree instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Unreadable>,
}

/// Sizes in bytes. `total_size` is the archive file (or the sum of the directory's files).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CheckpointSize {
    /// The whole checkpoint.
    pub total_size: u64,
    /// All `pages-*.img` members: the dumped memory.
    pub memory_pages_size: u64,
    /// The `rootfs-diff.tar` member.
    pub root_fs_diff_size: u64,
}

/// CRIU's `stats-dump`: times in microseconds, counts in pages.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DumpStatistics {
    /// Time to freeze the tree.
    pub freezing_time: u32,
    /// Time the tree stayed frozen.
    pub frozen_time: u32,
    /// Time to collect memory.
    pub memdump_time: u32,
    /// Time to write memory.
    pub memwrite_time: u32,
    /// Pages looked at.
    pub pages_scanned: u64,
    /// Pages skipped because the parent checkpoint holds them.
    pub pages_skipped_parent: u64,
    /// Pages written to `pages-*.img`.
    pub pages_written: u64,
    /// Pages left for lazy restore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages_lazy: Option<u64>,
    /// Page pipes used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_pipes: Option<u64>,
    /// Page pipe buffers used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_pipe_bufs: Option<u64>,
    /// Inode-to-path resolution time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irmap_resolve: Option<u32>,
    /// Shared memory pages looked at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shpages_scanned: Option<u64>,
    /// Shared memory pages skipped because the parent holds them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shpages_skipped_parent: Option<u64>,
    /// Shared memory pages written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shpages_written: Option<u64>,
}

/// Kubernetes metadata of the container.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MetadataReport {
    /// Pod name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pod_name: String,
    /// Pod namespace.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kubernetes_namespace: String,
    /// OCI spec annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One process of the tree, with its children.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessNode {
    /// Process ID (in the innermost PID namespace CRIU saw).
    pub pid: u32,
    /// Parent process ID; 0 for the root.
    pub ppid: u32,
    /// Process group ID.
    pub pgid: u32,
    /// Session ID.
    pub sid: u32,
    /// `comm`: the kernel's short name of the process.
    #[serde(rename = "command")]
    pub command: String,
    /// Task state (`Alive`, `Stopped`, `Zombie`, `Dead`, `Unknown`).
    pub task_state: &'static str,
    /// Exit code, for zombies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u32>,
    /// The threads, main thread first.
    pub threads: Vec<ThreadNode>,
    /// The command line as `/proc/PID/cmdline` shows it, arguments joined by spaces, trailing
    /// padding trimmed (`--cmdline`); bytes that are not UTF-8 as `\xNN`, a backslash as `\\`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// True when the process rewrote its title (setproctitle): `cmdline` is then the title.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retitled: bool,
    /// The environment in memory order, duplicates kept, as `NAME=value` strings (`--env`),
    /// each byte that is not UTF-8 as `\xNN` and a backslash as `\\` (see
    /// `checkpoint_model::dump::text::lossless`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Vec<String>>,
    /// The environment as a map (checkpointctl's key): the first value of each name, as
    /// `getenv` sees it; an entry without `=` (not a variable: `getenv` never finds it) maps
    /// to `null`, an empty value (`NAME=`) to `""`. Names and values are text as
    /// `environment`'s are.
    #[serde(
        rename = "environment_variables",
        skip_serializing_if = "Option::is_none"
    )]
    pub environment_variables: Option<EnvironmentMap>,
    /// Facts that could not be read, each with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Unreadable>,
    /// Child processes, in `pstree.img` order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ProcessNode>,
}

/// An environment as `getenv` sees it: the first value of each name, sorted by name, held
/// side by side (a report holds one per process: a `BTreeMap` node would take about 0.5 KB
/// for a few variables); serialized as a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentMap(Vec<(String, Option<String>)>);

impl EnvironmentMap {
    /// `NAME=value` strings as a map holding the first value of each name (what `getenv`
    /// finds); a string without `=` maps to `None` (it is no variable, but the kernel's copy
    /// holds it), an empty value to `""`; empty strings are left out.
    pub fn from_strings(strings: &[String]) -> EnvironmentMap {
        let mut pairs: Vec<(String, Option<String>)> = strings
            .iter()
            .filter(|entry| !entry.is_empty())
            .map(|entry| match entry.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (entry.clone(), None),
            })
            .collect();
        // A stable sort keeps the first of each name first, and the dedup keeps that one.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        pairs.shrink_to_fit();
        EnvironmentMap(pairs)
    }

    /// The value of `name`: `None` when there is no such name, `Some(None)` for a string
    /// without `=`.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        let at = self
            .0
            .binary_search_by(|(key, _)| key.as_str().cmp(name))
            .ok()?;
        self.0.get(at).map(|(_, value)| value.as_deref())
    }

    /// The names and values, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_deref()))
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when it holds no name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for EnvironmentMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One thread of a process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ThreadNode {
    /// Thread ID.
    pub tid: u32,
    /// The thread's name (`comm` of the thread), empty when it could not be read.
    pub name: String,
    /// The state CRIU recorded for the thread group (CRIU stores no state per thread).
    pub state: &'static str,
}

/// A fact of a process that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// Which fact: `cmdline`, `environment`, `files`, `memory`, `threads`, ...
    pub field: String,
    /// Why.
    pub reason: String,
}

/// The open files of one process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessFiles {
    /// Process ID.
    pub pid: u32,
    /// Descriptors in fd order, then `cwd` and `root`.
    pub open_files: Vec<OpenFile>,
    /// Why the files could not be read, when they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One open file descriptor (or the cwd / root of a process).
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenFile {
    /// The descriptor number, or `cwd` / `root`.
    pub fd: String,
    /// CRIU's file type (`REG`, `PIPE`, `INETSK`, `UNIXSK`, `MEMFD`, ...; `DIR` for
    /// directories).
    #[serde(rename = "type")]
    pub file_type: String,
    /// What `/proc/PID/fd` would show: a path (`(deleted)` appended for unlinked files),
    /// `pipe:[ino]`, `socket:[ino]`, `/memfd:NAME (deleted)`, `anon_inode:[eventfd]`, ...
    pub path: String,
    /// True for files unlinked while open (ghost files and linked remaps).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Size in bytes: of the file as dumped, of a ghost file's stored contents, of a memfd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The file position (regular files and memfds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<u64>,
    /// What else the checkpoint says about it, in one line (eventfd counter, timerfd clock
    /// and times, signalfd mask, unread bytes, memfd seals, locks).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// What descriptors of some kinds have besides (eventfd, timerfd, signalfd, queues, memfd
    /// seals, epoll, inotify, fanotify, locks), in the same object when serialized; `None`
    /// when it has none of them. Read it through [`OpenFile::extras`].
    #[serde(flatten)]
    pub extras: Option<Box<FileExtras>>,
}

impl OpenFile {
    /// The facts only descriptors of some kinds have (all empty for most descriptors).
    pub fn extras(&self) -> &FileExtras {
        self.extras.as_deref().unwrap_or(&NO_EXTRAS)
    }

    /// The facts only descriptors of some kinds have, to fill in.
    pub fn extras_mut(&mut self) -> &mut FileExtras {
        self.extras.get_or_insert_with(Box::default)
    }
}

/// An [`OpenFile`] without extras.
static NO_EXTRAS: FileExtras = FileExtras {
    eventfd_counter: None,
    timerfd: None,
    signalfd_mask: None,
    unread_bytes: None,
    seals: None,
    epoll_targets: None,
    inotify_watches: None,
    fanotify: None,
    locks: Vec::new(),
};

/// The facts of an [`OpenFile`] that only descriptors of some kinds have, boxed apart: a
/// report holds one `OpenFile` per descriptor of every process, and most have none of these.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileExtras {
    /// eventfd: the counter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eventfd_counter: Option<u64>,
    /// timerfd: clock, time to the next expiration and interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timerfd: Option<TimerfdReport>,
    /// signalfd: the signals it accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signalfd_mask: Option<Vec<String>>,
    /// Pipes, FIFOs and sockets: bytes waiting to be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_bytes: Option<u64>,
    /// memfd: its seals (`seal`, `shrink`, `grow`, `write`, `future_write`, `exec`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seals: Option<Vec<String>>,
    /// epoll: its registrations, in the order CRIU stored them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoll_targets: Option<Vec<EpollTargetReport>>,
    /// inotify: its watches, in the order CRIU stored them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inotify_watches: Option<Vec<InotifyWatchReport>>,
    /// fanotify: its settings and marks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fanotify: Option<FanotifyReport>,
    /// Locks held through this descriptor.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locks: Vec<LockReport>,
}

/// One registration of an epoll instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EpollTargetReport {
    /// The registered descriptor.
    pub tfd: u32,
    /// What that descriptor is in the owner's table (as `/proc/PID/fd` shows it), or
    /// `unknown` when the owner's table has no such descriptor.
    pub target: String,
    /// The event bits as the kernel keeps them, `0x...` (it adds `EPOLLERR | EPOLLHUP`).
    pub events: String,
    /// Their names (`EPOLLIN`, `EPOLLET`, ...; unknown bits as `0x...`).
    pub event_names: Vec<String>,
    /// The data word given with the registration, `0x...`.
    pub data: String,
    /// The target file's inode, when CRIU recorded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ino: Option<u64>,
}

/// One inotify watch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InotifyWatchReport {
    /// The watch descriptor.
    pub wd: u32,
    /// The watched path, as CRIU resolved it by the inode's file handle; empty when it could
    /// not.
    pub path: String,
    /// The watched inode.
    pub ino: u64,
    /// The `IN_*` bits watched, `0x...`.
    pub mask: String,
    /// Their names.
    pub mask_names: Vec<String>,
    /// The `IN_*` bits ignored, `0x...`.
    pub ignored_mask: String,
    /// Their names.
    pub ignored_mask_names: Vec<String>,
}

/// A fanotify instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanotifyReport {
    /// `fanotify_init` flags, `0x...`.
    pub flags: String,
    /// `fanotify_init` event file flags, `0x...`.
    pub event_flags: String,
    /// The marks.
    pub marks: Vec<FanotifyMarkReport>,
}

/// One fanotify mark.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanotifyMarkReport {
    /// `inode`, `mount`, or the type's number.
    #[serde(rename = "type")]
    pub mark_type: String,
    /// The marked path (of the inode, or the mount point), empty when not known.
    pub path: String,
    /// The marked inode (inode marks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ino: Option<u64>,
    /// The `FAN_*` bits, `0x...`.
    pub mask: String,
    /// Their names.
    pub mask_names: Vec<String>,
    /// The `FAN_*` bits ignored, `0x...`.
    pub ignored_mask: String,
    /// Their names.
    pub ignored_mask_names: Vec<String>,
    /// `FAN_MARK_*` flags of the mark, `0x...`.
    pub mflags: String,
}

/// A timerfd's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimerfdReport {
    /// `realtime`, `monotonic`, `boottime`, `realtime_alarm`, `boottime_alarm`, or the number.
    pub clock: String,
    /// Nanoseconds until the next expiration (0: disarmed).
    pub remaining_ns: u64,
    /// Interval in nanoseconds (0: one-shot).
    pub interval_ns: u64,
    /// Expirations not yet read.
    pub ticks: u64,
}

/// A lock held through a descriptor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockReport {
    /// `flock`, `posix`, `ofd` or `lease`.
    pub kind: String,
    /// `read` or `write`.
    pub mode: String,
    /// First byte locked (POSIX and OFD locks).
    pub start: i64,
    /// Bytes locked, 0 meaning to the end of the file.
    pub len: i64,
}

/// A SysV shared-memory segment of the container's IPC namespace.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SysvReport {
    /// Key, `0x...` (`0x0` is `IPC_PRIVATE`).
    pub key: String,
    /// Segment id.
    pub id: u32,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits, octal.
    pub mode: String,
    /// Owner uid.
    pub uid: u32,
    /// Where it is attached: `PID@0xADDRESS`.
    pub attached: Vec<String>,
}

/// The sockets of one process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcessSockets {
    /// Process ID.
    pub pid: u32,
    /// Sockets in fd order.
    pub open_sockets: Vec<SocketNode>,
}

/// One socket.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SocketNode {
    /// The descriptor holding the socket.
    pub fd: u32,
    /// `TCP`, `UDP`, `UNIX`, `PACKET`, `NETLINK`, ...
    pub protocol: String,
    /// Details.
    pub data: SocketData,
}

/// Details of a socket.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SocketData {
    /// Address family (`IPv4`, `IPv6`, `UNIX`, ...).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub family: String,
    /// Socket type (`STREAM`, `DGRAM`, `SEQPACKET`, `RAW`).
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub socket_type: String,
    /// Connection state (`LISTEN`, `ESTABLISHED`, ...).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// UNIX socket path (abstract names start with `@`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Local address.
    #[serde(rename = "src", skip_serializing_if = "String::is_empty")]
    pub src: String,
    /// Local port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u32>,
    /// Remote address.
    #[serde(rename = "dst", skip_serializing_if = "String::is_empty")]
    pub dst: String,
    /// Remote port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u32>,
    /// Inode number of the socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ino: Option<u32>,
    /// Inode of the peer (UNIX sockets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<u32>,
    /// SO_SNDBUF in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_buf: Option<u32>,
    /// SO_RCVBUF in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recv_buf: Option<u32>,
    /// Bytes queued for sending when dumped (TCP streams and UNIX socket queues).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_queue: Option<u64>,
    /// Bytes queued for receiving when dumped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recv_queue: Option<u64>,
}

/// One mount point.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MountReport {
    /// Where it is mounted.
    pub destination: String,
    /// File system type.
    #[serde(rename = "type")]
    pub fs_type: String,
    /// What is mounted.
    pub source: String,
    /// The directory of the source file system that is mounted (bind mounts); empty for `/`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub root: String,
    /// Mount options, as the kernel showed them.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub options: String,
}

/// Changes to the container's root file system.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RootfsDiffReport {
    /// Files and directories in `rootfs-diff.tar`, in archive order.
    pub changed: Vec<ChangedFile>,
    /// Paths listed in `deleted.files`.
    pub deleted: Vec<String>,
    /// Why `changed` stops early, when it does (a compressed `rootfs-diff.tar` past its
    /// decompression bound), naming the entry it stopped in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// One member of `rootfs-diff.tar`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangedFile {
    /// Path inside the container.
    pub path: String,
    /// `file`, `dir`, `symlink`, `hardlink` or `other`.
    pub kind: String,
    /// Size in bytes (0 for anything but files).
    pub size: u64,
}

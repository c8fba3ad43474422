//! One checkpoint's CRIU images, decoded once and validated once: the model every view walks.
//!
//! [`Dump::load`] reads the task tree: `pstree.img` and the `core-TID.img` of every thread
//! ([`tasks`]), all that crit's `ps` view needs. The first view that asks for anything else
//! reads the rest, once, and checks it: each task's images (`ids-PID.img`, `fdinfo-N.img`,
//! `fs-PID.img`, `mm-PID.img`, `pagemap-PID.img`), the one file table ([`files`]), the
//! shared-memory objects ([`shared`]), the SysV segments and the stored data. Those facts
//! depend on each other across processes (a shared object's extent is what every process maps
//! of it; a pages file may be claimed by one pagemap only), so they are read together.
//! `analyze` reports walk the result, `memory` reads process memory through [`ProcessMemory`],
//! and `coredump` builds cores from it, so every verb sees the same facts and refuses the same
//! broken input with the same error.
//!
//! - [`tasks`]: the task tree and threads;
//! - [`files`]: the file table, with ghost files, memfds, queues and locks;
//! - [`layout`]: VMAs (named like `/proc/PID/maps`) and private present runs, validated;
//! - [`shared`]: shared anonymous memory, memfds and SysV segments;
//! - [`memory`]: [`ProcessMemory`], reading private and shared pages by address;
//! - [`args`]: command lines and environments by the kernel's rules;
//! - [`footprint`]: the memory a checkpoint stores, each stored page counted once;
//! - [`stored`]: the data stored outside process memory (pipe and socket queues, ghost files,
//!   unmapped shared memory);
//! - [`text`]: the kernel's bounds on names (paths, `comm`, memfd names).
//!
//! # What is refused, and what is only marked
//! Only a broken task tree (`pstree.img`, see [`tasks`]) refuses the whole checkpoint: without it
//! nothing else has a meaning. Every other image feeds one fact, and an image that is missing,
//! broken, or of another type than its name says (a `fifo-data.img` holding a PIPES_DATA image)
//! marks that fact unavailable, with the error that names the image and the byte offset, and
//! nothing else:
//! - a task whose own images are missing or broken (a `mm-PID.img` with overlapping VMAs, a
//!   pagemap that points past its pages file, ...) keeps its place in the tree, and the part that
//!   could not be read is an [`Unavailable`] of that task ([`Resources`]);
//! - an image of the whole checkpoint (`files.img` and the other file images, the queues, ghost
//!   files, locks, SysV segments, shared-memory pagemaps) is an [`Unavailable`] of the dump
//!   ([`Dump::unavailable`]): the entries decoded before the error are kept, and the counts it
//!   would have given are unknown, not zero (see [`files`]).
//!
//! Every verb reports both kinds on stderr and exits 1 ("some items failed"), and shows
//! everything else. A view that needs only the task tree (crit's `ps`) reads no other image,
//! so it reports only what the tree's images feed.
//!
//! # Bounds
//! Counts read from images are never capacities: entries are decoded one at a time within the
//! caps of [`checkpoint_images::budget`] and [`tasks`], strings used many times are shared
//! (`Arc<str>`), and sizes are summed with checked arithmetic.

pub mod args;
pub mod facts;
pub mod files;
pub mod footprint;
pub mod layout;
pub mod memory;
mod mounts;
pub mod shared;
pub mod stored;
pub mod tasks;
pub mod text;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

pub use args::{ArgBounds, Cmdline, EnvString, ProcessStrings};
use files::QueueImage;
pub use files::{File, FileKind, FileTable};
pub use footprint::{MemoryFootprint, ProcessFootprint};
pub use layout::{MemoryLayout, PresentRun, Vma, PAGE_SIZE};
pub use memory::{FileStretch, Pass, Piece, ProcessMemory, Source, Stretch, MAX_FILE_STRETCHES};
pub use mounts::Mount;
pub use shared::{SharedKind, SharedMemory, SharedObject, SysvSegment};
pub use stored::{StoredData, StoredKind, StoredRange};
pub use tasks::{Task, TaskState, TaskTree, Thread};

use crate::archive::Checkpoint;
use checkpoint_images::messages::{
    CoreEntry, FdinfoEntry, FileEntry, FileLockEntry, FsEntry, GhostFileEntry, InetSkEntry,
    IpcShmEntry, MemfdInodeEntry, MmEntry, MntEntry, PipeDataEntry, PipeEntry, PstreeEntry,
    RegFileEntry, RemapFilePathEntry, SkPacketEntry, TaskKobjIdsEntry, TcpStreamEntry, UnixSkEntry,
};
use checkpoint_images::{self as criu, CriuMessage, PageMap};
use layout::{name_vma, LayoutError};

/// Errors of this module. Each names the checkpoint and the image, or the process.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Archive(#[from] crate::archive::Error),
    /// Decoding an image failed.
    #[error(transparent)]
    Criu(#[from] checkpoint_images::Error),
    /// An image that must hold an entry holds none.
    #[error("{image}: the image holds no entry")]
    EmptyImage {
        /// Checkpoint and image.
        image: String,
    },
    /// An image that the dump needs is missing.
    #[error("{image}: missing from the checkpoint")]
    MissingImage {
        /// Checkpoint and image.
        image: String,
    },
    /// An image another image names is missing.
    #[error("{image}: missing from the checkpoint, though {named_by} names it")]
    NamedImageMissing {
        /// Checkpoint and image.
        image: String,
        /// The image and field that name it (`pagemap-7.img (pages_id 1)`).
        named_by: String,
    },
    /// `pstree.img` does not describe one tree.
    #[error("{image}: {problem}")]
    BadProcessTree {
        /// Checkpoint and image.
        image: String,
        /// What is wrong.
        problem: String,
    },
    /// An image holds more of something than any real dump.
    #[error("{image}: more than {limit} {what}; refusing the checkpoint")]
    TooMany {
        /// Checkpoint and image.
        image: String,
        /// What was counted.
        what: String,
        /// The cap in force.
        limit: u64,
    },
    /// A process's memory layout is impossible.
    #[error("{image}: {source}")]
    BadLayout {
        /// Checkpoint and image.
        image: String,
        /// The mapping or run and what is wrong with it.
        source: LayoutError,
    },
    /// A pages file that another pagemap already names: CRIU writes one pages file per pagemap,
    /// so a second claim is forged (it would make one stored page count many times).
    #[error("{pages}: already the pages file of {first}; CRIU writes one pages file per pagemap, so a second one naming it is forged")]
    PagesClaimedTwice {
        /// Checkpoint and pages image.
        pages: String,
        /// What named it first (`pid 7`, `shared memory 9`).
        first: String,
    },
    /// A pagemap run points past the end of its pages file.
    #[error(
        "{pages}: the pagemap puts {len} bytes of address {vaddr:#x} at byte {offset}, but the file has {file_len} bytes"
    )]
    RunOutsidePages {
        /// Checkpoint and pages image.
        pages: String,
        /// Address (or object offset) of the run.
        vaddr: u64,
        /// Offset the run claims.
        offset: u64,
        /// Length of the run in bytes.
        len: u64,
        /// Length of the pages file.
        file_len: u64,
    },
    /// An image holds fewer bytes of a file's contents than its header says the file has.
    #[error("{image}: byte 0x{offset:x}: the contents are cut short: {have} of {need} bytes")]
    CutShort {
        /// Checkpoint and image.
        image: String,
        /// Where the contents start.
        offset: u64,
        /// Bytes there.
        have: u64,
        /// Bytes the header gives.
        need: u64,
    },
    /// No process with this pid.
    #[error("{checkpoint}: pstree.img has no process with pid {pid}; its processes are {known}")]
    NoProcess {
        /// The checkpoint.
        checkpoint: String,
        /// The pid asked for.
        pid: u32,
        /// The pids it has.
        known: String,
    },
    /// A fact of the whole checkpoint that could not be read when the dump was loaded (see
    /// [`Dump::unavailable`]).
    #[error("{what} cannot be read: {reason}")]
    FactUnavailable {
        /// Which fact (one of [`facts`]).
        what: &'static str,
        /// Why, naming the image and byte offset.
        reason: String,
    },
    /// A part of a process that could not be read when the dump was loaded.
    #[error("pid {pid}: its {what} cannot be read: {reason}")]
    Unavailable {
        /// The process.
        pid: u32,
        /// `memory`, `files`, ...
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An address the checkpoint holds no page for.
    #[error("{checkpoint}: pid {pid}: address {vaddr:#x} is not in the checkpoint's pages")]
    NotPresent {
        /// The checkpoint.
        checkpoint: String,
        /// Process id.
        pid: u32,
        /// The first absent address.
        vaddr: u64,
    },
    /// Reading a pages file failed.
    #[error("{pages}: {source}")]
    ReadPages {
        /// The pages file.
        pages: String,
        /// Where and why.
        #[source]
        source: crate::search::ReadError,
    },
    /// An area whose end lies before its start.
    #[error("it ends before it starts")]
    BadArea,
    /// Reading the argument or environment area that `mm-PID.img` names failed.
    #[error("{image}: the {area} area {start:#x}..{end:#x}")]
    StringsArea {
        /// `mm-PID.img`, whose `mm_arg_*` or `mm_env_*` fields give the area.
        image: String,
        /// `argument` or `environment`.
        area: &'static str,
        /// Start address.
        start: u64,
        /// End address.
        end: u64,
        /// Why it cannot be read.
        #[source]
        source: Box<Error>,
    },
    /// An area too large to read into memory.
    #[error("the {what} of {len} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was to be read.
        what: &'static str,
        /// Its length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// Writing memory out failed.
    #[error("writing memory: {0}")]
    Write(#[source] std::io::Error),
    /// `spec.dump` is not the JSON of an OCI runtime spec.
    #[error("{archive}: spec.dump: cannot read its mounts")]
    ParseSpec {
        /// The archive.
        archive: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

/// One thread's core image (`core-TID.img`) as CRIU wrote it: registers, signal mask,
/// credentials, scheduling. The task tree keeps only names and states; a core file needs the
/// rest, which [`Dump::thread_cores`] decodes when asked.
#[derive(Debug, Clone)]
pub struct ThreadCore {
    /// The thread id.
    pub tid: u32,
    /// Its image's name (`core-TID.img`).
    pub image: String,
    /// The decoded entry.
    pub core: checkpoint_images::messages::CoreEntry,
}

/// CRIU's statistics of the dump (`stats-dump`), or `None` when the checkpoint has none or it
/// holds no dump statistics. Read from the archive alone: no other image is decoded.
pub fn read_dump_statistics(
    checkpoint: &Checkpoint,
) -> Result<Option<checkpoint_images::messages::DumpStatsEntry>, Error> {
    let Some(bytes) = checkpoint.stats_dump()? else {
        return Ok(None);
    };
    let label = format!("{}: stats-dump", checkpoint.display_name());
    let entries = criu::read_entries::<checkpoint_images::messages::StatsEntry>(&label, &bytes)?;
    Ok(entries.into_iter().next().and_then(|entry| entry.dump))
}

/// Why a part of a task could not be read: the rendered error, kept with the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// What could not be read (`memory`, `files`, `core`).
    pub what: &'static str,
    /// The error, as text.
    pub reason: String,
}

impl Error {
    /// The process this error names in its text (`pid N: ...`), if any: a caller that labels
    /// the error with its process leaves the label out then.
    pub fn names_process(&self) -> Option<u32> {
        match self {
            Error::NoProcess { pid, .. }
            | Error::Unavailable { pid, .. }
            | Error::NotPresent { pid, .. } => Some(*pid),
            _ => None,
        }
    }
}

impl Unavailable {
    fn new(what: &'static str, err: &Error) -> Unavailable {
        Unavailable {
            what,
            reason: crate::error_text(err),
        }
    }

    /// The error that reports this fact of the whole checkpoint (one of
    /// [`Dump::unavailable`]) to a verb that needed it.
    pub fn to_fact_error(&self) -> Error {
        Error::FactUnavailable {
            what: self.what,
            reason: self.reason.clone(),
        }
    }

    /// The error to return when a verb needs this part.
    pub fn to_error(&self, pid: u32) -> Error {
        Error::Unavailable {
            pid,
            what: self.what,
            reason: self.reason.clone(),
        }
    }
}

/// One descriptor of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fd {
    /// The descriptor number.
    pub fd: u32,
    /// CRIU's `fd_types` number.
    pub file_type: i32,
    /// The file id in the [`FileTable`].
    pub id: u32,
    /// `FD_CLOEXEC` and the other descriptor flags.
    pub flags: u32,
}

/// The open files of a process: descriptors in `fdinfo` order, cwd and root.
#[derive(Debug, Clone)]
pub struct OpenFiles {
    /// The descriptor table's id (tasks that share it have the same one).
    pub files_id: u32,
    /// The descriptors; shared by the tasks of one table.
    pub fds: Arc<[Fd]>,
    /// File id of the cwd.
    pub cwd_id: u32,
    /// File id of the root.
    pub root_id: u32,
}

/// A process's memory map: VMAs and present runs, where argv and environ are, the auxiliary
/// vector.
#[derive(Debug, Clone)]
pub struct MemoryMap {
    /// VMAs and private present runs, validated. The other runs of `pagemap-PID.img` (lazy
    /// and in-parent) are not kept: [`Dump::pagemap`] reads them all again.
    pub layout: MemoryLayout,
    /// The `N` of `pages-N.img`.
    pub pages_id: u32,
    /// argv and environment bounds.
    pub args: ArgBounds,
    /// File id of the executable.
    pub exe_file_id: u32,
    /// The auxiliary vector, up to `AT_NULL`.
    pub auxv: Vec<(u64, u64)>,
}

/// The kernel objects a task uses (`ids-PID.img`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskIds {
    /// Memory (`mm`) id.
    pub vm_id: u32,
    /// Descriptor table id.
    pub files_id: u32,
    /// IPC namespace id.
    pub ipc_ns_id: Option<u32>,
    /// Mount namespace id.
    pub mnt_ns_id: Option<u32>,
    /// Network namespace id.
    pub net_ns_id: Option<u32>,
}

/// What CRIU dumped of a live (alive or stopped) task besides its core.
#[derive(Debug, Clone)]
pub struct Resources {
    /// Its kernel object ids.
    pub ids: Result<TaskIds, Unavailable>,
    /// Its open files.
    pub files: Result<OpenFiles, Unavailable>,
    /// Its memory map.
    pub memory: Result<MemoryMap, Unavailable>,
}

/// One task's strings, read when first asked for (or why they could not be).
type LazyStrings = OnceLock<Result<ProcessStrings, Unavailable>>;

/// One checkpoint, decoded and validated. See the module docs.
#[derive(Debug)]
pub struct Dump {
    checkpoint: Checkpoint,
    tree: TaskTree,
    /// Everything but the tree, read when a view first needs it.
    rest: OnceLock<Rest>,
    /// Each task's strings, by task index, read when first asked for (the list itself too).
    strings: OnceLock<Box<[LazyStrings]>>,
    /// Bytes of strings that may still be kept ([`STRINGS_BUDGET`] at first).
    strings_budget: AtomicU64,
}

/// The model beyond the task tree, read and checked together (see the module docs).
#[derive(Debug)]
struct Rest {
    resources: Vec<Option<Resources>>,
    files: FileTable,
    shared: SharedMemory,
    /// The data stored outside process memory (see [`stored`]).
    stored: Vec<StoredData>,
    /// Facts of the whole checkpoint whose image could not be read, in load order.
    unavailable: Vec<Unavailable>,
}

/// The most bytes of command lines and environments one checkpoint keeps, all processes
/// together. A process has at most a few MiB of them, but a forged checkpoint can point
/// thousands of processes at the same pages; past this budget the rest are unavailable.
pub const STRINGS_BUDGET: u64 = 64 << 20;

impl Dump {
    /// Decodes and validates the task tree of `checkpoint`; the other images are read when a
    /// view first needs them (see the module docs). A broken tree is the one error.
    pub fn load(checkpoint: Checkpoint) -> Result<Dump, Error> {
        let loader = Loader {
            checkpoint: &checkpoint,
        };
        let tree = loader.tree()?;
        Ok(Dump {
            checkpoint,
            tree,
            rest: OnceLock::new(),
            strings: OnceLock::new(),
            strings_budget: AtomicU64::new(STRINGS_BUDGET),
        })
    }

    /// The model beyond the tree, read on first use.
    fn rest(&self) -> &Rest {
        self.rest
            .get_or_init(|| Rest::read(&self.checkpoint, &self.tree))
    }
}

impl Rest {
    /// Reads and checks everything but the task tree (see the module docs); what cannot be
    /// read is marked unavailable, never an error.
    fn read(checkpoint: &Checkpoint, tree: &TaskTree) -> Rest {
        let loader = Loader { checkpoint };
        let mut unavailable = Vec::new();
        let (mut files, ghost_ranges) = loader.file_table(&mut unavailable);
        let queues = loader.queues(&mut files, &mut unavailable);
        let mut shared = SharedMemory::default();
        let root_ipc = tree
            .root()
            .and_then(|root| loader.ids(root.pid).ok())
            .and_then(|ids| ids.ipc_ns_id);
        if let Err(err) = loader.sysv_segments(root_ipc, &mut shared) {
            unavailable.push(Unavailable::new(facts::SYSV, &err));
        }
        let mut fd_tables: HashMap<u32, Arc<[Fd]>> = HashMap::new();
        let mut resources = Vec::with_capacity(tree.tasks().len().min(1 << 16));
        for task in tree.tasks() {
            if !task.state.has_resources() {
                resources.push(None);
                continue;
            }
            resources.push(Some(loader.resources(
                task.pid,
                &files,
                &mut shared,
                &mut fd_tables,
            )));
        }
        for inode in files.memfd_inodes() {
            let kind = if inode.is_anonymous_shared() {
                SharedKind::Anonymous
            } else {
                SharedKind::Memfd {
                    name: Arc::clone(&inode.name),
                }
            };
            shared.note(inode.shmid, kind, inode.size);
        }
        loader.shared_pages(&mut shared, &mut unavailable);
        let mut rest = Rest {
            resources,
            files,
            shared,
            stored: Vec::new(),
            unavailable,
        };
        rest.check_runs_inside_pages(checkpoint, tree);
        let ghosts = stored::ghosts(&rest.files, &ghost_ranges);
        let maps = rest
            .resources
            .iter()
            .flatten()
            .filter_map(|resources| resources.memory.as_ref().ok());
        let unmapped = stored::unmapped_shared(maps, &rest.shared);
        rest.stored = queues.finish(ghosts, unmapped);
        rest
    }

    /// Marks unavailable the memory of tasks whose runs point past their pages files, or whose
    /// pages file (private, or of a shared object it maps) another pagemap named first.
    fn check_runs_inside_pages(&mut self, checkpoint: &Checkpoint, tree: &TaskTree) {
        let sizes = |pages_id: u32| -> (String, Result<Option<u64>, crate::archive::Error>) {
            let member = format!("pages-{pages_id}.img");
            let size = checkpoint.image_size(&member);
            (format!("{}: {member}", checkpoint.display_name()), size)
        };
        // The first pagemap naming each pages file: a process, or a shared object.
        let mut claimed: HashMap<u32, Claimant> = HashMap::new();
        let mut claim = |pages_id: u32, by: Claimant| -> Result<(), Error> {
            match claimed.get(&pages_id) {
                Some(first) if *first != by => Err(Error::PagesClaimedTwice {
                    pages: sizes(pages_id).0,
                    first: first.to_string(),
                }),
                Some(_) => Ok(()),
                None => {
                    claimed.insert(pages_id, by);
                    Ok(())
                }
            }
        };
        let mut problems: Vec<(usize, Error)> = Vec::new();
        for (index, resources) in self.resources.iter().enumerate() {
            let Some(Ok(map)) = resources.as_ref().map(|r| &r.memory) else {
                continue;
            };
            let pid = tree.tasks().get(index).map_or(0, |task| task.pid);
            if let Err(err) = claim(map.pages_id, Claimant::Process(pid)) {
                problems.push((index, err));
                continue;
            }
            let (pages, size) = sizes(map.pages_id);
            let runs = map
                .layout
                .runs()
                .iter()
                .map(|run| (run.vaddr, run.len, run.pages_offset));
            let named_by = || format!("pagemap-{pid}.img (pages_id {})", map.pages_id);
            if let Some(err) = first_run_outside(&pages, size, named_by, runs) {
                problems.push((index, err));
                continue;
            }
            for vma in map.layout.vmas() {
                let Some(object) = vma.shared.and_then(|id| self.shared.get(id)) else {
                    continue;
                };
                let Some(pages_id) = object.pages_id else {
                    continue;
                };
                if let Err(err) = claim(pages_id, Claimant::Shared(object.shmid)) {
                    problems.push((index, err));
                    break;
                }
                let (pages, size) = sizes(pages_id);
                let runs = object
                    .runs
                    .iter()
                    .map(|run| (run.vaddr, run.len, run.pages_offset));
                let named_by =
                    || format!("pagemap-shmem-{}.img (pages_id {pages_id})", object.shmid);
                if let Some(err) = first_run_outside(&pages, size, named_by, runs) {
                    problems.push((index, err));
                    break;
                }
            }
        }
        for (index, err) in problems {
            if let Some(Some(resources)) = self.resources.get_mut(index) {
                resources.memory = Err(Unavailable::new("memory", &err));
            }
        }
    }
}

impl Dump {
    /// The checkpoint the dump was read from.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The checkpoint's name for messages.
    pub fn display_name(&self) -> &str {
        self.checkpoint.display_name()
    }

    /// The task tree.
    pub fn tree(&self) -> &TaskTree {
        &self.tree
    }

    /// The tasks, in `pstree.img` order.
    pub fn tasks(&self) -> &[Task] {
        self.tree.tasks()
    }

    /// The task with this pid, or an error listing the pids there are.
    pub fn task(&self, pid: u32) -> Result<&Task, Error> {
        self.tree.task(pid).ok_or_else(|| Error::NoProcess {
            checkpoint: self.display_name().to_owned(),
            pid,
            known: self
                .tasks()
                .iter()
                .map(|t| t.pid.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// What was dumped of a live task; `None` for zombies and dead tasks (and unknown pids).
    pub fn resources(&self, pid: u32) -> Option<&Resources> {
        let index = self.tree.index_of(pid)?;
        self.rest().resources.get(index)?.as_ref()
    }

    /// The open files of task `pid`.
    pub fn open_files(&self, pid: u32) -> Result<&OpenFiles, Error> {
        let resources = self.live(pid, "files")?;
        resources.files.as_ref().map_err(|u| u.to_error(pid))
    }

    /// The memory map of task `pid`.
    pub fn memory_map(&self, pid: u32) -> Result<&MemoryMap, Error> {
        let resources = self.live(pid, "memory")?;
        resources.memory.as_ref().map_err(|u| u.to_error(pid))
    }

    /// Every run of task `pid`'s `pagemap-PID.img` (present, lazy and in-parent alike), decoded
    /// again: the model keeps the present runs only ([`MemoryMap::layout`]); crit's `rss` view
    /// lists them all. An error when the task's memory map cannot be read.
    pub fn pagemap(&self, pid: u32) -> Result<PageMap, Error> {
        self.memory_map(pid)?;
        let loader = Loader {
            checkpoint: &self.checkpoint,
        };
        let name = format!("pagemap-{pid}.img");
        let bytes = self.checkpoint.read_image(&name)?;
        Ok(PageMap::decode(&loader.label(&name), &bytes)?)
    }

    /// Opens the memory of task `pid` for reading.
    pub fn memory(&self, pid: u32) -> Result<ProcessMemory<'_>, Error> {
        let map = self.memory_map(pid)?;
        let ghost_of = |file_id: u32| self.ghost_contents(file_id);
        ProcessMemory::open(&self.checkpoint, pid, map, &self.rest().shared, &ghost_of)
    }

    /// The stored contents of file `file_id` when it is a deleted file CRIU kept in a ghost
    /// image.
    fn ghost_contents(&self, file_id: u32) -> Option<memory::GhostContents<'_>> {
        let FileKind::Regular(reg) = &self.files().get(file_id)?.kind else {
            return None;
        };
        let Some(files::Deleted::Ghost {
            remap_id,
            size,
            chunked,
            ..
        }) = &reg.deleted
        else {
            return None;
        };
        let image = format!("ghost-file-{remap_id}.img");
        let stored = self
            .stored_data()
            .iter()
            .find(|s| s.kind == StoredKind::GhostFile && s.image == image)?;
        let extent = stored
            .ranges
            .iter()
            .map(|r| r.data_offset.saturating_add(r.len))
            .max()
            .unwrap_or(0);
        // What the checkpoint knows of the file, page by page: a sparse (chunked) file holds
        // zeros between its chunks up to its size; a file stored whole is known as far as its
        // stored bytes go, whatever its header claims. The kernel shows the rest of the file's
        // last page as zeros; a page the stored bytes end inside is not known.
        let page = PAGE_SIZE;
        let round_up = |n: u64| {
            n.checked_next_multiple_of(page)
                .unwrap_or(u64::MAX - page + 1)
        };
        let known_end = match *size {
            Some(size) if *chunked => round_up(size),
            Some(size) if size > extent => extent / page * page,
            Some(size) => round_up(size),
            None => round_up(extent),
        };
        Some(memory::GhostContents {
            image: &stored.image,
            known_end,
            ranges: &stored.ranges,
        })
    }

    /// The command line and environment of task `pid`, read from its memory the first time
    /// they are asked for and kept (see [`args`]), or why neither can be read (the process's
    /// memory cannot; [`STRINGS_BUDGET`] for the whole checkpoint is used up).
    pub fn strings(&self, pid: u32) -> Result<&ProcessStrings, Unavailable> {
        let cell = self
            .task(pid)
            .ok()
            .and_then(|task| self.tree.index_of(task.pid))
            .and_then(|index| {
                let tasks = self.tree.tasks().len();
                self.strings
                    .get_or_init(|| std::iter::repeat_with(OnceLock::new).take(tasks).collect())
                    .get(index)
            });
        let Some(cell) = cell else {
            let err = self.task(pid).err().unwrap_or(Error::NoProcess {
                checkpoint: self.display_name().to_owned(),
                pid,
                known: String::new(),
            });
            return Err(Unavailable::new("process", &err));
        };
        cell.get_or_init(|| self.read_strings(pid))
            .as_ref()
            .map_err(Unavailable::clone)
    }

    fn read_strings(&self, pid: u32) -> Result<ProcessStrings, Unavailable> {
        const WHAT: &str = "cmdline and environment";
        let strings = self
            .memory(pid)
            .and_then(|memory| Ok(ProcessStrings::read(&memory, &self.memory_map(pid)?.args)))
            .map_err(|err| Unavailable::new(WHAT, &err))?;
        let held = strings.held_bytes();
        self.strings_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(held)
            })
            .map_err(|_| Unavailable {
                what: WHAT,
                reason: format!(
                    "the checkpoint's budget of {} MiB for command lines and environments is used up",
                    STRINGS_BUDGET >> 20
                ),
            })?;
        Ok(strings)
    }

    /// The file table.
    pub fn files(&self) -> &FileTable {
        &self.rest().files
    }

    /// The shared-memory objects and SysV segments.
    pub fn shared(&self) -> &SharedMemory {
        &self.rest().shared
    }

    /// The data the checkpoint stores outside process memory (see [`stored`]). Data whose
    /// image could not be read is missing here and listed in [`Dump::unavailable`].
    pub fn stored_data(&self) -> &[StoredData] {
        &self.rest().stored
    }

    /// The facts of the whole checkpoint that could not be read, each with the error that
    /// names its image and byte offset (see the module docs). `what` is one of [`facts`].
    pub fn unavailable(&self) -> &[Unavailable] {
        &self.rest().unavailable
    }

    /// The label of an image in messages: `CHECKPOINT: NAME`.
    pub fn label(&self, name: &str) -> String {
        format!("{}: {name}", self.display_name())
    }

    /// The cores of `task`'s threads, main thread first, each decoded as the iterator reaches it.
    pub fn thread_cores<'a>(
        &'a self,
        task: &'a Task,
    ) -> impl Iterator<Item = Result<ThreadCore, Error>> + 'a {
        let loader = Loader {
            checkpoint: &self.checkpoint,
        };
        task.threads.iter().map(move |thread| {
            let image = format!("core-{}.img", thread.tid);
            let core = loader.decode_first::<CoreEntry>(&image)?;
            Ok(ThreadCore {
                tid: thread.tid,
                image,
                core,
            })
        })
    }

    /// The container's mounts (see [`mounts`]): the root task's mount namespace by mount point,
    /// else the mounts of `spec.dump` in its order, else none.
    pub fn mounts(&self) -> Result<Vec<Mount>, Error> {
        let mnt_ns_id = self
            .tree
            .root()
            .and_then(|root| self.resources(root.pid))
            .and_then(|resources| resources.ids.as_ref().ok())
            .and_then(|ids| ids.mnt_ns_id);
        if let Some(mnt_ns_id) = mnt_ns_id {
            let name = format!("mountpoints-{mnt_ns_id}.img");
            if self.checkpoint.has_image(&name) {
                let loader = Loader {
                    checkpoint: &self.checkpoint,
                };
                let mut mounts: Vec<Mount> = loader
                    .decode::<MntEntry>(&name)?
                    .into_iter()
                    .map(Mount::from_entry)
                    .collect();
                mounts.sort_by(|a, b| a.destination.cmp(&b.destination));
                return Ok(mounts);
            }
        }
        let Some(bytes) = self.checkpoint.read_member("spec.dump")? else {
            return Ok(Vec::new());
        };
        let spec: mounts::SpecMounts =
            serde_json::from_slice(&bytes).map_err(|source| Error::ParseSpec {
                archive: self.display_name().to_owned(),
                source,
            })?;
        Ok(spec.into_mounts())
    }

    fn live(&self, pid: u32, what: &'static str) -> Result<&Resources, Error> {
        let task = self.task(pid)?;
        self.resources(pid).ok_or_else(|| Error::Unavailable {
            pid,
            what,
            reason: match &task.core_problem {
                Some(problem) => problem.reason.clone(),
                None => format!(
                    "the task is {}: CRIU dumps no {what} for it",
                    task.state.name()
                ),
            },
        })
    }
}

/// What named a pages file first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claimant {
    /// A process's own pagemap.
    Process(u32),
    /// A shared object's pagemap (`pagemap-shmem-SHMID.img`).
    Shared(u64),
}

impl std::fmt::Display for Claimant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Claimant::Process(pid) => write!(f, "pid {pid}"),
            Claimant::Shared(shmid) => write!(f, "shared memory {shmid}"),
        }
    }
}

/// The first run that does not lie inside a pages file of `size` bytes (`None` size: the file
/// is missing, and every run is outside).
fn first_run_outside(
    pages: &str,
    size: Result<Option<u64>, crate::archive::Error>,
    named_by: impl FnOnce() -> String,
    mut runs: impl Iterator<Item = (u64, u64, u64)>,
) -> Option<Error> {
    let size = match size {
        Ok(size) => size,
        Err(err) => return Some(err.into()),
    };
    let Some(file_len) = size else {
        return runs.next().map(|_| Error::NamedImageMissing {
            image: pages.to_owned(),
            named_by: named_by(),
        });
    };
    runs.find_map(|(vaddr, len, offset)| {
        let end = offset.checked_add(len);
        end.is_none_or(|end| end > file_len)
            .then(|| Error::RunOutsidePages {
                pages: pages.to_owned(),
                vaddr,
                offset,
                len,
                file_len,
            })
    })
}

/// Reads the images of one checkpoint for [`Dump::load`].
struct Loader<'a> {
    checkpoint: &'a Checkpoint,
}

impl Loader<'_> {
    fn label(&self, name: &str) -> String {
        format!("{}: {name}", self.checkpoint.display_name())
    }

    fn decode<M: CriuMessage>(&self, name: &str) -> Result<Vec<M>, Error> {
        let bytes = self.checkpoint.read_image(name)?;
        Ok(criu::read_entries::<M>(&self.label(name), &bytes)?)
    }

    /// The first entry of image `name` (the others are not decoded).
    fn decode_first<M: CriuMessage>(&self, name: &str) -> Result<M, Error> {
        let bytes = self.checkpoint.read_image(name)?;
        let label = self.label(name);
        criu::first_entry::<M>(&label, &bytes)?.ok_or(Error::EmptyImage { image: label })
    }

    /// Visits every entry of image `name` if the checkpoint has it, at most
    /// [`criu::budget::MAX_ENTRIES`] of them.
    fn each_optional<M: CriuMessage>(
        &self,
        name: &str,
        mut visit: impl FnMut(M) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if !self.checkpoint.has_image(name) {
            return Ok(());
        }
        let bytes = self.checkpoint.read_image(name)?;
        let label = self.label(name);
        check_magic(&label, &bytes, M::MAGIC)?;
        let cap = criu::budget::MAX_ENTRIES;
        criu::for_each_entry::<M, Error>(&label, &bytes, |index, offset, message| {
            if index >= cap {
                return Err(too_many_entries(&label, index, offset, cap));
            }
            visit(message)
        })
    }

    /// Like [`Loader::each_optional`], with where the raw bytes after each entry lie; the
    /// image must be of type `expected` (`fifo-data.img` holds the entries of pipes-data.img
    /// under its own magic).
    fn each_optional_with_extra<M: CriuMessage>(
        &self,
        name: &str,
        expected: criu::Magic,
        mut visit: impl FnMut(M, (u64, u64)) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if !self.checkpoint.has_image(name) {
            return Ok(());
        }
        let bytes = self.checkpoint.read_image(name)?;
        let label = self.label(name);
        check_magic(&label, &bytes, expected)?;
        let cap = criu::budget::MAX_ENTRIES;
        criu::for_each_entry_with_extra::<M, Error>(
            &label,
            &bytes,
            |index, offset, message, extra| {
                if index >= cap {
                    return Err(too_many_entries(&label, index, offset, cap));
                }
                visit(message, extra)
            },
        )
    }

    fn tree(&self) -> Result<TaskTree, Error> {
        let label = self.label("pstree.img");
        let mut entries: Vec<PstreeEntry> = Vec::new();
        let bytes = self.checkpoint.read_image("pstree.img")?;
        criu::for_each_entry::<PstreeEntry, Error>(&label, &bytes, |index, offset, entry| {
            if index >= tasks::MAX_TASKS as u64 {
                return Err(too_many_entries(
                    &label,
                    index,
                    offset,
                    tasks::MAX_TASKS as u64,
                ));
            }
            entries.push(entry);
            Ok(())
        })?;
        if entries.is_empty() {
            return Err(Error::EmptyImage { image: label });
        }
        tasks::check_counts(&entries, &label)?;
        let mut list = Vec::with_capacity(entries.len());
        for entry in entries {
            list.push(self.task(entry));
        }
        TaskTree::build(list, &label)
    }

    /// A task from its pstree entry and its threads' core images.
    fn task(&self, entry: PstreeEntry) -> Task {
        let PstreeEntry {
            pid,
            ppid,
            pgid,
            sid,
            threads: tids,
        } = entry;
        let main = self.core_facts(pid);
        let (comm, state, exit_code, core_problem, main_thread_comm) = match main {
            Ok(facts) => {
                let comm = facts.task_comm.clone().unwrap_or_default();
                let state = facts
                    .state
                    .map_or(TaskState::Unknown(0), TaskState::from_raw);
                let thread_comm = facts.thread_comm.unwrap_or_else(|| comm.clone());
                (comm, state, facts.exit_code, None, Ok(thread_comm))
            }
            Err(problem) => (
                String::new(),
                TaskState::Unknown(0),
                0,
                Some(problem.clone()),
                Err(problem),
            ),
        };
        let mut threads = Vec::with_capacity(tids.len().max(1));
        threads.push(Thread {
            tid: pid,
            comm: main_thread_comm,
        });
        let mut seen = std::collections::HashSet::new();
        seen.insert(pid);
        for tid in tids {
            if !seen.insert(tid) {
                continue;
            }
            let comm = match self.core_facts(tid) {
                Ok(facts) => Ok(facts.thread_comm.or(facts.task_comm).unwrap_or_default()),
                Err(problem) => Err(problem),
            };
            threads.push(Thread { tid, comm });
        }
        Task {
            pid,
            ppid,
            pgid,
            sid,
            comm,
            state,
            exit_code,
            threads,
            core_problem,
        }
    }

    fn core_facts(&self, tid: u32) -> Result<tasks::CoreFacts, Unavailable> {
        self.decode_first::<CoreEntry>(&format!("core-{tid}.img"))
            .map(tasks::CoreFacts::of)
            .map_err(|err| Unavailable::new("core", &err))
    }

    fn resources(
        &self,
        pid: u32,
        files: &FileTable,
        shared: &mut SharedMemory,
        fd_tables: &mut HashMap<u32, Arc<[Fd]>>,
    ) -> Resources {
        let ids = self
            .ids(pid)
            .map_err(|err| Unavailable::new("kernel object ids", &err));
        let open_files = match &ids {
            Ok(ids) => self
                .open_files(pid, ids.files_id, fd_tables)
                .map_err(|err| Unavailable::new("files", &err)),
            Err(problem) => Err(Unavailable {
                what: "files",
                reason: problem.reason.clone(),
            }),
        };
        let memory = self
            .memory_map(pid, files, shared)
            .map_err(|err| Unavailable::new("memory", &err));
        Resources {
            ids,
            files: open_files,
            memory,
        }
    }

    /// `ids-PID.img`, or the copy inside `core-PID.img` that old CRIU wrote.
    fn ids(&self, pid: u32) -> Result<TaskIds, Error> {
        let name = format!("ids-{pid}.img");
        let raw = if self.checkpoint.has_image(&name) {
            self.decode_first::<TaskKobjIdsEntry>(&name)?
        } else {
            self.decode_first::<CoreEntry>(&format!("core-{pid}.img"))?
                .ids
                .ok_or(Error::MissingImage {
                    image: self.label(&name),
                })?
        };
        Ok(TaskIds {
            vm_id: raw.vm_id,
            files_id: raw.files_id,
            ipc_ns_id: raw.ipc_ns_id,
            mnt_ns_id: raw.mnt_ns_id,
            net_ns_id: raw.net_ns_id,
        })
    }

    fn open_files(
        &self,
        pid: u32,
        files_id: u32,
        fd_tables: &mut HashMap<u32, Arc<[Fd]>>,
    ) -> Result<OpenFiles, Error> {
        let fds = match fd_tables.get(&files_id) {
            Some(fds) => Arc::clone(fds),
            None => {
                let mut list = Vec::new();
                let name = format!("fdinfo-{files_id}.img");
                if self.checkpoint.image_size(&name)?.is_none() {
                    return Err(Error::NamedImageMissing {
                        image: self.label(&name),
                        named_by: format!("ids-{pid}.img (files_id {files_id})"),
                    });
                }
                let bytes = self.checkpoint.read_image(&name)?;
                let label = self.label(&name);
                let cap = criu::budget::MAX_ENTRIES;
                criu::for_each_entry::<FdinfoEntry, Error>(&label, &bytes, |index, offset, fd| {
                    if index >= cap {
                        return Err(too_many_entries(&label, index, offset, cap));
                    }
                    list.push(Fd {
                        fd: fd.fd,
                        file_type: fd.r#type,
                        id: fd.id,
                        flags: fd.flags,
                    });
                    Ok(())
                })?;
                let fds: Arc<[Fd]> = Arc::from(list);
                fd_tables.insert(files_id, Arc::clone(&fds));
                fds
            }
        };
        let fs = self.decode_first::<FsEntry>(&format!("fs-{pid}.img"))?;
        Ok(OpenFiles {
            files_id,
            fds,
            cwd_id: fs.cwd_id,
            root_id: fs.root_id,
        })
    }

    fn memory_map(
        &self,
        pid: u32,
        files: &FileTable,
        shared: &mut SharedMemory,
    ) -> Result<MemoryMap, Error> {
        let mm_name = format!("mm-{pid}.img");
        let mm = self.decode_first::<MmEntry>(&mm_name)?;
        let pagemap_name = format!("pagemap-{pid}.img");
        let pagemap = PageMap::decode(
            &self.label(&pagemap_name),
            &self.checkpoint.read_image(&pagemap_name)?,
        )?;
        let brk = (mm.mm_start_brk, mm.mm_brk);
        let mut vmas = Vec::with_capacity(mm.vmas.len());
        for entry in &mm.vmas {
            let mut vma = Vma {
                start: entry.start,
                end: entry.end,
                prot: entry.prot,
                flags: entry.flags,
                status: entry.status,
                pgoff: entry.pgoff,
                shmid: entry.shmid,
                name: Arc::from(""),
                shared: None,
            };
            vma.shared = shared_object(&vma, files);
            let sysv_name = vma
                .is_sysv()
                .then(|| vma.shared.and_then(|id| shared.get(id)))
                .flatten()
                .and_then(|object| match object.kind {
                    SharedKind::SysV { key } => {
                        Some(Arc::<str>::from(format!("/SYSV{key:08x} (deleted)")))
                    }
                    _ => None,
                });
            if let Some(shmid) = vma.shared {
                let extent = vma.pgoff.saturating_add(vma.size());
                let kind = if vma.is_sysv() {
                    SharedKind::SysV { key: 0 }
                } else {
                    SharedKind::Anonymous
                };
                shared.note(shmid, kind, extent);
            }
            let path = vma.file_id().and_then(|id| files.path(id));
            vma.name = sysv_name.unwrap_or_else(|| name_vma(&vma, brk, path.as_ref()));
            vmas.push(vma);
        }
        let runs = shared::present_runs(&pagemap);
        let layout = MemoryLayout::build(vmas, runs).map_err(|source| Error::BadLayout {
            image: self.label(&mm_name),
            source,
        })?;
        let auxv = mm
            .mm_saved_auxv
            .chunks_exact(2)
            .filter_map(|pair| match pair {
                &[key, value] => Some((key, value)),
                _ => None,
            })
            .take_while(|(key, _)| *key != 0)
            .collect();
        Ok(MemoryMap {
            layout,
            pages_id: pagemap.pages_id,
            args: ArgBounds {
                arg_start: mm.mm_arg_start,
                arg_end: mm.mm_arg_end,
                env_start: mm.mm_env_start,
                env_end: mm.mm_env_end,
            },
            exe_file_id: mm.exe_file_id,
            auxv,
        })
    }

    /// The file table: `files.img`, completed by the per-type images of older CRIU, with
    /// remaps (ghost and linked files) and memfd inodes; and where each ghost image holds its
    /// file's contents, by remap id. An image that cannot be read is marked in `unavailable`
    /// and the table keeps what the others (and its entries before the error) gave.
    fn file_table(
        &self,
        unavailable: &mut Vec<Unavailable>,
    ) -> (FileTable, HashMap<u32, Vec<StoredRange>>) {
        let mut table = FileTable::default();
        let mut mark = |what: &'static str, result: Result<(), Error>| {
            if let Err(err) = result {
                unavailable.push(Unavailable::new(what, &err));
            }
        };
        mark(
            facts::FILES,
            self.each_optional::<FileEntry>("files.img", |entry| {
                table.add_entry(entry);
                Ok(())
            }),
        );
        mark(
            facts::FILES,
            self.each_optional::<RegFileEntry>("reg-files.img", |reg| {
                table.add_reg(reg);
                Ok(())
            }),
        );
        mark(
            facts::FILES,
            self.each_optional::<PipeEntry>("pipes.img", |pipe| {
                table.add_pipe(pipe);
                Ok(())
            }),
        );
        mark(
            facts::FILES,
            self.each_optional::<UnixSkEntry>("unixsk.img", |sk| {
                table.add_unix(sk);
                Ok(())
            }),
        );
        mark(
            facts::FILES,
            self.each_optional::<InetSkEntry>("inetsk.img", |sk| {
                table.add_inet(sk);
                Ok(())
            }),
        );
        mark(
            facts::MEMFD,
            self.each_optional::<MemfdInodeEntry>("memfd.img", |inode| {
                table.add_memfd_inode(inode);
                Ok(())
            }),
        );
        let mut remaps = Vec::new();
        mark(
            facts::DELETED,
            self.each_optional::<RemapFilePathEntry>("remap-fpath.img", |remap| {
                remaps.push(remap);
                Ok(())
            }),
        );
        let mut ghost_ranges = HashMap::new();
        for remap in remaps {
            let ghost_name = format!("ghost-file-{}.img", remap.remap_id);
            let (header, ranges) = if self.checkpoint.has_image(&ghost_name) {
                match self.ghost(&ghost_name) {
                    Ok(ghost) => ghost,
                    Err(err) => {
                        mark(facts::GHOST, Err(err));
                        (None, Vec::new())
                    }
                }
            } else {
                (None, Vec::new())
            };
            ghost_ranges.entry(remap.remap_id).or_insert(ranges);
            table.add_remap(&remap, header);
        }
        mark(
            facts::LOCKS,
            self.each_optional::<FileLockEntry>("filelocks.img", |lock| {
                table.add_lock(&lock);
                Ok(())
            }),
        );
        (table, ghost_ranges)
    }

    /// A ghost file image, decoded once: its header entry and where it holds the file's
    /// contents (see [`stored::ghost_ranges`]). An entry that cannot be read, or contents
    /// shorter than the header's size, is an error.
    fn ghost(&self, name: &str) -> Result<(Option<GhostFileEntry>, Vec<StoredRange>), Error> {
        let bytes = self.checkpoint.read_image(name)?;
        let label = self.label(name);
        check_magic(&label, &bytes, criu::Magic::GhostFile)?;
        let header = match criu::entries(&label, &bytes)?.next() {
            None => None,
            Some(first) => {
                let first = first?;
                let header = <GhostFileEntry as prost::Message>::decode(first.payload).map_err(
                    |source| criu::Error::Entry {
                        file: label.clone(),
                        entry: first.index,
                        offset: first.offset,
                        problem: criu::Problem::Decode {
                            message: "ghost_file_entry",
                            source,
                        },
                    },
                )?;
                Some(header)
            }
        };
        let ranges = stored::ghost_ranges(header.as_ref(), criu::entries(&label, &bytes)?)?;
        // A regular file's contents follow its header whole (unless chunked): fewer bytes than
        // its size means the image was cut.
        if let Some(entry) = header
            .as_ref()
            .filter(|h| !h.chunks.unwrap_or(false) && h.mode & 0o170000 == 0o100000)
        {
            let have = ranges.iter().map(|r| r.len).sum::<u64>();
            let need = entry.size.unwrap_or(0);
            if have < need {
                return Err(Error::CutShort {
                    image: label,
                    offset: ranges.first().map_or(bytes.len() as u64, |r| r.file_offset),
                    have,
                    need,
                });
            }
        }
        Ok((header, ranges))
    }

    /// Unread pipe data, unix socket queues and TCP queues: each image decoded once, for the
    /// file table's counts and the stored data's ranges. An image that cannot be read is
    /// marked in `unavailable`, and its counts become unknown in the table.
    fn queues(&self, table: &mut FileTable, unavailable: &mut Vec<Unavailable>) -> stored::Queues {
        let mut queues = stored::Queues::default();
        for (name, magic, fact, image) in [
            (
                "pipes-data.img",
                criu::Magic::PipesData,
                facts::PIPE_DATA,
                QueueImage::PipeData,
            ),
            (
                "fifo-data.img",
                criu::Magic::FifoData,
                facts::FIFO_DATA,
                QueueImage::FifoData,
            ),
        ] {
            let mut entries = Vec::new();
            let read =
                self.each_optional_with_extra::<PipeDataEntry>(name, magic, |entry, extra| {
                    entries.push((entry, extra));
                    Ok(())
                });
            match read {
                Ok(()) => {
                    for (entry, extra) in &entries {
                        table.add_pipe_data(entry);
                        queues.add_pipe_data(name, entry, *extra);
                    }
                }
                Err(err) => {
                    table.mark_unknown(image);
                    unavailable.push(Unavailable::new(fact, &err));
                }
            }
        }
        let mut packets = Vec::new();
        let read = self.each_optional_with_extra::<SkPacketEntry>(
            "sk-queues.img",
            criu::Magic::SkQueues,
            |packet, extra| {
                packets.push((packet, extra));
                Ok(())
            },
        );
        match read {
            Ok(()) => {
                for (packet, _) in &packets {
                    table.add_unix_queue(packet);
                }
                for (packet, extra) in &packets {
                    queues.add_unix_packet(table, packet, *extra);
                }
            }
            Err(err) => {
                table.mark_unknown(QueueImage::UnixQueues);
                unavailable.push(Unavailable::new(facts::UNIX_QUEUES, &err));
            }
        }
        let mut sockets: Vec<InetSkEntry> = table
            .iter()
            .filter_map(|file| match &file.kind {
                FileKind::Inet(sk) => Some(InetSkEntry::clone(sk)),
                _ => None,
            })
            .collect();
        sockets.sort_by_key(|sk| sk.ino);
        sockets.dedup_by_key(|sk| sk.ino);
        for sk in sockets {
            let name = format!("tcp-stream-{:x}.img", sk.ino);
            if !self.checkpoint.has_image(&name) {
                continue;
            }
            match self.tcp_stream(&name) {
                Ok((stream, extra)) => {
                    table.add_tcp_stream(sk.ino, &stream);
                    queues.add_tcp_stream(&sk, &name, &stream, extra);
                }
                Err(err) => unavailable.push(Unavailable::new(facts::TCP_QUEUES, &err)),
            }
        }
        queues
    }

    /// The one entry of a `tcp-stream-INO.img` and where its queues lie.
    fn tcp_stream(&self, name: &str) -> Result<(TcpStreamEntry, (u64, u64)), Error> {
        let bytes = self.checkpoint.read_image(name)?;
        let label = self.label(name);
        criu::first_entry_with_extra::<TcpStreamEntry>(&label, &bytes)?
            .ok_or(Error::EmptyImage { image: label })
    }

    /// The SysV segments of the root task's IPC namespace (`ipcns-shm-NSID.img`).
    fn sysv_segments(
        &self,
        ipc_ns_id: Option<u32>,
        shared: &mut SharedMemory,
    ) -> Result<(), Error> {
        let Some(ns) = ipc_ns_id else {
            return Ok(());
        };
        let name = format!("ipcns-shm-{ns}.img");
        if !self.checkpoint.has_image(&name) {
            return Ok(());
        }
        let bytes = self.checkpoint.read_image(&name)?;
        let label = self.label(&name);
        check_magic(&label, &bytes, criu::Magic::IpcnsShm)?;
        for (count, raw) in criu::entries(&label, &bytes)?.enumerate() {
            let raw = raw?;
            if count as u64 >= criu::budget::MAX_ENTRIES {
                return Err(Error::TooMany {
                    image: label,
                    what: "SysV segments".to_owned(),
                    limit: criu::budget::MAX_ENTRIES,
                });
            }
            let entry = <IpcShmEntry as prost::Message>::decode(raw.payload).map_err(|source| {
                criu::Error::Entry {
                    file: label.clone(),
                    entry: raw.index,
                    offset: raw.offset,
                    problem: criu::Problem::Decode {
                        message: "ipc_shm_entry",
                        source,
                    },
                }
            })?;
            let in_pagemaps = entry.in_pagemaps.unwrap_or(false);
            let extra_at = raw.offset + 4 + raw.payload.len() as u64;
            let desc = entry.desc;
            shared.note(
                u64::from(desc.id),
                SharedKind::SysV { key: desc.key },
                entry.size,
            );
            shared.add_sysv(SysvSegment {
                key: desc.key,
                id: desc.id,
                size: entry.size,
                mode: desc.mode,
                uid: desc.uid,
                gid: desc.gid,
                in_pagemaps,
                inline: (!in_pagemaps && !raw.extra.is_empty())
                    .then_some((extra_at, raw.extra.len() as u64)),
                image: name.clone(),
            });
        }
        Ok(())
    }

    /// Decodes `pagemap-shmem-SHMID.img` of every shared object noted; one that cannot be
    /// read is marked in `unavailable` (its object then has no stored pages).
    fn shared_pages(&self, shared: &mut SharedMemory, unavailable: &mut Vec<Unavailable>) {
        for shmid in shared.ids() {
            let name = format!("pagemap-shmem-{shmid}.img");
            if !self.checkpoint.has_image(&name) {
                continue;
            }
            let pagemap = self
                .checkpoint
                .read_image(&name)
                .map_err(Error::from)
                .and_then(|bytes| Ok(PageMap::decode(&self.label(&name), &bytes)?));
            match pagemap {
                Ok(pagemap) => shared.set_pages(shmid, &pagemap),
                Err(err) => unavailable.push(Unavailable::new(facts::SHARED_PAGES, &err)),
            }
        }
    }
}

/// Checks that an image is of the type its name says (an image of another type whose entries
/// decode the same way, such as a FIFO_DATA image named `pipes-data.img`, is not what the name
/// promises).
fn check_magic(label: &str, bytes: &[u8], expected: criu::Magic) -> Result<(), Error> {
    let entries = criu::entries(label, bytes)?;
    if entries.magic() != expected {
        return Err(Error::Criu(criu::Error::WrongMagic {
            file: label.to_owned(),
            offset: entries.magic_offset(),
            found: entries.magic(),
            expected,
        }));
    }
    Ok(())
}

/// The error for an image with more entries than `limit`.
fn too_many_entries(label: &str, index: u64, offset: u64, limit: u64) -> Error {
    Error::Criu(criu::Error::Entry {
        file: label.to_owned(),
        entry: index,
        offset,
        problem: criu::Problem::TooManyEntries { limit },
    })
}

/// The shared-memory object behind a VMA: SysV and old-style anonymous shared mappings name it
/// in `shmid`; memfd mappings (CRIU 4.x dumps anonymous shared memory as memfds too) name a
/// file whose memfd inode names it.
fn shared_object(vma: &Vma, files: &FileTable) -> Option<u64> {
    if vma.is_memfd() {
        let id = u32::try_from(vma.shmid).ok()?;
        return files.memfd(id).map(|inode| inode.shmid);
    }
    if vma.is_sysv() || vma.is_anon_shared() {
        return Some(vma.shmid);
    }
    None
}

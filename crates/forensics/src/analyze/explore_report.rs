//! Report structs of the crit `x` views (`ps`, `fds`, `mems`, `rss`): the same facts as
//! `crit x DIR ps|fds|mems|rss`, as data. `output::render_explore` prints them the way crit does.

use serde::Serialize;

/// One of the crit `x` views.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExploreReport {
    /// `crit x DIR ps`.
    Ps(Vec<PsRow>),
    /// `crit x DIR fds`.
    Fds(Vec<FdsProcess>),
    /// `crit x DIR mems`.
    Mems(Vec<MemsProcess>),
    /// `crit x DIR rss`.
    Rss(Vec<RssProcess>),
}

/// One process of `ps`, in depth-first tree order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PsRow {
    /// Process ID.
    pub pid: u32,
    /// Process group ID.
    pub pgid: u32,
    /// Session ID.
    pub sid: u32,
    /// Depth in the tree; 0 for the root.
    pub depth: usize,
    /// `comm` of the process.
    pub comm: String,
}

/// The descriptors of one process for `fds`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FdsProcess {
    /// Process ID.
    pub pid: u32,
    /// Descriptors in `fdinfo` order, then `cwd` and `root`.
    pub fds: Vec<FdsRow>,
}

/// One line of `fds`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FdsRow {
    /// Descriptor number, or `cwd` / `root`.
    pub fd: String,
    /// What it refers to: a path, `pipe[ino]`, `unix[ino (peer) name]`, or `TYPE.id`.
    pub file: String,
}

/// The mappings of one process for `mems`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemsProcess {
    /// Process ID.
    pub pid: u32,
    /// Path of the executable.
    pub exe: String,
    /// VMAs in address order.
    pub vmas: Vec<MemsVma>,
}

/// One VMA of `mems`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemsVma {
    /// First address.
    pub start: u64,
    /// Address past the end.
    pub end: u64,
    /// Protection as `rwx` with `-` for missing bits.
    pub prot: String,
    /// What backs the mapping: file (with ` + 0xPGOFF`, ` (s)` when shared), `[stack]`,
    /// `[vdso]`, `shmem[n]`, ...; empty for anonymous memory; ` *` appended when the VMA is
    /// not in use by the process (CRIU's VMA_AREA_REGULAR unset).
    pub resource: String,
}

/// The resident pages of one process for `rss`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RssProcess {
    /// Process ID.
    pub pid: u32,
    /// Pagemap runs (the pagemap head left out), in pagemap order.
    pub runs: Vec<RssRun>,
}

/// One pagemap run and the VMAs it touches.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RssRun {
    /// First address of the run.
    pub vaddr: u64,
    /// Number of pages in the run.
    pub nr_pages: u64,
    /// The VMAs the run overlaps.
    pub vmas: Vec<RssVma>,
}

/// A VMA overlapped by a pagemap run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RssVma {
    /// True when the previous run already listed this VMA (crit prints `~`).
    pub continued: bool,
    /// First address of the VMA.
    pub start: u64,
    /// Size of the VMA in pages.
    pub nr_pages: u64,
    /// The file mapped, for file-backed VMAs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

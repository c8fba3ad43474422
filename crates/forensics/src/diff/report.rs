//! The report structs `diff` builds and `output` renders: plain data, no formatting.
//!
//! Every section has the same shape in JSON and YAML: `added` and `removed` (what only the new,
//! or only the old, checkpoint holds) and `changed` (what both hold, differently); memory adds
//! `resized`. Addresses are `0x...` strings, as in the other reports.

use serde::{Serialize, Serializer};

/// What changed between two checkpoints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffReport {
    /// The old checkpoint, as given on the command line.
    pub old: String,
    /// The new checkpoint, as given on the command line.
    pub new: String,
    /// Container metadata: image, names, times, annotations.
    pub metadata: Changes<MetadataField, FieldChange>,
    /// Processes, by pid.
    pub processes: Changes<ProcessSummary, ProcessChange>,
    /// Open descriptors, by pid and descriptor number (processes in both checkpoints).
    pub files: Changes<FdSummary, FdChange>,
    /// Sockets, by pid and descriptor number (processes in both checkpoints).
    pub sockets: Changes<SocketSummary, SocketChange>,
    /// Memory mappings and their pages (processes in both checkpoints).
    pub memory: MemoryChanges,
    /// Files of `rootfs-diff.tar` and `deleted.files`, by path.
    pub rootfs_diff: Changes<RootfsEntry, RootfsChange>,
    /// What could not be compared, and why (the verb then exits 2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<NotCompared>,
}

impl DiffReport {
    /// Number of differences in all sections.
    pub fn differences(&self) -> usize {
        self.metadata.len()
            + self.processes.len()
            + self.files.len()
            + self.sockets.len()
            + self.memory.len()
            + self.rootfs_diff.len()
    }
}

/// One section: what was added, removed, changed.
#[derive(Debug, Clone, Serialize)]
pub struct Changes<Item, Change> {
    /// Only in the new checkpoint.
    pub added: Vec<Item>,
    /// Only in the old checkpoint.
    pub removed: Vec<Item>,
    /// In both, different.
    pub changed: Vec<Change>,
}

impl<Item, Change> Default for Changes<Item, Change> {
    fn default() -> Self {
        Changes {
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
        }
    }
}

impl<Item, Change> Changes<Item, Change> {
    /// Number of differences.
    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }

    /// True when the section holds no difference.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One value of a field that differs: `old` is absent for a value added, `new` for one removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Which field (`image`, `state`, `cmdline`, `environment`, `thread 1234`, `size`, ...).
    pub field: String,
    /// The old value.
    pub old: Option<String>,
    /// The new value.
    pub new: Option<String>,
}

impl FieldChange {
    /// A field whose value changed from `old` to `new`.
    pub fn changed(field: &str, old: impl Into<String>, new: impl Into<String>) -> FieldChange {
        FieldChange {
            field: field.to_owned(),
            old: Some(old.into()),
            new: Some(new.into()),
        }
    }
}

/// A metadata field present in one checkpoint only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataField {
    /// Which field (`image`, `annotation io.kubernetes.pod.name`, ...).
    pub field: String,
    /// Its value.
    pub value: String,
}

/// A process as one checkpoint holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessSummary {
    /// Process ID.
    pub pid: u32,
    /// Parent process ID (0 for the root).
    pub ppid: u32,
    /// `comm`.
    pub command: String,
    /// Task state.
    pub state: String,
    /// Number of threads.
    pub threads: usize,
    /// The command line, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
}

/// A process in both checkpoints whose facts differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessChange {
    /// Process ID.
    pub pid: u32,
    /// `comm` in the new checkpoint.
    pub command: String,
    /// What differs: `ppid`, `pgid`, `sid`, `comm`, `state`, `cmdline`, `exe`, `cwd`, `root`,
    /// `environment` (one entry per string added or removed; `environment order` when only the
    /// order moved), `thread TID`.
    pub changes: Vec<FieldChange>,
}

/// An open descriptor as one checkpoint holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdSummary {
    /// Process ID.
    pub pid: u32,
    /// Descriptor number.
    pub fd: u32,
    /// CRIU's file type (`REG`, `PIPE`, `INETSK`, ...).
    #[serde(rename = "type")]
    pub file_type: String,
    /// What `/proc/PID/fd` would show.
    pub path: String,
}

/// A descriptor in both checkpoints whose facts differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdChange {
    /// Process ID.
    pub pid: u32,
    /// Descriptor number.
    pub fd: u32,
    /// What differs: `type`, `path`, `deleted`, `size`, `unread bytes`, `eventfd counter`,
    /// `locks`, `seals`.
    pub changes: Vec<FieldChange>,
}

/// A socket as one checkpoint holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocketSummary {
    /// Process ID.
    pub pid: u32,
    /// Descriptor number.
    pub fd: u32,
    /// `TCP`, `UDP`, `UNIX`, ...
    pub protocol: String,
    /// Connection state.
    pub state: String,
    /// Local address (`addr:port`, or the unix path).
    pub local: String,
    /// Remote address.
    pub remote: String,
}

/// A socket in both checkpoints (same pid, descriptor and inode) whose facts differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocketChange {
    /// Process ID.
    pub pid: u32,
    /// Descriptor number.
    pub fd: u32,
    /// What differs: `state`, `local`, `remote`, `send queue`, `recv queue`.
    pub changes: Vec<FieldChange>,
}

/// The memory section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryChanges {
    /// Mappings only the new checkpoint has.
    pub added: Vec<VmaSummary>,
    /// Mappings only the old checkpoint has.
    pub removed: Vec<VmaSummary>,
    /// Mappings that kept their start (or their end, for stacks) and changed size.
    pub resized: Vec<VmaResize>,
    /// Mappings in both whose pages, permissions or name differ.
    pub changed: Vec<VmaChange>,
}

impl MemoryChanges {
    /// Number of differences.
    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len() + self.resized.len() + self.changed.len()
    }

    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A mapping as one checkpoint holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmaSummary {
    /// Process ID.
    pub pid: u32,
    /// First address.
    #[serde(serialize_with = "hex")]
    pub start: u64,
    /// One past the last address.
    #[serde(serialize_with = "hex")]
    pub end: u64,
    /// `rwxp` as `/proc/PID/maps` shows it.
    pub perms: String,
    /// The mapping's name (`[heap]`, a path, `[anon]`).
    pub name: String,
}

/// A mapping whose size changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmaResize {
    /// Process ID.
    pub pid: u32,
    /// The mapping's name in the new checkpoint.
    pub name: String,
    /// Old first address.
    #[serde(serialize_with = "hex")]
    pub old_start: u64,
    /// Old end.
    #[serde(serialize_with = "hex")]
    pub old_end: u64,
    /// New first address.
    #[serde(serialize_with = "hex")]
    pub new_start: u64,
    /// New end.
    #[serde(serialize_with = "hex")]
    pub new_end: u64,
    /// Pages whose contents differ where the two mappings overlap.
    pub pages_changed: u64,
    /// Those pages as ranges (`--memory`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_ranges: Vec<PageRange>,
}

/// A mapping in both checkpoints (same start and end) that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmaChange {
    /// Process ID.
    pub pid: u32,
    /// First address.
    #[serde(serialize_with = "hex")]
    pub start: u64,
    /// One past the last address.
    #[serde(serialize_with = "hex")]
    pub end: u64,
    /// Permissions in the new checkpoint.
    pub perms: String,
    /// Permissions in the old checkpoint, when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_perms: Option<String>,
    /// Name in the new checkpoint.
    pub name: String,
    /// Name in the old checkpoint, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_name: Option<String>,
    /// Pages of the mapping.
    pub pages: u64,
    /// Pages whose contents differ.
    pub pages_changed: u64,
    /// Those pages as ranges (`--memory`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_ranges: Vec<PageRange>,
}

/// A run of changed pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageRange {
    /// First address.
    #[serde(serialize_with = "hex")]
    pub start: u64,
    /// One past the last address.
    #[serde(serialize_with = "hex")]
    pub end: u64,
    /// Number of pages.
    pub pages: u64,
}

/// A path of the root file system changes as one checkpoint holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootfsEntry {
    /// Path inside the container.
    pub path: String,
    /// `file`, `dir`, `symlink`, `hardlink`, `other`, or `deleted` (listed in `deleted.files`).
    pub kind: String,
    /// Size in bytes (files).
    pub size: u64,
}

/// A path in both checkpoints' root file system changes that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootfsChange {
    /// Path inside the container.
    pub path: String,
    /// What differs: `kind`, `size`, `sha256` (the contents).
    pub changes: Vec<FieldChange>,
}

/// Something that could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCompared {
    /// The process, if it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// What: `memory`, `files`, `cmdline`, `environment`, `rootfs-diff`.
    pub what: String,
    /// Why.
    pub reason: String,
}

/// Serializes an address as `0x...`.
fn hex<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{value:#x}"))
}

//! The forensic summary of one checkpoint: what an incident responder looks at first, built
//! from the [`Dump`] in one cheap pass (no page is read but the argument areas): the process
//! tree with thread counts and command lines, listening sockets and connections, files of note
//! (deleted while open, memfds), memory sizes, root file system changes, the compromise
//! indicators and the secrets found (counted; the views of their own list them), and what could
//! not be read. The secrets are the one part that reads every page: the engine runs at about the
//! speed of `grep -c -a` (docs/performance.md). Lists are capped at [`LIST_CAP`] entries, with the total kept, so a forged checkpoint
//! cannot make the summary large.

use std::collections::HashMap;

use serde::Serialize;

use super::indicators::IndicatorReport;
use super::secrets::{KindCount, SecretsReport};
use super::sockets::{endpoint_text, inet_state_name, protocol_name, state_name};
use checkpoint_model::archive::RootfsDiff;
use checkpoint_model::dump::files::{Deleted, FileKind};
use checkpoint_model::dump::Dump;

/// Most entries a summary list holds; the totals count them all.
pub const LIST_CAP: usize = 1000;

/// The summary of one checkpoint.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryReport {
    /// Number of processes.
    pub processes: usize,
    /// Number of threads, all processes together.
    pub threads: usize,
    /// The processes depth first from the root (at most [`LIST_CAP`]).
    pub tree: Vec<SummaryProcess>,
    /// Sockets listening for connections or bound for datagrams.
    pub listening: Vec<SummarySocket>,
    /// Connected sockets.
    pub connections: Vec<SummarySocket>,
    /// Files deleted while open, and memfds.
    pub files_of_note: Vec<NotableFile>,
    /// Totals of the lists above, before the cap.
    pub totals: SummaryTotals,
    /// Memory sizes, all processes together.
    pub memory: SummaryMemory,
    /// Root file system changes.
    pub rootfs: SummaryRootfs,
    /// Compromise indicators found (at most [`LIST_CAP`]; `analyze --indicators` has the
    /// evidence).
    pub indicators: Vec<SummaryIndicator>,
    /// Secrets found in everything the checkpoint stores (`analyze --secrets` lists them,
    /// masked); `None` when the scan could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SummarySecrets>,
}

/// The secrets of a checkpoint, counted: confident findings only; the low-confidence ones
/// (a token whose checksum fails) are counted apart, and `--secrets` lists them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummarySecrets {
    /// Distinct secret values found with confidence.
    pub secrets: usize,
    /// Copies of them, all places together.
    pub copies: u64,
    /// Values and copies per kind (confident findings).
    pub kinds: Vec<KindCount>,
    /// Distinct values found with low confidence (`--secrets` lists them, with the reason).
    pub low_confidence: usize,
    /// Parts that could not be scanned, or not to their end (`analyze --secrets` names them).
    pub incomplete: usize,
}

/// One compromise indicator, in the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryIndicator {
    /// The process.
    pub pid: u32,
    /// Its `comm`.
    pub command: String,
    /// The indicator's name (`deleted-exe`, `reverse-shell`, ...).
    pub kind: String,
    /// What it means.
    pub explanation: String,
}

/// One process of the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryProcess {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Depth below the root.
    pub depth: usize,
    /// `comm`.
    pub command: String,
    /// Task state.
    pub state: String,
    /// Number of threads.
    pub threads: usize,
    /// The command line by the kernel's rule, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// Its memory in the checkpoint, when it could be read: its own pages and the shared
    /// memory it maps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<SummaryProcessMemory>,
}

/// One process's memory in the checkpoint.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SummaryProcessMemory {
    /// Bytes of its own (private) pages the checkpoint stores.
    pub own_bytes: u64,
    /// Bytes of shared memory it maps that the checkpoint stores (once for all the processes
    /// that map them: see [`SummaryMemory::shared_bytes`]).
    pub shared_bytes: u64,
}

/// A socket of the summary: one per socket (inode), however many processes hold it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummarySocket {
    /// The socket's inode.
    pub ino: u32,
    /// `TCP`, `UDP`, `UNIX`, ...
    pub protocol: String,
    /// `LISTEN`, `ESTABLISHED`, ...
    pub state: String,
    /// Local address (`addr:port`, `[addr]:port` or a unix path).
    pub local: String,
    /// Remote address, for connections.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote: String,
    /// True when it listens on every address (`0.0.0.0` or `::`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub all_addresses: bool,
    /// The processes holding it, in process tree order (a listener shared by a server's
    /// workers, a socket inherited by a child; at most [`LIST_CAP`]).
    pub holders: Vec<SocketHolder>,
}

/// A process holding a socket, and through which descriptors.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SocketHolder {
    /// The process.
    pub pid: u32,
    /// Its `comm`.
    pub command: String,
    /// Its descriptors holding the socket (a shell's 0, 1 and 2 may be one socket).
    pub fds: Vec<u32>,
}

/// A file of note.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotableFile {
    /// Holding process.
    pub pid: u32,
    /// Its descriptor.
    pub fd: u32,
    /// `deleted` or `memfd`.
    pub kind: String,
    /// Path, or `memfd:NAME`.
    pub path: String,
    /// Size in bytes, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// How many entries each list had before the cap.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SummaryTotals {
    /// Listening or bound sockets.
    pub listening: usize,
    /// Connected sockets.
    pub connections: usize,
    /// Files of note.
    pub files_of_note: usize,
    /// Facts that could not be read.
    pub unreadable: usize,
    /// Compromise indicators.
    pub indicators: usize,
}

/// Memory sizes in bytes.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SummaryMemory {
    /// Sum of the VMA sizes.
    pub mapped_bytes: u64,
    /// Bytes of memory the checkpoint holds in its pages files (private pages and shared
    /// memory), each stored page counted once however many processes map it.
    pub dumped_bytes: u64,
    /// Of those, bytes of shared memory (each stored page once).
    pub shared_bytes: u64,
}

/// Root file system changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryRootfs {
    /// Entries of rootfs-diff.tar.
    pub changed: usize,
    /// Paths of deleted.files.
    pub deleted: usize,
    /// The first few changed or deleted paths.
    pub examples: Vec<String>,
    /// Why the listing of rootfs-diff.tar stops early, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// How many example paths of the root file system changes the summary keeps.
const ROOTFS_EXAMPLES: usize = 5;

/// Builds the summary of `dump`; `rootfs` is the checkpoint's root file system diff, if it
/// could be read, `indicators` the compromise indicators of every process, and `secrets` the
/// secrets scan, if it could run.
pub(crate) fn build_summary(
    dump: &Dump,
    rootfs: Option<&RootfsDiff>,
    indicators: &IndicatorReport,
    secrets: Option<&SecretsReport>,
) -> SummaryReport {
    let mut summary = SummaryReport {
        processes: dump.tasks().len(),
        threads: dump.tasks().iter().map(|t| t.threads.len().max(1)).sum(),
        ..SummaryReport::default()
    };
    let footprint = dump.memory_footprint();
    summary.memory.dumped_bytes = footprint.stored_bytes;
    summary.memory.shared_bytes = footprint.shared_bytes;
    let tree = dump.tree();
    let mut sockets = SocketIndex::default();
    for (index, depth) in tree.depth_first(None) {
        let Some(task) = tree.tasks().get(index) else {
            continue;
        };
        let memory = task
            .state
            .has_resources()
            .then(|| dump.memory(task.pid).ok())
            .flatten();
        let cmdline = memory
            .as_ref()
            .and_then(|_| dump.strings(task.pid).ok())
            .and_then(|strings| strings.cmdline.as_ref().ok())
            .map(|c| c.joined());
        if let Some(memory) = &memory {
            summary.memory.mapped_bytes = summary
                .memory
                .mapped_bytes
                .saturating_add(memory.layout().vma_bytes());
        }
        let process_memory = footprint
            .processes
            .iter()
            .find(|p| p.pid == task.pid)
            .map(|p| SummaryProcessMemory {
                own_bytes: p.own_bytes,
                shared_bytes: p.shared_bytes,
            });
        if summary.tree.len() < LIST_CAP {
            summary.tree.push(SummaryProcess {
                pid: task.pid,
                ppid: task.ppid,
                depth,
                command: task.comm.clone(),
                state: task.state.name().to_owned(),
                threads: task.threads.len().max(1),
                cmdline,
                memory: process_memory,
            });
        }
        collect_files(dump, task.pid, &task.comm, &mut sockets, &mut summary);
        let resources = dump.resources(task.pid);
        summary.totals.unreadable += usize::from(task.core_problem.is_some())
            + task
                .threads
                .iter()
                .filter(|t| t.tid != task.pid && t.comm.is_err())
                .count()
            + resources.map_or(0, |r| {
                usize::from(r.memory.is_err()) + usize::from(r.files.is_err())
            });
    }
    summary.totals.unreadable += dump.unavailable().len();
    summary.secrets = secrets.map(summary_secrets);
    summary.totals.indicators = indicators.found.len();
    summary.indicators = indicators
        .found
        .iter()
        .take(LIST_CAP)
        .map(|found| SummaryIndicator {
            pid: found.pid,
            command: found.command.clone(),
            kind: found.kind.name().to_owned(),
            explanation: found.explanation.clone(),
        })
        .collect();
    if let Some(diff) = rootfs {
        summary.rootfs = SummaryRootfs {
            changed: diff.changed.len(),
            deleted: diff.deleted.len(),
            examples: diff
                .changed
                .iter()
                .map(|f| f.name.clone())
                .chain(diff.deleted.iter().cloned())
                .take(ROOTFS_EXAMPLES)
                .collect(),
            incomplete: diff.incomplete.clone(),
        };
    }
    summary
}

/// The secrets of a scan, counted: confident findings by kind, low-confidence ones apart.
/// Copies of values past the scan's itemising limit cannot be told apart and are counted as
/// confident.
fn summary_secrets(report: &SecretsReport) -> SummarySecrets {
    let mut kinds: std::collections::BTreeMap<&str, (usize, u64)> = Default::default();
    let mut low_confidence = 0;
    let mut low_copies = 0;
    for secret in &report.secrets {
        if secret.low_confidence.is_some() {
            low_confidence += 1;
            low_copies += secret.copies;
            continue;
        }
        let kind = kinds.entry(&secret.kind).or_default();
        kind.0 += 1;
        kind.1 += secret.copies;
    }
    SummarySecrets {
        secrets: report.count() - low_confidence,
        copies: report.findings.saturating_sub(low_copies),
        kinds: kinds
            .into_iter()
            .map(|(kind, (secrets, copies))| KindCount {
                kind: kind.to_owned(),
                secrets,
                copies,
            })
            .collect(),
        low_confidence,
        incomplete: report.incomplete.len(),
    }
}

/// The sockets and files of note of one process.
fn collect_files(
    dump: &Dump,
    pid: u32,
    comm: &str,
    sockets: &mut SocketIndex,
    summary: &mut SummaryReport,
) {
    let Ok(open) = dump.open_files(pid) else {
        return;
    };
    let files = dump.files();
    for fd in open.fds.iter() {
        let Some(file) = files.get(fd.id) else {
            continue;
        };
        let holder = || SocketHolder {
            pid,
            command: comm.to_owned(),
            fds: vec![fd.fd],
        };
        match &file.kind {
            FileKind::Inet(sk) => {
                let local = endpoint_text(&sk.src_addr, sk.src_port);
                let state = inet_state_name(sk);
                let socket = SummarySocket {
                    holders: vec![holder()],
                    ino: sk.ino,
                    protocol: protocol_name(sk.proto),
                    all_addresses: sk.src_addr.iter().all(|&w| w == 0),
                    remote: String::new(),
                    state,
                    local,
                };
                // TCP listens; UDP (and raw) sockets bound to a port receive.
                let listening = sk.state == 10 || (sk.state == 7 && sk.src_port != 0);
                if listening {
                    sockets.listening.push(
                        &mut summary.listening,
                        &mut summary.totals.listening,
                        socket,
                    );
                } else if sk.dst_port != 0 {
                    let socket = SummarySocket {
                        remote: endpoint_text(&sk.dst_addr, sk.dst_port),
                        all_addresses: false,
                        ..socket
                    };
                    sockets.connections.push(
                        &mut summary.connections,
                        &mut summary.totals.connections,
                        socket,
                    );
                }
            }
            FileKind::Unix(sk) if sk.state == 10 => {
                let socket = SummarySocket {
                    holders: vec![holder()],
                    ino: sk.ino,
                    protocol: "UNIX".to_owned(),
                    state: state_name(sk.state),
                    local: super::sockets::unix_name(&sk.name),
                    remote: String::new(),
                    all_addresses: false,
                };
                sockets.listening.push(
                    &mut summary.listening,
                    &mut summary.totals.listening,
                    socket,
                );
            }
            FileKind::Regular(reg) if reg.deleted.is_some() => {
                let size = match &reg.deleted {
                    Some(Deleted::Ghost { size, .. }) => size.or(reg.size),
                    _ => reg.size,
                };
                push_file(
                    summary,
                    NotableFile {
                        pid,
                        fd: fd.fd,
                        kind: "deleted".to_owned(),
                        path: reg.path.to_string(),
                        size,
                    },
                );
            }
            FileKind::Memfd { .. } => {
                let inode = files.memfd(fd.id);
                push_file(
                    summary,
                    NotableFile {
                        pid,
                        fd: fd.fd,
                        kind: "memfd".to_owned(),
                        path: inode
                            .map_or_else(|| "memfd:?".to_owned(), |i| format!("memfd:{}", i.name)),
                        size: inode.map(|i| i.size),
                    },
                );
            }
            _ => {}
        }
    }
}

/// Where each socket seen so far is in its summary list, by inode (`None`: counted, but past
/// the list's cap).
#[derive(Default)]
struct SocketIndex {
    listening: SocketList,
    connections: SocketList,
}

/// The sockets of one summary list, by inode.
#[derive(Default)]
struct SocketList {
    by_ino: HashMap<u32, Option<usize>>,
}

impl SocketList {
    /// Adds a socket, or its holder to the entry of the same socket (by inode): its
    /// descriptor to the same process's, or the process to the holders. A socket is counted
    /// once however many processes hold it.
    fn push(&mut self, list: &mut Vec<SummarySocket>, total: &mut usize, socket: SummarySocket) {
        match self.by_ino.get(&socket.ino) {
            Some(Some(index)) => {
                let Some(same) = list.get_mut(*index) else {
                    return;
                };
                for holder in socket.holders {
                    if let Some(known) = same.holders.iter_mut().find(|h| h.pid == holder.pid) {
                        known.fds.extend(holder.fds);
                    } else if same.holders.len() < LIST_CAP {
                        same.holders.push(holder);
                    }
                }
            }
            Some(None) => {}
            None => {
                *total += 1;
                let index = (list.len() < LIST_CAP).then_some(list.len());
                self.by_ino.insert(socket.ino, index);
                if index.is_some() {
                    list.push(socket);
                }
            }
        }
    }
}

fn push_file(summary: &mut SummaryReport, file: NotableFile) {
    summary.totals.files_of_note += 1;
    if summary.files_of_note.len() < LIST_CAP {
        summary.files_of_note.push(file);
    }
}

//! `analyze --secrets`: every credential a checkpoint stores, found by the [`crate::secrets`]
//! engine, grouped by value, each copy located where the running system had it.
//!
//! # What is scanned, in this order
//! For each live process (pstree order; only `--pid` when given): its command line and its
//! environment as the kernel shows them (each argument and each `NAME=value` string its own
//! stream, so a finding in the environment carries the variable's name), then its memory,
//! private and shared pages alike, one sequential pass per pages file in file order
//! ([`ProcessMemory::passes`]). Then, when every process is scanned (no `--pid`), the data the
//! checkpoint stores outside process memory ([`checkpoint_model::dump::stored`]: pipe, unix and TCP
//! queues, ghost files, unmapped shared memory), each its own stream; the files of
//! `rootfs-diff.tar`, each its own stream; and the files the container engine put in the
//! archive beside the CRIU images (`config.dump`, `spec.dump`, the container's log, ...).
//!
//! # Where a copy is
//! In memory: the pid, the address and the VMA. In the command line or the environment: the
//! pid, the offset in `/proc/PID/cmdline` or `/proc/PID/environ`, and also the address and VMA,
//! since those strings live in the process's memory. Such a copy is found twice, by its string
//! and by the memory pass: it is counted once, as the command line or environment copy (the
//! memory finding at the same address and length is dropped). A shared page mapped by two
//! processes is a copy in each. Elsewhere: the source (`pipe:[118963] unread data`,
//! `rootfs-diff etc/app/credentials.env`, `spec.dump`) and the offset in it.
//!
//! # Bounds
//! Memory: the scanner's buffer (about 280 KiB), one process's command line and environment
//! (at most 4 MiB each, the kernel's limit), and the [`Tally`] within its [`TallyLimits`]
//! (distinct values, their bytes, locations per value). Time: one pass over the data; the
//! engine is linear, but input made of the rules' anchors is scanned about 100 times slower
//! than ordinary memory, so a [`ScanBudget`] bounds the whole scan by the checkpoint's size.
//! What the budget cuts is listed in [`SecretsReport::incomplete`], never dropped silently.
//!
//! Every string of the report that comes from the checkpoint is either printable ASCII (values
//! masked, names, details: see [`crate::secrets::finding`]) or a name the model already bounds
//! (VMA names, stored-data labels, rootfs-diff paths), shared rather than copied per location.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Error;
use crate::memory::report::hex_address;
use crate::secrets::DETAIL_MAX;
use crate::secrets::{escape_printable, Details, Finding, Rules, Scanner, Tally, TallyLimits};
use checkpoint_model::archive::{MemberInfo, MemberKind};
use checkpoint_model::dump::{Dump, MemoryLayout, ProcessMemory, StoredData};
use checkpoint_model::search::Sequential;

/// The archive member holding the container's file system changes.
const ROOTFS_DIFF: &str = "rootfs-diff.tar";

/// Most command-line and environment findings of one process remembered to recognise their
/// copies in the memory pass (beyond, such a copy is counted twice).
const MAX_REMEMBERED: usize = 65_536;

/// What to scan and how much to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretsParams {
    /// Scan only this process (its command line, environment and memory); `None`: every
    /// process, the stored data and `rootfs-diff.tar`.
    pub pid: Option<u32>,
    /// Put each secret's value in the report ([`SecretReport::value`]).
    pub reveal: bool,
    /// What the tally keeps.
    pub limits: TallyLimits,
    /// How long the scan may take; `None`: no limit.
    pub budget: Option<ScanBudget>,
}

impl Default for SecretsParams {
    /// Every process and source, values masked, the default limits and budget.
    fn default() -> Self {
        SecretsParams {
            pid: None,
            reveal: false,
            limits: TallyLimits::default(),
            budget: Some(ScanBudget::default()),
        }
    }
}

impl SecretsParams {
    /// Parameters with the value put in the report (`--reveal`).
    #[must_use]
    pub fn reveal(mut self, reveal: bool) -> Self {
        self.reveal = reveal;
        self
    }

    /// Parameters limited to one process (`--pid`).
    #[must_use]
    pub fn pid(mut self, pid: Option<u32>) -> Self {
        self.pid = pid;
        self
    }
}

/// The time a scan may take: `base` plus the checkpoint's bytes at `bytes_per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanBudget {
    /// Time allowed whatever the size.
    pub base: Duration,
    /// The slowest rate allowed on top of it.
    pub bytes_per_second: u64,
}

impl Default for ScanBudget {
    /// 10 s plus 1 s per 128 MiB: ordinary memory scans at more than 1 GiB/s, input made of
    /// the rules' anchors at about 20 MiB/s.
    fn default() -> Self {
        ScanBudget {
            base: Duration::from_secs(10),
            bytes_per_second: 128 << 20,
        }
    }
}

impl ScanBudget {
    /// The time allowed for `bytes` of input.
    pub fn for_bytes(&self, bytes: u64) -> Duration {
        let rate = self.bytes_per_second.max(1);
        self.base
            .saturating_add(Duration::from_secs(bytes / rate))
            .saturating_add(Duration::from_nanos(
                (bytes % rate).saturating_mul(1_000_000_000) / rate,
            ))
    }
}

/// Progress of a scan, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEvent<'a> {
    /// Scanning moved on to this (`pid 7`, `stored data`, `rootfs-diff.tar`).
    Stage(&'a str),
    /// This many more bytes of memory or stored data were read.
    Bytes(u64),
}

/// The secrets of one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsReport {
    /// The checkpoint (archive or directory) as given.
    pub checkpoint: String,
    /// The distinct secret values, in the order first found.
    pub secrets: Vec<SecretReport>,
    /// Secrets and copies per kind, by kind.
    pub kinds: Vec<KindCount>,
    /// Copies found in all, of itemised values and of values beyond the limits.
    pub findings: u64,
    /// Copies of values the limits left out: counted here, not itemised.
    pub not_itemised: u64,
    /// Bytes of memory and stored data read (rootfs-diff files included).
    pub scanned_bytes: u64,
    /// What could not be scanned, or not to its end, and why. Empty when everything was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<Incomplete>,
}

impl SecretsReport {
    /// Distinct secret values found (itemised).
    pub fn count(&self) -> usize {
        self.secrets.len()
    }
}

/// One distinct secret value and where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretReport {
    /// The kind of secret (`aws-access-key-id`, `jwt`, `private-key`, `password`, ...).
    pub kind: String,
    /// The rule that found it (docs/secrets.md lists them).
    pub rule: String,
    /// The variable, key or user it belongs to, printable ASCII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The masked value: at most 4 leading characters, `...`, the length (printable ASCII).
    pub masked: String,
    /// The value, only with `--reveal`: as text when it is UTF-8, else with every byte
    /// outside printable ASCII as `\xNN` and a backslash doubled (then `value_escaped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// True when `value` is escaped (the value is not UTF-8).
    #[serde(default, skip_serializing_if = "is_false")]
    pub value_escaped: bool,
    /// The value's length in bytes.
    pub length: usize,
    /// How many copies were found (see the module docs); at most
    /// [`TallyLimits::max_locations`] of them are in `locations`.
    pub copies: u64,
    /// What the rule's checks decoded: JWT claims (issuer, subject, expiry, service account),
    /// a private key's type, a service-account key's account, a credential's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
    /// Why the finding is of low confidence (a token whose checksum fails), when it is;
    /// absent for a confident one. The summary counts confident secrets only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence: Option<String>,
    /// The first copies' locations, in the order found.
    pub locations: Vec<SecretLocation>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Where one copy of a secret is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "place", rename_all = "kebab-case")]
pub enum SecretLocation {
    /// In a process's memory.
    Memory {
        /// Process id.
        pid: u32,
        /// Its command name.
        command: Arc<str>,
        /// Address of the value's first byte, `0x...`.
        address: String,
        /// The VMA holding it, as `/proc/PID/maps` names it (empty outside every VMA).
        vma: Arc<str>,
    },
    /// In a process's command line.
    Cmdline {
        /// Process id.
        pid: u32,
        /// Its command name.
        command: Arc<str>,
        /// `pid N cmdline`.
        source: String,
        /// Offset of the value in `/proc/PID/cmdline` (NUL-separated arguments).
        offset: u64,
        /// Address of the value's first byte, `0x...`.
        address: String,
        /// The VMA holding it.
        vma: Arc<str>,
    },
    /// In a process's environment.
    Environ {
        /// Process id.
        pid: u32,
        /// Its command name.
        command: Arc<str>,
        /// `pid N environ`.
        source: String,
        /// The variable's name, printable ASCII.
        variable: Arc<str>,
        /// Offset of the value in `/proc/PID/environ` (NUL-separated `NAME=value` strings).
        offset: u64,
        /// Address of the value's first byte, `0x...`.
        address: String,
        /// The VMA holding it.
        vma: Arc<str>,
    },
    /// In data the checkpoint stores outside process memory.
    Stored {
        /// What it is: `pipe-data`, `unix-queue`, `tcp-receive-queue`, `tcp-send-queue`,
        /// `ghost-file`, `shared-memory`.
        kind: String,
        /// What it was (`pipe:[118963] unread data`, `ghost /srv/app/.env (deleted)`).
        source: Arc<str>,
        /// The image holding it.
        image: Arc<str>,
        /// Offset of the value in the data.
        offset: u64,
    },
    /// In a file the container engine put in the archive beside the CRIU images
    /// (`config.dump`, `spec.dump`, the container's log).
    Member {
        /// The member's name in the archive.
        source: Arc<str>,
        /// Offset of the value in it.
        offset: u64,
    },
    /// In a file of `rootfs-diff.tar`.
    RootfsDiff {
        /// `rootfs-diff PATH`.
        source: Arc<str>,
        /// The file's path in the archive.
        path: Arc<str>,
        /// Offset of the value in the file.
        offset: u64,
    },
}

impl SecretLocation {
    /// The process, for locations in a process.
    pub fn pid(&self) -> Option<u32> {
        match self {
            SecretLocation::Memory { pid, .. }
            | SecretLocation::Cmdline { pid, .. }
            | SecretLocation::Environ { pid, .. } => Some(*pid),
            SecretLocation::Stored { .. }
            | SecretLocation::Member { .. }
            | SecretLocation::RootfsDiff { .. } => None,
        }
    }

    /// The address, for locations in a process's memory.
    pub fn address(&self) -> Option<&str> {
        match self {
            SecretLocation::Memory { address, .. }
            | SecretLocation::Cmdline { address, .. }
            | SecretLocation::Environ { address, .. } => Some(address),
            SecretLocation::Stored { .. }
            | SecretLocation::Member { .. }
            | SecretLocation::RootfsDiff { .. } => None,
        }
    }

    /// The source and offset, for locations not given by address alone.
    pub fn source_offset(&self) -> Option<(&str, u64)> {
        match self {
            SecretLocation::Memory { .. } => None,
            SecretLocation::Cmdline { source, offset, .. }
            | SecretLocation::Environ { source, offset, .. } => Some((source, *offset)),
            SecretLocation::Stored { source, offset, .. }
            | SecretLocation::Member { source, offset }
            | SecretLocation::RootfsDiff { source, offset, .. } => Some((source, *offset)),
        }
    }
}

/// Secrets and copies of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    /// The kind.
    pub kind: String,
    /// Distinct values.
    pub secrets: usize,
    /// Copies of them.
    pub copies: u64,
}

/// A part of the checkpoint that was not scanned, or not to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomplete {
    /// What (`pid 7 memory (pages-2.img)`, `pid 7 environment`, `rootfs-diff.tar`).
    pub what: String,
    /// Why, and how far the scan got.
    pub reason: String,
}

/// The bytes a scan with `params` reads from the checkpoint's images (process memory, stored
/// data, `rootfs-diff.tar`), for a progress bar and the time budget.
pub fn secrets_scan_size(dump: &Dump, params: &SecretsParams) -> u64 {
    let memory = processes(dump, params.pid)
        .filter_map(|(pid, _)| dump.memory(pid).ok())
        .fold(0u64, |sum, memory| {
            sum.saturating_add(memory.present_bytes())
        });
    if params.pid.is_some() {
        return memory;
    }
    dump.stored_data()
        .iter()
        .fold(memory, |sum, data| sum.saturating_add(data.len()))
        .saturating_add(dump.checkpoint().member_size(ROOTFS_DIFF).unwrap_or(0))
        .saturating_add(
            dump.checkpoint()
                .members()
                .filter(|m| is_engine_file(dump, m))
                .fold(0u64, |sum, m| sum.saturating_add(m.size)),
        )
}

/// Scans `dump` for secrets (see the module docs). `progress` hears what is being scanned and
/// how many bytes were read. A part that cannot be read is listed in
/// [`SecretsReport::incomplete`] and the rest is scanned; the only error is an unusable rule
/// table (a bug).
pub fn collect_secrets(
    dump: &Dump,
    params: &SecretsParams,
    progress: &mut dyn FnMut(ScanEvent<'_>),
) -> Result<SecretsReport, Error> {
    let rules = Rules::builtin()?;
    let allowed = params
        .budget
        .map(|budget| budget.for_bytes(secrets_scan_size(dump, params)));
    let mut scan = Scan {
        scanner: Scanner::new(rules),
        tally: Tally::new(params.limits),
        progress,
        bytes: 0,
        started: Instant::now(),
        allowed,
        out_of_time: false,
        incomplete: Vec::new(),
        not_scanned: 0,
    };
    for (pid, comm) in processes(dump, params.pid) {
        scan.process(dump, pid, &Arc::from(comm));
    }
    if params.pid.is_none() {
        (scan.progress)(ScanEvent::Stage("stored data"));
        for data in dump.stored_data() {
            scan.stored(dump, data);
        }
        (scan.progress)(ScanEvent::Stage(ROOTFS_DIFF));
        scan.rootfs(dump);
        (scan.progress)(ScanEvent::Stage("engine files"));
        scan.members(dump);
    }
    if scan.not_scanned > 0 {
        let reason = scan.budget_reason();
        scan.incomplete.push(Incomplete {
            what: format!(
                "{} more parts (process memory, stored data, files)",
                scan.not_scanned
            ),
            reason: format!("not scanned: {reason}"),
        });
    }
    Ok(scan.into_report(dump.display_name(), params.reveal))
}

/// The live processes to scan, in pstree order, with their command names.
fn processes<'d>(dump: &'d Dump, only: Option<u32>) -> impl Iterator<Item = (u32, &'d str)> + 'd {
    dump.tasks()
        .iter()
        .filter(move |task| task.state.has_resources() && only.is_none_or(|pid| pid == task.pid))
        .map(|task| (task.pid, task.comm.as_str()))
}

/// One scan in progress.
struct Scan<'r, 'p> {
    scanner: Scanner<'r>,
    tally: Tally<'r, SecretLocation>,
    progress: &'p mut dyn FnMut(ScanEvent<'_>),
    bytes: u64,
    started: Instant,
    /// The time the budget allows this scan.
    allowed: Option<Duration>,
    out_of_time: bool,
    incomplete: Vec<Incomplete>,
    /// Streams skipped once the budget was spent.
    not_scanned: u64,
}

impl<'r> Scan<'r, '_> {
    /// True (and the stream counted as skipped) once the budget is spent.
    fn skip_for_time(&mut self) -> bool {
        if !self.out_of_time {
            if let Some(allowed) = self.allowed {
                self.out_of_time = self.started.elapsed() > allowed;
            }
        }
        if self.out_of_time {
            self.not_scanned += 1;
        }
        self.out_of_time
    }

    /// When the budget runs out.
    fn deadline_instant(&self) -> Option<Instant> {
        self.allowed.map(|allowed| self.started + allowed)
    }

    fn budget_reason(&self) -> String {
        let allowed = self.allowed.map_or(0.0, |d| d.as_secs_f64());
        format!("the scan's time budget ({allowed:.1} s for this checkpoint's size) ran out")
    }

    /// Command line, environment, then memory of one process.
    fn process(&mut self, dump: &Dump, pid: u32, command: &Arc<str>) {
        (self.progress)(ScanEvent::Stage(&format!("pid {pid}")));
        if self.skip_for_time() {
            return;
        }
        let memory = match dump.memory(pid) {
            Ok(memory) => memory,
            Err(err) => {
                self.incomplete.push(Incomplete {
                    what: format!("pid {pid}"),
                    reason: checkpoint_model::error_text(&err),
                });
                return;
            }
        };
        let mut remembered: HashSet<(u64, usize)> = HashSet::new();
        self.strings(dump, &memory, command, &mut remembered);
        let layout = memory.layout();
        for mut pass in memory.passes() {
            if self.skip_for_time() {
                continue;
            }
            let pieces: Vec<Piece> = pass
                .segments
                .iter()
                .map(|segment| Piece {
                    offset: segment.vaddr,
                    at: segment.pages_offset,
                    len: segment.len,
                })
                .collect();
            let mut place = |finding: &Finding<'_>| {
                if remembered.contains(&(finding.offset, finding.len())) {
                    return None;
                }
                Some(SecretLocation::Memory {
                    pid,
                    command: Arc::clone(command),
                    address: hex_address(finding.offset),
                    vma: vma_name(layout, finding.offset),
                })
            };
            let end = self.scan_stream(&mut pass.reader, &pieces, &mut place);
            // The reader's name is `CHECKPOINT:MEMBER`; the report names the checkpoint.
            let name = pass.reader.name();
            let image = name.rsplit_once(':').map_or(name, |(_, image)| image);
            let what = format!("pid {pid} memory ({image})");
            self.note_end(what, end);
        }
    }

    /// The command line's arguments and the environment's strings, each its own stream.
    fn strings(
        &mut self,
        dump: &Dump,
        memory: &ProcessMemory<'_>,
        command: &Arc<str>,
        remembered: &mut HashSet<(u64, usize)>,
    ) {
        let pid = memory.pid();
        let strings = match dump.strings(pid) {
            Ok(strings) => strings,
            Err(problem) => {
                self.incomplete.push(Incomplete {
                    what: format!("pid {pid} command line and environment"),
                    reason: problem.reason,
                });
                return;
            }
        };
        let layout = memory.layout();
        let vma_of = |vaddr: u64| vma_name(layout, vaddr);
        let mut remember = |vaddr: u64, len: usize| {
            if remembered.len() < MAX_REMEMBERED {
                remembered.insert((vaddr, len));
            }
        };
        match &strings.cmdline {
            Ok(cmdline) => {
                let (start, bytes) = (cmdline.start, &cmdline.bytes);
                let source = format!("pid {pid} cmdline");
                let mut offset = 0u64;
                for arg in bytes.split(|&b| b == 0) {
                    for finding in self.scan_string(offset, arg) {
                        let vaddr = start.saturating_add(finding.offset);
                        remember(vaddr, finding.len());
                        let location = SecretLocation::Cmdline {
                            pid,
                            command: Arc::clone(command),
                            source: source.clone(),
                            offset: finding.offset,
                            address: hex_address(vaddr),
                            vma: vma_of(vaddr),
                        };
                        self.tally.add(finding, location);
                    }
                    offset += arg.len() as u64 + 1;
                }
            }
            Err(problem) => self.incomplete.push(Incomplete {
                what: format!("pid {pid} command line"),
                reason: problem.reason.clone(),
            }),
        }
        let env_start = dump
            .memory_map(pid)
            .map(|map| map.args.env_start)
            .unwrap_or(0);
        match &strings.environ {
            Ok(environ) => {
                let source = format!("pid {pid} environ");
                for string in environ {
                    let offset = string.vaddr.saturating_sub(env_start);
                    let found = self.scan_string(offset, &string.bytes);
                    if found.is_empty() {
                        continue;
                    }
                    let name = string
                        .bytes
                        .split(|&b| b == b'=')
                        .next()
                        .unwrap_or_default();
                    let variable: Arc<str> = Arc::from(escape_printable(name, DETAIL_MAX));
                    for mut finding in found {
                        let vaddr = env_start.saturating_add(finding.offset);
                        remember(vaddr, finding.len());
                        finding
                            .name
                            .get_or_insert_with(|| variable.as_ref().to_owned());
                        let location = SecretLocation::Environ {
                            pid,
                            command: Arc::clone(command),
                            source: source.clone(),
                            variable: Arc::clone(&variable),
                            offset: finding.offset,
                            address: hex_address(vaddr),
                            vma: vma_of(vaddr),
                        };
                        self.tally.add(finding, location);
                    }
                }
            }
            Err(problem) => self.incomplete.push(Incomplete {
                what: format!("pid {pid} environment"),
                reason: problem.reason.clone(),
            }),
        }
    }

    /// The findings of one string held in memory, as its own stream from `offset`.
    fn scan_string(&mut self, offset: u64, bytes: &[u8]) -> Vec<Finding<'r>> {
        let mut found = Vec::new();
        let mut sink = |finding: Finding<'r>| {
            found.push(finding);
            true
        };
        self.scanner.feed(offset, bytes, &mut sink);
        self.scanner.finish(&mut sink);
        found
    }

    /// One piece of stored data, its ranges as one stream of data offsets.
    fn stored(&mut self, dump: &Dump, data: &StoredData) {
        if self.skip_for_time() {
            return;
        }
        let what = format!("{} ({})", data.source, data.image);
        let mut reader = match dump.checkpoint().open_image(&data.image) {
            Ok(reader) => reader,
            Err(err) => {
                self.incomplete.push(Incomplete {
                    what,
                    reason: checkpoint_model::error_text(&err),
                });
                return;
            }
        };
        let source: Arc<str> = Arc::from(data.source.as_str());
        let image: Arc<str> = Arc::from(data.image.as_str());
        let kind = serde_json::to_value(data.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let pieces: Vec<Piece> = data
            .ranges
            .iter()
            .map(|range| Piece {
                offset: range.data_offset,
                at: range.file_offset,
                len: range.len,
            })
            .collect();
        let mut place = |finding: &Finding<'_>| {
            Some(SecretLocation::Stored {
                kind: kind.clone(),
                source: Arc::clone(&source),
                image: Arc::clone(&image),
                offset: finding.offset,
            })
        };
        let end = self.scan_stream(&mut reader, &pieces, &mut place);
        self.note_end(what, end);
    }

    /// Every regular file of `rootfs-diff.tar`, each its own stream.
    fn rootfs(&mut self, dump: &Dump) {
        if dump.checkpoint().member_size(ROOTFS_DIFF).is_none() || self.skip_for_time() {
            return;
        }
        let mut ends: Vec<(String, StreamEnd)> = Vec::new();
        let visited = dump
            .checkpoint()
            .visit_rootfs_files(&mut |path, size, data| {
                if self.skip_for_time() {
                    return Ok(false);
                }
                let path: Arc<str> = Arc::from(path);
                let source: Arc<str> = Arc::from(format!("rootfs-diff {path}"));
                let mut place = |finding: &Finding<'_>| {
                    Some(SecretLocation::RootfsDiff {
                        source: Arc::clone(&source),
                        path: Arc::clone(&path),
                        offset: finding.offset,
                    })
                };
                let piece = Piece {
                    offset: 0,
                    at: 0,
                    len: size,
                };
                let mut reader = Sequential::new(data);
                let end = self.scan_stream(&mut reader, &[piece], &mut place);
                let go_on = !end.timed_out && end.error.is_none();
                if end.timed_out || end.error.is_some() {
                    ends.push((source.to_string(), end));
                }
                Ok(go_on)
            });
        for (what, end) in ends {
            self.note_end(what, end);
        }
        if let Err(err) = visited {
            self.incomplete.push(Incomplete {
                what: ROOTFS_DIFF.to_owned(),
                reason: checkpoint_model::error_text(&err),
            });
        }
    }

    /// Every regular member of the archive that is neither a CRIU image nor rootfs-diff.tar:
    /// the engine's files (`config.dump`, `spec.dump`, the container's log, ...), each its
    /// own stream.
    fn members(&mut self, dump: &Dump) {
        let checkpoint = dump.checkpoint();
        for member in checkpoint.members().filter(|m| is_engine_file(dump, m)) {
            if self.skip_for_time() {
                continue;
            }
            let mut reader = match checkpoint.open_member(&member.name) {
                Ok(reader) => reader,
                Err(err) => {
                    self.incomplete.push(Incomplete {
                        what: member.name.clone(),
                        reason: checkpoint_model::error_text(&err),
                    });
                    continue;
                }
            };
            let name: Arc<str> = Arc::from(member.name.as_str());
            let mut place = |finding: &Finding<'_>| {
                Some(SecretLocation::Member {
                    source: Arc::clone(&name),
                    offset: finding.offset,
                })
            };
            let piece = Piece {
                offset: 0,
                at: 0,
                len: reader.len(),
            };
            let end = self.scan_stream(&mut reader, &[piece], &mut place);
            self.note_end(member.name.clone(), end);
        }
    }

    /// Scans `pieces` of `reader` as one stream (a piece that does not continue the previous
    /// one starts a new stream), then ends it; `place` locates each finding (`None` drops it).
    /// Stops early at the deadline or on a read error; the result says which.
    fn scan_stream<R: Read + Seek + ?Sized>(
        &mut self,
        reader: &mut R,
        pieces: &[Piece],
        place: &mut dyn FnMut(&Finding<'r>) -> Option<SecretLocation>,
    ) -> StreamEnd {
        let deadline = self.deadline_instant();
        let Scan {
            scanner,
            tally,
            progress,
            bytes,
            ..
        } = self;
        let mut sink = |finding: Finding<'r>| {
            if let Some(location) = place(&finding) {
                tally.add(finding, location);
            }
            true
        };
        let mut metered = Metered {
            inner: reader,
            read: 0,
            deadline,
            timed_out: false,
            progress: &mut **progress,
        };
        let expected = pieces.iter().fold(0u64, |sum, p| sum.saturating_add(p.len));
        let mut error = None;
        for piece in pieces {
            if let Err(err) = metered.inner.seek(SeekFrom::Start(piece.at)) {
                error = Some(err);
                break;
            }
            let before = metered.read;
            let mut part = (&mut metered).take(piece.len);
            if let Err(err) = scanner.scan_reader(piece.offset, &mut part, &mut sink) {
                error = Some(err);
                break;
            }
            if metered.timed_out {
                break;
            }
            let got = metered.read - before;
            if got < piece.len {
                error = Some(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the data ends {got} bytes into the {} bytes at byte {:#x}",
                        piece.len, piece.at
                    ),
                ));
                break;
            }
        }
        scanner.finish(&mut sink);
        *bytes = bytes.saturating_add(metered.read);
        StreamEnd {
            read: metered.read,
            expected,
            timed_out: metered.timed_out,
            error,
        }
    }

    /// Records a stream that was cut short, by the budget or an error.
    fn note_end(&mut self, what: String, end: StreamEnd) {
        let progress = format!("after {} of {} bytes", end.read, end.expected);
        if let Some(err) = end.error {
            self.incomplete.push(Incomplete {
                what,
                reason: format!("{err} ({progress})"),
            });
        } else if end.timed_out {
            self.out_of_time = true;
            let reason = self.budget_reason();
            self.incomplete.push(Incomplete {
                what,
                reason: format!("{reason} {progress}"),
            });
        }
    }

    fn into_report(self, checkpoint: &str, reveal: bool) -> SecretsReport {
        let findings = self.tally.findings();
        let not_itemised = self.tally.not_itemised();
        let mut kinds: BTreeMap<String, (usize, u64)> = BTreeMap::new();
        let secrets: Vec<SecretReport> = self
            .tally
            .into_secrets()
            .into_iter()
            .map(|secret| {
                let kind = kinds.entry(secret.rule.kind().to_owned()).or_default();
                kind.0 += 1;
                kind.1 += secret.copies;
                let (value, value_escaped) = if reveal {
                    match std::str::from_utf8(&secret.value) {
                        Ok(text) => (Some(text.to_owned()), false),
                        Err(_) => (Some(escape_printable(&secret.value, usize::MAX)), true),
                    }
                } else {
                    (None, false)
                };
                SecretReport {
                    kind: secret.rule.kind().to_owned(),
                    rule: secret.rule.name().to_owned(),
                    name: secret.name,
                    masked: secret.masked,
                    value,
                    value_escaped,
                    length: secret.value.len(),
                    copies: secret.copies,
                    details: secret.details,
                    low_confidence: secret.low_confidence.map(str::to_owned),
                    locations: secret.locations,
                }
            })
            .collect();
        SecretsReport {
            checkpoint: checkpoint.to_owned(),
            secrets,
            kinds: kinds
                .into_iter()
                .map(|(kind, (secrets, copies))| KindCount {
                    kind,
                    secrets,
                    copies,
                })
                .collect(),
            findings,
            not_itemised,
            scanned_bytes: self.bytes,
            incomplete: self.incomplete,
        }
    }
}

/// A part of a stream: `len` bytes of the stream from `offset`, at byte `at` of the reader.
#[derive(Debug, Clone, Copy)]
struct Piece {
    offset: u64,
    at: u64,
    len: u64,
}

/// How the scan of one stream ended.
#[derive(Debug)]
struct StreamEnd {
    read: u64,
    expected: u64,
    timed_out: bool,
    error: Option<io::Error>,
}

/// A reader that counts what it reads, reports it as progress, and ends early (as at the end
/// of the file) once the deadline has passed.
struct Metered<'a, R: ?Sized> {
    inner: &'a mut R,
    read: u64,
    deadline: Option<Instant>,
    timed_out: bool,
    progress: &'a mut dyn FnMut(ScanEvent<'_>),
}

impl<R: Read + ?Sized> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.timed_out || self.deadline.is_some_and(|d| Instant::now() > d) {
            self.timed_out = true;
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.progress)(ScanEvent::Bytes(n as u64));
        Ok(n)
    }
}

/// The name of the VMA holding `vaddr` (empty outside every VMA), shared.
fn vma_name(layout: &MemoryLayout, vaddr: u64) -> Arc<str> {
    layout
        .vma_at(vaddr)
        .map_or_else(|| Arc::from(""), |vma| Arc::clone(&vma.name))
}

/// True for a regular member that is neither a CRIU image (nor in `checkpoint/`) nor
/// `rootfs-diff.tar`: what the engine added (`config.dump`, `spec.dump`, `bind.mounts`, the
/// container's log, `dump.log`).
fn is_engine_file(dump: &Dump, member: &MemberInfo) -> bool {
    member.kind == MemberKind::File
        && member.name != ROOTFS_DIFF
        && !member.name.starts_with("checkpoint/")
        && !dump.checkpoint().has_image(&member.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_grows_with_the_size() {
        let budget = ScanBudget {
            base: Duration::from_secs(10),
            bytes_per_second: 128 << 20,
        };
        assert_eq!(budget.for_bytes(0), Duration::from_secs(10));
        assert_eq!(budget.for_bytes(1 << 30), Duration::from_secs(18));
        assert_eq!(budget.for_bytes(64 << 20), Duration::from_millis(10_500));
        assert!(budget.for_bytes(u64::MAX) > Duration::from_secs(1 << 36));
    }

    #[test]
    fn locations_serialize_with_their_place() {
        let location = SecretLocation::Environ {
            pid: 7,
            command: Arc::from("app"),
            source: "pid 7 environ".into(),
            variable: Arc::from("DB_PASSWORD"),
            offset: 12,
            address: "0x7ffd0000".into(),
            vma: Arc::from("[stack]"),
        };
        let json = serde_json::to_value(&location).unwrap();
        assert_eq!(json["place"], "environ");
        assert_eq!(json["offset"], 12);
        assert_eq!(json["address"], "0x7ffd0000");
        let back: SecretLocation = serde_json::from_value(json).unwrap();
        assert_eq!(back, location);
        assert_eq!(back.pid(), Some(7));
        assert_eq!(back.source_offset(), Some(("pid 7 environ", 12)));
    }
}

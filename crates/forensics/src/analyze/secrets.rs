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
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Error;
use crate::memory::report::hex_address;
use crate::secrets::DETAIL_MAX;
use crate::secrets::{
    escape_printable, Details, Finding, FindingSink, Rules, Scanner, Tally, TallyLimits,
};
use checkpoint_model::dump::{Dump, MemoryLayout};
use checkpoint_model::sources::{
    self, Consumer, Origin, Piece, Selection, SharedMapping, SourceEnd, SourceError, ROOTFS_DIFF,
};

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
    /// In a file of a tmpfs mount CRIU saved (`tmpfs-dev-N.tar.gz.img`).
    Tmpfs {
        /// `tmpfs IMAGE PATH`.
        source: Arc<str>,
        /// The image.
        image: Arc<str>,
        /// The file's path in the mount.
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
            | SecretLocation::RootfsDiff { .. }
            | SecretLocation::Tmpfs { .. } => None,
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
            | SecretLocation::RootfsDiff { .. }
            | SecretLocation::Tmpfs { .. } => None,
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
            | SecretLocation::RootfsDiff { source, offset, .. }
            | SecretLocation::Tmpfs { source, offset, .. } => Some((source, *offset)),
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

/// The bytes a scan with `params` reads from the checkpoint (process memory, stored data,
/// `rootfs-diff.tar`, the engine's files), for a progress bar and the time budget.
pub fn secrets_scan_size(dump: &Dump, params: &SecretsParams) -> u64 {
    sources::walk_size(dump, &Selection { pid: params.pid })
}

/// Scans `dump` for secrets (see the module docs): the [`sources`] engine walks every byte the
/// checkpoint stores and this scan consumes it. `progress` hears what is being scanned and how
/// many bytes were read. A part that cannot be read is listed in
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
        dump,
        scanner: Scanner::new(rules),
        tally: Tally::new(params.limits),
        progress,
        bytes: 0,
        started: Instant::now(),
        allowed,
        out_of_time: false,
        incomplete: Vec::new(),
        not_scanned: 0,
        current: Current::None,
        stage: String::new(),
        remembered: HashSet::new(),
        timed_out: false,
    };
    sources::walk(dump, &Selection { pid: params.pid }, &mut scan);
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

/// The source being scanned, with what its locations need.
enum Current {
    None,
    Process {
        pid: u32,
    },
    Strings {
        pid: u32,
        command: Arc<str>,
        cmdline: bool,
        start: u64,
    },
    Stream {
        what: String,
        place: Place,
    },
}

/// How a finding of a stream is located.
enum Place {
    Memory {
        pid: u32,
        command: Arc<str>,
    },
    /// A shared object: a copy in each process that maps the bytes.
    Shared {
        mappings: Vec<SharedMapping>,
        commands: Vec<Arc<str>>,
    },
    Stored {
        kind: String,
        source: Arc<str>,
        image: Arc<str>,
    },
    Member {
        source: Arc<str>,
    },
    RootfsDiff {
        source: Arc<str>,
        path: Arc<str>,
    },
    Tmpfs {
        source: Arc<str>,
        image: Arc<str>,
        path: Arc<str>,
    },
}

/// One scan in progress: a consumer of the [`sources`] engine.
struct Scan<'d, 'r, 'p> {
    dump: &'d Dump,
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
    current: Current,
    /// The stage last announced (`pid 7`, `stored data`, ...).
    stage: String,
    /// The current process's command-line and environment findings (address, length), to
    /// recognise their copies in the memory pass.
    remembered: HashSet<(u64, usize)>,
    /// True when the deadline cut the current stream.
    timed_out: bool,
}

impl<'r> Scan<'_, 'r, '_> {
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

    /// Announces a stage once.
    fn stage(&mut self, stage: &str) {
        if self.stage != stage {
            stage.clone_into(&mut self.stage);
            (self.progress)(ScanEvent::Stage(stage));
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

    /// One argument or environment string: its findings, located.
    fn string_piece(&mut self, piece: &Piece, data: &mut dyn Read) -> io::Result<()> {
        let Current::Strings {
            pid,
            ref command,
            cmdline,
            start,
        } = self.current
        else {
            return Ok(());
        };
        let command = Arc::clone(command);
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        let found = self.scan_string(piece.offset, &bytes);
        if found.is_empty() {
            return Ok(());
        }
        let layout = self.dump.memory_map(pid).ok().map(|map| &map.layout);
        let vma_of = |vaddr: u64| layout.map_or_else(|| Arc::from(""), |l| vma_name(l, vaddr));
        let variable: Option<Arc<str>> = (!cmdline).then(|| {
            let name = bytes.split(|&b| b == b'=').next().unwrap_or_default();
            Arc::from(escape_printable(name, DETAIL_MAX))
        });
        for mut finding in found {
            let vaddr = start.saturating_add(finding.offset);
            if self.remembered.len() < MAX_REMEMBERED {
                self.remembered.insert((vaddr, finding.len()));
            }
            let location = match &variable {
                None => SecretLocation::Cmdline {
                    pid,
                    command: Arc::clone(&command),
                    source: format!("pid {pid} cmdline"),
                    offset: finding.offset,
                    address: hex_address(vaddr),
                    vma: vma_of(vaddr),
                },
                Some(variable) => {
                    finding
                        .name
                        .get_or_insert_with(|| variable.as_ref().to_owned());
                    SecretLocation::Environ {
                        pid,
                        command: Arc::clone(&command),
                        source: format!("pid {pid} environ"),
                        variable: Arc::clone(variable),
                        offset: finding.offset,
                        address: hex_address(vaddr),
                        vma: vma_of(vaddr),
                    }
                }
            };
            self.tally.add(finding, location);
        }
        Ok(())
    }

    /// One piece of a stream (memory, stored data, a file): fed to the scanner as part of one
    /// stream (a piece that does not continue the previous one starts a new stream), its
    /// findings located. Returns `false` when the deadline cut it.
    fn stream_piece(&mut self, piece: &Piece, data: &mut dyn Read) -> io::Result<bool> {
        let deadline = self.deadline_instant();
        let Scan {
            dump,
            scanner,
            tally,
            progress,
            bytes,
            current,
            remembered,
            timed_out,
            ..
        } = self;
        let Current::Stream { place, .. } = current else {
            return Ok(true);
        };
        let mut sink = Locator::new(dump, place, remembered, tally);
        let mut metered = Metered {
            inner: data,
            read: 0,
            deadline,
            timed_out: false,
            progress: &mut **progress,
        };
        let result = scanner.scan_reader(piece.offset, &mut metered, &mut sink);
        *bytes = bytes.saturating_add(metered.read);
        *timed_out = metered.timed_out;
        result.map(|_| !metered.timed_out)
    }

    /// Ends the current stream: the findings the scanner held back are located too.
    fn finish_stream(&mut self) {
        let Scan {
            dump,
            scanner,
            tally,
            current,
            remembered,
            ..
        } = self;
        if let Current::Stream { place, .. } = current {
            let mut sink = Locator::new(dump, place, remembered, tally);
            scanner.finish(&mut sink);
        }
    }

    /// Records a stream that was cut short, by the budget or an error.
    fn note_end(&mut self, what: String, end: &SourceEnd) {
        let progress = format!("after {} of {} bytes", end.read, end.expected);
        match &end.error {
            Some(SourceError::Open(reason)) => self.incomplete.push(Incomplete {
                what,
                reason: reason.clone(),
            }),
            Some(SourceError::Memory(err)) => self.incomplete.push(Incomplete {
                what,
                reason: checkpoint_model::error_text(err),
            }),
            Some(SourceError::Read(err)) => self.incomplete.push(Incomplete {
                what,
                reason: format!("{err} ({progress})"),
            }),
            None if self.timed_out => {
                self.out_of_time = true;
                let reason = self.budget_reason();
                self.incomplete.push(Incomplete {
                    what,
                    reason: format!("{reason} {progress}"),
                });
            }
            None => {}
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

impl Consumer for Scan<'_, '_, '_> {
    fn begin(&mut self, origin: &Origin<'_>) -> bool {
        self.timed_out = false;
        let (stage, current) = match *origin {
            Origin::Process { pid, .. } => {
                self.remembered.clear();
                (format!("pid {pid}"), Current::Process { pid })
            }
            Origin::CommandLine {
                pid,
                command,
                start,
            }
            | Origin::Environment {
                pid,
                command,
                start,
            } => {
                self.current = Current::Strings {
                    pid,
                    command: Arc::from(command),
                    cmdline: matches!(origin, Origin::CommandLine { .. }),
                    start,
                };
                return true;
            }
            Origin::Memory {
                pid,
                command,
                pages,
                ..
            } => {
                // The reader's name is `CHECKPOINT:MEMBER`; the report names the checkpoint.
                let image = pages.rsplit_once(':').map_or(pages, |(_, image)| image);
                let place = Place::Memory {
                    pid,
                    command: Arc::from(command),
                };
                let what = format!("pid {pid} memory ({image})");
                (self.stage.clone(), Current::Stream { what, place })
            }
            Origin::Shared {
                shmid,
                pages,
                mappings,
            } => {
                let image = pages.rsplit_once(':').map_or(pages, |(_, image)| image);
                let place = Place::Shared {
                    mappings: mappings.to_vec(),
                    commands: mappings
                        .iter()
                        .map(|m| Arc::from(m.command.as_str()))
                        .collect(),
                };
                let what = format!("shared memory {shmid} ({image})");
                (self.stage.clone(), Current::Stream { what, place })
            }
            Origin::Stored { data } => {
                let kind = serde_json::to_value(data.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let place = Place::Stored {
                    kind,
                    source: Arc::from(data.source.as_str()),
                    image: Arc::from(data.image.as_str()),
                };
                let what = format!("{} ({})", data.source, data.image);
                ("stored data".to_owned(), Current::Stream { what, place })
            }
            Origin::RootfsFile { path } => {
                let source: Arc<str> = Arc::from(format!("rootfs-diff {path}"));
                let place = Place::RootfsDiff {
                    source: Arc::clone(&source),
                    path: Arc::from(path),
                };
                let what = source.to_string();
                (ROOTFS_DIFF.to_owned(), Current::Stream { what, place })
            }
            Origin::TmpfsFile { image, path } => {
                let name = dump_image_name(image);
                let source: Arc<str> = Arc::from(format!("tmpfs {name} {path}"));
                let place = Place::Tmpfs {
                    source: Arc::clone(&source),
                    image: Arc::from(name),
                    path: Arc::from(path),
                };
                let what = source.to_string();
                ("tmpfs".to_owned(), Current::Stream { what, place })
            }
            Origin::EngineFile { member } => {
                let place = Place::Member {
                    source: Arc::from(member),
                };
                let stage = if member == ROOTFS_DIFF {
                    ROOTFS_DIFF
                } else {
                    "engine files"
                };
                let what = member.to_owned();
                (stage.to_owned(), Current::Stream { what, place })
            }
        };
        self.stage(&stage);
        if self.skip_for_time() {
            self.current = Current::None;
            return false;
        }
        self.current = current;
        true
    }

    fn piece(&mut self, piece: &Piece, data: &mut dyn Read) -> io::Result<bool> {
        match self.current {
            Current::Strings { .. } => self.string_piece(piece, data).map(|()| true),
            Current::Stream { .. } => self.stream_piece(piece, data),
            Current::None | Current::Process { .. } => Ok(true),
        }
    }

    fn end(&mut self, origin: &Origin<'_>, end: SourceEnd) -> bool {
        match std::mem::replace(&mut self.current, Current::None) {
            Current::Process { pid } => {
                if let Some(error) = &end.error {
                    self.incomplete.push(Incomplete {
                        what: format!("pid {pid}"),
                        reason: error.to_string(),
                    });
                }
            }
            Current::Strings { pid, cmdline, .. } => {
                if let Some(error) = &end.error {
                    let what = if cmdline {
                        "command line"
                    } else {
                        "environment"
                    };
                    self.incomplete.push(Incomplete {
                        what: format!("pid {pid} {what}"),
                        reason: error.to_string(),
                    });
                }
                // The memory pass of the same process follows.
                if let Some(pid) = origin.pid() {
                    self.current = Current::Process { pid };
                }
            }
            current @ Current::Stream { .. } => {
                self.current = current;
                self.finish_stream();
                let Current::Stream { what, .. } =
                    std::mem::replace(&mut self.current, Current::None)
                else {
                    return true;
                };
                self.note_end(what, &end);
                if let Some(pid) = origin.pid() {
                    self.current = Current::Process { pid };
                }
            }
            Current::None => {}
        }
        true
    }
}

/// The image's name without its directory (`tmpfs-dev-44.tar.gz.img`).
fn dump_image_name(member: &str) -> &str {
    member.rsplit_once('/').map_or(member, |(_, name)| name)
}

/// Locates the findings of a stream by its [`Place`] and hands them to the tally; a memory
/// finding at the address and length of a command-line or environment finding of the same
/// process is that copy again, and is dropped.
struct Locator<'a, 'r> {
    dump: &'a Dump,
    place: &'a Place,
    layout: Option<&'a MemoryLayout>,
    remembered: &'a HashSet<(u64, usize)>,
    tally: &'a mut Tally<'r, SecretLocation>,
}

impl<'a, 'r> Locator<'a, 'r> {
    fn new(
        dump: &'a Dump,
        place: &'a Place,
        remembered: &'a HashSet<(u64, usize)>,
        tally: &'a mut Tally<'r, SecretLocation>,
    ) -> Self {
        let layout = match place {
            Place::Memory { pid, .. } => dump.memory_map(*pid).ok().map(|map| &map.layout),
            _ => None,
        };
        Locator {
            dump,
            place,
            layout,
            remembered,
            tally,
        }
    }
}

impl<'r> FindingSink<'r> for Locator<'_, 'r> {
    fn found(&mut self, finding: Finding<'r>) -> bool {
        let location = match self.place {
            Place::Shared { mappings, commands } => {
                let len = finding.len() as u64;
                for (mapping, command) in mappings.iter().zip(commands) {
                    let Some(vaddr) = mapping.locate(finding.offset, len) else {
                        continue;
                    };
                    let vma = self
                        .dump
                        .memory_map(mapping.pid)
                        .ok()
                        .map_or_else(|| Arc::from(""), |map| vma_name(&map.layout, vaddr));
                    let location = SecretLocation::Memory {
                        pid: mapping.pid,
                        command: Arc::clone(command),
                        address: hex_address(vaddr),
                        vma,
                    };
                    self.tally.add(finding.clone(), location);
                }
                return true;
            }
            Place::Memory { pid, command } => {
                if self.remembered.contains(&(finding.offset, finding.len())) {
                    return true;
                }
                SecretLocation::Memory {
                    pid: *pid,
                    command: Arc::clone(command),
                    address: hex_address(finding.offset),
                    vma: self
                        .layout
                        .map_or_else(|| Arc::from(""), |l| vma_name(l, finding.offset)),
                }
            }
            Place::Stored {
                kind,
                source,
                image,
            } => SecretLocation::Stored {
                kind: kind.clone(),
                source: Arc::clone(source),
                image: Arc::clone(image),
                offset: finding.offset,
            },
            Place::Member { source } => SecretLocation::Member {
                source: Arc::clone(source),
                offset: finding.offset,
            },
            Place::RootfsDiff { source, path } => SecretLocation::RootfsDiff {
                source: Arc::clone(source),
                path: Arc::clone(path),
                offset: finding.offset,
            },
            Place::Tmpfs {
                source,
                image,
                path,
            } => SecretLocation::Tmpfs {
                source: Arc::clone(source),
                image: Arc::clone(image),
                path: Arc::clone(path),
                offset: finding.offset,
            },
        };
        self.tally.add(finding, location);
        true
    }
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

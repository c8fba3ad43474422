//! Reports built from decoded checkpoints: overview, process tree, files, sockets, mounts,
//! root file system changes, and the crit `x` views. Builds data only; `output` renders it.
//!
//! The container metadata comes from [`checkpoint_model::archive::Checkpoint`]; everything about processes
//! walks the [`checkpoint_model::dump::Dump`] model, loaded once when a section needs it. Zombie and dead
//! processes have no files or memory in a dump and are left out of those sections. A fact that
//! cannot be read (a process's command line whose pages are not in the checkpoint, a task whose
//! images are broken) is marked unavailable with the reason, and every other fact is reported.

mod container;
mod explore;
mod explore_report;
mod files;
pub mod indicators;
mod notify;
mod processes;
mod report;
mod secrets;
mod sockets;
mod summary;

pub use explore_report::{
    ExploreReport, FdsProcess, FdsRow, MemsProcess, MemsVma, PsRow, RssProcess, RssRun, RssVma,
};
pub use report::{
    ChangedFile, CheckpointReport, CheckpointSize, DumpStatistics, EnvironmentMap,
    EpollTargetReport, FanotifyMarkReport, FanotifyReport, FileExtras, InotifyWatchReport,
    LockReport, MetadataReport, MountReport, OpenFile, ProcessFiles, ProcessNode, ProcessSockets,
    RootfsDiffReport, SocketData, SocketNode, SysvReport, ThreadNode, TimerfdReport, Unreadable,
};
pub use secrets::{
    collect_secrets, secrets_scan_size, Incomplete, KindCount, ScanBudget, ScanEvent,
    SecretLocation, SecretReport, SecretsParams, SecretsReport,
};
pub use summary::{
    NotableFile, SocketHolder, SummaryIndicator, SummaryMemory, SummaryProcess,
    SummaryProcessMemory, SummaryReport, SummaryRootfs, SummarySecrets, SummarySocket,
    SummaryTotals, LIST_CAP,
};

pub(crate) use files::{describe_proc, open_file};
pub(crate) use sockets::socket_node;

use checkpoint_model::archive::Checkpoint;
use checkpoint_model::dump::{Dump, Task};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Archive(#[from] checkpoint_model::archive::Error),
    /// Decoding or validating the checkpoint's images failed.
    #[error(transparent)]
    Dump(#[from] checkpoint_model::dump::Error),
    /// The secret-detection rule table is unusable (a bug in the built-in table).
    #[error(transparent)]
    SecretRules(#[from] crate::secrets::Error),
}

/// Which sections a report holds besides the overview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections {
    /// CRIU dump statistics.
    pub stats: bool,
    /// Pod, namespace, annotations.
    pub metadata: bool,
    /// The process tree.
    pub ps_tree: bool,
    /// Command lines in the process tree.
    pub cmdline: bool,
    /// Environments in the process tree.
    pub env: bool,
    /// Open files.
    pub files: bool,
    /// Sockets.
    pub sockets: bool,
    /// Mount points.
    pub mounts: bool,
    /// Root file system changes.
    pub rootfs_diff: bool,
    /// Compromise indicators ([`indicators`]).
    pub indicators: bool,
    /// The forensic summary (the default view of one checkpoint).
    pub summary: bool,
    /// Limit the process views (tree, files, sockets) to this process and its descendants.
    pub pid: Option<u32>,
}

impl Sections {
    /// Every section.
    pub fn all() -> Sections {
        Sections {
            stats: true,
            metadata: true,
            ps_tree: true,
            cmdline: true,
            env: true,
            files: true,
            sockets: true,
            mounts: true,
            rootfs_diff: true,
            indicators: true,
            summary: true,
            pid: None,
        }
    }

    /// True when a section needs the decoded images, not only the container metadata,
    /// statistics and root file system changes: without one, the checkpoint can be opened
    /// without indexing its images ([`checkpoint_model::archive::OpenParams::index_images`]).
    pub fn needs_dump(&self) -> bool {
        self.ps_tree || self.files || self.sockets || self.mounts || self.indicators || self.summary
    }
}

/// crit's `x` views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExploreView {
    /// `ps`.
    Ps,
    /// `fds`.
    Fds,
    /// `mems`.
    Mems,
    /// `rss`.
    Rss,
}

/// Builds the report of one checkpoint; `source` is the path as the user gave it. The images
/// are decoded (and validated) only when a section needs them.
pub fn collect_report(
    checkpoint: Checkpoint,
    source: &str,
    sections: &Sections,
) -> Result<CheckpointReport, Error> {
    let metadata = container::collect_metadata(&checkpoint)?;
    let mut report = CheckpointReport {
        checkpoint: source.to_owned(),
        ..CheckpointReport::default()
    };
    container::fill_overview(&mut report, &checkpoint, metadata.as_ref());
    if sections.stats {
        match container::collect_statistics(&checkpoint) {
            Ok(statistics) => report.statistics = statistics,
            Err(err) => report.unavailable.push(Unreadable {
                field: "statistics".to_owned(),
                reason: checkpoint_model::error_text(&err),
            }),
        }
    }
    if sections.metadata {
        report.metadata = Some(container::build_metadata_report(metadata.as_ref()));
    }
    // The root fs diff is read once for both its section (where an unreadable diff is an
    // error) and the summary (which then leaves its changes out).
    let rootfs = if sections.rootfs_diff {
        Some(checkpoint.rootfs_diff()?)
    } else if sections.summary {
        checkpoint.rootfs_diff().ok()
    } else {
        None
    };
    if sections.rootfs_diff {
        report.rootfs_diff = rootfs.as_ref().map(container::rootfs_diff_report);
    }
    if sections.needs_dump() {
        let dump = Dump::load(checkpoint)?;
        report.unavailable.extend(unreadable_images(&dump));
        // Every process's indicators, for the summary; the indicators section reuses them
        // unless `--pid` narrows it.
        let mut all_indicators = None;
        if sections.summary {
            let found = indicators::collect(&dump);
            let secrets =
                secrets::collect_secrets(&dump, &SecretsParams::default(), &mut |_| {}).ok();
            report.summary = Some(summary::build_summary(
                &dump,
                rootfs.as_ref(),
                &found,
                secrets.as_ref(),
            ));
            all_indicators = Some(found);
        }
        if let Some(pid) = sections.pid {
            dump.task(pid)?;
        }
        if sections.ps_tree {
            report.process_tree = processes::build_process_tree(&dump, sections);
        }
        if sections.files {
            report.file_descriptors = Some(files::collect_files(&dump, sections));
            report.sysv_shm = Some(files::collect_sysv(&dump));
        }
        if sections.sockets {
            report.sockets = Some(sockets::collect_sockets(&dump, sections));
        }
        if sections.mounts {
            match container::collect_mounts(&dump) {
                Ok(mounts) => report.mounts = Some(mounts),
                Err(err) => report.unavailable.push(Unreadable {
                    field: "mounts".to_owned(),
                    reason: checkpoint_model::error_text(&err),
                }),
            }
        }
        if sections.indicators {
            report.indicators = Some(match (all_indicators, sections.pid) {
                (Some(found), None) => found,
                _ => indicators::collect_for(&dump, selected_tasks(&dump, sections)),
            });
        }
    }
    Ok(report)
}

/// The facts of the whole checkpoint that `dump` could not read (see
/// [`Dump::unavailable`]), as report entries.
pub fn unreadable_images(dump: &Dump) -> Vec<Unreadable> {
    dump.unavailable()
        .iter()
        .map(|fact| Unreadable {
            field: fact.what.to_owned(),
            reason: fact.reason.clone(),
        })
        .collect()
}

/// One of crit's `x` views of a checkpoint, and the facts it could not read (the images of the
/// whole checkpoint that could not be, and the processes left out of the view), each with the
/// reason: the verb reports them on stderr and exits 1.
#[derive(Debug, Clone)]
pub struct Explored {
    /// The view.
    pub report: ExploreReport,
    /// What could not be read, as `PLACE: FACT cannot be read: REASON` lines.
    pub unreadable: Vec<String>,
}

/// Builds one of crit's `x` views of a checkpoint. A process whose images the view needs cannot
/// be read is left out of it and named in [`Explored::unreadable`]; the others are shown. `ps`
/// reads the task tree alone (`pstree.img` and the cores, as crit does), so the images of the
/// whole checkpoint are read, and their failures reported, by the other views only.
pub fn collect_explore(checkpoint: Checkpoint, view: ExploreView) -> Result<Explored, Error> {
    let dump = Dump::load(checkpoint)?;
    let whole = match view {
        ExploreView::Ps => Vec::new(),
        ExploreView::Fds | ExploreView::Mems | ExploreView::Rss => unreadable_images(&dump),
    };
    let mut unreadable: Vec<String> = whole
        .iter()
        .map(|fact| format!("{} cannot be read: {}", fact.field, fact.reason))
        .collect();
    let mut skipped = |pid: u32, err: checkpoint_model::dump::Error| {
        unreadable.push(format!(
            "pid {pid}: left out of the view: {}",
            checkpoint_model::error_text(&err)
        ));
    };
    let report = match view {
        ExploreView::Ps => ExploreReport::Ps(explore::build_ps(&dump, &mut skipped)),
        ExploreView::Fds => ExploreReport::Fds(files::collect_explore_fds(&dump, &mut skipped)),
        ExploreView::Mems => ExploreReport::Mems(explore::build_mems(&dump, &mut skipped)),
        ExploreView::Rss => ExploreReport::Rss(explore::build_rss(&dump, &mut skipped)),
    };
    Ok(Explored { report, unreadable })
}

/// The tasks a process view covers: all in `pstree.img` order, or `--pid`'s subtree depth first.
fn selected_tasks<'d>(dump: &'d Dump, sections: &Sections) -> Vec<&'d Task> {
    let tree = dump.tree();
    match sections.pid.and_then(|pid| tree.index_of(pid)) {
        Some(start) => tree
            .depth_first(Some(start))
            .into_iter()
            .filter_map(|(index, _)| tree.tasks().get(index))
            .collect(),
        None => tree.tasks().iter().collect(),
    }
}

/// The facts of a report that could not be read, one line each (`pid N: FIELD cannot be read:
/// REASON`); the verb reports them on stderr and exits 1.
pub fn unreadable_facts(report: &CheckpointReport) -> Vec<String> {
    fn walk(node: &ProcessNode, out: &mut Vec<String>) {
        for fact in &node.unavailable {
            out.push(format!(
                "pid {}: {} cannot be read: {}",
                node.pid, fact.field, fact.reason
            ));
        }
        for child in &node.children {
            walk(child, out);
        }
    }
    let mut out: Vec<String> = report
        .unavailable
        .iter()
        .map(|fact| format!("{} cannot be read: {}", fact.field, fact.reason))
        .collect();
    if let Some(root) = &report.process_tree {
        walk(root, &mut out);
    }
    for skipped in report.indicators.iter().flat_map(|i| &i.not_checked) {
        let kinds: Vec<&str> = skipped.kinds.iter().map(|k| k.name()).collect();
        out.push(format!(
            "pid {}: indicators {} cannot be checked: {}",
            skipped.pid,
            kinds.join(", "),
            skipped.reason
        ));
    }
    for process in report.file_descriptors.iter().flatten() {
        if let Some(reason) = &process.unavailable {
            out.push(format!(
                "pid {}: files cannot be read: {reason}",
                process.pid
            ));
        }
    }
    out
}

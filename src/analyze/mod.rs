//! Reports built from decoded checkpoints: overview, process tree, files, sockets, mounts,
//! root file system changes, and the crit `x` views. Builds data only; `output` renders it.
//!
//! Everything is read through [`crate::archive::Checkpoint`] and decoded by [`crate::criu`]; each
//! image is decoded when a section needs it. Processes are found through `pstree.img`, never by
//! listing `core-*.img`. Zombie and dead processes have no files or memory in a dump and are
//! left out of those sections.

mod container;
mod explore;
mod explore_report;
mod files;
mod images;
mod processes;
mod report;
mod sockets;

pub use explore_report::{
    ExploreReport, FdsProcess, FdsRow, MemsProcess, MemsVma, PsRow, RssProcess, RssRun, RssVma,
};
pub use report::{
    ChangedFile, CheckpointReport, CheckpointSize, DumpStatistics, MetadataReport, MountReport,
    OpenFile, ProcessFiles, ProcessNode, ProcessSockets, RootfsDiffReport, SocketData, SocketNode,
};

use crate::archive::Checkpoint;
use images::Images;
use processes::TaskTree;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Archive(#[from] crate::archive::Error),
    /// Decoding an image failed.
    #[error(transparent)]
    Criu(#[from] crate::criu::Error),
    /// Reading a process's argv or environment out of its dumped memory failed.
    #[error("pid {pid}: reading its {what} failed")]
    ProcessMemory {
        /// The process.
        pid: u32,
        /// `memory`, `command line` or `environment`.
        what: &'static str,
        /// The cause.
        #[source]
        source: crate::memory::Error,
    },
    /// An image that must hold an entry holds none.
    #[error("{image}: the image holds no entry")]
    EmptyImage {
        /// Archive and image.
        image: String,
    },
    /// An image that the dump needs is missing.
    #[error("{image}: missing from the checkpoint")]
    MissingImage {
        /// Archive and image.
        image: String,
    },
    /// `pstree.img` does not describe one tree.
    #[error("{image}: {problem}")]
    BadProcessTree {
        /// Archive and image.
        image: String,
        /// What is wrong.
        problem: String,
    },
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
        }
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

/// Builds the report of one checkpoint; `source` is the path as the user gave it.
pub fn collect_report(
    checkpoint: &Checkpoint,
    source: &str,
    sections: &Sections,
) -> Result<CheckpointReport, Error> {
    let images = Images::new(checkpoint);
    let metadata = container::collect_metadata(&images)?;
    let mut report = CheckpointReport {
        checkpoint: source.to_owned(),
        ..CheckpointReport::default()
    };
    container::fill_overview(&mut report, &images, metadata.as_ref());
    if sections.stats {
        report.statistics = container::collect_statistics(&images)?;
    }
    if sections.metadata {
        report.metadata = Some(container::build_metadata_report(metadata.as_ref()));
    }
    let needs_tree = sections.ps_tree || sections.files || sections.sockets || sections.mounts;
    if needs_tree {
        let tree = TaskTree::collect(&images)?;
        if sections.ps_tree {
            report.process_tree = Some(processes::build_process_tree(&images, &tree, sections)?);
        }
        if sections.files {
            report.file_descriptors = Some(files::collect_files(&images, &tree)?);
        }
        if sections.sockets {
            report.sockets = Some(sockets::collect_sockets(&images, &tree)?);
        }
        if sections.mounts {
            let root_pid = tree.tasks.get(tree.root).map_or(0, |task| task.entry.pid);
            report.mounts = Some(container::collect_mounts(&images, root_pid)?);
        }
    }
    if sections.rootfs_diff {
        report.rootfs_diff = Some(container::collect_rootfs_diff(&images)?);
    }
    Ok(report)
}

/// Builds one of crit's `x` views of a checkpoint.
pub fn collect_explore(checkpoint: &Checkpoint, view: ExploreView) -> Result<ExploreReport, Error> {
    let images = Images::new(checkpoint);
    let tree = TaskTree::collect(&images)?;
    Ok(match view {
        ExploreView::Ps => ExploreReport::Ps(explore::build_ps(&tree)),
        ExploreView::Fds => ExploreReport::Fds(files::collect_explore_fds(&images, &tree)?),
        ExploreView::Mems => ExploreReport::Mems(explore::build_mems(&images, &tree)?),
        ExploreView::Rss => ExploreReport::Rss(explore::build_rss(&images, &tree)?),
    })
}

//! `diff`: what changed between two checkpoints (of one container at two times, or of two
//! containers). Builds a [`DiffReport`]; `output` renders it.
//!
//! Each checkpoint is decoded and validated once ([`Dump::load`]); the sections compare:
//! - metadata: engine, container, image, times, pod, annotations ([`container`]);
//! - processes by pid: added, removed, and for those in both their ids, name, state, command
//!   line, executable, cwd, root, environment strings and threads ([`processes`]);
//! - descriptors and sockets by pid and descriptor number, for processes in both;
//! - memory, for processes in both: mappings added, removed or resized, and per mapping the
//!   pages whose contents differ ([`memory`], streamed: memory use does not grow with the
//!   checkpoints);
//! - the root file system changes by path, files by their sha256 (streamed).
//!
//! # What is refused, and what is only marked
//! A checkpoint that cannot be opened, or whose process tree cannot be read, is an error. A part
//! that cannot be read in one of them (a process's memory, an image of the whole checkpoint such
//! as `fifo-data.img`, a `rootfs-diff.tar`) is listed in [`DiffReport::not_compared`] with the
//! reason, and every other part is compared; a value one side does not know is not compared.

mod container;
mod memory;
mod processes;
mod report;

pub use memory::CHUNK;
pub use report::{
    Changes, DiffReport, FdChange, FdSummary, FieldChange, MemoryChanges, MetadataField,
    NotCompared, PageRange, ProcessChange, ProcessSummary, RootfsChange, RootfsEntry, SocketChange,
    SocketSummary, VmaChange, VmaResize, VmaSummary,
};

use checkpoint_model::archive::Checkpoint;
use checkpoint_model::dump::Dump;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a checkpoint failed.
    #[error(transparent)]
    Archive(#[from] checkpoint_model::archive::Error),
    /// Decoding or validating a checkpoint's images failed.
    #[error(transparent)]
    Dump(#[from] checkpoint_model::dump::Error),
}

/// What to compare beyond the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffParams {
    /// Keep the ranges of changed pages of each mapping (`--memory`), not only their count.
    pub page_ranges: bool,
}

/// Compares checkpoint `old` with `new`; `old_name` and `new_name` are the paths as the user
/// gave them.
pub fn collect_diff(
    old: Checkpoint,
    old_name: &str,
    new: Checkpoint,
    new_name: &str,
    params: &DiffParams,
) -> Result<DiffReport, Error> {
    let old_fields = container::metadata_fields(&old)?;
    let new_fields = container::metadata_fields(&new)?;
    let old = Dump::load(old)?;
    let new = Dump::load(new)?;
    let mut report = DiffReport {
        old: old_name.to_owned(),
        new: new_name.to_owned(),
        metadata: container::diff_metadata(&old_fields, &new_fields),
        ..DiffReport::default()
    };
    for dump in [&old, &new] {
        for fact in dump.unavailable() {
            report.not_compared.push(NotCompared {
                pid: None,
                what: fact.what.to_owned(),
                reason: fact.reason.clone(),
            });
        }
    }
    let mut both = Vec::new();
    report.processes = processes::diff_processes(&old, &new, &mut report.not_compared, &mut both);
    (report.files, report.sockets) =
        processes::diff_descriptors(&old, &new, &both, &mut report.not_compared);
    for &pid in &both {
        memory::diff_process(
            &old,
            &new,
            pid,
            params.page_ranges,
            &mut report.memory,
            &mut report.not_compared,
        );
    }
    report.rootfs_diff =
        container::collect_rootfs(old.checkpoint(), new.checkpoint(), &mut report.not_compared);
    Ok(report)
}

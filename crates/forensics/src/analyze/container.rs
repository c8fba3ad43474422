//! The container-level parts of a report: overview (metadata and sizes), CRIU dump statistics,
//! Kubernetes metadata, mounts and root file system changes.

use super::{
    ChangedFile, CheckpointReport, CheckpointSize, DumpStatistics, Error, MetadataReport,
    MountReport, RootfsDiffReport,
};
use checkpoint_model::archive::{Checkpoint, ContainerMetadata, Engine, RootfsDiff};
use checkpoint_model::dump::Dump;

/// The container metadata, or an empty one for a bare CRIU image directory.
pub(crate) fn collect_metadata(
    checkpoint: &Checkpoint,
) -> Result<Option<ContainerMetadata>, Error> {
    if checkpoint.engine() == Engine::ImagesOnly {
        return Ok(None);
    }
    Ok(Some(checkpoint.metadata()?))
}

/// Fills the overview fields: names, times, engine, IP, pod, namespace and sizes.
pub(crate) fn fill_overview(
    report: &mut CheckpointReport,
    checkpoint: &Checkpoint,
    metadata: Option<&ContainerMetadata>,
) {
    let sizes = checkpoint.sizes();
    report.checkpoint_size = CheckpointSize {
        total_size: sizes.archive_bytes,
        memory_pages_size: sizes.pages_bytes,
        root_fs_diff_size: sizes.rootfs_diff_bytes.unwrap_or(0),
    };
    let Some(metadata) = metadata else {
        return;
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    report.container_name = text(&metadata.name);
    report.image = text(&metadata.image);
    report.image_id = metadata
        .image_ref
        .clone()
        .filter(|id| *id != report.image)
        .unwrap_or_default();
    report.id = text(&metadata.id);
    report.runtime = text(&metadata.runtime);
    report.created = text(&metadata.created);
    report.checkpointed = text(&metadata.checkpointed);
    report.engine = metadata.engine.to_string();
    report.ip = text(&metadata.ip);
    report.pod = text(&metadata.pod);
    report.namespace = text(&metadata.namespace);
}

/// The `--metadata` section.
pub(crate) fn build_metadata_report(metadata: Option<&ContainerMetadata>) -> MetadataReport {
    let Some(metadata) = metadata else {
        return MetadataReport::default();
    };
    MetadataReport {
        pod_name: metadata.pod.clone().unwrap_or_default(),
        kubernetes_namespace: metadata.namespace.clone().unwrap_or_default(),
        annotations: metadata.annotations.clone(),
    }
}

/// The `--stats` section from `stats-dump`; `None` when the checkpoint has none.
pub(crate) fn collect_statistics(checkpoint: &Checkpoint) -> Result<Option<DumpStatistics>, Error> {
    let Some(dump) = checkpoint_model::dump::read_dump_statistics(checkpoint)? else {
        return Ok(None);
    };
    Ok(Some(DumpStatistics {
        freezing_time: dump.freezing_time,
        frozen_time: dump.frozen_time,
        memdump_time: dump.memdump_time,
        memwrite_time: dump.memwrite_time,
        pages_scanned: dump.pages_scanned,
        pages_skipped_parent: dump.pages_skipped_parent,
        pages_written: dump.pages_written,
        pages_lazy: Some(dump.pages_lazy),
        page_pipes: dump.page_pipes,
        page_pipe_bufs: dump.page_pipe_bufs,
        irmap_resolve: dump.irmap_resolve,
        shpages_scanned: dump.shpages_scanned,
        shpages_skipped_parent: dump.shpages_skipped_parent,
        shpages_written: dump.shpages_written,
    }))
}

/// The `--mounts` section (see [`Dump::mounts`]).
pub(crate) fn collect_mounts(dump: &Dump) -> Result<Vec<MountReport>, Error> {
    Ok(dump
        .mounts()?
        .into_iter()
        .map(|mount| MountReport {
            destination: mount.destination,
            fs_type: mount.fs_type,
            source: mount.source,
            root: mount.root,
            options: mount.options,
        })
        .collect())
}

/// The `--rootfs-diff` section.
pub(crate) fn rootfs_diff_report(diff: &RootfsDiff) -> RootfsDiffReport {
    RootfsDiffReport {
        changed: diff
            .changed
            .iter()
            .map(|file| ChangedFile {
                path: file.name.clone(),
                kind: file.kind.short_name().to_owned(),
                size: file.size,
            })
            .collect(),
        deleted: diff.deleted.clone(),
        incomplete: diff.incomplete.clone(),
    }
}

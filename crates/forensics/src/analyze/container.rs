//! The container-level parts of a report: overview (metadata and sizes), CRIU dump statistics,
//! Kubernetes metadata, mounts and root file system changes.

use serde::Deserialize;

use super::{
    ChangedFile, CheckpointReport, CheckpointSize, DumpStatistics, Error, MetadataReport,
    MountReport, RootfsDiffReport,
};
use checkpoint_images::messages::{Fstype, MntEntry, StatsEntry};
use checkpoint_images::read_entries;
use checkpoint_model::archive::{Checkpoint, ContainerMetadata, Engine, MemberKind, RootfsDiff};
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
    let Some(bytes) = checkpoint.stats_dump()? else {
        return Ok(None);
    };
    let label = format!("{}: stats-dump", checkpoint.display_name());
    let entries = read_entries::<StatsEntry>(&label, &bytes)?;
    let Some(dump) = entries.into_iter().next().and_then(|entry| entry.dump) else {
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

/// The file system type of a mount: `fsname` when CRIU kept it, else the `fstype` name;
/// `other` for file systems CRIU handles generically (its `UNSUPPORTED`, e.g. ext4 binds).
fn fs_type_name(mount: &MntEntry) -> String {
    if let Some(name) = mount.fsname.as_ref().filter(|name| !name.is_empty()) {
        return name.clone();
    }
    let fstype = i32::try_from(mount.fstype).unwrap_or(-1);
    match Fstype::try_from(fstype) {
        Ok(Fstype::OVERLAYFS) => "overlay".to_owned(),
        Ok(Fstype::UNSUPPORTED) => "other".to_owned(),
        Ok(_) => Fstype::proto_name(fstype)
            .map_or_else(|| mount.fstype.to_string(), str::to_ascii_lowercase),
        Err(_) => mount.fstype.to_string(),
    }
}

/// The mounts of `spec.dump` (OCI runtime spec), for checkpoints without mountpoints images.
#[derive(Debug, Deserialize)]
struct SpecMounts {
    #[serde(default)]
    mounts: Vec<SpecMount>,
}

#[derive(Debug, Deserialize)]
struct SpecMount {
    #[serde(default)]
    destination: String,
    #[serde(default, rename = "type")]
    fs_type: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    options: Vec<String>,
}

/// The `--mounts` section: the root process's mount namespace (`mountpoints-ID.img`), by
/// mount point; else the mounts of `spec.dump`; else none.
pub(crate) fn collect_mounts(dump: &Dump) -> Result<Vec<MountReport>, Error> {
    let mnt_ns_id = dump
        .tree()
        .root()
        .and_then(|root| dump.resources(root.pid))
        .and_then(|resources| resources.ids.as_ref().ok())
        .and_then(|ids| ids.mnt_ns_id);
    if let Some(mnt_ns_id) = mnt_ns_id {
        let name = format!("mountpoints-{mnt_ns_id}.img");
        if dump.checkpoint().has_image(&name) {
            let mut mounts: Vec<MountReport> = dump
                .decode::<MntEntry>(&name)?
                .into_iter()
                .map(|mount| MountReport {
                    fs_type: fs_type_name(&mount),
                    destination: mount.mountpoint,
                    source: mount.source,
                    options: mount.options,
                    root: if mount.root == "/" {
                        String::new()
                    } else {
                        mount.root
                    },
                })
                .collect();
            mounts.sort_by(|a, b| a.destination.cmp(&b.destination));
            return Ok(mounts);
        }
    }
    let checkpoint = dump.checkpoint();
    let Some(bytes) = checkpoint.read_member("spec.dump")? else {
        return Ok(Vec::new());
    };
    let spec: SpecMounts = serde_json::from_slice(&bytes).map_err(|source| Error::ParseSpec {
        archive: checkpoint.display_name().to_owned(),
        source,
    })?;
    Ok(spec
        .mounts
        .into_iter()
        .map(|mount| MountReport {
            destination: mount.destination,
            fs_type: mount.fs_type,
            source: mount.source,
            options: mount.options.join(","),
            root: String::new(),
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
                kind: match file.kind {
                    MemberKind::File => "file",
                    MemberKind::Directory => "dir",
                    MemberKind::Symlink => "symlink",
                    MemberKind::Hardlink => "hardlink",
                    MemberKind::Other => "other",
                }
                .to_owned(),
                size: file.size,
            })
            .collect(),
        deleted: diff.deleted.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_types() {
        let mount = |fstype: u32, fsname: Option<&str>| MntEntry {
            fstype,
            fsname: fsname.map(str::to_owned),
            ..MntEntry::default()
        };
        assert_eq!(fs_type_name(&mount(1, None)), "proc");
        assert_eq!(fs_type_name(&mount(17, None)), "overlay");
        assert_eq!(fs_type_name(&mount(0, None)), "other");
        assert_eq!(fs_type_name(&mount(16, Some("ext4"))), "ext4");
        assert_eq!(fs_type_name(&mount(99, None)), "99");
    }
}

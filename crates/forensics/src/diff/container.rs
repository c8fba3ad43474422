//! The container-level parts of a diff: metadata (engine, names, image, times, annotations)
//! and the root file system changes (`rootfs-diff.tar` and `deleted.files`), whose files are
//! compared by their sha256, streamed.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::report::{Changes, FieldChange, MetadataField, NotCompared, RootfsChange, RootfsEntry};
use checkpoint_model::archive::{Checkpoint, ContainerMetadata, Engine};

/// The metadata fields of a checkpoint, in a fixed order: `(field, value)`, absent facts left
/// out. A bare CRIU image directory has none.
pub(super) fn metadata_fields(
    checkpoint: &Checkpoint,
) -> Result<Vec<(String, String)>, checkpoint_model::archive::Error> {
    if checkpoint.engine() == Engine::ImagesOnly {
        return Ok(Vec::new());
    }
    Ok(build_metadata_fields(&checkpoint.metadata()?))
}

fn build_metadata_fields(metadata: &ContainerMetadata) -> Vec<(String, String)> {
    let mut fields = vec![("engine".to_owned(), metadata.engine.to_string())];
    for (name, value) in [
        ("container", &metadata.name),
        ("id", &metadata.id),
        ("image", &metadata.image),
        ("image ref", &metadata.image_ref),
        ("runtime", &metadata.runtime),
        ("created", &metadata.created),
        ("checkpointed", &metadata.checkpointed),
        ("ip", &metadata.ip),
        ("pod", &metadata.pod),
        ("namespace", &metadata.namespace),
        ("cwd", &metadata.cwd),
    ] {
        if let Some(value) = value {
            fields.push((name.to_owned(), value.clone()));
        }
    }
    if !metadata.command.is_empty() {
        fields.push(("command".to_owned(), metadata.command.join(" ")));
    }
    for (key, value) in &metadata.annotations {
        fields.push((format!("annotation {key}"), value.clone()));
    }
    fields
}

/// The metadata section.
pub(super) fn diff_metadata(
    old: &[(String, String)],
    new: &[(String, String)],
) -> Changes<MetadataField, FieldChange> {
    let mut out = Changes::default();
    let find = |fields: &[(String, String)], name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
    };
    for (field, value) in new {
        match find(old, field) {
            None => out.added.push(MetadataField {
                field: field.clone(),
                value: value.clone(),
            }),
            Some(before) if &before != value => {
                out.changed
                    .push(FieldChange::changed(field, before, value.clone()))
            }
            Some(_) => {}
        }
    }
    for (field, value) in old {
        if find(new, field).is_none() {
            out.removed.push(MetadataField {
                field: field.clone(),
                value: value.clone(),
            });
        }
    }
    out
}

/// One path of the root file system changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RootfsState {
    kind: &'static str,
    size: u64,
    /// sha256 of a regular file's contents.
    sha256: Option<String>,
}

/// Every path of `rootfs-diff.tar` (files with their sha256) and of `deleted.files` (kind
/// `deleted`), by path.
pub(super) fn rootfs_states(
    checkpoint: &Checkpoint,
) -> Result<BTreeMap<String, RootfsState>, checkpoint_model::archive::Error> {
    let diff = checkpoint.rootfs_diff()?;
    let mut states = BTreeMap::new();
    for file in diff.changed {
        let kind = file.kind.short_name();
        states.insert(
            file.name,
            RootfsState {
                kind,
                size: file.size,
                sha256: None,
            },
        );
    }
    for path in diff.deleted {
        states.insert(
            path,
            RootfsState {
                kind: "deleted",
                size: 0,
                sha256: None,
            },
        );
    }
    let mut buf = vec![0u8; 64 * 1024];
    checkpoint.visit_rootfs_files(&mut |path, _, data| {
        let mut hasher = Sha256::new();
        loop {
            let n = data.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(buf.get(..n).unwrap_or_default());
        }
        if let Some(state) = states.get_mut(path) {
            state.sha256 = Some(hex::encode(hasher.finalize()));
        }
        Ok(true)
    })?;
    Ok(states)
}

/// The root file system section.
pub(super) fn diff_rootfs(
    old: &BTreeMap<String, RootfsState>,
    new: &BTreeMap<String, RootfsState>,
) -> Changes<RootfsEntry, RootfsChange> {
    let entry = |path: &str, state: &RootfsState| RootfsEntry {
        path: path.to_owned(),
        kind: state.kind.to_owned(),
        size: state.size,
    };
    let mut out = Changes::default();
    for (path, state) in new {
        let Some(before) = old.get(path) else {
            out.added.push(entry(path, state));
            continue;
        };
        let mut changes = Vec::new();
        if before.kind != state.kind {
            changes.push(FieldChange::changed("kind", before.kind, state.kind));
        }
        if before.size != state.size {
            changes.push(FieldChange::changed(
                "size",
                before.size.to_string(),
                state.size.to_string(),
            ));
        }
        if before.sha256 != state.sha256 {
            changes.push(FieldChange {
                field: "sha256".to_owned(),
                old: before.sha256.clone(),
                new: state.sha256.clone(),
            });
        }
        if !changes.is_empty() {
            out.changed.push(RootfsChange {
                path: path.clone(),
                changes,
            });
        }
    }
    for (path, state) in old {
        if !new.contains_key(path) {
            out.removed.push(entry(path, state));
        }
    }
    out
}

/// The root file system section of two checkpoints; a `rootfs-diff.tar` that cannot be read is
/// not compared.
pub(super) fn collect_rootfs(
    old: &Checkpoint,
    new: &Checkpoint,
    not_compared: &mut Vec<NotCompared>,
) -> Changes<RootfsEntry, RootfsChange> {
    match rootfs_states(old).and_then(|before| Ok((before, rootfs_states(new)?))) {
        Ok((before, after)) => diff_rootfs(&before, &after),
        Err(err) => {
            not_compared.push(NotCompared {
                pid: None,
                what: "rootfs-diff".to_owned(),
                reason: checkpoint_model::error_text(&err),
            });
            Changes::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn metadata_fields_are_added_removed_or_changed() {
        let old = fields(&[("image", "a:1"), ("pod", "p"), ("ip", "10.0.0.1")]);
        let new = fields(&[("image", "a:2"), ("pod", "p"), ("namespace", "n")]);
        let diff = diff_metadata(&old, &new);
        assert_eq!(
            diff.changed,
            vec![FieldChange::changed("image", "a:1", "a:2")]
        );
        assert_eq!(diff.added.len(), 1);
        assert_eq!(diff.added[0].field, "namespace");
        assert_eq!(diff.removed[0].field, "ip");
        assert!(diff_metadata(&old, &old).is_empty());
    }

    #[test]
    fn rootfs_paths_compare_kind_size_and_contents() {
        let state = |kind, size, sha: Option<&str>| RootfsState {
            kind,
            size,
            sha256: sha.map(str::to_owned),
        };
        let old = BTreeMap::from([
            ("etc/a".to_owned(), state("file", 3, Some("aa"))),
            ("etc/b".to_owned(), state("file", 3, Some("bb"))),
            ("etc/gone".to_owned(), state("deleted", 0, None)),
        ]);
        let new = BTreeMap::from([
            ("etc/a".to_owned(), state("file", 3, Some("a2"))),
            ("etc/b".to_owned(), state("file", 3, Some("bb"))),
            ("etc/c".to_owned(), state("dir", 0, None)),
        ]);
        let diff = diff_rootfs(&old, &new);
        assert_eq!(diff.added[0].path, "etc/c");
        assert_eq!(diff.removed[0].kind, "deleted");
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(diff.changed[0].changes[0].field, "sha256");
    }
}

//! The annotations of a checkpoint image: the ones CRI-O reads, and our provenance record.
//!
//! CRI-O (server/container_restore.go, pkg/annotations) treats an image as a checkpoint to
//! restore when its manifest carries `io.kubernetes.cri-o.annotations.checkpoint.name`, whatever
//! the value; that is the only annotation its restore checks. It then mounts the image and reads
//! `spec.dump` and `config.dump` from its root, so the layer is the archive itself. CRI-O's own
//! checkpoint images also name the original image (`rawImageName`, `rootfsImageName`,
//! `rootfsImageID`): we write those from config.dump as well.
//!
//! Ours, under `io.kubectl-checkpoint.`, say where the checkpoint came from (pod, namespace,
//! container, node, image, when it was taken), what the archive was (name, size, sha256: equal
//! to the layer digest of an uncompressed archive), the container spec a restore needs (ports,
//! resources) and, when the archive was fetched with this tool, its chain-of-custody record as
//! JSON. [`decode_provenance`] reads them back for `restore IMAGE`. Values are text from the
//! archive and the cluster: they are shown through the binary's escaping like any other.

use std::collections::BTreeMap;

use checkpoint_model::archive::{CustodyRecord, RecordedSpec};
use serde::Serialize;

/// The annotation CRI-O restores by.
pub const CHECKPOINT_NAME: &str = "io.kubernetes.cri-o.annotations.checkpoint.name";
/// CRI-O: the image the container was created from, as the pod asked for it.
pub const CHECKPOINT_RAW_IMAGE_NAME: &str =
    "io.kubernetes.cri-o.annotations.checkpoint.rawImageName";
/// CRI-O: the original image's ID.
pub const CHECKPOINT_ROOTFS_IMAGE_ID: &str =
    "io.kubernetes.cri-o.annotations.checkpoint.rootfsImageID";
/// CRI-O: the original image's name.
pub const CHECKPOINT_ROOTFS_IMAGE_NAME: &str =
    "io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName";
/// The prefix of our own annotations.
pub const OURS: &str = "io.kubectl-checkpoint.";

/// Where a checkpoint came from and what it holds, as the image records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The container's name (CRI-O's `checkpoint.name`).
    pub container: String,
    /// The pod it ran in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The pod's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The node the archive was taken on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The engine that wrote the archive (`cri-o`, `containerd`, `podman`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The original image, as the pod asked for it (config.dump `rootfsImage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_requested: Option<String>,
    /// The original image's name (config.dump `rootfsImageName`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The original image's ID (config.dump `rootfsImageRef`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// When the checkpoint was taken (RFC 3339, as the archive says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpointed: Option<String>,
    /// The archive's file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_name: Option<String>,
    /// The archive's sha256 (hex).
    pub archive_sha256: String,
    /// The archive's size in bytes.
    pub archive_size: u64,
    /// `NODE:PATH` of the archive on its node, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The container spec a restore uses.
    pub spec: RecordedSpec,
    /// The chain-of-custody record of the fetch, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody: Option<CustodyRecord>,
    /// The tool that built the image (`kubectl-checkpoint/VERSION`).
    pub tool: String,
}

/// One of our annotation keys.
fn ours(key: &str) -> String {
    format!("{OURS}{key}")
}

/// The annotations of `provenance`: CRI-O's and ours.
pub fn build_annotations(provenance: &Provenance) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |key: String, value: Option<&str>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.insert(key, value.to_string());
        }
    };
    put(CHECKPOINT_NAME.into(), Some(&provenance.container));
    put(
        CHECKPOINT_RAW_IMAGE_NAME.into(),
        provenance.image_requested.as_deref(),
    );
    put(
        CHECKPOINT_ROOTFS_IMAGE_NAME.into(),
        provenance.image.as_deref(),
    );
    put(
        CHECKPOINT_ROOTFS_IMAGE_ID.into(),
        provenance.image_id.as_deref(),
    );
    put(ours("container"), Some(&provenance.container));
    put(ours("pod"), provenance.pod.as_deref());
    put(ours("namespace"), provenance.namespace.as_deref());
    put(ours("node"), provenance.node.as_deref());
    put(ours("engine"), provenance.engine.as_deref());
    put(ours("image"), provenance.image.as_deref());
    put(ours("checkpointed"), provenance.checkpointed.as_deref());
    put(ours("archive.name"), provenance.archive_name.as_deref());
    put(ours("archive.sha256"), Some(&provenance.archive_sha256));
    put(
        ours("archive.size"),
        Some(&provenance.archive_size.to_string()),
    );
    put(ours("source"), provenance.source.as_deref());
    if provenance.spec != RecordedSpec::default() {
        put(
            ours("spec"),
            serde_json::to_string(&provenance.spec).ok().as_deref(),
        );
    }
    if let Some(custody) = &provenance.custody {
        put(
            ours("custody"),
            serde_json::to_string(custody).ok().as_deref(),
        );
    }
    put(ours("tool"), Some(&provenance.tool));
    out
}

/// What `restore IMAGE` learns from an image's annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageProvenance {
    /// CRI-O's `checkpoint.name`: `None` when the image is not a checkpoint image CRI-O would
    /// restore.
    pub container: Option<String>,
    /// The original pod.
    pub pod: Option<String>,
    /// The original namespace.
    pub namespace: Option<String>,
    /// The original node.
    pub node: Option<String>,
    /// The original image.
    pub image: Option<String>,
    /// When the checkpoint was taken.
    pub checkpointed: Option<String>,
    /// The archive's sha256 (hex).
    pub archive_sha256: Option<String>,
    /// The recorded container spec (empty when the image does not carry ours: ports and
    /// resources are then left to the user).
    pub spec: RecordedSpec,
    /// Whether our annotations are there at all (an image built by buildah has CRI-O's only).
    pub ours: bool,
}

/// Reads the annotations `build_annotations` writes (and CRI-O's, on any checkpoint image).
/// A value that does not parse is left out: the image is input like any other.
pub fn decode_provenance(annotations: &BTreeMap<String, String>) -> ImageProvenance {
    let get = |key: &str| annotations.get(key).filter(|v| !v.is_empty()).cloned();
    let spec = get(&ours("spec"))
        .and_then(|json| serde_json::from_str::<RecordedSpec>(&json).ok())
        .unwrap_or_default();
    ImageProvenance {
        container: get(CHECKPOINT_NAME),
        pod: get(&ours("pod")),
        namespace: get(&ours("namespace")),
        node: get(&ours("node")),
        image: get(&ours("image")).or_else(|| get(CHECKPOINT_ROOTFS_IMAGE_NAME)),
        checkpointed: get(&ours("checkpointed")),
        archive_sha256: get(&ours("archive.sha256")),
        spec,
        ours: annotations.keys().any(|k| k.starts_with(OURS)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_model::archive::{RecordedPort, RecordedResources};

    #[test]
    fn annotations_read_back() {
        let provenance = Provenance {
            container: "app".into(),
            pod: Some("counter".into()),
            namespace: Some("ckpt".into()),
            node: Some("realk8s-crio".into()),
            image: Some("docker.io/library/busybox:1.36".into()),
            checkpointed: Some("2026-12-07T08:00:00Z".into()),
            archive_sha256: "ab".repeat(32),
            archive_size: 10240,
            spec: RecordedSpec {
                ports: vec![RecordedPort {
                    name: None,
                    container_port: 80,
                    protocol: Some("TCP".into()),
                }],
                resources: RecordedResources {
                    memory_limit_bytes: Some(1 << 27),
                    ..RecordedResources::default()
                },
                mounts: Vec::new(),
            },
            tool: "kubectl-checkpoint/0.1.0".into(),
            ..Provenance::default()
        };
        let annotations = build_annotations(&provenance);
        assert_eq!(annotations[CHECKPOINT_NAME], "app");
        assert_eq!(
            annotations["io.kubectl-checkpoint.archive.sha256"],
            "ab".repeat(32)
        );
        let back = decode_provenance(&annotations);
        assert_eq!(back.container.as_deref(), Some("app"));
        assert_eq!(back.pod.as_deref(), Some("counter"));
        assert_eq!(back.spec, provenance.spec);
        assert!(back.ours);
    }

    #[test]
    fn a_buildah_image_has_only_the_name() {
        let mut annotations = BTreeMap::new();
        annotations.insert(CHECKPOINT_NAME.to_string(), "app".to_string());
        let back = decode_provenance(&annotations);
        assert_eq!(back.container.as_deref(), Some("app"));
        assert!(!back.ours);
        assert_eq!(back.spec, RecordedSpec::default());
        let none = decode_provenance(&BTreeMap::new());
        assert!(none.container.is_none());
    }
}

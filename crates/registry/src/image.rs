//! The OCI documents of a checkpoint image: its config, its manifest, and the index and
//! `oci-layout` file of an image layout. Building them is pure (`build_*`): bytes in, bytes out,
//! tested without a registry or a file system.
//!
//! The structs are ours rather than oci-spec's (which oci-client brings in) for one reason: their
//! annotations are a `BTreeMap`, so the same image always serialises to the same bytes and the
//! same digest, where oci-spec's `HashMap` would order the keys differently from run to run. The
//! tests read every document back through oci-spec's types, as a check of their structure.
//!
//! One image has one layer: the checkpoint archive itself, as the kubelet wrote it. An
//! uncompressed tar is `application/vnd.oci.image.layer.v1.tar`, and its digest, its diff ID
//! and the archive's sha256 are one and the same; a gzip or zstd archive is the matching
//! compressed media type, whose diff ID is the sha256 of the tar inside.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// `application/vnd.oci.image.manifest.v1+json`.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.config.v1+json`.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// `application/vnd.oci.image.index.v1+json`.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation of an image layout's index entry that names its tag.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// How the layer (the archive) is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerCompression {
    /// A plain tar (what the kubelet writes).
    None,
    /// gzip.
    Gzip,
    /// zstd (Podman's export default).
    Zstd,
}

impl LayerCompression {
    /// The layer media type for this compression.
    pub fn media_type(self) -> &'static str {
        match self {
            LayerCompression::None => "application/vnd.oci.image.layer.v1.tar",
            LayerCompression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            LayerCompression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// The compression of a file that starts with `head` (its first bytes).
    pub fn of_head(head: &[u8]) -> LayerCompression {
        match head {
            [0x1f, 0x8b, ..] => LayerCompression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => LayerCompression::Zstd,
            _ => LayerCompression::None,
        }
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// Annotations of this reference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor of `bytes` with `media_type`.
    pub fn of_bytes(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }

    /// The hex part of the digest (`sha256:` removed).
    pub fn hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

/// An image manifest (schema 2, OCI media type: docker's v2s2 manifests have no annotations,
/// and CRI-O finds a checkpoint image by its manifest's annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`].
    pub media_type: String,
    /// The config blob.
    pub config: Descriptor,
    /// The one layer: the archive.
    pub layers: Vec<Descriptor>,
    /// CRI-O's and our annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image config: no command and no environment (a checkpoint image is never run as an
/// ordinary image), the one diff ID, and the annotations again as labels (what `podman inspect`
/// and `crictl inspecti` show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// When the image was built (RFC 3339).
    pub created: String,
    /// `amd64`, `arm64`: the architecture this tool runs on (restores need the same).
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// The runtime config: labels only.
    pub config: RuntimeConfig,
    /// The layers' diff IDs.
    pub rootfs: RootFs,
}

/// The `config` part of an image config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    /// The annotations, as labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// The `rootfs` part of an image config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256:<hex>` of each layer's uncompressed tar.
    pub diff_ids: Vec<String>,
}

/// The index of an image layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// [`INDEX_MEDIA_TYPE`].
    pub media_type: String,
    /// The manifests, with their tags in [`REF_NAME_ANNOTATION`].
    pub manifests: Vec<Descriptor>,
}

/// The layer as it was read: its digest and size, and the diff ID of the tar inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// The layer's descriptor (digest = sha256 of the archive's bytes).
    pub descriptor: Descriptor,
    /// `sha256:<hex>` of the uncompressed tar (equal to the digest for a plain tar).
    pub diff_id: String,
    /// How the archive is compressed.
    pub compression: LayerCompression,
}

impl Layer {
    /// The layer of an archive of `size` bytes with sha256 `sha256_hex`, whose uncompressed tar
    /// has sha256 `diff_id_hex`.
    pub fn new(
        compression: LayerCompression,
        size: u64,
        sha256_hex: &str,
        diff_id_hex: &str,
    ) -> Layer {
        Layer {
            descriptor: Descriptor {
                media_type: compression.media_type().to_string(),
                digest: format!("sha256:{sha256_hex}"),
                size,
                annotations: BTreeMap::new(),
            },
            diff_id: format!("sha256:{diff_id_hex}"),
            compression,
        }
    }
}

/// The documents of one checkpoint image, serialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDocuments {
    /// The config blob's bytes.
    pub config: Vec<u8>,
    /// The manifest's bytes (what the registry stores and the digest is of).
    pub manifest: Vec<u8>,
    /// The manifest's descriptor (its digest is the image's digest).
    pub manifest_descriptor: Descriptor,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The architecture name OCI uses for the machine this runs on.
pub fn build_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The config and manifest of the image whose one layer is `layer`, with `annotations` on the
/// manifest (and as the config's labels); `created` is RFC 3339.
pub fn build_image(
    layer: &Layer,
    annotations: &BTreeMap<String, String>,
    created: &str,
) -> ImageDocuments {
    let config = ImageConfig {
        created: created.to_string(),
        architecture: build_architecture().to_string(),
        os: "linux".to_string(),
        config: RuntimeConfig {
            labels: annotations.clone(),
        },
        rootfs: RootFs {
            kind: "layers".to_string(),
            diff_ids: vec![layer.diff_id.clone()],
        },
    };
    let config = to_json(&config);
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE.to_string(),
        config: Descriptor::of_bytes(CONFIG_MEDIA_TYPE, &config),
        layers: vec![layer.descriptor.clone()],
        annotations: annotations.clone(),
    };
    let manifest = to_json(&manifest);
    let manifest_descriptor = Descriptor::of_bytes(MANIFEST_MEDIA_TYPE, &manifest);
    ImageDocuments {
        config,
        manifest,
        manifest_descriptor,
    }
}

/// The `index.json` of an image layout holding `image`, tagged `tag` when given.
pub fn build_index(image: &ImageDocuments, tag: Option<&str>) -> Vec<u8> {
    let mut entry = image.manifest_descriptor.clone();
    if let Some(tag) = tag {
        entry
            .annotations
            .insert(REF_NAME_ANNOTATION.to_string(), tag.to_string());
    }
    to_json(&Index {
        schema_version: 2,
        media_type: INDEX_MEDIA_TYPE.to_string(),
        manifests: vec![entry],
    })
}

/// The `oci-layout` file.
pub fn build_oci_layout() -> Vec<u8> {
    br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()
}

/// Serialises one of our document structs; they hold only strings, numbers and string maps,
/// so this cannot fail.
fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> Layer {
        Layer::new(
            LayerCompression::None,
            10240,
            &"ab".repeat(32),
            &"ab".repeat(32),
        )
    }

    #[test]
    fn the_same_image_has_the_same_digest() {
        let mut annotations = BTreeMap::new();
        for i in 0..20 {
            annotations.insert(format!("key.{i}"), format!("value {i}"));
        }
        let a = build_image(&layer(), &annotations, "2026-12-07T00:00:00Z");
        let b = build_image(&layer(), &annotations.clone(), "2026-12-07T00:00:00Z");
        assert_eq!(a, b);
        assert_eq!(a.manifest_descriptor.digest, sha256_digest(&a.manifest));
    }

    #[test]
    fn media_types_follow_the_compression() {
        for (head, compression, media_type) in [
            (
                &b"ustar"[..],
                LayerCompression::None,
                "application/vnd.oci.image.layer.v1.tar",
            ),
            (
                &[0x1f, 0x8b, 8][..],
                LayerCompression::Gzip,
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            (
                &[0x28, 0xb5, 0x2f, 0xfd][..],
                LayerCompression::Zstd,
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
        ] {
            assert_eq!(LayerCompression::of_head(head), compression);
            assert_eq!(compression.media_type(), media_type);
        }
    }

    #[test]
    fn documents_have_the_oci_shape() {
        let mut annotations = BTreeMap::new();
        annotations.insert(
            "io.kubernetes.cri-o.annotations.checkpoint.name".to_string(),
            "app".to_string(),
        );
        let image = build_image(&layer(), &annotations, "2026-12-07T00:00:00Z");
        let manifest: serde_json::Value = serde_json::from_slice(&image.manifest).unwrap();
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(
            manifest["layers"][0]["digest"],
            format!("sha256:{}", "ab".repeat(32))
        );
        assert_eq!(
            manifest["annotations"]["io.kubernetes.cri-o.annotations.checkpoint.name"],
            "app"
        );
        let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();
        assert_eq!(config["rootfs"]["type"], "layers");
        assert!(config["config"].get("Cmd").is_none());
        let index: serde_json::Value =
            serde_json::from_slice(&build_index(&image, Some("v1"))).unwrap();
        assert_eq!(
            index["manifests"][0]["annotations"][REF_NAME_ANNOTATION],
            "v1"
        );
        assert_eq!(
            index["manifests"][0]["digest"],
            image.manifest_descriptor.digest.as_str()
        );
    }
}

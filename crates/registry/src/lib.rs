//! Checkpoint images: an OCI image whose one layer is a kubelet checkpoint archive, as CRI-O
//! restores it; built without extracting the archive, pushed to a registry or written as an OCI
//! image layout.
//!
//! - `image`: the documents (config, manifest, index), pure;
//! - `provenance`: the annotations CRI-O reads and our provenance record, and reading them back;
//! - `layer`: the archive read once as the layer (digest, diff ID), and the two layout writers
//!   (`oci:DIR`, `oci-archive:FILE`), synchronous;
//! - `credentials`: the user's registry credentials where docker and podman keep them;
//! - `push`: the registry IO, async, through oci-client.
//!
//! This crate is apart from `checkpoint-cluster` because a registry is not a cluster: `image
//! --output oci:DIR` and a push need no kubeconfig, and the cluster crate needs no HTTP client
//! of its own. Nothing here prints; errors are types with the registry and the action named, and
//! a hint ([`Error::hint`]) the binary shows on lines of its own.

mod credentials;
mod image;
mod layer;
mod provenance;
mod push;

pub use credentials::{build_auth_files, collect_credentials, Credentials};
pub use image::{
    build_architecture, build_image, build_index, build_oci_layout, sha256_digest, Descriptor,
    ImageConfig, ImageDocuments, Index, Layer, LayerCompression, Manifest, CONFIG_MEDIA_TYPE,
    INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, REF_NAME_ANNOTATION,
};
pub use layer::{
    write_oci_archive, write_oci_dir, Annotate, ImageParams, LayerSource, WrittenImage, CHUNK_BYTES,
};
pub use provenance::{
    build_annotations, decode_provenance, ImageProvenance, Provenance, CHECKPOINT_NAME,
    CHECKPOINT_RAW_IMAGE_NAME, CHECKPOINT_ROOTFS_IMAGE_ID, CHECKPOINT_ROOTFS_IMAGE_NAME, OURS,
};
pub use push::{
    build_scheme, collect_image, is_loopback, parse_reference, push_image, Pushed, RegistryParams,
    RemoteImage, Scheme,
};

/// The image reference type (`registry/repository[:tag][@digest]`).
pub use oci_client::Reference;

use std::path::PathBuf;

/// What went wrong building, writing, pushing or reading a checkpoint image.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The archive could not be read.
    #[error("reading {}: {source}", path.display())]
    ReadArchive {
        /// The archive.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A compressed archive does not decompress (its diff ID cannot be computed).
    #[error("{}: the archive does not decompress: {reason}", path.display())]
    Decompress {
        /// The archive.
        path: PathBuf,
        /// The decoder's complaint.
        reason: String,
    },
    /// Where the layer went (a file, an upload) stopped taking it.
    #[error("writing the layer: {0}")]
    Sink(#[source] std::io::Error),
    /// An output file or directory could not be written.
    #[error("writing {}: {source}", path.display())]
    WriteOutput {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The output exists: evidence is never replaced silently.
    #[error("{} exists (or is a directory that is not empty); choose another output", path.display())]
    OutputExists {
        /// The file or directory.
        path: PathBuf,
    },
    /// The image reference does not parse.
    #[error("{input:?} is not an image reference ({reason}); write REGISTRY/REPOSITORY[:TAG], e.g. 127.0.0.1:5000/ckpt/app:v1")]
    Reference {
        /// What was given.
        input: String,
        /// Why not.
        reason: String,
    },
    /// The credentials could not be read.
    #[error("registry credentials from {from}: {reason}")]
    Credentials {
        /// The file or helper.
        from: String,
        /// What is wrong.
        reason: String,
    },
    /// The registry refused the credentials (or their absence).
    #[error("registry {registry}, {action}: authentication failed ({message})")]
    AuthFailed {
        /// The registry.
        registry: String,
        /// What was being done.
        action: String,
        /// The registry's words.
        message: String,
        /// No credentials were found for it.
        anonymous: bool,
    },
    /// The registry could not be reached, or answered that it is unavailable.
    #[error("registry {registry}, {action}: unreachable ({reason})")]
    Unavailable {
        /// The registry.
        registry: String,
        /// What was being done.
        action: String,
        /// Why.
        reason: String,
    },
    /// The registry answers TLS with plain HTTP, and plain HTTP was not allowed.
    #[error("registry {registry} speaks plain HTTP, and plain HTTP is used only for a registry on this machine (localhost, 127.0.0.0/8, ::1)")]
    PlainHttpServer {
        /// The registry.
        registry: String,
    },
    /// The registry answered with an error.
    #[error("registry {registry}, {action}: {message}")]
    Registry {
        /// The registry.
        registry: String,
        /// What was being done.
        action: String,
        /// Its answer.
        message: String,
    },
    /// The image does not exist.
    #[error("image {reference} not found in its registry")]
    NotFound {
        /// The reference.
        reference: String,
    },
    /// The image is not one CRI-O would restore.
    #[error("image {reference} is not a checkpoint image: {reason}")]
    NotACheckpointImage {
        /// The reference.
        reference: String,
        /// Why not.
        reason: String,
    },
    /// The archive is not the copy its custody manifest describes.
    #[error("{}: {reason}", path.display())]
    Custody {
        /// The archive.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
}

impl Error {
    /// What the user can do about this error, in our own words, on lines of its own.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::AuthFailed { anonymous: true, .. } => Some(
                "no credentials were found for this registry: log in with `docker login REGISTRY` or `podman login REGISTRY` (kubectl-checkpoint reads ~/.docker/config.json, REGISTRY_AUTH_FILE and credential helpers)",
            ),
            Error::AuthFailed { anonymous: false, .. } => Some(
                "the registry refused these credentials: log in again (`docker login REGISTRY` or `podman login REGISTRY`), and check that the user may push to this repository",
            ),
            Error::Unavailable { .. } => Some(
                "check the registry's address and port, and that it runs (`curl -sS https://REGISTRY/v2/` answers 200 or 401)",
            ),
            Error::PlainHttpServer { .. } => Some(
                "pass --insecure to send the image over plain HTTP anyway (anyone on the network can read and change it), or give the registry a TLS certificate",
            ),
            Error::NotACheckpointImage { .. } => Some(
                "a checkpoint image carries the annotation io.kubernetes.cri-o.annotations.checkpoint.name; build one with `kubectl checkpoint image ARCHIVE REF`",
            ),
            _ => None,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! A checkpoint image made of a local archive and sent where it goes (a registry, `oci:DIR`,
//! `oci-archive:FILE`): what `image`, `restore ARCHIVE` and `migrate` share.
//!
//! The archive is opened once for its metadata (container, pod, image, spec.dump's ports and
//! resources), then read once as the layer; its custody manifest (when it was fetched with this
//! tool) is read beside it and checked against the layer's hash, in that same pass, before the
//! manifest is written or pushed: an archive that is not the fetched copy makes no image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::progress::Activity;
use crate::Error;
use checkpoint_cluster::Progress;
use checkpoint_model::archive::{self, Checkpoint, CustodyRecord};
use checkpoint_registry::{
    self as registry, ImageParams, Layer, LayerSource, Provenance, RegistryParams,
};

/// Where an image goes.
#[derive(Debug, Clone)]
pub(super) enum Destination {
    /// Pushed to a registry.
    Registry(RegistryParams),
    /// An OCI image layout directory.
    OciDir(PathBuf),
    /// An OCI image layout as a tar.
    OciArchive(PathBuf),
}

/// `oci:DIR` or `oci-archive:FILE`; `None` for anything else.
pub(super) fn parse_layout(text: &str) -> Option<Destination> {
    if let Some(dir) = text.strip_prefix("oci:") {
        return Some(Destination::OciDir(PathBuf::from(dir)));
    }
    text.strip_prefix("oci-archive:")
        .map(|file| Destination::OciArchive(PathBuf::from(file)))
}

/// The registry destination of `reference`, with the user's credentials for it.
pub(super) fn registry_destination(
    reference: &str,
    insecure: bool,
) -> Result<RegistryParams, Error> {
    let reference = registry::parse_reference(reference)?;
    let files =
        registry::build_auth_files(|k| std::env::var(k).ok(), std::env::home_dir().as_deref());
    let credentials = registry::collect_credentials(reference.resolve_registry(), &files)?;
    Ok(RegistryParams {
        reference,
        insecure,
        credentials,
    })
}

/// Where the archive came from, when this run fetched it.
#[derive(Debug, Clone, Default)]
pub(super) struct Origin {
    /// `NODE:PATH`.
    pub source: Option<String>,
    /// The node.
    pub node: Option<String>,
}

/// How the archive compares with its custody manifest.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CustodyCheck {
    /// The manifest.
    pub manifest: PathBuf,
    /// True when the archive is the copy it describes (size and sha256).
    pub matches: bool,
}

/// What `image` made, as `-o json|yaml` prints it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ImageRecord {
    /// The image: `REGISTRY/REPOSITORY@sha256:...`, `oci:DIR` or `oci-archive:FILE`.
    pub image: String,
    /// The manifest's digest.
    pub digest: String,
    /// `registry`, `oci` or `oci-archive`.
    pub destination: &'static str,
    /// The reference pushed (with its tag), for a registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `http` or `https`, for a registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<registry::Scheme>,
    /// Where the registry credentials came from (none: anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_from: Option<String>,
    /// The layer: the archive.
    pub layer: Layer,
    /// The archive the layer is.
    pub archive: PathBuf,
    /// The custody manifest beside it, checked against the layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody: Option<CustodyCheck>,
    /// This run fetched the archive into a temp directory (gone when it ends).
    #[serde(skip)]
    pub fetched_now: bool,
    /// What the annotations record.
    pub provenance: Provenance,
}

impl ImageRecord {
    /// The one line `image` prints: the image by digest (a registry's is what a pod's `image`
    /// takes), or the layout and its digest.
    pub fn render_line(&self) -> String {
        match self.destination {
            "registry" => self.image.clone(),
            _ => format!("{}  {}", self.image, self.digest),
        }
    }
}

/// The provenance of `path` as far as the archive and its custody manifest say (the archive's
/// sha256 and size are filled in once it is read), and the custody record.
fn read_provenance(
    path: &Path,
    origin: &Origin,
    container: Option<&str>,
) -> Result<(Provenance, Option<CustodyRecord>), Error> {
    let checkpoint = Checkpoint::open(path)?;
    let meta = checkpoint.metadata()?;
    let spec = checkpoint.recorded_spec()?;
    let custody = match archive::read_custody(path) {
        Some(Ok(record)) => Some(record),
        Some(Err(status)) => {
            crate::messages::warning(format_args!(
                "{}: {}; the image records no custody",
                status.manifest.display(),
                status.problem.unwrap_or_default()
            ));
            None
        }
        None => None,
    };
    let engine = meta.engine;
    if !matches!(engine, archive::Engine::CriO | archive::Engine::Podman) {
        crate::messages::warning(format_args!(
            "{} was written by {}: CRI-O restores checkpoints CRI-O (or Podman) wrote, so a pod will not restore this image",
            path.display(),
            engine
        ));
    }
    let container = container
        .map(str::to_string)
        .or(meta.name.clone())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{} names no container (no config.dump or spec.dump says it): give it with -c NAME",
                path.display()
            ))
        })?;
    let (source, node) = match (&origin.source, &custody) {
        (Some(source), _) => (Some(source.clone()), origin.node.clone()),
        (None, Some(record)) => (
            Some(format!("{}:{}", record.source.node, record.source.path)),
            Some(record.source.node.clone()),
        ),
        (None, None) => (None, None),
    };
    let config_requested = meta.annotations.get("io.kubernetes.cri-o.Image").cloned();
    Ok((
        Provenance {
            container,
            pod: meta.pod.clone(),
            namespace: meta.namespace.clone(),
            node,
            engine: Some(engine.to_string()),
            image_requested: config_requested.or(meta.image.clone()),
            image: meta.image.clone(),
            image_id: meta.image_ref.clone(),
            checkpointed: meta.checkpointed.clone(),
            archive_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            archive_sha256: String::new(),
            archive_size: 0,
            source,
            spec,
            custody: custody.clone(),
            tool: checkpoint_cluster::USER_AGENT.to_string(),
        },
        custody,
    ))
}

/// Builds the image of the archive `path` and sends it to `destination`, with a progress bar
/// when `show_progress`. `container` names the container when the archive does not; `tag` is
/// what a layout's index records (a registry's comes from its reference).
pub(super) fn ship(
    rt: Option<&tokio::runtime::Runtime>,
    path: &Path,
    origin: &Origin,
    container: Option<&str>,
    destination: &Destination,
    tag: Option<&str>,
    show_progress: bool,
) -> Result<ImageRecord, Error> {
    let (provenance, custody) = read_provenance(path, origin, container)?;
    let source = LayerSource::open(path)?;
    let activity = Arc::new(Activity::new(show_progress));
    let what = match destination {
        Destination::Registry(params) => format!("pushing to {}", params.registry()),
        Destination::OciDir(dir) => format!("writing {}", dir.display()),
        Destination::OciArchive(file) => format!("writing {}", file.display()),
    };
    activity.start(&what, source.size, 0);
    let created = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let custody_path = archive::custody::custody_path(path);
    let annotate = |layer: &Layer| -> Result<BTreeMap<String, String>, registry::Error> {
        let sha256 = layer.descriptor.hex().to_string();
        if let Some(record) = &custody {
            if let Some(reason) = archive::judge_copy(record, layer.descriptor.size, &sha256) {
                return Err(registry::Error::Custody {
                    path: path.to_path_buf(),
                    reason,
                });
            }
        }
        let mut provenance = provenance.clone();
        provenance.archive_sha256 = sha256;
        provenance.archive_size = layer.descriptor.size;
        Ok(registry::build_annotations(&provenance))
    };
    let (image, digest, layer, kind) = match destination {
        Destination::Registry(params) => {
            let rt = match rt {
                Some(rt) => rt,
                None => return Err(Error::Usage("a push needs the async runtime".into())),
            };
            let bar = Arc::clone(&activity);
            let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |done| bar.position(done));
            let (pushed, _) = rt.block_on(registry::push_image(
                params, source, &annotate, &created, progress,
            ))?;
            (pushed.image, pushed.digest, pushed.layer, "registry")
        }
        Destination::OciDir(dir) => {
            let params = ImageParams {
                annotate: &annotate,
                tag,
                created: &created,
            };
            let written =
                registry::write_oci_dir(source, dir, &params, &mut |done| activity.position(done))?;
            (
                format!("oci:{}", dir.display()),
                written.documents.manifest_descriptor.digest,
                written.layer,
                "oci",
            )
        }
        Destination::OciArchive(file) => {
            let params = ImageParams {
                annotate: &annotate,
                tag,
                created: &created,
            };
            let written = registry::write_oci_archive(source, file, &params, &mut |done| {
                activity.position(done)
            })?;
            (
                format!("oci-archive:{}", file.display()),
                written.documents.manifest_descriptor.digest,
                written.layer,
                "oci-archive",
            )
        }
    };
    activity.finish();
    let mut provenance = provenance;
    provenance.archive_sha256 = layer.descriptor.hex().to_string();
    provenance.archive_size = layer.descriptor.size;
    let (reference, scheme, credentials_from) = match destination {
        Destination::Registry(params) => (
            Some(params.reference.whole()),
            Some(params.scheme()),
            params.credentials.as_ref().map(|c| c.from.clone()),
        ),
        _ => (None, None, None),
    };
    Ok(ImageRecord {
        image,
        digest,
        destination: kind,
        reference,
        scheme,
        credentials_from,
        custody: custody.map(|_| CustodyCheck {
            manifest: custody_path,
            matches: true,
        }),
        archive: path.to_path_buf(),
        fetched_now: origin.source.is_some(),
        layer,
        provenance,
    })
}

/// The notes `image` adds on stderr: what the layer is, and how the custody record travels.
pub(super) fn note_image(record: &ImageRecord) {
    if record.layer.compression == registry::LayerCompression::None {
        crate::messages::note(format_args!(
            "the layer is the archive as it is: layer digest {} = the archive's sha256 ({})",
            record.layer.descriptor.digest,
            crate::output::human_size(record.layer.descriptor.size)
        ));
    }
    match &record.custody {
        Some(_) if record.fetched_now => crate::messages::note(format_args!(
            "the image carries the custody record of this run's fetch (annotation {}custody)",
            registry::OURS
        )),
        Some(custody) => crate::messages::note(format_args!(
            "the archive is the copy {} describes; the image carries that record (annotation {}custody)",
            custody.manifest.display(),
            registry::OURS
        )),
        None => {}
    }
    if record.scheme == Some(registry::Scheme::Http) {
        crate::messages::note("sent over plain HTTP (a registry on this machine, or --insecure)");
    }
}

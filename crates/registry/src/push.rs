//! Registry IO through oci-client: pushing a checkpoint image (the layer streamed in chunks,
//! then the config and the manifest) and reading an image's manifest for `restore IMAGE`.
//!
//! oci-client's `push_blob_stream_chunked` takes a stream of chunks and hashes them as they are
//! sent, so the archive is read once, in [`crate::CHUNK_BYTES`] chunks, by a blocking thread that
//! hands them over a bounded channel (two chunks in flight at most: memory stays at a few MiB
//! whatever the archive's size), and its sha256 comes back as the layer digest.
//!
//! Plain HTTP: for a registry on a loopback address (`localhost`, `127.0.0.0/8`, `::1`), or with
//! `--insecure`; anywhere else HTTPS, and a server that answers TLS with plain HTTP is reported
//! as such, with the flag that allows it ([`build_scheme`]). Credentials (see `credentials`) are
//! sent only as oci-client's Basic or Bearer authorization, and never shown.

use std::collections::BTreeMap;
use std::sync::Once;
use std::time::Duration;

use bytes::Bytes;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde::Serialize;

use crate::credentials::Credentials;
use crate::image::{self, Descriptor, ImageDocuments, Layer, Manifest, MANIFEST_MEDIA_TYPE};
use crate::layer::LayerSource;
use crate::{Error, Result};

/// The `User-Agent` of registry requests.
const USER_AGENT: &str = concat!("kubectl-checkpoint/", env!("CARGO_PKG_VERSION"));

/// How requests reach the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// TLS.
    Https,
    /// Plain HTTP: a loopback registry, or `--insecure`.
    Http,
}

/// True for a registry host on this machine: `localhost`, `127.0.0.0/8`, `::1`.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(host, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                host
            } else {
                registry
            }
        }),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Plain HTTP only for a loopback registry or when asked (`--insecure`).
pub fn build_scheme(registry: &str, insecure: bool) -> Scheme {
    if insecure || is_loopback(registry) {
        Scheme::Http
    } else {
        Scheme::Https
    }
}

/// Parses an image reference (`registry/repository[:tag][@digest]`; no registry: Docker Hub).
pub fn parse_reference(input: &str) -> Result<Reference> {
    input.parse::<Reference>().map_err(|err| Error::Reference {
        input: input.to_string(),
        reason: err.to_string(),
    })
}

/// Where and how to reach a registry.
#[derive(Debug, Clone)]
pub struct RegistryParams {
    /// The image reference.
    pub reference: Reference,
    /// `--insecure`: plain HTTP even to a registry that is not on this machine.
    pub insecure: bool,
    /// The credentials found for it (`None`: anonymous).
    pub credentials: Option<Credentials>,
}

impl RegistryParams {
    /// The registry's `host[:port]`.
    pub fn registry(&self) -> &str {
        self.reference.resolve_registry()
    }

    /// How requests go there.
    pub fn scheme(&self) -> Scheme {
        build_scheme(self.registry(), self.insecure)
    }

    fn auth(&self) -> RegistryAuth {
        match &self.credentials {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password().to_string()),
            None => RegistryAuth::Anonymous,
        }
    }

    fn client(&self) -> Client {
        install_crypto();
        Client::new(ClientConfig {
            protocol: match self.scheme() {
                Scheme::Http => ClientProtocol::Http,
                Scheme::Https => ClientProtocol::Https,
            },
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(120)),
            user_agent: USER_AGENT,
            ..ClientConfig::default()
        })
    }
}

/// rustls needs one process-wide crypto provider; ring is the one the rest of the tree uses.
fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err: a provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    /// `registry/repository@sha256:...`: the image, by digest.
    pub image: String,
    /// The reference as given (with its tag).
    pub reference: String,
    /// The manifest's digest (the image's digest).
    pub digest: String,
    /// The layer (the archive).
    pub layer: Layer,
    /// How requests went (`http` or `https`).
    pub scheme: Scheme,
    /// Where the credentials came from (`None`: anonymous).
    pub credentials_from: Option<String>,
}

/// Turns an oci-client error of `action` into ours.
fn classify(params: &RegistryParams, action: &str, err: OciDistributionError) -> Error {
    let registry = params.registry().to_string();
    let action = action.to_string();
    match err {
        OciDistributionError::AuthenticationFailure(message) => Error::AuthFailed {
            registry,
            action,
            message: first_line(&message),
            anonymous: params.credentials.is_none(),
        },
        OciDistributionError::UnauthorizedError { .. } => Error::AuthFailed {
            registry,
            action,
            message: "HTTP 401".to_string(),
            anonymous: params.credentials.is_none(),
        },
        OciDistributionError::ServerError { code, message, .. } if code == 401 || code == 403 => {
            Error::AuthFailed {
                registry,
                action,
                message: format!("HTTP {code}: {}", first_line(&message)),
                anonymous: params.credentials.is_none(),
            }
        }
        OciDistributionError::ServerError { code, message, .. } if code >= 500 => {
            Error::Unavailable {
                registry,
                action,
                reason: format!("HTTP {code}: {}", first_line(&message)),
            }
        }
        OciDistributionError::ServerError { code, message, .. } => Error::Registry {
            registry,
            action,
            message: format!("HTTP {code}: {}", first_line(&message)),
        },
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}", e.code))
                .collect();
            let text: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}: {}", e.code, first_line(&e.message)))
                .collect();
            if codes.iter().any(|c| c == "Unauthorized" || c == "Denied") {
                Error::AuthFailed {
                    registry,
                    action,
                    message: text.join("; "),
                    anonymous: params.credentials.is_none(),
                }
            } else {
                Error::Registry {
                    registry,
                    action,
                    message: text.join("; "),
                }
            }
        }
        OciDistributionError::ImageManifestNotFoundError(_) => Error::NotFound {
            reference: params.reference.whole(),
        },
        OciDistributionError::RequestError(err) => describe_request(params, action, &err),
        other => Error::Registry {
            registry,
            action,
            message: first_line(&other.to_string()),
        },
    }
}

/// A request that got no HTTP answer: refused, timed out, or TLS spoken to a plain HTTP server.
fn describe_request(
    params: &RegistryParams,
    action: String,
    err: &(dyn std::error::Error + 'static),
) -> Error {
    let registry = params.registry().to_string();
    let mut chain = String::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        chain.push_str(&e.to_string());
        chain.push(' ');
        source = e.source();
    }
    let lower = chain.to_ascii_lowercase();
    let tls_to_http = params.scheme() == Scheme::Https
        && (lower.contains("invalidcontenttype")
            || lower.contains("corrupt message")
            || lower.contains("received corrupt message")
            || lower.contains("wrong version number")
            || lower.contains("invalid content type"));
    if tls_to_http {
        return Error::PlainHttpServer { registry };
    }
    let reason = if lower.contains("connection refused") {
        "connection refused: nothing listens there".to_string()
    } else if lower.contains("timed out") || lower.contains("timeout") {
        "no answer in time".to_string()
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        "the host name does not resolve".to_string()
    } else if lower.contains("certificate") {
        format!("TLS: {}", first_line(&chain))
    } else {
        first_line(&chain)
    };
    Error::Unavailable {
        registry,
        action,
        reason,
    }
}

/// The first line of a server's text, at most 300 characters.
fn first_line(text: &str) -> String {
    text.trim()
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}

/// Pushes the checkpoint image of `source` to the registry of `params`: the layer in chunks
/// (the archive read once), then the config and the manifest with the annotations `annotate`
/// makes of the layer (nothing is tagged when it fails), tagged as the reference says. `progress` gets the bytes sent so far.
pub async fn push_image(
    params: &RegistryParams,
    source: LayerSource,
    annotate: crate::layer::Annotate<'_>,
    created: &str,
    progress: std::sync::Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<(Pushed, ImageDocuments)> {
    let client = params.client();
    let auth = params.auth();
    let reference = &params.reference;
    client
        .auth(reference, &auth, RegistryOperation::Push)
        .await
        .map_err(|e| classify(params, "authenticating", e))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let sender = tx.clone();
        source.stream(
            |chunk| {
                sender
                    .blocking_send(Ok(Bytes::copy_from_slice(chunk)))
                    .map_err(|_| std::io::Error::other("the upload stopped"))
            },
            &mut |done| progress(done),
        )
    });
    let stream = futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|item| item.map(|chunk| chunk.map_err(OciDistributionError::IoError)))
    });
    let uploaded = client.push_blob_stream_chunked(reference, stream).await;
    let layer = reader
        .await
        .map_err(|err| Error::Sink(std::io::Error::other(err.to_string())))?;
    // A failed upload stops the reader (its chunks have nowhere to go): the upload's error is
    // the one to report, unless reading the archive failed first.
    let (layer, uploaded) = match (layer, uploaded) {
        (Ok(layer), Ok(uploaded)) => (layer, uploaded),
        (Err(err @ (Error::ReadArchive { .. } | Error::Decompress { .. })), _) => return Err(err),
        (_, Err(err)) => return Err(classify(params, "uploading the layer", err)),
        (Err(err), Ok(_)) => return Err(err),
    };
    if uploaded.blob_digest != layer.descriptor.digest || uploaded.size != layer.descriptor.size {
        return Err(Error::Registry {
            registry: params.registry().to_string(),
            action: "uploading the layer".to_string(),
            message: format!(
                "the upload hashed to {} ({} bytes), the archive to {} ({} bytes)",
                uploaded.blob_digest, uploaded.size, layer.descriptor.digest, layer.descriptor.size
            ),
        });
    }
    let annotations = annotate(&layer)?;
    let documents = image::build_image(&layer, &annotations, created);
    let config_digest = image::sha256_digest(&documents.config);
    client
        .push_blob(reference, documents.config.clone(), &config_digest)
        .await
        .map_err(|e| classify(params, "uploading the config", e))?;
    client
        .push_manifest_raw(
            reference,
            documents.manifest.clone(),
            http::HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
        )
        .await
        .map_err(|e| classify(params, "uploading the manifest", e))?;
    let digest = documents.manifest_descriptor.digest.clone();
    let pushed = Pushed {
        image: format!(
            "{}/{}@{digest}",
            reference.registry(),
            reference.repository()
        ),
        reference: reference.whole(),
        digest,
        layer,
        scheme: params.scheme(),
        credentials_from: params.credentials.as_ref().map(|c| c.from.clone()),
    };
    Ok((pushed, documents))
}

/// An image as the registry has it: its digest and its manifest's annotations.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteImage {
    /// `registry/repository@sha256:...`.
    pub image: String,
    /// The manifest's digest.
    pub digest: String,
    /// The manifest's annotations (empty for a docker v2s2 manifest, which has none).
    pub annotations: BTreeMap<String, String>,
    /// The manifest's layers.
    pub layers: Vec<Descriptor>,
}

/// The media types a manifest read accepts: OCI and docker manifests, and indexes (refused
/// afterwards, with the reason).
const ACCEPTED: &[&str] = &[
    MANIFEST_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.v2+json",
    crate::image::INDEX_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Reads the manifest of the image `params` names.
pub async fn collect_image(params: &RegistryParams) -> Result<RemoteImage> {
    let client = params.client();
    let auth = params.auth();
    let reference = &params.reference;
    client
        .auth(reference, &auth, RegistryOperation::Pull)
        .await
        .map_err(|e| classify(params, "authenticating", e))?;
    let (bytes, digest) = client
        .pull_manifest_raw(reference, &auth, ACCEPTED)
        .await
        .map_err(|e| classify(params, "reading the manifest", e))?;
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        #[serde(default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<Vec<serde_json::Value>>,
    }
    let head: Head = serde_json::from_slice(&bytes).map_err(|err| Error::Registry {
        registry: params.registry().to_string(),
        action: "reading the manifest".to_string(),
        message: format!("not JSON: {err}"),
    })?;
    if head.manifests.is_some()
        || head
            .media_type
            .as_deref()
            .is_some_and(|m| m.contains("index") || m.contains("list"))
    {
        return Err(Error::NotACheckpointImage {
            reference: reference.whole(),
            reason: "it is an image index (several images): a checkpoint image is one manifest"
                .to_string(),
        });
    }
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|err| Error::Registry {
        registry: params.registry().to_string(),
        action: "reading the manifest".to_string(),
        message: format!("not an image manifest: {err}"),
    })?;
    Ok(RemoteImage {
        image: format!(
            "{}/{}@{digest}",
            reference.registry(),
            reference.repository()
        ),
        digest,
        annotations: manifest.annotations,
        layers: manifest.layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_or_when_asked() {
        for (registry, insecure, scheme) in [
            ("127.0.0.1:5000", false, Scheme::Http),
            ("127.8.0.1", false, Scheme::Http),
            ("localhost:5000", false, Scheme::Http),
            ("[::1]:5000", false, Scheme::Http),
            ("0.0.0.0:5000", false, Scheme::Https),
            ("registry.example:5000", false, Scheme::Https),
            ("10.0.0.5:5000", false, Scheme::Https),
            ("docker.io", false, Scheme::Https),
            ("registry.example:5000", true, Scheme::Http),
        ] {
            assert_eq!(build_scheme(registry, insecure), scheme, "{registry}");
        }
    }

    #[test]
    fn references_name_their_registry() {
        let r = parse_reference("127.0.0.1:5000/ckpt/counter-app:v1").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "ckpt/counter-app");
        assert_eq!(r.tag(), Some("v1"));
        assert!(parse_reference("no spaces/in it").is_err());
    }
}

//! Writes a kubeconfig for the fake cluster (what `kubectl` and our plugin load).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;

/// Writes `dir/kubeconfig` (0600) with cluster, user and context `fake`.
pub(super) fn write(
    dir: &Path,
    server: &str,
    ca_pem: &str,
    token: &str,
    namespace: &str,
) -> std::io::Result<PathBuf> {
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": "fake",
            "cluster": {
                "server": server,
                "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(ca_pem),
            },
        }],
        "users": [{"name": "fake", "user": {"token": token}}],
        "contexts": [{
            "name": "fake",
            "context": {"cluster": "fake", "user": "fake", "namespace": namespace},
        }],
        "current-context": "fake",
        "preferences": {},
    });
    let text = serde_yaml_ng::to_string(&config).map_err(std::io::Error::other)?;
    let path = dir.join("kubeconfig");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}

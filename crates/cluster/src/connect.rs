//! Loading the kubeconfig the way kubectl does and building the client.
//!
//! Like kubectl, a `KUBECONFIG` list skips the files that do not exist (`/missing:/good` works).
//! [`connect`] also remembers the server it connected to for the run, so that a request that
//! fails before any answer names it ([`current_server`]), as kubectl's "The connection to the
//! server ... was refused" does: one process talks to one server.
//!
//! It also asks the API server who we are (for the custody record). Every request carries
//! `User-Agent: kubectl-checkpoint/VERSION`, so audit logs can tell our requests from kubectl's.
//! kube's silent retry layer is off: transient failures are retried where it is safe, visibly
//! (see `retry`).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde::{Deserialize, Serialize};

use super::{Error, Result};

/// kubectl's connection flags, resolved by [`connect`].
#[derive(Debug, Clone, Default)]
pub struct ConnectParams {
    /// `--kubeconfig FILE`; else `$KUBECONFIG`, else `~/.kube/config`, else in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; else the kubeconfig's current context.
    pub context: Option<String>,
    /// `-n`; else the context's namespace, else `default`.
    pub namespace: Option<String>,
    /// The longest a single answer may take (checkpointing a big container takes minutes).
    pub read_timeout: Option<Duration>,
}

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("kubectl-checkpoint/", env!("CARGO_PKG_VERSION"));

/// A client and the namespace the verb works in.
#[derive(Clone)]
pub struct Connection {
    /// The client, with the kubeconfig's credentials.
    pub client: Client,
    /// `-n`, or the context's namespace.
    pub namespace: String,
    /// The API server's URL.
    pub server: String,
}

/// Loads the configuration as kubectl would (tokens, client certificates, exec plugins, CA,
/// insecure-skip-tls-verify, proxy-url) and builds the client.
pub async fn connect(params: &ConnectParams) -> Result<Connection> {
    let options = KubeConfigOptions {
        context: params.context.clone(),
        cluster: None,
        user: None,
    };
    let listed = match (&params.kubeconfig, std::env::var_os("KUBECONFIG")) {
        (None, Some(list)) => read_kubeconfig_list(&list)?,
        _ => None,
    };
    let mut config =
        match (&params.kubeconfig, listed, &params.context) {
            (None, Some(kubeconfig), _) => Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|source| Error::LoadKubeconfig { path: None, source })?,
            (Some(path), _, _) => {
                let kubeconfig =
                    Kubeconfig::read_from(path).map_err(|source| Error::LoadKubeconfig {
                        path: Some(path.clone()),
                        source,
                    })?;
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|source| Error::LoadKubeconfig {
                        path: Some(path.clone()),
                        source,
                    })?
            }
            (None, None, Some(_)) => Config::from_kubeconfig(&options)
                .await
                .map_err(|source| Error::LoadKubeconfig { path: None, source })?,
            (None, None, None) => Config::infer().await.map_err(Error::InferConfig)?,
        };
    if let Some(timeout) = params.read_timeout {
        config.read_timeout = Some(timeout);
    }
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let namespace = params
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    remember_server(config.cluster_url.to_string());
    let client = Client::try_from(config).map_err(Error::BuildClient)?;
    Ok(Connection {
        client,
        namespace,
        server: server.trim_end_matches('/').to_string(),
    })
}

/// Who the API server says we are (a `SelfSubjectReview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The authenticated user name.
    pub username: String,
    /// The user's groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Asks the API server who the kubeconfig's credentials belong to; an error text when it
/// cannot say (API servers before 1.28, or a policy that denies it).
pub async fn collect_identity(client: &Client) -> Result<Identity, String> {
    let reviews: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .map_err(|err| match err {
            kube::Error::Api(status) => format!("HTTP {}: {}", status.code, status.message),
            other => other.to_string(),
        })?;
    let user = review
        .status
        .and_then(|s| s.user_info)
        .ok_or_else(|| "the review named no user".to_string())?;
    Ok(Identity {
        username: user.username.unwrap_or_default(),
        groups: user.groups.unwrap_or_default(),
    })
}

/// The context names of the kubeconfig `--kubeconfig` names, else of `$KUBECONFIG` (missing
/// files skipped) or `~/.kube/config` (for completion; nothing on any error).
pub fn collect_contexts(kubeconfig: Option<&Path>) -> Vec<String> {
    let config = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => match std::env::var_os("KUBECONFIG") {
            Some(list) => match read_kubeconfig_list(&list) {
                Ok(Some(merged)) => Some(merged),
                _ => Kubeconfig::read().ok(),
            },
            None => Kubeconfig::read().ok(),
        },
    };
    config
        .map(|c| c.contexts.into_iter().map(|named| named.name).collect())
        .unwrap_or_default()
}

/// The server of this run's connection, for messages.
static SERVER: Mutex<Option<String>> = Mutex::new(None);

fn remember_server(server: String) {
    if let Ok(mut current) = SERVER.lock() {
        *current = Some(server);
    }
}

/// The API server the last [`connect`] of this process talks to, for error messages.
pub(crate) fn current_server() -> Option<String> {
    SERVER.lock().ok().and_then(|current| current.clone())
}

/// The files of a `KUBECONFIG` list that exist, in order (kubectl skips the missing ones).
pub fn build_kubeconfig_list(list: &OsStr, exists: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|path| !path.as_os_str().is_empty() && exists(path))
        .collect()
}

/// Reads and merges a `KUBECONFIG` list when some of its files are missing (kube reads a
/// complete list itself); `None` when nothing needs skipping or nothing is left.
fn read_kubeconfig_list(list: &OsStr) -> Result<Option<Kubeconfig>> {
    let all = build_kubeconfig_list(list, |_| true);
    let present = build_kubeconfig_list(list, Path::exists);
    if present.len() == all.len() || present.is_empty() {
        return Ok(None);
    }
    let mut merged = Kubeconfig::default();
    for path in present {
        let next = Kubeconfig::read_from(&path).map_err(|source| Error::LoadKubeconfig {
            path: Some(path.clone()),
            source,
        })?;
        merged = merged.merge(next).map_err(|source| Error::LoadKubeconfig {
            path: Some(path.clone()),
            source,
        })?;
    }
    Ok(Some(merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_lists_skip_missing_files() {
        let exists = |p: &Path| p != Path::new("/missing");
        assert_eq!(
            build_kubeconfig_list(OsStr::new("/missing:/good::/b"), exists),
            [PathBuf::from("/good"), PathBuf::from("/b")]
        );
        assert!(build_kubeconfig_list(OsStr::new("/missing"), exists).is_empty());
    }
}

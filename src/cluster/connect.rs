//! Loading the kubeconfig the way kubectl does and building the client.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

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

/// A client and the namespace the verb works in.
#[derive(Clone)]
pub struct Connection {
    /// The client, with the kubeconfig's credentials.
    pub client: Client,
    /// `-n`, or the context's namespace.
    pub namespace: String,
}

/// Loads the configuration as kubectl would (tokens, client certificates, exec plugins, CA,
/// insecure-skip-tls-verify, proxy-url) and builds the client.
pub async fn connect(params: &ConnectParams) -> Result<Connection> {
    let options = KubeConfigOptions {
        context: params.context.clone(),
        cluster: None,
        user: None,
    };
    let mut config = match (&params.kubeconfig, &params.context) {
        (Some(path), _) => {
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
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|source| Error::LoadKubeconfig { path: None, source })?,
        (None, None) => Config::infer().await.map_err(Error::InferConfig)?,
    };
    if let Some(timeout) = params.read_timeout {
        config.read_timeout = Some(timeout);
    }
    let namespace = params
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).map_err(Error::BuildClient)?;
    Ok(Connection { client, namespace })
}

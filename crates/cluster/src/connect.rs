//! Loading the kubeconfig the way kubectl does, applying kubectl's connection flags, and building
//! the client.
//!
//! Like kubectl, a `KUBECONFIG` list skips the files that do not exist (`/missing:/good` works),
//! and the flags override what the kubeconfig says: `--context`, `--cluster` and `--user` choose
//! its entries, `--server`, `--certificate-authority` and `--insecure-skip-tls-verify` change the
//! cluster, `--token` replaces the user's credentials, `--as` and `--as-group` impersonate
//! (written into the user's `as` fields, which kube sends as `Impersonate-*` headers). Names that
//! are not there are said in kubectl's plain words, naming the file once
//! ([`KubeconfigProblem`]), never in the library's.
//!
//! [`connect`] also remembers the server it connected to for the run, so that a request that
//! fails before any answer names it ([`current_server`]), as kubectl's "The connection to the
//! server ... was refused" does: one process talks to one server.
//!
//! Every request goes through `transport` (`--request-timeout`, the `-v` request log) and
//! carries `User-Agent: kubectl-checkpoint/VERSION`, so audit logs can tell our requests from
//! kubectl's. kube's silent retry layer is off: transient failures are retried where it is safe,
//! visibly (see `retry`). Connecting (TCP and TLS) gives up after [`CONNECT_TIMEOUT`], as kubectl
//! gives up a TLS handshake after 10 s, so a server that takes connections and never answers
//! cannot leave a blank screen for long.

use std::ffi::OsStr;
use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kube::config::{
    AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, KubeconfigError, LoadDataError,
    NamedAuthInfo, NamedCluster, NamedContext,
};
use kube::{Api, Client, Config};
use serde::{Deserialize, Serialize};

use super::transport::{RequestLayer, RequestLog};
use super::{Error, Result};

/// The longest connecting to the API server (TCP and TLS) may take, unless `--request-timeout`
/// is shorter.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// kubectl's connection flags, resolved by [`connect`].
#[derive(Clone, Default)]
pub struct ConnectParams {
    /// `--kubeconfig FILE`; else `$KUBECONFIG`, else `~/.kube/config`, else in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; else the kubeconfig's current context.
    pub context: Option<String>,
    /// `--cluster`: the kubeconfig cluster to use instead of the context's.
    pub cluster: Option<String>,
    /// `--user`: the kubeconfig user to use instead of the context's.
    pub user: Option<String>,
    /// `-n`; else the context's namespace, else `default`.
    pub namespace: Option<String>,
    /// `--server`: the API server's URL, instead of the cluster's.
    pub server: Option<String>,
    /// `--token`: a bearer token that replaces the user's credentials. Never shown anywhere.
    pub token: Option<String>,
    /// `--certificate-authority FILE`: the CA bundle that signs the server's certificate.
    pub certificate_authority: Option<PathBuf>,
    /// `--insecure-skip-tls-verify`: do not check the server's certificate.
    pub insecure_skip_tls_verify: bool,
    /// `--as`: the user to impersonate.
    pub impersonate: Option<String>,
    /// `--as-group`: the groups to impersonate.
    pub impersonate_groups: Vec<String>,
    /// `--request-timeout`: the longest one request may wait for its answer (`None`: no limit).
    pub request_timeout: Option<Duration>,
    /// The longest a single answer may take while it streams (checkpointing a big container
    /// takes minutes).
    pub read_timeout: Option<Duration>,
    /// `-v`: where the request log goes, and how much of it.
    pub log: Option<RequestLog>,
    /// `--parallel`: how many nodes and containers are worked on at once (`None`:
    /// [`DEFAULT_PARALLEL`]).
    pub parallel: Option<NonZeroUsize>,
}

/// How many nodes and containers are worked on at once unless `--parallel` says otherwise.
pub const DEFAULT_PARALLEL: usize = 8;

/// The token is a secret: it is never printed, not even in debug output.
impl fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectParams")
            .field("kubeconfig", &self.kubeconfig)
            .field("context", &self.context)
            .field("cluster", &self.cluster)
            .field("user", &self.user)
            .field("namespace", &self.namespace)
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("certificate_authority", &self.certificate_authority)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("impersonate", &self.impersonate)
            .field("impersonate_groups", &self.impersonate_groups)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("parallel", &self.parallel)
            .finish_non_exhaustive()
    }
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
    /// How many nodes and containers are worked on at once (at least 1): checkpoints in
    /// flight, nodes listed, helper pods starting.
    pub parallel: usize,
}

/// What is wrong with the kubeconfig or the flags that choose from it, in kubectl's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigProblem {
    /// `--kubeconfig FILE` names no file.
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// Every file of `KUBECONFIG` is missing.
    NoneOfTheList {
        /// `KUBECONFIG` as set.
        list: String,
    },
    /// No kubeconfig anywhere, and not in a pod.
    Nowhere {
        /// The default file that does not exist.
        default: Option<PathBuf>,
    },
    /// A file could not be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
    /// A file is not a kubeconfig.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the YAML reader said.
        reason: String,
    },
    /// No `--context`, and no `current-context` either.
    NoCurrentContext {
        /// Where the kubeconfig came from.
        source: String,
        /// The contexts it has.
        contexts: Vec<String>,
    },
    /// A context, cluster or user that is not in the kubeconfig.
    NotFound {
        /// `context`, `cluster` or `user`.
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// Who asked: `--context`, or the context that names it.
        named_by: String,
        /// Where the kubeconfig came from.
        source: String,
        /// The names it has of that kind.
        known: Vec<String>,
    },
    /// The chosen cluster has no server URL, or an unusable one.
    Server {
        /// The cluster's name.
        cluster: String,
        /// What is wrong.
        reason: String,
    },
    /// A certificate or key file the kubeconfig or a flag names could not be used.
    Credentials {
        /// What it is (`certificate authority`, `client certificate`, ...).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// In a pod, the service account could not be used.
    InCluster {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for KubeconfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |names: &[String]| {
            if names.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has: {}", names.join(", "))
            }
        };
        match self {
            KubeconfigProblem::Missing { path } => {
                write!(f, "kubeconfig {}: no such file", path.display())
            }
            KubeconfigProblem::NoneOfTheList { list } => write!(
                f,
                "no kubeconfig: none of the files KUBECONFIG names exists ({list})"
            ),
            KubeconfigProblem::Nowhere { default } => match default {
                Some(default) => write!(
                    f,
                    "no kubeconfig: {} does not exist and KUBECONFIG is not set; pass --kubeconfig FILE (or --server and --token)",
                    default.display()
                ),
                None => write!(
                    f,
                    "no kubeconfig: HOME and KUBECONFIG are not set; pass --kubeconfig FILE (or --server and --token)"
                ),
            },
            KubeconfigProblem::Unreadable { path, reason } => {
                write!(f, "kubeconfig {}: {reason}", path.display())
            }
            KubeconfigProblem::Invalid { path, reason } => {
                write!(f, "kubeconfig {} is not a valid kubeconfig: {reason}", path.display())
            }
            KubeconfigProblem::NoCurrentContext { source, contexts } => write!(
                f,
                "{source} has no current-context: choose one with --context ({})",
                list(contexts)
            ),
            KubeconfigProblem::NotFound {
                kind,
                name,
                named_by,
                source,
                known,
            } => write!(
                f,
                "{kind} {name:?} ({named_by}) is not in {source} ({})",
                list(known)
            ),
            KubeconfigProblem::Server { cluster, reason } => {
                write!(f, "cluster {cluster:?}: {reason}")
            }
            KubeconfigProblem::Credentials { what, reason } => write!(f, "{what}: {reason}"),
            KubeconfigProblem::InCluster { reason } => write!(
                f,
                "no kubeconfig, and the pod's service account cannot be used: {reason}"
            ),
        }
    }
}

/// Where the kubeconfig came from, for messages: `kubeconfig FILE`, or the files of a list.
fn describe_source(files: &[PathBuf]) -> String {
    match files {
        [] => "the command line's flags".to_string(),
        [one] => format!("kubeconfig {}", one.display()),
        many => format!(
            "the kubeconfig files {}",
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(":")
        ),
    }
}

/// The kubeconfig to use and the files it was read from; `None` when there is none at all.
fn read_kubeconfig(params: &ConnectParams) -> Result<Option<(Kubeconfig, Vec<PathBuf>)>> {
    if let Some(path) = &params.kubeconfig {
        if !path.exists() {
            return Err(Error::Kubeconfig(KubeconfigProblem::Missing {
                path: path.clone(),
            }));
        }
        return Ok(Some((read_file(path)?, vec![path.clone()])));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|l| !l.is_empty()) {
        let present = build_kubeconfig_list(&list, Path::exists);
        if present.is_empty() {
            if params.server.is_some() {
                return Ok(None);
            }
            return Err(Error::Kubeconfig(KubeconfigProblem::NoneOfTheList {
                list: list.to_string_lossy().into_owned(),
            }));
        }
        let mut merged = Kubeconfig::default();
        for path in &present {
            let next = read_file(path)?;
            merged = merged.merge(next).map_err(|err| {
                Error::Kubeconfig(KubeconfigProblem::Invalid {
                    path: path.clone(),
                    reason: err.to_string(),
                })
            })?;
        }
        return Ok(Some((merged, present)));
    }
    let default = std::env::home_dir().map(|home| home.join(".kube").join("config"));
    match default {
        Some(path) if path.exists() => Ok(Some((read_file(&path)?, vec![path]))),
        _ => Ok(None),
    }
}

fn read_file(path: &Path) -> Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|err| {
        Error::Kubeconfig(match err {
            KubeconfigError::ReadConfig(io, _) => KubeconfigProblem::Unreadable {
                path: path.to_path_buf(),
                reason: io_reason(&io),
            },
            other => KubeconfigProblem::Invalid {
                path: path.to_path_buf(),
                reason: other.to_string(),
            },
        })
    })
}

/// An I/O error as people say it (`no such file`, `permission denied`).
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

/// The name kubectl-checkpoint gives the context, cluster and user it makes from flags alone.
const FROM_FLAGS: &str = "kubectl-checkpoint-flags";

/// Chooses the context, cluster and user as the flags say, checks that they exist, and writes
/// the flags' overrides into the chosen entries. Returns the choice for kube.
fn apply_flags(
    kubeconfig: &mut Kubeconfig,
    params: &ConnectParams,
    source: &str,
) -> Result<KubeConfigOptions> {
    let not_found = |kind: &'static str, name: &str, named_by: String, known: Vec<String>| {
        Error::Kubeconfig(KubeconfigProblem::NotFound {
            kind,
            name: name.to_string(),
            named_by,
            source: source.to_string(),
            known,
        })
    };
    let contexts: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    let clusters: Vec<String> = kubeconfig.clusters.iter().map(|c| c.name.clone()).collect();
    let users: Vec<String> = kubeconfig
        .auth_infos
        .iter()
        .map(|u| u.name.clone())
        .collect();
    let context_name = params
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone().filter(|c| !c.is_empty()));
    let context: Option<Context> = match &context_name {
        Some(name) => {
            let found = kubeconfig
                .contexts
                .iter()
                .find(|c| &c.name == name)
                .map(|c| c.context.clone().unwrap_or_default());
            match found {
                Some(context) => Some(context),
                None => {
                    let named_by = if params.context.is_some() {
                        "--context".to_string()
                    } else {
                        "its current-context".to_string()
                    };
                    return Err(not_found("context", name, named_by, contexts));
                }
            }
        }
        None => None,
    };
    let context = match context {
        Some(context) => context,
        None if params.server.is_some() || params.cluster.is_some() => {
            // kubectl works from flags alone (`--server URL --token T`): a context of our own.
            let context = Context {
                cluster: params
                    .cluster
                    .clone()
                    .unwrap_or_else(|| FROM_FLAGS.to_string()),
                user: Some(
                    params
                        .user
                        .clone()
                        .unwrap_or_else(|| FROM_FLAGS.to_string()),
                ),
                ..Context::default()
            };
            kubeconfig.contexts.push(NamedContext {
                name: FROM_FLAGS.to_string(),
                context: Some(context.clone()),
                other: Default::default(),
            });
            context
        }
        None => {
            return Err(Error::Kubeconfig(KubeconfigProblem::NoCurrentContext {
                source: source.to_string(),
                contexts,
            }))
        }
    };
    let context_name = context_name.unwrap_or_else(|| FROM_FLAGS.to_string());

    // The cluster: --cluster, else the context's; made from --server when it is ours.
    let cluster_name = params.cluster.clone().unwrap_or(context.cluster.clone());
    if !kubeconfig.clusters.iter().any(|c| c.name == cluster_name) {
        if cluster_name == FROM_FLAGS {
            kubeconfig.clusters.push(NamedCluster {
                name: FROM_FLAGS.to_string(),
                cluster: Some(Cluster::default()),
                other: Default::default(),
            });
        } else {
            let named_by = if params.cluster.is_some() {
                "--cluster".to_string()
            } else {
                format!("context {context_name:?}")
            };
            return Err(not_found("cluster", &cluster_name, named_by, clusters));
        }
    }
    if let Some(named) = kubeconfig
        .clusters
        .iter_mut()
        .find(|c| c.name == cluster_name)
    {
        let cluster = named.cluster.get_or_insert_with(Cluster::default);
        if let Some(server) = &params.server {
            cluster.server = Some(server.clone());
        }
        if let Some(ca) = &params.certificate_authority {
            if !ca.exists() {
                return Err(Error::Kubeconfig(KubeconfigProblem::Credentials {
                    what: "--certificate-authority",
                    reason: format!("{}: no such file", ca.display()),
                }));
            }
            cluster.certificate_authority = Some(ca.display().to_string());
            cluster.certificate_authority_data = None;
        }
        if params.insecure_skip_tls_verify {
            // As kubectl: the flag drops the CA, which would contradict it.
            cluster.insecure_skip_tls_verify = Some(true);
            cluster.certificate_authority = None;
            cluster.certificate_authority_data = None;
        }
        if cluster.server.as_deref().is_none_or(str::is_empty) {
            return Err(Error::Kubeconfig(KubeconfigProblem::Server {
                cluster: cluster_name.clone(),
                reason: "it names no server (pass --server URL)".to_string(),
            }));
        }
    }

    // The user: --user, else the context's (kubectl allows none).
    let user_name = params
        .user
        .clone()
        .or(context.user.clone())
        .filter(|u| !u.is_empty());
    let needs_entry = params.token.is_some()
        || params.impersonate.is_some()
        || !params.impersonate_groups.is_empty();
    let user_name = match user_name {
        Some(name) if kubeconfig.auth_infos.iter().any(|u| u.name == name) => Some(name),
        Some(name) if name == FROM_FLAGS => {
            kubeconfig.auth_infos.push(NamedAuthInfo {
                name: name.clone(),
                auth_info: Some(AuthInfo::default()),
                other: Default::default(),
            });
            Some(name)
        }
        Some(name) if params.user.is_some() => {
            return Err(not_found("user", &name, "--user".to_string(), users))
        }
        // A context naming a user that is not there: kubectl goes on without credentials.
        Some(_) | None if needs_entry => {
            kubeconfig.auth_infos.push(NamedAuthInfo {
                name: FROM_FLAGS.to_string(),
                auth_info: Some(AuthInfo::default()),
                other: Default::default(),
            });
            Some(FROM_FLAGS.to_string())
        }
        Some(name) => Some(name),
        None => None,
    };
    if let Some(named) = user_name
        .as_ref()
        .and_then(|name| kubeconfig.auth_infos.iter_mut().find(|u| &u.name == name))
    {
        let user = named.auth_info.get_or_insert_with(AuthInfo::default);
        if let Some(token) = &params.token {
            // The token is the identity: nothing else may authenticate instead.
            user.token = Some(secrecy::SecretString::from(token.clone()));
            user.token_file = None;
            user.username = None;
            user.password = None;
            user.client_certificate = None;
            user.client_certificate_data = None;
            user.client_key = None;
            user.client_key_data = None;
            user.auth_provider = None;
            user.exec = None;
        }
        if let Some(name) = &params.impersonate {
            user.impersonate = Some(name.clone());
        }
        if !params.impersonate_groups.is_empty() {
            user.impersonate_groups = Some(params.impersonate_groups.clone());
        }
    }
    Ok(KubeConfigOptions {
        context: Some(context_name),
        cluster: Some(cluster_name),
        user: user_name,
    })
}

/// A kube error of loading the chosen entries, in plain words.
fn describe_load_error(err: KubeconfigError, cluster: &str) -> Error {
    let data = |err: &LoadDataError| match err {
        LoadDataError::ReadFile(io, path) => format!("{}: {}", path.display(), io_reason(io)),
        LoadDataError::DecodeBase64(_) => "its data is not base64".to_string(),
        LoadDataError::NoBase64DataOrFile => "neither data nor a file is given".to_string(),
    };
    Error::Kubeconfig(match &err {
        KubeconfigError::ParseClusterUrl(invalid) => KubeconfigProblem::Server {
            cluster: cluster.to_string(),
            reason: format!("its server is not a URL ({invalid})"),
        },
        KubeconfigError::MissingClusterUrl => KubeconfigProblem::Server {
            cluster: cluster.to_string(),
            reason: "it names no server (pass --server URL)".to_string(),
        },
        KubeconfigError::LoadCertificateAuthority(inner) => KubeconfigProblem::Credentials {
            what: "certificate authority",
            reason: data(inner),
        },
        KubeconfigError::LoadClientCertificate(inner) => KubeconfigProblem::Credentials {
            what: "client certificate",
            reason: data(inner),
        },
        KubeconfigError::LoadClientKey(inner) => KubeconfigProblem::Credentials {
            what: "client key",
            reason: data(inner),
        },
        KubeconfigError::ParseCertificates(_) => KubeconfigProblem::Credentials {
            what: "certificate authority",
            reason: "it holds no PEM certificate".to_string(),
        },
        other => KubeconfigProblem::Server {
            cluster: cluster.to_string(),
            reason: other.to_string(),
        },
    })
}

/// Whether this process runs in a pod with a service account (kubectl's in-cluster config).
fn in_cluster() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists()
}

/// The configuration as kubectl would load it (tokens, client certificates, exec plugins, CA,
/// insecure-skip-tls-verify, proxy-url), with the flags applied.
async fn load_config(params: &ConnectParams) -> Result<(Config, Vec<PathBuf>)> {
    let read = read_kubeconfig(params)?;
    let (mut kubeconfig, files) = match read {
        Some(found) => found,
        None if params.server.is_none() && in_cluster() => {
            let config = Config::incluster().map_err(|err| {
                Error::Kubeconfig(KubeconfigProblem::InCluster {
                    reason: err.to_string(),
                })
            })?;
            return Ok((config, Vec::new()));
        }
        None if params.server.is_some() => (Kubeconfig::default(), Vec::new()),
        None => {
            return Err(Error::Kubeconfig(KubeconfigProblem::Nowhere {
                default: std::env::home_dir().map(|home| home.join(".kube").join("config")),
            }))
        }
    };
    let source = describe_source(&files);
    let options = apply_flags(&mut kubeconfig, params, &source)?;
    let cluster = options.cluster.clone().unwrap_or_default();
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|err| describe_load_error(err, &cluster))?;
    Ok((config, files))
}

/// Loads the configuration as kubectl would (see [`load_config`]) and builds the client.
pub async fn connect(params: &ConnectParams) -> Result<Connection> {
    let (mut config, files) = load_config(params).await?;
    let log = params.log.clone();
    if let Some(log) = &log {
        for file in &files {
            log.line(6, &format!("Config loaded from file: {}", file.display()));
        }
    }
    if let Some(timeout) = params.read_timeout {
        config.read_timeout = Some(timeout);
    }
    let connect_timeout = params
        .request_timeout
        .map_or(CONNECT_TIMEOUT, |limit| limit.min(CONNECT_TIMEOUT));
    config.connect_timeout = Some(connect_timeout);
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    // kube sends the `as` fields (the kubeconfig's, or --as and --as-group written into them)
    // as Impersonate-* headers; a value that cannot be a header is said plainly here.
    if let Some(user) = &config.auth_info.impersonate {
        header_value("--as", user)?;
    }
    for group in config.auth_info.impersonate_groups.iter().flatten() {
        header_value("--as-group", group)?;
    }
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let namespace = params
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    remember_server(server.trim_end_matches('/').to_string(), connect_timeout);
    let layer = RequestLayer {
        timeout: params.request_timeout,
        log,
        server: server.trim_end_matches('/').to_string(),
        extra_headers: config
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or("(not text)").to_string(),
                )
            })
            .chain(
                config
                    .auth_info
                    .impersonate
                    .iter()
                    .map(|user| ("impersonate-user".to_string(), user.clone())),
            )
            .chain(
                config
                    .auth_info
                    .impersonate_groups
                    .iter()
                    .flatten()
                    .map(|group| ("impersonate-group".to_string(), group.clone())),
            )
            .collect(),
    };
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(Error::BuildClient)?
        .with_layer(&layer)
        .build();
    Ok(Connection {
        client,
        namespace,
        server: server.trim_end_matches('/').to_string(),
        parallel: params.parallel.map_or(DEFAULT_PARALLEL, NonZeroUsize::get),
    })
}

fn header_value(flag: &str, value: &str) -> Result<http::HeaderValue> {
    http::HeaderValue::from_str(value).map_err(|_| {
        Error::Kubeconfig(KubeconfigProblem::Credentials {
            what: if flag == "--as" { "--as" } else { "--as-group" },
            reason: format!("{value:?} cannot be sent in an HTTP header"),
        })
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
    let params = ConnectParams {
        kubeconfig: kubeconfig.map(Path::to_path_buf),
        ..ConnectParams::default()
    };
    match read_kubeconfig(&params) {
        Ok(Some((config, _))) => config
            .contexts
            .into_iter()
            .map(|named| named.name)
            .collect(),
        _ => Vec::new(),
    }
}

/// The server of this run's connection and its connect timeout, for messages.
static SERVER: Mutex<Option<(String, Duration)>> = Mutex::new(None);

fn remember_server(server: String, connect_timeout: Duration) {
    if let Ok(mut current) = SERVER.lock() {
        *current = Some((server, connect_timeout));
    }
}

/// The API server the last [`connect`] of this process talks to, and how long connecting to it
/// may take, for error messages.
pub(crate) fn current_server() -> Option<(String, Duration)> {
    SERVER.lock().ok().and_then(|current| current.clone())
}

/// The files of a `KUBECONFIG` list that exist, in order (kubectl skips the missing ones).
pub fn build_kubeconfig_list(list: &OsStr, exists: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|path| !path.as_os_str().is_empty() && exists(path))
        .collect()
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

    fn two_of_each() -> Kubeconfig {
        Kubeconfig::from_yaml(
            "apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: 'https://a:6443', certificate-authority-data: Zm9v}}
- {name: b, cluster: {server: 'https://b:6443'}}
users:
- {name: alice, user: {token: alice-token, client-certificate-data: Zm9v}}
- {name: bob, user: {token: bob-token}}
contexts:
- {name: ca, context: {cluster: a, user: alice, namespace: demo}}
- {name: cb, context: {cluster: b, user: bob}}
current-context: ca
",
        )
        .unwrap()
    }

    #[test]
    fn flags_choose_entries_and_name_what_is_missing() {
        let mut config = two_of_each();
        let options = apply_flags(&mut config, &ConnectParams::default(), "kubeconfig k").unwrap();
        assert_eq!(
            (
                options.context.as_deref(),
                options.cluster.as_deref(),
                options.user.as_deref()
            ),
            (Some("ca"), Some("a"), Some("alice"))
        );
        let params = ConnectParams {
            context: Some("ca".into()),
            cluster: Some("b".into()),
            user: Some("bob".into()),
            ..ConnectParams::default()
        };
        let options = apply_flags(&mut two_of_each(), &params, "kubeconfig k").unwrap();
        assert_eq!(
            (options.cluster.as_deref(), options.user.as_deref()),
            (Some("b"), Some("bob"))
        );
        for (params, want) in [
            (
                ConnectParams {
                    context: Some("nosuch".into()),
                    ..ConnectParams::default()
                },
                "context \"nosuch\" (--context) is not in kubeconfig k (it has: ca, cb)",
            ),
            (
                ConnectParams {
                    cluster: Some("c".into()),
                    ..ConnectParams::default()
                },
                "cluster \"c\" (--cluster) is not in kubeconfig k (it has: a, b)",
            ),
            (
                ConnectParams {
                    user: Some("eve".into()),
                    ..ConnectParams::default()
                },
                "user \"eve\" (--user) is not in kubeconfig k (it has: alice, bob)",
            ),
        ] {
            let Err(err) = apply_flags(&mut two_of_each(), &params, "kubeconfig k") else {
                panic!("{want}: accepted");
            };
            assert_eq!(err.to_string(), want);
        }
        let mut config = two_of_each();
        config.current_context = None;
        let Err(err) = apply_flags(&mut config, &ConnectParams::default(), "kubeconfig k") else {
            panic!("no current-context accepted");
        };
        assert_eq!(
            err.to_string(),
            "kubeconfig k has no current-context: choose one with --context (it has: ca, cb)"
        );
    }

    #[test]
    fn flags_override_the_chosen_cluster_and_user() {
        use secrecy::ExposeSecret;
        let mut config = two_of_each();
        let params = ConnectParams {
            server: Some("https://override:443".into()),
            insecure_skip_tls_verify: true,
            token: Some("flag-token".into()),
            impersonate: Some("carol".into()),
            impersonate_groups: vec!["g1".into(), "g2".into()],
            ..ConnectParams::default()
        };
        apply_flags(&mut config, &params, "kubeconfig k").unwrap();
        let cluster = config.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://override:443"));
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert!(cluster.certificate_authority_data.is_none());
        // The other cluster is untouched.
        assert_eq!(
            config.clusters[1]
                .cluster
                .as_ref()
                .unwrap()
                .server
                .as_deref(),
            Some("https://b:6443")
        );
        let user = config.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(
            user.token.as_ref().map(|t| t.expose_secret().to_string()),
            Some("flag-token".to_string())
        );
        assert!(user.client_certificate_data.is_none());
        assert_eq!(user.impersonate.as_deref(), Some("carol"));
        assert_eq!(
            user.impersonate_groups.as_deref(),
            Some(&["g1".to_string(), "g2".to_string()][..])
        );
    }

    #[test]
    fn flags_alone_make_a_context() {
        let mut config = Kubeconfig::default();
        let params = ConnectParams {
            server: Some("https://127.0.0.1:6443".into()),
            token: Some("t".into()),
            ..ConnectParams::default()
        };
        let options = apply_flags(&mut config, &params, "the command line's flags").unwrap();
        assert_eq!(options.context.as_deref(), Some(FROM_FLAGS));
        assert_eq!(config.clusters.len(), 1);
        assert_eq!(config.auth_infos.len(), 1);
        let Err(err) = apply_flags(
            &mut Kubeconfig::default(),
            &ConnectParams::default(),
            "the command line's flags",
        ) else {
            panic!("an empty kubeconfig accepted");
        };
        assert!(err.to_string().contains("has no current-context"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_token() {
        let params = ConnectParams {
            token: Some("s3cr3t-token".into()),
            ..ConnectParams::default()
        };
        let text = format!("{params:?}");
        assert!(
            !text.contains("s3cr3t") && text.contains("<hidden>"),
            "{text}"
        );
    }
}

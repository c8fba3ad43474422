//! Flags shared by the verbs that talk to a cluster, with kubectl's names and meanings, the
//! helper-pod flags of fetch, list and delete, and the `-o` formats.
//!
//! The connection flags are flattened into each cluster verb, not global: `decode` and
//! `coredump` never talk to a cluster and do not offer them. Flags typed before the verb
//! (`kubectl checkpoint -n demo list`) reach it because the verb is moved first (`argv`).
//! Each group of flags has a help heading of its own, and the short help (`-h`) keeps only the
//! flags people use every day: `--help` shows them all.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use k8s_openapi::api::core::v1::Toleration;

use checkpoint_cluster::{ConnectParams, HelperParams, RequestLog};

/// The help heading of kubectl's connection flags.
pub const CONNECTION: &str = "Connection (kubectl's flags)";
/// The help heading of the flags that bound the work on many nodes and containers.
pub const FAN_OUT: &str = "Many nodes and containers";
/// The help heading of the helper pod's flags.
pub const HELPER: &str = "Helper pod (fetch, list, delete)";

/// kubectl's connection flags. The namespace defaults to the context's namespace.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = CONNECTION)]
pub struct KubeArgs {
    /// The namespace of the target; defaults to the context's namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Path to the kubeconfig file to use.
    ///
    /// Else $KUBECONFIG (files that do not exist are skipped), else ~/.kube/config, else the
    /// in-cluster service account.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, value_name = "CLUSTER", hide_short_help = true)]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use.
    #[arg(long, value_name = "USER", hide_short_help = true)]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, value_name = "URL", hide_short_help = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server (it replaces the user's credentials).
    #[arg(long, value_name = "TOKEN", hide_short_help = true)]
    pub token: Option<String>,
    /// Path to a cert file for the certificate authority.
    #[arg(long, value_name = "FILE", hide_short_help = true)]
    pub certificate_authority: Option<PathBuf>,
    /// If true, the server's certificate will not be checked for validity. This will make your
    /// HTTPS connections insecure.
    #[arg(long, hide_short_help = true)]
    pub insecure_skip_tls_verify: bool,
    /// Username to impersonate for the operation.
    #[arg(long = "as", value_name = "USER", hide_short_help = true)]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation; repeat it for several groups.
    #[arg(long = "as-group", value_name = "GROUP", hide_short_help = true)]
    pub as_group: Vec<String>,
    /// The length of time to wait before giving up on a single server request (e.g. 1s, 2m,
    /// 3h; a bare number is seconds; 0 waits forever).
    #[arg(long, value_name = "DURATION", value_parser = parse_request_timeout, hide_short_help = true)]
    pub request_timeout: Option<Duration>,
    /// Log level as kubectl's: 6 logs each request (method, URL, status, time) on stderr, 7 also
    /// its headers (never credentials).
    #[arg(short = 'v', long = "v", value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(0..=10), hide_short_help = true)]
    pub verbosity: Option<u8>,
    /// How many nodes and containers are worked on at once: checkpoints in flight (at most 2
    /// on one node), nodes listed, helper pods starting. A slow node never holds the others
    /// back. Default: 8.
    #[arg(long, value_name = "N", help_heading = FAN_OUT, hide_short_help = true)]
    pub parallel: Option<NonZeroUsize>,
}

/// `--request-timeout` as kubectl reads it: `0` (no limit), a bare number of seconds, or a Go
/// duration (`500ms`, `5s`, `2m`, `1h30m`).
pub fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration {text:?}: use a number with a unit (500ms, 5s, 2m, 1h) or a number of seconds"
        )
    };
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number.parse().map_err(|_| bad())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::try_from_secs_f64(value * scale).map_err(|_| bad())?;
        rest = tail;
    }
    Ok(total)
}

impl KubeArgs {
    /// The connection parameters; `read_timeout` bounds a single answer while it streams.
    pub fn connect_params(&self, read_timeout: Option<Duration>) -> ConnectParams {
        ConnectParams {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: self.namespace.clone(),
            server: self.server.clone(),
            token: self.token.clone(),
            certificate_authority: self.certificate_authority.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            impersonate: self.as_user.clone(),
            impersonate_groups: self.as_group.clone(),
            // kubectl's 0 means no limit.
            request_timeout: self.request_timeout.filter(|limit| !limit.is_zero()),
            read_timeout,
            log: self
                .verbosity
                .filter(|v| *v > 0)
                .map(|verbosity| RequestLog {
                    verbosity,
                    sink: Arc::new(|line: &str| crate::messages::log(line)),
                }),
            parallel: self.parallel,
        }
    }
}

/// The environment variable that gives `--helper-image` a default.
pub const HELPER_IMAGE_ENV: &str = "KUBECTL_CHECKPOINT_HELPER_IMAGE";
/// The environment variable that gives `--helper-namespace` a default.
pub const HELPER_NAMESPACE_ENV: &str = "KUBECTL_CHECKPOINT_HELPER_NAMESPACE";

/// Flags of the helper pod that fetch, list and delete run on a node.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = HELPER)]
pub struct HelperArgs {
    /// Namespace to run the helper pod in (default: the -n namespace).
    ///
    /// It must allow a hostPath volume (Pod Security `privileged`; on OpenShift an SCC such as
    /// hostmount-anyuid).
    #[arg(long, value_name = "NAMESPACE", env = HELPER_NAMESPACE_ENV)]
    pub helper_namespace: Option<String>,
    /// Image of the helper pod; it needs sh, cat, tail, stat, sha256sum, find, tar, grep and rm.
    #[arg(long, value_name = "IMAGE", default_value = "busybox:1.36", env = HELPER_IMAGE_ENV, hide_short_help = true)]
    pub helper_image: String,
    /// A taint the helper pod tolerates besides the control-plane taints and its node's own,
    /// as KEY[=VALUE][:EFFECT] (repeat it); also lets a cluster-wide `list` into nodes with
    /// that taint.
    #[arg(long, value_name = "KEY[=VALUE][:EFFECT]", value_parser = parse_toleration, hide_short_help = true)]
    pub helper_toleration: Vec<Toleration>,
    /// How often to retry a transient failure (a broken stream, a restarting kubelet, HTTP
    /// 500/502/503 while the API server dials it) before giving up; waits 0.5 s, doubling up to
    /// 10 s.
    #[arg(long, value_name = "N", default_value_t = 3, hide_short_help = true)]
    pub retries: u32,
    /// Seconds to wait for the helper pod to run (each node has its own).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 120,
        hide_short_help = true
    )]
    pub helper_timeout: u64,
    /// Leave the helper pod running after a successful run (a later run reuses it).
    #[arg(long, hide_short_help = true)]
    pub keep_helper: bool,
}

/// `KEY[=VALUE][:EFFECT]` as a toleration: `Equal` with a value, `Exists` without; no effect
/// tolerates every effect of that key.
pub fn parse_toleration(text: &str) -> Result<Toleration, String> {
    let (rest, effect) = match text.rsplit_once(':') {
        Some((rest, effect)) => (rest, Some(effect)),
        None => (text, None),
    };
    if let Some(effect) = effect {
        if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            return Err(format!(
                "{text:?}: the effect must be NoSchedule, PreferNoSchedule or NoExecute"
            ));
        }
    }
    let (key, value) = match rest.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (rest, None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(format!("{text:?}: expected KEY[=VALUE][:EFFECT]"));
    }
    Ok(Toleration {
        key: Some(key.to_string()),
        operator: Some(if value.is_some() { "Equal" } else { "Exists" }.to_string()),
        value: value.map(str::to_string),
        effect: effect.map(str::to_string),
        ..Toleration::default()
    })
}

impl HelperArgs {
    /// The helper parameters: in `--helper-namespace`, else in `namespace`.
    pub fn helper_params(&self, namespace: &str) -> HelperParams {
        HelperParams {
            namespace: self
                .helper_namespace
                .clone()
                .unwrap_or_else(|| namespace.to_string()),
            image: self.helper_image.clone(),
            writable: false,
            start_timeout: Duration::from_secs(self.helper_timeout),
            keep: self.keep_helper,
            retries: self.retries,
            tolerations: self.helper_toleration.clone(),
        }
    }
}

/// Output formats, named as kubectl's `-o` values. Each verb accepts only those it honours
/// ([`OutputFormat::parser`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables (the default).
    #[default]
    Table,
    /// Tables with more columns.
    Wide,
    /// Human-readable trees where the data is a tree.
    Tree,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// One name per line, to pipe into another command (`NODE:PATH` for archives).
    Name,
}

impl OutputFormat {
    /// The renderer's format: `wide` is a table with more columns (the verb says which), and
    /// `name` a table for the verbs that have no name list (clap refuses it where a verb does
    /// not list it).
    pub fn render_format(self) -> crate::output::Format {
        use crate::output::Format;
        match self {
            OutputFormat::Table | OutputFormat::Wide | OutputFormat::Name => Format::Table,
            OutputFormat::Tree => Format::Tree,
            OutputFormat::Json => Format::Json,
            OutputFormat::Yaml => Format::Yaml,
        }
    }

    /// The `-o` parser of a verb that honours only `formats`: any other value is refused by
    /// clap, naming the accepted ones, instead of being ignored.
    pub fn parser(
        formats: &'static [OutputFormat],
    ) -> impl clap::builder::TypedValueParser<Value = OutputFormat> {
        use clap::builder::TypedValueParser as _;
        clap::builder::PossibleValuesParser::new(
            formats.iter().filter_map(ValueEnum::to_possible_value),
        )
        .map(|name| OutputFormat::from_str(&name, false).unwrap_or_default())
    }
}

/// `-o` of the verbs that print records: JSON or YAML instead of one line per item.
pub const RECORD_FORMATS: &[OutputFormat] = &[OutputFormat::Json, OutputFormat::Yaml];

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{CommandFactory, Parser};

    use super::{parse_request_timeout, parse_toleration};
    use crate::cli::{Cli, Command};

    #[test]
    fn the_parallel_default_the_help_names_is_the_one_in_force() {
        let help = Cli::command().render_long_help().to_string();
        let said = format!("Default: {}\n", checkpoint_cluster::DEFAULT_PARALLEL);
        assert!(help.contains(&said), "{help}");
        let cli = Cli::try_parse_from(["kubectl-checkpoint", "pod/p", "--parallel", "3"]).unwrap();
        let params = cli.checkpoint.kube.connect_params(None);
        assert_eq!(params.parallel.map(std::num::NonZeroUsize::get), Some(3));
        assert!(Cli::try_parse_from(["kubectl-checkpoint", "pod/p", "--parallel", "0"]).is_err());
    }

    #[test]
    fn connection_flags_reach_each_verb() {
        let cli = Cli::try_parse_from([
            "kubectl-checkpoint",
            "pod/p",
            "-n",
            "ns",
            "--context",
            "ctx",
            "--kubeconfig",
            "/k",
            "-v=6",
            "--as",
            "alice",
            "--as-group",
            "g1",
            "--as-group",
            "g2",
            "--request-timeout",
            "5s",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        let kube = &cli.checkpoint.kube;
        assert_eq!(kube.namespace.as_deref(), Some("ns"));
        assert_eq!(kube.context.as_deref(), Some("ctx"));
        assert_eq!(kube.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(kube.verbosity, Some(6));
        assert_eq!(kube.as_user.as_deref(), Some("alice"));
        assert_eq!(kube.as_group, ["g1", "g2"]);
        assert_eq!(kube.request_timeout, Some(Duration::from_secs(5)));

        let cli = Cli::try_parse_from([
            "kubectl-checkpoint",
            "fetch",
            "node-a:a.tar",
            "--context",
            "ctx",
            "-n",
            "ns",
            "--retries",
            "5",
        ])
        .unwrap();
        let Some(Command::Fetch(fetch)) = cli.command else {
            panic!("not fetch");
        };
        assert_eq!(fetch.kube.context.as_deref(), Some("ctx"));
        assert_eq!(fetch.kube.namespace.as_deref(), Some("ns"));
        assert_eq!(fetch.flags.helper.retries, 5);
        assert_eq!(fetch.flags.helper.helper_image, "busybox:1.36");
        assert!(Cli::try_parse_from(["kubectl-checkpoint", "pod/p", "-v", "11"]).is_err());
    }

    #[test]
    fn request_timeouts_read_as_kubectl_reads_them() {
        for (text, want) in [
            ("0", Duration::ZERO),
            ("7", Duration::from_secs(7)),
            ("500ms", Duration::from_millis(500)),
            ("2m", Duration::from_secs(120)),
            ("1h30m", Duration::from_secs(5400)),
            ("1.5s", Duration::from_millis(1500)),
        ] {
            assert_eq!(parse_request_timeout(text), Ok(want), "{text}");
        }
        for bad in ["", "5x", "s", "-1s", "1m1"] {
            assert!(parse_request_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tolerations_read_as_kubectl_taints_are_written() {
        let t = parse_toleration("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!(
            (
                t.key.as_deref(),
                t.operator.as_deref(),
                t.value.as_deref(),
                t.effect.as_deref()
            ),
            (
                Some("dedicated"),
                Some("Equal"),
                Some("gpu"),
                Some("NoSchedule")
            )
        );
        let t = parse_toleration("realk8s.io/runtime").unwrap();
        assert_eq!(
            (t.operator.as_deref(), t.value, t.effect),
            (Some("Exists"), None, None)
        );
        assert!(parse_toleration("k:Sometimes").is_err());
        assert!(parse_toleration(":NoSchedule").is_err());
    }
}

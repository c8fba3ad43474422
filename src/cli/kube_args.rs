//! Flags shared by the verbs that talk to a cluster, with kubectl's names and meanings, the
//! helper-pod flags of fetch, list and delete, and the `-o` formats.
//!
//! The connection flags are flattened into each cluster verb, not global: `decode` and
//! `coredump` never talk to a cluster and do not offer them. Flags typed before the verb
//! (`kubectl checkpoint -n demo list`) reach it because the verb is moved first (`argv`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use checkpoint_cluster::{ConnectParams, HelperParams};

/// kubectl's connection flags. The namespace defaults to the context's namespace.
#[derive(Debug, Clone, Default, Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file to use (else $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// The namespace of the target; defaults to the context's namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

impl KubeArgs {
    /// The connection parameters; `read_timeout` bounds a single answer.
    pub fn connect_params(&self, read_timeout: Option<Duration>) -> ConnectParams {
        ConnectParams {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            read_timeout,
        }
    }
}

/// Flags of the helper pod that fetch, list and delete run on a node.
#[derive(Debug, Clone, Args)]
pub struct HelperArgs {
    /// Namespace to run the helper pod in (default: the -n namespace). It must allow a hostPath
    /// volume (Pod Security `privileged`; on OpenShift an SCC such as hostmount-anyuid).
    #[arg(long, value_name = "NAMESPACE")]
    pub helper_namespace: Option<String>,
    /// How often to retry a transient failure (a broken stream, a restarting kubelet, HTTP
    /// 500/502/503 while the API server dials it) before giving up; waits 0.5 s, doubling up to
    /// 10 s.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Image of the helper pod; it needs cat, tail, stat, sha256sum, find and rm.
    #[arg(long, value_name = "IMAGE", default_value = "busybox:1.36")]
    pub helper_image: String,
    /// Seconds to wait for the helper pod to run.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub helper_timeout: u64,
    /// Leave the helper pod running after a successful run (a later run reuses it).
    #[arg(long)]
    pub keep_helper: bool,
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
}

impl OutputFormat {
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
    use clap::Parser;

    use crate::cli::{Cli, Command};

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
        ])
        .unwrap();
        assert!(cli.command.is_none());
        let kube = &cli.checkpoint.kube;
        assert_eq!(kube.namespace.as_deref(), Some("ns"));
        assert_eq!(kube.context.as_deref(), Some("ctx"));
        assert_eq!(kube.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));

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
    }

    #[test]
    fn fetch_flag_takes_an_optional_dest() {
        let cli = Cli::try_parse_from(["kubectl-checkpoint", "pod/p", "--fetch"]).unwrap();
        assert_eq!(cli.checkpoint.fetch, Some(None));
        let cli = Cli::try_parse_from(["kubectl-checkpoint", "pod/p", "--fetch", "out"]).unwrap();
        assert_eq!(cli.checkpoint.fetch, Some(Some("out".into())));
        let cli = Cli::try_parse_from(["kubectl-checkpoint", "-l", "app=x", "-o", "json"]).unwrap();
        assert_eq!(cli.checkpoint.selector.as_deref(), Some("app=x"));
        assert!(
            Cli::try_parse_from(["kubectl-checkpoint", "p", "-c", "a", "--all-containers"])
                .is_err()
        );
    }
}

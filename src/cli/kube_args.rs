//! Flags shared by the verbs that talk to a cluster, with kubectl's names and meanings.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// kubectl's connection flags. The namespace defaults to the context's namespace.
#[derive(Debug, Clone, Default, Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file to use (else $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, value_name = "CONTEXT", global = true)]
    pub context: Option<String>,
    /// The namespace of the target; defaults to the context's namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE", global = true)]
    pub namespace: Option<String>,
}

/// Output formats, named as kubectl's `-o` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables (the default).
    #[default]
    Table,
    /// Human-readable trees where the data is a tree.
    Tree,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

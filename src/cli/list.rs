//! `kubectl checkpoint list [--node NODE | TARGET]` and `kubectl checkpoint delete NODE:PATH`.

use std::collections::BTreeSet;
use std::io::Write;

use clap::Args;
use futures::StreamExt;

use super::checkpoint::{ctrl_c, finish, render_records, runtime};
use super::kube_args::HelperArgs;
use super::pick::{given_source, pick_archive};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::cluster::{self, HelperParams, ListedArchive};
use crate::output::{Style, Table};
use crate::Error;

/// How many nodes are listed at the same time.
const CONCURRENCY: usize = 4;

/// Arguments of `kubectl checkpoint list`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Every archive on every node
  kubectl checkpoint list

  # The archives on one node, as JSON
  kubectl checkpoint list --node worker-1 -o json

  # The archives of one deployment's pods
  kubectl checkpoint list -n demo deploy/counters")]
pub struct ListArgs {
    /// List the archives of this target's pods (`pod/NAME`, `deploy/NAME`, ...) on their nodes.
    #[arg(value_name = "TARGET", conflicts_with = "node")]
    pub target: Option<String>,
    /// List all archives on this node only (default: on every node).
    #[arg(long)]
    pub node: Option<String>,
    /// Output format: json or yaml records instead of a table.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<OutputFormat>,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Arguments of `kubectl checkpoint delete`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Delete an archive the kubelet left on a node (it never deletes them)
  kubectl checkpoint delete worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar")]
pub struct DeleteArgs {
    /// The archive on the node, as `NODE:PATH`; on a terminal, left out to pick one from a list.
    pub source: Option<String>,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs `list`.
pub fn run(args: ListArgs) -> Result<Outcome, Error> {
    let target = match &args.target {
        Some(t) => Some(cluster::parse_target(Some(t), None)?),
        None => None,
    };
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    // (node, pods to keep) per node; no pod filter with --node or no TARGET.
    let (nodes, pods): (Vec<String>, Option<BTreeSet<String>>) = match (&target, &args.node) {
        (_, Some(node)) => (vec![node.clone()], None),
        (Some(target), None) => {
            let pods = rt.block_on(cluster::collect_pods(&conn.client, &conn.namespace, target))?;
            let nodes: BTreeSet<String> = pods
                .iter()
                .filter_map(|p| p.spec.as_ref()?.node_name.clone())
                .collect();
            let names = pods
                .iter()
                .filter_map(|p| p.metadata.name.clone())
                .collect();
            (nodes.into_iter().collect(), Some(names))
        }
        (None, None) => (rt.block_on(cluster::collect_nodes(&conn.client))?, None),
    };
    let helper = args.helper.helper_params(&conn.namespace);
    let (mut archives, failures) = collect_archives(&rt, &conn, &nodes, &helper)?;
    archives.retain(|a| keep(a, &pods, &conn.namespace));
    if !render_records(args.output, &archives)? {
        render_table(&archives)?;
    }
    finish(nodes.len(), failures)
}

/// Lists the archives on `nodes` through helper pods, a few nodes at a time; the nodes that
/// could not be listed come back as errors beside the archives of the others. Ctrl-C removes
/// the helpers and ends the listing with [`cluster::Error::Interrupted`].
pub(super) fn collect_archives(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    nodes: &[String],
    helper: &HelperParams,
) -> Result<(Vec<ListedArchive>, Vec<cluster::Error>), Error> {
    let namespaces = rt.block_on(cluster::collect_namespaces(&conn.client));
    let results: Vec<Result<Vec<ListedArchive>, cluster::Error>> = rt.block_on(
        futures::stream::iter(nodes)
            .map(|node| cluster::collect_listing(&conn.client, node, helper, &namespaces, ctrl_c()))
            .buffered(CONCURRENCY)
            .collect(),
    );
    let mut archives = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(found) => archives.extend(found),
            Err(cluster::Error::Interrupted) => return Err(cluster::Error::Interrupted.into()),
            Err(err) => failures.push(err),
        }
    }
    Ok((archives, failures))
}

/// With a TARGET, keep only archives of its pods in its namespace.
fn keep(archive: &ListedArchive, pods: &Option<BTreeSet<String>>, namespace: &str) -> bool {
    match (pods, &archive.name) {
        (None, _) => true,
        (Some(pods), Some(name)) => name.namespace == namespace && pods.contains(&name.pod),
        (Some(_), None) => false,
    }
}

/// A kubectl-style table, one row per archive.
fn render_table(archives: &[ListedArchive]) -> Result<(), Error> {
    let mut table = Table::new(&["NAMESPACE", "POD", "CONTAINER", "TIME", "SIZE", "ARCHIVE"]);
    for a in archives {
        let (ns, pod, container, time) = match &a.name {
            Some(n) => (
                n.namespace.clone(),
                n.pod.clone(),
                n.container.clone(),
                n.time.clone(),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        table.row(vec![
            ns,
            pod,
            container,
            time,
            indicatif::HumanBytes(a.size).to_string(),
            format!("{}:{}", a.node, a.path),
        ]);
    }
    Ok(table.render(Style::default(), &mut std::io::stdout().lock())?)
}

/// Runs `delete`.
pub fn run_delete(args: DeleteArgs) -> Result<Outcome, Error> {
    let source = given_source(args.source.as_deref(), "delete")?;
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    let helper = args.helper.helper_params(&conn.namespace);
    let source = match source {
        Some(source) => source,
        None => pick_archive(&rt, &conn, &helper, "delete")?,
    };
    rt.block_on(cluster::delete_archive(
        &conn.client,
        &source,
        &helper,
        ctrl_c(),
    ))?;
    writeln!(
        std::io::stdout().lock(),
        "deleted {}",
        crate::output::escape_text(&format!("{}:{}", source.node, source.path))
    )
    .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    Ok(Outcome::Success)
}

//! `kubectl checkpoint list [--node NODE | TARGET]` and `kubectl checkpoint delete NODE:PATH`.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use clap::Args;

use super::kube_args::HelperArgs;
use super::pick::{confirm, given_source, pick_archives};
use super::picker::Choose;
use super::progress::Activity;
use super::session::{collect_archives, ctrl_c, finish, render_records, runtime};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::output::{self, Style, Table};
use crate::Error;
use checkpoint_cluster::{self as cluster, ListedArchive};

/// Arguments of `kubectl checkpoint list`.
#[derive(Debug, Args)]
#[command(mut_arg("namespace", |arg| arg.help(
    "The namespace whose archives to list, of TARGET's pods, and of the helper pods that read \
     the nodes; defaults to the context's namespace"
)))]
#[command(after_help = "Examples:
  # The archives of the current namespace's pods, on every node
  kubectl checkpoint list

  # Every archive on every node, as JSON
  kubectl checkpoint list -A -o json

  # The archives on one node, with their exact sizes and times
  kubectl checkpoint list -A --node worker-1 -o wide

  # The archives of one deployment's pods, or of the pods with a label
  kubectl checkpoint list -n demo deploy/counters
  kubectl checkpoint list -n demo -l app=counters")]
pub struct ListArgs {
    /// List the archives of this target's pods (`pod/NAME`, `deploy/NAME`, ...) on their nodes.
    #[arg(value_name = "TARGET", conflicts_with_all = ["node", "selector"])]
    pub target: Option<String>,
    /// List the archives of the pods matching this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "node")]
    pub selector: Option<String>,
    /// List the archives of every namespace (and archives whose names are not the kubelet's).
    #[arg(short = 'A', long, conflicts_with_all = ["target", "selector"])]
    pub all_namespaces: bool,
    /// List the archives on this node only (default: on every node).
    #[arg(long)]
    pub node: Option<String>,
    /// Output format: `wide` adds each archive's exact size and modification time; json or
    /// yaml print records instead of a table.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(LIST_FORMATS))]
    pub output: Option<OutputFormat>,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The `-o` values list honours.
const LIST_FORMATS: &[OutputFormat] = &[
    OutputFormat::Table,
    OutputFormat::Wide,
    OutputFormat::Json,
    OutputFormat::Yaml,
];

/// Arguments of `kubectl checkpoint delete`.
#[derive(Debug, Args)]
#[command(mut_arg("namespace", |arg| arg.help(
    "The namespace of the helper pod that deletes the archive on its node; defaults to the \
     context's namespace"
)))]
#[command(after_help = "Examples:
  # Delete an archive the kubelet left on a node (it never deletes them)
  kubectl checkpoint delete worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar")]
pub struct DeleteArgs {
    /// The archives on their nodes, as `NODE:PATH`; on a terminal, left out to pick any number
    /// from a list (then confirm).
    #[arg(value_name = "NODE:PATH")]
    pub sources: Vec<String>,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs `list`.
pub fn run(args: ListArgs) -> Result<Outcome, Error> {
    let target = match (&args.target, &args.selector) {
        (None, None) => None,
        (target, selector) => Some(cluster::parse_target(
            target.as_deref(),
            selector.as_deref(),
        )?),
    };
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    // (nodes, pods to keep) per node; no pod filter with --node or no TARGET.
    let (nodes, pods): (Vec<String>, Option<BTreeSet<String>>) = match (&target, &args.node) {
        (_, Some(node)) => (vec![node.clone()], None),
        (Some(target), None) => {
            let pods =
                match rt.block_on(cluster::collect_pods(&conn.client, &conn.namespace, target)) {
                    // No pod has the labels: nothing to list, as `kubectl get -l` finds nothing.
                    Err(cluster::Error::Target(_))
                        if matches!(target, cluster::Target::Selector(_)) =>
                    {
                        Vec::new()
                    }
                    pods => pods?,
                };
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
    let show = args.output.is_none() && std::io::stderr().is_terminal();
    let (mut archives, failures) = collect_archives(&rt, &conn, &nodes, &helper, show)?;
    // Every node failed: the error goes to stderr, and nothing (not even `[]`) to stdout.
    if failures.len() == nodes.len() && !nodes.is_empty() {
        return finish(nodes.len(), failures);
    }
    let namespace = (!args.all_namespaces).then_some(conn.namespace.as_str());
    archives.retain(|a| keep(a, &pods, namespace));
    if !render_records(args.output, &archives)? {
        if archives.is_empty() {
            match namespace {
                Some(ns) => crate::messages::line(format_args!(
                    "No checkpoint archives found in namespace {ns}."
                )),
                None => crate::messages::line("No checkpoint archives found."),
            }
            return finish(nodes.len(), failures);
        }
        let wide = args.output == Some(OutputFormat::Wide);
        render_table(&archives, wide, !args.no_headers)?;
    }
    finish(nodes.len(), failures)
}

/// Keeps the archives of `namespace` (all with `-A`, `None`), and with a TARGET only those of
/// its pods.
fn keep(archive: &ListedArchive, pods: &Option<BTreeSet<String>>, namespace: Option<&str>) -> bool {
    let Some(name) = &archive.name else {
        // Not named by the kubelet: its namespace is unknown.
        return namespace.is_none() && pods.is_none();
    };
    namespace.is_none_or(|ns| name.namespace == ns)
        && pods.as_ref().is_none_or(|pods| pods.contains(&name.pod))
}

/// A kubectl-style table, one row per archive; `wide` adds the exact size and the
/// modification time.
fn render_table(archives: &[ListedArchive], wide: bool, headers: bool) -> Result<(), Error> {
    let mut columns = vec!["NAMESPACE", "POD", "CONTAINER", "TIME", "SIZE", "ARCHIVE"];
    if wide {
        columns.extend(["BYTES", "MODIFIED"]);
    }
    let mut table = Table::new(&columns);
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
        let mut row = vec![
            ns,
            pod,
            container,
            time,
            output::human_size(a.size),
            format!("{}:{}", a.node, a.path),
        ];
        if wide {
            row.push(a.size.to_string());
            row.push(a.modified.to_string());
        }
        table.row(row);
    }
    let mut out = std::io::stdout().lock();
    if headers {
        table.render(Style::default(), &mut out)?;
    } else {
        for line in table.row_lines() {
            writeln!(out, "{line}").map_err(output::Error::Io)?;
        }
    }
    Ok(())
}

/// Runs `delete`.
pub fn run_delete(args: DeleteArgs) -> Result<Outcome, Error> {
    let mut sources = Vec::new();
    for source in &args.sources {
        sources.extend(given_source(Some(source), "delete")?);
    }
    // Nothing given: on a terminal, pick (given_source fails elsewhere).
    let pick = sources.is_empty() && given_source(None, "delete")?.is_none();
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    let helper = args.helper.helper_params(&conn.namespace);
    if pick {
        sources = pick_archives(&rt, &conn, &helper, "delete", Choose::Several)?;
        let what = match sources.as_slice() {
            [one] => format!("{}:{}", one.node, one.path),
            many => format!("these {} archives", many.len()),
        };
        confirm(&format!(
            "Delete {} from the node? It cannot be undone",
            crate::output::escape_text(&what)
        ))?;
    }
    let total = sources.len();
    let mut failures = Vec::new();
    let mut out = std::io::stdout().lock();
    for source in &sources {
        let activity = Activity::new(std::io::stderr().is_terminal());
        let deleted = rt.block_on(cluster::delete_archive(
            &conn,
            source,
            &helper,
            &activity,
            ctrl_c(),
        ));
        drop(activity);
        match deleted {
            Ok(()) => writeln!(
                out,
                "deleted {}",
                crate::output::escape_text(&format!("{}:{}", source.node, source.path))
            )
            .map_err(|e| Error::Output(crate::output::Error::Io(e)))?,
            Err(cluster::Error::Interrupted) => return Err(cluster::Error::Interrupted.into()),
            Err(err) => failures.push(err),
        }
    }
    finish(total, failures)
}

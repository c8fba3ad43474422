//! `kubectl checkpoint list [--node NODE | TARGET]` and `kubectl checkpoint delete NODE:PATH...`.
//!
//! Each verb: flags, then a plan checked before any request, then the run. `list` prints each
//! node's rows the moment that node is read (a slow node never holds the others back), in
//! short columns that fit 80 columns; the path where it fits, with `-o wide`, or alone with
//! `-o name` (`NODE:PATH` lines to pipe into `delete`). Nodes a helper cannot or should not run
//! on are skipped with a note. An explicit `list` also remembers the archives it saw for a few
//! minutes, for shell completion (which never starts a helper pod itself).
//!
//! `delete` shows what it will delete (node, pod, container, time, size, file) and asks on a
//! terminal; it deletes only checkpoint archives unless `--force`.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::Mutex;

use clap::Args;

use super::kube_args::HelperArgs;
use super::pick::{confirm, given_source, interactive, pick_archives};
use super::picker::Choose;
use super::progress::Activity;
use super::session::{
    collect_archives, collect_usable_nodes, ctrl_c, finish, note_skipped_nodes, render_records,
    runtime,
};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::output::{self, Table};
use crate::Error;
use checkpoint_cluster::{self as cluster, ListedArchive, NodePath, Reporter, Target};

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

  # The archives on one node, with their exact sizes, times and paths
  kubectl checkpoint list -A --node worker-1 -o wide

  # The archives of one deployment's pods, or of the pods with a label
  kubectl checkpoint list -n demo deploy/counters
  kubectl checkpoint list -n demo -l app=counters

  # Delete every archive of a namespace
  kubectl checkpoint list -n demo -o name | xargs kubectl checkpoint delete -y")]
pub struct ListArgs {
    /// List the archives of this target's pods (`pod/NAME`, `deploy/NAME`, ..., or `TYPE
    /// NAME`) on their nodes.
    #[arg(value_name = "TARGET", conflicts_with_all = ["node", "selector"])]
    pub target: Option<String>,
    /// The NAME of `TYPE NAME`.
    #[arg(value_name = "NAME", hide = true)]
    pub name: Option<String>,
    /// List the archives of the pods matching this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "node")]
    pub selector: Option<String>,
    /// List the archives of every namespace (and archives whose names are not the kubelet's).
    #[arg(short = 'A', long, conflicts_with_all = ["target", "selector"])]
    pub all_namespaces: bool,
    /// List the archives on this node only (default: on every Ready node that is neither
    /// cordoned nor tainted against the helper).
    #[arg(long)]
    pub node: Option<String>,
    /// Output format: `wide` adds each archive's exact size, modification time and path;
    /// `name` prints `NODE:PATH` lines (for `delete`); json or yaml print records.
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
    OutputFormat::Name,
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
  kubectl checkpoint delete worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar

  # Several, without the question (as in a script)
  kubectl checkpoint list -n demo -o name | xargs kubectl checkpoint delete -y")]
pub struct DeleteArgs {
    /// The archives on their nodes, as `NODE:PATH`; on a terminal, left out to pick any number
    /// from a list.
    #[arg(value_name = "NODE:PATH")]
    pub sources: Vec<String>,
    /// Delete any file of the checkpoint directory, not only checkpoint archives.
    #[arg(long)]
    pub force: bool,
    /// Do not ask before deleting (on a terminal, `delete` shows what it will delete and asks).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// What `list` was asked, checked before any request.
struct ListPlan {
    /// The pods whose archives to list (`None`: by namespace, or all).
    target: Option<Target>,
    /// How the rows are printed.
    format: OutputFormat,
}

fn plan_list(args: &ListArgs) -> Result<ListPlan, Error> {
    let word =
        super::checkpoint::build_target_word(args.target.as_deref(), args.name.as_deref(), false)?;
    let target = match (&word, &args.selector) {
        (None, None) => None,
        (word, selector) => Some(cluster::parse_target(word.as_deref(), selector.as_deref())?),
    };
    Ok(ListPlan {
        target,
        format: args.output.unwrap_or_default(),
    })
}

/// Prints the table as the nodes' listings arrive (see [`Table::lines_continued`]).
struct RowPrinter<'a> {
    /// Table, wide or name.
    format: OutputFormat,
    /// The namespace column (with -A).
    namespaces: bool,
    /// Print the header.
    headers: bool,
    /// The terminal's width, when stdout is one (or `COLUMNS` says).
    width: Option<usize>,
    /// Which archives to show.
    keep: &'a (dyn Fn(&ListedArchive) -> bool + Sync),
    /// The bar to step around.
    activity: &'a Activity,
    /// Columns so far: widths, whether the header and the path are printed; rows printed.
    state: Mutex<PrinterState>,
}

#[derive(Default)]
struct PrinterState {
    widths: Vec<usize>,
    header_done: bool,
    /// Decided with the first rows: whether the path column fits.
    path: Option<bool>,
    rows: usize,
}

impl RowPrinter<'_> {
    fn print(&self, archives: &[ListedArchive]) -> std::io::Result<()> {
        let shown: Vec<&ListedArchive> = archives.iter().filter(|a| (self.keep)(a)).collect();
        if shown.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.rows += shown.len();
        let lines: Vec<String> = if self.format == OutputFormat::Name {
            shown
                .iter()
                .map(|a| output::escape_text(&format!("{}:{}", a.node, a.path)).into_owned())
                .collect()
        } else {
            let wide = self.format == OutputFormat::Wide;
            let path = match state.path {
                Some(path) => path,
                None => {
                    let with_path = build_table(&shown, self.namespaces, wide, true);
                    let fits = wide
                        || self
                            .width
                            .is_none_or(|width| with_path.line_width() <= width);
                    state.path = Some(fits);
                    fits
                }
            };
            let table = build_table(&shown, self.namespaces, wide, path);
            let header = self.headers && !state.header_done;
            state.header_done = true;
            table.lines_continued(&mut state.widths, header)
        };
        // Rows go out as their nodes answer, to a pipe too.
        self.activity.suspend(|| {
            crate::stdout::with(|out| {
                for line in &lines {
                    writeln!(out, "{line}")?;
                }
                out.flush()
            })
        })
    }
}

/// An archive's age as kubectl shows ages (`45s`, `12m`, `5h`, `3d`, `2y`), from the time in
/// its name, else its modification time.
fn build_age(archive: &ListedArchive, now: k8s_openapi::jiff::Timestamp) -> String {
    let taken = archive
        .name
        .as_ref()
        .and_then(|n| n.time.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .unwrap_or(archive.modified);
    let seconds = now.duration_since(taken).as_secs().max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 120 * 60 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s if s < 365 * 86400 => format!("{}d", s / 86400),
        s => format!("{}y", s / (365 * 86400)),
    }
}

/// kubectl-style rows: [NAMESPACE] POD CONTAINER NODE AGE SIZE, `wide` adding BYTES MODIFIED,
/// and PATH last when it is shown.
fn build_table(archives: &[&ListedArchive], namespaces: bool, wide: bool, path: bool) -> Table {
    let mut columns = Vec::new();
    if namespaces {
        columns.push("NAMESPACE");
    }
    columns.extend(["POD", "CONTAINER", "NODE", "AGE", "SIZE"]);
    if wide {
        columns.extend(["BYTES", "MODIFIED"]);
    }
    if path {
        columns.push("PATH");
    }
    let now = k8s_openapi::jiff::Timestamp::now();
    let mut table = Table::new(&columns);
    for a in archives {
        let (ns, pod, container) = match &a.name {
            Some(n) => (n.namespace.clone(), n.pod.clone(), n.container.clone()),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let mut row = Vec::new();
        if namespaces {
            row.push(ns);
        }
        row.extend([
            pod,
            container,
            a.node.clone(),
            build_age(a, now),
            output::human_size(a.size),
        ]);
        if wide {
            row.push(a.size.to_string());
            row.push(a.modified.to_string());
        }
        if path {
            row.push(a.path.clone());
        }
        table.row(row);
    }
    table
}

/// The width rows must fit: the terminal's when stdout is one, else `COLUMNS` when set, else
/// none (a pipe gets every column).
fn stdout_width() -> Option<usize> {
    if std::io::stdout().is_terminal() {
        return output::terminal_width();
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|c: &usize| *c >= 20)
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

/// Runs `list`.
pub fn run(args: ListArgs) -> Result<Outcome, Error> {
    let plan = plan_list(&args)?;
    let rt = runtime()?;
    let params = args.kube.connect_params(None);
    let conn = rt.block_on(cluster::connect(&params))?;
    let helper = args.helper.helper_params(&conn.namespace);
    let show = !matches!(
        plan.format,
        OutputFormat::Json | OutputFormat::Yaml | OutputFormat::Name
    ) && std::io::stderr().is_terminal();
    let activity = Activity::new(show);
    activity.waiting(&format!("the API server {}", conn.server));
    // A namespace that does not exist: one plain error, not one refused helper per node.
    if !args.all_namespaces || plan.target.is_some() {
        rt.block_on(cluster::check_namespace(&conn.client, &conn.namespace))?;
    }
    if helper.namespace != conn.namespace || args.all_namespaces {
        rt.block_on(cluster::check_namespace(&conn.client, &helper.namespace))?;
    }
    // (nodes, pods to keep) per node; no pod filter with --node or no TARGET.
    let mut skipped = Vec::new();
    let (nodes, pods): (Vec<String>, Option<BTreeSet<String>>) = match (&plan.target, &args.node) {
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
        (None, None) => {
            let (usable, left) = collect_usable_nodes(&rt, &conn, &helper)?;
            skipped = left;
            (usable, None)
        }
    };
    activity.suspend(|| note_skipped_nodes(&skipped));
    let namespace = (!args.all_namespaces).then_some(conn.namespace.as_str());
    let keep_archive = |a: &ListedArchive| keep(a, &pods, namespace);
    let printer = RowPrinter {
        format: plan.format,
        namespaces: args.all_namespaces,
        headers: !args.no_headers,
        width: stdout_width(),
        keep: &keep_archive,
        activity: &activity,
        state: Mutex::new(PrinterState::default()),
    };
    let streams = matches!(
        plan.format,
        OutputFormat::Table | OutputFormat::Wide | OutputFormat::Name
    );
    let printed: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let on_listed = |listing: &cluster::NodeListing| {
        if streams {
            if let Err(err) = printer.print(&listing.archives) {
                printed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(err);
            }
        }
    };
    let (archives, failures) =
        collect_archives(&rt, &conn, &nodes, &helper, &activity, &on_listed)?;
    drop(activity);
    if let Some(err) = printed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(Error::Output(output::Error::Io(err)));
    }
    // What completion offers for fetch and delete: what this explicit listing saw.
    super::completion::remember_archives(&params, &archives);
    // Every node failed: the error goes to stderr, and nothing (not even `[]`) to stdout.
    if failures.len() == nodes.len() && !nodes.is_empty() {
        return finish(nodes.len(), failures);
    }
    let (shown, elsewhere): (Vec<ListedArchive>, Vec<ListedArchive>) =
        archives.into_iter().partition(keep_archive);
    if !streams {
        render_records(Some(plan.format), &shown)?;
    } else if shown.is_empty() {
        let other = match (namespace, pods.is_none()) {
            (Some(_), true) => elsewhere.iter().filter(|a| a.name.is_some()).count(),
            _ => 0,
        };
        let hint = match other {
            0 => String::new(),
            1 => "; 1 archive in another namespace: use -A".to_string(),
            n => format!("; {n} archives in other namespaces: use -A"),
        };
        match namespace {
            Some(ns) => crate::messages::line(format_args!(
                "No checkpoint archives found in namespace {ns}{hint}."
            )),
            None => crate::messages::line("No checkpoint archives found."),
        }
    }
    finish(nodes.len(), failures)
}

/// What `delete` will do with one source, found out before it asks.
struct Planned {
    source: NodePath,
    /// What the node says of it (`None`: not there).
    found: Option<ListedArchive>,
}

/// Runs `delete`.
pub fn run_delete(args: DeleteArgs) -> Result<Outcome, Error> {
    let mut sources = Vec::new();
    for source in &args.sources {
        sources.extend(given_source(Some(source), "delete")?);
    }
    // Nothing given: on a terminal, pick (given_source fails elsewhere).
    let pick = sources.is_empty() && given_source(None, "delete")?.is_none();
    let total_given = sources.len();
    let mut failures = Vec::new();
    // Names that are not the kubelet's are refused before anything is sent.
    if !args.force {
        sources.retain(|source| match cluster::check_archive_name(source) {
            Ok(()) => true,
            Err(err) => {
                failures.push(err);
                false
            }
        });
        if sources.is_empty() && !pick {
            return finish(total_given, failures);
        }
    }
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    let helper = args.helper.helper_params(&conn.namespace);
    if pick {
        sources = pick_archives(&rt, &conn, &helper, "delete", Choose::Several)?;
    }
    let total = if pick { sources.len() } else { total_given };
    let ask = interactive() && !args.yes;
    let writable = cluster::HelperParams {
        writable: true,
        ..helper.clone()
    };
    let activity = Activity::new(std::io::stderr().is_terminal());
    let mut nodes: Vec<&str> = sources.iter().map(|s| s.node.as_str()).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let namespaces = rt.block_on(cluster::collect_namespaces(&conn.client));
    let run = rt.block_on(cluster::with_helpers(
        &conn,
        &writable,
        &activity,
        ctrl_c(),
        async |scope| {
            let mut outcomes = Vec::new();
            let mut helpers = Vec::new();
            let mut planned: Vec<(usize, Planned)> = Vec::new();
            for node in &nodes {
                let here: Vec<&NodePath> = sources.iter().filter(|s| s.node == *node).collect();
                activity.waiting(&format!("a helper pod on node {node}"));
                let helper = match scope.start(node, true).await {
                    Ok(helper) => helper,
                    Err(err @ cluster::Error::Interrupted(_)) => return Err(err),
                    Err(err) => {
                        // One error for the node: none of its archives can be reached.
                        outcomes.push(Err(err));
                        continue;
                    }
                };
                let facts =
                    cluster::collect_archive_facts(&helper, &here, &namespaces, &activity).await?;
                for (source, found) in here.into_iter().zip(facts) {
                    planned.push((
                        helpers.len(),
                        Planned {
                            source: source.clone(),
                            found,
                        },
                    ));
                }
                helpers.push(helper);
            }
            cluster::Progress::finish(&activity);
            if ask && !planned.is_empty() {
                let lines = render_plan(&planned.iter().map(|(_, p)| p).collect::<Vec<_>>());
                let question = match planned.len() {
                    1 => "Delete this archive from its node? It cannot be undone".to_string(),
                    n => format!("Delete these {n} archives from their nodes? It cannot be undone"),
                };
                let answer = tokio::task::spawn_blocking(move || {
                    for line in &lines {
                        crate::messages::line(line);
                    }
                    confirm(&question)
                })
                .await;
                match answer {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => return Ok(DeleteRun::Declined(err)),
                    Err(err) => {
                        return Ok(DeleteRun::Declined(Error::Usage(format!(
                            "the confirmation failed ({err}); give the archives on the command line with -y"
                        ))))
                    }
                }
            }
            for (index, one) in planned {
                let Some(helper) = helpers.get(index) else {
                    continue;
                };
                let done = cluster::delete_checked(helper, &one.source, args.force, &activity).await;
                outcomes.push(done.map(|()| one.source));
            }
            Ok(DeleteRun::Done(outcomes))
        },
    ));
    drop(activity);
    let outcomes = match run? {
        DeleteRun::Declined(err) => return Err(err),
        DeleteRun::Done(outcomes) => outcomes,
    };
    let mut deleted = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(source) => deleted.push(source),
            Err(err) => failures.push(err),
        }
    }
    crate::stdout::with(|out| {
        deleted.iter().try_for_each(|source| {
            writeln!(
                out,
                "deleted {}",
                output::escape_text(&format!("{}:{}", source.node, source.path))
            )
        })
    })
    .map_err(|e| Error::Output(output::Error::Io(e)))?;
    finish(total.max(1), failures)
}

/// How a `delete` run ended.
enum DeleteRun {
    /// The user said no (or the question could not be asked): nothing was deleted.
    Declined(Error),
    /// Each archive's outcome.
    Done(Vec<Result<NodePath, cluster::Error>>),
}

/// What `delete` is about to delete: each archive as `NODE:PATH` (whole, to copy), then what it
/// is (pod, container, when taken, size), so that two checkpoints of one container never look the
/// same.
fn render_plan(planned: &[&Planned]) -> Vec<String> {
    let mut lines = Vec::new();
    for one in planned {
        lines.push(format!("  {}:{}", one.source.node, one.source.path));
        let what = match &one.found {
            Some(found) => {
                let size = output::human_size(found.size);
                match &found.name {
                    Some(n) => format!(
                        "pod {}/{}, container {}, taken {}, {size}",
                        n.namespace, n.pod, n.container, n.time
                    ),
                    None => format!(
                        "not named like a kubelet archive, modified {}, {size}",
                        found.modified
                    ),
                }
            }
            None => "not there (nothing to delete)".to_string(),
        };
        lines.push(format!("      {what}"));
    }
    lines
}

//! What the verbs that talk to a cluster share: the runtime their requests run on, Ctrl-C (their
//! cancel signal), the records they print as JSON or YAML, the exit status of a fan-out whose
//! items fail one by one, and the archives the helper pods find on the nodes.

use serde::Serialize;

use super::progress::Activity;
use super::{Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster::{self as cluster, HelperParams, ListedArchive};

/// The multi-threaded runtime the cluster verbs drive their requests on.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| Error::Usage(format!("cannot start the async runtime: {err}")))
}
/// Completes on Ctrl-C (never, if the signal cannot be watched): the cancel signal of the verbs
/// that start helper pods, which remove them before exiting.
pub(super) async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
/// Writes `records` to stdout as JSON or YAML; false for table output (the caller prints).
pub(super) fn render_records<T: Serialize>(
    format: Option<OutputFormat>,
    records: &T,
) -> Result<bool, Error> {
    match format {
        Some(OutputFormat::Json) => crate::stdout::with(|out| {
            crate::output::write_json(records, crate::output::JsonLayout::Pretty(2), out)
        })?,
        Some(OutputFormat::Yaml) => {
            crate::stdout::with(|out| crate::output::write_yaml(records, out))?
        }
        _ => return Ok(false),
    }
    Ok(true)
}
/// Reports per-item failures on stderr; a lone failure is the verb's error.
pub(super) fn finish(total: usize, mut failures: Vec<cluster::Error>) -> Result<Outcome, Error> {
    if failures.is_empty() {
        return Ok(Outcome::Success);
    }
    if total == 1 && failures.len() == 1 {
        if let Some(err) = failures.pop() {
            return Err(err.into());
        }
    }
    for err in failures {
        crate::messages::error_of(&Error::from(err));
    }
    Ok(Outcome::PartialFailure)
}
/// A node a cluster-wide listing leaves alone: its name and why.
pub(super) type SkippedNode = (String, String);

/// The nodes a cluster-wide listing reads, and the ones it leaves alone with why (NotReady,
/// cordoned, a taint the helper does not tolerate; see [`cluster::judge_node`]).
pub(super) fn collect_usable_nodes(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    helper: &HelperParams,
) -> Result<(Vec<String>, Vec<SkippedNode>), Error> {
    let nodes = rt.block_on(cluster::collect_node_objects(&conn.client))?;
    let mut usable = Vec::new();
    let mut skipped = Vec::new();
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        match cluster::judge_node(&node, &helper.tolerations) {
            None => usable.push(name),
            Some(reason) => skipped.push((name, reason)),
        }
    }
    Ok((usable, skipped))
}

/// Says which nodes a listing left alone, and how to list each anyway.
pub(super) fn note_skipped_nodes(skipped: &[SkippedNode]) {
    for (node, reason) in skipped {
        let anyway = if reason.starts_with("it is NotReady") || reason.contains("Ready condition") {
            "its kubelet cannot run a helper pod now".to_string()
        } else {
            format!("`--node {node}` lists it all the same")
        };
        crate::messages::note(format_args!("skipped node {node}: {reason}; {anyway}"));
    }
}

/// Lists the archives on `nodes` through helper pods (a spinner on `activity` when it shows);
/// `on_listed` gets each node's archives as soon as they are read. The nodes that could not be
/// listed come back as errors beside the archives of the others, and a node without a
/// checkpoint directory has none. Ctrl-C removes the helpers and ends the listing with
/// [`cluster::Error::Interrupted`].
pub(super) fn collect_archives(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    nodes: &[String],
    helper: &HelperParams,
    activity: &Activity,
    on_listed: &(dyn Fn(&cluster::NodeListing) + Sync),
) -> Result<(Vec<ListedArchive>, Vec<cluster::Error>), Error> {
    let namespaces = rt.block_on(cluster::collect_namespaces(&conn.client));
    activity_waiting(activity, nodes);
    let results = rt.block_on(cluster::collect_listings(
        conn,
        nodes,
        helper,
        &namespaces,
        activity,
        on_listed,
        ctrl_c(),
    ))?;
    let mut archives = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(listing) => archives.extend(listing.archives),
            Err(err) => failures.push(err),
        }
    }
    Ok((archives, failures))
}

fn activity_waiting(activity: &Activity, nodes: &[String]) {
    use checkpoint_cluster::Reporter;
    activity.waiting(&match nodes {
        [node] => format!("a helper pod on node {node} to list its archives"),
        many => format!("helper pods on {} nodes to list their archives", many.len()),
    });
}

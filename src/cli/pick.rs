//! Interactive picks (dialoguer) for when a verb is not told what to act on and stdin and stderr
//! are terminals: a running pod of the namespace (the default verb), a container of a pod, an
//! archive on the nodes (`fetch`, `delete`). Without a terminal no verb prompts; each fails
//! with a message saying what to give instead.

use std::io::IsTerminal;

use k8s_openapi::api::core::v1::Pod;

use super::list::collect_archives;
use crate::cluster::{self, HelperParams, NodePath};
use crate::output::Table;
use crate::Error;

/// True when prompts and progress bars may be drawn.
pub(super) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Shows `items` (one line each) and returns the index chosen; Esc or `q` cancels.
fn select(prompt: &str, items: &[String]) -> Result<usize, Error> {
    let choice = dialoguer::Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact_opt();
    match choice {
        Ok(Some(index)) if index < items.len() => Ok(index),
        Ok(_) => Err(Error::Cancelled),
        Err(dialoguer::Error::IO(err)) if err.kind() == std::io::ErrorKind::Interrupted => {
            Err(Error::Cancelled)
        }
        Err(dialoguer::Error::IO(err)) => Err(Error::Usage(format!(
            "the interactive pick failed ({err}); give the choice on the command line"
        ))),
    }
}

/// Parses the `NODE:PATH` given to `verb`; `None` when it was left out on a terminal (the
/// caller offers a pick), an error saying what to give when it was left out elsewhere.
pub(super) fn given_source(source: Option<&str>, verb: &str) -> Result<Option<NodePath>, Error> {
    match source {
        Some(source) => Ok(Some(cluster::parse_node_path(source)?)),
        None if interactive() => Ok(None),
        None => Err(Error::Usage(format!(
            "{verb} needs the archive as NODE:PATH (as `kubectl checkpoint` prints it); `kubectl checkpoint list` shows the archives on the nodes"
        ))),
    }
}

/// Asks which running pod of the connection's namespace to checkpoint; returns its name.
pub(super) fn pick_pod(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
) -> Result<String, Error> {
    let pods = rt.block_on(cluster::collect_running_pods(&conn.client, &conn.namespace))?;
    let mut choices = Table::default();
    for pod in &pods {
        let spec = pod.spec.as_ref();
        let containers: Vec<&str> = spec
            .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
            .unwrap_or_default();
        choices.row(vec![
            pod.metadata.name.clone().unwrap_or_default(),
            spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
            containers.join(","),
        ]);
    }
    let prompt = format!("Pod of namespace {} to checkpoint", conn.namespace);
    let index = select(&prompt, &choices.row_lines())?;
    pods.get(index)
        .and_then(|pod| pod.metadata.name.clone())
        .ok_or(Error::Cancelled)
}

/// Asks which of the pod's containers `names` to checkpoint.
pub(super) fn pick_container(pod: &Pod, names: &[String]) -> Result<String, Error> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let index = select(&format!("Container of pod {pod_name} to checkpoint"), names)?;
    names.get(index).cloned().ok_or(Error::Cancelled)
}

/// Asks which archive on the cluster's nodes to `verb` (listing them through helper pods, as
/// `list` does). Nodes that cannot be listed are reported on stderr; the rest are offered.
pub(super) fn pick_archive(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    helper: &HelperParams,
    verb: &str,
) -> Result<NodePath, Error> {
    let nodes = rt.block_on(cluster::collect_nodes(&conn.client))?;
    let (archives, failures) = collect_archives(rt, conn, &nodes, helper)?;
    if archives.is_empty() {
        return match failures.into_iter().next() {
            Some(err) => Err(err.into()),
            None => Err(Error::Usage(format!(
                "no checkpoint archives on any of the {} nodes",
                nodes.len()
            ))),
        };
    }
    for err in failures {
        eprintln!("warning: {}", Error::from(err).render());
    }
    let mut choices = Table::default();
    for a in &archives {
        let (what, time) = match &a.name {
            Some(n) => (
                format!("{}/{} {}", n.namespace, n.pod, n.container),
                n.time.clone(),
            ),
            None => (
                a.path.rsplit('/').next().unwrap_or_default().into(),
                "-".into(),
            ),
        };
        choices.row(vec![
            what,
            time,
            crate::output::human_size(a.size),
            a.node.clone(),
        ]);
    }
    let index = select(
        &format!("Checkpoint archive to {verb}"),
        &choices.row_lines(),
    )?;
    let chosen = archives.get(index).ok_or(Error::Cancelled)?;
    Ok(cluster::parse_node_path(&format!(
        "{}:{}",
        chosen.node, chosen.path
    ))?)
}

//! Interactive picks for when a verb is not told what to act on and stdin and stderr are
//! terminals: a running pod of the namespace (the default verb), a container of a pod (or all of
//! them), archives on the nodes (`fetch` one, `delete` several, after a confirmation). Without a
//! terminal no verb prompts; each fails with a message saying what to give instead. The list on
//! screen is [`super::picker`]'s.

use std::io::IsTerminal;

use k8s_openapi::api::core::v1::Pod;

use super::picker::{Choose, Picker};
use super::progress::Activity;
use super::session::{collect_archives, collect_usable_nodes, note_skipped_nodes};
use crate::output::Table;
use crate::Error;
use checkpoint_cluster::{self as cluster, HelperParams, NodePath};

/// True when prompts and progress bars may be drawn.
pub(super) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Shows `rows` under `header`; returns the indices chosen.
fn choose(
    prompt: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
    choose: Choose,
) -> Result<Vec<usize>, Error> {
    // The header goes through the same column widths as the rows, as their first line (the
    // table escapes every cell for the terminal).
    let mut aligned = Table::default();
    aligned.row(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        aligned.row(row);
    }
    let mut lines = aligned.row_lines();
    let header = if lines.is_empty() {
        String::new()
    } else {
        lines.remove(0)
    };
    Picker {
        prompt,
        header: &header,
        rows: &lines,
        choose,
    }
    .run()
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
    let mut choices = Vec::new();
    for pod in &pods {
        let spec = pod.spec.as_ref();
        let containers: Vec<&str> = spec
            .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
            .unwrap_or_default();
        choices.push(vec![
            pod.metadata.name.clone().unwrap_or_default(),
            spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
            containers.join(","),
        ]);
    }
    let prompt = format!("Pod of namespace {} to checkpoint", conn.namespace);
    let chosen = choose(
        &prompt,
        &["NAME", "NODE", "CONTAINERS"],
        choices,
        Choose::One,
    )?;
    chosen
        .first()
        .and_then(|&index| pods.get(index))
        .and_then(|pod| pod.metadata.name.clone())
        .ok_or(Error::Cancelled)
}

/// Asks which of the pod's containers `names` to checkpoint; the first entry takes them all.
pub(super) fn pick_containers(pod: &Pod, names: &[String]) -> Result<Vec<String>, Error> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let mut choices = Vec::new();
    choices.push(vec![
        "(all containers)".into(),
        format!("each of the {} containers", names.len()),
    ]);
    let images = pod.spec.iter().flat_map(|s| s.containers.iter());
    for name in names {
        let image = images
            .clone()
            .find(|c| &c.name == name)
            .and_then(|c| c.image.clone())
            .unwrap_or_default();
        choices.push(vec![name.clone(), image]);
    }
    let prompt = format!("Container of pod {pod_name} to checkpoint");
    let chosen = choose(&prompt, &["CONTAINER", "IMAGE"], choices, Choose::One)?;
    match chosen.first() {
        Some(0) => Ok(names.to_vec()),
        Some(&index) => names
            .get(index - 1)
            .map(|name| vec![name.clone()])
            .ok_or(Error::Cancelled),
        None => Err(Error::Cancelled),
    }
}

/// Asks which archives on the cluster's nodes to `verb` (listing them through helper pods, as
/// `list` does): one, or with [`Choose::Several`] any number. Nodes that cannot be listed are
/// reported on stderr; the rest are offered.
pub(super) fn pick_archives(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    helper: &HelperParams,
    verb: &str,
    how_many: Choose,
) -> Result<Vec<NodePath>, Error> {
    let (nodes, skipped) = collect_usable_nodes(rt, conn, helper)?;
    note_skipped_nodes(&skipped);
    let activity = Activity::new(true);
    let (archives, failures) = collect_archives(rt, conn, &nodes, helper, &activity, &|_| {})?;
    drop(activity);
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
        crate::messages::warning_of(&Error::from(err));
    }
    // Each row says which archive it is: pod and container, when it was taken, its size, its
    // node and its file (two checkpoints of one container differ by time and file).
    let mut choices = Vec::new();
    for a in &archives {
        let file = a.path.rsplit('/').next().unwrap_or_default().to_string();
        let (what, time) = match &a.name {
            Some(n) => (
                format!("{}/{} {}", n.namespace, n.pod, n.container),
                n.time.clone(),
            ),
            None => (file.clone(), a.modified.to_string()),
        };
        choices.push(vec![
            what,
            time,
            crate::output::human_size(a.size),
            a.node.clone(),
            file,
        ]);
    }
    let chosen = choose(
        &format!("Checkpoint archive to {verb}"),
        &["ARCHIVE", "TAKEN", "SIZE", "NODE", "FILE"],
        choices,
        how_many,
    )?;
    let mut sources = Vec::new();
    for index in chosen {
        let archive = archives.get(index).ok_or(Error::Cancelled)?;
        sources.push(cluster::parse_node_path(&format!(
            "{}:{}",
            archive.node, archive.path
        ))?);
    }
    Ok(sources)
}

/// Asks `question` (default no); anything but yes cancels.
pub(super) fn confirm(question: &str) -> Result<(), Error> {
    crate::stdout::flush_before_stderr();
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_opt();
    match answer {
        Ok(Some(true)) => Ok(()),
        Ok(_) => Err(Error::Cancelled),
        Err(dialoguer::Error::IO(err)) if err.kind() == std::io::ErrorKind::Interrupted => {
            Err(Error::Cancelled)
        }
        Err(dialoguer::Error::IO(err)) => Err(Error::Usage(format!(
            "the confirmation failed ({err}); give the archives on the command line"
        ))),
    }
}

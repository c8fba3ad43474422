//! `list` and `delete`: the archives in a node's checkpoint directory, read through a helper pod,
//! and their names decoded like checkpointctl does
//! (`checkpoint-<pod>_<namespace>-<container>-<RFC3339 time>.tar`).

use std::future::Future;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::helper::{with_helper, with_helpers};
use super::{
    from_kube, Call, Connection, Error, HelperParams, NodePath, Reporter, Result, CHECKPOINT_DIR,
};

/// How many nodes are listed at the same time.
const CONCURRENCY: usize = 4;

/// The parts of a kubelet archive name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveName {
    /// The pod's name.
    pub pod: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The container's name.
    pub container: String,
    /// When the kubelet took it, as in the name (RFC 3339).
    pub time: String,
}

/// One archive on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedArchive {
    /// The node.
    pub node: String,
    /// Its path on the node.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time (RFC 3339 in JSON and YAML, as Kubernetes writes times).
    pub modified: jiff::Timestamp,
    /// What its name says, when it follows the kubelet's pattern.
    #[serde(flatten)]
    pub name: Option<ArchiveName>,
}

/// The helper command listing the directory: one `SIZE MTIME PATH` line per file. The trailing
/// `/` makes `find` enter the directory even where the mount point is a symlink.
pub fn build_list_command() -> Vec<String> {
    [
        "find",
        "/var/lib/kubelet/checkpoints/",
        "-maxdepth",
        "1",
        "-type",
        "f",
        "-exec",
        "stat",
        "-c",
        "%s %Y %n",
        "{}",
        "+",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The helper command deleting one archive (PATH is absolute, so it cannot be an option).
pub fn build_delete_command(source: &NodePath) -> Vec<String> {
    vec!["rm".into(), source.path.clone()]
}

/// Splits a kubelet archive name. The namespace and container are both joined by `-` and may
/// contain `-`; the longest of `namespaces` that fits wins, else the first `-` splits them.
pub fn decode_checkpoint_name(file: &str, namespaces: &[String]) -> Option<ArchiveName> {
    let rest = file.strip_prefix("checkpoint-")?;
    let rest = rest
        .strip_suffix(".tar")
        .or_else(|| rest.strip_suffix(".tar.gz"))
        .or_else(|| rest.strip_suffix(".tar.zst"))?;
    let (pod, rest) = rest.split_once('_')?;
    let (head, time) = split_time(rest)?;
    let namespace = namespaces
        .iter()
        .filter(|ns| {
            head.strip_prefix(ns.as_str())
                .is_some_and(|r| r.len() > 1 && r.starts_with('-'))
        })
        .max_by_key(|ns| ns.len())
        .cloned();
    let (namespace, container) = match namespace {
        Some(ns) => {
            let container = head.get(ns.len() + 1..)?.to_string();
            (ns, container)
        }
        None => {
            let (ns, container) = head.split_once('-')?;
            (ns.to_string(), container.to_string())
        }
    };
    if pod.is_empty() || namespace.is_empty() || container.is_empty() {
        return None;
    }
    Some(ArchiveName {
        pod: pod.to_string(),
        namespace,
        container,
        time: time.to_string(),
    })
}

/// Splits `<ns>-<container>-<time>` at the RFC 3339 time at its end
/// (`2023-08-24T11:24:18Z` or `2023-08-24T13:24:18+02:00`).
fn split_time(rest: &str) -> Option<(&str, &str)> {
    let bytes = rest.as_bytes();
    let time_len = if rest.ends_with('Z') {
        20
    } else if bytes.len() >= 6 && matches!(bytes.get(bytes.len() - 6), Some(b'+' | b'-')) {
        25
    } else {
        return None;
    };
    let start = bytes.len().checked_sub(time_len)?;
    let (head, time) = (rest.get(..start)?, rest.get(start..)?);
    let head = head.strip_suffix('-')?;
    let shape_ok = time.get(4..5) == Some("-") && time.get(10..11) == Some("T");
    (shape_ok && !head.is_empty()).then_some((head, time))
}

/// Parses the list command's output (`SIZE MTIME PATH` lines) into archives on `node`.
pub fn decode_listing(node: &str, output: &str, namespaces: &[String]) -> Vec<ListedArchive> {
    let mut archives: Vec<ListedArchive> = output
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ' ');
            let size = fields.next()?.parse().ok()?;
            let modified = jiff::Timestamp::from_second(fields.next()?.parse().ok()?).ok()?;
            let file = fields.next()?.rsplit('/').next()?;
            Some(ListedArchive {
                node: node.to_string(),
                path: format!("{CHECKPOINT_DIR}/{file}"),
                size,
                modified,
                name: decode_checkpoint_name(file, namespaces),
            })
        })
        .collect();
    archives.sort_by(|a, b| (a.modified, &a.path).cmp(&(b.modified, &b.path)));
    archives
}

/// The archives on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeListing {
    /// The node.
    pub node: String,
    /// Its archives, oldest first.
    pub archives: Vec<ListedArchive>,
    /// False when the node has no checkpoint directory (no checkpoint was ever taken there).
    pub has_directory: bool,
}

/// Lists the archives on `nodes` through helper pods, a few nodes at a time, each helper removed
/// as soon as its node is listed (unless kept). A node without a checkpoint directory is listed
/// as empty; the other failures come back per node. Ctrl-C (`cancel`) removes the helpers and
/// ends the call with [`Error::Interrupted`].
pub async fn collect_listings(
    conn: &Connection,
    nodes: &[String],
    params: &HelperParams,
    namespaces: &[String],
    reporter: &dyn Reporter,
    cancel: impl Future<Output = ()>,
) -> Result<Vec<Result<NodeListing>>> {
    with_helpers(conn, params, reporter, cancel, async |scope| {
        let listed = futures::stream::iter(nodes)
            .map(async |node| {
                let helper = match scope.start(node, false).await {
                    Ok(helper) => helper,
                    Err(Error::NoCheckpointDir { .. }) => {
                        return Ok(NodeListing {
                            node: node.clone(),
                            archives: Vec::new(),
                            has_directory: false,
                        })
                    }
                    Err(err) => return Err(err),
                };
                let output = helper
                    .run(
                        "listing the checkpoint directory",
                        &build_list_command(),
                        reporter,
                    )
                    .await;
                let released = scope.release(&helper).await;
                let output = output?;
                released?;
                Ok(NodeListing {
                    node: node.clone(),
                    archives: decode_listing(
                        node,
                        &String::from_utf8_lossy(&output.stdout),
                        namespaces,
                    ),
                    has_directory: true,
                })
            })
            .buffered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        Ok(listed)
    })
    .await
}

/// The names of all nodes.
pub async fn collect_nodes(client: &Client) -> Result<Vec<String>> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes
        .list(&ListParams::default())
        .await
        .map_err(|err| from_kube("listing nodes".into(), Call::Read, err))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect())
}

/// The names of all namespaces, to split archive names; empty when listing them is forbidden.
pub async fn collect_namespaces(client: &Client) -> Vec<String> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces.list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Deletes one archive through a helper pod with a writable mount (removed afterwards unless
/// kept, see [`with_helper`]). Stops early, cleaning up, when `cancel` completes.
pub async fn delete_archive(
    conn: &Connection,
    source: &NodePath,
    params: &HelperParams,
    reporter: &dyn Reporter,
    cancel: impl Future<Output = ()>,
) -> Result<()> {
    let params = HelperParams {
        writable: true,
        ..params.clone()
    };
    with_helper(
        conn,
        &source.node,
        &params,
        reporter,
        cancel,
        async |helper| {
            helper
                .run(
                    &format!("deleting {}", source.path),
                    &build_delete_command(source),
                    reporter,
                )
                .await
        },
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_kubelet_names() {
        let ns = vec![
            "demo".to_string(),
            "kube-system".to_string(),
            "kube".to_string(),
        ];
        let cases = [
            (
                "checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar",
                Some((
                    "counters-857d7978fd-jnkck",
                    "demo",
                    "counter",
                    "2023-08-24T11:24:18Z",
                )),
            ),
            (
                "checkpoint-coredns-1_kube-system-core-dns-2024-01-02T03:04:05+02:00.tar",
                Some((
                    "coredns-1",
                    "kube-system",
                    "core-dns",
                    "2024-01-02T03:04:05+02:00",
                )),
            ),
            (
                "checkpoint-p_other-ns-c-2024-01-02T03:04:05Z.tar",
                Some(("p", "other", "ns-c", "2024-01-02T03:04:05Z")),
            ),
            ("checkpoint-p_ns-c.tar", None),
            ("notes.txt", None),
            ("checkpoint-p_-2024-01-02T03:04:05Z.tar", None),
        ];
        for (file, want) in cases {
            let got = decode_checkpoint_name(file, &ns);
            let want = want.map(|(pod, namespace, container, time)| ArchiveName {
                pod: pod.into(),
                namespace: namespace.into(),
                container: container.into(),
                time: time.into(),
            });
            assert_eq!(got, want, "{file}");
        }
    }

    #[test]
    fn decodes_listing_lines() {
        let out = "9236480 1692876258 /tmp/x/node-a/checkpoint-p_demo-c-2023-08-24T11:24:18Z.tar\n\
                   12 1692876000 /var/lib/kubelet/checkpoints/other file\n\
                   garbage\n";
        let got = decode_listing("node-a", out, &["demo".to_string()]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].path, "/var/lib/kubelet/checkpoints/other file");
        assert!(got[0].name.is_none());
        assert_eq!(got[1].size, 9236480);
        assert_eq!(got[1].modified.to_string(), "2023-08-24T11:24:18Z");
        assert_eq!(
            got[1].path,
            "/var/lib/kubelet/checkpoints/checkpoint-p_demo-c-2023-08-24T11:24:18Z.tar"
        );
        assert_eq!(got[1].name.as_ref().unwrap().container, "c");
    }

    #[test]
    fn commands_are_exact() {
        assert_eq!(
            build_list_command().join(" "),
            "find /var/lib/kubelet/checkpoints/ -maxdepth 1 -type f -exec stat -c %s %Y %n {} +"
        );
        let source = NodePath {
            node: "n".into(),
            path: "/var/lib/kubelet/checkpoints/a.tar".into(),
        };
        assert_eq!(
            build_delete_command(&source),
            ["rm", "/var/lib/kubelet/checkpoints/a.tar"]
        );
    }
}

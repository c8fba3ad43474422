//! `list` and `delete`: the archives in a node's checkpoint directory, read through a helper pod,
//! and their names decoded like checkpointctl does
//! (`checkpoint-<pod>_<namespace>-<container>-<RFC3339 time>.tar`).
//!
//! A listing goes node by node, each with its own helper and deadline, and hands each node's
//! archives on as soon as they are read: a node whose helper is slow to start never holds back
//! the others' rows.
//!
//! `delete` removes only what is an archive of the kubelet: its name must follow the kubelet's
//! pattern ([`check_archive_name`], here), and on the node it must be a regular file that opens as
//! a tar holding a checkpoint (`checkpoint/`, `spec.dump` or `config.dump`;
//! [`build_delete_command`] checks in the same shell that removes it). `--force` deletes anything
//! in the directory. A file that is not there is said to be gone, in plain words.

use std::future::Future;
use std::sync::Mutex;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::helper::{with_helper, with_helpers};
use super::{
    from_kube, Call, Connection, Error, Helper, HelperParams, NodePath, Reporter, Result,
    CHECKPOINT_DIR,
};

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

/// The helper command that says each file's `SIZE MTIME PATH`, or `missing PATH`.
pub fn build_stat_command(sources: &[&NodePath]) -> Vec<String> {
    let mut command = vec![
        "sh".to_string(),
        "-c".to_string(),
        "for f; do if [ -e \"$f\" ]; then stat -c '%s %Y %n' \"$f\"; else echo \"missing $f\"; fi; done"
            .to_string(),
        "kubectl-checkpoint".to_string(),
    ];
    command.extend(sources.iter().map(|s| s.path.clone()));
    command
}

/// The helper command that deletes one archive when it is one (or anything, with `force`), and
/// says what it did on stdout: `deleted`, `gone`, `not-a-file` or `not-a-checkpoint` (see the
/// module docs). The tar is read from stdin, so a `:` in the name never makes tar look for a
/// remote host, and only as far as the first member that shows a checkpoint.
pub fn build_delete_command(source: &NodePath, force: bool) -> Vec<String> {
    const SCRIPT: &str = r#"f="$1"
if [ ! -e "$f" ] && [ ! -L "$f" ]; then echo gone; exit 0; fi
if [ "$2" != force ]; then
  if [ -L "$f" ] || [ ! -f "$f" ]; then echo not-a-file; exit 0; fi
  tar tf - < "$f" 2>/dev/null | grep -q -E '^(\./)?(checkpoint/|spec\.dump$|config\.dump$)' || { echo not-a-checkpoint; exit 0; }
fi
rm -f -- "$f" && echo deleted"#;
    vec![
        "sh".to_string(),
        "-c".to_string(),
        SCRIPT.to_string(),
        "kubectl-checkpoint".to_string(),
        source.path.clone(),
        if force { "force" } else { "check" }.to_string(),
    ]
}

/// What the delete command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The file was removed.
    Deleted,
    /// There was no such file.
    Gone,
    /// It is not a regular file (a directory, a symlink, a device).
    NotAFile,
    /// It does not open as a tar holding a checkpoint.
    NotACheckpoint,
}

/// The delete command's word (see [`build_delete_command`]).
pub fn decode_delete_output(stdout: &str) -> Option<DeleteOutcome> {
    match stdout.trim() {
        "deleted" => Some(DeleteOutcome::Deleted),
        "gone" => Some(DeleteOutcome::Gone),
        "not-a-file" => Some(DeleteOutcome::NotAFile),
        "not-a-checkpoint" => Some(DeleteOutcome::NotACheckpoint),
        _ => None,
    }
}

/// Refuses a file whose name is not a kubelet archive's (before anything is sent).
pub fn check_archive_name(source: &NodePath) -> Result<()> {
    match decode_checkpoint_name(source.basename(), &[]) {
        Some(_) => Ok(()),
        None => Err(Error::NotAnArchive {
            node: source.node.clone(),
            path: source.path.clone(),
            reason: "its name is not the kubelet's checkpoint-POD_NAMESPACE-CONTAINER-TIME.tar"
                .to_string(),
        }),
    }
}

/// Reads size and mtime of `sources` on `helper`'s node: one entry each, `None` for a file
/// that is not there.
pub async fn collect_archive_facts(
    helper: &Helper,
    sources: &[&NodePath],
    namespaces: &[String],
    reporter: &dyn Reporter,
) -> Result<Vec<Option<ListedArchive>>> {
    let output = helper
        .run(
            "reading the archives' sizes and times",
            &build_stat_command(sources),
            reporter,
        )
        .await?;
    let text = String::from_utf8_lossy(&output.stdout);
    let found = decode_listing(&helper.node, &text, namespaces);
    Ok(sources
        .iter()
        .map(|source| found.iter().find(|a| a.path == source.path).cloned())
        .collect())
}

/// Deletes `source` through `helper` (a writable one) if it is an archive (anything, with
/// `force`); see the module docs.
pub async fn delete_checked(
    helper: &Helper,
    source: &NodePath,
    force: bool,
    reporter: &dyn Reporter,
) -> Result<()> {
    if !force {
        check_archive_name(source)?;
    }
    let output = helper
        .run(
            &format!("deleting {}", source.path),
            &build_delete_command(source, force),
            reporter,
        )
        .await?;
    let not_an_archive = |reason: &str| Error::NotAnArchive {
        node: source.node.clone(),
        path: source.path.clone(),
        reason: reason.to_string(),
    };
    match decode_delete_output(&String::from_utf8_lossy(&output.stdout)) {
        Some(DeleteOutcome::Deleted) => Ok(()),
        Some(DeleteOutcome::Gone) => Err(Error::ArchiveGone {
            node: source.node.clone(),
            path: source.path.clone(),
        }),
        Some(DeleteOutcome::NotAFile) => Err(not_an_archive("it is not a regular file")),
        Some(DeleteOutcome::NotACheckpoint) => Err(not_an_archive(
            "it does not open as a tar holding checkpoint/, spec.dump or config.dump",
        )),
        None => Err(helper.exec_error(
            &format!("deleting {}", source.path),
            format!(
                "the helper said {:?}",
                String::from_utf8_lossy(&output.stdout).trim()
            ),
        )),
    }
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

/// Lists the archives on `nodes` through helper pods, [`Connection::parallel`] nodes at a time, each helper removed
/// as soon as its node is listed (unless kept), each node with its own deadline; `on_listed` gets
/// each node's listing the moment it is read. A node without a checkpoint directory is listed
/// as empty; the other failures come back per node. The results come back in the order of
/// `nodes`. Ctrl-C (`cancel`) removes the helpers and ends the call with [`Error::Interrupted`].
pub async fn collect_listings(
    conn: &Connection,
    nodes: &[String],
    params: &HelperParams,
    namespaces: &[String],
    reporter: &dyn Reporter,
    on_listed: &(dyn Fn(&NodeListing) + Sync),
    cancel: impl Future<Output = ()>,
) -> Result<Vec<Result<NodeListing>>> {
    with_helpers(conn, params, reporter, cancel, async |scope| {
        let listed: Mutex<Vec<(usize, Result<NodeListing>)>> = Mutex::new(Vec::new());
        futures::stream::iter(nodes.iter().enumerate())
            .map(async |(index, node)| {
                let result = list_one(scope, node, namespaces, reporter).await;
                if let Ok(listing) = &result {
                    on_listed(listing);
                }
                listed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((index, result));
            })
            .buffer_unordered(conn.parallel.max(1))
            .collect::<Vec<()>>()
            .await;
        let mut listed = listed.into_inner().unwrap_or_else(|e| e.into_inner());
        listed.sort_by_key(|(index, _)| *index);
        Ok(listed.into_iter().map(|(_, result)| result).collect())
    })
    .await
}

/// Lists one node through a helper of `scope`.
async fn list_one(
    scope: &super::HelperScope<'_>,
    node: &str,
    namespaces: &[String],
    reporter: &dyn Reporter,
) -> Result<NodeListing> {
    let helper = match scope.start(node, false).await {
        Ok(helper) => helper,
        Err(Error::NoCheckpointDir { .. }) => {
            return Ok(NodeListing {
                node: node.to_string(),
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
        node: node.to_string(),
        archives: decode_listing(node, &String::from_utf8_lossy(&output.stdout), namespaces),
        has_directory: true,
    })
}

/// All nodes, as the API server has them (conditions, taints, cordons).
pub async fn collect_node_objects(client: &Client) -> Result<Vec<Node>> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes
        .list(&ListParams::default())
        .await
        .map_err(|err| from_kube("listing nodes".into(), Call::Read, err))?;
    Ok(list.items)
}

/// The names of all nodes.
pub async fn collect_nodes(client: &Client) -> Result<Vec<String>> {
    Ok(collect_node_objects(client)
        .await?
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect())
}

/// Fails with [`Error::NoSuchNamespace`] when `namespace` does not exist (before helper pods
/// would be refused there one by one); a user who may not read namespaces goes on.
pub async fn check_namespace(client: &Client, namespace: &str) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces.get_opt(namespace).await {
        Ok(None) => Err(Error::NoSuchNamespace {
            namespace: namespace.to_string(),
        }),
        Ok(Some(_)) | Err(_) => Ok(()),
    }
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
/// kept, see [`with_helper`]), checked as [`delete_checked`] does unless `force`. Stops early,
/// cleaning up, when `cancel` completes.
pub async fn delete_archive(
    conn: &Connection,
    source: &NodePath,
    force: bool,
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
        async |helper| delete_checked(helper, source, force, reporter).await,
    )
    .await
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
        let command = build_delete_command(&source, false);
        assert_eq!(command[..2], ["sh", "-c"]);
        assert_eq!(
            command[3..],
            [
                "kubectl-checkpoint",
                "/var/lib/kubelet/checkpoints/a.tar",
                "check"
            ]
        );
        assert!(command[2].contains("tar tf - < \"$f\""), "{}", command[2]);
        assert!(command[2].ends_with("rm -f -- \"$f\" && echo deleted"));
        assert_eq!(build_delete_command(&source, true)[5], "force");
        let other = NodePath {
            node: "n".into(),
            path: "/var/lib/kubelet/checkpoints/b.tar".into(),
        };
        assert_eq!(
            build_stat_command(&[&source, &other])[4..],
            [
                "/var/lib/kubelet/checkpoints/a.tar",
                "/var/lib/kubelet/checkpoints/b.tar"
            ]
        );
    }

    #[test]
    fn delete_words_and_names() {
        for (word, want) in [
            ("deleted\n", Some(DeleteOutcome::Deleted)),
            ("gone", Some(DeleteOutcome::Gone)),
            ("not-a-file\n", Some(DeleteOutcome::NotAFile)),
            ("not-a-checkpoint\n", Some(DeleteOutcome::NotACheckpoint)),
            ("rm: can't remove", None),
        ] {
            assert_eq!(decode_delete_output(word), want, "{word}");
        }
        let named = |file: &str| NodePath {
            node: "n".into(),
            path: format!("{CHECKPOINT_DIR}/{file}"),
        };
        assert!(check_archive_name(&named("checkpoint-p_ns-c-2024-01-02T03:04:05Z.tar")).is_ok());
        let err = check_archive_name(&named("notes.txt")).unwrap_err();
        assert!(err.to_string().contains("pass --force"), "{err}");
    }

    /// The node's side of `delete`, run with this machine's sh, tar and grep on real files.
    #[test]
    fn the_delete_script_refuses_what_is_no_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let run = |name: &str, force: bool| {
            let source = NodePath {
                node: "n".into(),
                path: dir.path().join(name).display().to_string(),
            };
            let command = build_delete_command(&source, force);
            let out = std::process::Command::new(&command[0])
                .args(&command[1..])
                .output()
                .unwrap();
            decode_delete_output(&String::from_utf8_lossy(&out.stdout))
        };
        std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
        assert_eq!(run("notes.txt", false), Some(DeleteOutcome::NotACheckpoint));
        assert!(dir.path().join("notes.txt").exists());
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(run("sub", false), Some(DeleteOutcome::NotAFile));
        let archive = dir
            .path()
            .join("checkpoint-p_ns-c-2024-01-02T03:04:05Z.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_cksum();
        builder
            .append_data(&mut header, "spec.dump", &b"{}"[..])
            .unwrap();
        builder.finish().unwrap();
        drop(builder);
        assert_eq!(
            run("checkpoint-p_ns-c-2024-01-02T03:04:05Z.tar", false),
            Some(DeleteOutcome::Deleted)
        );
        assert!(!archive.exists());
        assert_eq!(
            run("checkpoint-p_ns-c-2024-01-02T03:04:05Z.tar", false),
            Some(DeleteOutcome::Gone)
        );
        assert_eq!(run("notes.txt", true), Some(DeleteOutcome::Deleted));
        assert!(!dir.path().join("notes.txt").exists());
    }
}

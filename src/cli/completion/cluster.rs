//! Completion candidates that come from the cluster, for the word [`Walk`] says is under the
//! cursor: namespaces (`-n`), contexts (`--context`, read from the kubeconfig, no request), pods
//! and workloads for TARGET (`NAME`, `pod/NAME`, `deploy/NAME`, ...), the containers of the
//! TARGET pod (`-c`), nodes (`--node`), and archives as `NODE:PATH` (`fetch`, `delete`).
//!
//! The connection flags already typed (`--kubeconfig`, `--context`, `-n`) are honoured, as
//! kubectl does for `kubectl get pods <TAB>`. Every lookup is bounded by a timeout and fails
//! silently: a completion never prints an error, it only offers less.
//!
//! Archives are never listed for a completion: that takes a privileged helper pod on every node,
//! and a Tab key must not make one. An explicit `kubectl checkpoint list` remembers the archives
//! it saw ([`remember_archives`]) for [`ARCHIVE_CACHE_SECONDS`], in a 0600 file under the user's
//! cache directory keyed by the cluster flags; completion offers those, or nothing.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::walk::{Slot, Walk};
use crate::cli::session::runtime;
use checkpoint_cluster::{self as cluster, ConnectParams, WorkloadKind};

/// How long the archives an explicit `list` saw are offered.
pub const ARCHIVE_CACHE_SECONDS: u64 = 600;
/// The longest one lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// TARGET prefixes and the kinds they name, as kubectl spells them.
const TARGET_KINDS: [(&str, Option<WorkloadKind>, &str); 6] = [
    ("pod/", None, "a pod"),
    (
        "deploy/",
        Some(WorkloadKind::Deployment),
        "every pod of a deployment",
    ),
    (
        "sts/",
        Some(WorkloadKind::StatefulSet),
        "every pod of a stateful set",
    ),
    (
        "ds/",
        Some(WorkloadKind::DaemonSet),
        "every pod of a daemon set",
    ),
    (
        "rs/",
        Some(WorkloadKind::ReplicaSet),
        "every pod of a replica set",
    ),
    ("job/", Some(WorkloadKind::Job), "every pod of a job"),
];

/// What the cluster offers for the word under the cursor; `None` when the slot is not one the
/// cluster knows (then the clap definition and the shell's file names answer).
pub fn collect_cluster_candidates(walk: &Walk, current: &str) -> Option<Vec<(String, String)>> {
    let local = walk.flags.iter().any(|id| id == "local");
    let wanted = match (&walk.slot, walk.verb.as_deref()) {
        (Slot::FlagValue(id), _) if id == "context" => {
            let kubeconfig = walk.value("kubeconfig").map(Path::new);
            return Some(matching(
                cluster::collect_contexts(kubeconfig)
                    .into_iter()
                    .map(|name| (name, String::new())),
                current,
            ));
        }
        (Slot::FlagValue(id), _) if id == "namespace" => Wanted::Namespaces,
        (Slot::FlagValue(id), _) if id == "node" => Wanted::Nodes,
        (Slot::FlagValue(id), None | Some("analyze")) if id == "container" => {
            Wanted::Containers(walk.positionals.first()?.clone())
        }
        (Slot::Positional { index: 0, .. }, None | Some("list")) => Wanted::Targets,
        (Slot::Positional { index: 0, .. }, Some("analyze")) if !local => Wanted::Targets,
        (Slot::Positional { index: 0, .. }, Some("fetch")) => Wanted::Archives,
        (Slot::Positional { .. }, Some("delete")) => Wanted::Archives,
        _ => return None,
    };
    let params = ConnectParams {
        kubeconfig: walk.value("kubeconfig").map(PathBuf::from),
        context: walk.value("context").map(str::to_owned),
        cluster: walk.value("cluster").map(str::to_owned),
        user: walk.value("user").map(str::to_owned),
        server: walk.value("server").map(str::to_owned),
        namespace: walk.value("namespace").map(str::to_owned),
        read_timeout: Some(LOOKUP_TIMEOUT),
        request_timeout: Some(LOOKUP_TIMEOUT),
        ..ConnectParams::default()
    };
    let found = match wanted {
        Wanted::Archives => build_cache_path(&params).and_then(|cache| read_cache(&cache)),
        wanted => collect_candidates(&params, &wanted, current),
    };
    Some(matching(found.unwrap_or_default(), current))
}

/// What to look up.
enum Wanted {
    Namespaces,
    Nodes,
    Containers(String),
    Targets,
    Archives,
}

/// The candidates that start with `current`.
fn matching(
    candidates: impl IntoIterator<Item = (String, String)>,
    current: &str,
) -> Vec<(String, String)> {
    candidates
        .into_iter()
        .filter(|(word, _)| word.starts_with(current))
        .collect()
}

/// Looks up namespaces, nodes, containers or targets; `None` on any failure.
fn collect_candidates(
    params: &ConnectParams,
    wanted: &Wanted,
    current: &str,
) -> Option<Vec<(String, String)>> {
    let rt = runtime().ok()?;
    rt.block_on(async {
        tokio::time::timeout(LOOKUP_TIMEOUT, async {
            let conn = cluster::connect(params).await.ok()?;
            let client = &conn.client;
            let ns = conn.namespace.as_str();
            let found: Vec<(String, String)> = match wanted {
                Wanted::Namespaces => cluster::collect_namespaces(client)
                    .await
                    .into_iter()
                    .map(|name| (name, String::new()))
                    .collect(),
                Wanted::Nodes => cluster::collect_nodes(client)
                    .await
                    .ok()?
                    .into_iter()
                    .map(|name| (name, String::new()))
                    .collect(),
                Wanted::Containers(target) => {
                    let target = cluster::parse_target(Some(target), None).ok()?;
                    let pods = cluster::collect_pods(client, ns, &target).await.ok()?;
                    let mut names: Vec<(String, String)> = pods
                        .iter()
                        .flat_map(|pod| pod.spec.iter().flat_map(|s| s.containers.iter()))
                        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                        .collect();
                    names.sort();
                    names.dedup_by(|a, b| a.0 == b.0);
                    names
                }
                Wanted::Targets => collect_targets(client, ns, current).await?,
                Wanted::Archives => return None,
            };
            Some(found)
        })
        .await
        .ok()
        .flatten()
    })
}

/// Pods as `NAME`, and while a kind is typed `KIND/NAME`; the kind prefixes themselves while no
/// `/` is typed.
async fn collect_targets(
    client: &kube::Client,
    namespace: &str,
    current: &str,
) -> Option<Vec<(String, String)>> {
    let pod_names = || async {
        cluster::collect_running_pods(client, namespace)
            .await
            .ok()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|pod| pod.metadata.name)
            .collect::<Vec<String>>()
    };
    let Some((kind, _)) = current.split_once('/') else {
        let mut found: Vec<(String, String)> = pod_names()
            .await
            .into_iter()
            .map(|name| (name, "pod".to_string()))
            .collect();
        found.extend(
            TARGET_KINDS
                .iter()
                .map(|(prefix, _, what)| (prefix.to_string(), what.to_string())),
        );
        return Some(found);
    };
    let prefix = format!("{kind}/");
    let (_, workload, _) = TARGET_KINDS.iter().find(|(p, _, _)| *p == prefix)?;
    let names = match workload {
        None => pod_names().await,
        Some(kind) => cluster::collect_workload_names(client, namespace, *kind)
            .await
            .ok()?,
    };
    Some(
        names
            .into_iter()
            .map(|name| (format!("{prefix}{name}"), String::new()))
            .collect(),
    )
}

/// Remembers the archives an explicit `list` saw, as `NODE:PATH` with what they are, for the
/// completion of `fetch` and `delete` (best effort: a failure only costs those completions).
pub fn remember_archives(params: &ConnectParams, archives: &[cluster::ListedArchive]) {
    let Some(cache) = build_cache_path(params) else {
        return;
    };
    let found: Vec<(String, String)> = archives
        .iter()
        .map(|archive| {
            let what = match &archive.name {
                Some(n) => format!("{}/{} {} {}", n.namespace, n.pod, n.container, n.time),
                None => String::new(),
            };
            (format!("{}:{}", archive.node, archive.path), what)
        })
        .collect();
    write_cache(&cache, &found);
}

/// `~/.cache/kubectl-checkpoint/archives-HASH`, HASH standing for the connection flags.
fn build_cache_path(params: &ConnectParams) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    // Archives belong to nodes, not namespaces: the key is the cluster, whatever -n says.
    let key = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}",
        params.kubeconfig,
        params.context,
        params.cluster,
        params.server,
        std::env::var_os("KUBECONFIG")
    );
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    Some(
        base.join("kubectl-checkpoint")
            .join(format!("archives-{}", hash.get(..16)?)),
    )
}

/// The cached candidates when the file is younger than [`ARCHIVE_CACHE_SECONDS`].
fn read_cache(path: &Path) -> Option<Vec<(String, String)>> {
    let age = std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    if age > Duration::from_secs(ARCHIVE_CACHE_SECONDS) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|line| {
                let (word, what) = line.split_once('\t')?;
                Some((word.to_string(), what.to_string()))
            })
            .collect(),
    )
}

/// Writes the cache (0600, in a 0700 directory); failures only cost the next lookup.
fn write_cache(path: &Path, found: &[(String, String)]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .is_err()
    {
        return;
    }
    let Ok(mut file) = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
    else {
        return;
    };
    for (word, what) in found {
        // Names from a node are untrusted: a tab or newline would forge entries.
        if word.contains(['\t', '\n']) || what.contains(['\t', '\n']) {
            continue;
        }
        if writeln!(file, "{word}\t{what}").is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_keyed_by_the_cluster_flags() {
        let a = ConnectParams {
            context: Some("a".into()),
            ..ConnectParams::default()
        };
        let b = ConnectParams {
            context: Some("b".into()),
            ..ConnectParams::default()
        };
        assert_ne!(build_cache_path(&a), build_cache_path(&b));
        assert_eq!(build_cache_path(&a), build_cache_path(&a));
        // -n does not matter: archives are the nodes'.
        let a_demo = ConnectParams {
            namespace: Some("demo".into()),
            ..a.clone()
        };
        assert_eq!(build_cache_path(&a), build_cache_path(&a_demo));
    }

    #[test]
    fn the_cache_round_trips_and_skips_forged_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/archives-x");
        write_cache(
            &path,
            &[
                ("n:/a.tar".into(), "demo/p c".into()),
                ("n:/b\tforged".into(), String::new()),
            ],
        );
        assert_eq!(
            read_cache(&path),
            Some(vec![("n:/a.tar".to_string(), "demo/p c".to_string())])
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

//! The default verb's fan-out: checkpoint containers several at a time (see `fan_out`) and, with `--fetch`, copy
//! each archive here. The helper pods start while the kubelets are still dumping, so their
//! start-up is hidden behind the checkpoint; each node gets one helper for all its archives.
//!
//! A checkpoint that succeeded is never lost to a failed fetch: its record comes back with the
//! fetch's error beside it. Archive paths the kubelet returns are remembered (see
//! `local_state`): the kubelet names archives by the second, so a second checkpoint of a
//! container within the same second replaces the first, and that gets a warning.
//!
//! After its checkpoint, each container's status is watched for a few seconds (see `restart`),
//! while the archives are fetched: a container the checkpoint ended comes back marked
//! `workload_restarted`. A Ctrl-C while kubelets are still dumping names those checkpoints in
//! the error: the kubelets finish them and write their archives all the same.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;

use super::clock::rfc3339;
use super::connect::collect_identity;
use super::fan_out::{Limits, PER_NODE};
use super::helper::with_helpers;
use super::local_state::{self, RecentCheckpoint};
use super::restart::{apply_restart_check, collect_restart_checks};
use super::transfer::{check_dest, transfer, Context, Started};
use super::{
    collect_checkpoint, parse_node_path, CheckpointRecord, Connection, ContainerRef, Error,
    FetchParams, FetchRecord, Interruption, NodePath, Progress, Reporter, Result,
};

/// What `--fetch` does with each archive.
pub struct FetchPlan<'a> {
    /// How to fetch.
    pub params: &'a FetchParams,
    /// Where each archive goes.
    pub dest: &'a (dyn Fn(&NodePath) -> PathBuf + Sync),
}

/// How to checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct CaptureParams {
    /// The kubelet's `timeout` per checkpoint.
    pub timeout: Option<Duration>,
    /// How often a request the API server could not deliver to a kubelet is sent again.
    pub retries: u32,
    /// How long each container's status is watched after its checkpoint (zero: not at all).
    pub restart_window: Duration,
}

/// One container's checkpoint and, with `--fetch`, its copy.
#[derive(Debug)]
pub struct Captured {
    /// The container.
    pub target: ContainerRef,
    /// The checkpoint.
    pub checkpoint: Result<CheckpointRecord>,
    /// The copy (`None` without `--fetch` or when the checkpoint failed).
    pub fetched: Option<Result<FetchRecord>>,
}

/// Checkpoints `targets` ([`Connection::parallel`] at a time, at most [`PER_NODE`] on one node,
/// a slow node never holding the others back), watches each container's status afterwards and,
/// with `fetch`, copies each archive through a helper pod on its node, started while the
/// kubelet dumps. Transient failures to reach a kubelet are retried within `params.retries`.
/// Ctrl-C (`cancel`) removes the helper pods and ends the call with [`Error::Interrupted`],
/// naming the checkpoints still under way.
pub async fn collect_checkpoints(
    conn: &Connection,
    targets: &[ContainerRef],
    params: CaptureParams,
    fetch: Option<FetchPlan<'_>>,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<Vec<Captured>> {
    let CaptureParams {
        timeout,
        retries,
        restart_window,
    } = params;
    // The checkpoints requested and not answered yet, for a Ctrl-C to name.
    let pending: Mutex<Vec<ContainerRef>> = Mutex::new(Vec::new());
    let interrupted = |helpers_removed: usize| {
        Error::Interrupted(Interruption {
            helpers_removed,
            pending: pending.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        })
    };
    let watch = async |taken: &[(Result<CheckpointRecord>, Timestamp, Instant)], announce: bool| {
        let watched: Vec<&ContainerRef> = targets
            .iter()
            .zip(taken)
            .filter(|(_, (record, ..))| record.is_ok())
            .map(|(target, _)| target)
            .collect();
        if announce && !watched.is_empty() && !restart_window.is_zero() {
            progress.waiting(&format!(
                "{} s to see that the checkpointed containers still run",
                restart_window.as_secs()
            ));
        }
        collect_restart_checks(&conn.client, &watched, restart_window).await
    };
    let checkpoints = async {
        progress.waiting(&match targets {
            [one] => format!(
                "the kubelet on node {} to checkpoint {}/{} container {}",
                one.node, one.namespace, one.pod, one.container
            ),
            many => format!("the kubelets to checkpoint {} containers", many.len()),
        });
        let limits = Limits::new(
            conn.parallel,
            PER_NODE,
            targets.iter().map(|t| t.node.as_str()),
        );
        let taken: Vec<(Result<CheckpointRecord>, Timestamp, Instant)> =
            futures::future::join_all(targets.iter().map(async |target| {
                let _place = limits.enter(&target.node).await;
                let requested = Timestamp::now();
                pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(target.clone());
                let result =
                    collect_checkpoint(&conn.client, target, timeout, retries, progress).await;
                pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|p| p != target);
                (result, requested, Instant::now())
            }))
            .await;
        warn_replaced(conn, &taken, progress).await;
        taken
    };
    let Some(plan) = fetch else {
        let mut cancel = std::pin::pin!(cancel);
        let work = async {
            let taken = checkpoints.await;
            let checks = watch(&taken, true).await;
            (taken, checks)
        };
        let (taken, checks) = tokio::select! {
            done = work => done,
            () = &mut cancel => return Err(interrupted(0)),
        };
        let fetched = std::iter::repeat_with(|| None);
        return Ok(join_outcomes(targets, taken, checks, fetched));
    };
    let mut nodes: Vec<&str> = targets.iter().map(|t| t.node.as_str()).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let outcome = with_helpers(conn, &plan.params.helper, progress, cancel, async |scope| {
        let starting = Limits::new(conn.parallel, 1, nodes.iter().copied());
        let helpers = futures::future::join_all(nodes.iter().map(async |node| {
            let _place = starting.enter(node).await;
            let helper = scope.start(node, false).await;
            (helper, Instant::now())
        }));
        let (taken, helpers, identity) =
            tokio::join!(checkpoints, helpers, collect_identity(&conn.client));
        let mut helpers: Vec<(&str, Option<Result<super::Helper>>, Instant)> = nodes
            .iter()
            .zip(helpers)
            .map(|(node, (helper, ready))| (*node, Some(helper), ready))
            .collect();
        let fetches = async {
            let mut fetched = Vec::with_capacity(targets.len());
            for (checkpoint, requested, done) in &taken {
                let Ok(record) = checkpoint else {
                    fetched.push(None);
                    continue;
                };
                let one = fetch_one(
                    conn,
                    &plan,
                    record,
                    *requested,
                    *done,
                    &mut helpers,
                    &identity,
                    progress,
                )
                .await;
                progress.finish();
                if let Err(Error::Interrupted(interruption)) = one {
                    return Err(Error::Interrupted(interruption));
                }
                fetched.push(Some(one));
            }
            Ok(fetched)
        };
        // The containers are watched while their archives are fetched.
        let (fetched, checks) = tokio::join!(fetches, watch(&taken, false));
        let fetched = fetched?;
        Ok(join_outcomes(targets, taken, checks, fetched))
    })
    .await;
    match outcome {
        Err(Error::Interrupted(interruption)) => Err(interrupted(interruption.helpers_removed)),
        other => other,
    }
}

/// Each target with its checkpoint (marked when the container restarted: `checks` holds one
/// check per successful checkpoint, in order) and its copy.
fn join_outcomes(
    targets: &[ContainerRef],
    taken: Vec<(Result<CheckpointRecord>, Timestamp, Instant)>,
    checks: Vec<super::RestartCheck>,
    fetched: impl IntoIterator<Item = Option<Result<FetchRecord>>>,
) -> Vec<Captured> {
    let mut checks = checks.into_iter();
    targets
        .iter()
        .zip(taken)
        .zip(fetched)
        .map(|((target, (mut checkpoint, ..)), fetched)| {
            if let Ok(record) = &mut checkpoint {
                let check = checks.next().unwrap_or_default();
                apply_restart_check(record, target.status.as_ref(), &check);
            }
            Captured {
                target: target.clone(),
                checkpoint,
                fetched,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn fetch_one(
    conn: &Connection,
    plan: &FetchPlan<'_>,
    record: &CheckpointRecord,
    requested: Timestamp,
    checkpointed: Instant,
    helpers: &mut [(&str, Option<Result<super::Helper>>, Instant)],
    identity: &std::result::Result<super::connect::Identity, String>,
    progress: &dyn Progress,
) -> Result<FetchRecord> {
    let source = parse_node_path(&format!("{}:{}", record.node, record.path))?;
    let dest = (plan.dest)(&source);
    check_dest(&dest, plan.params.overwrite).await?;
    let Some((_, slot, ready)) = helpers.iter_mut().find(|(n, ..)| *n == record.node) else {
        return Err(Error::Transfer {
            node: record.node.clone(),
            path: record.path.clone(),
            reason: "no helper pod was started on this node".into(),
        });
    };
    let helper = match slot {
        Some(Ok(helper)) => helper,
        failed => {
            return Err(match failed.take() {
                Some(Err(err)) => err,
                _ => Error::Transfer {
                    node: record.node.clone(),
                    path: record.path.clone(),
                    reason: "the helper pod on this node could not start (see the error above)"
                        .into(),
                },
            })
        }
    };
    let started = Started::now();
    transfer(
        conn,
        helper,
        &source,
        &dest,
        plan.params,
        progress,
        Context {
            started: &started,
            helper_start: ready.saturating_duration_since(checkpointed).as_secs_f64(),
            identity: identity.clone(),
            checkpoint: Some((record, requested)),
        },
    )
    .await
}

/// Remembers the archive paths just taken and warns about any the kubelet reused: the earlier
/// archive at that path was replaced.
async fn warn_replaced(
    conn: &Connection,
    taken: &[(Result<CheckpointRecord>, Timestamp, Instant)],
    reporter: &dyn Reporter,
) {
    let Some(dir) = local_state::state_dir() else {
        return;
    };
    let recent: Vec<RecentCheckpoint> = taken
        .iter()
        .filter_map(|(record, requested, _)| record.as_ref().ok().map(|r| (r, requested)))
        .map(|(record, requested)| RecentCheckpoint {
            server: conn.server.clone(),
            node: record.node.clone(),
            path: record.path.clone(),
            taken: rfc3339(*requested),
        })
        .collect();
    if recent.is_empty() {
        return;
    }
    let replaced = tokio::task::spawn_blocking(move || {
        local_state::update(&dir, |state| {
            recent
                .into_iter()
                .filter_map(|c| state.remember_checkpoint(c))
                .collect::<Vec<_>>()
        })
    })
    .await;
    for earlier in replaced.ok().and_then(|r| r.ok()).unwrap_or_default() {
        reporter.warning(&format!(
            "{}:{} was written again: the kubelet names archives by the second, so this checkpoint replaced the one taken at {} (fetch an archive before checkpointing the container again)",
            earlier.node, earlier.path, earlier.taken
        ));
    }
}

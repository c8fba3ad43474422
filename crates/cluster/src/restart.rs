//! Whether a checkpoint ended its container: CRIU stops every process of the container with
//! ptrace and lets it go afterwards, and a process whose current system call is not restarted
//! after that interruption returns early. busybox 1.36's `sleep` does: a container whose main
//! process is one long `sleep` exits (code 0, `Completed`) the moment the dump is done, and the
//! kubelet starts it again (restartCount + 1, a new container ID). A forensic checkpoint must not
//! end a production workload unnoticed, so after each checkpoint the container's status is read
//! again for a few seconds ([`collect_restart_checks`]) and compared with the one read before
//! ([`judge_restart`], pure).

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::{CheckpointRecord, ContainerRef};

/// How often the status is read while watching.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How many pods are read at the same time.
const CONCURRENCY: usize = 8;

/// What the kubelet reported about one container, at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContainerSnapshot {
    /// `containerID` (`containerd://...`, `cri-o://...`).
    pub container_id: Option<String>,
    /// `restartCount`.
    pub restart_count: i32,
    /// Whether it runs (`state.running`).
    pub running: bool,
    /// How it ended, when it is not running: `Completed, exit code 0` (`state.terminated`), or
    /// the reason it waits (`CrashLoopBackOff`).
    pub not_running: Option<String>,
    /// How its previous run ended (`lastState.terminated`), if it ran before.
    pub last_ended: Option<String>,
}

/// The status of `container` in `pod`, if the kubelet reported one.
pub fn read_snapshot(pod: &Pod, container: &str) -> Option<ContainerSnapshot> {
    let status = pod
        .status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == container)?;
    Some(snapshot_of(status))
}

fn snapshot_of(status: &ContainerStatus) -> ContainerSnapshot {
    let state = status.state.as_ref();
    let terminated = |t: &k8s_openapi::api::core::v1::ContainerStateTerminated| {
        format!(
            "{}, exit code {}",
            t.reason.as_deref().unwrap_or("terminated"),
            t.exit_code
        )
    };
    let not_running = match state {
        Some(s) if s.running.is_some() => None,
        Some(s) => match (&s.terminated, &s.waiting) {
            (Some(t), _) => Some(terminated(t)),
            (None, Some(w)) => Some(w.reason.clone().unwrap_or_else(|| "waiting".into())),
            (None, None) => Some("in no state".into()),
        },
        None => Some("in no state".into()),
    };
    ContainerSnapshot {
        container_id: status.container_id.clone().filter(|id| !id.is_empty()),
        restart_count: status.restart_count,
        running: state.is_some_and(|s| s.running.is_some()),
        not_running,
        last_ended: status
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(terminated),
    }
}

/// How the container ended, when `after` shows that it did since `before`: it restarted (a
/// higher restart count, another container ID), or it is not running any more.
pub fn judge_restart(before: &ContainerSnapshot, after: &ContainerSnapshot) -> Option<String> {
    let restarted = after.restart_count > before.restart_count
        || matches!((&before.container_id, &after.container_id), (Some(a), Some(b)) if a != b);
    if restarted {
        return Some(match &after.last_ended {
            Some(how) => format!("it exited ({how}) and the kubelet started it again"),
            None => "the kubelet started it again".to_string(),
        });
    }
    if before.running && !after.running {
        return Some(format!(
            "it is not running any more ({})",
            after.not_running.as_deref().unwrap_or("stopped")
        ));
    }
    None
}

/// What watching one container after its checkpoint found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestartCheck {
    /// The last status read (`None`: the pod could not be read).
    pub after: Option<ContainerSnapshot>,
    /// How the container ended, if it did.
    pub ended: Option<String>,
}

/// Reads each target's status every half second for up to `window` (or until every one of
/// them is known to have ended), and judges it against the status read before the checkpoint
/// (`ContainerRef::status`). A target without a status from before is read once, and not
/// judged.
pub async fn collect_restart_checks(
    client: &Client,
    targets: &[&ContainerRef],
    window: Duration,
) -> Vec<RestartCheck> {
    let mut checks: Vec<RestartCheck> = vec![RestartCheck::default(); targets.len()];
    if window.is_zero() || targets.is_empty() {
        return checks;
    }
    let deadline = Instant::now() + window;
    loop {
        let open: Vec<usize> = (0..targets.len())
            .filter(|&i| checks.get(i).is_some_and(|c| c.ended.is_none()))
            .collect();
        let read: Vec<(usize, Option<ContainerSnapshot>)> = futures::stream::iter(open)
            .map(async |i| {
                let Some(target) = targets.get(i) else {
                    return (i, None);
                };
                let pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
                let pod = pods.get_opt(&target.pod).await.ok().flatten();
                (i, pod.and_then(|p| read_snapshot(&p, &target.container)))
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (i, after) in read {
            let (Some(check), Some(target)) = (checks.get_mut(i), targets.get(i)) else {
                continue;
            };
            if let (Some(before), Some(after)) = (&target.status, &after) {
                check.ended = judge_restart(before, after);
            }
            if after.is_some() {
                check.after = after;
            }
        }
        let all_ended = checks.iter().all(|c| c.ended.is_some());
        let left = deadline.saturating_duration_since(Instant::now());
        if all_ended || left.is_zero() {
            return checks;
        }
        tokio::time::sleep(POLL_INTERVAL.min(left)).await;
    }
}

/// Writes what the watch found into the checkpoint's record.
pub fn apply_restart_check(
    record: &mut CheckpointRecord,
    before: Option<&ContainerSnapshot>,
    check: &RestartCheck,
) {
    record.container_id_before = before.and_then(|b| b.container_id.clone());
    record.restart_count_before = before.map(|b| b.restart_count);
    record.container_id_after = check.after.as_ref().and_then(|a| a.container_id.clone());
    record.restart_count_after = check.after.as_ref().map(|a| a.restart_count);
    record.workload_restarted = check.ended.is_some();
    record.restart_reason = check.ended.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(id: &str, restarts: i32) -> ContainerSnapshot {
        ContainerSnapshot {
            container_id: Some(id.into()),
            restart_count: restarts,
            running: true,
            not_running: None,
            last_ended: None,
        }
    }

    #[test]
    fn a_restart_or_an_exit_is_found() {
        let before = running("containerd://a", 0);
        assert_eq!(judge_restart(&before, &before.clone()), None);
        let restarted = ContainerSnapshot {
            last_ended: Some("Completed, exit code 0".into()),
            ..running("containerd://b", 1)
        };
        assert_eq!(
            judge_restart(&before, &restarted).as_deref(),
            Some("it exited (Completed, exit code 0) and the kubelet started it again")
        );
        // A new ID alone (a count not yet updated) is a restart too.
        assert!(judge_restart(&before, &running("containerd://b", 0)).is_some());
        let exited = ContainerSnapshot {
            running: false,
            not_running: Some("Completed, exit code 0".into()),
            ..running("containerd://a", 0)
        };
        assert_eq!(
            judge_restart(&before, &exited).as_deref(),
            Some("it is not running any more (Completed, exit code 0)")
        );
        let backoff = ContainerSnapshot {
            running: false,
            not_running: Some("CrashLoopBackOff".into()),
            ..running("containerd://a", 0)
        };
        assert!(judge_restart(&before, &backoff)
            .unwrap()
            .contains("CrashLoopBackOff"));
    }

    #[test]
    fn snapshots_read_the_kubelets_fields() {
        use k8s_openapi::api::core::v1::{
            ContainerState, ContainerStateRunning, ContainerStateTerminated, PodStatus,
        };
        let pod = Pod {
            status: Some(PodStatus {
                container_statuses: Some(vec![ContainerStatus {
                    name: "main".into(),
                    container_id: Some("cri-o://new".into()),
                    restart_count: 1,
                    state: Some(ContainerState {
                        running: Some(ContainerStateRunning::default()),
                        ..Default::default()
                    }),
                    last_state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: 0,
                            reason: Some("Completed".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let snapshot = read_snapshot(&pod, "main").unwrap();
        assert_eq!(snapshot.container_id.as_deref(), Some("cri-o://new"));
        assert_eq!(snapshot.restart_count, 1);
        assert!(snapshot.running);
        assert_eq!(
            snapshot.last_ended.as_deref(),
            Some("Completed, exit code 0")
        );
        assert!(read_snapshot(&pod, "other").is_none());
    }
}

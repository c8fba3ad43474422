//! TARGET arguments (`pod/NAME`, `NAME`, `deploy/NAME`, `-l SELECTOR`): parsing, listing their
//! pods, and choosing the container of each pod.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::ListParams;
use kube::{Api, Client};

use super::{from_kube, Call, ContainerRef, Error, Result};

/// The pod annotation naming the container kubectl picks by default.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// A workload whose pods a TARGET names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// `deploy/NAME`.
    Deployment,
    /// `sts/NAME`.
    StatefulSet,
    /// `ds/NAME`.
    DaemonSet,
    /// `rs/NAME`.
    ReplicaSet,
    /// `job/NAME`.
    Job,
}

/// What the user asked to checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One pod by name.
    Pod(String),
    /// All pods of a workload.
    Workload(WorkloadKind, String),
    /// All pods matching a label selector.
    Selector(String),
}

/// Parses TARGET and `-l` (exactly one of them must be given).
pub fn parse_target(target: Option<&str>, selector: Option<&str>) -> Result<Target> {
    match (target, selector) {
        (Some(_), Some(_)) => Err(Error::Target(
            "give either TARGET or -l SELECTOR, not both".into(),
        )),
        (None, None) => Err(Error::Target(
            "what to checkpoint? give TARGET (pod/NAME, NAME, deploy/NAME, sts/NAME, ds/NAME) or -l SELECTOR".into(),
        )),
        (None, Some(selector)) if selector.trim().is_empty() => {
            Err(Error::Target("-l needs a label selector such as app=web".into()))
        }
        (None, Some(selector)) => Ok(Target::Selector(selector.to_string())),
        (Some(target), None) => {
            let Some((kind, name)) = target.split_once('/') else {
                return non_empty(target).map(|n| Target::Pod(n.to_string()));
            };
            let name = non_empty(name)?.to_string();
            let kind = match kind.to_ascii_lowercase().as_str() {
                "po" | "pod" | "pods" => return Ok(Target::Pod(name)),
                "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps" => {
                    WorkloadKind::Deployment
                }
                "sts" | "statefulset" | "statefulsets" | "statefulset.apps" | "statefulsets.apps" => {
                    WorkloadKind::StatefulSet
                }
                "ds" | "daemonset" | "daemonsets" | "daemonset.apps" | "daemonsets.apps" => {
                    WorkloadKind::DaemonSet
                }
                "rs" | "replicaset" | "replicasets" | "replicaset.apps" | "replicasets.apps" => {
                    WorkloadKind::ReplicaSet
                }
                "job" | "jobs" | "job.batch" | "jobs.batch" => WorkloadKind::Job,
                other => {
                    return Err(Error::Target(format!(
                        "unknown kind {other:?} in TARGET {target:?}: use pod, deploy, sts, ds, rs or job"
                    )))
                }
            };
            Ok(Target::Workload(kind, name))
        }
    }
}

fn non_empty(name: &str) -> Result<&str> {
    if name.is_empty() || name.contains('/') {
        Err(Error::Target(format!("{name:?} is not a name")))
    } else {
        Ok(name)
    }
}

/// A label selector in the string form the API takes (`a=b,c in (d,e),!f`).
pub fn build_selector(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for expr in selector.match_expressions.iter().flatten() {
        let values = expr.values.clone().unwrap_or_default().join(",");
        parts.push(match expr.operator.as_str() {
            "In" => format!("{} in ({values})", expr.key),
            "NotIn" => format!("{} notin ({values})", expr.key),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            other => format!("{} {other} ({values})", expr.key),
        });
    }
    parts.join(",")
}

/// Lists the pods TARGET names, in name order.
pub async fn collect_pods(client: &Client, namespace: &str, target: &Target) -> Result<Vec<Pod>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let (selector, described) = match target {
        Target::Pod(name) => {
            let pod = pods.get(name).await.map_err(|err| {
                from_kube(format!("getting pod {namespace}/{name}"), Call::Read, err)
            })?;
            return Ok(vec![pod]);
        }
        Target::Selector(selector) => (selector.clone(), format!("selector {selector:?}")),
        Target::Workload(kind, name) => {
            let what = format!("getting {kind:?} {namespace}/{name}");
            let c = client.clone();
            let selector = match kind {
                WorkloadKind::Deployment => Api::<Deployment>::namespaced(c, namespace)
                    .get(name)
                    .await
                    .map(|w| w.spec.map(|s| s.selector)),
                WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(c, namespace)
                    .get(name)
                    .await
                    .map(|w| w.spec.map(|s| s.selector)),
                WorkloadKind::DaemonSet => Api::<DaemonSet>::namespaced(c, namespace)
                    .get(name)
                    .await
                    .map(|w| w.spec.map(|s| s.selector)),
                WorkloadKind::ReplicaSet => Api::<ReplicaSet>::namespaced(c, namespace)
                    .get(name)
                    .await
                    .map(|w| w.spec.map(|s| s.selector)),
                WorkloadKind::Job => Api::<Job>::namespaced(c, namespace)
                    .get(name)
                    .await
                    .map(|w| w.spec.and_then(|s| s.selector)),
            }
            .map_err(|err| from_kube(what.clone(), Call::Read, err))?;
            let selector = selector.map(|s| build_selector(&s)).unwrap_or_default();
            if selector.is_empty() {
                return Err(Error::Target(format!("{what}: it has no pod selector")));
            }
            (selector, format!("{kind:?} {name}"))
        }
    };
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|err| {
            from_kube(
                format!("listing pods of {described} in {namespace}"),
                Call::Read,
                err,
            )
        })?;
    let mut items = list.items;
    if items.is_empty() {
        return Err(Error::Target(format!(
            "no pods of {described} in namespace {namespace}"
        )));
    }
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(items)
}

/// The running pods of `namespace` (those that can be checkpointed), in name order: what the
/// interactive pick offers when no TARGET is given.
pub async fn collect_running_pods(client: &Client, namespace: &str) -> Result<Vec<Pod>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().fields("status.phase=Running"))
        .await
        .map_err(|err| from_kube(format!("listing pods in {namespace}"), Call::Read, err))?;
    let mut items = list.items;
    if items.is_empty() {
        return Err(Error::Target(format!(
            "no running pods in namespace {namespace} (choose another with -n)"
        )));
    }
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(items)
}

/// The outcome of choosing a pod's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerChoice {
    /// `-c`, the default-container annotation, or the only container.
    One(String),
    /// Several containers and nothing to choose by; the caller asks or fails.
    Ambiguous(Vec<String>),
}

/// Names of the workloads of `kind` in `namespace` (for completion).
pub async fn collect_workload_names(
    client: &Client,
    namespace: &str,
    kind: WorkloadKind,
) -> Result<Vec<String>> {
    async fn names<K>(api: Api<K>) -> std::result::Result<Vec<String>, kube::Error>
    where
        K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
    {
        let list = api.list(&ListParams::default()).await?;
        Ok(list
            .items
            .iter()
            .filter_map(|item| item.meta().name.clone())
            .collect())
    }
    let c = client.clone();
    let found = match kind {
        WorkloadKind::Deployment => names(Api::<Deployment>::namespaced(c, namespace)).await,
        WorkloadKind::StatefulSet => names(Api::<StatefulSet>::namespaced(c, namespace)).await,
        WorkloadKind::DaemonSet => names(Api::<DaemonSet>::namespaced(c, namespace)).await,
        WorkloadKind::ReplicaSet => names(Api::<ReplicaSet>::namespaced(c, namespace)).await,
        WorkloadKind::Job => names(Api::<Job>::namespaced(c, namespace)).await,
    };
    found.map_err(|err| from_kube(format!("listing {kind:?}s in {namespace}"), Call::Read, err))
}

/// Names of the pod's (regular) containers.
fn container_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
        .collect()
}

/// Chooses the container: `requested`, else the default-container annotation, else the only one.
pub fn choose_container(pod: &Pod, requested: Option<&str>) -> Result<ContainerChoice> {
    let names = container_names(pod);
    if let Some(name) = requested {
        if names.iter().any(|n| n == name) {
            return Ok(ContainerChoice::One(name.to_string()));
        }
        return Err(Error::NoSuchContainer {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            pod: pod.metadata.name.clone().unwrap_or_default(),
            container: name.to_string(),
            containers: names,
        });
    }
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .filter(|name| names.contains(name));
    if let Some(name) = annotated {
        return Ok(ContainerChoice::One(name.clone()));
    }
    match names.as_slice() {
        [only] => Ok(ContainerChoice::One(only.clone())),
        _ => Ok(ContainerChoice::Ambiguous(names)),
    }
}

/// Where `container` of `pod` runs; fails for pods that are not running on a node.
pub fn pod_ref(pod: &Pod, container: &str) -> Result<ContainerRef> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    let state = match (&node, phase.as_str()) {
        (None, _) => Some(format!("is {phase} and not scheduled to a node")),
        (Some(_), "Running") => None,
        (Some(node), "Pending") => Some(format!(
            "is Pending on node {node} (its containers have not started)"
        )),
        (Some(_), other) => Some(format!("has finished (phase {other})")),
    };
    match (state, node) {
        (None, Some(node)) => Ok(ContainerRef {
            node,
            namespace,
            pod: name,
            container: container.to_string(),
            status: super::restart::read_snapshot(pod, container),
        }),
        (state, _) => Err(Error::PodNotRunning {
            namespace,
            pod: name,
            state: state.unwrap_or_default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use std::collections::BTreeMap;

    fn pod(containers: &[&str], annotation: Option<&str>, node: Option<&str>, phase: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some("p".into());
        p.metadata.namespace = Some("ns".into());
        if let Some(a) = annotation {
            p.metadata.annotations = Some(BTreeMap::from([(
                DEFAULT_CONTAINER_ANNOTATION.to_string(),
                a.to_string(),
            )]));
        }
        p.spec = Some(PodSpec {
            containers: containers
                .iter()
                .map(|n| Container {
                    name: n.to_string(),
                    ..Default::default()
                })
                .collect(),
            node_name: node.map(String::from),
            ..Default::default()
        });
        p.status = Some(PodStatus {
            phase: Some(phase.into()),
            ..Default::default()
        });
        p
    }

    #[test]
    fn parses_targets() {
        let cases = [
            ("pod/web-1", Target::Pod("web-1".into())),
            ("web-1", Target::Pod("web-1".into())),
            ("po/x", Target::Pod("x".into())),
            (
                "deploy/web",
                Target::Workload(WorkloadKind::Deployment, "web".into()),
            ),
            (
                "deployment.apps/web",
                Target::Workload(WorkloadKind::Deployment, "web".into()),
            ),
            (
                "sts/db",
                Target::Workload(WorkloadKind::StatefulSet, "db".into()),
            ),
            (
                "statefulsets/db",
                Target::Workload(WorkloadKind::StatefulSet, "db".into()),
            ),
            (
                "ds/agent",
                Target::Workload(WorkloadKind::DaemonSet, "agent".into()),
            ),
            (
                "daemonset/agent",
                Target::Workload(WorkloadKind::DaemonSet, "agent".into()),
            ),
            ("job/j", Target::Workload(WorkloadKind::Job, "j".into())),
        ];
        for (input, want) in cases {
            assert_eq!(parse_target(Some(input), None).unwrap(), want, "{input}");
        }
        assert_eq!(
            parse_target(None, Some("app=web")).unwrap(),
            Target::Selector("app=web".into())
        );
        for bad in ["svc/x", "pod/", "a/b/c", ""] {
            assert!(parse_target(Some(bad), None).is_err(), "{bad}");
        }
        assert!(parse_target(Some("x"), Some("a=b")).is_err());
        assert!(parse_target(None, None).is_err());
    }

    #[test]
    fn builds_selectors() {
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([
                ("app".to_string(), "web".to_string()),
                ("tier".to_string(), "front".to_string()),
            ])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "env".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "gone".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
                LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "Exists".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            build_selector(&selector),
            "app=web,tier=front,env in (a,b),!gone,x"
        );
    }

    #[test]
    fn chooses_containers() {
        let one = pod(&["app"], None, Some("n"), "Running");
        assert_eq!(
            choose_container(&one, None).unwrap(),
            ContainerChoice::One("app".into())
        );
        let two = pod(&["app", "sidecar"], None, Some("n"), "Running");
        assert_eq!(
            choose_container(&two, None).unwrap(),
            ContainerChoice::Ambiguous(vec!["app".into(), "sidecar".into()])
        );
        assert_eq!(
            choose_container(&two, Some("sidecar")).unwrap(),
            ContainerChoice::One("sidecar".into())
        );
        let annotated = pod(&["app", "sidecar"], Some("sidecar"), Some("n"), "Running");
        assert_eq!(
            choose_container(&annotated, None).unwrap(),
            ContainerChoice::One("sidecar".into())
        );
        let stale = pod(&["app", "sidecar"], Some("gone"), Some("n"), "Running");
        assert!(matches!(
            choose_container(&stale, None).unwrap(),
            ContainerChoice::Ambiguous(_)
        ));
        let err = choose_container(&two, Some("nope"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no container \"nope\"") && err.contains("app, sidecar"),
            "{err}"
        );
    }

    #[test]
    fn refuses_pods_that_do_not_run() {
        let running = pod(&["c"], None, Some("node-a"), "Running");
        assert_eq!(pod_ref(&running, "c").unwrap().node, "node-a");
        let cases = [
            (
                pod(&["c"], None, None, "Pending"),
                "not scheduled to a node",
            ),
            (pod(&["c"], None, Some("n"), "Pending"), "have not started"),
            (
                pod(&["c"], None, Some("n"), "Succeeded"),
                "has finished (phase Succeeded)",
            ),
        ];
        for (p, want) in cases {
            let err = pod_ref(&p, "c").unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("ns/p"), "{err}");
        }
    }
}

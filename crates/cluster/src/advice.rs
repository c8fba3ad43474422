//! The one place that turns an API status (from the API server, or a kubelet's plain text that
//! kube wrapped into a `Status`) into a [`Problem`] and a hint for the user.

use std::fmt;

use kube::core::Status;

/// Which request failed; the same status means different things for different requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `POST /api/v1/nodes/{node}/proxy/checkpoint/...`.
    Checkpoint,
    /// Reading pods or workloads.
    Read,
    /// Creating, deleting or exec'ing into the helper pod.
    Helper,
    /// Creating the pod (and quarantine namespace and NetworkPolicy) of a restore.
    Restore,
}

/// What went wrong, as far as the status tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// 401: the credentials were rejected.
    Unauthorized,
    /// 403 from the API server: RBAC denies the request.
    ApiForbidden,
    /// 403 from the kubelet: the API server's kubelet-client identity lacks `nodes/checkpoint`.
    KubeletForbidden,
    /// 403: Pod Security admission refuses the helper pod (its hostPath volume).
    PodSecurity,
    /// 403: OpenShift's security context constraints refuse the helper pod.
    SecurityContextConstraints,
    /// 404 with no message from the kubelet: the checkpoint route is missing.
    FeatureGateOff,
    /// 404 `pod does not exist`: the kubelet does not know the pod.
    PodNotOnKubelet,
    /// 404 `container X does not exist`.
    ContainerNotOnKubelet,
    /// 404 `cannot parse value of timeout parameter`.
    BadTimeout,
    /// 404 for an API object (node, pod, workload).
    NotFound,
    /// 500: CRI-O runs without `enable_criu_support = true`.
    CrioWithoutCriu,
    /// 500: containerd found no (recent enough) CRIU.
    ContainerdWithoutCriu,
    /// 500: the runtime does not implement `CheckpointContainer`.
    RuntimeTooOld,
    /// 500: the runtime failed in another way; the message holds its text.
    RuntimeFailed,
    /// 504 or a server-side timeout.
    Timeout,
    /// Anything else.
    Other,
}

/// A failed request's status code, the server's text, and what the user can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// The HTTP status code.
    pub code: u16,
    /// The classification.
    pub problem: Problem,
    /// The server's message, trimmed.
    pub message: String,
    /// What to do, possibly several lines (an RBAC rule as YAML).
    pub hint: Option<String>,
}

/// The status code and the server's message, on one line. The hint is ours and may span lines
/// (a role as YAML), so it is not part of this text: the message comes from the server and is
/// escaped where it is shown, the hint is printed as written, after it ([`Advice::hint`]).
impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.code, self.message)
    }
}

const NODES_PROXY_RULE: &str = "\
you need `create` on `nodes/proxy` (check: kubectl auth can-i create nodes --subresource=proxy).
Ask a cluster admin to bind a role like this one to you:
  apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    name: container-checkpointer
  rules:
  - apiGroups: [\"\"]
    resources: [\"nodes/proxy\"]
    verbs: [\"create\"]";

const KUBELET_CHECKPOINT_RULE: &str = "\
the kubelet refused the API server's own kubelet-client identity: it lacks `create` on
`nodes/checkpoint` (the built-in system:kubelet-api-admin role does not grant it).
Bind a role like this one to the user the kube-apiserver presents to kubelets
(its --kubelet-client-certificate, e.g. kube-apiserver-kubelet-client):
  apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    name: kubelet-checkpoint
  rules:
  - apiGroups: [\"\"]
    resources: [\"nodes/checkpoint\"]
    verbs: [\"create\"]";

const POD_SECURITY: &str = "\
the helper pod's namespace enforces a Pod Security level below `privileged`, and the helper mounts
the kubelet's checkpoint directory (a hostPath volume). Run the helpers in a namespace of their own:
  kubectl create namespace checkpoint-helpers
  kubectl label namespace checkpoint-helpers pod-security.kubernetes.io/enforce=privileged
and pass --helper-namespace checkpoint-helpers (see docs/rbac.md, \"The helper pod and Pod Security\").";

const SCC: &str = "\
OpenShift's security context constraints refuse the helper pod (a hostPath volume, uid 0). Use a
namespace for the helpers whose service account may use the hostmount-anyuid SCC:
  oc new-project checkpoint-helpers
  oc adm policy add-scc-to-user hostmount-anyuid -z default -n checkpoint-helpers
and pass --helper-namespace checkpoint-helpers (see docs/openshift.md, \"Permissions\").";

const GATE_OFF: &str = "\
the kubelet has no checkpoint endpoint: the ContainerCheckpoint feature gate is off.
It is beta and on by default from Kubernetes 1.30; on 1.25-1.29 start the kubelet (and
kube-apiserver) with --feature-gates=ContainerCheckpoint=true, or set
featureGates: {ContainerCheckpoint: true} in the KubeletConfiguration, then restart the kubelet.";

const CRIO_CRIU: &str = "\
CRI-O on this node runs without checkpoint support: install CRIU on the node, set
`enable_criu_support = true` under [crio.runtime] in /etc/crio/crio.conf (or a drop-in in
/etc/crio/crio.conf.d/), and restart CRI-O.";

const CONTAINERD_CRIU: &str = "\
containerd on this node found no usable CRIU: install CRIU (3.16 or newer) on the node so that
`criu` is in containerd's PATH, then retry.";

const RUNTIME_OLD: &str = "\
the container runtime does not implement CheckpointContainer: use CRI-O 1.25 or newer (with
enable_criu_support = true) or containerd 2.0 or newer (with CRIU installed).";

/// Classifies `status` from the request `call` and says what to do about it.
pub fn advise(status: &Status, call: Call) -> Advice {
    let message = status.message.trim().to_string();
    let lower = message.to_ascii_lowercase();
    let (problem, hint): (Problem, Option<String>) = match status.code {
        401 => (
            Problem::Unauthorized,
            Some(
                "the cluster rejected your credentials: log in again or refresh the token of \
                 your kubeconfig user (check with `kubectl auth whoami`)"
                    .to_string(),
            ),
        ),
        403 if lower.contains("subresource(s)=[checkpoint]")
            || (call == Call::Checkpoint && lower.starts_with("forbidden (user=")) =>
        {
            (
                Problem::KubeletForbidden,
                Some(KUBELET_CHECKPOINT_RULE.to_string()),
            )
        }
        403 if lower.contains("violates podsecurity") => {
            (Problem::PodSecurity, Some(POD_SECURITY.to_string()))
        }
        403 if lower.contains("unable to validate against any security context constraint") => (
            Problem::SecurityContextConstraints,
            Some(SCC.to_string()),
        ),
        403 if call == Call::Checkpoint => {
            (Problem::ApiForbidden, Some(NODES_PROXY_RULE.to_string()))
        }
        403 => (
            Problem::ApiForbidden,
            Some(match call {
                Call::Helper => "fetch, list and delete run a helper pod: you need `create` and \
                                 `delete` on `pods` and `create` on `pods/exec` in its namespace \
                                 (check: kubectl auth can-i create pods/exec)"
                    .to_string(),
                Call::Restore => "restore creates a pod (with --quarantine also a namespace and a \
                                  NetworkPolicy): you need `create` on `pods` in the namespace, \
                                  and on `namespaces` and `networkpolicies` for --quarantine \
                                  (check: kubectl auth can-i create pods)"
                    .to_string(),
                _ => "you need `get` and `list` on pods (and on the workload you named) in this \
                      namespace (check: kubectl auth can-i list pods)"
                    .to_string(),
            }),
        ),
        404 if lower.contains("pod does not exist") => (
            Problem::PodNotOnKubelet,
            Some(
                "the kubelet does not run this pod (it was deleted or moved); list the pods again"
                    .to_string(),
            ),
        ),
        404 if lower.starts_with("container ") && lower.contains("does not exist") => (
            Problem::ContainerNotOnKubelet,
            Some("the container is not running on the node (restarting or not started yet); retry when it runs".to_string()),
        ),
        404 if lower.contains("cannot parse value of timeout") => (
            Problem::BadTimeout,
            Some("--timeout must be a whole number of seconds".to_string()),
        ),
        404 if call == Call::Checkpoint && status.reason != "NotFound" => {
            (Problem::FeatureGateOff, Some(GATE_OFF.to_string()))
        }
        404 => (Problem::NotFound, None),
        500 if lower.contains("checkpoint/restore support not available") => {
            (Problem::CrioWithoutCriu, Some(CRIO_CRIU.to_string()))
        }
        500 if lower.contains("criu binary not found") || lower.contains("criu") && lower.contains("too old") => {
            (Problem::ContainerdWithoutCriu, Some(CONTAINERD_CRIU.to_string()))
        }
        500 if lower.contains("unknown method checkpointcontainer")
            || lower.contains("checkpointcontainer not implemented")
            || lower.contains("unimplemented") =>
        {
            (Problem::RuntimeTooOld, Some(RUNTIME_OLD.to_string()))
        }
        // The kubelet cancels the runtime's checkpoint after `timeout` seconds (default 4 min).
        500 if lower.contains("deadlineexceeded") || lower.contains("deadline exceeded") => (
            Problem::Timeout,
            Some("the checkpoint took longer than the kubelet allowed: raise --timeout (seconds; the kubelet's default is 240) for large containers".to_string()),
        ),
        500 if call == Call::Checkpoint => (
            Problem::RuntimeFailed,
            Some("the container runtime failed to checkpoint; its message is above, and the node's CRI-O/containerd and CRIU logs (dump.log) have details".to_string()),
        ),
        504 => (
            Problem::Timeout,
            Some("the server timed out; raise --timeout for large containers".to_string()),
        ),
        _ => (Problem::Other, None),
    };
    Advice {
        code: status.code,
        problem,
        message: if message.is_empty() {
            status.reason.clone()
        } else {
            message
        },
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str, reason: &str) -> Status {
        Status::failure(message, reason).with_code(code)
    }

    #[test]
    fn classifies_each_documented_status() {
        let cases: &[(u16, &str, &str, Call, Problem, &str)] = &[
            (401, "Unauthorized", "Unauthorized", Call::Checkpoint, Problem::Unauthorized, "kubectl auth whoami"),
            (403, "nodes \"n\" is forbidden: User \"u\" cannot create resource \"nodes/proxy\"", "Forbidden", Call::Checkpoint, Problem::ApiForbidden, "resources: [\"nodes/proxy\"]"),
            (403, "Forbidden (user=kube-apiserver-kubelet-client, verb=create, resource=nodes, subresource(s)=[checkpoint])", "Failed to parse error data", Call::Checkpoint, Problem::KubeletForbidden, "resources: [\"nodes/checkpoint\"]"),
            (404, "404 page not found", "Failed to parse error data", Call::Checkpoint, Problem::FeatureGateOff, "--feature-gates=ContainerCheckpoint=true"),
            (404, "pod does not exist", "Failed to parse error data", Call::Checkpoint, Problem::PodNotOnKubelet, "deleted or moved"),
            (404, "container counter does not exist", "Failed to parse error data", Call::Checkpoint, Problem::ContainerNotOnKubelet, "not running"),
            (404, "cannot parse value of timeout parameter", "x", Call::Checkpoint, Problem::BadTimeout, "whole number"),
            (500, "checkpointing of demo/p/c failed (rpc error: code = Unknown desc = checkpoint/restore support not available)", "x", Call::Checkpoint, Problem::CrioWithoutCriu, "enable_criu_support = true"),
            (500, "checkpointing of demo/p/c failed (rpc error: code = Unknown desc = CRIU binary not found or too old)", "x", Call::Checkpoint, Problem::ContainerdWithoutCriu, "install CRIU"),
            (500, "checkpointing of demo/p/c failed (rpc error: code = Unimplemented desc = unknown method CheckpointContainer)", "x", Call::Checkpoint, Problem::RuntimeTooOld, "CRI-O 1.25"),
            (500, "checkpointing of demo/p/c failed (criu failed: type NOTIFY errno 0)", "x", Call::Checkpoint, Problem::RuntimeFailed, "dump.log"),
            (500, "checkpointing of demo/p/c failed (rpc error: code = DeadlineExceeded desc = context deadline exceeded)", "x", Call::Checkpoint, Problem::Timeout, "raise --timeout"),
            (403, "pods is forbidden", "Forbidden", Call::Helper, Problem::ApiForbidden, "pods/exec"),
            (403, "pods \"kubectl-checkpoint-helper-1\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"checkpoints\")", "Forbidden", Call::Helper, Problem::PodSecurity, "--helper-namespace checkpoint-helpers"),
            (403, "pods \"kubectl-checkpoint-helper-1\" is forbidden: unable to validate against any security context constraint: [spec.volumes[0]: Invalid value: \"hostPath\": hostPath volumes are not allowed to be used]", "Forbidden", Call::Helper, Problem::SecurityContextConstraints, "--helper-namespace"),
        ];
        for (code, message, reason, call, problem, hint) in cases {
            let advice = advise(&status(*code, message, reason), *call);
            assert_eq!(advice.problem, *problem, "{message}");
            assert_eq!(advice.code, *code);
            assert!(
                advice.hint.as_deref().unwrap_or("").contains(hint),
                "{message}: {:?}",
                advice.hint
            );
            assert!(advice.to_string().contains(message));
        }
    }

    #[test]
    fn api_not_found_is_not_the_feature_gate() {
        let advice = advise(
            &status(404, "nodes \"x\" not found", "NotFound"),
            Call::Checkpoint,
        );
        assert_eq!(advice.problem, Problem::NotFound);
    }
}

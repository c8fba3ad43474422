//! What a checkpoint recorded of its container's Kubernetes spec, for a pod that restores it:
//! the ports the pod declared and the resources the runtime enforced.
//!
//! Read from `spec.dump` (the OCI runtime spec the engine ran the container with):
//! - ports: the kubelet passes a container's declared ports to the runtime as the annotation
//!   `io.kubernetes.container.ports` (JSON: `name`, `containerPort`, `protocol`, `hostPort`),
//!   which CRI-O and containerd keep in the spec's annotations;
//! - resources: `linux.resources` holds what the kubelet asked for, in the runtime's units:
//!   `cpu.shares` (1024 per CPU requested, 2 for none), `cpu.quota` over `cpu.period` (the CPU
//!   limit), `memory.limit` in bytes (0 or absent: none).
//!
//! - mounts: CRI-O restores a container only into a pod that defines every external bind mount
//!   the checkpoint recorded (`bind.mounts`: "restoring ... expects following bind mounts
//!   defined"). Those the kubelet and CRI-O make for every container (`/etc/hosts`,
//!   `/etc/hostname`, `/etc/resolv.conf`, `/dev/termination-log`, ...) are left out; the others
//!   (volumes, the service account token) are kept with their destination, kind and whether they
//!   were read-only (from spec.dump's mount options).
//!
//! The environment is not taken over: a restored process keeps the environment it had in memory
//! (CRI-O builds the restored container from the checkpoint, not from the new pod's `env`).
//! Building is pure ([`build_recorded_spec`]).

use serde::{Deserialize, Serialize};

/// One port the container declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedPort {
    /// The port's name, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The port number in the container.
    pub container_port: i32,
    /// `TCP`, `UDP` or `SCTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// The resources the runtime enforced, in Kubernetes units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedResources {
    /// The CPU request in millicores, from `cpu.shares` (`None` for the 2 shares of no request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_request_millis: Option<u64>,
    /// The CPU limit in millicores, from `cpu.quota` / `cpu.period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit_millis: Option<u64>,
    /// The memory limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
}

impl RecordedResources {
    /// True when nothing was recorded (a BestEffort container).
    pub fn is_empty(&self) -> bool {
        self == &RecordedResources::default()
    }
}

/// An external bind mount a restore must define again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedMount {
    /// Where it is in the container.
    pub destination: String,
    /// A file rather than a directory.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file: bool,
    /// It was mounted read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// The service account token's directory.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Bind mounts the kubelet or the runtime makes for every container: a restore gets them anyway.
const PROVIDED_MOUNTS: &[&str] = &[
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/dev/termination-log",
    "/dev/shm",
    "/run/.containerenv",
    "/run/secrets",
];

/// The recorded spec of a checkpointed container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedSpec {
    /// Its declared ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<RecordedPort>,
    /// Its resources.
    #[serde(default, skip_serializing_if = "RecordedResources::is_empty")]
    pub resources: RecordedResources,
    /// The external bind mounts a restore must define (see the module doc).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<RecordedMount>,
}

#[derive(Deserialize, Default)]
struct Spec {
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    linux: Option<Linux>,
    #[serde(default)]
    mounts: Option<Vec<SpecMount>>,
}

#[derive(Deserialize, Default)]
struct SpecMount {
    #[serde(default)]
    destination: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    options: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct BindMount {
    #[serde(default)]
    destination: String,
    #[serde(default)]
    file_type: String,
}

#[derive(Deserialize, Default)]
struct Linux {
    #[serde(default)]
    resources: Option<Resources>,
}

#[derive(Deserialize, Default)]
struct Resources {
    #[serde(default)]
    cpu: Option<Cpu>,
    #[serde(default)]
    memory: Option<Memory>,
}

#[derive(Deserialize, Default)]
struct Cpu {
    #[serde(default)]
    shares: Option<u64>,
    #[serde(default)]
    quota: Option<i64>,
    #[serde(default)]
    period: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Memory {
    #[serde(default)]
    limit: Option<i64>,
}

/// The kubelet's annotation with a container's declared ports.
pub const PORTS_ANNOTATION: &str = "io.kubernetes.container.ports";

/// The recorded spec in `spec_dump` and `bind_mounts` (the members' bytes; CRI-O writes
/// bind.mounts, without it spec.dump's bind mounts are used), or the member and what is wrong.
pub fn build_recorded_spec(
    spec_dump: &[u8],
    bind_mounts: Option<&[u8]>,
) -> Result<RecordedSpec, (&'static str, String)> {
    let spec: Spec = serde_json::from_slice(spec_dump)
        .map_err(|e| ("spec.dump", format!("not an OCI runtime spec: {e}")))?;
    let spec_mounts = spec.mounts.unwrap_or_default();
    let read_only = |destination: &str| {
        spec_mounts
            .iter()
            .find(|m| m.destination == destination)
            .and_then(|m| m.options.as_ref())
            .is_some_and(|o| o.iter().any(|o| o == "ro"))
    };
    let external: Vec<(String, bool)> = match bind_mounts {
        Some(bytes) => serde_json::from_slice::<Option<Vec<BindMount>>>(bytes)
            .map_err(|e| {
                (
                    "bind.mounts",
                    format!("not a JSON list of bind mounts: {e}"),
                )
            })?
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.destination, m.file_type == "file"))
            .collect(),
        None => spec_mounts
            .iter()
            .filter(|m| {
                m.kind.as_deref() == Some("bind")
                    || m.options
                        .iter()
                        .flatten()
                        .any(|o| o == "bind" || o == "rbind")
            })
            .map(|m| (m.destination.clone(), false))
            .collect(),
    };
    let mounts = external
        .into_iter()
        .filter(|(destination, _)| {
            !destination.is_empty() && !PROVIDED_MOUNTS.contains(&destination.as_str())
        })
        .map(|(destination, file)| RecordedMount {
            read_only: read_only(&destination),
            destination,
            file,
        })
        .collect();
    let ports = match spec
        .annotations
        .as_ref()
        .and_then(|a| a.get(PORTS_ANNOTATION))
    {
        Some(json) => serde_json::from_str::<Vec<RecordedPort>>(json).map_err(|e| {
            (
                "spec.dump",
                format!("annotation {PORTS_ANNOTATION} is not a list of ports: {e}"),
            )
        })?,
        None => Vec::new(),
    };
    let resources = spec.linux.and_then(|l| l.resources).unwrap_or_default();
    let cpu = resources.cpu.unwrap_or_default();
    // The kubelet's conversion: shares = millis * 1024 / 1000, at least 2.
    let cpu_request_millis = cpu
        .shares
        .filter(|shares| *shares > 2)
        .map(|shares| (shares * 1000).div_ceil(1024));
    let cpu_limit_millis = match (cpu.quota, cpu.period) {
        (Some(quota), Some(period)) if quota > 0 && period > 0 => {
            Some((quota as u64).saturating_mul(1000) / period)
        }
        _ => None,
    };
    let memory_limit_bytes = resources
        .memory
        .and_then(|m| m.limit)
        .filter(|limit| *limit > 0)
        .map(|limit| limit as u64);
    Ok(RecordedSpec {
        ports,
        resources: RecordedResources {
            cpu_request_millis,
            cpu_limit_millis,
            memory_limit_bytes,
        },
        mounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_resources_in_kubernetes_units() {
        let spec = br#"{"annotations":{"io.kubernetes.container.ports":"[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]"},
            "linux":{"resources":{"cpu":{"shares":256,"quota":50000,"period":100000},"memory":{"limit":134217728}}}}"#;
        let recorded = build_recorded_spec(spec, None).unwrap();
        assert_eq!(
            recorded.ports,
            [RecordedPort {
                name: Some("http".into()),
                container_port: 8080,
                protocol: Some("TCP".into())
            }]
        );
        assert_eq!(
            recorded.resources,
            RecordedResources {
                cpu_request_millis: Some(250),
                cpu_limit_millis: Some(500),
                memory_limit_bytes: Some(128 << 20),
            }
        );
    }

    #[test]
    fn mounts_a_restore_must_define_and_not_those_every_pod_gets() {
        let spec = br#"{"mounts":[
            {"destination":"/etc/hosts","type":"bind","options":["rbind","rw"]},
            {"destination":"/var/run/secrets/kubernetes.io/serviceaccount","type":"bind","options":["rbind","ro"]},
            {"destination":"/data","type":"bind","options":["rbind","rw"]}]}"#;
        let binds = br#"[{"source":"/x","destination":"/etc/hosts","file_type":"file","permissions":420},
            {"source":"/y","destination":"/var/run/secrets/kubernetes.io/serviceaccount","file_type":"directory","permissions":493},
            {"source":"/z","destination":"/data","file_type":"directory","permissions":493}]"#;
        let recorded = build_recorded_spec(spec, Some(binds)).unwrap();
        assert_eq!(
            recorded.mounts,
            [
                RecordedMount {
                    destination: SERVICE_ACCOUNT_DIR.into(),
                    file: false,
                    read_only: true
                },
                RecordedMount {
                    destination: "/data".into(),
                    file: false,
                    read_only: false
                },
            ]
        );
        // Without bind.mounts (containerd), spec.dump's bind mounts.
        assert_eq!(build_recorded_spec(spec, None).unwrap().mounts.len(), 2);
    }

    #[test]
    fn a_best_effort_container_records_nothing() {
        let spec = br#"{"linux":{"resources":{"cpu":{"shares":2,"quota":0,"period":100000},"memory":{"limit":0}}}}"#;
        assert_eq!(
            build_recorded_spec(spec, None).unwrap(),
            RecordedSpec::default()
        );
        assert!(build_recorded_spec(b"\"not a spec\"", None).is_err());
    }
}

//! Container metadata of a checkpoint archive: who the container was, from `config.dump`,
//! `spec.dump` (OCI spec annotations), `network.status` (Podman) and `bind.mounts` (CRI-O).
//!
//! Which source wins depends on the engine: CRI-O's annotations `io.kubernetes.cri-o.*` and
//! `io.kubernetes.pod.*`, containerd's `io.kubernetes.cri.*`, and the engine-neutral config.dump
//! fields (`id`, `name`, `rootfsImageName`/`rootfsImage`, `rootfsImageRef`, `runtime`,
//! `createdTime`, `checkpointedTime`) as fallbacks. Building is pure: [`build_metadata`] takes
//! the members' bytes, so it is tested without archives.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Engine;

/// What is known about the checkpointed container. Absent facts are `None` or empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerMetadata {
    /// The engine that wrote the checkpoint.
    pub engine: Engine,
    /// Container ID (config.dump `id`).
    pub id: Option<String>,
    /// Container name as Kubernetes or Podman shows it (`counter`, not CRI-O's `k8s_counter_...`).
    pub name: Option<String>,
    /// Image name (`quay.io/rbohne/counters:latest`).
    pub image: Option<String>,
    /// Image reference or ID (config.dump `rootfsImageRef`, Podman `rootfsImageID`).
    pub image_ref: Option<String>,
    /// OCI runtime (`runc`, `crun`).
    pub runtime: Option<String>,
    /// When the container was created (RFC 3339, as stored).
    pub created: Option<String>,
    /// When it was checkpointed (RFC 3339, as stored).
    pub checkpointed: Option<String>,
    /// The container's (first) IP address, without prefix length.
    pub ip: Option<String>,
    /// The pod's name (Kubernetes engines).
    pub pod: Option<String>,
    /// The pod's namespace (Kubernetes engines).
    pub namespace: Option<String>,
    /// The container's command line (spec `process.args`).
    pub command: Vec<String>,
    /// The container's working directory (spec `process.cwd`).
    pub cwd: Option<String>,
    /// The archive member holding the container's log, if any.
    pub log_member: Option<String>,
    /// All spec.dump annotations.
    pub annotations: BTreeMap<String, String>,
    /// Bind mounts (CRI-O's bind.mounts).
    pub bind_mounts: Vec<BindMount>,
}

/// One external bind mount as CRI-O lists it in `bind.mounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindMount {
    /// Path on the node.
    #[serde(default)]
    pub source: String,
    /// Path in the container.
    #[serde(default)]
    pub destination: String,
    /// `file` or `directory`.
    #[serde(default)]
    pub file_type: String,
    /// Mode bits (decimal as stored, e.g. 420 = 0644).
    #[serde(default)]
    pub permissions: u32,
}

/// The raw members [`build_metadata`] reads; `None` when the archive lacks one.
#[derive(Debug, Default)]
pub struct Sources {
    /// `config.dump` bytes.
    pub config_dump: Option<Vec<u8>>,
    /// `spec.dump` bytes.
    pub spec_dump: Option<Vec<u8>>,
    /// `network.status` bytes.
    pub network_status: Option<Vec<u8>>,
    /// `bind.mounts` bytes.
    pub bind_mounts: Option<Vec<u8>>,
}

#[derive(Deserialize, Default)]
struct Spec {
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    process: Option<Process>,
}

#[derive(Deserialize, Default)]
struct Process {
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    cwd: Option<String>,
}

/// Builds the metadata from the members' bytes. On malformed JSON, returns the member's name
/// and what is wrong.
pub fn build_metadata(
    engine: Engine,
    sources: &Sources,
    log_member: Option<&str>,
) -> Result<ContainerMetadata, (&'static str, String)> {
    let config: Value = match &sources.config_dump {
        Some(bytes) => {
            serde_json::from_slice(bytes).map_err(|e| ("config.dump", format!("not JSON: {e}")))?
        }
        None => Value::Null,
    };
    let spec: Spec = match &sources.spec_dump {
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|e| ("spec.dump", format!("not an OCI runtime spec: {e}")))?,
        None => Spec::default(),
    };
    let bind_mounts: Vec<BindMount> = match &sources.bind_mounts {
        Some(bytes) => serde_json::from_slice::<Option<Vec<BindMount>>>(bytes)
            .map_err(|e| {
                (
                    "bind.mounts",
                    format!("not a JSON list of bind mounts: {e}"),
                )
            })?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let network_ip = match &sources.network_status {
        Some(bytes) => {
            let status: Value = serde_json::from_slice(bytes)
                .map_err(|e| ("network.status", format!("not JSON: {e}")))?;
            network_status_ips(&status).into_iter().next()
        }
        None => None,
    };
    let annotations = spec.annotations.unwrap_or_default();
    let process = spec.process.unwrap_or_default();
    let ann = |key: &str| annotations.get(key).filter(|v| !v.is_empty()).cloned();
    let conf = |key: &str| {
        config
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && *v != "0001-01-01T00:00:00Z")
            .map(str::to_owned)
    };
    let config_image = conf("rootfsImageName").or_else(|| conf("rootfsImage"));
    let mut meta = ContainerMetadata {
        engine,
        id: conf("id"),
        name: conf("name"),
        image: config_image,
        image_ref: conf("rootfsImageRef").or_else(|| conf("rootfsImageID")),
        runtime: conf("runtime").or_else(|| conf("ociRuntime")),
        created: conf("createdTime"),
        checkpointed: conf("checkpointedTime"),
        ip: None,
        pod: None,
        namespace: None,
        command: process.args.unwrap_or_default(),
        cwd: process.cwd,
        log_member: log_member.map(str::to_owned),
        annotations: BTreeMap::new(),
        bind_mounts,
    };
    match engine {
        Engine::CriO => {
            let metadata_name = ann("io.kubernetes.cri-o.Metadata").and_then(|json| {
                serde_json::from_str::<Value>(&json)
                    .ok()?
                    .get("name")?
                    .as_str()
                    .map(str::to_owned)
            });
            meta.name = metadata_name
                .or_else(|| ann("io.kubernetes.container.name"))
                .or(meta.name);
            meta.ip = ann("io.kubernetes.cri-o.IP.0");
            meta.created = ann("io.kubernetes.cri-o.Created").or(meta.created);
            meta.image = ann("io.kubernetes.cri-o.ImageName").or(meta.image);
            meta.id = meta.id.or_else(|| ann("io.kubernetes.cri-o.ContainerID"));
            meta.pod = ann("io.kubernetes.pod.name");
            meta.namespace = ann("io.kubernetes.pod.namespace");
        }
        Engine::Containerd => {
            meta.name = ann("io.kubernetes.cri.container-name").or(meta.name);
            meta.pod = ann("io.kubernetes.cri.sandbox-name");
            meta.namespace = ann("io.kubernetes.cri.sandbox-namespace");
            // containerd's config.dump names the image by its id (`sha256:...`, kept as
            // `image_ref`); the CRI annotation has the name the pod asked for.
            meta.image = ann("io.kubernetes.cri.image-name").or(meta.image);
        }
        Engine::Podman => {
            meta.ip = network_ip;
        }
        Engine::ImagesOnly => {}
    }
    meta.annotations = annotations;
    Ok(meta)
}

/// IP addresses (without prefix length) from Podman's network.status, in either shape Podman
/// wrote: netavark's `{"<network>": {"interfaces": {"<if>": {"subnets": [{"ipnet": "..."}]}}}}`
/// or CNI's `[{"ips": [{"address": "..."}]}]`.
fn network_status_ips(status: &Value) -> Vec<String> {
    let mut ips = Vec::new();
    let mut push = |cidr: Option<&str>| {
        if let Some(cidr) = cidr {
            let ip = cidr.split('/').next().unwrap_or(cidr);
            if !ip.is_empty() {
                ips.push(ip.to_owned());
            }
        }
    };
    match status {
        Value::Object(networks) => {
            for network in networks.values() {
                let Some(interfaces) = network.get("interfaces").and_then(Value::as_object) else {
                    continue;
                };
                for interface in interfaces.values() {
                    for subnet in interface
                        .get("subnets")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        push(subnet.get("ipnet").and_then(Value::as_str));
                    }
                }
            }
        }
        Value::Array(results) => {
            for result in results {
                for ip in result
                    .get("ips")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    push(ip.get("address").and_then(Value::as_str));
                }
            }
        }
        _ => {}
    }
    ips
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_status_shapes() {
        let cases = [
            (
                r#"{"podman":{"interfaces":{"eth0":{"subnets":[{"ipnet":"10.88.0.5/16","gateway":"10.88.0.1"}]}}}}"#,
                vec!["10.88.0.5"],
            ),
            (
                r#"[{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.88.0.7/16"}]}]"#,
                vec!["10.88.0.7"],
            ),
            ("null", vec![]),
            (r#"{"x":{"interfaces":5}}"#, vec![]),
        ];
        for (json, want) in cases {
            let value: Value = serde_json::from_str(json).unwrap();
            assert_eq!(network_status_ips(&value), want, "{json}");
        }
    }

    #[test]
    fn containerd_annotations_win_over_config() {
        let sources = Sources {
            config_dump: Some(br#"{"id":"abc","name":"ctr-name","rootfsImageName":"docker.io/library/nginx:1","runtime":"io.containerd.runc.v2","createdTime":"2024-01-01T00:00:00Z","checkpointedTime":"2024-01-02T00:00:00Z"}"#.to_vec()),
            spec_dump: Some(br#"{"annotations":{"io.kubernetes.cri.container-name":"web","io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"prod"},"process":{"args":["nginx"],"cwd":"/"}}"#.to_vec()),
            ..Sources::default()
        };
        let meta = build_metadata(Engine::Containerd, &sources, Some("container.log")).unwrap();
        assert_eq!(meta.name.as_deref(), Some("web"));
        assert_eq!(meta.pod.as_deref(), Some("web-0"));
        assert_eq!(meta.namespace.as_deref(), Some("prod"));
        assert_eq!(meta.image.as_deref(), Some("docker.io/library/nginx:1"));
        assert_eq!(meta.runtime.as_deref(), Some("io.containerd.runc.v2"));
        assert_eq!(meta.checkpointed.as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(meta.command, ["nginx"]);
        assert_eq!(meta.ip, None);
    }

    /// The shape containerd 2.1 writes (seen on a real cluster): config.dump names the image by
    /// its id only, the spec's CRI annotation by the name the pod asked for.
    #[test]
    fn containerd_image_is_named_by_the_cri_annotation() {
        let id = "sha256:8a9725590c3b6b325c82ed48107d687345668b278a35c6ebd31c3e3f0680cbc6";
        let config = format!(
            r#"{{"id":"1eaaa6423bd1","rootfsImage":"{id}","rootfsImageRef":"{id}","rootfsImageName":"{id}"}}"#
        );
        let sources = Sources {
            config_dump: Some(config.into_bytes()),
            spec_dump: Some(
                br#"{"annotations":{"io.kubernetes.cri.image-name":"busybox:1.36"}}"#.to_vec(),
            ),
            ..Sources::default()
        };
        let meta = build_metadata(Engine::Containerd, &sources, None).unwrap();
        assert_eq!(meta.image.as_deref(), Some("busybox:1.36"));
        assert_eq!(meta.image_ref.as_deref(), Some(id));
    }

    #[test]
    fn malformed_members_are_named() {
        for (sources, member) in [
            (
                Sources {
                    config_dump: Some(b"{".to_vec()),
                    ..Sources::default()
                },
                "config.dump",
            ),
            (
                Sources {
                    spec_dump: Some(br#"{"annotations":{"a":1}}"#.to_vec()),
                    ..Sources::default()
                },
                "spec.dump",
            ),
            (
                Sources {
                    bind_mounts: Some(b"{}".to_vec()),
                    ..Sources::default()
                },
                "bind.mounts",
            ),
        ] {
            let err = build_metadata(Engine::CriO, &sources, None).unwrap_err();
            assert_eq!(err.0, member);
        }
    }
}

//! Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for when it prints pods
//! without `-o` (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`).

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

/// The media type of a Table answer.
pub(super) const TABLE_V1: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Whether an `Accept` header offers `as=Table;v=v1;g=meta.k8s.io`.
pub(super) fn wants_table(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|range| {
            let params: Vec<&str> = range.split(';').map(str::trim).collect();
            params.first() == Some(&"application/json")
                && params.contains(&"as=Table")
                && params.contains(&"v=v1")
                && params.contains(&"g=meta.k8s.io")
        })
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Table {
    kind: &'static str,
    api_version: &'static str,
    metadata: TableMeta,
    column_definitions: Vec<Column>,
    rows: Vec<Row>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TableMeta {
    resource_version: String,
}

#[derive(Serialize)]
struct Column {
    name: &'static str,
    #[serde(rename = "type")]
    type_: &'static str,
    format: &'static str,
    description: &'static str,
    priority: i32,
}

#[derive(Serialize)]
struct Row {
    cells: Vec<serde_json::Value>,
    object: PartialObjectMetadata,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartialObjectMetadata {
    kind: &'static str,
    api_version: &'static str,
    metadata: ObjectMeta,
}

fn column(
    name: &'static str,
    format: &'static str,
    description: &'static str,
    priority: i32,
) -> Column {
    Column {
        name,
        type_: "string",
        format,
        description,
        priority,
    }
}

/// kubectl's short age: `45s`, `3m12s`, `2h5m`, `4d`.
fn age(created: Option<Timestamp>, now: Timestamp) -> String {
    let Some(created) = created else {
        return "<unknown>".to_string();
    };
    let secs = now.as_second().saturating_sub(created.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The pods table: Name, Ready, Status, Restarts, Age, and (wide) IP, Node.
pub(super) fn pods_table(pods: &[Pod], resource_version: String) -> Table {
    let now = Timestamp::now();
    let rows = pods
        .iter()
        .map(|pod| {
            let status = pod.status.clone().unwrap_or_default();
            let statuses = status.container_statuses.clone().unwrap_or_default();
            let total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
            let ready = statuses.iter().filter(|c| c.ready).count();
            let restarts: i32 = statuses.iter().map(|c| c.restart_count).sum();
            let phase = if pod.metadata.deletion_timestamp.is_some() {
                "Terminating".to_string()
            } else {
                status.phase.clone().unwrap_or_default()
            };
            let cells = vec![
                pod.metadata.name.clone().unwrap_or_default().into(),
                format!("{ready}/{total}").into(),
                phase.into(),
                restarts.to_string().into(),
                age(pod.metadata.creation_timestamp.as_ref().map(|t| t.0), now).into(),
                status
                    .pod_ip
                    .clone()
                    .unwrap_or_else(|| "<none>".to_string())
                    .into(),
                pod.spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_else(|| "<none>".to_string())
                    .into(),
            ];
            Row {
                cells,
                object: PartialObjectMetadata {
                    kind: "PartialObjectMetadata",
                    api_version: "meta.k8s.io/v1",
                    metadata: pod.metadata.clone(),
                },
            }
        })
        .collect();
    Table {
        kind: "Table",
        api_version: "meta.k8s.io/v1",
        metadata: TableMeta { resource_version },
        column_definitions: vec![
            column("Name", "name", "Name must be unique within a namespace.", 0),
            column("Ready", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
            column("Status", "", "The aggregate status of the containers in this pod.", 0),
            column("Restarts", "", "The number of times the containers in this pod have been restarted.", 0),
            column("Age", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0),
            column("IP", "", "IP address allocated to the pod.", 1),
            column("Node", "", "Name of the node this pod is assigned to.", 1),
        ],
        rows,
    }
}

//! Aggregated discovery (`apidiscovery.k8s.io/v2`), which kubectl >= 1.30 asks `/api` and `/apis`
//! for; built from the same resource lists as the legacy per-group-version documents.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use serde::Serialize;

/// The media type kubectl asks for and the API server answers with.
pub(super) const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an `Accept` header offers aggregated discovery v2 (`g=apidiscovery.k8s.io;v=v2;
/// as=APIGroupDiscoveryList` parameters on `application/json`).
pub(super) fn wants_aggregated(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|range| {
            let params: Vec<&str> = range.split(';').map(str::trim).collect();
            params.first() == Some(&"application/json")
                && params.contains(&"g=apidiscovery.k8s.io")
                && params.contains(&"v=v2")
                && params.contains(&"as=APIGroupDiscoveryList")
        })
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupDiscoveryList {
    api_version: &'static str,
    kind: &'static str,
    metadata: serde_json::Map<String, serde_json::Value>,
    items: Vec<GroupDiscovery>,
}

#[derive(Serialize)]
struct GroupDiscovery {
    metadata: GroupMeta,
    versions: Vec<VersionDiscovery>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    creation_timestamp: Option<String>,
}

#[derive(Serialize)]
struct VersionDiscovery {
    version: String,
    resources: Vec<ResourceDiscovery>,
    freshness: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceDiscovery {
    resource: String,
    response_kind: Gvk,
    scope: &'static str,
    singular_resource: String,
    verbs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subresources: Vec<SubresourceDiscovery>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubresourceDiscovery {
    subresource: String,
    response_kind: Gvk,
    verbs: Vec<String>,
}

#[derive(Serialize)]
struct Gvk {
    group: String,
    version: String,
    kind: String,
}

/// One group (`group` empty: the core group) with one version, from its resource list.
fn group(group: &str, list: &APIResourceList) -> GroupDiscovery {
    let version = list
        .group_version
        .rsplit('/')
        .next()
        .unwrap_or("v1")
        .to_string();
    let gvk = |kind: &str| Gvk {
        group: group.to_string(),
        version: version.clone(),
        kind: kind.to_string(),
    };
    let mut resources: Vec<ResourceDiscovery> = list
        .resources
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| ResourceDiscovery {
            resource: r.name.clone(),
            response_kind: gvk(&r.kind),
            scope: if r.namespaced {
                "Namespaced"
            } else {
                "Cluster"
            },
            singular_resource: r.singular_name.clone(),
            verbs: r.verbs.clone(),
            short_names: r.short_names.clone(),
            subresources: Vec::new(),
        })
        .collect();
    for sub in list.resources.iter().filter(|r| r.name.contains('/')) {
        let Some((parent, name)) = sub.name.split_once('/') else {
            continue;
        };
        if let Some(resource) = resources.iter_mut().find(|r| r.resource == parent) {
            resource.subresources.push(SubresourceDiscovery {
                subresource: name.to_string(),
                response_kind: gvk(&sub.kind),
                verbs: sub.verbs.clone(),
            });
        }
    }
    GroupDiscovery {
        metadata: GroupMeta {
            name: (!group.is_empty()).then(|| group.to_string()),
            creation_timestamp: None,
        },
        versions: vec![VersionDiscovery {
            version: version.clone(),
            resources,
            freshness: "Current",
        }],
    }
}

/// The aggregated document for `/api` (core) or `/apis` (named groups), from (group, list) pairs.
pub(super) fn aggregated(groups: &[(&str, APIResourceList)]) -> GroupDiscoveryList {
    GroupDiscoveryList {
        api_version: "apidiscovery.k8s.io/v2",
        kind: "APIGroupDiscoveryList",
        metadata: serde_json::Map::new(),
        items: groups.iter().map(|(g, list)| group(g, list)).collect(),
    }
}

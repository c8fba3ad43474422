//! The responses the server writes: bodies, JSON, the API server's `Status` failures, and the
//! decoded query every handler reads.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::{header, Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, Status, StatusDetails};
use serde::Serialize;

/// Response body: whole or streamed.
pub(super) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Decoded query parameters in order.
pub(super) struct Query(pub(super) Vec<(String, String)>);

impl Query {
    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether boolean parameter `key` is `true` or `1`.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// A JSON response.
pub(super) fn json_response(code: StatusCode, value: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    response(code, "application/json", bytes)
}

/// A 200 JSON response with this media type.
pub(super) fn typed_json_response(media_type: &str, value: &impl Serialize) -> Response<Body> {
    response(
        StatusCode::OK,
        media_type,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// A response with this content type and body.
pub(super) fn response(code: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *resp.status_mut() = code;
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    resp
}

/// A `Status` failure, shaped as the API server shapes it.
pub(super) fn status_response(
    code: StatusCode,
    reason: &str,
    message: &str,
    details: Option<StatusDetails>,
) -> Response<Body> {
    json_response(code, &failure_status(code, reason, message, details))
}

/// A `Status` failure object.
fn failure_status(
    code: StatusCode,
    reason: &str,
    message: &str,
    details: Option<StatusDetails>,
) -> Status {
    Status {
        code: Some(i32::from(code.as_u16())),
        details,
        message: Some(message.to_string()),
        metadata: ListMeta::default(),
        reason: Some(reason.to_string()),
        status: Some("Failure".to_string()),
    }
}

/// 404 for an object: `pods "x" not found`.
pub(super) fn not_found(kind_plural: &str, group: &str, name: &str) -> Response<Body> {
    status_response(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{kind_plural} \"{name}\" not found"),
        Some(StatusDetails {
            name: Some(name.to_string()),
            group: (!group.is_empty()).then(|| group.to_string()),
            kind: Some(kind_plural.to_string()),
            ..StatusDetails::default()
        }),
    )
}

pub(super) fn not_found_path() -> Response<Body> {
    status_response(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
        Some(StatusDetails::default()),
    )
}

pub(super) fn bad_request(message: &str) -> Response<Body> {
    status_response(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

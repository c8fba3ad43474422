//! Decoding a compact JSON Web Token (RFC 7519): the header must be a JSON object with an `alg`
//! other than `none`, the payload a JSON object, the signature base64url. The claims an
//! investigator needs are returned, Kubernetes service-account claims included (the bound
//! token's `kubernetes.io` object and the legacy `kubernetes.io/serviceaccount/*` claims).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

use super::details::{detail_text, JwtClaims};

/// base64url, padding optional, trailing bits tolerated (what JWT libraries accept).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Most audience entries kept.
const MAX_AUDIENCE: usize = 8;

/// The claims of a JWT, or `None` if `token` is not one.
pub fn decode_jwt(token: &[u8]) -> Option<JwtClaims> {
    let mut parts = token.split(|&b| b == b'.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() || signature.len() % 4 == 1 {
        return None;
    }
    let header = json_object(header)?;
    let payload = json_object(payload)?;
    let algorithm = header.get("alg")?.as_str()?;
    if algorithm.is_empty() || algorithm.eq_ignore_ascii_case("none") {
        return None;
    }
    let text = |map: &Map<String, Value>, key: &str| map.get(key)?.as_str().map(detail_text);
    let mut claims = JwtClaims {
        algorithm: detail_text(algorithm),
        key_id: text(&header, "kid").filter(|k| !k.is_empty()),
        issuer: text(&payload, "iss"),
        subject: text(&payload, "sub"),
        audience: match payload.get("aud") {
            Some(Value::String(aud)) => vec![detail_text(aud)],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .take(MAX_AUDIENCE)
                .map(detail_text)
                .collect(),
            _ => Vec::new(),
        },
        expires: payload.get("exp").and_then(rfc3339),
        issued_at: payload.get("iat").and_then(rfc3339),
        ..JwtClaims::default()
    };
    if let Some(Value::Object(k8s)) = payload.get("kubernetes.io") {
        claims.namespace = text(k8s, "namespace");
        let nested = |key: &str| match k8s.get(key) {
            Some(Value::Object(object)) => text(object, "name"),
            _ => None,
        };
        claims.service_account = nested("serviceaccount");
        claims.pod = nested("pod");
    }
    if claims.namespace.is_none() {
        claims.namespace = text(&payload, "kubernetes.io/serviceaccount/namespace");
    }
    if claims.service_account.is_none() {
        claims.service_account = text(
            &payload,
            "kubernetes.io/serviceaccount/service-account.name",
        );
    }
    Some(claims)
}

/// A base64url part decoded and parsed as a JSON object.
fn json_object(part: &[u8]) -> Option<Map<String, Value>> {
    let bytes = BASE64URL.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A NumericDate (seconds since the epoch) as RFC 3339 in UTC.
fn rfc3339(value: &Value) -> Option<String> {
    let seconds = value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))?;
    jiff::Timestamp::from_second(seconds)
        .ok()
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJlLWJ5dGVzLWZvci10ZXN0",
            encode(header),
            encode(payload)
        )
    }

    #[test]
    fn bound_service_account_token() {
        let t = token(
            r#"{"alg":"RS256","kid":"k1"}"#,
            r#"{"aud":["https://kubernetes.default.svc"],"exp":1798761600,"iat":1767225600,
               "iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:payments:api",
               "kubernetes.io":{"namespace":"payments","pod":{"name":"api-0","uid":"u"},
               "serviceaccount":{"name":"api","uid":"v"}}}"#,
        );
        let claims = decode_jwt(t.as_bytes()).unwrap();
        assert_eq!(claims.algorithm, "RS256");
        assert_eq!(claims.key_id.as_deref(), Some("k1"));
        assert_eq!(
            claims.issuer.as_deref(),
            Some("https://kubernetes.default.svc")
        );
        assert_eq!(claims.expires.as_deref(), Some("2027-01-01T00:00:00Z"));
        assert_eq!(claims.issued_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(claims.namespace.as_deref(), Some("payments"));
        assert_eq!(claims.service_account.as_deref(), Some("api"));
        assert_eq!(claims.pod.as_deref(), Some("api-0"));
        assert_eq!(claims.audience, vec!["https://kubernetes.default.svc"]);
    }

    #[test]
    fn legacy_service_account_token() {
        let t = token(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"kubernetes/serviceaccount",
               "kubernetes.io/serviceaccount/namespace":"kube-system",
               "kubernetes.io/serviceaccount/service-account.name":"builder"}"#,
        );
        let claims = decode_jwt(t.as_bytes()).unwrap();
        assert_eq!(claims.namespace.as_deref(), Some("kube-system"));
        assert_eq!(claims.service_account.as_deref(), Some("builder"));
        assert_eq!(claims.expires, None);
    }

    #[test]
    fn not_jwts() {
        for bad in [
            token(r#"{"typ":"JWT"}"#, r#"{"sub":"x"}"#),
            token(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#),
            token(r#"{"alg":"HS256"}"#, r#"["not","an","object"]"#),
            token(r#"{"alg":"HS256"}"#, "not json"),
            format!("{}.{}", encode(r#"{"alg":"HS256"}"#), encode("{}")),
            format!("{}.{}.", encode(r#"{"alg":"HS256"}"#), encode("{}")),
        ] {
            assert_eq!(decode_jwt(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn hostile_claims_are_escaped() {
        let t = token(
            r#"{"alg":"HS256"}"#,
            r#"{"iss":"evil\u001b]0;owned\u0007","sub":"\u00e9","exp":1e300}"#,
        );
        let claims = decode_jwt(t.as_bytes()).unwrap();
        assert_eq!(claims.issuer.as_deref(), Some("evil\\x1b]0;owned\\x07"));
        assert_eq!(claims.subject.as_deref(), Some("\\xc3\\xa9"));
        assert_eq!(claims.expires, None);
    }
}

//! What a check decoded from a secret ([`Details`], [`JwtClaims`]), and the escaping every
//! string taken from the input passes before it is kept ([`escape_printable`]): the result is
//! printable ASCII, so it can be printed as is.

use serde::{Deserialize, Serialize};

/// Longest escaped text kept for a name or a detail (longer text ends in `...`).
pub const DETAIL_MAX: usize = 256;

/// What a check decoded from a secret. Every string is printable ASCII (escaped input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Details {
    /// A JSON Web Token's header and claims.
    Jwt(JwtClaims),
    /// A private key's armour type and whether its body is encrypted.
    PrivateKey {
        /// The PEM type (`RSA PRIVATE KEY`, `OPENSSH PRIVATE KEY`, ...).
        key_type: String,
        /// True if encrypted (PKCS#8 ENCRYPTED, `Proc-Type: 4,ENCRYPTED`, an OpenSSH cipher
        /// other than `none`); `None` when the format does not say (PGP).
        encrypted: Option<bool>,
    },
    /// A Google Cloud service-account key file.
    ServiceAccount {
        /// `client_email`.
        client_email: Option<String>,
        /// `project_id`.
        project_id: Option<String>,
        /// `private_key_id`.
        private_key_id: Option<String>,
    },
    /// A user:password pair (basic auth, registry auth); only the user is shown.
    Credential {
        /// The user name.
        user: String,
    },
}

/// The parts of a JWT an investigator needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JwtClaims {
    /// Header `alg`.
    pub algorithm: String,
    /// Header `kid`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `aud` (a string or the strings of an array).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// `exp` as RFC 3339 (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `iat` as RFC 3339 (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    /// Kubernetes service-account namespace (bound `kubernetes.io.namespace` or legacy claim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Kubernetes service-account name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// The pod a bound service-account token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
}

/// Input bytes as printable ASCII: printable ASCII kept (backslash doubled), anything else as
/// `\xNN`. At most `max` input bytes are shown; the rest becomes `...`.
pub fn escape_printable(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max));
    for &byte in bytes.iter().take(max) {
        match byte {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    if bytes.len() > max {
        out.push_str("...");
    }
    out
}

/// A decoded string from the input (a claim, an email) as printable ASCII, cut at
/// [`DETAIL_MAX`] bytes.
pub(crate) fn detail_text(text: &str) -> String {
    escape_printable(text.as_bytes(), DETAIL_MAX)
}

//! What the scanner reports: a [`Finding`] (rule, offset, value bytes, optional name and
//! details), its masked form, and the escaping that keeps input bytes off the terminal.
//!
//! Invariant: every `String` in a finding ([`Finding::name`], [`Finding::masked`] and every
//! field of [`Details`]) is printable ASCII (0x20..=0x7e), built by [`escape_printable`] or
//! [`mask`], so it can be printed as is. The raw value is only available as bytes
//! ([`Finding::value`]); showing it is the caller's decision (`--reveal`).

use serde::{Deserialize, Serialize};

use super::rules::Rule;

/// Most characters of a value a masked form shows.
pub const MASK_SHOWN: usize = 4;

/// Longest escaped text kept for a name or a detail (longer text ends in `...`).
pub const DETAIL_MAX: usize = 256;

/// One secret found in the stream.
#[derive(Debug, Clone)]
pub struct Finding<'r> {
    /// The rule that found it.
    pub rule: &'r Rule,
    /// Absolute offset of the value's first byte in the stream (as given to the scanner).
    pub offset: u64,
    /// The secret's bytes. Never print these raw.
    pub value: Vec<u8>,
    /// The variable, key or user the secret belongs to (`DB_PASSWORD`, `password`, the URL's
    /// user), escaped to printable ASCII.
    pub name: Option<String>,
    /// What the rule's checks decoded (JWT claims, key type, account...).
    pub details: Option<Details>,
}

impl Finding<'_> {
    /// The kind of secret (the rule's kind).
    pub fn kind(&self) -> &str {
        self.rule.kind()
    }

    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for an empty value (never reported by the scanner).
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Offset one past the value's last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.value.len() as u64
    }

    /// The masked value: see [`mask`].
    pub fn masked(&self) -> String {
        mask(&self.value)
    }
}

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

/// The masked form of a value: at most [`MASK_SHOWN`] leading characters (and at most a quarter
/// of the value, so short passwords show less), `...`, and the length in brackets:
/// `ghp_...(40)`, `Zt...(8)`. Shown bytes that are not printable ASCII are escaped (`\xNN`),
/// so the result is always printable ASCII.
pub fn mask(value: &[u8]) -> String {
    let shown = MASK_SHOWN.min(value.len() / 4);
    let mut out = escape_printable(value.get(..shown).unwrap_or_default(), usize::MAX);
    out.push_str(&format!("...({})", value.len()));
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_shows_at_most_four_and_a_quarter() {
        assert_eq!(
            mask(b"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"),
            "ghp_...(40)"
        );
        assert_eq!(mask(b"Zt9vQ2mW"), "Zt...(8)");
        assert_eq!(mask(b"abc"), "...(3)");
        assert_eq!(mask(b""), "...(0)");
        assert_eq!(mask(b"\x1b[31mred-secret-value"), "\\x1b[31...(21)");
    }

    #[test]
    fn escape_keeps_printable_and_escapes_the_rest() {
        assert_eq!(escape_printable(b"a\\b\nc\x9b", 100), "a\\\\b\\x0ac\\x9b");
        assert_eq!(escape_printable(b"abcdef", 3), "abc...");
    }
}

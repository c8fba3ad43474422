//! The structural checks a rule can ask for by name (`checks:` in `rules.yaml`): checksums,
//! decodings and context that turn a regex match into evidence, and the one check every rule
//! gets (documentation example values are not secrets).
//!
//! A check sees the bytes around the match ([`Candidate`]) and either rejects it or accepts it,
//! possibly with [`Details`] and possibly extending the value past the regex match (a private
//! key's body up to its END line), never beyond [`Candidate::limit`]. One check lowers the
//! confidence instead of rejecting: a token whose format carries a checksum that fails.

use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use memchr::memmem;

use super::details::{detail_text, Details};
use super::jwt::decode_jwt;

/// Standard base64, padding optional, trailing bits tolerated.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A run of this many identical bytes marks a placeholder (`xxxxxx`, `******`), not a secret.
const PLACEHOLDER_RUN: usize = 6;

/// A named check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Random-looking token body: no long run of one byte.
    Random,
    /// Upper case, lower case and a digit, as base64 of random bytes has (a hex digest or a
    /// word has not).
    MixedCaseDigits,
    /// A free-form secret (password, opaque token) that is not a placeholder, a variable
    /// reference, a format string, a path, a number or a boolean.
    Plausible,
    /// An environment variable name that does not say "public" or name a non-secret key.
    EnvName,
    /// GitHub/npm token checksum: the last 6 characters are the base62 CRC-32 of the 30 before.
    /// A token whose checksum fails is accepted with low confidence ([`CHECKSUM_FAILS`]).
    Crc32Base62,
    /// A JWT whose header and payload decode (see [`decode_jwt`]).
    Jwt,
    /// A PEM private-key block, extended to its END line, body decoded and checked.
    PrivateKey,
    /// A service-account JSON private key (PEM with escaped newlines) and the account's fields.
    GcpServiceAccount,
    /// Base64 of exactly 64 bytes.
    AzureStorageKey,
    /// Base64 of exactly 32 bytes.
    AzureSharedAccessKey,
    /// Base64 of `user:password`, both non-empty and plausible.
    BasicAuth,
    /// Base64 of a PEM private-key block.
    Base64PrivateKey,
}

const CHECKS: [(Check, &str); 12] = [
    (Check::Random, "random"),
    (Check::MixedCaseDigits, "mixed-case-digits"),
    (Check::Plausible, "plausible"),
    (Check::EnvName, "env-name"),
    (Check::Crc32Base62, "crc32-base62"),
    (Check::Jwt, "jwt"),
    (Check::PrivateKey, "private-key"),
    (Check::GcpServiceAccount, "gcp-service-account"),
    (Check::AzureStorageKey, "azure-storage-key"),
    (Check::AzureSharedAccessKey, "azure-shared-access-key"),
    (Check::BasicAuth, "basic-auth"),
    (Check::Base64PrivateKey, "base64-private-key"),
];

impl Check {
    /// The check called `name` in the rule table.
    pub(crate) fn from_name(name: &str) -> Option<Check> {
        CHECKS.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }

    /// The check's name in the rule table.
    pub(crate) fn name(self) -> &'static str {
        CHECKS
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("", |(_, n)| n)
    }
}

/// A regex match and the bytes around it.
pub(crate) struct Candidate<'a> {
    /// Stream bytes around the match: the context before it and everything a value may
    /// extend to after it.
    pub data: &'a [u8],
    /// The value within `data`.
    pub value: Range<usize>,
    /// The `name` group within `data`, if the rule has one and it matched.
    pub name: Option<Range<usize>>,
    /// How far within `data` a check may extend the value (exclusive).
    pub limit: usize,
}

/// What the checks decided.
pub(crate) struct Accepted {
    /// The value within `data` (extended if a check extended it).
    pub value: Range<usize>,
    /// What the checks decoded.
    pub details: Option<Details>,
    /// Why the finding is of low confidence (the format matches, its checksum fails), if it
    /// is.
    pub low_confidence: Option<&'static str>,
}

/// Why a token whose format carries a checksum, and whose checksum fails, is still reported
/// (with low confidence): a mistyped, truncated-and-padded or deliberately altered token is
/// still worth a look, and dropping it silently hides it.
pub const CHECKSUM_FAILS: &str = "the format matches, its checksum does not";

/// Runs `checks` in order, then the check every rule gets; `None` rejects the candidate.
pub(crate) fn run_checks(checks: &[Check], candidate: &Candidate<'_>) -> Option<Accepted> {
    let mut value = candidate.value.clone();
    let mut details = None;
    let mut low_confidence = None;
    for check in checks {
        let bytes = candidate.data.get(value.clone())?;
        match check {
            Check::Random => random(bytes).then_some(())?,
            Check::MixedCaseDigits => mixed_case_digits(bytes).then_some(())?,
            Check::Plausible => plausible(bytes).then_some(())?,
            Check::EnvName => {
                let name = candidate.data.get(candidate.name.clone()?)?;
                env_name(name).then_some(())?
            }
            Check::Crc32Base62 => {
                if !crc32_base62(bytes) {
                    low_confidence = Some(CHECKSUM_FAILS);
                }
            }
            Check::Jwt => details = Some(Details::Jwt(decode_jwt(bytes)?)),
            Check::PrivateKey => {
                let (end, found) = pem_block(candidate.data, value.start, candidate.limit)?;
                value.end = end;
                details = Some(found);
            }
            Check::GcpServiceAccount => {
                let (end, _) = pem_block(candidate.data, value.start, candidate.limit)?;
                value.end = end;
                details = Some(service_account(candidate.data));
            }
            Check::AzureStorageKey => (decoded_len(bytes) == Some(64)).then_some(())?,
            Check::AzureSharedAccessKey => (decoded_len(bytes) == Some(32)).then_some(())?,
            Check::BasicAuth => details = Some(basic_auth(bytes)?),
            Check::Base64PrivateKey => {
                let decoded = BASE64.decode(bytes).ok()?;
                let start = memmem::find(&decoded, b"-----BEGIN ")?;
                details = Some(pem_block(&decoded, start, decoded.len())?.1);
            }
        }
    }
    let bytes = candidate.data.get(value.clone())?;
    (!is_documentation_example(bytes)).then_some(Accepted {
        value,
        details,
        low_confidence,
    })
}

/// True when `bytes` holds an upper-case letter, a lower-case letter and a digit.
fn mixed_case_digits(bytes: &[u8]) -> bool {
    bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase)
        && bytes.iter().any(u8::is_ascii_digit)
}

/// Values that say they are examples (AWS's `AKIAIOSFODNN7EXAMPLE`, `example-password`).
fn is_documentation_example(value: &[u8]) -> bool {
    value.windows(7).any(|w| w.eq_ignore_ascii_case(b"example"))
}

/// The longest run of one byte.
fn longest_run(bytes: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in bytes {
        run = if Some(b) == prev { run + 1 } else { 1 };
        prev = Some(b);
        best = best.max(run);
    }
    best
}

fn random(value: &[u8]) -> bool {
    longest_run(value) < PLACEHOLDER_RUN
}

/// Words used in configs and docs in place of a secret.
const PLACEHOLDERS: [&[u8]; 17] = [
    b"password",
    b"passwd",
    b"secret",
    b"token",
    b"redacted",
    b"hidden",
    b"masked",
    b"none",
    b"null",
    b"nil",
    b"undefined",
    b"empty",
    b"true",
    b"false",
    b"placeholder",
    b"changeme",
    b"your-password",
];

fn plausible(value: &[u8]) -> bool {
    let Some(&first) = value.first() else {
        return false;
    };
    let lower = value.to_ascii_lowercase();
    let starts = |p: &[u8]| value.starts_with(p);
    let placeholder = PLACEHOLDERS.iter().any(|p| lower == *p)
        || memmem::find(&lower, b"redacted").is_some()
        || (first == b'<' && value.ends_with(b">"))
        || (first == b'$'
            && value
                .get(1)
                .is_some_and(|b| b.is_ascii_alphabetic() || b"{(".contains(b)))
        || starts(b"{{")
        || starts(b"%(");
    let path =
        first == b'/' || starts(b"./") || starts(b"../") || starts(b"~/") || starts(b"file:");
    let number = value.iter().all(u8::is_ascii_digit) && value.len() < 16;
    let one_byte = value.iter().all(|&b| b == first);
    !(placeholder || path || number || one_byte || is_format_string(value) || !random(value))
}

/// A printf-style directive (`%s`, `%d`, `%-10.3f`, Go's `%v`, Python's `%(name)s`); `%XX` URL
/// escapes and a `%` before other characters (a password's `%y`) are not.
fn is_format_string(value: &[u8]) -> bool {
    value.iter().enumerate().any(|(i, &b)| {
        if b != b'%' {
            return false;
        }
        let rest = value.get(i + 1..).unwrap_or_default();
        if rest.len() >= 2 && rest.iter().take(2).all(u8::is_ascii_hexdigit) {
            return false;
        }
        if rest.first() == Some(&b'(') {
            return true;
        }
        let spec = rest
            .iter()
            .position(|c| !b"-+ #0123456789.hlzjtL".contains(c))
            .and_then(|at| rest.get(at));
        spec.is_some_and(|c| b"diouxXeEfFgGaAcspnqvw%".contains(c))
    })
}

/// Parts of a variable name that say the value is not a secret.
const NOT_SECRET_NAME_PARTS: [&[u8]; 3] = [b"PUBLIC", b"PUBKEY", b"_PUB_"];

/// `*_KEY` names that name a lookup key or a public key's fingerprint, not a secret.
const NOT_SECRET_KEYS: [&[u8]; 12] = [
    b"GPG_KEY",
    b"PGP_KEY",
    b"SORT_KEY",
    b"CACHE_KEY",
    b"PARTITION_KEY",
    b"PRIMARY_KEY",
    b"FOREIGN_KEY",
    b"ROUTING_KEY",
    b"IDEMPOTENCY_KEY",
    b"LOOKUP_KEY",
    b"GROUP_KEY",
    b"HOT_KEY",
];

fn env_name(name: &[u8]) -> bool {
    !(NOT_SECRET_NAME_PARTS
        .iter()
        .any(|part| memmem::find(name, part).is_some())
        || NOT_SECRET_KEYS.iter().any(|key| name.ends_with(key)))
}

/// The base62 alphabet of GitHub's checksums.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn crc32_base62(token: &[u8]) -> bool {
    let Some(tail) = token
        .len()
        .checked_sub(36)
        .and_then(|start| token.get(start..))
    else {
        return false;
    };
    let (body, checksum) = tail.split_at(30);
    let mut crc = crc32fast::hash(body);
    let mut expected = [b'0'; 6];
    for slot in expected.iter_mut().rev() {
        *slot = BASE62.get((crc % 62) as usize).copied().unwrap_or(b'0');
        crc /= 62;
    }
    crc == 0 && checksum == expected
}

fn decoded_len(value: &[u8]) -> Option<usize> {
    BASE64.decode(value).ok().map(|d| d.len())
}

fn basic_auth(value: &[u8]) -> Option<Details> {
    let decoded = BASE64.decode(value).ok()?;
    if !decoded.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let colon = memchr::memchr(b':', &decoded)?;
    let (user, password) = (decoded.get(..colon)?, decoded.get(colon + 1..)?);
    if user.is_empty() || !plausible(password) {
        return None;
    }
    Some(Details::Credential {
        user: detail_text(&String::from_utf8_lossy(user)),
    })
}

/// The line separators a PEM block may use: real newlines, or the two-character `\n` escape of
/// JSON and source code.
fn split_pem_lines(body: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < body.len() {
        let escaped = body.get(i..i + 2) == Some(b"\\n");
        if body.get(i) == Some(&b'\n') || escaped {
            lines.push(body.get(start..i).unwrap_or_default());
            i += if escaped { 2 } else { 1 };
            start = i;
        } else {
            i += 1;
        }
    }
    lines.push(body.get(start..).unwrap_or_default());
    lines
}

/// A PEM private-key block starting at `start` (`-----BEGIN <TYPE>-----`) whose matching END
/// line ends at or before `limit`: returns the offset just past the END line and the details.
/// The body must be RFC 7468 text (optional RFC 1421 headers, base64 lines, a PGP checksum line)
/// that decodes to the structure the type promises.
fn pem_block(data: &[u8], start: usize, limit: usize) -> Option<(usize, Details)> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const DASHES: &[u8] = b"-----";
    let window = data.get(start..limit.min(data.len()))?;
    let rest = window.strip_prefix(BEGIN)?;
    let type_len = memmem::find(rest, DASHES)?;
    let key_type = rest.get(..type_len)?;
    memmem::find(key_type, b"PRIVATE KEY")?;
    let body_start = BEGIN.len() + type_len + DASHES.len();
    let mut end_marker = b"-----END ".to_vec();
    end_marker.extend_from_slice(key_type);
    end_marker.extend_from_slice(DASHES);
    let body_len = memmem::find(window.get(body_start..)?, b"-----END ")?;
    let end_at = body_start + body_len;
    if !window.get(end_at..)?.starts_with(&end_marker) {
        return None;
    }
    let body = window.get(body_start..end_at)?;

    let is_pgp = key_type == b"PGP PRIVATE KEY BLOCK";
    let mut base64_text = Vec::with_capacity(body.len());
    let mut legacy_encrypted = false;
    let mut seen_data = false;
    for raw in split_pem_lines(body) {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = line.strip_suffix(b"\\r").unwrap_or(line);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            let header = line.get(..colon)?;
            if seen_data
                || !header
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            {
                return None;
            }
            if header == b"Proc-Type" && memmem::find(line, b"ENCRYPTED").is_some() {
                legacy_encrypted = true;
            }
            continue;
        }
        if is_pgp && seen_data && line.first() == Some(&b'=') && line.len() == 5 {
            continue; // the armour checksum (RFC 4880 section 6.2)
        }
        for &b in line {
            match b {
                b' ' | b'\t' => {}
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => base64_text.push(b),
                _ => return None,
            }
        }
        seen_data = true;
    }
    let der = BASE64.decode(&base64_text).ok()?;
    if der.len() < 32 {
        return None;
    }
    let encrypted = match key_type {
        b"OPENSSH PRIVATE KEY" => Some(openssh_encrypted(&der)?),
        b"PGP PRIVATE KEY BLOCK" => (der.first()? & 0x80 != 0).then_some(None)?,
        _ if legacy_encrypted => Some(true),
        _ => {
            if !is_der_sequence(&der) {
                return None;
            }
            Some(key_type == b"ENCRYPTED PRIVATE KEY")
        }
    };
    let details = Details::PrivateKey {
        key_type: detail_text(&String::from_utf8_lossy(key_type)),
        encrypted,
    };
    Some((start + end_at + end_marker.len(), details))
}

/// True if `der` is exactly one DER SEQUENCE.
fn is_der_sequence(der: &[u8]) -> bool {
    let (Some(&0x30), Some(&first_len)) = (der.first(), der.get(1)) else {
        return false;
    };
    let (header, len) = match first_len {
        0..=0x7f => (2, usize::from(first_len)),
        0x81..=0x83 => {
            let n = usize::from(first_len - 0x80);
            let Some(bytes) = der.get(2..2 + n) else {
                return false;
            };
            (
                2 + n,
                bytes
                    .iter()
                    .fold(0usize, |acc, &b| acc << 8 | usize::from(b)),
            )
        }
        _ => return false,
    };
    header + len == der.len()
}

/// Whether an `openssh-key-v1` blob is encrypted (its cipher is not `none`); `None` if the blob
/// is not one.
fn openssh_encrypted(blob: &[u8]) -> Option<bool> {
    let rest = blob.strip_prefix(b"openssh-key-v1\0")?;
    let len_bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len_bytes)).ok()?;
    let cipher = rest.get(4..4 + len)?;
    Some(cipher != b"none")
}

/// The account fields of a service-account JSON key around the match.
fn service_account(data: &[u8]) -> Details {
    Details::ServiceAccount {
        client_email: json_string_field(data, b"\"client_email\""),
        project_id: json_string_field(data, b"\"project_id\""),
        private_key_id: json_string_field(data, b"\"private_key_id\""),
    }
}

/// The string value of `"key": "value"` in JSON text (no escapes inside; at most 256 bytes).
fn json_string_field(data: &[u8], key: &[u8]) -> Option<String> {
    let at = memmem::find(data, key)? + key.len();
    let rest = data.get(at..)?;
    let rest = rest.get(rest.iter().position(|b| !b.is_ascii_whitespace())?..)?;
    let rest = rest.strip_prefix(b":")?;
    let rest = rest.get(rest.iter().position(|b| !b.is_ascii_whitespace())?..)?;
    let rest = rest.strip_prefix(b"\"")?;
    let len = rest
        .iter()
        .take(257)
        .position(|&b| b == b'"' || b == b'\\')?;
    if rest.get(len) != Some(&b'"') {
        return None;
    }
    Some(detail_text(&String::from_utf8_lossy(rest.get(..len)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_of_a_published_example() {
        // The example of GitHub's token-format write-ups: 30 random characters, then the
        // base62 CRC-32 of them.
        assert!(crc32_base62(b"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"));
        assert!(!crc32_base62(b"ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18"));
        assert!(!crc32_base62(b"short"));
    }

    #[test]
    fn plausible_rejects_placeholders() {
        for bad in [
            &b"password"[..],
            b"REDACTED",
            b"[redacted]",
            b"<password>",
            b"${DB_PASSWORD}",
            b"$DB_PASSWORD",
            b"{{ .Values.password }}",
            b"%s",
            b"%(password)s",
            b"/run/secrets/db",
            b"12345",
            b"xxxxxxxx",
            b"********",
            b"true",
            b"***",
            b"%-10.3f",
            b"pw%d",
        ] {
            assert!(!plausible(bad), "{}", String::from_utf8_lossy(bad));
        }
        for good in [
            &b"Zt9vQ2mW"[..],
            b"q8R%40xL2p",
            b"Pq3!xLm9Rt",
            b"1234567890123456",
        ] {
            assert!(plausible(good), "{}", String::from_utf8_lossy(good));
        }
    }

    #[test]
    fn der_sequence_lengths() {
        assert!(is_der_sequence(&[0x30, 0x01, 0x00]));
        assert!(is_der_sequence(&[0x30, 0x81, 0x01, 0x00]));
        assert!(!is_der_sequence(&[0x30, 0x02, 0x00]));
        assert!(!is_der_sequence(&[0x31, 0x01, 0x00]));
        assert!(!is_der_sequence(&[0x30, 0x84, 0, 0, 0, 1, 0]));
        assert!(!is_der_sequence(&[]));
    }

    #[test]
    fn json_fields_stop_at_quotes_and_escapes() {
        let data = br#"{"client_email" : "sa@p.iam.gserviceaccount.com", "project_id": "a\"b"}"#;
        assert_eq!(
            json_string_field(data, b"\"client_email\"").as_deref(),
            Some("sa@p.iam.gserviceaccount.com")
        );
        assert_eq!(json_string_field(data, b"\"project_id\""), None);
        assert_eq!(json_string_field(data, b"\"missing\""), None);
    }
}

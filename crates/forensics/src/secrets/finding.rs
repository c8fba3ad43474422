//! What the scanner reports: a [`Finding`] (rule, offset, value bytes, optional name and
//! details), its masked form, and the escaping that keeps input bytes off the terminal.
//!
//! Invariant: every `String` in a finding ([`Finding::name`], [`Finding::masked`] and every
//! field of [`Details`]) is printable ASCII (0x20..=0x7e), built by [`escape_printable`] or
//! [`mask`], so it can be printed as is. The raw value is only available as bytes
//! ([`Finding::value`]); showing it is the caller's decision (`--reveal`).

use super::details::{escape_printable, Details};
use super::rules::Rule;

/// Most characters of a value a masked form shows.
pub const MASK_SHOWN: usize = 4;

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
    /// Why the finding is of low confidence, when it is (a token whose checksum fails); `None`
    /// for a confident finding.
    pub low_confidence: Option<&'static str>,
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

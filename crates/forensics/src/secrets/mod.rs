//! Finding credentials in bytes (`analyze --secrets`): a table of rules kept as data
//! (`rules.yaml`), compiled once ([`Rules`]), and a streaming [`Scanner`] that reports each
//! secret with its rule, offset, value bytes and a masked form.
//!
//! - [`rules`]: the rule table and its compiled form (anchors, regexes, reach, docs table);
//! - [`scanner`]: one pass: aho-corasick over every anchor, each rule's regex near its anchor
//!   hits, its checks; chunked input, exactly-once results, bounded memory;
//! - [`validate`] and [`jwt`] (private): the structural checks (checksums, decodings, context);
//! - [`finding`]: [`Finding`] and its masked form; `details` (private): what checks decoded
//!   ([`Details`]) and the escaping of input bytes to printable ASCII;
//! - [`tally`]: copies of one value counted as one secret.
//!
//! What this module leaves out: where the bytes come from (process memory, environment, files:
//! the caller maps offsets to addresses or sources) and how findings are shown (`output`).
//!
//! Precision: a rule never accepts on entropy alone. Each needs a known prefix, a structure that
//! validates (a checksum, base64url JSON, PEM armour with a decodable body), or context (a
//! variable or key name, a neighbouring key). Hex hashes, UUIDs, build ids and base64 of
//! ordinary data match no rule; the table's `decoys` hold such data and a test keeps it so.
//!
//! Terminal safety: every string a finding carries is printable ASCII; the raw value is only
//! available as bytes.

mod details;
pub mod finding;
mod jwt;
pub mod rules;
pub mod scanner;
pub mod tally;
mod validate;

pub use details::{escape_printable, Details, JwtClaims, DETAIL_MAX};
pub use finding::{mask, Finding};
pub use rules::{Rule, Rules};
pub use scanner::{FindingSink, Scanner};
pub use tally::{Secret, Tally, TallyLimits};

/// A rule table that cannot be used. The built-in table is tested, so this is a bug there.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The table is not valid YAML of the expected shape.
    #[error("secret rules: {0}")]
    Parse(String),
    /// One rule is unusable.
    #[error("secret rule {rule}: {reason}")]
    Rule {
        /// The rule's name.
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Scans `bytes` as one whole stream starting at `offset` and returns every finding, in offset
/// order. For data that is already in memory (an environment block, a command line, a small
/// file); stream larger data through a [`Scanner`].
pub fn scan_bytes<'r>(rules: &'r Rules, offset: u64, bytes: &[u8]) -> Vec<Finding<'r>> {
    let mut found = Vec::new();
    let mut sink = |finding: Finding<'r>| {
        found.push(finding);
        true
    };
    let mut scanner = Scanner::with_block(rules, bytes.len().min(scanner::DEFAULT_BLOCK));
    scanner.feed(offset, bytes, &mut sink);
    scanner.finish(&mut sink);
    found
}

#[cfg(test)]
mod tests;

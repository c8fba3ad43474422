//! Counting copies: findings of the same value become one [`Secret`] with a copy count and the
//! first few locations, within limits that bound memory whatever the input holds.

use std::collections::HashMap;
use std::sync::Arc;

use super::details::Details;
use super::finding::{mask, Finding};
use super::rules::Rule;

/// How much a [`Tally`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyLimits {
    /// Most distinct values itemised; findings of further values are only counted.
    pub max_secrets: usize,
    /// Most bytes of distinct values kept in total.
    pub max_value_bytes: usize,
    /// Most locations kept per value (copies beyond are counted).
    pub max_locations: usize,
}

impl Default for TallyLimits {
    /// 10,000 values, 16 MiB of value bytes, 16 locations each.
    fn default() -> Self {
        TallyLimits {
            max_secrets: 10_000,
            max_value_bytes: 16 << 20,
            max_locations: 16,
        }
    }
}

/// One distinct secret value and where it was seen.
#[derive(Debug, Clone)]
pub struct Secret<'r, L> {
    /// The rule of the first finding of this value.
    pub rule: &'r Rule,
    /// The value's bytes. Never print these raw.
    pub value: Arc<[u8]>,
    /// The masked value (printable ASCII).
    pub masked: String,
    /// The first finding's name (printable ASCII).
    pub name: Option<String>,
    /// The first finding's details.
    pub details: Option<Details>,
    /// Why the value is of low confidence (its checksum fails), when it is.
    pub low_confidence: Option<&'static str>,
    /// How many times the value was found.
    pub copies: u64,
    /// The first [`TallyLimits::max_locations`] locations, in the order they were added.
    pub locations: Vec<L>,
}

/// Findings grouped by value. `L` is whatever the caller uses to say where a finding was
/// (a process and address, a file and offset).
#[derive(Debug)]
pub struct Tally<'r, L> {
    limits: TallyLimits,
    index: HashMap<Arc<[u8]>, usize>,
    secrets: Vec<Secret<'r, L>>,
    value_bytes: usize,
    findings: u64,
    not_itemised: u64,
}

impl<'r, L> Tally<'r, L> {
    /// An empty tally.
    pub fn new(limits: TallyLimits) -> Self {
        Tally {
            limits,
            index: HashMap::new(),
            secrets: Vec::new(),
            value_bytes: 0,
            findings: 0,
            not_itemised: 0,
        }
    }

    /// Counts `finding`, seen at `location`.
    pub fn add(&mut self, finding: Finding<'r>, location: L) {
        self.findings += 1;
        if let Some(secret) = self
            .index
            .get(finding.value.as_slice())
            .and_then(|&i| self.secrets.get_mut(i))
        {
            secret.copies += 1;
            if secret.locations.len() < self.limits.max_locations {
                secret.locations.push(location);
            }
            return;
        }
        if self.secrets.len() >= self.limits.max_secrets
            || self.value_bytes + finding.value.len() > self.limits.max_value_bytes
        {
            self.not_itemised += 1;
            return;
        }
        let value: Arc<[u8]> = Arc::from(finding.value);
        self.value_bytes += value.len();
        self.index.insert(Arc::clone(&value), self.secrets.len());
        let mut locations = Vec::new();
        if self.limits.max_locations > 0 {
            locations.push(location);
        }
        self.secrets.push(Secret {
            rule: finding.rule,
            masked: mask(&value),
            value,
            name: finding.name,
            details: finding.details,
            low_confidence: finding.low_confidence,
            copies: 1,
            locations,
        });
    }

    /// The distinct secrets, in the order first seen.
    pub fn secrets(&self) -> &[Secret<'r, L>] {
        &self.secrets
    }

    /// The distinct secrets, in the order first seen.
    pub fn into_secrets(self) -> Vec<Secret<'r, L>> {
        self.secrets
    }

    /// All findings added, itemised or not.
    pub fn findings(&self) -> u64 {
        self.findings
    }

    /// Findings of values the limits left out (counted, not itemised).
    pub fn not_itemised(&self) -> u64 {
        self.not_itemised
    }
}

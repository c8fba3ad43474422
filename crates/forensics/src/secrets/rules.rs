//! The rule table (`rules.yaml`, embedded in the binary) and its compiled form: one regex per
//! rule (built on the first anchor hit of its rule: building every one costs more than scanning
//! a small checkpoint), one aho-corasick automaton over every rule's anchors, and the reach of each rule (how
//! far before and after an anchor its match, context and value can lie), from which the
//! scanner's overlap is derived.
//!
//! Invariants checked when the table is compiled (a table that breaks one is refused):
//! - every anchor is a literal of at least [`MIN_ANCHOR_LEN`] bytes;
//! - every pattern parses with Unicode off, cannot match the empty string, and has a bounded
//!   maximum match length of at most [`MAX_REACH`] bytes (so is every `max_len` and `within`);
//! - capture groups are only `value` and `name`; checks name known validators.
//!
//! The built-in table's test builds every regex, so none of its rules fails to build when a scan
//! first needs it.
//!
//! One invariant is the table's to keep and is tested on the examples: every match of a rule's
//! pattern contains one of its anchors. A match without one would only be found if another
//! anchor of the same rule happened to be near.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};
use serde::Deserialize;

use super::validate::Check;
use super::Error;

/// The embedded rule table.
pub const RULES_YAML: &str = include_str!("rules.yaml");

/// Shortest anchor accepted: shorter literals occur everywhere in memory and kill the prefilter.
pub const MIN_ANCHOR_LEN: usize = 3;

/// Longest match, value (`max_len`) or context distance (`within`) a rule may declare, in bytes.
pub const MAX_REACH: usize = 16 * 1024;

/// The YAML document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rules: Vec<RuleSpec>,
    #[serde(default)]
    decoys: Vec<String>,
}

/// One rule as written in YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    kind: String,
    description: String,
    anchors: Vec<String>,
    pattern: String,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    near: Vec<String>,
    #[serde(default)]
    within: Option<usize>,
    #[serde(default)]
    max_len: Option<usize>,
    #[serde(default)]
    priority: u8,
    examples: Examples,
}

/// The examples a rule carries: text it must report (with the value) and near misses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Texts holding one secret this rule must report.
    pub found: Vec<FoundExample>,
    /// Near misses: texts in which no rule may report anything.
    pub not_found: Vec<String>,
    /// Texts in which this rule must report the value with low confidence only (a token of
    /// the right format whose checksum fails).
    #[serde(default)]
    pub low_confidence: Vec<FoundExample>,
}

/// A true positive: the text and the value the rule must report in it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundExample {
    /// The text to scan.
    pub text: String,
    /// The value that must be reported.
    pub value: String,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub(crate) index: usize,
    name: String,
    kind: String,
    description: String,
    anchors: Vec<String>,
    pattern: String,
    /// The pattern's regex, built on first use (`None` if it does not build).
    regex: OnceLock<Option<Regex>>,
    pub(crate) value_group: Option<usize>,
    pub(crate) name_group: Option<usize>,
    pub(crate) checks: Vec<Check>,
    pub(crate) near: Vec<memchr::memmem::Finder<'static>>,
    near_text: Vec<String>,
    pub(crate) within: usize,
    pub(crate) priority: u8,
    /// Longest value a check may extend the match to (at least `match_max`).
    pub(crate) value_max: usize,
    /// Most bytes a match can start before the anchor that triggered it.
    pub(crate) anchor_lead: usize,
    examples: Examples,
}

impl Rule {
    /// The rule's unique name (e.g. `github-token`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the rule finds (e.g. `private-key`); several rules may share a kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// One sentence saying what the rule finds.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The literals the prefilter looks for.
    pub fn anchors(&self) -> &[String] {
        &self.anchors
    }

    /// The confirming regex, as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The confirming regex, built on the first call; `None` when it does not build (a size
    /// limit of the regex engine: never for the built-in table, whose test builds every rule).
    pub(crate) fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                regex::bytes::RegexBuilder::new(&self.pattern)
                    .unicode(false)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// The names of the structural checks run on a match.
    pub fn check_names(&self) -> Vec<&'static str> {
        self.checks.iter().map(|c| c.name()).collect()
    }

    /// Context literals of which one must be near a match (empty: none required), and how near.
    pub fn context(&self) -> (&[String], usize) {
        (&self.near_text, self.within)
    }

    /// Overlap priority: of two overlapping findings the higher one is kept.
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// The rule's examples.
    pub fn examples(&self) -> &Examples {
        &self.examples
    }

    /// Bytes after a match's first byte that must be available before the match, its value and
    /// its context can all be judged (the value's longest extent, the context, and one byte of
    /// look-ahead for `\b` and `$`).
    pub(crate) fn reach_after(&self) -> usize {
        self.value_max + self.within + 1
    }
}

/// A compiled rule table: the rules, the anchor automaton and the derived overlap.
#[derive(Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    decoys: Vec<String>,
    pub(crate) anchors: AhoCorasick,
    /// For each anchor pattern id: the rules it triggers (its own and those of every anchor
    /// that is a prefix of it, since a leftmost-longest search reports only the longest).
    pub(crate) triggers: Vec<Vec<usize>>,
    pub(crate) longest_anchor: usize,
    /// Largest `anchor_lead + within + 1` over all rules: how far before an anchor a match's
    /// context can begin.
    pub(crate) max_lead: usize,
    /// Largest [`Rule::reach_after`] over all rules.
    pub(crate) max_reach_after: usize,
}

impl Rules {
    /// The built-in table, compiled once per process.
    pub fn builtin() -> Result<&'static Rules, Error> {
        static BUILTIN: OnceLock<Result<Rules, Error>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Rules::from_yaml(RULES_YAML))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Compiles a rule table written in the format of `rules.yaml`.
    pub fn from_yaml(text: &str) -> Result<Rules, Error> {
        let file: RulesFile =
            serde_yaml_ng::from_str(text).map_err(|err| Error::Parse(err.to_string()))?;
        let mut rules = Vec::with_capacity(file.rules.len());
        let mut names = BTreeSet::new();
        for (index, spec) in file.rules.into_iter().enumerate() {
            if !names.insert(spec.name.clone()) {
                return Err(Error::Rule {
                    rule: spec.name,
                    reason: "the name is used twice".to_owned(),
                });
            }
            rules.push(compile_rule(index, spec)?);
        }
        if rules.is_empty() {
            return Err(Error::Parse("the table has no rules".to_owned()));
        }

        let mut literals: Vec<&str> = Vec::new();
        for rule in &rules {
            for anchor in &rule.anchors {
                if !literals.contains(&anchor.as_str()) {
                    literals.push(anchor);
                }
            }
        }
        let triggers = literals
            .iter()
            .map(|literal| {
                let mut triggered: Vec<usize> = rules
                    .iter()
                    .filter(|rule| rule.anchors.iter().any(|a| literal.starts_with(a.as_str())))
                    .map(|rule| rule.index)
                    .collect();
                triggered.sort_unstable();
                triggered
            })
            .collect();
        let anchors = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&literals)
            .map_err(|err| Error::Parse(format!("building the anchor automaton: {err}")))?;
        let longest_anchor = literals.iter().map(|l| l.len()).max().unwrap_or(0);
        let max_lead = rules
            .iter()
            .map(|r| r.anchor_lead + r.within + 1)
            .max()
            .unwrap_or(0);
        let max_reach_after = rules.iter().map(Rule::reach_after).max().unwrap_or(0);
        Ok(Rules {
            rules,
            decoys: file.decoys,
            anchors,
            triggers,
            longest_anchor,
            max_lead,
            max_reach_after,
        })
    }

    /// The rules, in table order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this name.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Ordinary data the table says no rule may report.
    pub fn decoys(&self) -> &[String] {
        &self.decoys
    }

    /// Bytes of the stream the scanner keeps between chunks: enough for the longest anchor, the
    /// furthest a match (with its context) can start before its anchor, and the furthest its
    /// value and context can reach after its first byte. About 18 KiB for the built-in table.
    pub fn overlap(&self) -> usize {
        self.longest_anchor + self.max_lead + self.max_reach_after
    }

    /// The rules table of `docs/secrets.md` (Markdown), generated from the rules themselves.
    pub fn markdown_table(&self) -> String {
        let mut out = String::from(
            "| rule | kind | finds | anchors | checks | context | priority |\n\
             |---|---|---|---|---|---|---|\n",
        );
        for rule in &self.rules {
            let anchors: Vec<String> = rule.anchors.iter().map(|a| code_span(a)).collect();
            let checks: Vec<String> = rule.check_names().iter().map(|c| code_span(c)).collect();
            let context = if rule.near_text.is_empty() {
                String::new()
            } else {
                let near: Vec<String> = rule.near_text.iter().map(|n| code_span(n)).collect();
                format!("{} within {} B", near.join(" "), rule.within)
            };
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | {} | {} | {} |\n",
                rule.name,
                rule.kind,
                rule.description.replace('|', "\\|"),
                anchors.join(" "),
                checks.join(" "),
                context,
                rule.priority
            ));
        }
        out
    }
}

/// A Markdown code span for a literal (pipes escaped for tables).
fn code_span(text: &str) -> String {
    let fence = if text.contains('`') { "`` " } else { "`" };
    let close = if text.contains('`') { " ``" } else { "`" };
    format!("{fence}{}{close}", text.replace('|', "\\|"))
}

fn compile_rule(index: usize, spec: RuleSpec) -> Result<Rule, Error> {
    let fail = |reason: String| Error::Rule {
        rule: spec.name.clone(),
        reason,
    };
    let is_id = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !is_id(&spec.name) || !is_id(&spec.kind) {
        return Err(fail(
            "name and kind must be lowercase letters, digits and '-'".to_owned(),
        ));
    }
    if spec.anchors.is_empty() {
        return Err(fail("the rule has no anchor".to_owned()));
    }
    if let Some(short) = spec.anchors.iter().find(|a| a.len() < MIN_ANCHOR_LEN) {
        return Err(fail(format!(
            "anchor {short:?} is shorter than {MIN_ANCHOR_LEN} bytes"
        )));
    }
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&spec.pattern)
        .map_err(|err| fail(format!("pattern: {err}")))?;
    let props = hir.properties();
    if props.minimum_len().unwrap_or(0) == 0 {
        return Err(fail("the pattern matches the empty string".to_owned()));
    }
    let match_max = match props.maximum_len() {
        Some(max) if max <= MAX_REACH => max,
        _ => {
            return Err(fail(format!(
                "the pattern's matches are not bounded by {MAX_REACH} bytes"
            )))
        }
    };
    let mut value_group = None;
    let mut name_group = None;
    for (i, group) in capture_groups(&hir) {
        match group.as_deref() {
            None => {}
            Some("value") => value_group = Some(i),
            Some("name") => name_group = Some(i),
            Some(other) => return Err(fail(format!("unknown capture group {other:?}"))),
        }
    }
    let checks = spec
        .checks
        .iter()
        .map(|name| Check::from_name(name).ok_or_else(|| fail(format!("unknown check {name:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let within = match (spec.near.is_empty(), spec.within) {
        (true, None) => 0,
        (false, Some(within)) if within <= MAX_REACH => within,
        (false, Some(_)) => return Err(fail(format!("within is larger than {MAX_REACH}"))),
        _ => return Err(fail("near and within go together".to_owned())),
    };
    let value_max = match spec.max_len {
        None => match_max,
        Some(max) if (match_max..=MAX_REACH).contains(&max) => max,
        Some(_) => {
            return Err(fail(format!(
                "max_len must lie between the pattern's longest match ({match_max}) and {MAX_REACH}"
            )))
        }
    };
    let shortest_anchor = spec.anchors.iter().map(String::len).min().unwrap_or(0);
    let anchor_lead = prefix_anchor_lead(&hir, &spec.anchors)
        .unwrap_or(match_max)
        .min(match_max.saturating_sub(shortest_anchor));
    Ok(Rule {
        index,
        near: spec
            .near
            .iter()
            .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned())
            .collect(),
        near_text: spec.near,
        within,
        anchor_lead,
        value_max,
        regex: OnceLock::new(),
        value_group,
        name_group,
        checks,
        priority: spec.priority,
        name: spec.name,
        kind: spec.kind,
        description: spec.description,
        anchors: spec.anchors,
        pattern: spec.pattern,
        examples: spec.examples,
    })
}

/// The capture groups of a parsed pattern: (index as the regex numbers it, name).
fn capture_groups(hir: &Hir) -> Vec<(usize, Option<Box<str>>)> {
    let mut groups = Vec::new();
    let mut pending = vec![hir];
    while let Some(hir) = pending.pop() {
        match hir.kind() {
            HirKind::Capture(capture) => {
                groups.push((capture.index as usize, capture.name.clone()));
                pending.push(&capture.sub);
            }
            HirKind::Repetition(repetition) => pending.push(&repetition.sub),
            HirKind::Concat(subs) | HirKind::Alternation(subs) => pending.extend(subs),
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
        }
    }
    groups
}

/// How far into a match its first anchor can lie, when the pattern's prefixes say: every match
/// begins with one of the extracted prefix literals, so if each of them holds an anchor, a
/// match starts at most that anchor's position before it. `None` when the prefixes are
/// unknown, infinite or hold no anchor (then the whole match length is assumed).
fn prefix_anchor_lead(hir: &Hir, anchors: &[String]) -> Option<usize> {
    let prefixes = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let mut lead = 0;
    for literal in prefixes.literals()? {
        let bytes = literal.as_bytes();
        let first = anchors
            .iter()
            .filter_map(|a| memchr::memmem::find(bytes, a.as_bytes()))
            .min()?;
        lead = lead.max(first);
    }
    Some(lead)
}

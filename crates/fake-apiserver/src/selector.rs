//! Label and field selectors as the API server parses them (the subset clients send).

use std::collections::BTreeMap;

/// One label requirement.
#[derive(Debug, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`.
#[derive(Debug, Default)]
pub(super) struct LabelSelector(Vec<LabelRequirement>);

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; the error is the API server's message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(Self(requirements))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let empty = BTreeMap::new();
        let labels = labels.unwrap_or(&empty);
        self.0.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => labels.get(k) == Some(v),
            LabelRequirement::NotEquals(k, v) => labels.get(k) != Some(v),
            LabelRequirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            LabelRequirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            LabelRequirement::Exists(k) => labels.contains_key(k),
            LabelRequirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<LabelRequirement, String> {
    let bad = || format!("unable to parse requirement: found '{part}', expected: valid selector");
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(bad)?;
        Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
    };
    if let Some(key) = part.strip_prefix('!') {
        return Ok(LabelRequirement::NotExists(
            valid_key(key.trim()).ok_or_else(bad)?,
        ));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(
            valid_key(k.trim()).ok_or_else(bad)?,
            v.trim().to_string(),
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(LabelRequirement::Equals(
            valid_key(k.trim()).ok_or_else(bad)?,
            v.trim().to_string(),
        ));
    }
    if let Some((k, rest)) = part.split_once(" notin ") {
        return Ok(LabelRequirement::NotIn(
            valid_key(k.trim()).ok_or_else(bad)?,
            set(rest)?,
        ));
    }
    if let Some((k, rest)) = part.split_once(" in ") {
        return Ok(LabelRequirement::In(
            valid_key(k.trim()).ok_or_else(bad)?,
            set(rest)?,
        ));
    }
    Ok(LabelRequirement::Exists(valid_key(part).ok_or_else(bad)?))
}

fn valid_key(key: &str) -> Option<String> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then(|| key.to_string())
}

/// A parsed `fieldSelector`: (field, wanted value, equal?) triples.
#[derive(Debug, Default)]
pub(super) struct FieldSelector(Vec<(String, String, bool)>);

impl FieldSelector {
    /// Parses `f=v,g!=w`; `supported` lists the fields the resource allows, like the API server's
    /// `field label not supported` check.
    pub fn parse(text: &str, supported: &[&str]) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, v, true)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if !supported.contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_string(), value.trim().to_string(), equal));
        }
        Ok(Self(terms))
    }

    /// Whether the object's fields (looked up by `get`) satisfy every term.
    pub fn matches(&self, get: impl Fn(&str) -> String) -> bool {
        self.0
            .iter()
            .all(|(field, value, equal)| (get(field) == *value) == *equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_match_like_the_api_server() {
        let labels = BTreeMap::from([("app".to_string(), "counters".to_string())]);
        let cases = [
            ("app=counters", true),
            ("app==counters", true),
            ("app!=counters", false),
            ("app in (a,counters)", true),
            ("app notin (counters)", false),
            ("app", true),
            ("!app", false),
            ("tier", false),
            ("app=counters,tier!=x", true),
            ("", true),
        ];
        for (text, want) in cases {
            let selector = LabelSelector::parse(text).unwrap();
            assert_eq!(selector.matches(Some(&labels)), want, "{text}");
        }
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selectors_reject_unknown_fields() {
        let err = FieldSelector::parse("spec.foo=x", &["spec.nodeName"]).unwrap_err();
        assert_eq!(err, "field label not supported: spec.foo");
        let s = FieldSelector::parse("spec.nodeName=node-a", &["spec.nodeName"]).unwrap();
        assert!(s.matches(|_| "node-a".to_string()));
        assert!(!s.matches(|_| "node-b".to_string()));
    }
}

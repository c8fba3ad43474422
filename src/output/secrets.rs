//! Renderer of `analyze --secrets`: one row per copy of each secret (the secret's kind, name,
//! value, copies and details on its first row), a line for each checkpoint without secrets, or
//! the reports as JSON/YAML.
//!
//! Values are masked unless the report carries them (`--reveal`); every cell goes through the
//! table's escaping, so nothing from the checkpoint reaches the terminal raw.

use std::io::Write;

use super::{escape_text, human_size, render_json, render_yaml, Cell, Error, Format, Style, Table};
use checkpoint_forensics::analyze::{SecretLocation, SecretReport, SecretsReport};
use checkpoint_forensics::secrets::Details;

/// Renders the secrets reports of one or more checkpoints.
pub fn render_secrets(
    reports: &[SecretsReport],
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(reports, out),
        Format::Yaml => render_yaml(reports, out),
        Format::Table | Format::Tree => {
            for report in reports.iter().filter(|r| r.secrets.is_empty()) {
                writeln!(
                    out,
                    "{}: no secrets found ({} scanned)",
                    escape_text(&report.checkpoint),
                    human_size(report.scanned_bytes)
                )?;
            }
            if reports.iter().all(|r| r.secrets.is_empty()) {
                return Ok(());
            }
            let several = reports.len() > 1;
            let mut header = vec!["KIND", "NAME", "VALUE", "COPIES", "WHERE", "DETAILS"];
            if several {
                header.insert(0, "CHECKPOINT");
            }
            let mut table = Table::new(&header);
            for report in reports {
                for secret in &report.secrets {
                    add_rows(&mut table, several.then_some(&report.checkpoint), secret);
                }
            }
            table.render(style, out)
        }
    }
}

/// The rows of one secret: its facts and first location, then one row per further location,
/// then how many copies are not listed. The masked value, the name and the details are printable
/// ASCII the scanner escaped already (and a revealed value that is not UTF-8 too): they are
/// escaped once, not twice.
fn add_rows(table: &mut Table, checkpoint: Option<&String>, secret: &SecretReport) {
    let value = match &secret.value {
        Some(value) if secret.value_escaped => Cell::Escaped(value.clone()),
        Some(value) => Cell::Text(value.clone()),
        None => Cell::Escaped(secret.masked.clone()),
    };
    let mut first = true;
    let mut row = |location: String| {
        let mut cells = Vec::with_capacity(7);
        if let Some(checkpoint) = checkpoint {
            cells.push(Cell::Text(checkpoint.clone()));
        }
        if first {
            let kind = match &secret.low_confidence {
                Some(_) => format!("{} (low confidence)", secret.kind),
                None => secret.kind.clone(),
            };
            let mut details = secret.details.as_ref().map(describe).unwrap_or_default();
            if let Some(why) = &secret.low_confidence {
                details = if details.is_empty() {
                    why.clone()
                } else {
                    format!("{why}; {details}")
                };
            }
            cells.extend([
                Cell::Text(kind),
                Cell::Escaped(secret.name.clone().unwrap_or_default()),
                value.clone(),
                Cell::Text(secret.copies.to_string()),
                Cell::Text(location),
                Cell::Escaped(details),
            ]);
        } else {
            cells.extend([
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Text(location),
            ]);
        }
        first = false;
        table.row_cells(cells);
    };
    for location in &secret.locations {
        row(describe_location(location));
    }
    let unlisted = secret.copies.saturating_sub(secret.locations.len() as u64);
    if unlisted > 0 || secret.locations.is_empty() {
        row(format!("({unlisted} more copies not listed)"));
    }
}

/// A location in a few words: `pid 7 0x7ffd... [stack]`, `pid 7 environ offset 96`,
/// `pipe:[118963] unread data offset 22`.
pub fn describe_location(location: &SecretLocation) -> String {
    match (location, location.source_offset()) {
        (_, Some((source, offset))) => format!("{source} offset {offset}"),
        (
            SecretLocation::Memory {
                pid, address, vma, ..
            },
            None,
        ) => format!("pid {pid} {address} {vma}").trim_end().to_owned(),
        (_, None) => String::new(),
    }
}

/// What a rule's checks decoded, in one line.
pub fn describe(details: &Details) -> String {
    match details {
        Details::Jwt(claims) => {
            let mut parts = vec![format!("alg {}", claims.algorithm)];
            if let (Some(namespace), Some(account)) = (&claims.namespace, &claims.service_account) {
                parts.push(format!("service account {namespace}/{account}"));
                if let Some(pod) = &claims.pod {
                    parts.push(format!("pod {pod}"));
                }
            } else if let Some(subject) = &claims.subject {
                parts.push(format!("sub {subject}"));
            }
            if let Some(issuer) = &claims.issuer {
                parts.push(format!("iss {issuer}"));
            }
            if let Some(expires) = &claims.expires {
                parts.push(format!("expires {expires}"));
            }
            parts.join(", ")
        }
        Details::PrivateKey {
            key_type,
            encrypted,
        } => match encrypted {
            Some(true) => format!("{key_type}, encrypted"),
            Some(false) => format!("{key_type}, not encrypted"),
            None => key_type.clone(),
        },
        Details::ServiceAccount {
            client_email,
            project_id,
            private_key_id,
        } => {
            let mut parts = Vec::new();
            if let Some(email) = client_email {
                parts.push(email.clone());
            }
            if let Some(project) = project_id {
                parts.push(format!("project {project}"));
            }
            if let Some(key) = private_key_id {
                parts.push(format!("key id {key}"));
            }
            parts.join(", ")
        }
        Details::Credential { user } => format!("user {user}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn report() -> SecretsReport {
        SecretsReport {
            checkpoint: "a.tar".into(),
            secrets: vec![SecretReport {
                kind: "env-secret".into(),
                rule: "env-secret".into(),
                name: Some("DB_PASSWORD".into()),
                masked: "Qc...(22)".into(),
                value: None,
                value_escaped: false,
                length: 22,
                copies: 3,
                details: Some(Details::Credential {
                    user: "orders".into(),
                }),
                low_confidence: None,
                locations: vec![
                    SecretLocation::Environ {
                        pid: 7,
                        command: Arc::from("app"),
                        source: "pid 7 environ".into(),
                        variable: Arc::from("DB_PASSWORD"),
                        offset: 12,
                        address: "0x7ffd0000".into(),
                        vma: Arc::from("[stack]"),
                    },
                    SecretLocation::Memory {
                        pid: 7,
                        command: Arc::from("app"),
                        address: "0x1000".into(),
                        vma: Arc::from("/tmp/\x1b]0;owned\x07"),
                    },
                ],
            }],
            kinds: Vec::new(),
            findings: 3,
            not_itemised: 0,
            scanned_bytes: 4096,
            incomplete: Vec::new(),
        }
    }

    #[test]
    fn a_row_per_location_and_the_copies_not_listed() {
        let mut out = Vec::new();
        render_secrets(&[report()], Format::Table, Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[1].contains("DB_PASSWORD") && lines[1].contains("Qc...(22)"));
        assert!(lines[1].contains("pid 7 environ offset 12") && lines[1].contains("user orders"));
        assert!(lines[2].contains("pid 7 0x1000 /tmp/\\x1b]0;owned\\x07"));
        assert!(lines[3].contains("(1 more copies not listed)"));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn a_low_confidence_finding_says_so_and_why() {
        let mut low = report();
        low.secrets[0].kind = "github-token".into();
        low.secrets[0].details = None;
        low.secrets[0].low_confidence = Some("the format matches, its checksum does not".into());
        let mut out = Vec::new();
        render_secrets(&[low], Format::Table, Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().nth(1).unwrap();
        assert!(first.contains("github-token (low confidence)"), "{text}");
        assert!(first.contains("its checksum does not"), "{text}");
    }

    #[test]
    fn values_the_scanner_escaped_are_escaped_once() {
        let mut report = report();
        // What the scanner makes of the value "\x1b[31mred-secret-value": printable ASCII.
        report.secrets[0].masked = "\\x1b[31...(21)".into();
        report.secrets[0].name = Some("PASS\\x0aWORD".into());
        let mut out = Vec::new();
        render_secrets(&[report.clone()], Format::Table, Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(" \\x1b[31...(21) "), "{text}");
        assert!(text.contains("PASS\\x0aWORD"), "{text}");
        assert!(!text.contains("\\\\x"), "escaped twice: {text}");
        // Revealed: raw text is escaped (once), a value the scanner escaped is kept.
        report.secrets[0].value = Some("red\x1b[0m".into());
        let mut out = Vec::new();
        render_secrets(&[report.clone()], Format::Table, Style::default(), &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("red\\x1b[0m"));
        report.secrets[0].value = Some("caf\\xe9".into());
        report.secrets[0].value_escaped = true;
        let mut out = Vec::new();
        render_secrets(&[report], Format::Table, Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("caf\\xe9") && !text.contains("caf\\\\xe9"),
            "{text}"
        );
    }

    #[test]
    fn a_checkpoint_without_secrets_says_so() {
        let empty = SecretsReport {
            checkpoint: "clean\n.tar".into(),
            secrets: Vec::new(),
            scanned_bytes: 3 << 20,
            ..report()
        };
        let mut out = Vec::new();
        render_secrets(
            std::slice::from_ref(&empty),
            Format::Table,
            Style::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "clean\\n.tar: no secrets found (3.0 MiB scanned)\n"
        );
        let mut out = Vec::new();
        render_secrets(
            &[empty, report()],
            Format::Table,
            Style::default(),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("clean\\n.tar: no secrets found"), "{text}");
        assert!(
            text.contains("CHECKPOINT") && text.contains("DB_PASSWORD"),
            "{text}"
        );
    }

    #[test]
    fn json_has_no_value_unless_revealed() {
        let mut out = Vec::new();
        render_secrets(&[report()], Format::Json, Style::default(), &mut out).unwrap();
        let back: Vec<SecretsReport> = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, vec![report()]);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(value[0]["secrets"][0].get("value").is_none());
    }
}

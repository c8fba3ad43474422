//! The compromise-indicators section ([`checkpoint_forensics::analyze::indicators`]) as a table and as a tree.
//! Every string comes from the checkpoint and is escaped by [`Table`] and [`TreeNode`].

use super::{Table, TreeNode};
use checkpoint_forensics::analyze::indicators::IndicatorReport;

/// One row per indicator: pid, command, kind, what it means, the evidence joined by `; `;
/// then one row per process whose checks could not run.
pub(super) fn build_table(report: &IndicatorReport) -> Table {
    let mut table = Table::new(&["PID", "COMMAND", "INDICATOR", "MEANING", "EVIDENCE"]);
    for indicator in &report.found {
        table.row(vec![
            indicator.pid.to_string(),
            indicator.command.clone(),
            indicator.kind.name().to_owned(),
            indicator.explanation.clone(),
            indicator.evidence.join("; "),
        ]);
    }
    for skipped in &report.not_checked {
        table.row(vec![
            skipped.pid.to_string(),
            String::new(),
            kind_list(report, skipped.pid),
            "not checked".to_owned(),
            skipped.reason.clone(),
        ]);
    }
    table
}

/// `Compromise indicators` with one branch per indicator (its evidence below it), or `none`.
pub(super) fn build_tree(report: &IndicatorReport) -> TreeNode {
    let mut items: Vec<TreeNode> = report
        .found
        .iter()
        .map(|indicator| {
            TreeNode::branch(
                format!(
                    "[{}] {}: {}: {}",
                    indicator.pid,
                    indicator.command,
                    indicator.kind.name(),
                    indicator.explanation
                ),
                indicator.evidence.iter().map(TreeNode::leaf).collect(),
            )
        })
        .collect();
    items.extend(report.not_checked.iter().map(|skipped| {
        TreeNode::leaf(format!(
            "[{}] not checked ({}): {}",
            skipped.pid,
            kind_list(report, skipped.pid),
            skipped.reason
        ))
    }));
    if items.is_empty() {
        items.push(TreeNode::leaf("none found"));
    }
    TreeNode::branch("Compromise indicators", items)
}

/// The kinds not checked on `pid`, comma-separated.
fn kind_list(report: &IndicatorReport, pid: u32) -> String {
    report
        .not_checked
        .iter()
        .filter(|s| s.pid == pid)
        .flat_map(|s| s.kinds.iter().map(|k| k.name()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Style;
    use checkpoint_forensics::analyze::indicators::{Indicator, IndicatorKind, NotChecked};

    fn sample() -> IndicatorReport {
        IndicatorReport {
            found: vec![Indicator {
                kind: IndicatorKind::LdPreload,
                pid: 7,
                command: "app\x1b]0;x\x07".into(),
                explanation: IndicatorKind::LdPreload.explanation().into(),
                evidence: vec!["LD_PRELOAD=/tmp/x.so".into(), "second\nline".into()],
            }],
            not_checked: vec![NotChecked {
                pid: 9,
                kinds: vec![IndicatorKind::DuplicateEnv],
                reason: "pid 9: memory cannot be read".into(),
            }],
        }
    }

    #[test]
    fn table_rows_are_escaped_and_joined() {
        let mut out = Vec::new();
        build_table(&sample())
            .render(Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("tables are UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].starts_with("7     app\\x1b]0;x\\x07   ld-preload"));
        assert!(lines[1].ends_with("LD_PRELOAD=/tmp/x.so; second\\nline"));
        assert!(lines[2].contains("duplicate-env") && lines[2].contains("not checked"));
    }

    #[test]
    fn tree_puts_evidence_under_each_indicator() {
        let mut out = Vec::new();
        build_tree(&sample())
            .render(Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("trees are UTF-8");
        assert!(
            text.starts_with(
                "Compromise indicators\n    [7] app\\x1b]0;x\\x07: ld-preload: LD_PRELOAD is set"
            ),
            "{text}"
        );
        assert!(text.contains("\n        LD_PRELOAD=/tmp/x.so\n        second\\nline\n"));
        let mut out = Vec::new();
        build_tree(&IndicatorReport::default())
            .render(Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        assert_eq!(out, b"Compromise indicators\n    none found\n");
    }
}

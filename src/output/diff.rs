//! A [`DiffReport`] as tables (one per section with differences, each row saying `added`,
//! `removed`, `changed` or `resized`), as a tree, or as one JSON/YAML object.
//!
//! Every string from the checkpoints goes through [`Table`] and [`TreeNode`], which escape it.

use std::io::Write;

use super::{render_json, render_yaml, Error, Format, Style, Table, TreeNode};
use checkpoint_forensics::diff::{DiffReport, FieldChange, PageRange};

/// Renders a diff report.
pub fn render_diff(
    report: &DiffReport,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(report, out),
        Format::Yaml => render_yaml(report, out),
        Format::Table => render_tables(report, style, out),
        Format::Tree => build_tree(report).render(style, out),
    }
}

/// `OLD -> NEW: N differences` (escaped).
fn title(report: &DiffReport) -> String {
    let count = report.differences();
    let what = match count {
        0 => "no differences".to_owned(),
        1 => "1 difference".to_owned(),
        n => format!("{n} differences"),
    };
    format!(
        "{} -> {}: {what}",
        super::escape_text(&report.old),
        super::escape_text(&report.new)
    )
}

fn render_tables(report: &DiffReport, style: Style, out: &mut dyn Write) -> Result<(), Error> {
    writeln!(out, "{}", title(report))?;
    for (name, table) in build_tables(report) {
        if table.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{name}")?;
        table.render(style, out)?;
    }
    Ok(())
}

/// `field: old -> new`, `field added: new`, `field removed: old`.
fn change_text(change: &FieldChange) -> String {
    match (&change.old, &change.new) {
        (Some(old), Some(new)) => format!("{}: {old} -> {new}", change.field),
        (None, Some(new)) => format!("{} added: {new}", change.field),
        (Some(old), None) => format!("{} removed: {old}", change.field),
        (None, None) => change.field.clone(),
    }
}

fn changes_text(changes: &[FieldChange]) -> String {
    changes
        .iter()
        .map(change_text)
        .collect::<Vec<_>>()
        .join("; ")
}

fn hex(value: u64) -> String {
    format!("{value:#x}")
}

fn ranges_text(ranges: &[PageRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{}-{}", hex(r.start), hex(r.end)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The section tables, in order; empty ones are skipped by the caller.
fn build_tables(report: &DiffReport) -> Vec<(&'static str, Table)> {
    let mut tables = Vec::new();

    let mut metadata = Table::new(&["CHANGE", "FIELD", "DETAIL"]);
    let m = &report.metadata;
    for (change, list) in [("added", &m.added), ("removed", &m.removed)] {
        for field in list {
            metadata.row(vec![
                change.into(),
                field.field.clone(),
                field.value.clone(),
            ]);
        }
    }
    for change in &m.changed {
        metadata.row(vec![
            "changed".into(),
            change.field.clone(),
            format!(
                "{} -> {}",
                change.old.as_deref().unwrap_or_default(),
                change.new.as_deref().unwrap_or_default()
            ),
        ]);
    }
    tables.push(("metadata", metadata));

    let mut processes = Table::new(&["CHANGE", "PID", "PPID", "COMMAND", "STATE", "DETAIL"]);
    let p = &report.processes;
    for (change, list) in [("added", &p.added), ("removed", &p.removed)] {
        for process in list {
            processes.row(vec![
                change.into(),
                process.pid.to_string(),
                process.ppid.to_string(),
                process.command.clone(),
                process.state.clone(),
                process.cmdline.clone().unwrap_or_default(),
            ]);
        }
    }
    for process in &p.changed {
        processes.row(vec![
            "changed".into(),
            process.pid.to_string(),
            String::new(),
            process.command.clone(),
            String::new(),
            changes_text(&process.changes),
        ]);
    }
    tables.push(("processes", processes));

    let mut files = Table::new(&["CHANGE", "PID", "FD", "TYPE", "PATH", "DETAIL"]);
    let f = &report.files;
    for (change, list) in [("added", &f.added), ("removed", &f.removed)] {
        for fd in list {
            files.row(vec![
                change.into(),
                fd.pid.to_string(),
                fd.fd.to_string(),
                fd.file_type.clone(),
                fd.path.clone(),
            ]);
        }
    }
    for fd in &f.changed {
        files.row(vec![
            "changed".into(),
            fd.pid.to_string(),
            fd.fd.to_string(),
            String::new(),
            String::new(),
            changes_text(&fd.changes),
        ]);
    }
    tables.push(("open files", files));

    let mut sockets = Table::new(&[
        "CHANGE", "PID", "FD", "PROTOCOL", "STATE", "LOCAL", "REMOTE", "DETAIL",
    ]);
    let s = &report.sockets;
    for (change, list) in [("added", &s.added), ("removed", &s.removed)] {
        for socket in list {
            sockets.row(vec![
                change.into(),
                socket.pid.to_string(),
                socket.fd.to_string(),
                socket.protocol.clone(),
                socket.state.clone(),
                socket.local.clone(),
                socket.remote.clone(),
            ]);
        }
    }
    for socket in &s.changed {
        sockets.row(vec![
            "changed".into(),
            socket.pid.to_string(),
            socket.fd.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            changes_text(&socket.changes),
        ]);
    }
    tables.push(("sockets", sockets));

    let mut memory = Table::new(&[
        "CHANGE",
        "PID",
        "START",
        "END",
        "PERMS",
        "PAGES CHANGED",
        "NAME",
        "DETAIL",
    ]);
    let mem = &report.memory;
    for (change, list) in [("added", &mem.added), ("removed", &mem.removed)] {
        for vma in list {
            memory.row(vec![
                change.into(),
                vma.pid.to_string(),
                hex(vma.start),
                hex(vma.end),
                vma.perms.clone(),
                String::new(),
                vma.name.clone(),
            ]);
        }
    }
    for vma in &mem.resized {
        memory.row(vec![
            "resized".into(),
            vma.pid.to_string(),
            hex(vma.new_start),
            hex(vma.new_end),
            String::new(),
            vma.pages_changed.to_string(),
            vma.name.clone(),
            format!("was {}-{}", hex(vma.old_start), hex(vma.old_end)),
        ]);
    }
    for vma in &mem.changed {
        let mut detail = Vec::new();
        if let Some(perms) = &vma.old_perms {
            detail.push(format!("perms were {perms}"));
        }
        if let Some(name) = &vma.old_name {
            detail.push(format!("was {name}"));
        }
        memory.row(vec![
            "changed".into(),
            vma.pid.to_string(),
            hex(vma.start),
            hex(vma.end),
            vma.perms.clone(),
            format!("{} of {}", vma.pages_changed, vma.pages),
            vma.name.clone(),
            detail.join("; "),
        ]);
    }
    tables.push(("memory", memory));

    let mut pages = Table::new(&["PID", "VMA START", "PAGES", "CHANGED RANGES"]);
    for vma in &mem.changed {
        if !vma.changed_ranges.is_empty() {
            pages.row(vec![
                vma.pid.to_string(),
                hex(vma.start),
                vma.pages_changed.to_string(),
                ranges_text(&vma.changed_ranges),
            ]);
        }
    }
    for vma in &mem.resized {
        if !vma.changed_ranges.is_empty() {
            pages.row(vec![
                vma.pid.to_string(),
                hex(vma.new_start),
                vma.pages_changed.to_string(),
                ranges_text(&vma.changed_ranges),
            ]);
        }
    }
    tables.push(("changed pages", pages));

    let mut rootfs = Table::new(&["CHANGE", "PATH", "KIND", "SIZE", "DETAIL"]);
    let r = &report.rootfs_diff;
    for (change, list) in [("added", &r.added), ("removed", &r.removed)] {
        for entry in list {
            rootfs.row(vec![
                change.into(),
                entry.path.clone(),
                entry.kind.clone(),
                entry.size.to_string(),
            ]);
        }
    }
    for entry in &r.changed {
        rootfs.row(vec![
            "changed".into(),
            entry.path.clone(),
            String::new(),
            String::new(),
            changes_text(&entry.changes),
        ]);
    }
    tables.push(("root file system changes", rootfs));

    let mut skipped = Table::new(&["PID", "NOT COMPARED", "REASON"]);
    for item in &report.not_compared {
        skipped.row(vec![
            item.pid.map_or_else(String::new, |pid| pid.to_string()),
            item.what.clone(),
            item.reason.clone(),
        ]);
    }
    tables.push(("not compared", skipped));
    tables
}

/// The same sections as a tree: one branch per section with differences.
fn build_tree(report: &DiffReport) -> TreeNode {
    let mut children = Vec::new();
    for (name, table) in build_tables(report) {
        if table.is_empty() {
            continue;
        }
        // The table's lines are escaped already, and so is the title.
        let rows = table.row_lines().into_iter();
        children.push(TreeNode::branch(
            name,
            rows.map(|line| TreeNode::escaped(line, Vec::new()))
                .collect(),
        ));
    }
    TreeNode::escaped(title(report), children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_forensics::diff::{ProcessSummary, VmaChange};

    fn sample() -> DiffReport {
        let mut report = DiffReport {
            old: "a.tar".into(),
            new: "b\nforged.tar".into(),
            ..DiffReport::default()
        };
        report.processes.added.push(ProcessSummary {
            pid: 7,
            ppid: 1,
            command: "sh".into(),
            state: "Alive".into(),
            threads: 1,
            cmdline: Some("sh -c x".into()),
        });
        report.memory.changed.push(VmaChange {
            pid: 1,
            start: 0x1000,
            end: 0x4000,
            perms: "rw-p".into(),
            old_perms: None,
            name: "[heap]".into(),
            old_name: None,
            pages: 3,
            pages_changed: 1,
            changed_ranges: vec![PageRange {
                start: 0x2000,
                end: 0x3000,
                pages: 1,
            }],
        });
        report
    }

    fn rendered(format: Format) -> String {
        let mut out = Vec::new();
        render_diff(&sample(), format, Style::default(), &mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn tables_show_sections_with_differences_only() {
        let text = rendered(Format::Table);
        assert!(
            text.starts_with("a.tar -> b\\nforged.tar: 2 differences\n"),
            "{text}"
        );
        assert!(text.contains("\nprocesses\nCHANGE   PID   PPID   COMMAND   STATE   DETAIL\nadded    7     1      sh        Alive   sh -c x\n"), "{text}");
        assert!(text.contains("1 of 3"), "{text}");
        assert!(text.contains("\nchanged pages\n"), "{text}");
        assert!(text.contains("0x2000-0x3000"), "{text}");
        assert!(!text.contains("open files"), "{text}");
    }

    #[test]
    fn json_has_added_removed_changed_per_section() {
        let value: serde_json::Value = serde_json::from_str(&rendered(Format::Json)).expect("JSON");
        for section in [
            "metadata",
            "processes",
            "files",
            "sockets",
            "memory",
            "rootfs_diff",
        ] {
            for key in ["added", "removed", "changed"] {
                assert!(value[section][key].is_array(), "{section}.{key}");
            }
        }
        assert_eq!(value["memory"]["changed"][0]["start"], "0x1000");
        assert_eq!(
            value["memory"]["changed"][0]["changed_ranges"][0]["end"],
            "0x3000"
        );
        assert_eq!(value["new"], "b\nforged.tar");
    }

    #[test]
    fn tree_groups_rows_under_sections() {
        let text = rendered(Format::Tree);
        assert!(text.contains("\n    processes\n        added "), "{text}");
    }

    #[test]
    fn the_tree_escapes_once_as_the_tables_do() {
        let mut report = sample();
        report.processes.added[0].command = "sh\x1b[31m".into();
        let mut outputs = Vec::new();
        for format in [Format::Table, Format::Tree] {
            let mut out = Vec::new();
            render_diff(&report, format, Style::default(), &mut out).unwrap();
            outputs.push(String::from_utf8(out).unwrap());
        }
        for text in &outputs {
            assert!(text.contains("b\\nforged.tar"), "{text}");
            assert!(text.contains("sh\\x1b[31m"), "{text}");
            assert!(!text.contains("\\\\"), "escaped twice: {text}");
            assert!(!text.contains('\x1b'), "{text}");
        }
    }

    #[test]
    fn no_differences_is_one_line() {
        let report = DiffReport {
            old: "a".into(),
            new: "a".into(),
            ..DiffReport::default()
        };
        let mut out = Vec::new();
        render_diff(&report, Format::Table, Style::default(), &mut out).unwrap();
        assert_eq!(out, b"a -> a: no differences\n");
    }
}

//! Checkpoint reports as kubectl-like tables. One checkpoint: its summary (the default view) or
//! an overview row, then one table per requested section under its title. Several: an overview
//! with one row per checkpoint, then each section under a `<checkpoint>: <section>` title.

use std::io::Write;

use super::escape::escape_text;
use super::{human_size, Error, Style, Table};
use checkpoint_forensics::analyze::{CheckpointReport, ProcessFiles, ProcessNode};

/// Text for empty cells, as kubectl prints missing values.
const NONE: &str = "<none>";

pub(super) fn render(
    reports: &[CheckpointReport],
    style: Style,
    wide: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    // One checkpoint: its describe-like head (and summary, the default view); section titles
    // need no path. Several: the overview table, and each section titled with its checkpoint.
    let single = reports.len() == 1;
    match reports {
        [report] => super::summary::render(report, report.summary.as_ref(), style, out)?,
        _ => overview(reports, wide).render(style, out)?,
    }
    if !single {
        for report in reports {
            if let Some(custody) = &report.custody {
                let checkpoint = escape_text(&report.checkpoint);
                let line = super::custody::custody_text(custody);
                writeln!(out, "{checkpoint}: custody: {}", escape_text(&line))?;
            }
        }
    }
    for report in reports {
        for (title, table) in sections(report, style, wide) {
            writeln!(out)?;
            let title = if single {
                capitalized(title)
            } else {
                format!("{}: {title}", escape_text(&report.checkpoint))
            };
            if table.is_empty() {
                writeln!(out, "{title}: none")?;
                continue;
            }
            writeln!(out, "{title}:")?;
            table.render(style, out)?;
        }
    }
    Ok(())
}

/// A section title with its first letter in upper case.
fn capitalized(title: &str) -> String {
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An RFC 3339 time as `2023-08-24 11:24:18` (UTC, to the second) for the narrow overview; as
/// it is when it does not parse.
fn to_the_second(time: &str) -> String {
    match time.parse::<jiff::Timestamp>() {
        Ok(at) => at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => time.to_string(),
    }
}

fn or_none(text: &str) -> String {
    if text.is_empty() {
        NONE.to_owned()
    } else {
        text.to_owned()
    }
}

/// One row per checkpoint: who and when, the size; `wide` adds the image, ids, runtime, times,
/// IP and the parts' sizes.
fn overview(reports: &[CheckpointReport], wide: bool) -> Table {
    let mut table = if wide {
        Table::new(&[
            "CHECKPOINT",
            "CONTAINER",
            "IMAGE",
            "ID",
            "RUNTIME",
            "CREATED",
            "CHECKPOINTED",
            "ENGINE",
            "IP",
            "POD",
            "NAMESPACE",
            "CHKPT SIZE",
            "PAGES SIZE",
            "ROOTFS DIFF SIZE",
        ])
    } else {
        // On a narrow terminal the engine and the namespace go first, then the checkpoint's
        // path is cut in the middle; the pod, container and time are never cut (80 columns hold
        // a 25-character pod name with its container).
        Table::new(&[
            "CHECKPOINT",
            "POD/CONTAINER",
            "NAMESPACE",
            "ENGINE",
            "CHECKPOINTED (UTC)",
            "SIZE",
        ])
        .keep_whole(1)
        .keep_whole(4)
        .keep_whole(5)
        .optional(2)
        .optional(3)
    };
    for report in reports {
        let id: String = report.id.chars().take(12).collect();
        let row = if wide {
            vec![
                report.checkpoint.clone(),
                or_none(&report.container_name),
                or_none(&report.image),
                or_none(&id),
                or_none(&report.runtime),
                or_none(&report.created),
                or_none(&report.checkpointed),
                or_none(&report.engine),
                or_none(&report.ip),
                or_none(&report.pod),
                or_none(&report.namespace),
                human_size(report.checkpoint_size.total_size),
                human_size(report.checkpoint_size.memory_pages_size),
                human_size(report.checkpoint_size.root_fs_diff_size),
            ]
        } else {
            vec![
                report.checkpoint.clone(),
                format!(
                    "{}/{}",
                    or_none(&report.pod),
                    or_none(&report.container_name)
                ),
                or_none(&report.namespace),
                or_none(&report.engine),
                or_none(&to_the_second(&report.checkpointed)),
                human_size(report.checkpoint_size.total_size),
            ]
        };
        table.row(row);
    }
    table
}

/// The section tables of one report, with their titles, in a fixed order.
fn sections(report: &CheckpointReport, style: Style, wide: bool) -> Vec<(&'static str, Table)> {
    let mut sections = Vec::new();
    if let Some(stats) = &report.statistics {
        let mut table = Table::new(&[
            "FREEZING TIME",
            "FROZEN TIME",
            "MEMDUMP TIME",
            "MEMWRITE TIME",
            "PAGES SCANNED",
            "PAGES WRITTEN",
        ]);
        table.row(vec![
            format!("{} us", stats.freezing_time),
            format!("{} us", stats.frozen_time),
            format!("{} us", stats.memdump_time),
            format!("{} us", stats.memwrite_time),
            stats.pages_scanned.to_string(),
            stats.pages_written.to_string(),
        ]);
        sections.push(("CRIU dump statistics", table));
    }
    if let Some(metadata) = &report.metadata {
        let mut table = Table::new(&["POD", "NAMESPACE"]);
        table.row(vec![
            or_none(&metadata.pod_name),
            or_none(&metadata.kubernetes_namespace),
        ]);
        sections.push(("metadata", table));
        let mut annotations = Table::new(&["ANNOTATION", "VALUE"]);
        for (key, value) in &metadata.annotations {
            annotations.row(vec![key.clone(), value.clone()]);
        }
        sections.push(("annotations", annotations));
    }
    if let Some(root) = &report.process_tree {
        let with_cmdline = has_cmdline(root);
        let mut header = vec!["PID", "PPID", "PGID", "SID", "STATE", "THREADS", "COMMAND"];
        if with_cmdline {
            header.push("CMDLINE");
        }
        let mut table = Table::new(&header);
        process_rows(root, 0, with_cmdline, style, &mut table);
        sections.push(("processes", table));
        let mut threads = Table::new(&["PID", "TID", "NAME", "STATE"]);
        if thread_rows(root, &mut threads) {
            sections.push(("threads", threads));
        }
        let mut environment = Table::new(&["PID", "NAME", "VALUE"]);
        let mut any_env = false;
        environment_rows(root, &mut environment, &mut any_env);
        if any_env {
            sections.push(("environment", environment));
        }
        let mut unavailable = Table::new(&["PID", "FACT", "REASON"]);
        unavailable_rows(root, &mut unavailable);
        if !unavailable.is_empty() {
            sections.push(("facts that could not be read", unavailable));
        }
    }
    if let Some(processes) = &report.file_descriptors {
        let mut table = if wide {
            Table::new(&["PID", "FD", "TYPE", "PATH", "SIZE", "DELETED", "DETAIL"])
        } else {
            Table::new(&["PID", "FD", "TYPE", "PATH", "DETAIL"])
        };
        for process in processes {
            if let Some(reason) = &process.unavailable {
                let mut row = vec![process.pid.to_string(), String::new(), String::new()];
                row.resize(if wide { 6 } else { 4 }, String::new());
                row.push(format!("cannot be read: {reason}"));
                table.row(row);
            }
            for file in &process.open_files {
                let mut row = vec![
                    process.pid.to_string(),
                    file.fd.clone(),
                    file.file_type.clone(),
                    file.path.clone(),
                ];
                if wide {
                    row.push(file.size.map(human_size).unwrap_or_default());
                    row.push(if file.deleted { "yes" } else { "" }.to_owned());
                }
                row.push(file.detail.clone());
                table.row(row);
            }
        }
        sections.push(("open files", table));
        if wide {
            sections.extend(watch_tables(processes));
        }
    }
    if let Some(segments) = report.sysv_shm.as_ref().filter(|s| !s.is_empty()) {
        let mut table = Table::new(&["KEY", "ID", "SIZE", "MODE", "UID", "ATTACHED"]);
        for segment in segments {
            table.row(vec![
                segment.key.clone(),
                segment.id.to_string(),
                human_size(segment.size),
                segment.mode.clone(),
                segment.uid.to_string(),
                segment.attached.join(" "),
            ]);
        }
        sections.push(("SysV shared memory", table));
    }
    if let Some(processes) = &report.sockets {
        let mut table = Table::new(&[
            "PID", "FD", "PROTOCOL", "STATE", "LOCAL", "REMOTE", "SEND-Q", "RECV-Q", "SNDBUF",
            "RCVBUF",
        ]);
        for process in processes {
            for socket in &process.open_sockets {
                let data = &socket.data;
                let local = endpoint(&data.src, data.src_port, &data.address);
                let remote = endpoint(&data.dst, data.dst_port, "");
                let number = |value: Option<u64>| value.map_or_else(String::new, |v| v.to_string());
                table.row(vec![
                    process.pid.to_string(),
                    socket.fd.to_string(),
                    socket.protocol.clone(),
                    data.state.clone(),
                    local,
                    remote,
                    number(data.send_queue),
                    number(data.recv_queue),
                    number(data.send_buf.map(u64::from)),
                    number(data.recv_buf.map(u64::from)),
                ]);
            }
        }
        sections.push(("sockets", table));
    }
    if let Some(mounts) = &report.mounts {
        let mut table = Table::new(&["DESTINATION", "TYPE", "SOURCE", "ROOT", "OPTIONS"]);
        for mount in mounts {
            table.row(vec![
                mount.destination.clone(),
                mount.fs_type.clone(),
                mount.source.clone(),
                mount.root.clone(),
                mount.options.clone(),
            ]);
        }
        sections.push(("mounts", table));
    }
    if let Some(diff) = &report.rootfs_diff {
        let mut table = Table::new(&["CHANGE", "KIND", "SIZE", "PATH"]);
        for file in &diff.changed {
            table.row(vec![
                "changed".into(),
                file.kind.clone(),
                file.size.to_string(),
                file.path.clone(),
            ]);
        }
        for path in &diff.deleted {
            table.row(vec![
                "deleted".into(),
                String::new(),
                String::new(),
                path.clone(),
            ]);
        }
        if let Some(reason) = &diff.incomplete {
            table.row(vec![
                "stopped".into(),
                String::new(),
                String::new(),
                reason.clone(),
            ]);
        }
        sections.push(("root file system changes", table));
    }
    if let Some(indicators) = &report.indicators {
        sections.push((
            "compromise indicators",
            super::indicators::build_table(indicators),
        ));
    }
    sections
}

/// `-o wide`: each epoll registration, inotify watch and fanotify mark on a row of its own
/// (tables without rows are left out).
fn watch_tables(processes: &[ProcessFiles]) -> Vec<(&'static str, Table)> {
    let mut epoll = Table::new(&["PID", "FD", "TFD", "TARGET", "EVENTS", "DATA"]);
    let mut inotify = Table::new(&["PID", "FD", "WD", "PATH", "MASK"]);
    let mut fanotify = Table::new(&["PID", "FD", "TYPE", "PATH", "MASK", "IGNORED"]);
    for process in processes {
        for file in &process.open_files {
            let (pid, fd) = (process.pid.to_string(), file.fd.clone());
            for target in file.extras().epoll_targets.iter().flatten() {
                epoll.row(vec![
                    pid.clone(),
                    fd.clone(),
                    target.tfd.to_string(),
                    target.target.clone(),
                    format!("{} ({})", target.events, target.event_names.join("|")),
                    target.data.clone(),
                ]);
            }
            for watch in file.extras().inotify_watches.iter().flatten() {
                inotify.row(vec![
                    pid.clone(),
                    fd.clone(),
                    watch.wd.to_string(),
                    watch.path.clone(),
                    format!("{} ({})", watch.mask, watch.mask_names.join("|")),
                ]);
            }
            for mark in file.extras().fanotify.iter().flat_map(|f| &f.marks) {
                fanotify.row(vec![
                    pid.clone(),
                    fd.clone(),
                    mark.mark_type.clone(),
                    mark.path.clone(),
                    format!("{} ({})", mark.mask, mark.mask_names.join("|")),
                    format!(
                        "{} ({})",
                        mark.ignored_mask,
                        mark.ignored_mask_names.join("|")
                    ),
                ]);
            }
        }
    }
    [
        ("epoll registrations", epoll),
        ("inotify watches", inotify),
        ("fanotify marks", fanotify),
    ]
    .into_iter()
    .filter(|(_, table)| !table.is_empty())
    .collect()
}

/// `addr:port`, `[addr]:port` for IPv6, or the UNIX path.
fn endpoint(address: &str, port: Option<u32>, unix_path: &str) -> String {
    match port {
        Some(port) if address.contains(':') => format!("[{address}]:{port}"),
        Some(port) => format!("{address}:{port}"),
        None if !unix_path.is_empty() => unix_path.to_owned(),
        None => address.to_owned(),
    }
}

fn has_cmdline(node: &ProcessNode) -> bool {
    node.cmdline.is_some() || node.children.iter().any(has_cmdline)
}

fn process_rows(
    node: &ProcessNode,
    depth: usize,
    with_cmdline: bool,
    style: Style,
    table: &mut Table,
) {
    let indent = match (depth, style.glyphs) {
        (0, _) => String::new(),
        (_, true) => format!("{}└─ ", "   ".repeat(depth - 1)),
        (_, false) => "  ".repeat(depth),
    };
    let mut row = vec![
        node.pid.to_string(),
        node.ppid.to_string(),
        node.pgid.to_string(),
        node.sid.to_string(),
        node.task_state.to_owned(),
        node.threads.len().to_string(),
        format!("{indent}{}", node.command),
    ];
    if with_cmdline {
        row.push(node.cmdline.clone().unwrap_or_default());
    }
    table.row(row);
    for child in &node.children {
        process_rows(child, depth + 1, with_cmdline, style, table);
    }
}

/// Rows of every thread of processes with more than one; true when there was any.
fn thread_rows(node: &ProcessNode, table: &mut Table) -> bool {
    let mut any = false;
    if node.threads.len() > 1 {
        any = true;
        for thread in &node.threads {
            table.row(vec![
                node.pid.to_string(),
                thread.tid.to_string(),
                thread.name.clone(),
                thread.state.to_owned(),
            ]);
        }
    }
    for child in &node.children {
        any |= thread_rows(child, table);
    }
    any
}

/// The environment in memory order, duplicates kept.
fn environment_rows(node: &ProcessNode, table: &mut Table, any: &mut bool) {
    if let Some(environment) = &node.environment {
        *any = true;
        for entry in environment {
            let (name, value) = match entry.split_once('=') {
                Some((name, value)) => (name, value.to_owned()),
                // The kernel's copy holds it, but it is no variable: say so, rather than show
                // it as one with an empty value.
                None => (entry.as_str(), "(no '=': not a variable)".to_owned()),
            };
            table.row(vec![node.pid.to_string(), name.to_owned(), value]);
        }
    }
    for child in &node.children {
        environment_rows(child, table, any);
    }
}

fn unavailable_rows(node: &ProcessNode, table: &mut Table) {
    for fact in &node.unavailable {
        table.row(vec![
            node.pid.to_string(),
            fact.field.clone(),
            fact.reason.clone(),
        ]);
    }
    for child in &node.children {
        unavailable_rows(child, table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_forensics::analyze::{DumpStatistics, OpenFile, ProcessFiles, ThreadNode};

    fn thread(tid: u32) -> ThreadNode {
        ThreadNode {
            tid,
            name: String::new(),
            state: "Alive",
        }
    }

    #[test]
    fn overview_and_sections() {
        let report = CheckpointReport {
            checkpoint: "dir".into(),
            statistics: Some(DumpStatistics {
                pages_written: 2218,
                ..DumpStatistics::default()
            }),
            process_tree: Some(ProcessNode {
                pid: 1,
                command: "sh".into(),
                task_state: "Alive",
                threads: vec![thread(1)],
                children: vec![ProcessNode {
                    pid: 9,
                    ppid: 1,
                    command: "sleep".into(),
                    task_state: "Alive",
                    threads: vec![thread(9)],
                    ..ProcessNode::default()
                }],
                ..ProcessNode::default()
            }),
            file_descriptors: Some(vec![ProcessFiles {
                pid: 1,
                open_files: vec![OpenFile {
                    fd: "0".into(),
                    file_type: "REG".into(),
                    path: "/dev/null".into(),
                    ..OpenFile::default()
                }],
                unavailable: None,
            }]),
            ..CheckpointReport::default()
        };
        let mut out = Vec::new();
        render(&[report], Style::default(), false, &mut out).expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("tables are UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        // One checkpoint: its path and describe-like head, not the wide overview row.
        assert_eq!(lines[0], "dir", "{text}");
        assert!(lines[1].starts_with("Size:"), "{text}");
        assert!(!text.contains("CHECKPOINT "), "{text}");
        assert!(text.contains("\nCRIU dump statistics:\n"), "{text}");
        assert!(text.contains("   2218\n"), "{text}");
        assert!(
            text.contains("\n9     1      0      0     Alive   1           sleep\n"),
            "{text}"
        );
        assert!(text.contains("\n1     0     REG    /dev/null\n"), "{text}");
    }

    #[test]
    fn empty_sections_say_none() {
        let report = CheckpointReport {
            checkpoint: "dir".into(),
            mounts: Some(Vec::new()),
            ..CheckpointReport::default()
        };
        let mut out = Vec::new();
        render(&[report], Style::default(), false, &mut out).expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("tables are UTF-8");
        assert!(text.ends_with("\n\nMounts: none\n"), "{text}");
        // Several checkpoints: each section titled with its checkpoint.
        let other = CheckpointReport {
            checkpoint: "other".into(),
            mounts: Some(Vec::new()),
            ..CheckpointReport::default()
        };
        let both = [
            CheckpointReport {
                checkpoint: "dir".into(),
                mounts: Some(Vec::new()),
                ..CheckpointReport::default()
            },
            other,
        ];
        let mut out = Vec::new();
        render(&both, Style::default(), false, &mut out).expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("tables are UTF-8");
        assert!(text.contains("\ndir: mounts: none\n"), "{text}");
        assert!(text.ends_with("\nother: mounts: none\n"), "{text}");
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("127.0.0.1", Some(18765), ""), "127.0.0.1:18765");
        assert_eq!(endpoint("::1", Some(80), ""), "[::1]:80");
        assert_eq!(endpoint("", None, "/run/x.sock"), "/run/x.sock");
    }
}

//! One checkpoint's report head and forensic summary, laid out like `kubectl describe`: the
//! checkpoint's path, a key/value block (what it is, where it ran, how big), then (the summary)
//! short sections (processes, listening sockets and
//! connections, files of note, root file system changes), each at most [`SHOWN`] lines with a
//! pointer to the flag that shows the rest. On a terminal every line fits its width (long
//! values are cut in the middle); piped, nothing is cut. Every string is escaped.

use std::io::Write;

use super::{escape_text, human_size, shorten_middle, Error, Style, Table};
use checkpoint_forensics::analyze::{CheckpointReport, SocketHolder, SummaryReport};

/// Rows a section of the summary shows; the rest are counted.
const SHOWN: usize = 20;

/// Width of the key column of the key/value block.
const KEY_WIDTH: usize = 15;

/// Renders the head of one checkpoint's report: its path and the key/value block of what it
/// is; with a summary, the memory line and the summary's sections follow.
pub(super) fn render(
    report: &CheckpointReport,
    summary: Option<&SummaryReport>,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    // The checkpoint's path heads the block on a line of its own (paths are long).
    let path = escape_text(&report.checkpoint);
    match style.width {
        Some(width) => writeln!(out, "{}", shorten_middle(&path, width))?,
        None => writeln!(out, "{path}")?,
    }
    let value_width = style.width.map(|w| w.saturating_sub(KEY_WIDTH).max(20));
    let mut pair = |key: &str, value: &str| -> Result<(), Error> {
        if value.is_empty() {
            return Ok(());
        }
        let value = escape_text(value);
        let value = match value_width {
            Some(width) => shorten_middle(&value, width),
            None => value.into_owned(),
        };
        writeln!(out, "{:<KEY_WIDTH$}{value}", format!("{key}:"))?;
        Ok(())
    };
    pair("Container", &report.container_name)?;
    let pod = match (report.namespace.as_str(), report.pod.as_str()) {
        ("", pod) => pod.to_owned(),
        (namespace, "") => format!("{namespace}/?"),
        (namespace, pod) => format!("{namespace}/{pod}"),
    };
    pair("Pod", &pod)?;
    // The image id as `docker images` shows it (12 hex digits); JSON has it whole.
    let short_id: String = report
        .image_id
        .strip_prefix("sha256:")
        .unwrap_or(&report.image_id)
        .chars()
        .take(12)
        .collect();
    let image = match (report.image.as_str(), short_id.as_str()) {
        (name, "") => name.to_owned(),
        ("", id) => id.to_owned(),
        (name, id) => format!("{name} ({id})"),
    };
    pair("Image", &image)?;
    let engine = match (report.engine.as_str(), report.runtime.as_str()) {
        ("", _) => String::new(),
        (engine, "") => engine.to_owned(),
        (engine, runtime) => format!("{engine} ({runtime})"),
    };
    pair("Engine", &engine)?;
    pair(
        "Container ID",
        &report.id.chars().take(12).collect::<String>(),
    )?;
    pair("Created", &report.created)?;
    pair("Checkpointed", &report.checkpointed)?;
    pair("IP", &report.ip)?;
    if let Some(custody) = &report.custody {
        pair("Custody", &super::custody::custody_text(custody))?;
    }
    let size = report.checkpoint_size;
    pair(
        "Size",
        &format!(
            "{} ({} memory pages, {} root fs diff)",
            human_size(size.total_size),
            human_size(size.memory_pages_size),
            human_size(size.root_fs_diff_size)
        ),
    )?;
    let Some(summary) = summary else {
        return Ok(());
    };
    let memory = summary.memory;
    let shared = if memory.shared_bytes > 0 {
        format!(", {} of it shared", human_size(memory.shared_bytes))
    } else {
        String::new()
    };
    pair(
        "Memory",
        &format!(
            "{} mapped, {} in the checkpoint{shared}",
            human_size(memory.mapped_bytes),
            human_size(memory.dumped_bytes)
        ),
    )?;

    section(
        out,
        &format!(
            "Processes ({}, {} thread{})",
            summary.processes,
            summary.threads,
            if summary.threads == 1 { "" } else { "s" }
        ),
        summary.processes,
        "--ps-tree --cmdline",
        style,
        |table| {
            for process in summary.tree.iter().take(SHOWN) {
                let indent = match (process.depth, style.glyphs) {
                    (0, _) => String::new(),
                    (depth, true) => format!("{}└─ ", "   ".repeat(depth - 1)),
                    (depth, false) => "  ".repeat(depth),
                };
                let command = process.cmdline.as_deref().filter(|c| !c.is_empty());
                table.row(vec![
                    process.pid.to_string(),
                    process.state.clone(),
                    process.threads.to_string(),
                    format!("{indent}{}", command.unwrap_or(&process.command)),
                ]);
            }
        },
        &["PID", "STATE", "THREADS", "COMMAND"],
    )?;
    section(
        out,
        &format!("Listening ({})", summary.totals.listening),
        summary.totals.listening,
        "--sockets",
        style,
        |table| {
            for socket in summary.listening.iter().take(SHOWN) {
                let everywhere = if socket.all_addresses {
                    "all addresses"
                } else {
                    ""
                };
                table.row(vec![
                    socket.protocol.clone(),
                    socket.local.clone(),
                    everywhere.to_owned(),
                    holders(&socket.holders),
                ]);
            }
        },
        &["PROTO", "ADDRESS", "", "PROCESS"],
    )?;
    section(
        out,
        &format!("Connections ({})", summary.totals.connections),
        summary.totals.connections,
        "--sockets",
        style,
        |table| {
            for socket in summary.connections.iter().take(SHOWN) {
                table.row(vec![
                    socket.protocol.clone(),
                    format!("{} -> {}", socket.local, socket.remote),
                    socket.state.clone(),
                    holders(&socket.holders),
                ]);
            }
        },
        &["PROTO", "LOCAL -> REMOTE", "STATE", "PROCESS"],
    )?;
    section(
        out,
        &format!("Files of note ({})", summary.totals.files_of_note),
        summary.totals.files_of_note,
        "--files",
        style,
        |table| {
            for file in summary.files_of_note.iter().take(SHOWN) {
                table.row(vec![
                    file.kind.clone(),
                    file.path.clone(),
                    file.size.map(human_size).unwrap_or_default(),
                    format!("pid {} fd {}", file.pid, file.fd),
                ]);
            }
        },
        &["KIND", "PATH", "SIZE", "PROCESS"],
    )?;
    section(
        out,
        &format!("Indicators of compromise ({})", summary.totals.indicators),
        summary.totals.indicators,
        "--indicators",
        style,
        |table| {
            for found in summary.indicators.iter().take(SHOWN) {
                table.row(vec![
                    format!("{} ({})", found.pid, found.command),
                    found.kind.clone(),
                    found.explanation.clone(),
                ]);
            }
        },
        &["PROCESS", "INDICATOR", "WHAT IT MEANS"],
    )?;
    match &summary.secrets {
        None => {
            writeln!(out)?;
            writeln!(out, "Secrets: the scan could not run (--secrets says why)")?;
        }
        Some(secrets) => {
            let title = if secrets.secrets == 0 {
                "Secrets".to_owned()
            } else {
                format!(
                    "Secrets ({} in {} copies; --secrets lists them, masked)",
                    secrets.secrets, secrets.copies
                )
            };
            section(
                out,
                &title,
                secrets.kinds.len(),
                "--secrets",
                style,
                |table| {
                    for kind in secrets.kinds.iter().take(SHOWN) {
                        table.row(vec![
                            kind.kind.clone(),
                            kind.secrets.to_string(),
                            kind.copies.to_string(),
                        ]);
                    }
                },
                &["KIND", "SECRETS", "COPIES"],
            )?;
            if secrets.low_confidence > 0 {
                writeln!(
                    out,
                    "  and {} of low confidence (checksum fails; --secrets lists them)",
                    secrets.low_confidence
                )?;
            }
            if secrets.incomplete > 0 {
                writeln!(
                    out,
                    "  {} parts could not be scanned to their end (--secrets names them)",
                    secrets.incomplete
                )?;
            }
        }
    }
    let rootfs = &summary.rootfs;
    writeln!(out)?;
    if rootfs.changed + rootfs.deleted == 0 {
        writeln!(out, "Root FS changes: none")?;
    } else {
        let examples: Vec<String> = rootfs
            .examples
            .iter()
            .map(|p| escape_text(p).into_owned())
            .collect();
        let mut line = format!(
            "Root FS changes: {} changed, {} deleted: {}",
            rootfs.changed,
            rootfs.deleted,
            examples.join(", ")
        );
        if rootfs.changed + rootfs.deleted > examples.len() {
            line.push_str(", ... (--rootfs-diff)");
        }
        if let Some(width) = style.width {
            line = shorten_middle(&line, width);
        }
        writeln!(out, "{line}")?;
    }
    if let Some(reason) = &rootfs.incomplete {
        writeln!(out, "  the listing stopped early: {}", escape_text(reason))?;
    }
    if summary.totals.unreadable > 0 {
        writeln!(
            out,
            "Unreadable:     {} facts could not be read (--all lists them with the reason)",
            summary.totals.unreadable
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "More detail: --ps-tree --cmdline --env --files --sockets --mounts --stats"
    )?;
    writeln!(
        out,
        "             --rootfs-diff --indicators --secrets --memory --search STRING,"
    )?;
    writeln!(out, "             or --all for every section")?;
    Ok(())
}

/// `pid 7 (sh) fd 0,1,2`.
fn process_fds(pid: u32, command: &str, fds: &[u32]) -> String {
    let fds: Vec<String> = fds.iter().map(u32::to_string).collect();
    let word = if fds.len() == 1 { "fd" } else { "fds" };
    format!("pid {pid} ({command}) {word} {}", fds.join(","))
}

/// The processes holding one socket: `pid 1 (nginx) fd 6; pid 7 (nginx) fd 6`.
fn holders(holders: &[SocketHolder]) -> String {
    holders
        .iter()
        .map(|h| process_fds(h.pid, &h.command, &h.fds))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One section: a title line, then a table of at most [`SHOWN`] rows indented by two spaces,
/// then how many more there are and the flag that shows them. Nothing but the title (with
/// `none`) when it is empty.
fn section(
    out: &mut dyn Write,
    title: &str,
    total: usize,
    flag: &str,
    style: Style,
    fill: impl FnOnce(&mut Table),
    header: &[&str],
) -> Result<(), Error> {
    writeln!(out)?;
    if total == 0 {
        writeln!(out, "{title}: none")?;
        return Ok(());
    }
    writeln!(out, "{title}:")?;
    let mut table = Table::new(header);
    fill(&mut table);
    let inner = Style {
        width: style.width.map(|w| w.saturating_sub(2)),
        ..style
    };
    let mut buffer = Vec::new();
    table.render(inner, &mut buffer)?;
    for line in String::from_utf8_lossy(&buffer).lines() {
        writeln!(out, "  {line}")?;
    }
    if total > SHOWN {
        writeln!(out, "  ... and {} more ({flag})", total - SHOWN)?;
    }
    Ok(())
}

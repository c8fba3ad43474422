//! Renderers of the memory views (`analyze --memory`, `--search`, `--dump-memory`, `--hexdump`):
//! kubectl-like tables, or the report structs as JSON/YAML.

use std::io::Write;

use super::{human_size, render_json, render_yaml, Error, Format, Style, Table};
use checkpoint_forensics::memory::report::{
    hex_address, DumpReport, HexdumpReport, MemorySummary, SearchReport,
};

/// Renders per-process memory summaries.
pub fn render_memory_summaries(
    rows: &[MemorySummary],
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(rows, out),
        Format::Yaml => render_yaml(rows, out),
        Format::Table | Format::Tree => {
            // PRESENT is OWN (the process's pages) plus SHARED (shared memory it maps, stored
            // once for all the processes that map it).
            let mut table = Table::new(&[
                "PID", "COMMAND", "VMAS", "VMA SIZE", "PRESENT", "OWN", "SHARED", "HEAP", "STACK",
                "PAGES",
            ]);
            for row in rows {
                table.row(vec![
                    row.pid.to_string(),
                    row.command.clone(),
                    row.vmas.to_string(),
                    human_size(row.vma_bytes),
                    human_size(row.present_bytes),
                    human_size(row.own_present_bytes),
                    human_size(row.shared_present_bytes),
                    human_size(row.heap_present_bytes),
                    human_size(row.stack_present_bytes),
                    row.pages_file.clone(),
                ]);
            }
            table.render(style, out)
        }
    }
}

/// Renders the search reports of one or more checkpoints, one row per hit; JSON and YAML give
/// the list of reports.
pub fn render_search(
    reports: &[SearchReport],
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(reports, out),
        Format::Yaml => render_yaml(reports, out),
        Format::Table | Format::Tree => {
            let several = reports.len() > 1;
            let mut header = vec!["PID", "COMMAND", "ADDRESS", "VMA", "OFFSET", "CONTEXT"];
            if several {
                header.insert(0, "CHECKPOINT");
            }
            let mut table = Table::new(&header);
            for (report, hit) in reports
                .iter()
                .flat_map(|r| r.matches.iter().map(move |h| (r, h)))
            {
                let mut row = Vec::with_capacity(header.len());
                if several {
                    row.push(report.checkpoint.clone());
                }
                row.extend([
                    hit.pid.to_string(),
                    hit.command.clone(),
                    hit.address.clone(),
                    hit.vma.clone(),
                    format!("{:#x}", hit.offset),
                    hit.context.clone(),
                ]);
                table.row(row);
            }
            table.render(style, out)?;
            let stored: Vec<_> = reports
                .iter()
                .flat_map(|r| r.stored_matches.iter().map(move |h| (r, h)))
                .collect();
            if stored.is_empty() {
                return Ok(());
            }
            writeln!(out)?;
            let mut header = vec!["SOURCE", "OFFSET", "CONTEXT"];
            if several {
                header.insert(0, "CHECKPOINT");
            }
            let mut table = Table::new(&header);
            for (report, hit) in stored {
                let mut row = Vec::with_capacity(header.len());
                if several {
                    row.push(report.checkpoint.clone());
                }
                row.extend([
                    hit.source.clone(),
                    hit.offset.to_string(),
                    hit.context.clone(),
                ]);
                table.row(row);
            }
            table.render(style, out)
        }
    }
}

/// Renders the map of a raw memory dump: which file offset holds which addresses.
pub fn render_dump(
    report: &DumpReport,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(report, out),
        Format::Yaml => render_yaml(report, out),
        Format::Table | Format::Tree => {
            let mut table = Table::new(&["FILE OFFSET", "ADDRESS", "END", "SIZE", "VMA"]);
            for range in &report.ranges {
                table.row(vec![
                    format!("{:#x}", range.file_offset),
                    range.address.clone(),
                    hex_address(range.vaddr + range.len),
                    human_size(range.len),
                    range.vma.clone(),
                ]);
            }
            table.render(style, out)?;
            writeln!(
                out,
                "{}: {} of memory, {} of it data on disk, {} of zero pages left as holes",
                report.file,
                human_size(report.bytes),
                human_size(report.data_bytes),
                human_size(report.hole_bytes)
            )?;
            Ok(())
        }
    }
}

/// Renders a hexdump like `xxd`: address, 16 hex bytes, printable text; absent ranges as one
/// line.
pub fn render_hexdump(
    report: &HexdumpReport,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(report, out),
        Format::Yaml => render_yaml(report, out),
        Format::Table | Format::Tree => {
            for line in &report.lines {
                match (&line.hex, &line.ascii) {
                    (Some(hex), Some(ascii)) => {
                        writeln!(out, "{:>18}  {hex:<47}  {ascii}", line.address)?
                    }
                    _ => writeln!(
                        out,
                        "{:>18}  -- {} bytes not in the checkpoint --",
                        line.address, line.len
                    )?,
                }
            }
            Ok(())
        }
    }
}

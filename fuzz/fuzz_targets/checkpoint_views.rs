//! Structure-aware: a real-shaped checkpoint (processes, pages, files, descriptors, argv and
//! environment) changed by arbitrary edits of its decoded images, hostile strings where it holds
//! names, shared pages files, extra threads, dropped and cut images, engine files and a
//! rootfs-diff.tar, packed plain, gzip or zstd; then every view the binary has, through the
//! binary's own renderers (`src/output`, compiled in here), each in every format, and the
//! invariants of `views/check.rs`: human output and stderr lines free of raw control and layout
//! characters and forged lines, JSON and YAML (a YAML 1.1 and a 1.2 reader) reading back to the
//! same strings, cores and memory dumps within the bytes the archive stores, output bounded by
//! the archive's size.
#![no_main]

mod scratch;
mod views;

#[allow(dead_code)]
#[path = "../../tests/support/memgen.rs"]
mod memgen;

#[allow(dead_code, unused_imports)]
#[path = "../../src/output/mod.rs"]
mod output;

use std::path::Path;

use checkpoint_forensics::analyze::{self, ExploreView, SecretsParams, Sections};
use checkpoint_forensics::coredump;
use checkpoint_forensics::diff::{self, DiffParams};
use checkpoint_forensics::memory::report::{build_hexdump, build_summary, write_dump_file};
use checkpoint_forensics::memory::search::{collect_search, SearchParams};
use checkpoint_model::archive::{Checkpoint, OpenParams};
use checkpoint_model::dump::Dump;
use checkpoint_model::error_text;
use checkpoint_model::search::Matcher;
use libfuzzer_sys::fuzz_target;
use output::{Format, Style};
use scratch::scratch;
use serde::Serialize;
use views::build::{self, Input};
use views::check;

fn open(path: &Path, dir: &Path) -> Option<Checkpoint> {
    let params = OpenParams::default()
        .member_limit(1 << 20)
        .memory_budget(4 << 20)
        .max_members(10_000)
        .spool_dir(dir);
    Checkpoint::open_with(path, &params).ok()
}

/// Plain, and as a narrow terminal without colour would show it (cut cells, tree glyphs).
const STYLES: [Style; 2] = [
    Style {
        color: false,
        glyphs: false,
        width: None,
    },
    Style {
        color: false,
        glyphs: true,
        width: Some(40),
    },
];

/// Renders `value` in every format with `render` and checks each output.
fn every_format<T: Serialize + ?Sized>(
    what: &str,
    value: &T,
    archive_bytes: u64,
    render: impl Fn(Format, Style, &mut Vec<u8>) -> Result<(), output::Error>,
) {
    for format in [Format::Table, Format::Tree, Format::Json, Format::Yaml] {
        for style in STYLES {
            let mut out = Vec::new();
            render(format, style, &mut out)
                .unwrap_or_else(|e| panic!("{what} {format:?}: {}", error_text(&e)));
            check::output_size(what, &out, archive_bytes);
            match format {
                Format::Json => check::json(what, value, &out),
                Format::Yaml => check::yaml(what, value, &out),
                Format::Table | Format::Tree if what == "explore" => check::crit_text(what, &out),
                Format::Table | Format::Tree => check::human(what, &out),
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let (dir, path) = scratch("views.tar");
    let Ok(built) = build::build(&input, dir, &path) else {
        return;
    };
    let archive_bytes = built.plain_bytes;
    let mut stderr: Vec<String> = Vec::new();
    if let Some(ckpt) = open(&path, dir) {
        match analyze::collect_report(ckpt, "fuzz", &Sections::all()) {
            Ok(report) => {
                stderr.extend(analyze::unreadable_facts(&report));
                let reports = [report];
                every_format("reports", &reports[..], archive_bytes, |f, s, out| {
                    output::render_reports(&reports, f, s, false, out)
                });
                let mut wide = Vec::new();
                output::render_reports(&reports, Format::Table, STYLES[0], true, &mut wide)
                    .expect("a table renders");
                check::human("reports -o wide", &wide);
            }
            Err(err) => stderr.push(error_text(&err)),
        }
    }
    for view in [
        ExploreView::Ps,
        ExploreView::Fds,
        ExploreView::Mems,
        ExploreView::Rss,
    ] {
        let Some(ckpt) = open(&path, dir) else { break };
        match analyze::collect_explore(ckpt, view) {
            Ok(explored) => {
                stderr.extend(explored.unreadable);
                every_format("explore", &explored.report, archive_bytes, |f, _, out| {
                    output::render_explore(&explored.report, f, out)
                });
            }
            Err(err) => stderr.push(error_text(&err)),
        }
    }
    if let (Some(old), Some(new)) = (open(&path, dir), open(&path, dir)) {
        match diff::collect_diff(old, "old", new, "new", &DiffParams { page_ranges: true }) {
            Ok(report) => {
                stderr.extend(report.not_compared.iter().map(|n| n.reason.clone()));
                every_format("diff", &report, archive_bytes, |f, s, out| {
                    output::render_diff(&report, f, s, out)
                });
            }
            Err(err) => stderr.push(error_text(&err)),
        }
    }
    if let Some(dump) = open(&path, dir).and_then(|ckpt| Dump::load(ckpt).ok()) {
        processes(&dump, dir, built.stored_bytes, archive_bytes, &mut stderr);
    }
    for line in stderr {
        let escaped = output::escape_text(&line);
        check::stderr_line("stderr", &escaped);
    }
});

/// Secrets, search, memory summaries, hexdumps, memory dumps and cores of `dump`.
fn processes(
    dump: &Dump,
    dir: &Path,
    stored_bytes: u64,
    archive_bytes: u64,
    stderr: &mut Vec<String>,
) {
    match analyze::collect_secrets(dump, &SecretsParams::default(), &mut |_| {}) {
        Ok(report) => {
            stderr.extend(report.incomplete.iter().map(|i| i.reason.clone()));
            let reports = [report];
            every_format("secrets", &reports[..], archive_bytes, |f, s, out| {
                output::render_secrets(&reports, f, s, out)
            });
        }
        Err(err) => stderr.push(error_text(&err)),
    }
    let matcher = Matcher::literal(b"KCP").expect("a literal");
    let params = SearchParams {
        matcher: &matcher,
        pattern: "KCP",
        regex: false,
        context: 8,
        limit: Some(100),
        pid: None,
        streamed: None,
    };
    let (report, failures) = collect_search(dump, &params, &mut |_| {});
    stderr.extend(failures.iter().map(|f| error_text(&f.error)));
    let reports = [report];
    every_format("search", &reports[..], archive_bytes, |f, s, out| {
        output::render_search(&reports, f, s, out)
    });
    let cores = dir.join("cores");
    let _ = std::fs::remove_dir_all(&cores);
    std::fs::create_dir_all(&cores).expect("a scratch directory");
    let mut summaries = Vec::new();
    let pids: Vec<(u32, String)> = dump
        .tasks()
        .iter()
        .take(4)
        .map(|t| (t.pid, t.comm.clone()))
        .collect();
    for (pid, command) in pids {
        let memory = match dump.memory(pid) {
            Ok(memory) => memory,
            Err(err) => {
                stderr.push(error_text(&err));
                continue;
            }
        };
        summaries.push(build_summary(&memory, "fuzz", &command));
        let start = memory.vmas().first().map_or(0, |v| v.start);
        match build_hexdump(&memory, &command, start, 4096) {
            Ok(report) => every_format("hexdump", &report, archive_bytes, |f, _, out| {
                output::render_hexdump(&report, f, out)
            }),
            Err(err) => stderr.push(error_text(&err)),
        }
        let file = cores.join(format!("mem.{pid}"));
        let written = std::fs::File::create(&file)
            .map_err(checkpoint_forensics::memory::Error::Write)
            .and_then(|out| write_dump_file(&memory, &command, "mem", &out));
        match written {
            Ok(report) => {
                check::disk("memory dump", &file, stored_bytes);
                every_format("dump", &report, archive_bytes, |f, s, out| {
                    output::render_dump(&report, f, s, out)
                });
            }
            Err(err) => stderr.push(error_text(&err)),
        }
        let mut warn = |line: String| stderr_warning(&line);
        match coredump::dump_process(dump, pid, &cores, &mut warn) {
            Ok(written) => check::disk("core", &written.path, stored_bytes),
            Err(err) => stderr.push(error_text(&err)),
        }
    }
    every_format("memory", &summaries[..], archive_bytes, |f, s, out| {
        output::render_memory_summaries(&summaries, f, s, out)
    });
    let _ = std::fs::remove_dir_all(&cores);
}

/// A warning line of the cores, checked as stderr prints it.
fn stderr_warning(line: &str) {
    check::stderr_line("core warning", &output::escape_text(line));
}

//! The checkpoint model (`dump`: task tree, threads, file table, shared memory, validation,
//! argv/env reading), the byte pipeline and the views built on it, over a plain tar of arbitrary
//! bytes: every report, crit view, memory read, search and secrets scan ends in a value or an
//! error, never a panic.
#![no_main]

mod scratch;

use std::path::Path;

use checkpoint_forensics::analyze::{self, ExploreView, Sections};
use checkpoint_forensics::memory::search::{collect_search, SearchParams};
use checkpoint_model::archive::{Checkpoint, OpenParams};
use checkpoint_model::dump::Dump;
use checkpoint_model::search::Matcher;
use libfuzzer_sys::fuzz_target;
use scratch::scratch;

fn open(path: &Path, dir: &Path) -> Option<Checkpoint> {
    let params = OpenParams::default()
        .member_limit(1 << 20)
        .memory_budget(1 << 20)
        .max_members(10_000)
        .max_name_bytes(4 << 20)
        .spool_dir(dir);
    Checkpoint::open_with(path, &params).ok()
}

fuzz_target!(|data: &[u8]| {
    let (dir, path) = scratch("checkpoint.tar");
    std::fs::write(&path, data).expect("scratch file");
    let Some(ckpt) = open(&path, dir) else {
        return;
    };
    let _ = analyze::collect_report(ckpt, "fuzz", &Sections::all());
    for view in [
        ExploreView::Ps,
        ExploreView::Fds,
        ExploreView::Mems,
        ExploreView::Rss,
    ] {
        if let Some(ckpt) = open(&path, dir) {
            let _ = analyze::collect_explore(ckpt, view);
        }
    }
    let Some(ckpt) = open(&path, dir) else {
        return;
    };
    let Ok(dump) = Dump::load(ckpt) else {
        return;
    };
    let pids: Vec<u32> = dump.tasks().iter().take(16).map(|t| t.pid).collect();
    for pid in pids {
        let _ = dump.open_files(pid);
        let _ = dump.strings(pid);
        let Ok(memory) = dump.memory(pid) else {
            continue;
        };
        let _ = memory.read_available(memory.vmas().first().map_or(0, |v| v.start), 4096);
    }
    let _ = dump.stored_data();
    let matcher = Matcher::literal(b"KEY").expect("a literal");
    let params = SearchParams {
        matcher: &matcher,
        pattern: "KEY",
        regex: false,
        context: 8,
        limit: Some(100),
        pid: None,
        streamed: None,
    };
    let _ = collect_search(&dump, &params, &mut |_| {});
});

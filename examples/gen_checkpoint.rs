//! Writes a large, valid checkpoint for memory-search benchmarks.
//!
//! ```text
//! cargo run --release --example gen_checkpoint -- OUT [--size 1G] [--processes 2] [--dir]
//!     [--marker TEXT] [--markers N] [--fill-salt N] [--pages-from FILE]
//! ```
//!
//! OUT is a plain tar archive (or, with `--dir`, a bare image directory) whose processes hold
//! SIZE bytes of present pages in total (at least 64 pages per process), with the marker
//! `KCP_GEN_MARKER_7731` (or TEXT) at known addresses: across one run edge and at N (64)
//! pseudo-random places per process. Two runs that differ only in a marker of the same length give the same
//! processes and mappings with other bytes on the marker pages; a different `--fill-salt` changes
//! every page's filler (pairs for `diff` benchmarks). With `--pages-from FILE` the pages are
//! FILE's consecutive pages (e.g. the memory-like data of `examples/secrets_scan gen`) instead of
//! generated filler; with a file of one zero page and `--markers 0`, nearly every page is zero,
//! which a sparse copy (`cp --sparse=always`) keeps as holes: many-process archives for the
//! benchmarks cost little disk. Prints the marker, the number of hits in memory and the number of decoys
//! (bytes that are adjacent only in a pages file, which `grep` over the pages files counts too).

#[path = "../tests/support/memgen.rs"]
mod memgen;

use std::path::PathBuf;
use std::process::ExitCode;

fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().ok()?;
    let mult = match unit {
        "" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn main() -> ExitCode {
    let mut out: Option<PathBuf> = None;
    let mut size = 1u64 << 30;
    let mut processes = 2u32;
    let mut dir = false;
    let mut marker: Option<Vec<u8>> = None;
    let mut fill_salt = 0u64;
    let mut markers = 64usize;
    let mut pages_from: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => match args.next().as_deref().and_then(parse_size) {
                Some(n) => size = n,
                None => return usage("--size needs a size like 512M or 2G"),
            },
            "--processes" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => processes = n,
                _ => return usage("--processes needs a positive number"),
            },
            "--dir" => dir = true,
            "--marker" => match args.next() {
                Some(text) if !text.is_empty() => marker = Some(text.into_bytes()),
                _ => return usage("--marker needs a text"),
            },
            "--markers" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => markers = n,
                None => return usage("--markers needs a number"),
            },
            "--fill-salt" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => fill_salt = n,
                None => return usage("--fill-salt needs a number"),
            },
            "--pages-from" => match args.next() {
                Some(path) => pages_from = Some(PathBuf::from(path)),
                None => return usage("--pages-from needs a file"),
            },
            other if out.is_none() && !other.starts_with('-') => out = Some(PathBuf::from(other)),
            other => return usage(&format!("unexpected argument {other}")),
        }
    }
    let Some(out) = out else {
        return usage("missing OUT");
    };
    let defaults = memgen::GenSpec::default();
    let spec = memgen::GenSpec {
        processes,
        bytes_per_process: size / u64::from(processes),
        markers_per_process: markers,
        marker: marker.unwrap_or(defaults.marker.clone()),
        fill_salt,
        pages_from,
        ..defaults
    };
    let result = if dir {
        memgen::write_dir(&out, &spec)
    } else {
        memgen::write_tar(&out, &spec)
    };
    match result {
        Ok(generated) => {
            println!(
                "{}: {} processes, {} present bytes, marker {} at {} addresses in memory, {} decoys in pages files only",
                out.display(),
                processes,
                generated.present_bytes,
                String::from_utf8_lossy(&spec.marker),
                generated.markers.len(),
                generated.decoys.len()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: writing {}: {err}", out.display());
            ExitCode::from(2)
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}\nusage: gen_checkpoint OUT [--size 1G] [--processes 2] [--dir] [--marker TEXT] [--markers N] [--fill-salt N] [--pages-from FILE]");
    ExitCode::from(2)
}

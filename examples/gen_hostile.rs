//! Writes the hostile inputs of issue 20 at the sizes docs/security.md measures (the tests
//! write the same, smaller).
//!
//! ```text
//! cargo run --release --example gen_hostile -- KIND OUT [N]
//!   zero-mapping OUT.tar.zst [GIB]   a mapping of GIB (10) GiB of present zero pages
//!   file-note DIR [COUNT]            COUNT (262000) mappings of a file with a 4,000-byte path
//!   huge-mapping DIR [TIB]           an untouched mapping of TIB (64) TiB
//!   rootfs-bomb OUT.tar.zst [GIB]    a zstd rootfs-diff.tar holding a GIB (1024) GiB zero file
//!   deep-cgroup OUT.img [DEPTH]      cgroup_dir_entry nested DEPTH (10000) deep
//!   many-processes DIR [COUNT]       COUNT (1101) processes of one pages file each: DIR/many.tar.zst
//! ```

#[path = "../tests/support/hostile_inputs.rs"]
mod hostile_inputs;
#[path = "../tests/support/memgen.rs"]
#[allow(dead_code)]
mod memgen;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: gen_hostile KIND OUT [N] (see the source for the kinds)");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    let n = |default: u64| {
        args.get(2)
            .map_or(Some(default), |text| text.parse().ok())
            .unwrap_or(default)
    };
    match kind.as_str() {
        "zero-mapping" => {
            hostile_inputs::zero_mapping_archive(&out, n(10) << 30);
        }
        "file-note" => {
            let images = hostile_inputs::file_note_images(n(262_000), 4000);
            hostile_inputs::py_dir_with(&out, &images);
        }
        "huge-mapping" => {
            let images = hostile_inputs::huge_mapping_images(n(64) << 40);
            hostile_inputs::py_dir_with(&out, &images);
        }
        "rootfs-bomb" => hostile_inputs::rootfs_bomb_archive(&out, n(1024) << 30),
        "deep-cgroup" => {
            let depth = usize::try_from(n(10_000)).unwrap_or(10_000);
            if let Err(err) = std::fs::write(&out, hostile_inputs::deep_cgroup_image(depth)) {
                eprintln!("{}: {err}", out.display());
                return ExitCode::FAILURE;
            }
        }
        "many-processes" => {
            if let Err(err) = std::fs::create_dir_all(&out) {
                eprintln!("{}: {err}", out.display());
                return ExitCode::FAILURE;
            }
            let processes = u32::try_from(n(1101)).unwrap_or(1101);
            hostile_inputs::many_processes_archive(&out, processes);
        }
        other => {
            eprintln!("unknown kind {other}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

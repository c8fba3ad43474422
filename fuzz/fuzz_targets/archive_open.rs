//! The archive opener on plain, gzip and zstd archives written to a temporary file: the first
//! byte picks how the rest is stored (0: a plain tar, 1: the rest gzip-compressed, 2: the rest
//! zstd-compressed, 3: the rest as is, so the decompressors see arbitrary frames). Whatever opens
//! is then read every way a verb reads it.
#![no_main]

mod scratch;

use std::io::{Read, Write};

use checkpoint_model::archive::{Checkpoint, OpenParams};
use libfuzzer_sys::fuzz_target;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = match mode % 4 {
        1 => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(rest).expect("in memory");
            enc.finish().expect("in memory")
        }
        2 => zstd::stream::encode_all(rest, 1).expect("in memory"),
        _ => rest.to_vec(),
    };
    let (dir, path) = scratch("archive");
    std::fs::write(&path, &bytes).expect("scratch file");
    let params = OpenParams::default()
        .member_limit(1 << 20)
        .memory_budget(1 << 20)
        .max_members(10_000)
        .max_name_bytes(4 << 20)
        .spool_dir(dir);
    let Ok(ckpt) = Checkpoint::open_with(&path, &params) else {
        return;
    };
    let _ = ckpt.sizes();
    let _ = ckpt.metadata();
    let _ = ckpt.rootfs_diff();
    let _ = ckpt.stats_dump();
    let _ = ckpt.trailing_data();
    let names: Vec<String> = ckpt.image_names().take(64).map(str::to_owned).collect();
    for name in &names {
        let _ = ckpt.has_image(name);
        let _ = ckpt.read_image(name);
    }
    let members: Vec<String> = ckpt.members().take(64).map(|m| m.name.to_owned()).collect();
    for name in &members {
        if let Ok(mut reader) = ckpt.open_member(name) {
            let mut buf = Vec::new();
            let _ = (&mut reader).take(1 << 16).read_to_end(&mut buf);
        }
    }
    for id in 0..4 {
        if let Ok(pages) = ckpt.open_pages(id) {
            let mut page = [0u8; 4096];
            let _ = pages.read_exact_at(&mut page, pages.len().saturating_sub(4096));
        }
    }
});

//! Opens a checkpoint archive or image directory in place and streams every `pages-*.img`
//! through `Checkpoint::open_pages`, counting the occurrences of a byte string. Used by
//! `scripts/bench-archive.sh`; also a short tour of the `archive` API.
//!
//! Usage: `cargo run --release --example archive_read -- ARCHIVE [NEEDLE | --open-only]`

use std::io::Read;
use std::path::PathBuf;

use checkpoint_model::archive::Checkpoint;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: archive_read ARCHIVE [NEEDLE]")?);
    let needle = args
        .next()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "RANDOM_1432_KEY".to_owned());
    let ckpt = Checkpoint::open(&path)?;
    let sizes = ckpt.sizes();
    println!(
        "{}: {:?}, engine {}, {} images, checkpoint {} B, pages {} B",
        ckpt.display_name(),
        ckpt.compression(),
        ckpt.engine(),
        ckpt.image_names().count(),
        sizes.checkpoint_bytes,
        sizes.pages_bytes
    );
    if needle == "--open-only" {
        return Ok(());
    }
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let overlap = needle.len().saturating_sub(1);
    let ids: Vec<u32> = ckpt
        .image_names()
        .filter_map(|n| n.strip_prefix("pages-")?.strip_suffix(".img")?.parse().ok())
        .collect();
    for id in ids {
        let mut reader = ckpt.open_pages(id)?;
        let mut buf = vec![0u8; 1 << 20];
        // Keep the last `overlap` bytes of each chunk so hits across chunk edges count once.
        let mut kept = 0usize;
        let mut hits = 0usize;
        loop {
            let n = reader.read(&mut buf[kept..])?;
            if n == 0 {
                break;
            }
            let filled = kept + n;
            hits += finder
                .find_iter(&buf[..filled])
                .filter(|&at| at + needle.len() > kept)
                .count();
            kept = overlap.min(filled);
            buf.copy_within(filled - kept..filled, 0);
        }
        println!(
            "pages-{id}.img: {} B, {hits} hits of {needle:?}",
            reader.len()
        );
    }
    Ok(())
}

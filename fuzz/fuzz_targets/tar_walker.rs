//! The tar walker (ustar, pax, GNU long names; plain, gzip or zstd told by content) over
//! arbitrary bytes, through the listing `rootfs-diff.tar` gets: an error, never a panic, and
//! memory within the listing's caps.
#![no_main]

use checkpoint_model::archive::{self, OpenParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let params = OpenParams::default()
        .max_members(10_000)
        .max_name_bytes(4 << 20);
    let _ = archive::list_tar(data, &params);
});

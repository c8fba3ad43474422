//! CRIU image framing, typed decodes and crit-style JSON decode of arbitrary bytes: an error,
//! never a panic, an abort or an allocation the bytes do not back.
#![no_main]

use checkpoint_images::messages::{
    CoreEntry, FdinfoEntry, FileEntry, FsEntry, InventoryEntry, MmEntry, PstreeEntry, RegFileEntry,
    StatsEntry, TaskKobjIdsEntry,
};
use checkpoint_images::{self as criu, PageMap, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = criu::count_entries("fuzz.img", data);
    let _ = criu::decode_image_with("fuzz.img", data, Style::Plain);
    let _ = criu::decode_image_with("fuzz.img", data, Style::Pretty);
    let _ = PageMap::decode("pagemap-1.img", data);
    let _ = criu::read_entries::<InventoryEntry>("inventory.img", data);
    let _ = criu::read_entries::<PstreeEntry>("pstree.img", data);
    let _ = criu::read_entries::<CoreEntry>("core-1.img", data);
    let _ = criu::read_entries::<MmEntry>("mm-1.img", data);
    let _ = criu::read_entries::<FileEntry>("files.img", data);
    let _ = criu::read_entries::<FdinfoEntry>("fdinfo-2.img", data);
    let _ = criu::read_entries::<RegFileEntry>("reg-files.img", data);
    let _ = criu::read_entries::<FsEntry>("fs-1.img", data);
    let _ = criu::read_entries::<TaskKobjIdsEntry>("ids-1.img", data);
    let _ = criu::read_entries::<StatsEntry>("stats-dump", data);
});

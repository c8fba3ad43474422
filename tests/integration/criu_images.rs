//! Typed decoding of the real CRIU fixtures through `criu::read_entries` and `criu::PageMap`.

use std::path::Path;

use checkpoint_images::messages::{
    CoreEntry, FdinfoEntry, FileEntry, FsEntry, InventoryEntry, MmEntry, PipeDataEntry,
    PstreeEntry, TaskKobjIdsEntry,
};
use checkpoint_images::{read_entries, CriuMessage, Error, PageMap};

fn fixture(rel: &str) -> (String, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (rel.to_owned(), bytes)
}

fn read<M: CriuMessage>(rel: &str) -> Vec<M> {
    let (name, bytes) = fixture(rel);
    read_entries::<M>(&name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn pstree_of_the_python_dump() {
    let tree = read::<PstreeEntry>("criu-4.2/py/pstree.img");
    assert_eq!(tree.len(), 1);
    assert_eq!(tree[0].pid, 24390);
    assert_eq!(tree[0].threads, vec![24390]);
}

#[test]
fn pstree_of_the_process_tree() {
    for dir in ["criu-4.2/tree", "criu-4.1/tree"] {
        let tree = read::<PstreeEntry>(&format!("{dir}/pstree.img"));
        let pids: Vec<_> = tree.iter().map(|p| (p.pid, p.ppid)).collect();
        assert_eq!(
            pids,
            [(24391, 0), (24393, 24391), (24394, 24391), (24395, 24391)],
            "{dir}"
        );
    }
}

#[test]
fn core_has_comm_and_x86_registers() {
    let core = read::<CoreEntry>("criu-4.2/py/core-24390.img");
    assert_eq!(core.len(), 1);
    let tc = core[0].tc.as_ref().expect("tc");
    assert_eq!(tc.comm, "python3");
    let ti = core[0].thread_info.as_ref().expect("x86 thread_info");
    assert!(ti.gpregs.ip > 0x1000);
    assert!(ti.gpregs.sp > 0x7f00_0000_0000);
    assert_eq!(core[0].mtype, 1); // X86_64
}

#[test]
fn mm_bounds_argv_and_environ() {
    let mm = read::<MmEntry>("criu-4.2/py/mm-24390.img");
    assert_eq!(mm.len(), 1);
    assert!(mm[0].mm_arg_start < mm[0].mm_arg_end);
    assert!(mm[0].mm_arg_end <= mm[0].mm_env_start);
    assert!(mm[0].vmas.len() > 10);
}

#[test]
fn files_and_fdinfo_name_the_open_files() {
    let files = read::<FileEntry>("criu-4.2/py/files.img");
    let names: Vec<_> = files
        .iter()
        .filter_map(|f| f.reg.as_ref())
        .map(|r| r.name.as_str())
        .collect();
    assert!(names.contains(&"/srv/app/state.txt"), "{names:?}");
    assert!(names.contains(&"/etc/hostname"), "{names:?}");
    let isk = files
        .iter()
        .find_map(|f| f.isk.as_ref())
        .expect("inet socket");
    assert_eq!(isk.src_port, 18765);
    let fds = read::<FdinfoEntry>("criu-4.2/py/fdinfo-2.img");
    assert!(fds.iter().any(|f| f.fd == 5));
    assert_eq!(read::<FsEntry>("criu-4.2/py/fs-24390.img").len(), 1);
    assert_eq!(
        read::<TaskKobjIdsEntry>("criu-4.2/py/ids-24390.img").len(),
        1
    );
    assert_eq!(read::<InventoryEntry>("criu-4.2/py/inventory.img").len(), 1);
}

#[test]
fn pipes_data_has_its_payload() {
    let data = read::<PipeDataEntry>("criu-4.2/tree/pipes-data.img");
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].size, Some(65536));
}

#[test]
fn pagemap_page_counts_in_both_versions() {
    for (dir, pid) in [("criu-4.2/tree", 24393), ("criu-4.1/tree", 24393)] {
        let (name, bytes) = fixture(&format!("{dir}/pagemap-{pid}.img"));
        let map = PageMap::decode(&name, &bytes).unwrap();
        let (_, pages) = fixture(&format!("{dir}/pages-{}.img", map.pages_id));
        assert_eq!(map.present_bytes(), pages.len() as u64, "{dir}");
        assert!(map.runs.iter().all(|r| r.nr_pages > 0), "{dir}");
    }
}

#[test]
fn wrong_magic_is_named() {
    let (name, bytes) = fixture("criu-4.2/py/core-24390.img");
    let err = read_entries::<PstreeEntry>(&name, &bytes).unwrap_err();
    assert!(matches!(err, Error::WrongMagic { .. }));
    assert_eq!(
        err.to_string(),
        "criu-4.2/py/core-24390.img: byte 0x4: is a CORE image, expected PSTREE"
    );
}

/// fifo-data.img holds pipe_data_entry messages under its own magic (issue 19.1): they decode
/// as pipes-data.img's do, and hold the FIFO's unread bytes of the truth.
#[test]
fn fifo_data_holds_pipe_data_entries() {
    let (name, bytes) = fixture("criu-4.2/wholetruth/fifo-data.img");
    assert!(PipeDataEntry::accepts(Magic::FifoData) && PipeDataEntry::accepts(Magic::PipesData));
    let entries: Vec<PipeDataEntry> = read_entries(&name, &bytes).expect("fifo-data decodes");
    let truth = crate::support::truth::load("wholetruth");
    let fifo = &truth["wholetruth"]["fifo"];
    assert_eq!(entries.len(), 1);
    assert_eq!(u64::from(entries[0].pipe_id), fifo["ino"].as_u64().unwrap());
    assert_eq!(
        u64::from(entries[0].bytes),
        fifo["unread_bytes"].as_u64().unwrap()
    );
    // another image's entries are still refused, naming the magic word's offset
    let (name, core) = fixture("criu-4.2/wholetruth/core-10519.img");
    let err = read_entries::<PipeDataEntry>(&name, &core).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("byte 0x4: is a CORE image, expected PIPES_DATA"),
        "{err}"
    );
}

// ---- bad input ----

use checkpoint_images::messages::PagemapEntry;
use checkpoint_images::{decode_image, encode_image, entries, Magic, IMG_COMMON};
use proptest::prelude::*;

/// Every decoder on `bytes`: errors must name the file; nothing may panic.
fn all_decoders(name: &str, bytes: &[u8]) -> Vec<Result<usize, Error>> {
    vec![
        decode_image(name, bytes).map(|i| i.entries.len()),
        entries(name, bytes)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map(|v| v.len()),
        read_entries::<CoreEntry>(name, bytes).map(|v| v.len()),
        read_entries::<PagemapEntry>(name, bytes).map(|v| v.len()),
        PageMap::decode(name, bytes).map(|m| m.runs.len()),
    ]
}

fn py_images() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criu-4.2/py");
    let mut out = Vec::new();
    for name in [
        "core-24390.img",
        "mm-24390.img",
        "pagemap-24390.img",
        "files.img",
        "fdinfo-2.img",
        "inventory.img",
        "stats-dump",
        "pstree.img",
    ] {
        out.push((
            name.to_owned(),
            std::fs::read(dir.join(name)).expect("fixture"),
        ));
    }
    let tree =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criu-4.2/tree/pipes-data.img");
    out.push((
        "pipes-data.img".to_owned(),
        std::fs::read(tree).expect("fixture"),
    ));
    out
}

#[test]
fn truncation_at_every_length_is_an_error_with_file_and_offset() {
    for (name, bytes) in py_images() {
        let boundaries: Vec<u64> = entries(&name, &bytes)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                e.offset + 4 + e.payload.len() as u64 + e.extra.len() as u64
            })
            .collect();
        let header = if name == "inventory.img" { 4 } else { 8 };
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            let at_boundary = len as u64 == header || boundaries.contains(&(len as u64));
            match decode_image(&name, cut) {
                Ok(image) => {
                    assert!(at_boundary, "{name} cut at {len} decoded");
                    let whole = boundaries.iter().filter(|&&b| b <= len as u64).count();
                    assert_eq!(image.entries.len(), whole, "{name} cut at {len}");
                }
                Err(err) => {
                    assert!(!at_boundary, "{name} cut at entry boundary {len}: {err}");
                    let text = err.to_string();
                    assert!(text.starts_with(&format!("{name}: ")), "{text}");
                    assert!(text.contains("byte 0x"), "{text}");
                }
            }
        }
    }
}

#[test]
fn flipped_bytes_never_panic_and_errors_name_the_file() {
    for (name, bytes) in py_images() {
        for pos in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[pos] ^= 0xff;
            for result in all_decoders(&name, &bad) {
                if let Err(err) = result {
                    assert!(err.to_string().starts_with(&format!("{name}: ")), "{err}");
                }
            }
        }
    }
}

#[test]
fn a_4_gib_length_is_refused_without_allocating_it() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&IMG_COMMON.to_le_bytes());
    bytes.extend_from_slice(&Magic::Pagemap.value().to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&[0u8; 16]);
    let err = decode_image("checkpoint/pagemap-1.img", &bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint/pagemap-1.img: entry 0 at byte 0x8: length 4294967295 exceeds the 16 bytes left"
    );
    // a later entry: offset and index of that entry
    let (_, good) = fixture("criu-4.2/py/pagemap-24390.img");
    let mut bad = good[..8 + 4 + 2].to_vec(); // magic words and the pagemap head (2 bytes)
    bad.extend_from_slice(&u32::MAX.to_le_bytes());
    let err = PageMap::decode("pagemap-1.img", &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pagemap-1.img: entry 1 at byte 0xe: length 4294967295 exceeds the 0 bytes left"
    );
}

#[test]
fn pipe_data_extra_bytes_are_framed_and_shown_as_base64() {
    let entries_in = vec![
        PipeDataEntry {
            pipe_id: 7,
            bytes: 5,
            size: Some(4096),
        },
        PipeDataEntry {
            pipe_id: 8,
            bytes: 0,
            size: None,
        },
    ];
    let mut image = Vec::new();
    image.extend_from_slice(&IMG_COMMON.to_le_bytes());
    image.extend_from_slice(&Magic::PipesData.value().to_le_bytes());
    for (entry, data) in entries_in.iter().zip([&b"hello"[..], b""]) {
        let payload = prost::Message::encode_to_vec(entry);
        image.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        image.extend_from_slice(&payload);
        image.extend_from_slice(data);
    }
    assert_eq!(
        read_entries::<PipeDataEntry>("pipes-data.img", &image).unwrap(),
        entries_in
    );
    let decoded = decode_image("pipes-data.img", &image).unwrap();
    assert_eq!(decoded.entries[0]["extra"], "aGVsbG8=\n");
    assert_eq!(decoded.entries[1]["extra"], "");
    assert!(
        decoded.entries[1].get("size").is_none(),
        "absent optional field is not shown"
    );
    // the data cut short
    let err = decode_image("pipes-data.img", &image[..image.len() - 9]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("pipes-data.img: entry 0 at byte 0x8: extra payload of 5 bytes exceeds"),
        "{err}"
    );
}

#[test]
fn sysv_segments_in_pagemaps_have_no_inline_data() {
    use checkpoint_images::messages::{IpcDescEntry, IpcShmEntry};
    let segment = |key: u32, id: u32, size: u64, in_pagemaps: Option<bool>| IpcShmEntry {
        desc: IpcDescEntry {
            key,
            mode: 0o600,
            id,
            ..Default::default()
        },
        size,
        in_pagemaps,
        hugetlb_flag: None,
    };
    // CRIU 4: the pages are in pagemap-shmem-ID.img, nothing follows the entries
    let two = vec![
        segment(0x4b43_5054, 0, 65536, Some(true)),
        segment(0x4b43_5055, 1, 8192, Some(true)),
    ];
    let image = encode_image(&two);
    assert_eq!(
        read_entries::<IpcShmEntry>("ipcns-shm-9.img", &image).unwrap(),
        two
    );
    let decoded = decode_image("ipcns-shm-9.img", &image).unwrap();
    assert_eq!(decoded.entries.len(), 2);
    assert!(decoded.entries.iter().all(|e| e["extra"] == ""));
    assert_eq!(decoded.entries[1]["desc"]["id"], 1);
    // older images: `size` bytes inline, padded to 4
    let inline = segment(7, 3, 5, None);
    let mut image = Vec::new();
    image.extend_from_slice(&IMG_COMMON.to_le_bytes());
    image.extend_from_slice(&Magic::IpcnsShm.value().to_le_bytes());
    let payload = prost::Message::encode_to_vec(&inline);
    image.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    image.extend_from_slice(&payload);
    image.extend_from_slice(b"hello\0\0\0");
    let decoded = decode_image("ipcns-shm-9.img", &image).unwrap();
    assert_eq!(decoded.entries.len(), 1);
    assert_eq!(decoded.entries[0]["extra"], "aGVsbG8=\n");
    let err = decode_image("ipcns-shm-9.img", &image[..image.len() - 4]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ipcns-shm-9.img: entry 0 at byte 0x8: extra payload of 8 bytes exceeds"),
        "{err}"
    );
}

fn pstree_strategy() -> impl Strategy<Value = PstreeEntry> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(any::<u32>(), 0..4),
    )
        .prop_map(|(pid, ppid, pgid, sid, threads)| PstreeEntry {
            pid,
            ppid,
            pgid,
            sid,
            threads,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn framing_round_trips(tree in prop::collection::vec(pstree_strategy(), 0..8)) {
        let bytes = encode_image(&tree);
        prop_assert_eq!(read_entries::<PstreeEntry>("pstree.img", &bytes).unwrap(), tree.clone());
        let json = decode_image("pstree.img", &bytes).unwrap();
        prop_assert_eq!(json.magic, Magic::Pstree);
        for (value, entry) in json.entries.iter().zip(&tree) {
            prop_assert_eq!(value["pid"].as_u64(), Some(u64::from(entry.pid)));
            prop_assert_eq!(value["threads"].as_array().map(Vec::len).unwrap_or(0), entry.threads.len());
        }
    }

    #[test]
    fn arbitrary_bytes_give_errors_not_panics(
        header in prop::sample::select(vec![None, Some(Magic::Core), Some(Magic::Pagemap), Some(Magic::PipesData), Some(Magic::GhostFile), Some(Magic::IpcnsMsg), Some(Magic::TcpStream)]),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = Vec::new();
        if let Some(magic) = header {
            bytes.extend_from_slice(&IMG_COMMON.to_le_bytes());
            bytes.extend_from_slice(&magic.value().to_le_bytes());
        }
        bytes.extend_from_slice(&body);
        for result in all_decoders("x.img", &bytes) {
            if let Err(err) = result {
                prop_assert!(err.to_string().starts_with("x.img: "), "{}", err);
            }
        }
    }

    #[test]
    fn mutated_real_images_give_errors_not_panics(
        image in 0usize..9,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let images = py_images();
        let (name, bytes) = &images[image];
        let mut bad = bytes.clone();
        for (at, byte) in edits {
            let i = at.index(bad.len());
            bad[i] = byte;
        }
        bad.truncate(cut.index(bad.len() + 1).max(bad.len() / 2));
        for result in all_decoders(name, &bad) {
            if let Err(err) = result {
                prop_assert!(err.to_string().starts_with(&format!("{name}: ")), "{}", err);
            }
        }
    }
}

//! `kubectl checkpoint decode`: the real binary on the fixtures, its JSON read back into typed
//! structs.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

const CRIO: &str =
    "crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar";

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn decode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .arg("decode")
        .args(args)
        .output()
        .expect("run kubectl-checkpoint")
}

fn decode_ok<T: for<'de> Deserialize<'de>>(args: &[&str]) -> T {
    let out = decode(args);
    assert!(
        out.status.success(),
        "decode {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("decode {args:?}: {e}"))
}

fn decode_err(args: &[&str]) -> String {
    let out = decode(args);
    assert_eq!(out.status.code(), Some(2), "decode {args:?} should fail");
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[derive(Debug, Deserialize)]
struct Image<E> {
    magic: String,
    entries: Vec<E>,
}

#[derive(Debug, Deserialize)]
struct Pstree {
    pid: u32,
    ppid: u32,
    pgid: u32,
    sid: u32,
    threads: Vec<u32>,
}

#[derive(Debug, Deserialize)]
struct Info {
    magic: String,
    count: u64,
}

#[test]
fn pstree_of_the_python_dump() {
    let image: Image<Pstree> = decode_ok(&[&fixture("criu-4.2/py/pstree.img")]);
    assert_eq!(image.magic, "PSTREE");
    assert_eq!(image.entries.len(), 1);
    let p = &image.entries[0];
    assert_eq!((p.pid, p.ppid, p.pgid, p.sid), (24390, 0, 24390, 24390));
    assert_eq!(p.threads, [24390]);
}

#[derive(Debug, Deserialize)]
struct PagemapEntry {
    vaddr: Value,
    compat_nr_pages: u64,
    flags: Value,
    nr_pages: Option<u64>,
}

/// The pagemap runs of a decode (the head is entry 0).
fn runs(args: &[&str]) -> (u64, Vec<PagemapEntry>) {
    let image: Image<Value> = decode_ok(args);
    assert_eq!(image.magic, "PAGEMAP");
    let mut entries = image.entries.into_iter();
    let head = entries.next().expect("pagemap head");
    let pages_id = head["pages_id"].as_u64().expect("pages_id");
    let runs = entries
        .map(|e| serde_json::from_value(e).expect("pagemap entry"))
        .collect();
    (pages_id, runs)
}

#[test]
fn pagemap_counts_in_field_5_for_criu_4_2_and_field_2_for_4_1() {
    let (id_42, new) = runs(&["--pretty", &fixture("criu-4.2/tree/pagemap-24393.img")]);
    let (id_41, old) = runs(&["--pretty", &fixture("criu-4.1/tree/pagemap-24393.img")]);
    assert_eq!((id_42, id_41), (2, 2));
    assert_eq!(new.len(), old.len());
    assert!(new
        .iter()
        .all(|r| r.compat_nr_pages == 0 && r.nr_pages.is_some()));
    assert!(old
        .iter()
        .all(|r| r.nr_pages.is_none() && r.compat_nr_pages > 0));
    let pages_new: u64 = new.iter().filter_map(|r| r.nr_pages).sum();
    let pages_old: u64 = old.iter().map(|r| r.compat_nr_pages).sum();
    let file_pages = std::fs::metadata(fixture("criu-4.2/tree/pages-2.img"))
        .expect("pages")
        .len()
        / 4096;
    assert_eq!(pages_new, file_pages);
    let file_pages_41 = std::fs::metadata(fixture("criu-4.1/tree/pages-2.img"))
        .expect("pages")
        .len()
        / 4096;
    assert_eq!(pages_old, file_pages_41);
    assert_eq!(new[1].nr_pages, Some(98));
    assert_eq!(old[1].compat_nr_pages, 98);
    assert_eq!(new[1].vaddr, "0x945000");
    assert_eq!(new[1].flags, "PE_PRESENT");

    let (_, plain) = runs(&[&fixture("criu-4.2/tree/pagemap-24393.img")]);
    assert_eq!(plain[1].vaddr, 0x945000);
    assert_eq!(plain[1].flags, 4);
}

#[test]
fn core_registers_as_hex_when_pretty_and_numbers_when_plain() {
    let path = fixture("criu-4.2/py/core-24390.img");
    let pretty: Image<Value> = decode_ok(&["--pretty", &path]);
    let plain: Image<Value> = decode_ok(&[&path]);
    assert_eq!(pretty.magic, "CORE");
    let regs = &pretty.entries[0]["thread_info"]["gpregs"];
    let plain_regs = &plain.entries[0]["thread_info"]["gpregs"];
    assert_eq!(regs["ip"], "0x7f225c04d501");
    assert_eq!(regs["sp"], "0x7ffcea7ff688");
    assert_eq!(plain_regs["ip"], 0x7f225c04d501u64);
    assert_eq!(plain_regs["sp"], 0x7ffcea7ff688u64);
    assert_eq!(pretty.entries[0]["mtype"], "X86_64");
    assert_eq!(pretty.entries[0]["tc"]["comm"], "python3");
    assert_eq!(pretty.entries[0]["tc"]["task_state"], "Alive");
    assert_eq!(plain.entries[0]["tc"]["task_state"], 1);
}

#[test]
fn listening_socket_with_its_address() {
    let files: Image<Value> = decode_ok(&["--pretty", &fixture("criu-4.2/py/files.img")]);
    let isk = files
        .entries
        .iter()
        .find_map(|f| f.get("isk"))
        .expect("an inet socket");
    assert_eq!(isk["src_addr"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(isk["src_port"], 18765);
    assert_eq!(isk["state"], "LISTEN");
    assert_eq!(isk["proto"], "TCP");
}

#[test]
fn pipe_data_extra_is_base64_like_crit() {
    let image: Image<Value> = decode_ok(&[&fixture("criu-4.2/tree/pipes-data.img")]);
    assert_eq!(image.magic, "PIPES_DATA");
    assert_eq!(image.entries[0]["size"], 65536);
    assert_eq!(image.entries[0]["extra"], "");
}

#[test]
fn info_counts_entries_like_crit_info() {
    let info: Info = decode_ok(&["--info", &fixture("criu-4.2/py/pagemap-24390.img")]);
    assert_eq!(info.magic, "PAGEMAP");
    assert_eq!(info.count, 61);
    let info: Info = decode_ok(&["--info", &fixture("criu-4.2/tree/pstree.img")]);
    assert_eq!((info.magic.as_str(), info.count), ("PSTREE", 4));
    let info: Info = decode_ok(&["--info", &fixture("criu-4.2/py/stats-dump")]);
    assert_eq!((info.magic.as_str(), info.count), ("STATS", 1));
}

#[test]
fn members_of_archives_with_colons_in_their_names() {
    let image: Image<Pstree> = decode_ok(&[&format!("{}:checkpoint/pstree.img", fixture(CRIO))]);
    assert_eq!(image.entries[0].pid, 27426);
    // a bare image name is looked up under checkpoint/
    let image: Image<Pstree> = decode_ok(&[&format!("{}:pstree.img", fixture(CRIO))]);
    assert_eq!(image.entries[0].pid, 27426);
}

#[test]
fn members_of_gzip_and_zstd_archives() {
    for rel in [
        "podman/ckpt-image-plain.tar",
        "podman/ckpt-image-gzip.tar.gz",
        "podman/ckpt-rootfs-zstd.tar",
    ] {
        let image: Image<Pstree> = decode_ok(&[&format!("{}:checkpoint/pstree.img", fixture(rel))]);
        let pids: Vec<_> = image.entries.iter().map(|p| (p.pid, p.ppid)).collect();
        assert_eq!(pids.len(), 2, "{rel}");
        assert_eq!(pids[0], (1, 0), "{rel}");
        assert_eq!(pids[1].1, 1, "{rel}");
        let core: Image<Value> = decode_ok(&[
            "--pretty",
            &format!("{}:checkpoint/core-1.img", fixture(rel)),
        ]);
        assert_eq!(core.entries[0]["tc"]["comm"], "sh", "{rel}");
    }
}

#[test]
fn raw_pages_are_refused_clearly() {
    let err = decode_err(&[&fixture("criu-4.2/py/pages-1.img")]);
    assert!(err.contains("pages-1.img: raw page data"), "{err}");
    let err = decode_err(&[&format!("{}:checkpoint/pages-1.img", fixture(CRIO))]);
    assert!(err.contains("pages-1.img: raw page data"), "{err}");
}

#[test]
fn missing_member_and_missing_file() {
    let err = decode_err(&[&format!("{}:checkpoint/core-1.img", fixture(CRIO))]);
    assert!(err.contains("no member checkpoint/core-1.img"), "{err}");
    let err = decode_err(&["/nonexistent/pstree.img"]);
    assert!(err.contains("/nonexistent/pstree.img"), "{err}");
}

#[test]
fn corrupt_images_name_the_file_and_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read(fixture("criu-4.2/py/core-24390.img")).expect("core");
    let cut = dir.path().join("core-cut.img");
    std::fs::write(&cut, &original[..original.len() - 7]).expect("write");
    let err = decode_err(&[cut.to_str().expect("utf-8")]);
    assert!(
        err.contains("core-cut.img: entry 0 at byte 0x8: length"),
        "{err}"
    );

    let empty = dir.path().join("empty.img");
    std::fs::write(&empty, b"").expect("write");
    let err = decode_err(&[empty.to_str().expect("utf-8")]);
    assert!(
        err.contains("empty.img: byte 0x0: image header cut short: 0 of 4 bytes"),
        "{err}"
    );

    let unknown = dir.path().join("unknown.img");
    std::fs::write(&unknown, [0x19, 0x43, 0x56, 0x54, 0x78, 0x56, 0x34, 0x12]).expect("write");
    let err = decode_err(&[unknown.to_str().expect("utf-8")]);
    assert!(
        err.contains("unknown.img: byte 0x4: unknown image magic 0x12345678"),
        "{err}"
    );
}

/// The ipcns-shm image of a dump in its own IPC namespace.
fn ipcns_shm(dump: &str) -> String {
    let dir = fixture(dump);
    let name = std::fs::read_dir(&dir)
        .expect("dump dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("ipcns-shm-"))
        .expect("an ipcns-shm image");
    format!("{dir}/{name}")
}

#[test]
fn sysv_segments_whose_pages_are_in_pagemaps() {
    // one segment: crit's own text
    let path = ipcns_shm("criu-4.2/secrets");
    let out = decode(&["--pretty", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = PathBuf::from(&path)
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let crit = std::fs::read(fixture(&format!(
        "expected/crit-4.2/criu-4.2/secrets/{name}.json"
    )))
    .expect("crit's decode");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&crit)
    );
    // two segments (crit 4.2 shows one): both, with no inline data
    let image: Image<Value> = decode_ok(&[&ipcns_shm("criu-4.2/model")]);
    assert_eq!(image.magic, "IPCNS_SHM");
    let keys: Vec<(u64, u64, &str)> = image
        .entries
        .iter()
        .map(|e| {
            (
                e["desc"]["key"].as_u64().expect("key"),
                e["size"].as_u64().expect("size"),
                e["extra"].as_str().expect("extra"),
            )
        })
        .collect();
    assert_eq!(keys, [(0x4b43_5054, 65536, ""), (0x4b43_5055, 8192, "")]);
}

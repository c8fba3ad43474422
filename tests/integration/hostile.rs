//! `hostile`: inputs an attacker who controls the container or the node could write, each built
//! here (small on disk), run through the real binary, with its bounds asserted: no control byte on stdout of a human format, memory and time within the budgets of
//! docs/security.md ("Hostile checkpoints"), clear errors that name the file.

use crate::support::archive_builder;
use crate::support::measure::run_measured;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use archive_builder::TarBuilder;
use checkpoint_images::messages::{
    CoreEntry, FdinfoEntry, FileEntry, MmEntry, PstreeEntry, TaskCoreEntry, UnixSkEntry,
};
use checkpoint_images::{encode_image, read_entries, PageMap, PAGE_SIZE};
use checkpoint_model::archive::{Checkpoint, OpenParams};
use checkpoint_model::search::Matcher;
use checkpoint_model::streamed::StreamedSearch;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"));
    command.env("NO_COLOR", "1");
    command
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

// ---- time: FIFOs and devices given as PATH ----

#[test]
fn fifos_and_devices_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("ckpt.tar");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    let member = format!("{fifo}:pstree.img");
    let dir = tmp.path().to_str().unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["decode", fifo], fifo, "FIFO"),
        (&["decode", &member], fifo, "FIFO"),
        (&["coredump", "--dir", dir, fifo], fifo, "FIFO"),
        (&["analyze", "--local", fifo], fifo, "FIFO"),
        (&["analyze", "--local", fifo, "--search", "x"], fifo, "FIFO"),
        (&["decode", "/dev/zero"], "/dev/zero", "character device"),
        (
            &["analyze", "--local", "/dev/zero"],
            "/dev/zero",
            "character device",
        ),
    ];
    for (args, path, kind) in cases {
        let run = run_measured(args, 10);
        run.within(64, 2.0, &format!("{args:?}"));
        assert_eq!(run.output.status.code(), Some(2), "{args:?}");
        let stderr = run.stderr();
        assert!(
            stderr.contains(&format!(
                "{path}: is a {kind}, not a regular file or directory"
            )),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_fifo_inside_an_image_directory_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("images");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(fixture("criu-4.2/py")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(dir.join("core-24390.img")).unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.join("core-24390.img"))
        .status()
        .unwrap();
    assert!(made.success());
    let dir = dir.to_str().unwrap();
    for args in [
        &["analyze", "--local", dir, "--all"][..],
        &["analyze", "--local", dir, "--crit-x", "ps"],
        &["decode", &format!("{dir}/core-24390.img")],
    ] {
        let run = run_measured(args, 10);
        run.within(64, 2.0, &format!("{args:?}"));
        assert_ne!(run.output.status.code(), Some(0), "{args:?}");
        let stderr = run.stderr();
        assert!(
            stderr.contains("core-24390.img") && stderr.contains("not a regular file"),
            "{args:?}: {stderr}"
        );
    }
}

// ---- memory: decode's input ----

#[test]
fn decode_refuses_a_huge_sparse_file_without_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    let sparse = tmp.path().join("core-1.img");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let sparse = sparse.to_str().unwrap();
    let run = run_measured(&["decode", sparse], 20);
    run.within(64, 2.0, "decode of a 4 GiB sparse file");
    assert_eq!(run.output.status.code(), Some(2));
    assert!(
        run.stderr().contains(&format!(
            "{sparse}: 4294967296 bytes, more than the 67108864-byte limit"
        )),
        "{}",
        run.stderr()
    );
}

// ---- memory and disk: the archive's index, its budget, its spool ----

/// What a generated archive starts with.
#[derive(Clone, Copy, PartialEq)]
enum Base {
    /// The py fixture's images: a valid checkpoint.
    Py,
    /// The same without its pages-1.img.
    PyWithoutPages,
    /// Nothing.
    Empty,
}

/// Writes a zstd-compressed tar to `path` through the `zstd` command (fast whatever the test
/// profile): `base`, then what `fill` appends to a tar builder over the compressor's stdin.
fn zstd_archive(path: &Path, base: Base, fill: impl FnOnce(&mut tar::Builder<&mut dyn Write>)) {
    let mut zstd = Command::new("zstd")
        .args(["-q", "-1", "-T2", "-c", "-o"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("zstd runs (apt-get install zstd)");
    {
        let stdin = zstd.stdin.as_mut().unwrap();
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, stdin);
        let writer: &mut dyn Write = &mut writer;
        let mut tar = tar::Builder::new(writer);
        for entry in std::fs::read_dir(fixture("criu-4.2/py")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if base == Base::Empty || (base == Base::PyWithoutPages && name.starts_with("pages-")) {
                continue;
            }
            append(
                &mut tar,
                &format!("checkpoint/{name}"),
                &std::fs::read(entry.path()).unwrap(),
            );
        }
        fill(&mut tar);
        tar.into_inner().unwrap().flush().unwrap();
    }
    assert!(zstd.wait().unwrap().success());
}

/// Appends a regular file (GNU long-name records for long names).
fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) {
    append_stream(tar, name, data.len() as u64, data);
}

fn append_stream<W: Write>(tar: &mut tar::Builder<W>, name: &str, size: u64, data: impl Read) {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data).unwrap();
}

/// A name of about 1 MiB (a GNU long name in the tar).
fn long_name(index: usize) -> String {
    format!("d{index:05}/{}", "a".repeat((1 << 20) - 64))
}

#[test]
fn member_names_of_an_archive_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("long-names.tar.zst");
    // 100 members named by 1 MiB GNU long names: 100 MiB of names in a ~100 KB archive.
    zstd_archive(&archive, Base::Py, |tar| {
        for i in 0..100 {
            append(tar, &long_name(i), b"x");
        }
    });
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let archive = archive.to_str().unwrap();
    for args in [
        &["analyze", "--local", archive][..],
        &["analyze", "--local", archive, "--search", "x"],
        &["coredump", "--dir", tmp.path().to_str().unwrap(), archive],
        &["decode", &format!("{archive}:pstree.img")],
    ] {
        let run = run_measured(args, 30);
        run.within(96, 5.0, &format!("{args:?}"));
        assert_eq!(run.output.status.code(), Some(2), "{args:?}");
        assert!(
            run.stderr().contains(&format!(
                "{archive}: the names and link targets of its first 47 members take more than 33554432 bytes"
            )),
            "{args:?}: {}",
            run.stderr()
        );
    }
    // The limit is a flag: raised, the archive opens (its names are held once).
    let run = run_measured(
        &["analyze", "--local", archive, "--max-name-bytes", "200M"],
        30,
    );
    run.within(256, 10.0, "--max-name-bytes 200M");
    assert!(run.output.status.success(), "{}", run.stderr());
}

#[test]
fn rootfs_diff_names_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    // rootfs-diff.tar is itself zstd data (engines compress it despite its name).
    let inner = tmp.path().join("rootfs-diff.tar");
    let mut rootfs = Command::new("zstd")
        .args(["-q", "-1", "-c", "-o"])
        .arg(&inner)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut tar = tar::Builder::new(rootfs.stdin.as_mut().unwrap());
        for i in 0..100 {
            append(&mut tar, &long_name(i), b"");
        }
        tar.finish().unwrap();
    }
    assert!(rootfs.wait().unwrap().success());
    let inner = std::fs::read(&inner).unwrap();
    let deleted = serde_json::to_vec(&vec![""; 600_000]).unwrap();
    let archive = tmp.path().join("rootfs.tar.zst");
    zstd_archive(&archive, Base::Py, |tar| {
        append(tar, "rootfs-diff.tar", &inner);
        append(tar, "deleted.files", &deleted);
    });
    let archive = archive.to_str().unwrap();
    let run = run_measured(&["analyze", "--local", archive, "--rootfs-diff"], 30);
    run.within(96, 5.0, "--rootfs-diff");
    assert_eq!(run.output.status.code(), Some(2));
    assert!(
        run.stderr().contains(&format!(
            "{archive}: member rootfs-diff.tar: the names of its first 33 entries take more than 33554432 bytes"
        )),
        "{}",
        run.stderr()
    );
    // 600,000 deleted paths: over the entry cap, refused while parsing.
    let run = run_measured(
        &[
            "analyze",
            "--local",
            archive,
            "--rootfs-diff",
            "--max-name-bytes",
            "1G",
        ],
        30,
    );
    run.within(256, 10.0, "deleted.files");
    assert_eq!(run.output.status.code(), Some(2));
    assert!(
        run.stderr()
            .contains("member deleted.files: not a JSON list of paths: more than 500000 entries"),
        "{}",
        run.stderr()
    );
}

#[test]
fn member_count_is_capped_and_lookups_are_not_quadratic() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("many.tar.zst");
    zstd_archive(&archive, Base::Py, |tar| {
        for i in 0..30_000 {
            append(tar, &format!("m/{i:07}"), b"");
        }
    });
    let archive = archive.to_str().unwrap();
    let run = run_measured(
        &["analyze", "--local", archive, "--max-members", "20000"],
        30,
    );
    run.within(64, 5.0, "--max-members 20000");
    assert_eq!(run.output.status.code(), Some(2));
    assert!(
        run.stderr().contains(&format!(
            "{archive}: more than 20000 members; refusing the archive"
        )),
        "{}",
        run.stderr()
    );
    let run = run_measured(&["analyze", "--local", archive], 30);
    run.within(96, 5.0, "30,000 members");
    assert!(run.output.status.success(), "{}", run.stderr());

    // 20,000 processes, each with a core image: every per-process lookup is a search of the
    // index (it was a scan of every member, quadratic: minutes at 80,000 processes).
    let processes = tmp.path().join("processes.tar.zst");
    let pids: Vec<u32> = (10_000..30_000).collect();
    zstd_archive(&processes, Base::Empty, |tar| {
        let tree: Vec<PstreeEntry> = pids
            .iter()
            .map(|&pid| PstreeEntry {
                pid,
                ppid: if pid == 10_000 { 0 } else { 10_000 },
                pgid: 10_000,
                sid: 10_000,
                threads: vec![pid],
            })
            .collect();
        append(tar, "checkpoint/pstree.img", &encode_image(&tree));
        let core = encode_image(&[CoreEntry {
            mtype: 1,
            tc: Some(TaskCoreEntry {
                task_state: 1,
                comm: "gen".into(),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        for pid in &pids {
            append(tar, &format!("checkpoint/core-{pid}.img"), &core);
        }
    });
    let processes = processes.to_str().unwrap();
    let run = run_measured(&["analyze", "--local", processes, "--search", "x"], 60);
    run.within(128, 10.0, "--search over 20,000 processes");
    // No process has memory images: each is reported, none is searched.
    assert!(run.stderr().contains("mm-10000.img"), "{}", run.stderr());
}

#[test]
fn members_past_the_memory_budget_are_spooled_not_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("big-members.tar.zst");
    // 16 members of 30 MiB: the old 512 MiB budget kept them all in memory.
    zstd_archive(&archive, Base::Py, |tar| {
        for i in 0..16 {
            let data = std::io::repeat(b'k').take(30 << 20);
            append_stream(tar, &format!("extra/big-{i}.bin"), 30 << 20, data);
        }
    });
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let archive = archive.to_str().unwrap();
    let run = run_measured(&["analyze", "--local", archive, "--all"], 60);
    // --all holds the summary, whose secrets scan reads the 480 MiB of extra members too (the
    // engine's files beside the images): seconds in a release build, more in a test build.
    run.within(96, 30.0, "16 members of 30 MiB");
    assert!(run.output.status.success(), "{}", run.stderr());
    // A member past the budget is still there, read from its spool file.
    let run = run_measured(&["decode", &format!("{archive}:extra/big-9.bin")], 30);
    run.within(160, 10.0, "decode of a spooled member");
    assert!(
        run.stderr().contains("extra/big-9.bin") && run.stderr().contains("magic"),
        "{}",
        run.stderr()
    );
}

#[test]
fn zero_pages_are_spooled_sparsely() {
    let spool = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("zero-pages.tar.zst");
    let size: u64 = 2 << 30;
    zstd_archive(&archive, Base::PyWithoutPages, |tar| {
        append_stream(
            tar,
            "checkpoint/pages-1.img",
            size,
            std::io::repeat(0).take(size),
        );
    });
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let params = OpenParams::default().spool_dir(spool.path());
    let started = Instant::now();
    let ckpt = Checkpoint::open_with(&archive, &params).unwrap();
    let took = started.elapsed();
    // The 2 GiB spool file exists while `ckpt` lives, and takes no disk.
    let (allocated, length) = ckpt.spool_usage();
    assert_eq!(length, size);
    assert!(
        allocated < 1 << 20,
        "spooling 2 GiB of zeros took {allocated} bytes of disk"
    );
    assert!(took.as_secs() < 20, "{took:?}");
    let pages = ckpt.open_pages(1).unwrap();
    assert_eq!(pages.len(), size);
    let mut page = vec![1u8; 4096];
    pages.read_exact_at(&mut page, size / 2).unwrap();
    assert!(page.iter().all(|&b| b == 0));
    drop(ckpt);
    // Through the binary: the overview, with its peak memory.
    let archive = archive.to_str().unwrap();
    let spool_dir = spool.path().to_str().unwrap();
    let run = run_measured(
        &["analyze", "--local", archive, "--spool-dir", spool_dir],
        60,
    );
    run.within(64, 20.0, "2 GiB of zero pages");
    assert!(run.output.status.success(), "{}", run.stderr());
}

// ---- disk: memory search over a compressed archive streams, it does not spool ----

/// `analyze --search` as JSON, with the archive's own name replaced by `ARCHIVE` (it is part of
/// every pages file name), so that two forms of one checkpoint compare equal.
fn search_report(archive: &Path, args: &[&str]) -> serde_json::Value {
    let archive = archive.to_str().unwrap();
    let mut all = vec!["analyze", "--local", archive, "-o", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(archive, "ARCHIVE");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn search_of_compressed_archives_streams_and_equals_the_plain_search() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, decompress) in [
        ("podman/ckpt-image-gzip.tar.gz", "gzip"),
        ("podman/ckpt-rootfs-zstd.tar", "zstd"),
    ] {
        let archive = fixture(name);
        // The same archive decompressed: read in place, pages never spooled nor streamed.
        let plain = tmp.path().join(format!("{decompress}.tar"));
        let out = Command::new(decompress)
            .args(["-d", "-c"])
            .arg(&archive)
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::write(&plain, &out.stdout).unwrap();

        // The library streams the pages to the search and keeps none of them.
        let matcher = Matcher::literal(b"CONTAINER_SECRET_5150").unwrap();
        let mut streamed = StreamedSearch::new(&matcher, 16, None);
        let ckpt =
            Checkpoint::open_streaming(&archive, &OpenParams::default(), &mut streamed).unwrap();
        assert!(ckpt.pages_streamed(), "{name}");
        let pages = ckpt.open_pages(1).unwrap();
        assert!(pages.is_streamed() && !pages.is_empty());
        let err = pages.read_exact_at(&mut [0u8; 16], 0).unwrap_err();
        assert!(err
            .to_string()
            .contains("searched as the compressed archive streamed by"));
        let plain_ckpt = Checkpoint::open(&plain).unwrap();
        assert!(!plain_ckpt.pages_streamed());

        for args in [
            &["--search", "CONTAINER_SECRET_5150"][..],
            &["--search-regex", "SECRET=[A-Z_0-9]+", "-C", "4"],
            &["--search", "sleep", "--pid", "1"],
            &["--search", "/bin/", "--max-matches", "3"],
        ] {
            let streamed = search_report(&archive, args);
            let in_place = search_report(&plain, args);
            assert_eq!(streamed, in_place, "{name} {args:?}");
        }
        // The binary streams too: with no usable spool directory the search still works
        // (pages would need one), and finds the secret.
        let nowhere = tmp.path().join("no-such-dir");
        let nowhere = nowhere.to_str().unwrap();
        let report = search_report(
            &archive,
            &["--search", "CONTAINER_SECRET_5150", "--spool-dir", nowhere],
        );
        let hits = report[0]["matches"].as_array().unwrap();
        assert!(!hits.is_empty(), "{name}: {report}");
        let out = run(&[
            "analyze",
            "--local",
            archive.to_str().unwrap(),
            "--hexdump",
            "0x1000",
            "--pid",
            "1",
            "--spool-dir",
            nowhere,
        ]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no-such-dir"),
            "{name}: reading pages needs the spool"
        );
    }
}

// ---- data after the end of the archive ----

/// A minimal checkpoint tar (py's pstree.img and core image) with its end blocks.
fn minimal_tar() -> Vec<u8> {
    let py = fixture("criu-4.2/py");
    let mut tar = TarBuilder::new();
    for name in ["pstree.img", "core-24390.img"] {
        tar.file(
            &format!("checkpoint/{name}"),
            &std::fs::read(py.join(name)).unwrap(),
        );
    }
    tar.finish()
}

#[test]
fn data_after_the_end_of_the_archive_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = minimal_tar();
    let mut hidden = TarBuilder::new();
    hidden.file("checkpoint/hidden.img", b"members other tools would read");
    let hidden = hidden.finish();
    let end_block = clean.len() - 1024;
    let gzip = |bytes: &[u8]| archive_builder::gzip(bytes);
    let zstd = |bytes: &[u8]| archive_builder::zstd(bytes);
    let padded = [clean.clone(), vec![0u8; 9216]].concat();
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        ("clean.tar", clean.clone(), None),
        ("padded.tar", padded.clone(), None),
        ("padded.tar.gz", gzip(&padded), None),
        (
            "appended.tar",
            [clean.clone(), hidden.clone()].concat(),
            Some(format!(
                "{} bytes follow the end-of-archive block at byte {end_block} (not padding: data from byte {})",
                512 + hidden.len(),
                clean.len()
            )),
        ),
        (
            "two-members.tar.gz",
            [gzip(&clean), gzip(&hidden)].concat(),
            Some(format!("data from byte {}", clean.len())),
        ),
        (
            "two-frames.tar.zst",
            [zstd(&clean), zstd(&hidden)].concat(),
            Some(format!("data from byte {}", clean.len())),
        ),
        (
            "megabytes-of-zeros.tar",
            [clean.clone(), vec![0u8; 3 << 20]].concat(),
            Some(format!("more than 1048576 bytes follow the end-of-archive block at byte {end_block};")),
        ),
    ];
    for (name, bytes, warning) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            &["analyze", "--local", path][..],
            &["decode", &format!("{path}:pstree.img")],
        ] {
            let out = run(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {stderr}");
            match &warning {
                None => assert!(stderr.is_empty(), "{args:?}: {stderr}"),
                Some(text) => {
                    assert!(
                        stderr.starts_with(&format!("warning: {path}: ")),
                        "{args:?}: {stderr}"
                    );
                    assert!(stderr.contains(text.as_str()), "{args:?}: {stderr}");
                    assert!(
                        stderr.contains("other tools may read members hidden there"),
                        "{args:?}: {stderr}"
                    );
                }
            }
        }
    }
}

// ---- the terminal ----

/// A command name that tries to retitle the window and forge a process row.
const EVIL_COMM: &str = "py\x1b]0;X\x07\n9 9 9";
/// A file path with a line break, a CSI sequence and a bidi override.
const EVIL_PATH: &str = "/srv/app/st\nate\x1b[2J\u{202e}.txt";
/// A unix socket path with C1 CSI (U+009B) and a carriage return.
const EVIL_SOCKET: &[u8] = b"/run/\xc2\x9b31mevil\r.sock";
/// Container, pod and annotation values.
const EVIL_CONTAINER: &str = "ctr\n\x1b[1mname";
const EVIL_POD: &str = "pod\x1b]8;;http://x\x07link";
const EVIL_ANNOTATION: &str = "value\twith\x08backspace\x7fdel";
/// Names in rootfs-diff.tar and deleted.files.
const EVIL_ROOTFS_NAME: &str = "etc/\x1b[31mred\nfile";
const EVIL_DELETED: &str = "/var/\x1b]0;x\x07gone\n";

/// Bytes written over argv[0] (`python3`, same length) and over the first environment value.
const EVIL_ARGV0: &[u8] = b"py\x1b[31m";
const EVIL_ENV_BYTES: &[u8] = b"\n\r\x1b\x9b";

/// The criu-4.2/py fixture's images with every string an attacker controls replaced by one that
/// carries control characters, packed as a CRI-O archive with hostile metadata and root fs diff.
fn hostile_strings_archive(dir: &Path) -> PathBuf {
    let py = fixture("criu-4.2/py");
    let mut images: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in std::fs::read_dir(&py).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        images.insert(name, std::fs::read(entry.path()).unwrap());
    }
    let core_name = "core-24390.img";
    let mut core: Vec<CoreEntry> = read_entries(core_name, &images[core_name]).unwrap();
    core[0].tc.as_mut().unwrap().comm = EVIL_COMM.to_owned();
    images.insert(core_name.into(), encode_image(&core));

    let mut files: Vec<FileEntry> = read_entries("files.img", &images["files.img"]).unwrap();
    for file in &mut files {
        if let Some(reg) = file.reg.as_mut().filter(|r| r.name == "/srv/app/state.txt") {
            reg.name = EVIL_PATH.to_owned();
        }
    }
    files.push(FileEntry {
        r#type: 5, // UNIXSK
        id: 99,
        usk: Some(UnixSkEntry {
            id: 99,
            ino: 4242,
            r#type: 1,
            state: 10,
            name: EVIL_SOCKET.to_vec(),
            ..Default::default()
        }),
        ..Default::default()
    });
    images.insert("files.img".into(), encode_image(&files));
    let mut fdinfo: Vec<FdinfoEntry> =
        read_entries("fdinfo-2.img", &images["fdinfo-2.img"]).unwrap();
    fdinfo.push(FdinfoEntry {
        id: 99,
        flags: 2,
        r#type: 5,
        fd: 7,
        ..Default::default()
    });
    images.insert("fdinfo-2.img".into(), encode_image(&fdinfo));

    // argv and the environment live in the process's memory: patch the pages in place.
    let mm: Vec<MmEntry> = read_entries("mm-24390.img", &images["mm-24390.img"]).unwrap();
    let pagemap = PageMap::decode("pagemap-24390.img", &images["pagemap-24390.img"]).unwrap();
    let file_offset = |vaddr: u64| -> usize {
        let run = pagemap
            .runs
            .iter()
            .find(|r| r.vaddr <= vaddr && vaddr < r.vaddr + r.nr_pages * PAGE_SIZE)
            .expect("argv is present");
        (run.pages_offset.unwrap() + (vaddr - run.vaddr)) as usize
    };
    let pages = images.get_mut("pages-1.img").unwrap();
    let argv = file_offset(mm[0].mm_arg_start);
    assert_eq!(&pages[argv..argv + 7], b"python3");
    pages[argv..argv + 7].copy_from_slice(EVIL_ARGV0);
    let env = file_offset(mm[0].mm_env_start);
    let eq = pages[env..].iter().position(|&b| b == b'=').unwrap();
    pages[env + eq + 1..env + eq + 1 + EVIL_ENV_BYTES.len()].copy_from_slice(EVIL_ENV_BYTES);

    let metadata = serde_json::json!({ "name": EVIL_CONTAINER }).to_string();
    let spec = serde_json::json!({
        "annotations": {
            "io.container.manager": "cri-o",
            "io.kubernetes.cri-o.Metadata": metadata,
            "io.kubernetes.pod.name": EVIL_POD,
            "io.kubernetes.pod.namespace": "ns\rspoof",
            "io.kubernetes.cri-o.ImageName": "img\x1b[8mhidden",
            "evil\nkey": EVIL_ANNOTATION,
        }
    });
    let config = serde_json::json!({ "id": "0123456789ab\x1b[0m", "name": EVIL_CONTAINER });
    let mut rootfs = TarBuilder::new();
    rootfs.file(EVIL_ROOTFS_NAME, b"red");
    let deleted = serde_json::to_vec(&[EVIL_DELETED]).unwrap();

    let mut tar = TarBuilder::new();
    tar.file("spec.dump", spec.to_string().as_bytes())
        .file("config.dump", config.to_string().as_bytes())
        .file("rootfs-diff.tar", &rootfs.finish())
        .file("deleted.files", &deleted)
        .dir("checkpoint/");
    for (name, bytes) in &images {
        tar.file(&format!("checkpoint/{name}"), bytes);
    }
    let path = dir.join("hostile-strings.tar");
    std::fs::write(&path, tar.finish()).unwrap();
    path
}

/// Every character a terminal could act on, other than the line feed that ends each line and
/// the tab of crit's own layout (tabs in the data are escaped, see the next test).
fn control_bytes(stdout: &[u8]) -> Vec<(usize, String)> {
    let text = String::from_utf8_lossy(stdout);
    text.char_indices()
        .filter(|&(_, c)| {
            (c.is_control() && c != '\n' && c != '\t') || ('\u{2028}'..='\u{202e}').contains(&c)
        })
        .map(|(i, c)| (i, format!("{c:?}")))
        .collect()
}

#[test]
fn no_control_byte_reaches_stdout_of_human_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = hostile_strings_archive(tmp.path());
    let archive = archive.to_str().unwrap();
    let views: &[&[&str]] = &[
        &[],
        &["--all"],
        &["--all", "-o", "tree"],
        &["--crit-x", "ps"],
        &["--crit-x", "fds"],
        &["--crit-x", "mems"],
        &["--crit-x", "rss"],
        &["--memory"],
        &["--search", "srv"],
        &["--search-regex", "py.\\[31m"],
    ];
    for view in views {
        let mut args = vec!["analyze", "--local", archive];
        args.extend_from_slice(view);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{view:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{view:?} printed nothing");
        let found = control_bytes(&out.stdout);
        assert!(
            found.is_empty(),
            "{view:?}: control characters on stdout at {found:?}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            control_bytes(&out.stderr).is_empty(),
            "{view:?}: control characters on stderr"
        );
    }
}

#[test]
fn escaped_strings_are_spelled_out_and_rows_are_not_forged() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = hostile_strings_archive(tmp.path());
    let archive = archive.to_str().unwrap();
    let table = run(&["analyze", "--local", archive, "--all"]);
    let text = String::from_utf8(table.stdout).unwrap();
    // The forged "9 9 9" row stays inside its cell, spelled out.
    assert!(text.contains("py\\x1b]0;X\\x07\\n9 9 9"), "{text}");
    assert!(
        !text.lines().any(|line| line.starts_with("9 9 9")),
        "{text}"
    );
    assert!(
        text.contains("/srv/app/st\\nate\\x1b[2J\\u{202e}.txt"),
        "{text}"
    );
    assert!(text.contains("/run/\\u{009b}31mevil\\r.sock"), "{text}");
    assert!(text.contains("etc/\\x1b[31mred\\nfile"), "{text}");
    assert!(text.contains("/var/\\x1b]0;x\\x07gone\\n"), "{text}");
    assert!(
        text.contains("value\\twith\\x08backspace\\x7fdel"),
        "{text}"
    );
    assert!(
        text.contains("py\\x1b[31m /srv/app/bin/secret.py"),
        "{text}"
    );
    // One process row: the process table has its header and exactly one row under it.
    let processes = text.split("\nProcesses:\n").nth(1).unwrap();
    assert_eq!(processes.lines().take_while(|l| !l.is_empty()).count(), 2);

    // JSON keeps the data exact: the same strings, unescaped, after decoding.
    let json = run(&["analyze", "--local", archive, "-o", "json"]);
    let reports: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let report = &reports[0];
    assert_eq!(report["container_name"], EVIL_CONTAINER);
    assert_eq!(report["pod"], EVIL_POD);
    assert_eq!(report["process_tree"]["command"], EVIL_COMM);
    let cmdline = report["process_tree"]["cmdline"].as_str().unwrap();
    assert!(cmdline.starts_with("py\x1b[31m "), "{cmdline:?}");
    for exact in [
        EVIL_PATH,
        EVIL_ANNOTATION,
        EVIL_DELETED,
        "etc/\x1b[31mred\nfile",
    ] {
        assert!(holds_string(&reports, exact), "{exact:?} not in the JSON");
    }
}

/// True if `value` holds the string `want` anywhere.
fn holds_string(value: &serde_json::Value, want: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s == want,
        serde_json::Value::Array(items) => items.iter().any(|v| holds_string(v, want)),
        serde_json::Value::Object(map) => map.values().any(|v| holds_string(v, want)),
        _ => false,
    }
}

/// A checkpoint file name that tries to retitle the window and forge an error line.
const EVIL_FILE_NAME: &str = "ckpt\x1b]0;t\x07\r\nerror: forged line.tar";

/// Every line the binary writes to stderr goes through one escaping function (src/messages.rs,
/// whose own test keeps every other file from writing to stderr): a checkpoint named with an
/// escape sequence and a line break, holding hostile strings and a rootfs-diff.tar cut inside a
/// file with a hostile name, through the verbs and paths that print names on stderr (the overview
/// of several checkpoints, `--secrets` and its unscanned parts, a search cut by its limit, cores
/// and their summary lines, diff's not-compared lines, decode's missing member).
#[test]
fn no_control_byte_reaches_stderr_and_no_line_is_forged() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = hostile_strings_archive(tmp.path());
    // The same archive with rootfs-diff.tar cut inside its one file's data.
    let mut rootfs = TarBuilder::new();
    rootfs.file(EVIL_ROOTFS_NAME, &[b'x'; 4096]);
    let mut cut = rootfs.unfinished();
    cut.truncate(512 + 100);
    let mut tar = TarBuilder::new();
    tar.file("rootfs-diff.tar", &cut).dir("checkpoint/");
    for entry in std::fs::read_dir(fixture("criu-4.2/py")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        tar.file(
            &format!("checkpoint/{name}"),
            &std::fs::read(entry.path()).unwrap(),
        );
    }
    let evil = tmp.path().join(EVIL_FILE_NAME);
    std::fs::write(&evil, tar.finish()).unwrap();
    let evil = evil.to_str().unwrap();
    let hostile = hostile.to_str().unwrap();
    let cores = tmp.path().join("cores");
    std::fs::create_dir(&cores).unwrap();
    let cores = cores.to_str().unwrap();
    let member = format!("{evil}:checkpoint/no\x1b[2Jsuch.img");
    let runs: &[&[&str]] = &[
        &["analyze", "--local", evil, hostile],
        &["analyze", "--local", evil, "--secrets"],
        &["analyze", "--local", hostile, "--secrets"],
        &[
            "analyze",
            "--local",
            evil,
            "--search",
            "python",
            "--max-matches",
            "1",
        ],
        &[
            "analyze",
            "--local",
            hostile,
            "--search",
            "srv",
            "--max-matches",
            "1",
        ],
        &["coredump", evil, "--dir", cores],
        &["coredump", hostile, "--dir", cores, "--overwrite"],
        &["diff", evil, hostile],
        &["decode", &member],
        &["analyze", "--local", evil, "/nonexistent\x1b[31m/x.tar"],
    ];
    let mut said = 0;
    for args in runs {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        said += usize::from(!stderr.is_empty());
        let found = control_bytes(&out.stderr);
        assert!(
            found.is_empty(),
            "{args:?}: control characters on stderr at {found:?}:\n{stderr}"
        );
        assert!(
            !stderr.lines().any(|line| line.starts_with("error: forged")),
            "{args:?}: a forged line:\n{stderr}"
        );
    }
    assert!(
        said >= 6,
        "the runs printed too little on stderr to test anything"
    );
    // The unscanned part of --secrets is named, spelled out.
    let out = run(&["analyze", "--local", evil, "--secrets"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ckpt\\x1b]0;t\\x07\\r\\nerror: forged line.tar"),
        "{stderr}"
    );
    assert!(stderr.contains("rootfs-diff"), "{stderr}");
}

// ---- GNU sparse members: a map of regions, never read as the file ----

#[test]
fn gnu_sparse_members_are_refused_by_name_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("x/checkpoint");
    std::fs::create_dir_all(&dir).unwrap();
    // the pages file with its zero pages as holes, as `cp --sparse=always` leaves them
    for entry in std::fs::read_dir(fixture("criu-4.2/py")).unwrap() {
        let path = entry.unwrap().path();
        let copied = Command::new("cp")
            .arg("--sparse=always")
            .arg(&path)
            .arg(&dir)
            .status()
            .unwrap();
        assert!(copied.success());
    }
    // GNU's own format (typeflag S, its region map running on in an extension block) and pax
    // (GNU.sparse.* records), both as GNU tar writes them
    for format in ["gnu", "pax"] {
        let archive = tmp.path().join(format!("{format}.tar"));
        let made = Command::new("tar")
            .arg("-C")
            .arg(tmp.path().join("x"))
            .args(["--sparse", &format!("--format={format}"), "-cf"])
            .arg(&archive)
            .arg("checkpoint")
            .status()
            .unwrap();
        assert!(made.success());
        let archive = archive.to_str().unwrap();
        let out = run(&["analyze", "--local", archive, "--memory"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{archive}: member checkpoint/pages-1.img is a GNU sparse file (tar --sparse), \
                 not a regular file"
            )),
            "{format}: {stderr}"
        );
        // every member after it is where its header says: the tree, the last one, is read
        let out = run(&["analyze", "--local", archive, "--ps-tree"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{format}: {stdout}");
        assert!(
            stdout.contains("24390") && stdout.contains("python3"),
            "{stdout}"
        );
    }
}

// ---- descriptors: one spool file, however many members (issue 20.6) ----

/// Runs the binary with its open-files limit (soft and hard) set to `nofile` by `prlimit`,
/// killed after 120 s.
fn run_with_nofile(nofile: u32, args: &[&str]) -> Output {
    let out = Command::new("prlimit")
        .arg(format!("--nofile={nofile}:{nofile}"))
        .args(["timeout", "-s", "KILL", "120"])
        .arg(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("prlimit runs (util-linux)");
    assert_ne!(out.status.code(), Some(137), "{args:?} was killed");
    out
}

#[test]
fn a_thousand_pages_files_fit_in_the_usual_descriptor_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // 1,101 processes with a pages file each, as CRIU writes them, the pages zero (0.5 MB zstd).
    let archive = crate::support::hostile_inputs::many_processes_archive(tmp.path(), 1101);
    assert!(std::fs::metadata(&archive).unwrap().len() < 2 << 20);
    let archive = archive.to_str().unwrap();
    let member = format!("{archive}:checkpoint/pstree.img");
    for args in [
        vec!["analyze", "--local", archive, "--ps-tree", "-o", "json"],
        vec!["analyze", "--local", archive, "--memory", "-o", "json"],
        vec!["analyze", "--local", archive, "--files", "-o", "json"],
        vec![
            "analyze",
            "--local",
            archive,
            "--search",
            "KCP_GEN_MARKER_7731",
            "--max-matches",
            "5",
        ],
        vec!["decode", member.as_str()],
    ] {
        let out = run_with_nofile(1024, &args);
        assert!(
            out.status.success(),
            "{args:?} with ulimit -n 1024: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run_with_nofile(
        1024,
        &["analyze", "--local", archive, "--memory", "-o", "json"],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1101));
    // Past any limit, the error says which one.
    let out = run_with_nofile(4, &["analyze", "--local", archive, "--memory"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Too many open files") && stderr.contains("`ulimit -n`"),
        "{stderr}"
    );
}

// ---- recursion: deeply nested messages (issue 20.5) ----

use crate::support::hostile_inputs::deep_cgroup_image;

#[test]
fn deeply_nested_messages_are_refused_by_decode_without_overflowing_the_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("cgroup.img");
    std::fs::write(&image, deep_cgroup_image(10_000)).unwrap();
    assert!(std::fs::metadata(&image).unwrap().len() < 70_000);
    let image = image.to_str().unwrap();
    for args in [vec!["decode", image], vec!["decode", "--pretty", image]] {
        let run = run_measured(&args, 20);
        run.within(64, 5.0, &format!("{args:?}"));
        let stderr = run.stderr();
        assert_eq!(run.output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cgroup.img: entry 0 at byte 0x8")
                && stderr.contains("messages nested more than 100 deep"),
            "{args:?}: {stderr}"
        );
        assert!(run.output.stdout.is_empty(), "nothing half-written");
    }
    // Counting entries needs no nesting.
    let run = run_measured(&["decode", "--info", image], 20);
    assert!(run.output.status.success(), "{}", run.stderr());
}

#[test]
fn nesting_past_the_limit_is_an_error_naming_image_and_entry_at_every_depth() {
    // 10,000 levels in 67 KB: recursion overflowed the stack here before.
    let deep = deep_cgroup_image(10_000);
    assert!(deep.len() < 70_000);
    for style in [
        checkpoint_images::Style::Plain,
        checkpoint_images::Style::Pretty,
    ] {
        let err = checkpoint_images::decode_image_with("cgroup.img", &deep, style).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("cgroup.img: entry 0 at byte 0x8:")
                && text.contains("messages nested more than 100 deep"),
            "{text}"
        );
    }
    // prost, which the model decodes with, refuses it too (its own recursion limit).
    let payload = &deep[12..];
    assert!(<checkpoint_images::messages::CgroupEntry as prost::Message>::decode(payload).is_err());
    // Right at the limit, as prost counts it: the entry, its controller and 99 directories
    // decode; one more does not.
    for (depth, decodes) in [(99, true), (100, false)] {
        let image = deep_cgroup_image(depth);
        let prost =
            <checkpoint_images::messages::CgroupEntry as prost::Message>::decode(&image[12..]);
        assert_eq!(prost.is_ok(), decodes, "prost, {depth} levels");
        let ours = checkpoint_images::decode_image_with(
            "cgroup.img",
            &image,
            checkpoint_images::Style::Plain,
        );
        assert_eq!(ours.is_ok(), decodes, "json, {depth} levels");
    }
    let ok = deep_cgroup_image(98);
    let decoded =
        checkpoint_images::decode_image_with("cgroup.img", &ok, checkpoint_images::Style::Pretty)
            .unwrap();
    let mut dir = &decoded.entries[0]["controllers"][0]["dirs"][0];
    let mut levels = 1;
    while let Some(child) = dir.get("children").and_then(|c| c.get(0)) {
        dir = child;
        levels += 1;
    }
    assert_eq!(levels, 98);
}

// ---- time: a compressed rootfs-diff.tar that expands without bound (issue 20.4) ----

#[test]
fn a_compressed_rootfs_diff_that_expands_without_bound_is_cut_with_its_entry_named() {
    // rootfs-diff.tar as zstd: a small file, a 64 GiB file of zeros, a file after it.
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("rootfs-bomb.tar.zst");
    crate::support::hostile_inputs::rootfs_bomb_archive(&archive, 64 << 30);
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let archive = archive.to_str().unwrap();

    // The listing keeps what it read, names where it stopped and the flag that moves the bound.
    let run = run_measured(
        &["analyze", "--local", archive, "--rootfs-diff", "-o", "json"],
        60,
    );
    run.within(96, 20.0, "--rootfs-diff of a 64 GiB zero file");
    assert!(run.output.status.success(), "{}", run.stderr());
    let report: serde_json::Value = serde_json::from_slice(&run.output.stdout).unwrap();
    let diff = &report[0]["rootfs_diff"];
    let paths: Vec<&str> = diff["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["etc/before.conf", "srv/zeros.bin"]);
    let reason = diff["incomplete"].as_str().unwrap();
    assert!(
        reason.contains("rootfs-diff.tar: stopped in entry `srv/zeros.bin` (64.0 GiB declared")
            && reason.contains("decompresses past 1.0 GiB")
            && reason.contains("--rootfs-diff-limit"),
        "{reason}"
    );

    // The default view (the summary) is bounded the same way and says so.
    let run = run_measured(&["analyze", "--local", archive], 60);
    run.within(128, 30.0, "the summary of a 64 GiB zero file");
    let stdout = String::from_utf8_lossy(&run.output.stdout);
    assert!(
        stdout.contains("the listing stopped early") && stdout.contains("srv/zeros.bin"),
        "{stdout}"
    );

    // diff hashes rootfs-diff.tar's files within the same bound (set lower here: sha256 of a
    // test build is slow): that section is not compared, and the reason names the entry.
    let run = run_measured(
        &[
            "diff",
            archive,
            archive,
            "-o",
            "json",
            "--rootfs-diff-limit",
            "256M",
        ],
        60,
    );
    run.within(128, 30.0, "diff of two 64 GiB zero files");
    let report: serde_json::Value = serde_json::from_slice(&run.output.stdout).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("stopped in entry `srv/zeros.bin`")
            && text.contains("decompresses past 256.0 MiB")
            && text.contains("rootfs-diff"),
        "{text}"
    );
}

// ---- machine formats: every string reads back as itself (issue 20.8) ----

/// Strings a YAML 1.1 or 1.2 resolver reads as something else when they are written plain, and
/// characters that act on terminals or reorder text.
const MACHINE_TRICKY: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "N",
    "True",
    "null",
    "~",
    "",
    "1_000",
    "1:30",
    "190:20:30",
    "2001-12-14",
    "2001-12-14 21:59:43.10 -5",
    "<<",
    "=",
    "0o17",
    "0x1f",
    ".inf",
    "-.Inf",
    ".NaN",
    "1e3",
    "+1",
    "- a",
    "a: b",
    "#hash",
    "&anchor",
    "*alias",
    "!tag",
    "|pipe",
    "---",
    "csi \u{9b}31m",
    "bidi \u{202e}txt\u{2066}iso\u{2069}",
    "nel\u{85}",
    "ls\u{2028}",
    "line\nbreak",
    " lead",
    "trail ",
];

/// The py dump as a CRI-O archive whose spec.dump annotations are [`MACHINE_TRICKY`], each as a
/// key and as a value.
fn machine_tricky_archive(dir: &Path) -> PathBuf {
    let mut annotations = serde_json::Map::new();
    annotations.insert("io.container.manager".into(), "cri-o".into());
    for (index, text) in MACHINE_TRICKY.iter().enumerate() {
        annotations.insert(format!("value-{index}"), (*text).into());
        annotations.insert((*text).to_owned(), format!("key-{index}").into());
    }
    let spec = serde_json::json!({ "annotations": annotations });
    let mut tar = TarBuilder::new();
    tar.file("spec.dump", spec.to_string().as_bytes())
        .file("config.dump", br#"{"id":"abc","name":"tricky"}"#)
        .dir("checkpoint/");
    for entry in std::fs::read_dir(fixture("criu-4.2/py")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        tar.file(
            &format!("checkpoint/{name}"),
            &std::fs::read(entry.path()).unwrap(),
        );
    }
    let path = dir.join("tricky.tar");
    std::fs::write(&path, tar.finish()).unwrap();
    path
}

/// Every string (keys and values) of a JSON or YAML document, as Python reads it: `json.load`,
/// or PyYAML's `safe_load`, a YAML 1.1 resolver.
fn python_strings(document: &[u8], format: &str) -> Vec<String> {
    const SCRIPT: &str = r#"
import json, sys
data = sys.stdin.buffer.read().decode("utf-8")
if sys.argv[1] == "yaml":
    import yaml
    doc = yaml.safe_load(data)
else:
    doc = json.loads(data)
out = []
def walk(v):
    if isinstance(v, str):
        out.append(v)
    elif isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, str):
                raise SystemExit("a key read back as %r, not a string" % (k,))
            out.append(k)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
    elif isinstance(v, bool) or not isinstance(v, (int, float, type(None))):
        raise SystemExit("a value read back as %r" % (v,))
walk(doc)
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(document).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 ({format}, PyYAML: pip install pyyaml): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn machine_formats_read_back_every_string_in_json_and_in_a_yaml_1_1_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = machine_tricky_archive(tmp.path());
    let archive = archive.to_str().unwrap();
    for format in ["json", "yaml"] {
        let out = run(&["analyze", "--local", archive, "--metadata", "-o", format]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let strings = python_strings(&out.stdout, format);
        for (index, text) in MACHINE_TRICKY.iter().enumerate() {
            assert!(
                strings.iter().any(|s| s == text),
                "{format}: {text:?} did not read back:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(
                strings.contains(&format!("key-{index}")),
                "{format}: key-{index}"
            );
        }
        if format == "json" {
            // C1 controls and bidi characters are \u-escaped, never raw.
            let text = String::from_utf8(out.stdout.clone()).unwrap();
            assert!(
                !text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)),
                "{text}"
            );
            assert!(text.contains("csi \\u009b31m"), "{text}");
        }
    }
}

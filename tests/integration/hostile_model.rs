//! `hostile_model`: forged images aimed at the checkpoint model (crates/model/src/dump), each built here from
//! the real `criu-4.2/py` dump with one image replaced, run through the real binary: every verb
//! refuses the same broken structure with the same error, and memory and time stay within the
//! budgets of docs/security.md whatever the images claim.

use std::path::Path;

use checkpoint_images::messages::{
    FdinfoEntry, FileEntry, MmEntry, PagemapHead, PstreeEntry, RegFileEntry, VmaEntry,
};
use checkpoint_images::{encode_image, read_entries, Magic, IMG_COMMON};
use prost::Message;

use crate::support::measure::run_measured;
use crate::support::truth::fixtures;

const PID: u32 = 24390;

/// A copy of `criu-4.2/py` in a temp dir with `images` replaced.
fn forged(images: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let py = fixtures().join("criu-4.2/py");
    for entry in std::fs::read_dir(&py).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (name, bytes) in images {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn original<M: checkpoint_images::CriuMessage>(name: &str) -> Vec<M> {
    let bytes = std::fs::read(fixtures().join("criu-4.2/py").join(name)).unwrap();
    read_entries(name, &bytes).unwrap()
}

fn path(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// The verbs that read the process tree, on `dir`.
fn every_verb(dir: &str, cores: &str) -> Vec<Vec<String>> {
    [
        vec!["analyze", "--local", dir, "--ps-tree"],
        vec!["analyze", "--local", dir, "--memory"],
        vec!["analyze", "--local", dir, "--search", "KEY"],
        vec!["analyze", "--local", dir, "--crit-x", "ps"],
        vec!["coredump", dir, "--dir", cores],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

#[test]
fn broken_trees_are_refused_identically_by_every_verb() {
    let entry = |pid: u32, ppid: u32| PstreeEntry {
        pid,
        ppid,
        pgid: pid,
        sid: pid,
        threads: vec![pid],
    };
    let cases = [
        (
            vec![entry(PID, 0), entry(PID, 0)],
            "pid 24390 appears twice",
        ),
        (vec![entry(PID, 0), entry(7, 0)], "two roots"),
        (vec![entry(PID, 8), entry(8, PID)], "no root process"),
        (
            vec![entry(1, 0), entry(PID, 8), entry(8, PID)],
            "is not below the root",
        ),
    ];
    for (tree, problem) in cases {
        let dir = forged(&[("pstree.img", encode_image(&tree))]);
        let cores = tempfile::tempdir().unwrap();
        for args in every_verb(path(dir.path()), path(cores.path())) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = run_measured(&args, 20);
            run.within(64, 5.0, problem);
            let stderr = run.stderr();
            assert_eq!(run.output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("pstree.img") && stderr.contains(problem),
                "{args:?}: {stderr}"
            );
        }
        assert_eq!(std::fs::read_dir(cores.path()).unwrap().count(), 0);
    }
}

/// The py dump's mm with its VMAs replaced.
fn mm_with(vmas: Vec<VmaEntry>) -> Vec<u8> {
    let mut mm: Vec<MmEntry> = original("mm-24390.img");
    mm[0].vmas = vmas;
    encode_image(&mm)
}

#[test]
fn impossible_layouts_are_refused_identically_by_every_verb() {
    let vma = |start: u64, end: u64| VmaEntry {
        start,
        end,
        prot: 3,
        flags: 0x22,
        status: 1 | (1 << 9),
        ..VmaEntry::default()
    };
    let cases = [
        (vec![vma(0x2000, 0x1000)], "ends before it starts"),
        (vec![vma(0x1000, 0x1800)], "not page-aligned"),
        (
            vec![vma(0x1000, 0x4000), vma(0x3000, 0x5000)],
            "overlaps the mapping before it",
        ),
        (
            vec![vma(0x1000, 1 << 63)],
            "past the largest user address space",
        ),
    ];
    for (vmas, problem) in cases {
        let dir = forged(&[("mm-24390.img", mm_with(vmas))]);
        let cores = tempfile::tempdir().unwrap();
        let dir = path(dir.path());
        // The process's memory is unavailable with the same reason everywhere: the memory
        // views and coredump fail (the only process), analyze marks the facts and exits 1.
        for args in [
            vec!["analyze", "--local", dir, "--memory"],
            vec!["analyze", "--local", dir, "--search", "KEY"],
            vec!["coredump", dir, "--dir", path(cores.path())],
            vec!["analyze", "--local", dir, "--cmdline"],
        ] {
            let run = run_measured(&args, 20);
            run.within(64, 5.0, problem);
            let stderr = run.stderr();
            assert_ne!(run.output.status.code(), Some(0), "{args:?}: {stderr}");
            assert!(
                stderr.contains("mm-24390.img") && stderr.contains(problem),
                "{args:?}: {stderr}"
            );
        }
    }
}

use crate::support::hostile_inputs::pagemap_image as pagemap;

#[test]
fn empty_and_unaligned_page_runs_are_refused() {
    for (runs, problem) in [
        (vec![(0x735a000, 0)], "holds no pages"),
        (vec![(0x735a010, 1)], "does not start on a page boundary"),
    ] {
        let dir = forged(&[("pagemap-24390.img", pagemap(&runs))]);
        let dir = path(dir.path());
        for args in [
            vec!["analyze", "--local", dir, "--memory"],
            vec!["analyze", "--local", dir, "--crit-x", "rss"],
        ] {
            let run = run_measured(&args, 20);
            let stderr = run.stderr();
            assert_ne!(run.output.status.code(), Some(0), "{args:?}: {stderr}");
            assert!(
                stderr.contains("pagemap-24390.img") && stderr.contains(problem),
                "{args:?}: {stderr}"
            );
        }
    }
}

#[test]
fn counts_in_images_are_not_capacities() {
    // files.img of 4 million zero-length entries (16 MiB): read up to the entry cap, then
    // marked unavailable by name (exit 1), without holding them.
    let mut files = Vec::with_capacity(8 + 4 * 4_000_000);
    files.extend_from_slice(&IMG_COMMON.to_le_bytes());
    files.extend_from_slice(&Magic::Files.value().to_le_bytes());
    files.resize(files.len() + 4 * 4_000_000, 0);
    // core-24390.img with its entry followed by millions of empty ones: only the first is read.
    let mut core = std::fs::read(fixtures().join("criu-4.2/py/core-24390.img")).unwrap();
    core.resize(core.len() + 4 * 4_000_000, 0);
    // A pstree entry listing a million thread ids.
    let tree = PstreeEntry {
        pid: PID,
        ppid: 0,
        pgid: PID,
        sid: PID,
        threads: (PID..PID + 1_000_000).collect(),
    };
    // (image, its bytes, analyze flags, the exit status and the problem named, or None for
    // success)
    type Case<'a> = (&'a str, Vec<u8>, &'a [&'a str], Option<(i32, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "files.img",
            files,
            &["--files"],
            Some((1, "more than 1048576 entries")),
        ),
        ("core-24390.img", core, &["--ps-tree", "--cmdline"], None),
        (
            "pstree.img",
            encode_image(&[tree]),
            &["--ps-tree"],
            Some((2, "more than 262144 elements")),
        ),
    ];
    for (image, bytes, flags, problem) in cases {
        let dir = forged(&[(image, bytes)]);
        let mut args = vec!["analyze", "--local", path(dir.path())];
        args.extend_from_slice(flags);
        let run = run_measured(&args, 30);
        run.within(256, 10.0, image);
        let stderr = run.stderr();
        match problem {
            Some((code, problem)) => {
                assert_eq!(run.output.status.code(), Some(code), "{image}: {stderr}");
                assert!(
                    stderr.contains(image) && stderr.contains(problem),
                    "{image}: {stderr}"
                );
            }
            None => assert!(run.output.status.success(), "{image}: {stderr}"),
        }
    }
}

#[test]
fn one_long_path_used_many_times_is_held_once_and_cut_to_path_max() {
    // A 1 MiB path, opened by 20,000 descriptors and mapped by 20,000 VMAs.
    let long = format!("/{}", "a".repeat(1 << 20));
    let mut files: Vec<FileEntry> = original("files.img");
    files.push(FileEntry {
        r#type: 1,
        id: 9000,
        reg: Some(RegFileEntry {
            id: 9000,
            name: long.clone(),
            ..RegFileEntry::default()
        }),
        ..FileEntry::default()
    });
    let mut fdinfo: Vec<FdinfoEntry> = original("fdinfo-2.img");
    for fd in 100..20_100 {
        fdinfo.push(FdinfoEntry {
            id: 9000,
            flags: 0,
            r#type: 1,
            fd,
            ..FdinfoEntry::default()
        });
    }
    let vmas: Vec<VmaEntry> = (0..20_000u64)
        .map(|i| VmaEntry {
            start: 0x1_0000_0000 + i * 0x2000,
            end: 0x1_0000_1000 + i * 0x2000,
            prot: 1,
            flags: 2,
            status: 1 | (1 << 6),
            shmid: 9000,
            ..VmaEntry::default()
        })
        .collect();
    let mut mm: Vec<MmEntry> = original("mm-24390.img");
    mm[0].vmas.extend(vmas);
    let dir = forged(&[
        ("files.img", encode_image(&files)),
        ("fdinfo-2.img", encode_image(&fdinfo)),
        ("mm-24390.img", encode_image(&mm)),
    ]);
    let dir = path(dir.path());
    for args in [
        vec!["analyze", "--local", dir, "--files", "-o", "json"],
        vec!["analyze", "--local", dir, "--memory"],
        vec!["analyze", "--local", dir, "--crit-x", "mems"],
    ] {
        let run = run_measured(&args, 30);
        run.within(256, 10.0, &format!("{args:?}"));
        assert!(run.output.status.success(), "{args:?}: {}", run.stderr());
        // No line carries more than PATH_MAX bytes of the path.
        let longest = run
            .output
            .stdout
            .split(|&b| b == b'\n')
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest < 4096 + 200_000,
            "{args:?}: a line of {longest} bytes"
        );
    }
    let run = run_measured(&["analyze", "--local", dir, "--files", "-o", "json"], 30);
    let text = String::from_utf8_lossy(&run.output.stdout);
    assert!(text.contains("bytes, longer than the kernel allows"));
}

#[test]
fn a_thread_list_beyond_the_core_limit_is_cut_with_a_note() {
    // 9,000 threads, each with a copy of the main thread's core image.
    let threads: Vec<u32> = (0..9_000u32)
        .map(|i| if i == 0 { PID } else { 100_000 + i })
        .collect();
    let tree = PstreeEntry {
        pid: PID,
        ppid: 0,
        pgid: PID,
        sid: PID,
        threads: threads.clone(),
    };
    let core = std::fs::read(fixtures().join("criu-4.2/py/core-24390.img")).unwrap();
    let mut images: Vec<(String, Vec<u8>)> = vec![("pstree.img".into(), encode_image(&[tree]))];
    for tid in threads.iter().skip(1) {
        images.push((format!("core-{tid}.img"), core.clone()));
    }
    let refs: Vec<(&str, Vec<u8>)> = images
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let dir = forged(&refs);
    let cores = tempfile::tempdir().unwrap();
    let run = run_measured(
        &["coredump", path(dir.path()), "--dir", path(cores.path())],
        60,
    );
    run.within(256, 30.0, "9000 threads");
    let stderr = run.stderr();
    assert!(run.output.status.success(), "{stderr}");
    assert!(
        stderr.contains("the registers of 808 more threads left out (at most 8192 per core)"),
        "{stderr}"
    );
}

#[test]
fn a_huge_untouched_mapping_warns_before_the_core_is_written() {
    // 16 TiB up to 80 TiB: between the heap and the libraries of the py dump.
    let dir = forged(&crate::support::hostile_inputs::huge_mapping_images(
        64 << 40,
    ));
    let cores = tempfile::tempdir().unwrap();
    let run = run_measured(
        &["coredump", path(dir.path()), "--dir", path(cores.path())],
        60,
    );
    run.within(256, 30.0, "64 TiB mapping");
    let stderr = run.stderr();
    // Sizes in human units (issue 20.10), never the raw byte count.
    assert!(
        stderr.contains("warning:")
            && stderr.contains("the core will be 64.0 TiB long")
            && stderr.contains("the rest is holes"),
        "{stderr}"
    );
    assert!(!stderr.contains("70368744"), "{stderr}");
    if !run.output.status.success() {
        // A file system that cannot hold it (ext4 files end at 16 TiB): the error names the
        // core and its size.
        assert!(
            stderr.contains("core.24390") && stderr.contains("64.0 TiB long"),
            "{stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(cores.path()).unwrap().collect();
        assert!(left.is_empty(), "no partial core: {left:?}");
    }
    // A tmpfs takes the sparse 64 TiB core; the warning says what a disk here has free.
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        return;
    };
    let run = run_measured(
        &["coredump", path(dir.path()), "--dir", path(shm.path())],
        60,
    );
    run.within(256, 30.0, "64 TiB mapping on tmpfs");
    let stderr = run.stderr();
    assert!(run.output.status.success(), "{stderr}");
    let warning = regex::Regex::new(
        r"core\.24390: \S+ is a file system in memory \(tmpfs, [0-9.]+ [KMGT]iB free\), which takes this 64\.0 TiB core because it is sparse; the disk at \S+ has [0-9.]+ [KMGT]iB free",
    )
    .unwrap();
    assert!(warning.is_match(&stderr), "{stderr}");
    assert!(allocated(&shm.path().join("core.24390")) < 64 << 20);
}

// ---- disk: cores and memory dumps of zero pages (issue 20.1) ----

fn allocated(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().blocks() * 512
}

#[test]
fn cores_and_memory_dumps_of_zero_pages_take_no_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("zero-mapping.tar.zst");
    let zeros: u64 = 4 << 30;
    crate::support::hostile_inputs::zero_mapping_archive(&archive, zeros);
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let archive = path(&archive);
    let spool = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    // The core: 4 GiB of the checkpoint's data, all zero pages, written as holes.
    let run = run_measured(
        &[
            "coredump",
            archive,
            "--pid",
            "24390",
            "--dir",
            path(out.path()),
            "--spool-dir",
            path(spool.path()),
        ],
        120,
    );
    run.within(128, 60.0, "core of 4 GiB of zero pages");
    let stderr = run.stderr();
    assert!(run.output.status.success(), "{stderr}");
    let core = out.path().join("core.24390");
    let len = std::fs::metadata(&core).unwrap().len();
    assert!(len > zeros, "{len}");
    assert!(
        allocated(&core) < 16 << 20,
        "{} bytes on disk",
        allocated(&core)
    );
    // The summary says what the core holds and what went to disk, in human units.
    let summary = regex::Regex::new(
        r"core\.24390: 4\.\d GiB core, 4\.\d GiB of the checkpoint's data in \d+ segments \((\d+\.\d) (KiB|MiB) on disk: zero pages are holes\)",
    )
    .unwrap();
    assert!(summary.is_match(&stderr), "{stderr}");

    // The memory dump: the same 4 GiB, holes too; the report says how much is data.
    let dump = out.path().join("mem.bin");
    let run = run_measured(
        &[
            "analyze",
            "--local",
            archive,
            "--pid",
            "24390",
            "--dump-memory",
            path(&dump),
            "--spool-dir",
            path(spool.path()),
            "-o",
            "json",
        ],
        120,
    );
    run.within(128, 60.0, "dump of 4 GiB of zero pages");
    assert!(run.output.status.success(), "{}", run.stderr());
    let report: serde_json::Value = serde_json::from_slice(&run.output.stdout).unwrap();
    let bytes = report["bytes"].as_u64().unwrap();
    let data = report["data_bytes"].as_u64().unwrap();
    let holes = report["hole_bytes"].as_u64().unwrap();
    assert_eq!(std::fs::metadata(&dump).unwrap().len(), bytes);
    assert_eq!(data + holes, bytes);
    assert!(holes >= zeros && data < 8 << 20, "{report}");
    assert!(
        allocated(&dump) <= data + (1 << 20),
        "{} on disk",
        allocated(&dump)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dump).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

// ---- memory: the core's NT_FILE note (issue 20.3) ----

#[test]
fn the_file_note_of_a_core_is_capped_like_the_kernels() {
    // 262,000 one-page mappings of a file with a 4,000-byte path: a 1 GiB NT_FILE uncapped.
    let images = crate::support::hostile_inputs::file_note_images(262_000, 4000);
    let dir = forged(&images);
    let cores = tempfile::tempdir().unwrap();
    let run = run_measured(
        &["coredump", path(dir.path()), "--dir", path(cores.path())],
        120,
    );
    run.within(256, 60.0, "262,000 mappings of a 4 KiB path");
    let stderr = run.stderr();
    assert!(run.output.status.success(), "{stderr}");
    let listed =
        regex::Regex::new(r"NT_FILE lists (\d+) of (\d+) file mappings \(its 4 MiB limit").unwrap();
    let caps = listed
        .captures(&stderr)
        .unwrap_or_else(|| panic!("{stderr}"));
    let (shown, total): (u64, u64) = (caps[1].parse().unwrap(), caps[2].parse().unwrap());
    assert!(total >= 262_000 && shown < 1100 && shown > 1000, "{stderr}");
    assert!(
        stderr.contains("the KUBECTL-CHECKPOINT note lists"),
        "the absent ranges are capped too: {stderr}"
    );
    let core = cores.path().join("core.24390");
    let len = std::fs::metadata(&core).unwrap().len();
    assert!(len < 32 << 20, "a core of {len} bytes");
}

/// `pagemap-PID.img` of `dir` with its head naming `pages_id` instead (the runs kept).
fn repoint_pagemap(dir: &Path, pid: u32, pages_id: u32) {
    let name = format!("pagemap-{pid}.img");
    let bytes = std::fs::read(dir.join(&name)).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(&IMG_COMMON.to_le_bytes());
    out.extend_from_slice(&Magic::Pagemap.value().to_le_bytes());
    for entry in checkpoint_images::entries(&name, &bytes).unwrap() {
        let entry = entry.unwrap();
        let payload = if entry.index == 0 {
            PagemapHead { pages_id }.encode_to_vec()
        } else {
            entry.payload.to_vec()
        };
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&payload);
    }
    std::fs::write(dir.join(&name), out).unwrap();
}

/// CRIU writes one pages file per pagemap: pagemaps that name a pages file another pagemap
/// already named would make one stored page count (and be read, scanned, written into cores)
/// once per claim. The first claim stands; each later one makes that process's memory
/// unavailable, named, and the rest is reported (exit 1).
#[test]
fn a_pages_file_claimed_twice_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let tree = fixtures().join("criu-4.2/tree");
    for entry in std::fs::read_dir(&tree).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let head = |pid: u32| -> u32 {
        let bytes = std::fs::read(dir.path().join(format!("pagemap-{pid}.img"))).unwrap();
        let first = checkpoint_images::entries("pagemap", &bytes)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        PagemapHead::decode(first.payload).unwrap().pages_id
    };
    // The tree fixture: tree.sh 24391 -> 24393, 24394 -> 24395, each with its own pages file.
    let root_pages = head(24391);
    for pid in [24393, 24394, 24395] {
        assert_ne!(head(pid), root_pages);
        repoint_pagemap(dir.path(), pid, root_pages);
    }
    let dir = path(dir.path());
    let run = run_measured(&["analyze", "--local", dir, "--memory", "-o", "json"], 20);
    assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    let stderr = run.stderr();
    for pid in [24393, 24394, 24395] {
        assert!(
            stderr.contains(&format!("pid {pid}"))
                && stderr.contains(&format!(
                    "pages-{root_pages}.img: already the pages file of pid 24391"
                )),
            "{stderr}"
        );
    }
    let summaries: serde_json::Value = serde_json::from_slice(&run.output.stdout).unwrap();
    let summaries = summaries.as_array().unwrap();
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert_eq!(summaries[0]["pid"], 24391);
    // The search reads the file once, for its owner: CHILD_A's marker (pages-2.img in the real
    // dump) is nowhere now, and the root's search is whole.
    let run = run_measured(
        &[
            "analyze",
            "--local",
            dir,
            "--search",
            "CHILD_A_MARKER_4242",
            "-o",
            "json",
        ],
        20,
    );
    assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    let reports: serde_json::Value = serde_json::from_slice(&run.output.stdout).unwrap();
    assert_eq!(reports[0]["matches"].as_array().unwrap().len(), 0);
}

#[test]
fn unreadable_argument_and_environment_areas_name_mm_image_and_area() {
    let mut mm: Vec<MmEntry> = original("mm-24390.img");
    // a reversed argument area, and an environment area nowhere in the process's memory
    let (arg_start, arg_end) = (mm[0].mm_arg_end, mm[0].mm_arg_start);
    mm[0].mm_arg_start = arg_start;
    mm[0].mm_arg_end = arg_end;
    mm[0].mm_env_start = 0x1000;
    mm[0].mm_env_end = 0x1010;
    let dir = forged(&[("mm-24390.img", encode_image(&mm))]);
    let dir = path(dir.path());
    let run = run_measured(
        &[
            "analyze",
            "--local",
            dir,
            "--cmdline",
            "--env",
            "-o",
            "json",
        ],
        20,
    );
    let stderr = run.stderr();
    assert_eq!(run.output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "mm-24390.img: the argument area {arg_start:#x}..{arg_end:#x}: it ends before it starts"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("mm-24390.img: the environment area 0x1000..0x1010: ")
            && stderr.contains("address 0x1000 is not in the checkpoint's pages"),
        "{stderr}"
    );
}

#[test]
fn a_missing_image_is_named_with_the_image_and_field_that_name_it() {
    let memory = "{dir}: pid 24390: its memory cannot be read: {dir}: pages-1.img: missing from \
                  the checkpoint, though pagemap-24390.img (pages_id 1) names it";
    // the search of the one process fails: nothing was searched, exit 2, still named
    for (missing, args, code, said) in [
        (
            "fdinfo-2.img",
            vec!["--files"],
            1,
            "pid 24390: files cannot be read: {dir}: fdinfo-2.img: missing from the checkpoint, \
             though ids-24390.img (files_id 2) names it",
        ),
        ("pages-1.img", vec!["--memory"], 1, memory),
        ("pages-1.img", vec!["--search", "KEY"], 2, memory),
    ] {
        let dir = forged(&[]);
        std::fs::remove_file(dir.path().join(missing)).unwrap();
        let dir = path(dir.path());
        let mut argv = vec!["analyze", "--local", dir];
        argv.extend(args);
        let run = run_measured(&argv, 20);
        let stderr = run.stderr();
        assert_eq!(run.output.status.code(), Some(code), "{missing}: {stderr}");
        let said = said.replace("{dir}", dir);
        assert!(stderr.contains(&said), "{missing}: {said} not in {stderr}");
        assert_eq!(stderr.matches("pid 24390").count(), 1, "{stderr}");
    }
}

//! End-to-end tests of `analyze --search/--search-regex/--memory/--dump-memory/--hexdump` on the
//! real fixtures and on generated checkpoints.
//!
//! Every expected address is computed independently of the crate: the test finds the string in
//! the raw `pages-N.img` bytes (like `grep -boa`), decodes the pagemap by hand (its own varint
//! reader, page count from field 5 else field 2) and maps each file offset back to a virtual
//! address; where crit's decode of the pagemap is in `expected/`, the hand decoding is checked
//! against it first.

use crate::support::memgen;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use checkpoint_forensics::memory::report::{
    DumpReport, HexdumpReport, MemorySummary, SearchReport,
};
use checkpoint_model::archive::Checkpoint;
use checkpoint_model::dump::Dump;

const PAGE: u64 = 4096;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kubectl-checkpoint")
}

fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn search_json(input: &Path, extra: &[&str]) -> SearchReport {
    let input = input.to_str().expect("utf-8 path");
    let mut args = vec!["analyze", "--local", input, "-o", "json"];
    args.extend_from_slice(extra);
    let mut reports: Vec<SearchReport> = serde_json::from_str(&run_ok(&args)).expect("search JSON");
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

// ---- an independent pagemap decoder ------------------------------------------------------

fn varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = bytes[*pos];
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

/// (vaddr, nr_pages, flags) of one pagemap entry.
type HandRun = (u64, u64, u64);

/// The varint fields of each entry of an image with two magic words (IMG_COMMON + type):
/// u32-length-framed protobuf messages. Length-delimited fields are skipped.
fn hand_entries(image: &[u8]) -> Vec<BTreeMap<u64, u64>> {
    let mut pos = 8;
    let mut entries = Vec::new();
    while pos < image.len() {
        let len = u32::from_le_bytes(image[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4;
        let end = pos + len;
        let mut fields = BTreeMap::new();
        while pos < end {
            let key = varint(image, &mut pos);
            match key & 7 {
                0 => {
                    fields.entry(key >> 3).or_insert(varint(image, &mut pos));
                }
                2 => {
                    let skip = varint(image, &mut pos) as usize;
                    pos += skip;
                }
                other => panic!("unexpected wire type {other}"),
            }
        }
        entries.push(fields);
    }
    entries
}

/// The pids of a `pstree.img`.
fn hand_pids(image: &[u8]) -> Vec<u32> {
    hand_entries(image).iter().map(|e| e[&1] as u32).collect()
}

/// Decodes a pagemap image: the pages id and the runs.
fn hand_pagemap(image: &[u8]) -> (u64, Vec<HandRun>) {
    let entries = hand_entries(image);
    let pages_id = entries[0][&1];
    let runs = entries[1..]
        .iter()
        .map(|f| {
            let nr = f
                .get(&5)
                .copied()
                .filter(|&n| n != 0)
                .unwrap_or(f.get(&2).copied().unwrap_or(0));
            (f[&1], nr, f.get(&4).copied().unwrap_or(0))
        })
        .collect();
    (pages_id, runs)
}

/// Checks the hand decoding against crit's JSON decode of the same pagemap.
fn check_against_crit(runs: &[HandRun], crit_json: &Path) {
    let text = std::fs::read_to_string(crit_json).expect("crit json");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = value["entries"].as_array().unwrap();
    assert_eq!(entries.len(), runs.len() + 1, "{}", crit_json.display());
    for (entry, run) in entries[1..].iter().zip(runs) {
        let vaddr = u64::from_str_radix(
            entry["vaddr"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        let nr = entry["nr_pages"]
            .as_u64()
            .filter(|&n| n != 0)
            .or(entry["compat_nr_pages"].as_u64())
            .unwrap();
        let present = entry["flags"].as_str().unwrap_or("").contains("PE_PRESENT");
        assert_eq!((vaddr, nr, present), (run.0, run.1, run.2 & 4 != 0));
    }
}

/// Virtual addresses of the non-overlapping occurrences of `needle` in `pages` (in file order,
/// like `grep -oba`), mapped through `runs`; `None` for an occurrence whose bytes are not
/// contiguous in memory (it spans the file edge of two runs that are not adjacent in memory).
fn grep_addresses(pages: &[u8], runs: &[HandRun], needle: &[u8]) -> Vec<Option<u64>> {
    // (file offset, vaddr, len) of each present run, in file order.
    let mut present = Vec::new();
    let mut offset = 0u64;
    for &(vaddr, nr, flags) in runs {
        if flags & 4 != 0 {
            present.push((offset, vaddr, nr * PAGE));
            offset += nr * PAGE;
        }
    }
    assert_eq!(
        offset,
        pages.len() as u64,
        "present pages fill the pages file"
    );
    let to_vaddr = |off: u64| {
        present
            .iter()
            .find(|(o, _, len)| (*o..o + len).contains(&off))
            .map(|(o, v, _)| v + (off - o))
            .unwrap()
    };
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(idx) = memchr::memmem::find(&pages[pos..], needle) {
        let start = (pos + idx) as u64;
        let last = start + needle.len() as u64 - 1;
        let (first_v, last_v) = (to_vaddr(start), to_vaddr(last));
        out.push((last_v - first_v == last - start).then_some(first_v));
        pos += idx + needle.len();
    }
    out
}

/// pid -> (pagemap runs, pages bytes), from an image directory.
fn dir_memory(dir: &Path, pids: &[u32]) -> BTreeMap<u32, (Vec<HandRun>, Vec<u8>)> {
    pids.iter()
        .map(|&pid| {
            let (pages_id, runs) =
                hand_pagemap(&std::fs::read(dir.join(format!("pagemap-{pid}.img"))).unwrap());
            let pages = std::fs::read(dir.join(format!("pages-{pages_id}.img"))).unwrap();
            (pid, (runs, pages))
        })
        .collect()
}

/// pid -> (pagemap runs, pages bytes) of the processes of `pstree.img`, from a plain, gzip or
/// zstd tar archive.
fn archive_memory(path: &Path) -> BTreeMap<u32, (Vec<HandRun>, Vec<u8>)> {
    let raw = std::fs::read(path).unwrap();
    let data = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::decode_all(&raw[..]).unwrap()
    } else {
        raw
    };
    let mut members = BTreeMap::new();
    for entry in tar::Archive::new(&data[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if let Some(image) = name.strip_prefix("checkpoint/") {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            members.insert(image.to_owned(), bytes);
        }
    }
    hand_pids(&members["pstree.img"])
        .iter()
        .map(|&pid| {
            let (pages_id, runs) = hand_pagemap(&members[&format!("pagemap-{pid}.img")]);
            (
                pid,
                (runs, members[&format!("pages-{pages_id}.img")].clone()),
            )
        })
        .collect()
}

/// Asserts that the search report holds exactly the in-memory occurrences found by hand, per
/// pid, at the same addresses, and returns the number of hits.
fn assert_hits_match(
    report: &SearchReport,
    memory: &BTreeMap<u32, (Vec<HandRun>, Vec<u8>)>,
    needle: &str,
) -> usize {
    let mut total = 0;
    for (&pid, (runs, pages)) in memory {
        let want: Vec<u64> = grep_addresses(pages, runs, needle.as_bytes())
            .into_iter()
            .flatten()
            .collect();
        let mut got: Vec<u64> = report
            .matches
            .iter()
            .filter(|h| h.pid == pid)
            .map(|h| h.vaddr)
            .collect();
        let mut want_sorted = want.clone();
        got.sort_unstable();
        want_sorted.sort_unstable();
        assert_eq!(got, want_sorted, "pid {pid}: addresses of {needle}");
        total += got.len();
    }
    for hit in &report.matches {
        assert_eq!(hit.matched, needle);
        assert_eq!(hit.address, format!("{:#x}", hit.vaddr));
        assert!(hit.context.contains(needle), "{hit:?}");
    }
    assert_eq!(report.matches.len(), total);
    total
}

// ---- fixtures ------------------------------------------------------------------------------

#[test]
fn py_secret_four_hits_at_true_addresses() {
    let dir = fixture("criu-4.2/py");
    let memory = dir_memory(&dir, &[24390]);
    check_against_crit(
        &memory[&24390].0,
        &fixture("expected/crit-4.2/criu-4.2/py/pagemap-24390.img.json"),
    );
    let report = search_json(&dir, &["--search", "RANDOM_1432_KEY", "-C", "8"]);
    assert_eq!(assert_hits_match(&report, &memory, "RANDOM_1432_KEY"), 4);
    assert!(report
        .matches
        .iter()
        .all(|h| h.pid == 24390 && h.command == "python3"));
    let held: Vec<_> = report
        .matches
        .iter()
        .filter(|h| h.context.contains("BYTES_RANDOM_1432_KEY_HELD"))
        .collect();
    assert_eq!(held.len(), 1, "one hit inside BYTES_RANDOM_1432_KEY_HELD");
    // The heap VMA is mm_start_brk..mm_brk (0x735a000..0x7443000 per crit's mm decode).
    for hit in &report.matches {
        let in_heap = (0x735a000..0x7443000).contains(&hit.vaddr);
        assert_eq!(hit.vma == "[heap]", in_heap, "{hit:?}");
        assert!(hit.pages_offset < 3928064);
    }
    assert!(report.matches.iter().any(|h| h.vma == "[heap]"));
    assert_eq!(report.processes.len(), 1);
    assert_eq!(report.processes[0].matches, 4);
    assert_eq!(report.processes[0].bytes, 3928064);
}

fn tree_markers(version: &str) {
    let dir = fixture(&format!("criu-{version}/tree"));
    let pids = [24391, 24393, 24394, 24395];
    let memory = dir_memory(&dir, &pids);
    for pid in pids {
        check_against_crit(
            &memory[&pid].0,
            &fixture(&format!(
                "expected/crit-4.2/criu-{version}/tree/pagemap-{pid}.img.json"
            )),
        );
    }
    for (marker, owner) in [
        ("CHILD_A_MARKER_4242", 24393),
        ("CHILD_B_MARKER_4242", 24394),
    ] {
        let report = search_json(&dir, &["--search", marker]);
        assert_eq!(
            assert_hits_match(&report, &memory, marker),
            3024,
            "{version} {marker}"
        );
        assert!(report
            .matches
            .iter()
            .all(|h| h.pid == owner && h.command == "python3"));
        let counts: Vec<(u32, u64)> = report
            .processes
            .iter()
            .map(|p| (p.pid, p.matches))
            .collect();
        let want: Vec<(u32, u64)> = pids
            .iter()
            .map(|&p| (p, if p == owner { 3024 } else { 0 }))
            .collect();
        assert_eq!(counts, want);
    }
    // --pid limits the search; a regex finds both markers.
    let report = search_json(
        &dir,
        &["--search-regex", "CHILD_[AB]_MARKER_4242", "--pid", "24394"],
    );
    assert_eq!(report.matches.len(), 3024);
    assert!(report
        .matches
        .iter()
        .all(|h| h.matched == "CHILD_B_MARKER_4242"));
    let report = search_json(&dir, &["--search-regex", "CHILD_[AB]_MARKER_4242"]);
    assert_eq!(report.matches.len(), 6048);
}

#[test]
fn tree_markers_criu_4_2() {
    tree_markers("4.2");
}

#[test]
fn tree_markers_criu_4_1() {
    tree_markers("4.1");
}

#[test]
fn crio_archive_secret_two_hits() {
    let tar =
        fixture("crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar");
    let memory = archive_memory(&tar);
    assert_eq!(memory.keys().copied().collect::<Vec<_>>(), vec![27426]);
    check_against_crit(
        &memory[&27426].0,
        &fixture("expected/crit-4.2/crio/pagemap-27426.img.json"),
    );
    let report = search_json(&tar, &["--search", "RANDOM_1432_KEY"]);
    assert_eq!(assert_hits_match(&report, &memory, "RANDOM_1432_KEY"), 2);
    assert!(report
        .matches
        .iter()
        .all(|h| h.pid == 27426 && h.command == "python3"));
}

#[test]
fn podman_archives_container_secret() {
    // The gzip archive holds stale images of a pid 9 that its pstree.img does not list.
    let archives = [
        ("ckpt-image-plain.tar", [1, 9]),
        ("ckpt-image-gzip.tar.gz", [1, 11]),
        ("ckpt-rootfs-zstd.tar", [1, 9]),
    ];
    for (name, want_pids) in archives {
        let path = fixture(&format!("podman/{name}"));
        let memory = archive_memory(&path);
        let pids: Vec<u32> = memory.keys().copied().collect();
        assert_eq!(pids, want_pids.to_vec(), "{name}");
        if name == "ckpt-image-plain.tar" {
            for pid in [1, 9] {
                check_against_crit(
                    &memory[&pid].0,
                    &fixture(&format!(
                        "expected/crit-4.2/podman/ckpt-image-plain/pagemap-{pid}.img.json"
                    )),
                );
            }
        }
        let report = search_json(&path, &["--search", "CONTAINER_SECRET_5150"]);
        let hits = assert_hits_match(&report, &memory, "CONTAINER_SECRET_5150");
        assert!(
            hits >= 3,
            "{name}: the secret is in both processes' environments and sh's heap"
        );
        assert!(
            report
                .matches
                .iter()
                .any(|h| h.context.contains("SECRET=CONTAINER_SECRET_5150")),
            "{name}"
        );
        let pids: Vec<u32> = report.processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, want_pids.to_vec(), "{name}");
        for pid in want_pids {
            assert!(
                report
                    .matches
                    .iter()
                    .any(|h| h.pid == pid && h.vma == "[stack]"),
                "{name}: pid {pid} has the secret in its environment on the stack"
            );
        }
    }
}

#[test]
fn argv_and_environment_by_address() {
    let dump = Dump::load(Checkpoint::open(&fixture("criu-4.2/py")).unwrap()).unwrap();
    let strings = dump.strings(24390).unwrap();
    assert_eq!(
        strings.cmdline.as_ref().unwrap().args,
        vec!["python3", "/srv/app/bin/secret.py"]
    );
    let tar =
        fixture("crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar");
    let dump = Dump::load(Checkpoint::open(&tar).unwrap()).unwrap();
    let memory = dump.memory(27426).unwrap();
    let strings = dump.strings(27426).unwrap();
    let cmdline = strings.cmdline.as_ref().unwrap();
    assert_eq!(
        cmdline.args,
        vec!["/usr/bin/python3", "-u", "/app/counters.py"]
    );
    assert!(!cmdline.retitled);
    let env: Vec<String> = strings
        .environ
        .as_ref()
        .unwrap()
        .iter()
        .map(|string| string.text())
        .collect();
    assert!(
        env.contains(&"HOSTNAME=counters-857d7978fd-jnkck".to_owned()),
        "{env:?}"
    );
    assert!(
        env.contains(&"KUBERNETES_SERVICE_HOST=10.96.0.1".to_owned()),
        "{env:?}"
    );
    // Every present stretch lies in one VMA, and the stretches add up to the pages file.
    let total: u64 = memory
        .stretches()
        .iter()
        .map(|stretch| {
            let vma = memory
                .layout()
                .vma_at(stretch.vaddr)
                .expect("run inside a VMA");
            assert!(vma.start <= stretch.vaddr && stretch.end() <= vma.end);
            stretch.len
        })
        .sum();
    assert_eq!(total, 2218 * PAGE);
}

#[test]
fn memory_summary_counts() {
    let tar =
        fixture("crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar");
    let out = run_ok(&[
        "analyze",
        "--local",
        tar.to_str().unwrap(),
        "--memory",
        "-o",
        "json",
    ]);
    let rows: Vec<MemorySummary> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].pid, rows[0].command.as_str()), (27426, "python3"));
    assert_eq!(rows[0].vmas, 79);
    assert_eq!(rows[0].vma_bytes, 25_178_112);
    assert_eq!(rows[0].present_bytes, 2218 * PAGE);
    let table = run_ok(&[
        "analyze",
        "--local",
        fixture("criu-4.2/tree").to_str().unwrap(),
        "--memory",
    ]);
    assert!(table.starts_with("PID"), "{table}");
    assert_eq!(table.lines().count(), 5);
}

#[test]
fn dump_memory_writes_present_pages_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("mem.bin");
    let dir = fixture("criu-4.2/py");
    let out = run_ok(&[
        "analyze",
        "--local",
        dir.to_str().unwrap(),
        "--pid",
        "24390",
        "--dump-memory",
        out_path.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let report: DumpReport = serde_json::from_str(&out).unwrap();
    let meta = std::fs::metadata(&out_path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // Present runs in address order are exactly the pages file (CRIU writes them in that order).
    let dumped = std::fs::read(&out_path).unwrap();
    let pages = std::fs::read(dir.join("pages-1.img")).unwrap();
    assert!(dumped == pages, "dump differs from the present pages");
    assert_eq!(report.bytes, pages.len() as u64);
    // The map agrees with the hand-decoded pagemap: every present run lies in one range, at the
    // file offset the range gives.
    let (_, runs) = hand_pagemap(&std::fs::read(dir.join("pagemap-24390.img")).unwrap());
    let mut offset = 0;
    for (vaddr, nr, flags) in runs {
        if flags & 4 == 0 {
            continue;
        }
        let range = report
            .ranges
            .iter()
            .find(|r| r.vaddr <= vaddr && vaddr < r.vaddr + r.len)
            .unwrap();
        assert_eq!(range.file_offset + (vaddr - range.vaddr), offset);
        offset += nr * PAGE;
    }
    assert_eq!(
        report.ranges.iter().map(|r| r.len).sum::<u64>(),
        pages.len() as u64
    );
}

#[test]
fn hexdump_shows_bytes_and_holes() {
    let dir = fixture("criu-4.2/py");
    let report = search_json(&dir, &["--search", "RANDOM_1432_KEY"]);
    let hit = &report.matches[0];
    let range = format!("{}:{}", hit.address, 15);
    let out = run_ok(&[
        "analyze",
        "--local",
        dir.to_str().unwrap(),
        "--pid",
        "24390",
        "--hexdump",
        &range,
        "-o",
        "json",
    ]);
    let dump: HexdumpReport = serde_json::from_str(&out).unwrap();
    let ascii: String = dump.lines.iter().filter_map(|l| l.ascii.clone()).collect();
    assert_eq!(ascii, "RANDOM_1432_KEY");
    // 0xa85000..0xaca000 is an anonymous VMA; its pages around 0x1000000 are not present: the
    // heap starts at 0x735a000 and nothing is mapped at 0x2000000.
    let out = run_ok(&[
        "analyze",
        "--local",
        dir.to_str().unwrap(),
        "--pid",
        "24390",
        "--hexdump",
        "0x2000000:64",
    ]);
    assert!(
        out.contains("-- 64 bytes not in the checkpoint --"),
        "{out}"
    );
    let text = run_ok(&[
        "analyze",
        "--local",
        dir.to_str().unwrap(),
        "--pid",
        "24390",
        "--hexdump",
        &range,
    ]);
    assert!(text.contains("52 41 4e 44 4f 4d"), "{text}"); // "RANDOM"
}

#[test]
fn bad_pid_and_bad_input_give_clear_errors() {
    let dir = fixture("criu-4.2/tree");
    let out = run(&[
        "analyze",
        "--local",
        dir.to_str().unwrap(),
        "--search",
        "x",
        "--pid",
        "999",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no process with pid 999"), "{err}");
    assert!(err.contains("24391, 24393, 24394, 24395"), "{err}");

    let out = run(&[
        "analyze",
        "--local",
        dir.to_str().unwrap(),
        "--search-regex",
        "a*",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches the empty string"));

    // A truncated pages file: the error names the file and the offset, no panic.
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("criu-4.2/py")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let pages = tmp.path().join("pages-1.img");
    std::fs::File::options()
        .write(true)
        .open(&pages)
        .unwrap()
        .set_len(8192)
        .unwrap();
    let out = run(&[
        "analyze",
        "--local",
        tmp.path().to_str().unwrap(),
        "--search",
        "RANDOM",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pages-1.img:")
            && err.contains("at byte ")
            && err.contains("the file has 8192 bytes"),
        "{err}"
    );
}

// ---- generated checkpoints -----------------------------------------------------------------

/// The generator's spec for 4 MiB processes, its marker as text, and its plain tar in `tmp`.
fn generated_tar(tmp: &Path) -> (memgen::GenSpec, String, PathBuf, memgen::Generated) {
    let spec = memgen::GenSpec {
        bytes_per_process: 4 << 20,
        ..Default::default()
    };
    let marker = String::from_utf8(spec.marker.clone()).unwrap();
    let tar = tmp.join("gen.tar");
    let generated = memgen::write_tar(&tar, &spec).unwrap();
    (spec, marker, tar, generated)
}

#[test]
fn generated_checkpoint_markers_at_generated_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let (spec, marker, tar, generated) = generated_tar(tmp.path());
    let dir = tmp.path().join("gen-dir");
    let generated_dir = memgen::write_dir(&dir, &spec).unwrap();
    assert_eq!(generated.markers, generated_dir.markers);
    assert!(generated.markers.len() > 20);

    for input in [&tar, &dir] {
        let report = search_json(input, &["--search", &marker]);
        let got: Vec<(u32, u64, u64)> = report
            .matches
            .iter()
            .map(|h| (h.pid, h.vaddr, h.pages_offset))
            .collect();
        let mut want: Vec<(u32, u64, u64)> = generated
            .markers
            .iter()
            .map(|m| (m.pid, m.vaddr, m.pages_offset))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort_unstable();
        want.sort_unstable();
        assert_eq!(got_sorted, want, "{}", input.display());
        assert!(report.matches.iter().all(|h| h.command == "kcp-gen"));
        // The marker across the two heap runs is found and named [heap].
        assert_eq!(
            report.matches.iter().filter(|h| h.vma == "[heap]").count(),
            2,
            "one heap marker per process"
        );
    }
    // The decoys are in the pages files (grep sees them) but never reported.
    let memory = dir_memory(&dir, &[4000, 4001]);
    for (pid, (runs, pages)) in &memory {
        let all = grep_addresses(pages, runs, marker.as_bytes());
        assert_eq!(
            all.iter().filter(|a| a.is_none()).count(),
            1,
            "pid {pid}: one decoy"
        );
    }
    // argv of the generated processes is readable through the mm bounds.
    let dump = Dump::load(Checkpoint::open(&tar).unwrap()).unwrap();
    for (pid, argv) in &generated.argv {
        let strings = dump.strings(*pid).unwrap();
        assert_eq!(&strings.cmdline.as_ref().unwrap().args, argv);
    }
}

#[test]
fn one_broken_process_does_not_hide_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("criu-4.2/tree")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    // pid 24391 (tree.sh) reads pages-1.img.
    std::fs::File::options()
        .write(true)
        .open(tmp.path().join("pages-1.img"))
        .unwrap()
        .set_len(4096)
        .unwrap();
    let out = run(&[
        "analyze",
        "--local",
        tmp.path().to_str().unwrap(),
        "--search",
        "CHILD_A_MARKER_4242",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "partial failure");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pid 24391") && err.contains("pages-1.img"),
        "{err}"
    );
    let reports: Vec<SearchReport> = serde_json::from_slice(&out.stdout).unwrap();
    let report = &reports[0];
    assert_eq!(report.matches.len(), 3024);
    let broken = &report.processes[0];
    assert_eq!(broken.pid, 24391);
    assert!(broken
        .error
        .as_deref()
        .is_some_and(|e| e.contains("pages-1.img")));
}

#[test]
fn max_matches_stops_the_search_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, marker, tar, generated) = generated_tar(tmp.path());
    let total = generated.markers.len();
    assert!(total > 20);

    let all = search_json(&tar, &["--search", &marker]);
    assert_eq!((all.matches.len(), all.truncated), (total, false));
    let unlimited = search_json(&tar, &["--search", &marker, "--max-matches", "0"]);
    assert_eq!(
        (unlimited.matches.len(), unlimited.truncated),
        (total, false)
    );

    let five = search_json(&tar, &["--search", &marker, "--max-matches", "5"]);
    assert_eq!((five.matches.len(), five.truncated), (5, true));
    // The first five of the full search, and the later processes were not read.
    assert_eq!(five.matches, all.matches[..5]);
    assert_eq!(five.processes.len(), 1, "{:?}", five.processes);
    assert!(five.processes[0].bytes < all.processes[0].bytes);

    let out = run(&[
        "analyze",
        "--local",
        tar.to_str().unwrap(),
        "--search",
        &marker,
        "--max-matches",
        "5",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopped after 5 matches; more may exist (raise --max-matches"),
        "{stderr}"
    );
    // A header and five hits.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6);
}

//! `kubectl checkpoint coredump`: cores of every fixture process loaded by the real gdb.
//!
//! The expected values come from outside the code under test: register values from CRIU 4.2's
//! own `crit decode` output (tests/fixtures/expected), secret addresses from grepping the raw
//! pages file and walking the pagemap decode by hand.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const CRIO_TAR: &str =
    "crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar";

/// Messages that mean a malformed core (what CRIU's coredump tool makes gdb print).
const GDB_COMPLAINTS: [&str; 5] = [
    "segment extending past end of file",
    "malformed note",
    "Unexpected size of section",
    "Couldn't find general-purpose registers",
    "Region `.reg",
];

/// gdb's register names and the `user_x86_regs_entry` fields crit prints for them.
const REGISTERS: [(&str, &str); 24] = [
    ("rax", "ax"),
    ("rbx", "bx"),
    ("rcx", "cx"),
    ("rdx", "dx"),
    ("rsi", "si"),
    ("rdi", "di"),
    ("rbp", "bp"),
    ("rsp", "sp"),
    ("r8", "r8"),
    ("r9", "r9"),
    ("r10", "r10"),
    ("r11", "r11"),
    ("r12", "r12"),
    ("r13", "r13"),
    ("r14", "r14"),
    ("r15", "r15"),
    ("rip", "ip"),
    ("eflags", "flags"),
    ("cs", "cs"),
    ("ss", "ss"),
    ("ds", "ds"),
    ("es", "es"),
    ("fs_base", "fs_base"),
    ("gs_base", "gs_base"),
];

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn expected_json(rel: &str) -> Value {
    let path = fixture(&format!("expected/crit-4.2/{rel}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// crit prints some numbers as "0x..." strings and others as integers.
fn num(value: &Value) -> u64 {
    match value {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        other => panic!("not a number: {other}"),
    }
}

fn coredump(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .arg("coredump")
        .args(args)
        .output()
        .unwrap()
}

fn gdb(core: &Path, commands: &[&str]) -> String {
    let mut cmd = Command::new("gdb");
    cmd.args(["--batch", "-nx", "-ex", "set debuginfod enabled off"]);
    for c in commands {
        cmd.args(["-ex", c]);
    }
    let out = cmd.arg("--core").arg(core).output().expect("gdb runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for complaint in GDB_COMPLAINTS {
        assert!(
            !text.contains(complaint),
            "gdb on {}: {complaint}\n{text}",
            core.display()
        );
    }
    text
}

/// `info registers` lines: name, hex value, natural value.
fn gdb_registers(text: &str) -> Vec<(String, u64)> {
    let re = regex::Regex::new(r"(?m)^([a-z0-9_]+)\s+0x([0-9a-f]+)\s").unwrap();
    re.captures_iter(text)
        .map(|c| (c[1].to_string(), u64::from_str_radix(&c[2], 16).unwrap()))
        .collect()
}

/// `info threads` rows: the LWP ids.
fn gdb_threads(text: &str) -> Vec<u64> {
    let re = regex::Regex::new(r"(?m)^\*?\s+\d+\s+(?:LWP|Thread \S+ \(LWP) (\d+)").unwrap();
    re.captures_iter(text)
        .map(|c| c[1].parse().unwrap())
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Writes the cores of `input` and checks each process with gdb against `expected(image)`, the
/// crit decode of `pstree.img` or `core-PID.img`.
fn check_fixture(input: &Path, expected: impl Fn(&str) -> Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = coredump(&[
        input.to_str().unwrap(),
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "coredump {}: {stderr}",
        input.display()
    );

    let pstree = expected("pstree.img");
    let entries = pstree["entries"].as_array().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected_names: Vec<String> = entries
        .iter()
        .map(|e| format!("core.{}", num(&e["pid"])))
        .collect();
    expected_names.sort();
    assert_eq!(
        names, expected_names,
        "exactly one core per process, nothing else"
    );

    for entry in entries {
        let pid = num(&entry["pid"]);
        let core = dir.path().join(format!("core.{pid}"));
        assert_eq!(mode(&core), 0o600, "{}", core.display());
        let text = gdb(
            &core,
            &[
                "info registers",
                "info registers fs_base gs_base",
                "info threads",
            ],
        );
        let registers = gdb_registers(&text);
        let core_image = expected(&format!("core-{pid}.img"));
        let gpregs = &core_image["entries"][0]["thread_info"]["gpregs"];
        for (gdb_name, crit_name) in REGISTERS {
            let shown = registers
                .iter()
                .find(|(n, _)| n == gdb_name)
                .unwrap_or_else(|| panic!("gdb shows no {gdb_name} for pid {pid}:\n{text}"))
                .1;
            assert_eq!(
                shown,
                num(&gpregs[crit_name]),
                "{gdb_name} of pid {pid} in {}",
                input.display()
            );
        }
        let threads: Vec<u64> = entry["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(num)
            .collect();
        assert_eq!(gdb_threads(&text), threads, "threads of pid {pid}:\n{text}");
    }
}

/// The stored crit 4.2 decodes of a fixture.
fn stored_decodes(dir: &'static str) -> impl Fn(&str) -> Value {
    move |image| expected_json(&format!("{dir}/{image}.json"))
}

/// Decodes `checkpoint/<image>` of a (possibly compressed) archive with the installed crit.
fn crit_decodes(archive: &'static str) -> impl Fn(&str) -> Value {
    move |image| {
        let bytes = std::fs::read(fixture(archive)).unwrap();
        let reader: Box<dyn std::io::Read + '_> = match bytes.get(..4) {
            Some([0x28, 0xb5, 0x2f, 0xfd]) => {
                Box::new(zstd::stream::read::Decoder::new(&bytes[..]).unwrap())
            }
            Some([0x1f, 0x8b, ..]) => Box::new(flate2::read::GzDecoder::new(&bytes[..])),
            _ => Box::new(&bytes[..]),
        };
        let mut tar = tar::Archive::new(reader);
        let member = format!("checkpoint/{image}");
        let mut contents = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap() == Path::new(&member) {
                std::io::Read::read_to_end(&mut entry, &mut contents).unwrap();
            }
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &contents).unwrap();
        let out = Command::new("crit")
            .args(["decode", "-i"])
            .arg(file.path())
            .output()
            .expect("crit runs");
        assert!(out.status.success(), "crit decode {member} of {archive}");
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

#[test]
fn criu_4_2_py_registers_and_threads() {
    check_fixture(&fixture("criu-4.2/py"), stored_decodes("criu-4.2/py"));
}

#[test]
fn criu_4_2_tree_registers_and_threads() {
    check_fixture(&fixture("criu-4.2/tree"), stored_decodes("criu-4.2/tree"));
}

#[test]
fn criu_4_1_tree_registers_and_threads() {
    check_fixture(&fixture("criu-4.1/tree"), stored_decodes("criu-4.1/tree"));
}

#[test]
fn crio_archive_registers_and_threads() {
    check_fixture(&fixture(CRIO_TAR), stored_decodes("crio"));
}

#[test]
fn podman_archive_registers_and_threads() {
    check_fixture(
        &fixture("podman/ckpt-image-plain.tar"),
        stored_decodes("podman/ckpt-image-plain"),
    );
}

#[test]
fn podman_zstd_archive_registers_and_threads() {
    check_fixture(
        &fixture("podman/ckpt-rootfs-zstd.tar"),
        crit_decodes("podman/ckpt-rootfs-zstd.tar"),
    );
}

#[test]
fn podman_gzip_archive_registers_and_threads() {
    check_fixture(
        &fixture("podman/ckpt-image-gzip.tar.gz"),
        crit_decodes("podman/ckpt-image-gzip.tar.gz"),
    );
}

/// The address of the first occurrence of `needle` in `pages`, found by walking the pagemap
/// decode: present runs are stored back to back in pagemap order.
fn secret_vaddr(pages: &[u8], pagemap: &Value, needle: &[u8]) -> u64 {
    let offset = pages
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the secret is in the pages file") as u64;
    let mut run_start = 0u64;
    for entry in pagemap["entries"].as_array().unwrap().iter().skip(1) {
        let flags = entry["flags"].as_str().unwrap_or_default();
        if !flags.contains("PE_PRESENT") {
            continue;
        }
        let nr_pages = entry.get("nr_pages").map(num).filter(|n| *n > 0);
        let nr_pages = nr_pages.unwrap_or_else(|| num(&entry["compat_nr_pages"]));
        let run_len = nr_pages * 4096;
        if offset < run_start + run_len {
            return num(&entry["vaddr"]) + (offset - run_start);
        }
        run_start += run_len;
    }
    panic!("offset {offset} is past the pagemap's runs");
}

fn check_secret(input: &Path, pages: &[u8], pagemap: &Value, pid: u64, secret: &str) {
    let vaddr = secret_vaddr(pages, pagemap, secret.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let pid_arg = pid.to_string();
    let out = coredump(&[
        input.to_str().unwrap(),
        "--pid",
        &pid_arg,
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let core = dir.path().join(format!("core.{pid}"));
    let text = gdb(&core, &[&format!("x/s {vaddr:#x}")]);
    assert!(
        text.contains(&format!("{vaddr:#x}:\t\"{secret}")),
        "x/s {vaddr:#x} in core.{pid}:\n{text}"
    );
}

#[test]
fn secret_is_at_its_address_in_the_py_core() {
    let pages = std::fs::read(fixture("criu-4.2/py/pages-1.img")).unwrap();
    let pagemap = expected_json("criu-4.2/py/pagemap-24390.img.json");
    check_secret(
        &fixture("criu-4.2/py"),
        &pages,
        &pagemap,
        24390,
        "RANDOM_1432_KEY",
    );
}

#[test]
fn secret_is_at_its_address_in_the_crio_core() {
    let mut archive = tar::Archive::new(std::fs::File::open(fixture(CRIO_TAR)).unwrap());
    let mut pages = Vec::new();
    for member in archive.entries().unwrap() {
        let mut member = member.unwrap();
        if member.path().unwrap() == Path::new("checkpoint/pages-1.img") {
            std::io::Read::read_to_end(&mut member, &mut pages).unwrap();
        }
    }
    let pagemap = expected_json("crio/pagemap-27426.img.json");
    check_secret(
        &fixture(CRIO_TAR),
        &pages,
        &pagemap,
        27426,
        "RANDOM_1432_KEY",
    );
}

/// Copies a fixture image directory so a test can break it.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn assert_fails_cleanly(input: &Path, extra: &[&str], names: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![input.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--dir", dir.path().to_str().unwrap()]);
    let out = coredump(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    for name in names {
        assert!(stderr.contains(name), "stderr names {name}: {stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing is left in --dir: {left:?}");
}

#[test]
fn truncated_core_image_fails_without_a_core() {
    let images = tempfile::tempdir().unwrap();
    copy_dir(&fixture("criu-4.2/py"), images.path());
    let core = images.path().join("core-24390.img");
    let len = std::fs::metadata(&core).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&core)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    assert_fails_cleanly(images.path(), &[], &["core-24390.img"]);
}

#[test]
fn missing_pages_file_fails_without_a_core() {
    let images = tempfile::tempdir().unwrap();
    copy_dir(&fixture("criu-4.2/py"), images.path());
    std::fs::remove_file(images.path().join("pages-1.img")).unwrap();
    assert_fails_cleanly(images.path(), &[], &["pages-1.img"]);
}

#[test]
fn truncated_pages_file_fails_without_a_core() {
    let images = tempfile::tempdir().unwrap();
    copy_dir(&fixture("criu-4.2/py"), images.path());
    let pages = images.path().join("pages-1.img");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pages)
        .unwrap()
        .set_len(4096 * 10 + 100)
        .unwrap();
    assert_fails_cleanly(images.path(), &[], &["pages-1.img", "41060"]);
}

#[test]
fn unknown_pid_is_refused() {
    assert_fails_cleanly(
        &fixture("criu-4.2/py"),
        &["--pid", "999"],
        &["999", "pstree.img"],
    );
}

/// The fixtures are single-threaded: a core written through the library with three threads
/// shows gdb three LWPs, main thread first, each with its own registers.
#[test]
fn gdb_sees_every_thread() {
    use checkpoint_forensics::coredump::image::{
        Arch, Backing, CoreImage, Mapping, PageRun, ProcessInfo, ThreadRegs, ThreadState,
        X86Fpregs, X86Regs,
    };
    use checkpoint_forensics::coredump::{write_core_file, PagesSource};

    let thread = |tid: u32| {
        let mut gpregs = [0u64; 27];
        gpregs[10] = u64::from(tid) * 3; // rax
        gpregs[16] = 0x1000_0000 + u64::from(tid); // rip
        gpregs[17] = 0x33; // cs
        gpregs[19] = 0x1000_1000; // rsp
        gpregs[20] = 0x2b; // ss
        ThreadState {
            tid,
            sigblocked: 0,
            regs: ThreadRegs::X86_64(Box::new(X86Regs {
                gpregs,
                fpregs: X86Fpregs::default(),
                xsave: None,
            })),
        }
    };
    let image = CoreImage {
        omitted_threads: 0,
        arch: Arch::X86_64,
        info: ProcessInfo {
            pid: 700,
            comm: "worker".into(),
            psargs: "worker --threads 3".into(),
            state: b'S',
            ..ProcessInfo::default()
        },
        threads: vec![thread(700), thread(701), thread(702)],
        auxv: vec![(6, 4096)],
        mappings: vec![Mapping {
            start: 0x1000_0000,
            end: 0x1000_2000,
            prot: 3,
            file: None,
            backing: Backing::AnonPrivate,
        }],
        runs: vec![PageRun {
            vaddr: 0x1000_1000,
            len: 4096,
            offset: 0,
            source: Some(0),
        }],
        runs_cut: false,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut pages = std::io::Cursor::new(b"THREADED_MARKER\0".repeat(256));
    let written = write_core_file(
        dir.path(),
        &image,
        &mut [PagesSource {
            reader: &mut pages,
            name: "pages-1.img",
            stored_file: false,
        }],
        &mut |_| {},
    )
    .unwrap();
    let text = gdb(
        &written.path,
        &[
            "info threads",
            "thread 3",
            "info registers rax rip",
            "x/s 0x10001010",
        ],
    );
    assert_eq!(gdb_threads(&text), [700, 701, 702], "{text}");
    let registers = gdb_registers(&text);
    assert!(registers.contains(&("rax".into(), 702 * 3)), "{text}");
    assert!(
        registers.contains(&("rip".into(), 0x1000_0000 + 702)),
        "{text}"
    );
    assert!(text.contains("0x10001010:\t\"THREADED_MARKER\""), "{text}");
    assert!(
        text.contains("Core was generated by `worker --threads 3'"),
        "{text}"
    );
}

#[test]
fn existing_cores_are_never_replaced_silently() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("criu-4.2/tree");
    let dir_arg = dir.path().to_str().unwrap();
    let out = coredump(&[input.to_str().unwrap(), "--dir", dir_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(!first.is_empty());
    let core = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&core, b"evidence").unwrap();
    let out = coredump(&[input.to_str().unwrap(), "--dir", dir_arg]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(" already exist; ") && err.contains("--overwrite to replace them"),
        "{err}"
    );
    assert_eq!(std::fs::read(&core).unwrap(), b"evidence");
    // One core in the way: said in the singular.
    let pid = core.rsplit('.').next().unwrap();
    let out = coredump(&[input.to_str().unwrap(), "--dir", dir_arg, "--pid", pid]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{core} already exists; cores are never replaced silently: pass --overwrite to replace it")),
        "{err}"
    );
    let out = coredump(&[input.to_str().unwrap(), "--dir", dir_arg, "--overwrite"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&core).unwrap(), b"evidence");
}

/// The contents scripts/fixtures/plan.py wrote to a mapped file: its filler lines, with the
/// marker at its offset.
fn planned_file(name: &str, size: usize, marker: &str, marker_offset: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0;
    while out.len() < size {
        out.extend_from_slice(
            format!("{name} filler line {n:05} ................................\n").as_bytes(),
        );
        n += 1;
    }
    out.truncate(size);
    out[marker_offset..marker_offset + marker.len()].copy_from_slice(marker.as_bytes());
    out
}

/// `(start, end, code)` of each range our KUBECTL-CHECKPOINT note lists.
type MissingRanges = Vec<(u64, u64, u64)>;

/// The `(vaddr, filesz)` of each `PT_LOAD`, and the ranges of our KUBECTL-CHECKPOINT note, read
/// from the core's bytes.
fn core_loads_and_missing(core: &[u8]) -> (Vec<(u64, u64)>, MissingRanges) {
    let u16_at = |o: usize| u16::from_le_bytes(core[o..o + 2].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(core[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(core[o..o + 8].try_into().unwrap());
    let phoff = u64_at(32) as usize;
    let mut phnum = u16_at(56) as usize;
    if phnum == 0xffff {
        phnum = u32_at(u64_at(40) as usize + 44) as usize;
    }
    let (mut loads, mut missing) = (Vec::new(), Vec::new());
    for i in 0..phnum {
        let p = phoff + i * 56;
        let (offset, vaddr, filesz) = (u64_at(p + 8) as usize, u64_at(p + 16), u64_at(p + 32));
        match u32_at(p) {
            1 => loads.push((vaddr, filesz)),
            4 => {
                let mut n = offset;
                while n < offset + filesz as usize {
                    let (namesz, descsz) = (u32_at(n) as usize, u32_at(n + 4) as usize);
                    let name = &core[n + 12..n + 12 + namesz - 1];
                    let desc = n + 12 + namesz.div_ceil(4) * 4;
                    if name == b"KUBECTL-CHECKPOINT" {
                        for r in 0..u64_at(desc) as usize {
                            let at = desc + 16 + r * 24;
                            missing.push((u64_at(at), u64_at(at + 8), u64_at(at + 16)));
                        }
                    }
                    n = desc + descsz.div_ceil(4) * 4;
                }
            }
            _ => {}
        }
    }
    (loads, missing)
}

#[test]
fn a_deleted_files_stored_contents_are_in_the_core_and_file_pages_are_left_to_the_file() {
    use crate::support::truth::{hex, load};
    let truth = load("wholetruth");
    let deleted = &truth["wholetruth"]["deleted_mapping"];
    let mapped = &truth["wholetruth"]["file_mapping"];
    let pid = deleted["pid"].as_u64().unwrap();
    let input = crate::support::truth::dump_dir("wholetruth");
    let dir = tempfile::tempdir().unwrap();
    let out = coredump(&[
        input.to_str().unwrap(),
        "--pid",
        &pid.to_string(),
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The summary names the stored contents and what is left to files.
    assert!(
        stderr.contains("12.0 KiB of it the stored contents of deleted files")
            && stderr.contains("left to their files (NT_FILE)"),
        "{stderr}"
    );
    let core = dir.path().join(format!("core.{pid}"));

    // The deleted file's marker, from ghost-file-1.img, at its address.
    let deleted_marker = deleted["marker"].as_str().unwrap();
    let deleted_at = hex(&deleted["marker_address"]);
    let mapped_marker = mapped["marker"].as_str().unwrap();
    let mapped_at = hex(&mapped["marker_address"]);
    let text = gdb(
        &core,
        &[
            &format!("x/s {deleted_at:#x}"),
            &format!("x/s {mapped_at:#x}"),
        ],
    );
    assert!(
        text.contains(&format!("{deleted_at:#x}:\t\"{deleted_marker}")),
        "{text}"
    );
    // mapped.bin's pages are in no pagemap: the core holds no byte of them (not zeros), so gdb
    // without the file cannot read them...
    assert!(
        text.contains(&format!(
            "{mapped_at:#x}:\t<error: Cannot access memory at address {mapped_at:#x}>"
        )),
        "{text}"
    );
    // ...and given the real file (rebuilt from the generator's plan, checked against the truth's
    // sha256), gdb reads the marker from it through NT_FILE.
    let size = mapped["size"].as_u64().unwrap() as usize;
    let contents = planned_file(
        "mapped.bin",
        size,
        mapped_marker,
        mapped["marker_offset"].as_u64().unwrap() as usize,
    );
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&contents)),
        mapped["sha256"].as_str().unwrap()
    );
    let sysroot = tempfile::tempdir().unwrap();
    let path = sysroot
        .path()
        .join(mapped["path"].as_str().unwrap().trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &contents).unwrap();
    let text = gdb_with_sysroot(sysroot.path(), &core, &format!("x/s {mapped_at:#x}"));
    assert!(
        text.contains(&format!("{mapped_at:#x}:\t\"{mapped_marker}")),
        "{text}"
    );

    // In the file itself: no PT_LOAD holds a byte of mapped.bin's range, which our note lists as
    // left to its file; the deleted file's range is a PT_LOAD with its bytes.
    let bytes = std::fs::read(&core).unwrap();
    let (loads, missing) = core_loads_and_missing(&bytes);
    let (start, end) = (hex(&mapped["start"]), hex(&mapped["end"]));
    assert!(
        loads
            .iter()
            .all(|&(vaddr, filesz)| filesz == 0 || vaddr + filesz <= start || vaddr >= end),
        "{loads:x?}"
    );
    assert!(missing.contains(&(start, end, 1)), "{missing:x?}");
    let (start, end) = (hex(&deleted["start"]), hex(&deleted["end"]));
    assert!(loads.contains(&(start, end - start)), "{loads:x?}");
}

#[test]
fn hexdump_shows_what_the_checkpoint_holds_and_no_invented_zeros() {
    use crate::support::truth::{hex, load};
    let truth = load("wholetruth");
    let deleted = &truth["wholetruth"]["deleted_mapping"];
    let mapped = &truth["wholetruth"]["file_mapping"];
    let input = crate::support::truth::dump_dir("wholetruth");
    let hexdump = |at: u64| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
            .args(["analyze", "--local"])
            .arg(&input)
            .args(["--pid", &deleted["pid"].to_string()])
            .args(["--hexdump", &format!("{at:#x}:32"), "-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let report = hexdump(hex(&deleted["marker_address"]));
    let text: String = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["ascii"].as_str().unwrap())
        .collect();
    assert_eq!(text, deleted["marker"].as_str().unwrap()[..32]);
    let report = hexdump(hex(&mapped["marker_address"]));
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{report}");
    assert!(
        lines[0]["hex"].is_null() && lines[0]["len"] == 32,
        "{report}"
    );
}

/// gdb on `core` with `sysroot` as the root of the files NT_FILE names.
fn gdb_with_sysroot(sysroot: &Path, core: &Path, command: &str) -> String {
    let out = Command::new("gdb")
        .args(["--batch", "-nx", "-ex", "set debuginfod enabled off"])
        .args(["-ex", &format!("set sysroot {}", sysroot.display())])
        .args(["-ex", &format!("core-file {}", core.display())])
        .args(["-ex", command])
        .output()
        .expect("gdb runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

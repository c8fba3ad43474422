//! `kubectl checkpoint diff OLD NEW`: two real CRIU 4.2 dumps of one tree taken seconds apart
//! (`diff-1`, `diff-2`) against `truth/diff.json` (what changed, read from /proc at each dump:
//! a process started and one ended, a file opened, memory written, a mapping added); a
//! checkpoint against itself; container archives built around those images whose metadata and
//! root file system changes differ; and broken input. Exit status as diff(1).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

use crate::support::archive_builder::{gzip, images_of, TarBuilder};
use crate::support::truth::{dump_dir, fixtures, hex, load as truth};
use crate::support::{measure, memgen};

#[derive(Debug, Deserialize)]
struct Report {
    old: String,
    new: String,
    metadata: Section<Value, FieldChange>,
    processes: Section<ProcessSummary, ProcessChange>,
    files: Section<FdSummary, FdChange>,
    sockets: Section<Value, Value>,
    memory: Memory,
    rootfs_diff: Section<RootfsEntry, RootfsChange>,
    #[serde(default)]
    not_compared: Vec<NotCompared>,
}

#[derive(Debug, Deserialize)]
struct Section<A, C> {
    added: Vec<A>,
    removed: Vec<A>,
    changed: Vec<C>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct FieldChange {
    field: String,
    old: Option<String>,
    new: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProcessSummary {
    pid: u64,
    ppid: u64,
    command: String,
    cmdline: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProcessChange {
    pid: u64,
}

#[derive(Debug, Deserialize)]
struct FdSummary {
    pid: u64,
    fd: u64,
    path: String,
}

#[derive(Debug, Deserialize)]
struct FdChange {
    pid: u64,
    fd: u64,
    changes: Vec<FieldChange>,
}

#[derive(Debug, Deserialize)]
struct Memory {
    added: Vec<Vma>,
    removed: Vec<Vma>,
    resized: Vec<Value>,
    changed: Vec<VmaChange>,
}

#[derive(Debug, Deserialize)]
struct Vma {
    pid: u64,
    start: String,
    end: String,
    perms: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct VmaChange {
    pid: u64,
    start: String,
    end: String,
    pages: u64,
    pages_changed: u64,
    #[serde(default)]
    changed_ranges: Vec<PageRange>,
}

#[derive(Debug, Deserialize)]
struct PageRange {
    start: String,
    end: String,
    pages: u64,
}

#[derive(Debug, Deserialize)]
struct RootfsEntry {
    path: String,
    kind: String,
    size: u64,
}

#[derive(Debug, Deserialize)]
struct RootfsChange {
    path: String,
    changes: Vec<FieldChange>,
}

#[derive(Debug, Deserialize)]
struct NotCompared {
    pid: Option<u64>,
    what: String,
    reason: String,
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn path(p: &Path) -> String {
    p.to_str().expect("UTF-8 path").to_owned()
}

/// `diff OLD NEW -o json [FLAGS]`: its exit code and report.
fn diff_json(old: &str, new: &str, flags: &[&str]) -> (Option<i32>, Report) {
    let mut args = vec!["diff", old, new, "-o", "json"];
    args.extend_from_slice(flags);
    let out = run(&args);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

/// A truth `cmdline` list joined as the report joins it.
fn joined(cmdline: &Value) -> String {
    cmdline
        .as_array()
        .expect("cmdline list")
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn two_dumps_of_one_tree_differ_as_proc_saw() {
    let truth = truth("diff");
    let (code, report) = diff_json(
        &path(&dump_dir("diff-1")),
        &path(&dump_dir("diff-2")),
        &["--memory"],
    );
    assert_eq!(code, Some(1), "differences exit 1");
    assert!(report.not_compared.is_empty(), "{:?}", report.not_compared);
    assert!(report.old.ends_with("diff-1") && report.new.ends_with("diff-2"));

    // Processes: the worker that ended, the worker that started, nothing else changed.
    for (key, got) in [
        ("added", &report.processes.added),
        ("removed", &report.processes.removed),
    ] {
        let want = truth["processes"][key].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "processes.{key}");
        for (got, want) in got.iter().zip(want) {
            assert_eq!(got.pid, want["pid"].as_u64().unwrap());
            assert_eq!(got.ppid, want["ppid"].as_u64().unwrap());
            assert_eq!(got.command, text(&want["comm"]));
            assert_eq!(
                got.cmdline.as_deref(),
                Some(joined(&want["cmdline"]).as_str())
            );
        }
    }
    let changed: BTreeSet<u64> = report.processes.changed.iter().map(|p| p.pid).collect();
    let want: BTreeSet<u64> = truth["processes"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(changed, want, "{:?}", report.processes.changed);

    // Descriptors: by pid and number, what /proc/PID/fd showed.
    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    let mut retargeted = BTreeSet::new();
    for per_pid in truth["fds"].as_array().unwrap() {
        let pid = per_pid["pid"].as_u64().unwrap();
        for fd in per_pid["added"].as_array().unwrap() {
            added.insert((pid, fd["fd"].as_u64().unwrap(), text(&fd["target"])));
        }
        for fd in per_pid["removed"].as_array().unwrap() {
            removed.insert((pid, fd["fd"].as_u64().unwrap(), text(&fd["target"])));
        }
        for fd in per_pid["changed"].as_array().unwrap() {
            retargeted.insert((pid, fd["fd"].as_u64().unwrap()));
        }
    }
    assert!(!added.is_empty(), "the truth has the opened file");
    let got: BTreeSet<(u64, u64, String)> = report
        .files
        .added
        .iter()
        .map(|f| (f.pid, f.fd, f.path.clone()))
        .collect();
    assert_eq!(got, added);
    let got: BTreeSet<(u64, u64, String)> = report
        .files
        .removed
        .iter()
        .map(|f| (f.pid, f.fd, f.path.clone()))
        .collect();
    assert_eq!(got, removed);
    let got: BTreeSet<(u64, u64)> = report
        .files
        .changed
        .iter()
        .filter(|f| f.changes.iter().any(|c| c.field == "path"))
        .map(|f| (f.pid, f.fd))
        .collect();
    assert_eq!(got, retargeted);
    let sockets_in_truth = added
        .iter()
        .chain(&removed)
        .filter(|(_, _, target)| target.starts_with("socket:"))
        .count();
    assert_eq!(
        report.sockets.added.len() + report.sockets.removed.len(),
        sockets_in_truth
    );

    // Memory: mappings added, removed, resized, and exactly the pages whose contents differ.
    let mut want_added = Vec::new();
    let mut want_removed = Vec::new();
    let mut want_resized = 0;
    let mut want_pages = BTreeSet::new();
    let mut want_vmas = BTreeSet::new();
    for per_pid in truth["vmas"].as_array().unwrap() {
        let pid = per_pid["pid"].as_u64().unwrap();
        for (list, out) in [("added", &mut want_added), ("removed", &mut want_removed)] {
            for vma in per_pid[list].as_array().unwrap() {
                out.push((
                    pid,
                    hex(&vma["start"]),
                    hex(&vma["end"]),
                    text(&vma["perms"]),
                    text(&vma["path"]),
                ));
            }
        }
        want_resized += per_pid["resized"].as_array().unwrap().len();
        for vma in per_pid["pages_changed"].as_array().unwrap() {
            want_vmas.insert((pid, hex(&vma["start"]), hex(&vma["end"])));
            for page in vma["pages"].as_array().unwrap() {
                want_pages.insert((pid, hex(page)));
            }
        }
    }
    assert!(!want_pages.is_empty() && !want_added.is_empty());
    let vmas = |list: &[Vma]| -> Vec<(u64, u64, u64, String, String)> {
        list.iter()
            .map(|v| {
                (
                    v.pid,
                    hex(&Value::from(v.start.clone())),
                    hex(&Value::from(v.end.clone())),
                    v.perms.clone(),
                    v.name.clone(),
                )
            })
            .collect()
    };
    for (got, want) in [
        (vmas(&report.memory.added), &want_added),
        (vmas(&report.memory.removed), &want_removed),
    ] {
        assert_eq!(got.len(), want.len(), "{got:?} {want:?}");
        for (got, want) in got.iter().zip(want.iter()) {
            assert_eq!(
                (got.0, got.1, got.2, &got.3),
                (want.0, want.1, want.2, &want.3)
            );
            // /proc/PID/maps leaves anonymous mappings unnamed.
            if !want.4.is_empty() {
                assert_eq!(got.4, want.4);
            }
        }
    }
    assert_eq!(report.memory.resized.len(), want_resized);
    let mut got_pages = BTreeSet::new();
    let mut got_vmas = BTreeSet::new();
    for vma in &report.memory.changed {
        let (start, end) = (
            hex(&Value::from(vma.start.clone())),
            hex(&Value::from(vma.end.clone())),
        );
        assert_eq!(vma.pages, (end - start) / 4096);
        if vma.pages_changed == 0 {
            continue;
        }
        got_vmas.insert((vma.pid, start, end));
        let mut count = 0;
        for range in &vma.changed_ranges {
            let (from, to) = (
                hex(&Value::from(range.start.clone())),
                hex(&Value::from(range.end.clone())),
            );
            assert_eq!(range.pages, (to - from) / 4096);
            count += range.pages;
            for page in (from..to).step_by(4096) {
                got_pages.insert((vma.pid, page));
            }
        }
        assert_eq!(count, vma.pages_changed);
    }
    assert_eq!(got_vmas, want_vmas);
    assert_eq!(got_pages, want_pages);

    // The markers: the one written between the dumps lies on a changed page, the one in the
    // new mapping inside an added mapping; the one written before both on an unchanged byte.
    for needle in truth["needles"].as_array().unwrap() {
        for hit in needle["new"].as_array().unwrap() {
            let pid = hit["pid"].as_u64().unwrap();
            let address = hex(&hit["address"]);
            let page = address - address % 4096;
            let in_old = needle["old"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["address"] == hit["address"]);
            let in_added = report.memory.added.iter().any(|v| {
                v.pid == pid
                    && hex(&Value::from(v.start.clone())) <= address
                    && address < hex(&Value::from(v.end.clone()))
            });
            if !in_old {
                assert!(
                    in_added || got_pages.contains(&(pid, page)),
                    "{}: {address:#x} is neither on a changed page nor in an added mapping",
                    needle["id"]
                );
            }
        }
    }
}

#[test]
fn a_checkpoint_has_no_differences_with_itself() {
    let podman = fixtures().join("podman/ckpt-image-gzip.tar.gz");
    for input in [
        dump_dir("diff-1"),
        dump_dir("model"),
        dump_dir("indicators"),
        podman,
    ] {
        let input = path(&input);
        let (code, report) = diff_json(&input, &input, &["--memory"]);
        assert_eq!(code, Some(0), "{input}: {report:?}");
        assert!(report.not_compared.is_empty(), "{input}");
        assert!(report.processes.added.is_empty() && report.processes.changed.is_empty());
        assert!(report.files.changed.is_empty() && report.memory.changed.is_empty());
        assert!(report.metadata.changed.is_empty() && report.rootfs_diff.changed.is_empty());
        let out = run(&["diff", &input, &input]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{input} -> {input}: no differences\n")
        );
    }
}

#[test]
fn tables_and_trees_name_every_difference() {
    let (old, new) = (path(&dump_dir("diff-1")), path(&dump_dir("diff-2")));
    let out = run(&["diff", &old, &new, "--memory"]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8(out.stdout).unwrap();
    for fact in [
        ": 8 differences\n",
        "\nprocesses\n",
        "added     17143   16613   batch     Alive   batch worker-b",
        "removed   16618   16613   batch     Alive   batch worker-a",
        "added    16613   3     REG    /srv/app/diff/journal.log",
        "added     16613   0x7e5a5b000000   0x7e5a5b002000   rw-p",
        "0x7e5a5a000000-0x7e5a5a001000",
        "\nchanged pages\n",
    ] {
        assert!(table.contains(fact), "{fact:?} not in\n{table}");
    }
    let out = run(&["diff", &old, &new, "-o", "tree"]);
    assert_eq!(out.status.code(), Some(1));
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.contains("\n    processes\n        added "), "{tree}");
    assert!(
        !tree.contains("changed pages"),
        "ranges only with --memory: {tree}"
    );
    let out = run(&["diff", &old, &new, "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let yaml: serde_json::Value = serde_yaml_ng::from_slice(&out.stdout).expect("YAML");
    assert_eq!(yaml["processes"]["added"][0]["pid"], 17143);
    let (_, json) = diff_json(&old, &new, &[]);
    assert!(json
        .memory
        .changed
        .iter()
        .all(|v| v.changed_ranges.is_empty()));
}

/// A CRI-O-like archive around the images of `images`, with this image, checkpoint time,
/// `rootfs-diff.tar` files and `deleted.files`.
fn archive(
    images: &Path,
    image: &str,
    checkpointed: &str,
    rootfs: &[(&str, &[u8])],
    deleted: &[&str],
) -> Vec<u8> {
    let config = format!(
        r#"{{"id":"6f1d","name":"k8s_batch_batch-7d9f_jobs_1_0","rootfsImageName":"{image}","runtime":"runc","createdTime":"2026-12-01T10:00:00Z","checkpointedTime":"{checkpointed}"}}"#
    );
    let spec = format!(
        r#"{{"ociVersion":"1.0.2","annotations":{{"io.container.manager":"cri-o","io.kubernetes.container.name":"batch","io.kubernetes.pod.name":"batch-7d9f","io.kubernetes.pod.namespace":"jobs","io.kubernetes.cri-o.ImageName":"{image}"}}}}"#
    );
    let mut files = TarBuilder::new();
    for (name, data) in rootfs {
        files.file(name, data);
    }
    let deleted = serde_json::to_vec(deleted).unwrap();
    let mut tar = TarBuilder::new();
    tar.file("config.dump", config.as_bytes())
        .file("spec.dump", spec.as_bytes())
        .dir("checkpoint/");
    for (name, bytes) in images_of(images) {
        tar.file(&format!("checkpoint/{name}"), &bytes);
    }
    tar.file("rootfs-diff.tar", &gzip(&files.finish()))
        .file("deleted.files", &deleted);
    tar.finish()
}

#[test]
fn metadata_and_root_file_system_changes() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.tar");
    let new = dir.path().join("new.tar.gz");
    std::fs::write(
        &old,
        archive(
            &dump_dir("diff-1"),
            "registry.example/jobs/batch:1.0",
            "2026-12-01T11:00:00Z",
            &[
                ("etc/batch.conf", b"level=info\n"),
                ("var/lib/batch/state", b"run 1\n"),
                ("tmp/gone.txt", b"bye\n"),
            ],
            &["etc/motd"],
        ),
    )
    .unwrap();
    std::fs::write(
        &new,
        gzip(&archive(
            &dump_dir("diff-2"),
            "registry.example/jobs/batch:1.1",
            "2026-12-01T11:00:09Z",
            &[
                ("etc/batch.conf", b"level=info\n"),
                ("var/lib/batch/state", b"run 2\n"),
                ("tmp/.x/payload", b"\x7fELF"),
            ],
            &["etc/motd", "usr/bin/ps"],
        )),
    )
    .unwrap();
    let (code, report) = diff_json(&path(&old), &path(&new), &[]);
    assert_eq!(code, Some(1));
    assert!(report.not_compared.is_empty(), "{:?}", report.not_compared);
    let changed = |field: &str| {
        report
            .metadata
            .changed
            .iter()
            .find(|c| c.field == field)
            .unwrap_or_else(|| panic!("{field}: {:?}", report.metadata))
    };
    assert_eq!(
        changed("image").old.as_deref(),
        Some("registry.example/jobs/batch:1.0")
    );
    assert_eq!(
        changed("image").new.as_deref(),
        Some("registry.example/jobs/batch:1.1")
    );
    assert_eq!(
        changed("checkpointed").new.as_deref(),
        Some("2026-12-01T11:00:09Z")
    );
    assert!(report
        .metadata
        .changed
        .iter()
        .all(|c| c.field != "pod" && c.field != "created"));
    assert!(report.metadata.added.is_empty() && report.metadata.removed.is_empty());
    assert!(report
        .metadata
        .changed
        .iter()
        .any(|c| c.field == "annotation io.kubernetes.cri-o.ImageName"));

    let entries = |list: &[RootfsEntry]| -> Vec<(String, String, u64)> {
        list.iter()
            .map(|e| (e.path.clone(), e.kind.clone(), e.size))
            .collect()
    };
    assert_eq!(
        entries(&report.rootfs_diff.added),
        vec![
            ("tmp/.x/payload".to_owned(), "file".to_owned(), 4),
            ("usr/bin/ps".to_owned(), "deleted".to_owned(), 0),
        ]
    );
    assert_eq!(
        entries(&report.rootfs_diff.removed),
        vec![("tmp/gone.txt".to_owned(), "file".to_owned(), 4)]
    );
    // Same size, other contents: told apart by the sha256.
    assert_eq!(report.rootfs_diff.changed.len(), 1);
    let state = &report.rootfs_diff.changed[0];
    assert_eq!(state.path, "var/lib/batch/state");
    assert_eq!(state.changes.len(), 1);
    assert_eq!(state.changes[0].field, "sha256");
    use sha2::Digest;
    assert_eq!(
        state.changes[0].new.as_deref(),
        Some(hex::encode(sha2::Sha256::digest(b"run 2\n")).as_str())
    );
    // The images are those of the real dumps: the same process facts as the directories.
    assert_eq!(report.processes.added[0].pid, 17143);
}

#[test]
fn broken_input_exits_2_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("notes.tar");
    std::fs::write(&garbage, b"not a checkpoint at all\n").unwrap();
    let good = path(&dump_dir("diff-1"));
    for args in [
        vec!["diff".to_owned(), path(&garbage), good.clone()],
        vec![
            "diff".to_owned(),
            good.clone(),
            path(&dir.path().join("missing.tar")),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(
            stderr.contains(args[1]) || stderr.contains(args[2]),
            "{stderr}"
        );
    }
    let out = run(&["diff", &good]);
    assert_eq!(out.status.code(), Some(2), "a missing NEW is a usage error");

    // A pages file cut short: that process's memory is not compared (exit 2), the rest is.
    let cut = dir.path().join("diff-2");
    std::fs::create_dir(&cut).unwrap();
    for entry in std::fs::read_dir(dump_dir("diff-2")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), cut.join(entry.file_name())).unwrap();
    }
    let pages = cut.join("pages-1.img");
    let len = std::fs::metadata(&pages).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pages)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let out = run(&["diff", &good, &path(&cut), "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: Report = serde_json::from_slice(&out.stdout).expect("the report is printed");
    assert_eq!(report.processes.added.len(), 1, "the rest is compared");
    let memory: Vec<&NotCompared> = report
        .not_compared
        .iter()
        .filter(|n| n.what == "memory")
        .collect();
    assert_eq!(memory.len(), 1, "{:?}", report.not_compared);
    assert_eq!(memory[0].pid, Some(16613));
    assert!(
        memory[0].reason.contains("pages-1.img"),
        "{}",
        memory[0].reason
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pid 16613: memory not compared: "),
        "{stderr}"
    );
}

/// A generated pair: the same processes and mappings, other bytes where the markers are.
fn generated_pair(tmp: &Path, bytes_per_process: u64) -> (String, String, memgen::Generated) {
    let spec = memgen::GenSpec {
        bytes_per_process,
        ..Default::default()
    };
    let other = memgen::GenSpec {
        marker: b"KCP_GEN_OTHER__7731".to_vec(),
        ..spec.clone()
    };
    assert_eq!(spec.marker.len(), other.marker.len());
    let (old, new) = (tmp.join("old.tar"), tmp.join("new.tar"));
    let generated = memgen::write_tar(&old, &spec).unwrap();
    memgen::write_tar(&new, &other).unwrap();
    (path(&old), path(&new), generated)
}

#[test]
fn generated_pair_differs_on_the_marker_pages_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new, generated) = generated_pair(tmp.path(), 4 << 20);
    let marker_len = memgen::GenSpec::default().marker.len() as u64;
    let mut marker_pages = BTreeSet::new();
    for planted in &generated.markers {
        let first = planted.vaddr - planted.vaddr % 4096;
        let last = (planted.vaddr + marker_len - 1) / 4096 * 4096;
        marker_pages.insert((u64::from(planted.pid), first));
        marker_pages.insert((u64::from(planted.pid), last));
    }
    let (code, report) = diff_json(&old, &new, &["--memory"]);
    assert_eq!(code, Some(1));
    assert!(report.not_compared.is_empty(), "{:?}", report.not_compared);
    assert!(report.processes.changed.is_empty() && report.memory.added.is_empty());
    let mut changed = BTreeSet::new();
    for vma in &report.memory.changed {
        for range in &vma.changed_ranges {
            let from = hex(&Value::from(range.start.clone()));
            let to = hex(&Value::from(range.end.clone()));
            for page in (from..to).step_by(4096) {
                changed.insert((vma.pid, page));
            }
        }
    }
    let missed: Vec<_> = marker_pages.difference(&changed).collect();
    assert!(missed.is_empty(), "marker pages not reported: {missed:?}");
    // Besides the markers, each process holds one decoy marker split across two runs that are
    // apart in memory: up to two more pages per process.
    let extra = changed.difference(&marker_pages).count();
    assert!(
        extra <= 2 * generated.argv.len(),
        "{extra} pages beyond the markers"
    );
}

#[test]
fn memory_stays_flat_on_larger_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new, _) = generated_pair(tmp.path(), 48 << 20);
    let run = measure::run_measured(&["diff", &old, &new, "-o", "json"], 120);
    assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    // Two 96 MiB checkpoints; the pages are streamed through two 256 KiB buffers.
    run.within(32, 60.0, "diff of two 96 MiB checkpoints");
}

/// The hex number of a truth value (`"0x2019"`) or a report's (`0x2019` inside a text).
fn hex_of(text: &str) -> u64 {
    u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex")
}

/// wholetruth -> wholetruth-2 (truth/wholetruth-diff.json, `fd_details`): the descriptors whose
/// position and size moved, the epoll registration whose events changed, the inotify watch
/// added, and no other descriptor change.
#[test]
fn positions_registrations_and_watches_change_as_proc_saw() {
    let truth = truth("wholetruth-diff");
    let (code, report) = diff_json(
        &path(&dump_dir("wholetruth")),
        &path(&dump_dir("wholetruth-2")),
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(report.not_compared.is_empty(), "{:?}", report.not_compared);
    assert!(report.files.added.is_empty() && report.files.removed.is_empty());
    let details = truth["fd_details"].as_array().expect("fd_details");
    let changed: BTreeSet<(u64, u64)> =
        report.files.changed.iter().map(|c| (c.pid, c.fd)).collect();
    let want: BTreeSet<(u64, u64)> = details
        .iter()
        .map(|d| (d["pid"].as_u64().unwrap(), d["fd"].as_u64().unwrap()))
        .collect();
    assert_eq!(changed, want);
    for detail in details {
        let (pid, fd) = (
            detail["pid"].as_u64().unwrap(),
            detail["fd"].as_u64().unwrap(),
        );
        let ours = &report
            .files
            .changed
            .iter()
            .find(|c| c.pid == pid && c.fd == fd)
            .unwrap()
            .changes;
        let mut expected = 0;
        for (key, field) in [("pos", "position"), ("size", "size")] {
            if let Some(change) = detail.get(key) {
                expected += 1;
                let got = ours.iter().find(|c| c.field == field).expect(field);
                assert_eq!(
                    got.old,
                    Some(change["old"].to_string()),
                    "{pid}/{fd} {field}"
                );
                assert_eq!(
                    got.new,
                    Some(change["new"].to_string()),
                    "{pid}/{fd} {field}"
                );
            }
        }
        if let Some(targets) = detail.get("epoll_targets") {
            assert!(targets["added"].as_array().unwrap().is_empty());
            assert!(targets["removed"].as_array().unwrap().is_empty());
            for change in targets["changed"].as_array().unwrap() {
                expected += 1;
                let tfd = change["old"]["tfd"].as_u64().unwrap();
                let got = ours
                    .iter()
                    .find(|c| c.field == format!("epoll registration fd {tfd}"))
                    .expect("the registration's change");
                for (side, text) in [("old", &got.old), ("new", &got.new)] {
                    let text = text.as_deref().expect(side);
                    let reg = &change[side];
                    let events = text
                        .split("events ")
                        .nth(1)
                        .and_then(|t| t.split(' ').next())
                        .expect("events");
                    assert_eq!(hex_of(events), hex_of(reg["events"].as_str().unwrap()));
                    let names: Vec<&str> = reg["event_names"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap())
                        .collect();
                    assert!(text.contains(&format!("({})", names.join("|"))), "{text}");
                    assert!(text.ends_with(&format!("data {}", reg["data"].as_str().unwrap())));
                    assert!(text.starts_with(reg["target"].as_str().unwrap()), "{text}");
                }
            }
        }
        if let Some(watches) = detail.get("inotify_watches") {
            assert!(watches["removed"].as_array().unwrap().is_empty());
            assert!(watches["changed"].as_array().unwrap().is_empty());
            for watch in watches["added"].as_array().unwrap() {
                expected += 1;
                let got = ours
                    .iter()
                    .find(|c| c.field == format!("inotify watch {}", watch["wd"]))
                    .expect("the watch added");
                assert_eq!(got.old, None);
                let text = got.new.as_deref().unwrap();
                assert!(text.starts_with(&format!("{}: mask ", watch["path"].as_str().unwrap())));
                let mask = text
                    .split("mask ")
                    .nth(1)
                    .and_then(|t| t.split(' ').next())
                    .unwrap();
                assert_eq!(hex_of(mask), hex_of(watch["mask"].as_str().unwrap()));
            }
        }
        assert_eq!(ours.len(), expected, "{pid}/{fd}: {ours:?}");
    }
}

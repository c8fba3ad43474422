//! One image in the wrong place never blinds the other views (issue 19.1): every image of the
//! real `wholetruth` dump, in turn, is replaced by an image of another kind (`fifo-data.img` by
//! `pipes-data.img`'s bytes and the other way round, the rest by the next image of another
//! type), by garbage, and by itself cut one byte short; the report of each copy
//! (`analyze -o json`, every section) must
//! - refuse the checkpoint (exit 2) only for `pstree.img`;
//! - name the image and the byte offset on stderr and exit 1 for every image a view reads, and
//!   list a fact of the whole checkpoint in the report's `unavailable` with that image;
//! - still hold every pid of the truth, and every fact that the image does not feed exactly as
//!   the report of the untouched dump has it (the facts compared are the JSON leaves, keyed by
//!   pid, fd, ...: only the process or the fields the image feeds may differ);
//! - be unchanged, with exit 0, for the images no view reads (`inventory.img`, `seccomp.img`,
//!   `timens-0.img`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::truth::{dump_dir, load as truth};

const FIXTURE: &str = "wholetruth";

/// Images no view reads: replacing them changes nothing.
const UNREAD: [&str; 3] = ["inventory.img", "seccomp.img", "timens-0.img"];

/// Parts of the report that sum up the others (the summary), or say where the checkpoint is and
/// how large its files are: not compared.
const NOT_COMPARED: [&str; 4] = [
    "/summary",
    "/checkpoint",
    "/checkpoint_size",
    "/unavailable",
];

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-checkpoint")
}

/// `analyze --local DIR -o json`: exit status, the report, stderr.
fn report(dir: &Path) -> (Option<i32>, Option<Value>, String) {
    let out = Command::new(binary())
        .args(["analyze", "--local"])
        .arg(dir)
        .args(["-o", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().and_then(|a| a.first().cloned()));
    (out.status.code(), value, stderr)
}

/// A copy of the dump with `image` holding `bytes`.
fn copy_with(image: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(dump_dir(FIXTURE)).expect("fixture") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    std::fs::write(dir.path().join(image), bytes).expect("write");
    dir
}

/// The leaves of a report, each under a path that names objects by their pid and array
/// elements by their natural key (fd, tfd, wd, kind), so that a fact keeps its path when other
/// facts come or go.
fn leaves(value: &Value, path: String, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            let path = match map.get("pid") {
                Some(pid) if !path.ends_with(&format!("/pid={pid}")) => format!("{path}/pid={pid}"),
                _ => path,
            };
            for (key, child) in map {
                leaves(child, format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let key = ["pid", "fd", "tfd", "wd", "kind", "path"]
                    .iter()
                    .find_map(|k| item.get(*k).map(|v| format!("{k}={v}")))
                    .unwrap_or_else(|| index.to_string());
                leaves(item, format!("{path}/{key}"), out);
            }
        }
        leaf => {
            out.insert(path, leaf.clone());
        }
    }
}

fn compared_leaves(report: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    leaves(report, String::new(), &mut out);
    out.retain(|path, _| !NOT_COMPARED.iter().any(|p| path.starts_with(p)));
    out
}

/// The paths whose values differ, or exist on one side only.
fn differences(old: &BTreeMap<String, Value>, new: &BTreeMap<String, Value>) -> Vec<String> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

/// The pids a report says could not be read in full.
fn marked_pids(report: &Value) -> BTreeSet<u64> {
    fn walk(node: &Value, out: &mut BTreeSet<u64>) {
        if node["unavailable"]
            .as_array()
            .is_some_and(|u| !u.is_empty())
        {
            out.insert(node["pid"].as_u64().expect("pid"));
        }
        for child in node["children"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&report["process_tree"], &mut out);
    for files in report["file_descriptors"].as_array().into_iter().flatten() {
        if !files["unavailable"].is_null() {
            out.insert(files["pid"].as_u64().expect("pid"));
        }
    }
    for skipped in report["indicators"]["not_checked"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.insert(skipped["pid"].as_u64().expect("pid"));
    }
    out
}

fn pids_in(report: &Value) -> BTreeSet<u64> {
    fn walk(node: &Value, out: &mut BTreeSet<u64>) {
        if let Some(pid) = node["pid"].as_u64() {
            out.insert(pid);
        }
        for child in node["children"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&report["process_tree"], &mut out);
    out
}

/// What an image feeds, for the comparison.
enum Feeds {
    /// Nothing any view reads.
    Nothing,
    /// The facts of these processes.
    Processes(BTreeSet<u64>),
    /// The processes the report marks as not read in full (a pages file or a descriptor table
    /// shared by processes: which ones is the model's to say, and it must say some).
    MarkedProcesses,
    /// A fact of the whole checkpoint: the report lists it in `unavailable`, and only leaves
    /// under these prefixes or ending in these keys may differ.
    Whole {
        prefixes: &'static [&'static str],
        keys: &'static [&'static str],
    },
}

/// The process each thread belongs to, from the truth.
fn owners() -> BTreeMap<u64, u64> {
    let truth = truth(FIXTURE);
    let mut out = BTreeMap::new();
    for process in truth["processes"].as_array().expect("processes") {
        let pid = process["pid"].as_u64().expect("pid");
        for thread in process["threads"].as_array().expect("threads") {
            out.insert(thread["tid"].as_u64().expect("tid"), pid);
        }
    }
    out
}

fn feeds(image: &str, owners: &BTreeMap<u64, u64>) -> Feeds {
    let number = |prefix: &str| -> Option<u64> {
        image
            .strip_prefix(prefix)?
            .strip_suffix(".img")?
            .parse()
            .ok()
    };
    for prefix in ["core-", "ids-", "fs-", "mm-", "pagemap-"] {
        if let Some(id) = number(prefix) {
            let pid = owners.get(&id).copied().unwrap_or(id);
            return Feeds::Processes(BTreeSet::from([pid]));
        }
    }
    const FILES: &[&str] = &["/file_descriptors", "/sockets", "/indicators"];
    const QUEUED: &[&str] = &["unread_bytes", "detail", "recv_queue", "send_queue"];
    match image {
        _ if UNREAD.contains(&image) => Feeds::Nothing,
        _ if image.starts_with("fdinfo-") || image.starts_with("pages-") => Feeds::MarkedProcesses,
        "files.img" | "memfd.img" | "remap-fpath.img" => Feeds::Whole {
            prefixes: FILES,
            keys: &[],
        },
        _ if image.starts_with("ghost-file-") => Feeds::Whole {
            prefixes: FILES,
            keys: &[],
        },
        "pipes-data.img" | "fifo-data.img" | "sk-queues.img" => Feeds::Whole {
            prefixes: &[],
            keys: QUEUED,
        },
        _ if image.starts_with("pagemap-shmem-") => Feeds::Whole {
            prefixes: &["/indicators"],
            keys: &[],
        },
        "stats-dump" => Feeds::Whole {
            prefixes: &["/statistics"],
            keys: &[],
        },
        other => panic!("{other}: the test does not know what this image feeds"),
    }
}

/// The image's type word, `None` for raw images (pages-*.img).
fn magic_of(bytes: &[u8]) -> Option<checkpoint_images::Magic> {
    checkpoint_images::read_header("image", bytes)
        .ok()
        .map(|(magic, _)| magic)
}

/// The images of the dump (everything but dump.log), with their bytes, sorted by name.
fn images() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dump_dir(FIXTURE))
        .expect("fixture")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "dump.log"))
        .map(|p: PathBuf| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    out.sort();
    out
}

/// What to put in place of image `index`: an image of another kind (for the two data images,
/// each other's), garbage, and the image cut one byte short. Raw pages files get the cut only.
fn replacements(images: &[(String, Vec<u8>)], index: usize) -> Vec<(String, Vec<u8>)> {
    let (name, bytes) = &images[index];
    let cut = (
        "cut one byte short".to_owned(),
        bytes[..bytes.len().saturating_sub(1)].to_vec(),
    );
    let Some(magic) = magic_of(bytes) else {
        return vec![cut];
    };
    let swap = match name.as_str() {
        "fifo-data.img" => Some("pipes-data.img"),
        "pipes-data.img" => Some("fifo-data.img"),
        _ => None,
    };
    let other = match swap {
        Some(swap) => images.iter().find(|(n, _)| n == swap),
        None => (1..images.len())
            .map(|step| &images[(index + step) % images.len()])
            .find(|(_, b)| magic_of(b).is_some_and(|m| m != magic)),
    }
    .expect("an image of another kind");
    vec![
        (format!("{}'s bytes", other.0), other.1.clone()),
        ("garbage".to_owned(), vec![0xff; 64]),
        cut,
    ]
}

#[test]
fn each_image_in_the_wrong_place_blinds_only_what_it_feeds() {
    let (status, baseline, stderr) = report(&dump_dir(FIXTURE));
    assert_eq!(status, Some(0), "the untouched dump: {stderr}");
    let baseline = baseline.expect("a report");
    let expected = compared_leaves(&baseline);
    let truth_pids: BTreeSet<u64> = truth(FIXTURE)["pids"]
        .as_array()
        .expect("pids")
        .iter()
        .map(|p| p.as_u64().expect("pid"))
        .collect();
    assert_eq!(pids_in(&baseline), truth_pids);
    let owners = owners();
    let images = images();
    assert!(images.len() >= 45, "{} images", images.len());
    let mut failures = Vec::new();
    let mut runs = 0;
    for index in 0..images.len() {
        let name = images[index].0.clone();
        for (what, bytes) in replacements(&images, index) {
            runs += 1;
            let case = format!("{name} <- {what}");
            let dir = copy_with(&name, &bytes);
            let (status, report, stderr) = report(dir.path());
            if name == "pstree.img" {
                if status != Some(2) || !stderr.contains("pstree.img") {
                    failures.push(format!("{case}: not refused ({status:?}): {stderr}"));
                }
                continue;
            }
            let Some(report) = report else {
                failures.push(format!("{case}: no report ({status:?}): {stderr}"));
                continue;
            };
            if pids_in(&report) != truth_pids {
                failures.push(format!("{case}: the process tree lost pids"));
            }
            let changed = differences(&expected, &compared_leaves(&report));
            let feeds = feeds(&name, &owners);
            if matches!(feeds, Feeds::Nothing) {
                if status != Some(0) || !changed.is_empty() {
                    failures.push(format!("{case}: exit {status:?}, changed {changed:?}"));
                }
                continue;
            }
            if status != Some(1) || !stderr.contains(&name) || !stderr.contains("byte") {
                failures.push(format!(
                    "{case}: exit {status:?}, stderr does not name the image and offset: {stderr}"
                ));
            }
            let allowed = |path: &str| -> bool {
                match &feeds {
                    Feeds::Nothing => false,
                    Feeds::Processes(pids) => {
                        pids.iter().any(|p| path.contains(&format!("pid={p}")))
                    }
                    Feeds::MarkedProcesses => marked_pids(&report)
                        .iter()
                        .any(|p| path.contains(&format!("pid={p}"))),
                    Feeds::Whole { prefixes, keys } => {
                        prefixes.iter().any(|p| path.starts_with(p))
                            || keys.iter().any(|k| path.ends_with(&format!("/{k}")))
                    }
                }
            };
            match &feeds {
                Feeds::Whole { .. } => {
                    let listed = report["unavailable"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|u| u["reason"].as_str().is_some_and(|r| r.contains(&name)));
                    if !listed {
                        failures.push(format!("{case}: not in the report's unavailable facts"));
                    }
                }
                Feeds::MarkedProcesses if marked_pids(&report).is_empty() => {
                    failures.push(format!("{case}: no process is marked"));
                }
                _ => {}
            }
            let blinded: Vec<&String> = changed.iter().filter(|p| !allowed(p)).collect();
            if !blinded.is_empty() {
                failures.push(format!(
                    "{case}: {} facts it does not feed changed, such as {:?}",
                    blinded.len(),
                    &blinded[..blinded.len().min(4)]
                ));
            }
        }
    }
    assert!(runs >= 130, "{runs} runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs the binary with `args`: exit status, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every verb that reads the model, on `dir` (cores into `cores`), with a fact of `stdout` it
/// must show whatever one image of the whole checkpoint holds: (args, text).
fn verbs<'a>(dir: &'a str, other: &'a str, cores: &'a str) -> Vec<(Vec<&'a str>, &'a str)> {
    vec![
        (vec!["analyze", "--local", dir], "kworker/1:1"),
        (
            vec!["analyze", "--local", dir, "--files"],
            "/srv/app/kcpt.fifo",
        ),
        (
            vec!["analyze", "--local", dir, "--all", "-o", "json"],
            "\"tcp-acceptor\"",
        ),
        (
            vec!["analyze", "--local", dir, "--secrets"],
            "aws-access-key-id",
        ),
        (
            vec!["analyze", "--local", dir, "--crit-x", "ps"],
            "loop-child",
        ),
        (
            vec!["analyze", "--local", dir, "--crit-x", "fds"],
            "FIFO.10",
        ),
        (
            vec!["analyze", "--local", dir, "--crit-x", "mems"],
            "[vdso]",
        ),
        (vec!["analyze", "--local", dir, "--crit-x", "rss"], "10524"),
        (
            vec!["analyze", "--local", dir, "--search", "KCPT_"],
            "KCPT_WT_PIPE_MARKER",
        ),
        (vec!["coredump", dir, "--dir", cores], "core.10519"),
        (vec!["diff", other, dir], "differences"),
    ]
}

#[test]
fn a_fifo_with_unread_data_is_read_by_every_verb() {
    let dir = dump_dir(FIXTURE);
    let other = dump_dir("wholetruth-2");
    let cores = tempfile::tempdir().expect("temp dir");
    let (dir, other, cores_dir) = (
        dir.to_str().expect("UTF-8"),
        other.to_str().expect("UTF-8"),
        cores.path().to_str().expect("UTF-8"),
    );
    for (args, shown) in verbs(dir, other, cores_dir) {
        let (status, stdout, stderr) = run(&args);
        // diff exits 1 when the dumps differ, as diff(1)
        let expected = if args[0] == "diff" { 1 } else { 0 };
        assert_eq!(status, Some(expected), "{args:?}: {stderr}");
        assert!(stdout.contains(shown), "{args:?}: {shown} not in {stdout}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
    // the FIFO's 45 unread bytes, on the writer's and the reader's descriptor, and its marker
    // found by --search where the truth says it is
    let truth = truth(FIXTURE);
    let fifo = &truth["wholetruth"]["fifo"];
    let needle = &fifo["unread"]["needles"][0];
    let text = crate::support::truth::needle(&truth, needle["needle"].as_str().unwrap())["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, stdout, stderr) =
        run(&["analyze", "--local", dir, "--search", &text, "-o", "json"]);
    assert_eq!(status, Some(0), "{stderr}");
    let search: Value = serde_json::from_str(&stdout).expect("JSON");
    let hits: Vec<&Value> = search[0]["stored_matches"]
        .as_array()
        .expect("stored")
        .iter()
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits[0]["source"],
        format!("fifo:[{}] unread data", fifo["ino"])
    );
    assert_eq!(hits[0]["offset"], needle["offset"]);
    let (_, stdout, _) = run(&["analyze", "--local", dir, "--files", "-o", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    for end in ["writers", "readers"] {
        for holder in fifo[end].as_array().expect("ends") {
            let files = report[0]["file_descriptors"]
                .as_array()
                .expect("processes")
                .iter()
                .find(|p| p["pid"] == holder["pid"])
                .expect("the holder");
            let fd = files["open_files"]
                .as_array()
                .expect("fds")
                .iter()
                .find(|f| f["fd"].as_str() == Some(holder["fd"].to_string().as_str()))
                .expect("the FIFO's descriptor");
            assert_eq!(fd["type"], "FIFO");
            assert_eq!(fd["path"], fifo["path"]);
            assert_eq!(fd["unread_bytes"], fifo["unread_bytes"], "{end}");
        }
    }
}

#[test]
fn fifo_data_of_another_kind_is_named_by_every_verb_and_the_rest_shown() {
    let pipes = std::fs::read(dump_dir(FIXTURE).join("pipes-data.img")).expect("pipes-data");
    let broken = copy_with("fifo-data.img", &pipes);
    let other = dump_dir("wholetruth-2");
    let cores = tempfile::tempdir().expect("temp dir");
    let (dir, other, cores_dir) = (
        broken.path().to_str().expect("UTF-8"),
        other.to_str().expect("UTF-8"),
        cores.path().to_str().expect("UTF-8"),
    );
    for (args, shown) in verbs(dir, other, cores_dir) {
        let (status, stdout, stderr) = run(&args);
        assert!(stdout.contains(shown), "{args:?}: {shown} not in {stdout}");
        // crit's ps reads the task tree alone (pstree.img and the cores): it neither reads nor
        // names the FIFO's data (issue 24.3)
        if args.contains(&"ps") {
            assert_eq!(status, Some(0), "{args:?}: {stderr}");
            assert!(!stderr.contains("fifo-data.img"), "{args:?}: {stderr}");
            continue;
        }
        // diff exits 2 when a part could not be compared, as diff(1)
        let expected = if args[0] == "diff" { 2 } else { 1 };
        assert_eq!(status, Some(expected), "{args:?}: {stderr}");
        assert!(
            stderr.contains("unread FIFO data")
                && stderr
                    .contains("fifo-data.img: byte 0x4: is a PIPES_DATA image, expected FIFO_DATA"),
            "{args:?}: {stderr}"
        );
    }
    // the pipe's bytes are still counted; the FIFO's are unknown, not 0
    let (_, stdout, _) = run(&["analyze", "--local", dir, "--files", "-o", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let truth = truth(FIXTURE);
    let pipe = &truth["wholetruth"]["pipe"];
    let root = report[0]["file_descriptors"]
        .as_array()
        .expect("processes")
        .iter()
        .find(|p| p["pid"] == pipe["pid"])
        .expect("the root");
    let fd = |n: &Value| {
        root["open_files"]
            .as_array()
            .expect("fds")
            .iter()
            .find(|f| f["fd"].as_str() == Some(n.to_string().as_str()))
            .expect("fd")
            .clone()
    };
    for end in pipe["fds"].as_array().expect("pipe ends") {
        assert_eq!(fd(&end["fd"])["unread_bytes"], pipe["unread_bytes"]);
    }
    let writer = &truth["wholetruth"]["fifo"]["writers"][0];
    let fifo = fd(&writer["fd"]);
    assert!(fifo["unread_bytes"].is_null(), "{fifo}");
    assert!(fifo["detail"]
        .as_str()
        .is_some_and(|d| d.contains("fifo-data.img could not be read")));
}

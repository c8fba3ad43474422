//! The forensic summary, the default view of one checkpoint: its facts against the truth of the
//! real fixtures, and its layout (it fits a terminal of 80, 100 or 120 columns; piped, nothing
//! is cut; several checkpoints get the overview table instead).

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::support::terminal::Terminal;
use crate::support::truth::{dump_dir, fixtures, load as truth, process};

const SAMPLE: &str =
    "crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar";

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"));
    command.env("NO_COLOR", "1");
    command
}

fn summary_of(dir: &str) -> Value {
    let out = bin()
        .args(["analyze", "--local", dir, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    reports[0]["summary"].clone()
}

#[test]
fn the_model_summary_holds_what_proc_showed() {
    let truth = truth("model");
    let summary = summary_of(dump_dir("model").to_str().unwrap());
    let processes = truth["processes"].as_array().unwrap();
    assert_eq!(summary["processes"].as_u64(), Some(processes.len() as u64));
    let threads: usize = processes
        .iter()
        .map(|p| p["threads"].as_array().unwrap().len())
        .sum();
    assert_eq!(summary["threads"].as_u64(), Some(threads as u64));
    let root = truth["root_pid"].as_u64().unwrap();
    // Sockets as /proc/PID/fd and the socket tables showed them.
    let fds = process(&truth, root)["fds"].as_array().unwrap();
    let listening: BTreeSet<String> = fds
        .iter()
        .filter(|fd| fd["socket"]["listening"] == true)
        .map(|fd| fd["socket"]["local"].as_str().unwrap().to_owned())
        .collect();
    let got: BTreeSet<String> = summary["listening"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["local"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, listening);
    let connected: BTreeSet<(String, String)> = fds
        .iter()
        .filter(|fd| fd["socket"]["family"] == "AF_INET" && fd["socket"]["listening"] == false)
        .map(|fd| {
            (
                fd["socket"]["local"].as_str().unwrap().to_owned(),
                fd["socket"]["peer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let got: BTreeSet<(String, String)> = summary["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["local"].as_str().unwrap().to_owned(),
                s["remote"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, connected);
    // The memfd and the file deleted while open, with their sizes.
    let files: Vec<(String, String, u64)> = summary["files_of_note"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["size"].as_u64().unwrap(),
            )
        })
        .collect();
    for fd in fds {
        match fd["kind"].as_str().unwrap() {
            "memfd" => {
                let name = format!("memfd:{}", fd["memfd_name"].as_str().unwrap());
                assert!(
                    files.contains(&("memfd".into(), name.clone(), fd["size"].as_u64().unwrap())),
                    "{name}: {files:?}"
                );
            }
            "deleted-file" => {
                let path = fd["target"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches(" (deleted)");
                assert!(
                    files.contains(&("deleted".into(), path.into(), fd["size"].as_u64().unwrap())),
                    "{path}: {files:?}"
                );
            }
            _ => {}
        }
    }
    assert!(summary["memory"]["shared_bytes"].as_u64().unwrap() > 0);
    // The duplicated APP_MODE is an indicator of the root.
    assert!(summary["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["pid"] == root && i["kind"] == "duplicate-env"));
}

#[test]
fn secrets_are_counted_as_analyze_secrets_lists_them() {
    for (dir, any) in [
        (dump_dir("secrets"), true),
        (fixtures().join(SAMPLE), false),
    ] {
        let dir = dir.to_str().unwrap().to_owned();
        let summary = summary_of(&dir);
        let out = bin()
            .args(["analyze", "--local", &dir, "--secrets", "-o", "json"])
            .output()
            .unwrap();
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let secrets = listed[0]["secrets"].as_array().unwrap();
        // the summary counts confident findings, and how many low-confidence ones --secrets
        // lists
        let (low, confident): (Vec<&Value>, Vec<&Value>) = secrets
            .iter()
            .partition(|s| s.get("low_confidence").is_some());
        assert_eq!(
            summary["secrets"]["secrets"].as_u64(),
            Some(confident.len() as u64),
            "{dir}"
        );
        assert_eq!(
            summary["secrets"]["low_confidence"].as_u64(),
            Some(low.len() as u64),
            "{dir}"
        );
        let mut kinds: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for secret in &confident {
            let kind = kinds.entry(secret["kind"].as_str().unwrap()).or_default();
            kind.0 += 1;
            kind.1 += secret["copies"].as_u64().unwrap();
        }
        let summarised: std::collections::BTreeMap<&str, (u64, u64)> = summary["secrets"]["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["kind"].as_str().unwrap(),
                    (
                        k["secrets"].as_u64().unwrap(),
                        k["copies"].as_u64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(summarised, kinds, "{dir}");
        assert_eq!(!secrets.is_empty(), any, "{dir}");
    }
    // The planted credentials of the secrets fixture are all there, none of its decoys.
    let truth = truth("secrets");
    let planted = truth["needles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["decoy"] == false && n["kind"] != "marker")
        .count();
    let summary = summary_of(dump_dir("secrets").to_str().unwrap());
    assert!(
        summary["secrets"]["secrets"].as_u64().unwrap() as usize >= planted / 2,
        "{summary}"
    );
}

#[test]
fn indicators_are_counted_in_the_summary_and_the_clean_tree_has_none() {
    for (name, expect_any) in [("indicators", true), ("clean", false)] {
        let truth = truth(name);
        let summary = summary_of(dump_dir(name).to_str().unwrap());
        let got: BTreeSet<(u64, String)> = summary["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["pid"].as_u64().unwrap(),
                    i["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: BTreeSet<(u64, String)> = truth["processes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| {
                let pid = p["pid"].as_u64().unwrap();
                p["indicators"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |k| (pid, k.as_str().unwrap().to_owned()))
            })
            .collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(!got.is_empty(), expect_any, "{name}");
        assert_eq!(
            summary["totals"]["indicators"].as_u64(),
            Some(got.len() as u64)
        );
    }
}

/// The README's first command (run from the source tree, as the README does) on a terminal of
/// `columns` columns.
fn on_terminal(columns: u16) -> String {
    let mut command = bin();
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", "--local"])
        .arg(format!("tests/fixtures/{SAMPLE}"));
    let terminal = Terminal::spawn_sized(command, columns);
    let (status, screen) = terminal.finish();
    assert!(status.success(), "{screen}");
    screen
}

/// Visible width of a line drawn on the terminal (escape sequences left out).
fn visible_width(line: &str) -> usize {
    let mut width = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ ... final byte in @..~
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            width += 1;
        }
    }
    width
}

#[test]
fn the_readme_command_fits_the_terminal_and_is_whole_when_piped() {
    for columns in [80u16, 100, 120] {
        let screen = on_terminal(columns);
        assert!(screen.contains("Processes (1, 1 thread)"), "{screen}");
        for line in screen.lines() {
            assert!(
                visible_width(line) <= usize::from(columns),
                "{columns} columns: {line:?}\n{screen}"
            );
        }
    }
    // Piped: the whole path, however long.
    let out = bin()
        .args(["analyze", "--local"])
        .arg(fixtures().join(SAMPLE))
        .env("COLUMNS", "40")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(SAMPLE), "{text}");
    assert!(!text.contains('…'), "{text}");
    // At 100 columns nothing of the sample's summary needs cutting, and piped it fits too.
    let screen = on_terminal(100);
    assert!(!screen.contains('…'), "{screen}");
    let out = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", "--local"])
        .arg(format!("tests/fixtures/{SAMPLE}"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "{line:?}");
    }
}

#[test]
fn several_checkpoints_get_the_overview_table() {
    let sample = fixtures().join(SAMPLE);
    let model = dump_dir("model");
    let out = bin()
        .args(["analyze", "--local"])
        .arg(&sample)
        .arg(&model)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("CHECKPOINT "), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains("IMAGE"), "the narrow overview: {text}");
    // -o wide: every column, as kubectl's -o wide adds columns.
    let out = bin()
        .args(["analyze", "--local"])
        .arg(&sample)
        .arg(&model)
        .args(["-o", "wide"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    for column in [
        "IMAGE",
        "RUNTIME",
        "CREATED",
        "IP",
        "PAGES SIZE",
        "ROOTFS DIFF SIZE",
    ] {
        assert!(header.contains(column), "{column}: {text}");
    }
    assert!(text.contains("quay.io/rbohne/counters:latest"), "{text}");
    // ... and more columns in the sections.
    let out = bin()
        .args(["analyze", "--local"])
        .arg(&model)
        .args(["--files", "-o", "wide"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("PATH                          SIZE       DELETED   DETAIL"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("/srv/app/cache.db (deleted)")
                && l.contains("46 B")
                && l.contains("yes")),
        "{text}"
    );
}

/// The image by name and by the id the engine recorded: config.dump's `rootfsImageName` and
/// `rootfsImageRef` of the CRI-O sample (read from the archive with Python's tarfile).
#[test]
fn the_image_is_named_and_identified() {
    let id = "ec515cf8d335811dac79cf5428092977a141e104eb221ab6291a2f76aedb7e44";
    let out = bin()
        .args(["analyze", "--local"])
        .arg(fixtures().join(SAMPLE))
        .args(["-o", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["image"], "quay.io/rbohne/counters:latest");
    assert_eq!(json[0]["image_id"], id);
    let out = bin()
        .args(["analyze", "--local"])
        .arg(fixtures().join(SAMPLE))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Image:         quay.io/rbohne/counters:latest (ec515cf8d335)\n"),
        "{text}"
    );
}

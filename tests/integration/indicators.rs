//! `analyze --indicators` against the truth of real CRIU 4.2 dumps: `indicators` (one process
//! per indicator, truth `processes[].indicators` says which by construction), `clean` (the same
//! shape with none of them) and `model` (an environment with a planted duplicate). The
//! expected duplicates are worked out from the truth's `environ` (read from /proc), never from
//! our decoder. Every kind is shown by one fixture and absent from `clean`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

use crate::support::truth::{dump_dir, hex, load as truth, process};

/// One indicator of the JSON report.
#[derive(Debug, Deserialize)]
struct Indicator {
    kind: String,
    pid: u64,
    command: String,
    explanation: String,
    evidence: Vec<String>,
}

/// The `indicators` section of the JSON report.
#[derive(Debug, Deserialize)]
struct IndicatorReport {
    found: Vec<Indicator>,
    #[serde(default)]
    not_checked: Vec<Value>,
}

/// The part of one checkpoint's JSON report these tests read.
#[derive(Debug, Deserialize)]
struct Report {
    indicators: IndicatorReport,
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn dir(name: &str) -> String {
    dump_dir(name).to_str().expect("UTF-8 path").to_owned()
}

/// `analyze --local NAME --indicators -o FORMAT`: exit 0 and stdout.
fn analyze(name: &str, format: &str) -> String {
    let path = dir(name);
    let out = run(&["analyze", "--local", &path, "--indicators", "-o", format]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn report(name: &str) -> IndicatorReport {
    let reports: Vec<Report> = serde_json::from_str(&analyze(name, "json")).expect("JSON");
    let [report] = <[Report; 1]>::try_from(reports).expect("one report");
    report.indicators
}

/// Names set more than once in an environment (as /proc/PID/environ listed it).
fn duplicated_names(environ: &Value) -> Vec<String> {
    let mut seen = BTreeMap::<String, usize>::new();
    for entry in environ.as_array().expect("environ list") {
        let entry = entry.as_str().expect("a string");
        if let Some((name, _)) = entry.split_once('=') {
            *seen.entry(name.to_owned()).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(name, _)| name)
        .collect()
}

/// What each process shows by construction: the truth's `indicators` (none for fixtures built
/// for something else), plus `duplicate-env` where /proc listed a name twice.
fn expected(truth: &Value) -> BTreeMap<u64, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for process in truth["processes"].as_array().expect("processes") {
        let mut kinds: BTreeSet<String> = process["indicators"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|k| k.as_str().expect("a kind").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if !duplicated_names(&process["environ"]).is_empty() {
            kinds.insert("duplicate-env".to_owned());
        }
        out.insert(process["pid"].as_u64().expect("pid"), kinds);
    }
    out
}

fn found(report: &IndicatorReport) -> BTreeMap<u64, BTreeSet<String>> {
    let mut out: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for indicator in &report.found {
        out.entry(indicator.pid)
            .or_default()
            .insert(indicator.kind.clone());
    }
    out
}

fn one<'r>(report: &'r IndicatorReport, pid: u64, kind: &str) -> &'r Indicator {
    let matches: Vec<&Indicator> = report
        .found
        .iter()
        .filter(|i| i.pid == pid && i.kind == kind)
        .collect();
    assert_eq!(matches.len(), 1, "pid {pid} {kind}: {report:?}");
    matches[0]
}

fn evidence_has(indicator: &Indicator, text: &str) {
    assert!(
        indicator.evidence.iter().any(|line| line.contains(text)),
        "{} of pid {}: no evidence line holds {text:?}: {:?}",
        indicator.kind,
        indicator.pid,
        indicator.evidence
    );
}

#[test]
fn each_process_shows_exactly_what_it_was_built_to_show() {
    for name in ["indicators", "clean", "model"] {
        let truth = truth(name);
        let want = expected(&truth);
        let report = report(name);
        assert!(report.not_checked.is_empty(), "{name}: {report:?}");
        let got = found(&report);
        for (pid, kinds) in &want {
            let empty = BTreeSet::new();
            assert_eq!(got.get(pid).unwrap_or(&empty), kinds, "{name} pid {pid}");
        }
        assert!(
            got.keys().all(|pid| want.contains_key(pid)),
            "{name}: {got:?}"
        );
    }
}

#[test]
fn every_kind_is_shown_by_a_fixture_and_absent_from_the_clean_one() {
    let indicators = found(&report("indicators"));
    let model = found(&report("model"));
    let shown: BTreeSet<&String> = indicators
        .values()
        .chain(model.values())
        .flatten()
        .collect();
    let kinds = [
        "deleted-exe",
        "exe-in-tmp",
        "fileless-memfd-exe",
        "wx-anonymous-memory",
        "ld-preload",
        "ld-library-path",
        "reverse-shell",
        "listen-all-addresses",
        "comm-differs-from-exe",
        "stopped",
        "duplicate-env",
    ];
    for kind in kinds {
        assert!(shown.contains(&kind.to_owned()), "no fixture shows {kind}");
    }
    assert!(report("clean").found.is_empty());
    assert_eq!(shown.len(), kinds.len(), "{shown:?}");
}

#[test]
fn the_evidence_holds_the_facts_proc_showed() {
    let truth = truth("indicators");
    let report = report("indicators");
    let by_kind = |kind: &str| -> u64 {
        truth["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["indicators"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k == kind)
            })
            .unwrap_or_else(|| panic!("no process shows {kind}"))["pid"]
            .as_u64()
            .unwrap()
    };
    for indicator in &report.found {
        let proc = process(&truth, indicator.pid);
        assert_eq!(indicator.command, proc["comm"].as_str().unwrap());
        assert!(!indicator.explanation.is_empty() && !indicator.explanation.contains('\n'));
        assert!(!indicator.evidence.is_empty(), "{indicator:?}");
    }

    let pid = by_kind("deleted-exe");
    let exe = process(&truth, pid)["exe"].as_str().unwrap().to_owned();
    assert!(exe.ends_with(" (deleted)"));
    let deleted = one(&report, pid, "deleted-exe");
    evidence_has(deleted, &exe);
    evidence_has(deleted, "ghost-file-");

    let pid = by_kind("exe-in-tmp");
    evidence_has(
        one(&report, pid, "exe-in-tmp"),
        &format!("exe {}", process(&truth, pid)["exe"].as_str().unwrap()),
    );

    let pid = by_kind("fileless-memfd-exe");
    let exe = process(&truth, pid)["exe"].as_str().unwrap();
    assert!(exe.starts_with("/memfd:"));
    evidence_has(
        one(&report, pid, "fileless-memfd-exe"),
        &format!("exe {exe}"),
    );

    let pid = by_kind("wx-anonymous-memory");
    let wx = one(&report, pid, "wx-anonymous-memory");
    let rwx: Vec<&Value> = process(&truth, pid)["maps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["perms"].as_str().unwrap().starts_with("rwx"))
        .collect();
    assert_eq!(wx.evidence.len(), rwx.len());
    for map in rwx {
        evidence_has(
            wx,
            &format!(
                "mapping {:#x}-{:#x} rwxp",
                hex(&map["start"]),
                hex(&map["end"])
            ),
        );
    }

    let pid = by_kind("ld-preload");
    for (kind, variable) in [
        ("ld-preload", "LD_PRELOAD="),
        ("ld-library-path", "LD_LIBRARY_PATH="),
    ] {
        let set: Vec<&str> = process(&truth, pid)["environ"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .filter(|e| e.starts_with(variable))
            .collect();
        assert_eq!(set.len(), 1);
        assert_eq!(one(&report, pid, kind).evidence, set);
    }

    let pid = by_kind("reverse-shell");
    let shell = one(&report, pid, "reverse-shell");
    evidence_has(shell, process(&truth, pid)["exe"].as_str().unwrap());
    for fd in process(&truth, pid)["fds"].as_array().unwrap() {
        let n = fd["fd"].as_u64().unwrap();
        if n <= 1 {
            let socket = &fd["socket"];
            evidence_has(
                shell,
                &format!(
                    "fd {n}: TCP {} -> {}",
                    socket["local"].as_str().unwrap(),
                    socket["peer"].as_str().unwrap()
                ),
            );
        }
    }

    let pid = by_kind("listen-all-addresses");
    let listen = one(&report, pid, "listen-all-addresses");
    let listening: Vec<&Value> = process(&truth, pid)["fds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|fd| fd["socket"]["listening"] == true)
        .collect();
    assert_eq!(listen.evidence.len(), listening.len());
    for fd in listening {
        evidence_has(
            listen,
            &format!(
                "fd {}: TCP {} LISTEN",
                fd["fd"],
                fd["socket"]["local"].as_str().unwrap()
            ),
        );
    }

    let pid = by_kind("comm-differs-from-exe");
    let comm = one(&report, pid, "comm-differs-from-exe");
    evidence_has(
        comm,
        &format!(
            "comm {}, exe {}",
            process(&truth, pid)["comm"].as_str().unwrap(),
            process(&truth, pid)["exe"].as_str().unwrap()
        ),
    );

    let pid = by_kind("stopped");
    assert_eq!(process(&truth, pid)["state"], "T");
    evidence_has(one(&report, pid, "stopped"), "Stopped");
}

#[test]
fn the_planted_duplicate_is_named_with_every_value_in_order() {
    let truth = truth("model");
    let report = report("model");
    for proc in truth["processes"].as_array().unwrap() {
        let pid = proc["pid"].as_u64().unwrap();
        for name in duplicated_names(&proc["environ"]) {
            let values: Vec<&str> = proc["environ"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .filter(|e| e.split_once('=').is_some_and(|(n, _)| n == name))
                .collect();
            let indicator = one(&report, pid, "duplicate-env");
            let line = indicator
                .evidence
                .iter()
                .find(|l| l.starts_with(&format!("{name} set {} times", values.len())))
                .unwrap_or_else(|| panic!("pid {pid}: {name}: {indicator:?}"));
            let mut at = 0;
            for value in values {
                let found = line[at..]
                    .find(value)
                    .unwrap_or_else(|| panic!("{value} not in order in {line}"));
                at += found + value.len();
            }
        }
    }
}

#[test]
fn table_and_tree_list_each_indicator_and_say_when_there_is_none() {
    let table = analyze("indicators", "table");
    let section = table
        .split("\nCompromise indicators:\n")
        .nth(1)
        .expect("the section");
    let rows: Vec<&str> = section.lines().skip(1).collect();
    let found = report("indicators").found;
    assert_eq!(rows.len(), found.len(), "{section}");
    for indicator in &found {
        let pid = format!("{} ", indicator.pid);
        let kind = format!(" {} ", indicator.kind);
        assert!(
            rows.iter()
                .any(|r| r.starts_with(&pid) && r.contains(&kind)),
            "{indicator:?}: {section}"
        );
    }
    let tree = analyze("indicators", "tree");
    assert!(tree.contains("Compromise indicators\n"), "{tree}");
    assert!(
        tree.contains(": reverse-shell: a shell whose standard input"),
        "{tree}"
    );
    assert!(analyze("clean", "table").contains("\nCompromise indicators: none\n"));
    assert!(analyze("clean", "tree").contains("\n    Compromise indicators\n        none found\n"));
}

#[test]
fn all_sections_and_plain_json_include_the_indicators() {
    let path = dir("indicators");
    let out = run(&["analyze", "--local", &path, "-o", "json"]);
    assert!(out.status.success());
    let reports: Vec<Report> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        reports[0].indicators.found.len(),
        report("indicators").found.len()
    );
    let out = run(&["analyze", "--local", &path, "--all"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(text.contains("\nCompromise indicators:\n"), "{text}");
}

//! Our reports on the `wholetruth` dumps against their truth files (truth/wholetruth.json and
//! wholetruth-2.json, read from /proc while the tree was stopped): epoll registrations, inotify
//! watches and fanotify marks; memory figures against the pages files and smaps; the
//! disguised-process indicator; bytes that are not UTF-8; sockets shared, UDP states. Every fact
//! asserted is read from the truth, never written here.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::support::truth::{dump_dir, load as truth};

/// Both dumps of the tree.
const DUMPS: [&str; 2] = ["wholetruth", "wholetruth-2"];

/// `analyze --local DUMP ARGS -o json`: the one report.
fn report(dump: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["analyze", "--local"])
        .arg(dump_dir(dump))
        .args(args)
        .args(["-o", "json"])
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{dump} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    reports[0].clone()
}

/// `analyze --local DUMP ARGS` as text.
fn text(dump: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(["analyze", "--local"])
        .arg(dump_dir(dump))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{dump} {args:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn hex(value: &Value) -> u64 {
    let text = value.as_str().expect("a hex string");
    u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex")
}

/// The descriptor `fd` of process `pid` in a `--files` report.
fn open_file<'a>(report: &'a Value, pid: &Value, fd: &Value) -> &'a Value {
    report["file_descriptors"]
        .as_array()
        .expect("file_descriptors")
        .iter()
        .find(|p| p["pid"] == *pid)
        .and_then(|p| {
            p["open_files"]
                .as_array()
                .expect("open_files")
                .iter()
                .find(|f| f["fd"].as_str() == Some(fd.to_string().as_str()))
        })
        .unwrap_or_else(|| panic!("pid {pid} fd {fd} is not in the report"))
}

#[test]
fn epoll_registrations_are_the_kernels() {
    for dump in DUMPS {
        let truth = truth(dump);
        let epoll = &truth["wholetruth"]["epoll"];
        let report = report(dump, &["--files"]);
        let mut total = 0;
        for instance in ["outer", "inner"] {
            let want = &epoll[instance];
            let got = open_file(&report, &epoll["pid"], &want["fd"]);
            assert_eq!(got["type"], "EVENTPOLL");
            let targets = got["epoll_targets"].as_array().expect("epoll_targets");
            assert_eq!(
                targets.len() as u64,
                want["registrations"].as_u64().unwrap(),
                "{dump} {instance}"
            );
            total += targets.len();
            // registrations in the kernel's order, each with its target, events and data
            for (ours, theirs) in targets.iter().zip(want["targets"].as_array().unwrap()) {
                assert_eq!(ours["tfd"], theirs["tfd"], "{dump} {instance}");
                assert_eq!(ours["target"], theirs["target"], "{dump} {}", theirs["tfd"]);
                assert_eq!(hex(&ours["events"]), hex(&theirs["events"]));
                assert_eq!(ours["event_names"], theirs["event_names"]);
                assert_eq!(hex(&ours["data"]), hex(&theirs["data"]));
                assert_eq!(ours["ino"], theirs["ino"]);
            }
        }
        assert_eq!(total as u64, epoll["registrations"].as_u64().unwrap());
        // the table says how many and which descriptors; -o wide lists each registration
        let wide = text(dump, &["--files", "-o", "wide"]);
        assert!(wide.contains("Epoll registrations:"), "{wide}");
        for instance in ["outer", "inner"] {
            for target in epoll[instance]["targets"].as_array().unwrap() {
                let data = format!("{:#x}", hex(&target["data"]));
                assert!(wide.contains(&data), "{dump}: {data} not in the wide table");
            }
        }
    }
}

#[test]
fn inotify_watches_and_fanotify_marks_are_the_kernels() {
    for dump in DUMPS {
        let truth = truth(dump);
        let inotify = &truth["wholetruth"]["inotify"];
        let report = report(dump, &["--files"]);
        let got = open_file(&report, &inotify["pid"], &inotify["fd"]);
        assert_eq!(got["type"], "INOTIFY");
        let mut ours: Vec<&Value> = got["inotify_watches"].as_array().unwrap().iter().collect();
        let mut theirs: Vec<&Value> = inotify["watches"].as_array().unwrap().iter().collect();
        ours.sort_by_key(|w| w["wd"].as_u64());
        theirs.sort_by_key(|w| w["wd"].as_u64());
        assert_eq!(ours.len(), theirs.len(), "{dump}");
        for (ours, theirs) in ours.iter().zip(&theirs) {
            assert_eq!(ours["wd"], theirs["wd"]);
            assert_eq!(ours["path"], theirs["path"]);
            assert_eq!(ours["ino"], theirs["ino"]);
            assert_eq!(hex(&ours["mask"]), hex(&theirs["mask"]));
            assert_eq!(ours["mask_names"], theirs["mask_names"]);
            assert_eq!(hex(&ours["ignored_mask"]), hex(&theirs["ignored_mask"]));
        }
        let fanotify = &truth["wholetruth"]["fanotify"];
        assert_eq!(fanotify["available"], true);
        let got = open_file(&report, &fanotify["pid"], &fanotify["fd"]);
        assert_eq!(got["type"], "FANOTIFY");
        let ours = &got["fanotify"];
        assert_eq!(hex(&ours["flags"]), hex(&fanotify["flags"]));
        assert_eq!(hex(&ours["event_flags"]), hex(&fanotify["event_flags"]));
        let key = |m: &Value| m["path"].as_str().unwrap_or_default().to_owned();
        let ours: BTreeMap<String, &Value> = ours["marks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (key(m), m))
            .collect();
        let theirs: BTreeMap<String, &Value> = fanotify["marks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (key(m), m))
            .collect();
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
        for (path, theirs) in theirs {
            let ours = ours[&path];
            assert_eq!(ours["type"], theirs["type"], "{path}");
            assert_eq!(ours["ino"], theirs["ino"]);
            assert_eq!(hex(&ours["mask"]), hex(&theirs["mask"]));
            assert_eq!(ours["mask_names"], theirs["mask_names"]);
            assert_eq!(hex(&ours["ignored_mask"]), hex(&theirs["ignored_mask"]));
            assert_eq!(ours["ignored_mask_names"], theirs["ignored_mask_names"]);
            assert_eq!(hex(&ours["mflags"]), hex(&theirs["mflags"]));
        }
        // the one-line detail names every watched path
        let table = text(dump, &["--files"]);
        for watch in inotify["watches"].as_array().unwrap() {
            let path = watch["path"].as_str().unwrap();
            assert!(table.contains(&format!("{} {path}", watch["wd"])), "{path}");
        }
    }
}

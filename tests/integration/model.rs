//! The checkpoint model against the truth of the `model` fixture (a real CRIU 4.2 dump of named
//! threads, a retitled and a space-padded command line, an environment with a planted duplicate,
//! shared anonymous memory, a memfd, two SysV segments, a ghost file, pipe and socket queues,
//! locks and event/timer/signal descriptors; truth read from /proc at the dump): every view
//! shows what /proc showed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::truth::{dump_dir, hex, load as truth, needle, process};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn model() -> String {
    dump_dir("model").to_str().expect("UTF-8 path").to_owned()
}

/// `analyze --local model FLAGS -o json`: the one report.
fn report(flags: &[&str]) -> Value {
    let dir = model();
    let mut args = vec!["analyze", "--local", &dir, "-o", "json"];
    args.extend_from_slice(flags);
    let reports: Value = serde_json::from_str(&run_ok(&args)).expect("JSON");
    reports[0].clone()
}

/// Every node of a process tree, by pid.
fn nodes(root: &Value) -> BTreeMap<u64, Value> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        if let Some(children) = node["children"].as_array() {
            stack.extend(children.iter().cloned());
        }
        out.insert(node["pid"].as_u64().expect("pid"), node);
    }
    out
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .map(|v| v.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn threads_command_lines_and_environments_are_the_kernels() {
    let truth = truth("model");
    let tree = report(&["--ps-tree", "--cmdline", "--env"]);
    let nodes = nodes(&tree["process_tree"]);
    assert_eq!(nodes.len(), truth["processes"].as_array().unwrap().len());
    for want in truth["processes"].as_array().unwrap() {
        let pid = want["pid"].as_u64().unwrap();
        let got = &nodes[&pid];
        assert_eq!(got["command"], want["comm"], "pid {pid}");
        assert_eq!(got["pgid"], want["pgid"], "pid {pid}");
        // Threads: every tid with the name /proc/PID/task/TID/comm had.
        let threads: Vec<(u64, String)> = got["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["tid"].as_u64().unwrap(),
                    t["name"].as_str().unwrap().into(),
                )
            })
            .collect();
        let want_threads: Vec<(u64, String)> = want["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["tid"].as_u64().unwrap(),
                    t["comm"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(threads, want_threads, "pid {pid}");
        // The command line as /proc/PID/cmdline gave it, padding trimmed.
        let cmdline = strings(&want["cmdline"]).join(" ");
        assert_eq!(
            got["cmdline"].as_str(),
            Some(cmdline.trim_end()),
            "pid {pid}"
        );
        let retitled = want["cmdline_hex"].as_str().is_some_and(|hex| {
            // Retitled: the argv area's last byte is not NUL, so /proc ran on past arg_end.
            let arg_len = hex_u64(&want["mm"]["arg_end"]) - hex_u64(&want["mm"]["arg_start"]);
            (hex.len() / 2) as u64 != arg_len
        });
        assert_eq!(
            got["retitled"].as_bool().unwrap_or(false),
            retitled,
            "pid {pid}"
        );
        let environment = strings(&got["environment"]);
        if retitled {
            // /proc/PID/environ holds the title's tail: no variable may be made of it.
            let title = strings(&want["cmdline"]).join(" ");
            for entry in &environment {
                assert!(!title.contains(entry.as_str()), "pid {pid}: {entry}");
            }
        } else {
            let want_env: Vec<String> = strings(&want["environ"])
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            assert_eq!(
                environment, want_env,
                "pid {pid}: order and duplicates kept"
            );
        }
    }
    // The planted duplicate: both values in order, the map has the first (what getenv sees).
    let root = &nodes[&truth["root_pid"].as_u64().unwrap()];
    let env = strings(&root["environment"]);
    let production = env.iter().position(|e| e == "APP_MODE=production");
    let debug = env.iter().position(|e| e == "APP_MODE=debug");
    assert!(production.is_some() && production < debug, "{env:?}");
    assert_eq!(root["environment_variables"]["APP_MODE"], "production");
}

fn hex_u64(value: &Value) -> u64 {
    match value {
        Value::Number(n) => n.as_u64().expect("u64"),
        _ => hex(value),
    }
}

#[test]
fn threads_and_environment_order_in_table_and_tree() {
    let dir = model();
    for format in ["table", "tree"] {
        let text = run_ok(&[
            "analyze",
            "--local",
            &dir,
            "--ps-tree",
            "--cmdline",
            "--env",
            "-o",
            format,
        ]);
        for name in ["GC Thread#0", "C1 CompilerThre", "worker-1"] {
            assert!(text.contains(name), "{format}: {name}\n{text}");
        }
        assert!(
            text.contains("app: master process /usr/sbin/app -c /etc/app/app.conf"),
            "{format}\n{text}"
        );
        let production = text.find("production").expect("first APP_MODE");
        let debug = text.find("debug").expect("second APP_MODE");
        assert!(production < debug, "{format}: memory order\n{text}");
        assert!(
            !text.contains("app: worker process "),
            "{format}: padding trimmed\n{text}"
        );
    }
}

/// The files of one process in the report, by fd.
fn files_of(report: &Value, pid: u64) -> BTreeMap<String, Value> {
    report["file_descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .expect("the pid has files")["open_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["fd"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

#[test]
fn every_fd_kind_is_typed_truthfully() {
    let truth = truth("model");
    let report = report(&["--files"]);
    let pid = truth["root_pid"].as_u64().unwrap();
    let files = files_of(&report, pid);
    let want = process(&truth, pid);
    for fd in want["fds"].as_array().unwrap() {
        let number = fd["fd"].as_u64().unwrap().to_string();
        let got = &files[&number];
        assert_eq!(got["path"], fd["target"], "fd {number}");
        match fd["kind"].as_str().unwrap() {
            "memfd" => {
                assert_eq!(got["type"], "MEMFD");
                assert_eq!(got["size"], fd["size"]);
                let seals: Vec<String> = strings(&fd["seal_names"])
                    .iter()
                    .map(|s| s.trim_start_matches("F_SEAL_").to_ascii_lowercase())
                    .collect();
                assert_eq!(strings(&got["seals"]), seals, "fd {number}");
            }
            "deleted-file" => {
                assert_eq!(got["deleted"], true);
                assert_eq!(got["size"], fd["size"], "the ghost's stored size");
            }
            "pipe" => assert_eq!(got["unread_bytes"], fd["unread_bytes"], "fd {number}"),
            "socket" => {
                let socket = &fd["socket"];
                if let Some(inq) = socket["inq_bytes"].as_u64() {
                    assert_eq!(got["unread_bytes"].as_u64(), Some(inq), "fd {number}");
                }
            }
            "eventfd" => assert_eq!(got["eventfd_counter"], fd["eventfd_count"]),
            "timerfd" => {
                let timer = &fd["timerfd"];
                assert_eq!(got["timerfd"]["clock"], "monotonic");
                let interval = timer["it_interval"]["sec"].as_u64().unwrap() * 1_000_000_000
                    + timer["it_interval"]["nsec"].as_u64().unwrap();
                assert_eq!(got["timerfd"]["interval_ns"].as_u64(), Some(interval));
                let left = got["timerfd"]["remaining_ns"].as_u64().unwrap() / 1_000_000_000;
                let truth_left = timer["it_value"]["sec"].as_u64().unwrap();
                assert!(left.abs_diff(truth_left) <= 5, "{left} vs {truth_left}");
            }
            "signalfd" => assert_eq!(strings(&got["signalfd_mask"]), strings(&fd["signals"])),
            _ => {}
        }
        // Locks on the descriptor that holds them, as /proc/PID/fdinfo lists them.
        let want_locks: Vec<(String, String)> = strings(&fd["locks"])
            .iter()
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                (words[1].to_ascii_lowercase(), words[3].to_ascii_lowercase())
            })
            .collect();
        let mut got_locks: Vec<(String, String)> = got["locks"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|l| {
                        (
                            l["kind"].as_str().unwrap().to_owned(),
                            l["mode"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut want_locks = want_locks;
        got_locks.sort();
        want_locks.sort();
        assert_eq!(got_locks, want_locks, "fd {number}");
    }
    // cwd and root are directories.
    assert_eq!(files["cwd"]["type"], "DIR");
    assert_eq!(files["cwd"]["path"], want["cwd"]);
    assert_eq!(files["root"]["type"], "DIR");
}

#[test]
fn sysv_segments_with_key_size_mode_and_where_attached() {
    let truth = truth("model");
    let report = report(&["--files"]);
    let segments = report["sysv_shm"].as_array().expect("sysv_shm");
    let want = truth["ipc"]["shm"].as_array().unwrap();
    assert_eq!(segments.len(), want.len());
    for shm in want {
        let got = segments
            .iter()
            .find(|s| s["key"] == shm["key"])
            .unwrap_or_else(|| panic!("segment {}", shm["key"]));
        assert_eq!(got["size"], shm["size"]);
        assert_eq!(got["mode"], shm["perms"]);
        assert_eq!(
            got["attached"].as_array().unwrap().len() as u64,
            shm["nattch"].as_u64().unwrap()
        );
    }
    // The attached one: at the address /proc/PID/maps showed for /SYSV<key>.
    let root = truth["root_pid"].as_u64().unwrap();
    let map = process(&truth, root)["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"].as_str().is_some_and(|p| p.starts_with("/SYSV")))
        .expect("an attached segment");
    let attached = format!("{root}@{}", map["start"].as_str().unwrap());
    assert!(
        segments
            .iter()
            .any(|s| strings(&s["attached"]).contains(&attached)),
        "{attached}: {segments:?}"
    );
}

#[test]
fn search_finds_every_marker_where_it_was() {
    let truth = truth("model");
    let dir = model();
    let out = run_ok(&[
        "analyze",
        "--local",
        &dir,
        "--search-regex",
        "KCPT_[A-Z0-9_]+_MARKER_7431",
        "-o",
        "json",
    ]);
    let reports: Value = serde_json::from_str(&out).unwrap();
    let report = &reports[0];
    let hits: Vec<(u64, u64, String)> = report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["pid"].as_u64().unwrap(),
                h["vaddr"].as_u64().unwrap(),
                h["vma"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let stored: Vec<(String, u64, String)> = report["stored_matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["source"].as_str().unwrap().to_owned(),
                h["offset"].as_u64().unwrap(),
                h["matched"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut memory_hits = 0;
    for needle in truth["needles"].as_array().unwrap() {
        let text = needle["text"].as_str().unwrap();
        let found = needle["memory_hits"].as_array().unwrap();
        for hit in found {
            memory_hits += 1;
            let pid = hit["pid"].as_u64().unwrap();
            let address = hex(&hit["address"]);
            let vma = hit["vma"]["path"].as_str().unwrap();
            assert!(
                hits.iter()
                    .any(|(p, a, v)| *p == pid && *a == address && (v == vma || vma.is_empty())),
                "{text}: pid {pid} at {address:#x} in {vma}: {hits:?}"
            );
        }
        if found.is_empty() {
            // Stored outside memory: found once, in the source the truth names.
            let place = strings(&needle["places"]).join(" ");
            let hit = stored
                .iter()
                .find(|(_, _, matched)| matched == text)
                .unwrap_or_else(|| panic!("{text} ({place}) not found: {stored:?}"));
            let label = &hit.0;
            let expected = match place.as_str() {
                "pipe" => "pipe:[",
                "unix_a2b" | "unix_b2a" => "unix socket:[",
                "tcp_unread" | "tcp_delivered" => "receive queue",
                "tcp_unsent" => "send queue",
                "ghost" => "ghost /srv/app/cache.db (deleted)",
                "sysv_detached" => "SysV segment key 0x4b435055",
                other => panic!("unexpected place {other}"),
            };
            assert!(label.contains(expected), "{text}: {label}");
        }
    }
    assert_eq!(hits.len(), memory_hits, "no hit the truth lacks: {hits:?}");
    // Offsets inside stored sources are the truth's: the ghost's marker at byte 24, the unsent
    // TCP marker at byte 8192 of the send queue.
    let ghost = needle(&truth, "ghost");
    let ghost_text = ghost["text"].as_str().unwrap();
    assert!(stored
        .iter()
        .any(|(s, o, m)| s.starts_with("ghost") && *o == 24 && m == ghost_text));
    assert!(stored
        .iter()
        .any(|(s, o, _)| s.ends_with("send queue") && *o == 8192));
}

#[test]
fn shared_memory_is_read_everywhere() {
    let truth = truth("model");
    let dir = model();
    let root = truth["root_pid"].as_u64().unwrap();
    let anon = &needle(&truth, "anon_shared")["memory_hits"][0];
    let address = anon["address"].as_str().unwrap();
    let text = needle(&truth, "anon_shared")["text"].as_str().unwrap();
    // --hexdump reads it.
    let out = run_ok(&[
        "analyze",
        "--local",
        &dir,
        "--pid",
        &root.to_string(),
        "--hexdump",
        &format!("{address}:32"),
        "-o",
        "json",
    ]);
    let hexdump: Value = serde_json::from_str(&out).unwrap();
    let ascii: String = hexdump["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ascii"].as_str())
        .collect();
    assert!(ascii.starts_with(&text[..16]), "{ascii}");
    // --memory counts it.
    let out = run_ok(&["analyze", "--local", &dir, "--memory", "-o", "json"]);
    let summaries: Value = serde_json::from_str(&out).unwrap();
    let mine = summaries
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["pid"] == root)
        .unwrap();
    assert!(mine["shared_present_bytes"].as_u64().unwrap() > 0, "{mine}");
    // --dump-memory writes it.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mem.bin");
    run_ok(&[
        "analyze",
        "--local",
        &dir,
        "--pid",
        &root.to_string(),
        "--dump-memory",
        file.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&file).unwrap();
    for id in ["anon_shared", "memfd", "sysv"] {
        let text = needle(&truth, id)["text"].as_str().unwrap();
        assert!(
            memchr_find(&bytes, text.as_bytes()),
            "{id} in the memory dump"
        );
    }
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn gdb_reads_shared_areas_in_the_core() {
    let truth = truth("model");
    let dir = model();
    let root = truth["root_pid"].as_u64().unwrap();
    let cores = tempfile::tempdir().unwrap();
    run_ok(&[
        "coredump",
        &dir,
        "--pid",
        &root.to_string(),
        "--dir",
        cores.path().to_str().unwrap(),
    ]);
    let core = cores.path().join(format!("core.{root}"));
    let mut commands = Vec::new();
    let mut expected = Vec::new();
    for id in ["anon_shared", "memfd", "sysv", "heap"] {
        let needle = needle(&truth, id);
        let hit = needle["memory_hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["pid"] == root)
            .expect("a hit in the root");
        commands.push(format!("x/s {}", hit["address"].as_str().unwrap()));
        expected.push(needle["text"].as_str().unwrap().to_owned());
    }
    let refs: Vec<&str> = commands.iter().map(String::as_str).collect();
    let text = gdb(&core, &refs);
    for want in expected {
        assert!(text.contains(&want), "gdb reads {want}:\n{text}");
    }
}

fn gdb(core: &Path, commands: &[&str]) -> String {
    let mut cmd = Command::new("gdb");
    cmd.args(["--batch", "-nx", "-ex", "set debuginfod enabled off"]);
    for c in commands {
        cmd.args(["-ex", c]);
    }
    let out = cmd.arg("--core").arg(core).output().expect("gdb runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

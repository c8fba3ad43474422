//! Our reports on the `wholetruth` dumps against their truth files (truth/wholetruth.json and
//! wholetruth-2.json, read from /proc while the tree was stopped): epoll registrations, inotify
//! watches and fanotify marks; memory figures against the pages files and smaps; the
//! disguised-process indicator; bytes that are not UTF-8; sockets shared, UDP states. Every fact
//! asserted is read from the truth, never written here.

use std::collections::{BTreeMap, BTreeSet};
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

/// The `N` of `pages-N.img` a pagemap image points at, from crit 4.2's decode of it.
fn crit_pages_id(dump: &str, pagemap: &str) -> u64 {
    let path = crate::support::crit::expected_dir(&format!("criu-4.2/{dump}"))
        .join(format!("{pagemap}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoded: Value = serde_json::from_str(&text).expect("crit JSON");
    decoded["entries"][0]["pages_id"]
        .as_u64()
        .expect("pages_id")
}

/// The size of each `pages-N.img` of a dump, from the file system.
fn pages_file_sizes(dump: &str) -> BTreeMap<u64, u64> {
    std::fs::read_dir(dump_dir(dump))
        .expect("dump dir")
        .filter_map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name
                .strip_prefix("pages-")?
                .strip_suffix(".img")?
                .parse()
                .ok()?;
            Some((id, e.metadata().expect("metadata").len()))
        })
        .collect()
}

/// Memory counted once (issue 19.4): the summary's stored bytes are what the pages files hold,
/// its shared bytes what the shared-memory pages files hold, and each process's own and shared
/// parts are its own pages file and the shared pages it maps; for wholetruth also the truth's
/// image sizes and smaps (CRIU stores every present anonymous private page and the vDSO, and
/// shared anonymous memory once).
#[test]
fn memory_is_counted_once_per_stored_page() {
    for dump in ["model", "wholetruth", "wholetruth-2"] {
        let sizes = pages_file_sizes(dump);
        let report = report(dump, &[]);
        let summary = &report["summary"];
        assert_eq!(
            summary["memory"]["dumped_bytes"].as_u64().unwrap(),
            sizes.values().sum::<u64>(),
            "{dump}"
        );
        assert_eq!(
            summary["memory"]["dumped_bytes"],
            report["checkpoint_size"]["memory_pages_size"]
        );
        let expected = crate::support::crit::expected_dir(&format!("criu-4.2/{dump}"));
        let shared_ids: BTreeSet<u64> = std::fs::read_dir(&expected)
            .expect("expected dir")
            .filter_map(|e| {
                let name = e.expect("entry").file_name().to_string_lossy().into_owned();
                let image = name.strip_suffix(".json")?;
                image
                    .starts_with("pagemap-shmem-")
                    .then(|| crit_pages_id(dump, image))
            })
            .collect();
        assert!(!shared_ids.is_empty(), "{dump} has shared memory");
        let shared: u64 = shared_ids.iter().map(|id| sizes[id]).sum();
        assert_eq!(
            summary["memory"]["shared_bytes"].as_u64().unwrap(),
            shared,
            "{dump}"
        );
        let truth = truth(dump);
        let mut mapped_shared_total = 0;
        for process in summary["tree"].as_array().unwrap() {
            let pid = process["pid"].as_u64().unwrap();
            let own = crit_pages_id(dump, &format!("pagemap-{pid}.img"));
            assert_eq!(
                process["memory"]["own_bytes"].as_u64(),
                Some(sizes[&own]),
                "{pid}"
            );
            mapped_shared_total += process["memory"]["shared_bytes"].as_u64().unwrap();
            let Some(smaps) = crate::support::truth::process(&truth, pid)["smaps"].as_array()
            else {
                continue;
            };
            // The truth's smaps: anonymous private pages and the vDSO are what CRIU stores of
            // the process itself; shared anonymous memory is stored once, in its own file.
            let kib = |vma: &Value, key: &str| vma[key].as_u64().unwrap() * 1024;
            let private: u64 = smaps
                .iter()
                .filter(|v| v["perms"].as_str().unwrap().ends_with('p'))
                .map(|v| {
                    if v["path"] == "[vdso]" {
                        kib(v, "Rss")
                    } else {
                        kib(v, "Anonymous")
                    }
                })
                .sum();
            assert_eq!(
                process["memory"]["own_bytes"].as_u64(),
                Some(private),
                "{pid}"
            );
            let shared_anon: u64 = smaps
                .iter()
                .filter(|v| v["path"] == "/dev/zero (deleted)")
                .map(|v| kib(v, "Rss"))
                .sum();
            assert_eq!(
                process["memory"]["shared_bytes"].as_u64(),
                Some(shared_anon),
                "{pid}"
            );
        }
        // the per-process view counts shared memory once per process that maps it; the
        // checkpoint's, once
        assert!(mapped_shared_total > shared, "{dump}");
        if let Some(images) = truth["images"].as_object() {
            let from_truth: u64 = images
                .iter()
                .filter(|(name, _)| name.starts_with("pages-"))
                .map(|(_, size)| size.as_u64().unwrap())
                .sum();
            assert_eq!(summary["memory"]["dumped_bytes"].as_u64(), Some(from_truth));
            let anon = &truth["wholetruth"]["shared_memory"]["anon"];
            assert_eq!(
                summary["memory"]["shared_bytes"].as_u64(),
                anon["size"].as_u64(),
                "{dump}: the anonymous shared memory, every page present, once"
            );
        }
    }
}

/// A socket held by three processes is one listener with three holders; UDP sockets are
/// `UNCONN` or `ESTABLISHED` as `ss` says; unix names keep their NUL (issue 19.8).
#[test]
fn sockets_are_counted_once_and_named_as_ss_names_them() {
    for dump in DUMPS {
        let truth = truth(dump);
        let whole = &truth["wholetruth"];
        let summary = report(dump, &[])["summary"].clone();
        let sockets_report = report(dump, &["--sockets"]);
        let listener = &whole["tcp_listener"];
        let listening = summary["listening"].as_array().unwrap();
        let same: Vec<&Value> = listening
            .iter()
            .filter(|s| s["ino"] == listener["ino"])
            .collect();
        assert_eq!(same.len(), 1, "{dump}: one entry for the shared listener");
        assert_eq!(same[0]["local"], listener["local"]);
        let holders: BTreeSet<(u64, u64)> = same[0]["holders"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| {
                let pid = h["pid"].as_u64().unwrap();
                h["fds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |fd| (pid, fd.as_u64().unwrap()))
            })
            .collect();
        let want: BTreeSet<(u64, u64)> = listener["holders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["pid"].as_u64().unwrap(), h["fd"].as_u64().unwrap()))
            .collect();
        assert_eq!(holders, want, "{dump}");
        // every listening socket once: the TCP listener, the bound UDP socket, the unix
        // listeners
        let udp = whole["udp"].as_array().unwrap();
        let unix = whole["unix_sockets"].as_array().unwrap();
        let listeners = 1
            + udp.iter().filter(|u| u["peer"].is_null()).count()
            + unix.iter().filter(|u| u["listening"] == true).count();
        assert_eq!(
            summary["totals"]["listening"].as_u64(),
            Some(listeners as u64)
        );
        assert_eq!(listening.len(), listeners);
        // UDP: the kernel keeps TCP_CLOSE (07) for an unconnected socket, TCP_ESTABLISHED (01)
        // for a connected one; ss calls them UNCONN and ESTAB
        let sockets: Vec<&Value> = sockets_report["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["open_sockets"].as_array().unwrap())
            .collect();
        for socket in udp {
            let ours = sockets
                .iter()
                .find(|s| s["data"]["ino"] == socket["ino"])
                .expect("the UDP socket");
            let want = match socket["state"].as_str().unwrap() {
                "07" => "UNCONN",
                "01" => "ESTABLISHED",
                other => panic!("UDP state {other}"),
            };
            assert_eq!(ours["protocol"], "UDP");
            assert_eq!(ours["data"]["state"], want, "{dump} {}", socket["local"]);
        }
        // unix names byte for byte (an abstract name with a NUL inside, a path without its
        // padding NUL)
        for socket in unix {
            let ours = sockets
                .iter()
                .find(|s| s["data"]["ino"] == socket["ino"])
                .expect("the unix socket");
            let want = socket["local"].as_str().unwrap();
            assert_eq!(
                ours["data"]["address"].as_str().unwrap_or(""),
                want,
                "{dump}"
            );
            assert_eq!(
                ours["data"]["recv_queue"].as_u64(),
                Some(socket["inq_bytes"].as_u64().unwrap_or(0)),
                "{dump}: unread bytes of socket {}",
                socket["ino"]
            );
        }
    }
}

/// The Redis URL planted in two processes' heaps (the same address: the child was forked) is
/// one secret with a copy in each (issue 19.8).
#[test]
fn a_secret_in_two_heaps_has_two_copies() {
    for dump in DUMPS {
        let truth = truth(dump);
        let needle = crate::support::truth::needle(&truth, "url.redis.password");
        let text = needle["text"].as_str().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
            .args(["analyze", "--local"])
            .arg(dump_dir(dump))
            .args(["--secrets", "--reveal", "-o", "json"])
            .output()
            .expect("the binary runs");
        assert!(out.status.success());
        let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let secret = reports[0]["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["value"] == text)
            .expect("the Redis password");
        let hits = needle["memory_hits"].as_array().unwrap();
        assert_eq!(secret["copies"].as_u64(), Some(hits.len() as u64), "{dump}");
        let ours: BTreeSet<(u64, u64)> = secret["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["pid"].as_u64().unwrap(), hex(&l["address"])))
            .collect();
        let want: BTreeSet<(u64, u64)> = hits
            .iter()
            .map(|h| (h["pid"].as_u64().unwrap(), hex(&h["address"])))
            .collect();
        assert_eq!(ours, want, "{dump}");
    }
}

/// Disguises and ordinary renames (issue 19.5): the process named like a kernel thread (its
/// command line in brackets) is disguised; workers renamed with PR_SET_NAME and a renamed
/// thread are not; the copy run from /tmp is `exe-in-tmp` (its name is its executable's).
#[test]
fn only_disguises_are_disguised_processes() {
    for dump in DUMPS {
        let truth = truth(dump);
        let whole = &truth["wholetruth"];
        let report = report(dump, &["--indicators"]);
        let found = report["indicators"]["found"].as_array().unwrap();
        let kinds = |pid: &Value| -> BTreeSet<String> {
            found
                .iter()
                .filter(|i| i["pid"] == *pid)
                .map(|i| i["kind"].as_str().unwrap().to_owned())
                .collect()
        };
        for name in whole["names"].as_array().unwrap() {
            let pid = &name["pid"];
            let role = name["role"].as_str().unwrap();
            let kinds = kinds(pid);
            let disguised = kinds.contains("comm-differs-from-exe");
            match role {
                "disguised" => {
                    assert!(disguised, "{dump}: {role} {pid}");
                    let indicator = found
                        .iter()
                        .find(|i| i["pid"] == *pid && i["kind"] == "comm-differs-from-exe")
                        .unwrap();
                    let evidence = indicator["evidence"].as_array().unwrap();
                    let comm = name["comm"].as_str().unwrap();
                    let argv0 = name["cmdline"][0].as_str().unwrap();
                    assert!(evidence[0].as_str().unwrap().contains(comm));
                    assert!(evidence.iter().any(|e| e == &format!("argv[0] {argv0}")));
                }
                "tmp-exe" => {
                    assert!(!disguised, "{dump}: {role} {pid}");
                    assert!(kinds.contains("exe-in-tmp"), "{dump}: {role} {pid}");
                    assert_eq!(name["exe_basename_equals_comm"], true);
                }
                // the root, its renamed thread, and the workers renamed with PR_SET_NAME
                _ => assert!(!disguised, "{dump}: {role} {pid} ({})", name["comm"]),
            }
        }
        // nothing else is found in this tree
        let pids: BTreeSet<u64> = found.iter().map(|i| i["pid"].as_u64().unwrap()).collect();
        let expected: BTreeSet<u64> = ["disguised", "tmp-exe"]
            .iter()
            .map(|r| whole["roles"][r].as_u64().unwrap())
            .collect();
        assert_eq!(pids, expected, "{dump}");
    }
}

/// Every byte of the environment is kept (issue 19.6): each entry of `environment`, turned back
/// into bytes by the model's one rule, is the kernel's entry byte for byte (one holds the byte
/// 0xe9, which is not UTF-8); an entry without `=` is no variable (`null`), an empty value is
/// `""`.
#[test]
fn environment_bytes_are_kept_and_entries_without_equals_are_told_apart() {
    use checkpoint_model::dump::text::bytes_of;
    for dump in DUMPS {
        let truth = truth(dump);
        let environ = &truth["wholetruth"]["environ"];
        assert_eq!(environ["as_planned"], true);
        let want: Vec<Vec<u8>> = environ["entries_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        assert!(!environ["non_utf8"].as_array().unwrap().is_empty());
        let report = report(dump, &["--env"]);
        let mut nodes = vec![&report["process_tree"]];
        let mut seen = BTreeSet::new();
        while let Some(node) = nodes.pop() {
            nodes.extend(node["children"].as_array().into_iter().flatten());
            let pid = node["pid"].as_u64().unwrap();
            if !environ["same_in"]
                .as_array()
                .unwrap()
                .contains(&node["pid"])
            {
                continue;
            }
            seen.insert(pid);
            let got: Vec<Vec<u8>> = node["environment"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| bytes_of(e.as_str().unwrap()).expect("text the model made"))
                .collect();
            assert_eq!(got, want, "{dump} {pid}");
            let map = node["environment_variables"].as_object().unwrap();
            for entry in environ["without_equals"].as_array().unwrap() {
                assert!(
                    map[entry.as_str().unwrap()].is_null(),
                    "{dump} {pid} {entry}"
                );
            }
            for entry in environ["empty_values"].as_array().unwrap() {
                let name = entry.as_str().unwrap().trim_end_matches('=');
                assert_eq!(map[name], "", "{dump} {pid} {entry}");
            }
            for entry in environ["non_utf8"].as_array().unwrap() {
                let bytes = hex::decode(entry.as_str().unwrap()).unwrap();
                let text = checkpoint_model::dump::text::lossless(&bytes);
                let (name, value) = text.split_once('=').unwrap();
                assert_eq!(map[name], value, "{dump} {pid}");
                assert!(value.contains("\\x"), "{value}");
            }
        }
        assert_eq!(seen.len(), environ["same_in"].as_array().unwrap().len());
    }
}

/// Secrets (issue 19.9): the AWS secret key beside its key id in JSON under a field that does
/// not say so is found; the GitHub token with a right checksum is a confident finding, the one
/// with a wrong checksum a low-confidence one (not dropped); the summary counts the confident
/// ones and says how many low-confidence ones there are.
#[test]
fn secrets_next_to_their_key_id_and_tokens_that_fail_their_checksum() {
    for dump in DUMPS {
        let truth = truth(dump);
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
            .args(["analyze", "--local"])
            .arg(dump_dir(dump))
            .args(["--secrets", "--reveal", "-o", "json"])
            .output()
            .expect("the binary runs");
        assert!(out.status.success());
        let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let secrets = reports[0]["secrets"].as_array().unwrap();
        let find = |id: &str| -> (&Value, &Value) {
            let needle = crate::support::truth::needle(&truth, id);
            let secret = secrets
                .iter()
                .find(|s| s["value"] == needle["text"])
                .unwrap_or_else(|| panic!("{dump}: {id} not found"));
            (needle, secret)
        };
        for (id, kind, confident) in [
            ("aws.secret", "aws-secret-access-key", true),
            ("aws.access_key_id", "aws-access-key-id", true),
            ("github.pat", "github-token", true),
            ("decoy.ghp_bad_checksum", "github-token", false),
        ] {
            let (needle, secret) = find(id);
            assert_eq!(secret["kind"], kind, "{dump} {id}");
            assert_eq!(
                secret.get("low_confidence").is_none(),
                confident,
                "{dump} {id}"
            );
            let at: BTreeSet<(u64, u64)> = secret["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| (l["pid"].as_u64().unwrap(), hex(&l["address"])))
                .collect();
            let want: BTreeSet<(u64, u64)> = needle["memory_hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["pid"].as_u64().unwrap(), hex(&h["address"])))
                .collect();
            assert_eq!(at, want, "{dump} {id}");
        }
        // the JSON field's name is not one the secret-key rule knows
        let json = crate::support::truth::needle(&truth, "aws.json")["text"]
            .as_str()
            .unwrap();
        assert!(!json.to_ascii_lowercase().contains("secret_access_key"));
        let summary = report(dump, &[])["summary"]["secrets"].clone();
        let low = secrets
            .iter()
            .filter(|s| s.get("low_confidence").is_some())
            .count();
        assert_eq!(summary["low_confidence"].as_u64(), Some(low as u64));
        assert_eq!(
            summary["secrets"].as_u64(),
            Some((secrets.len() - low) as u64)
        );
    }
}

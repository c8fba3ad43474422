//! The generated fixtures (scripts/fixtures) against their truth files (tests/fixtures/truth):
//! every truth parses, names the pids and threads pstree.img names with the thread names the
//! core images hold, says where CRIU stored each memory hit (and the bytes are there), and finds
//! every planted value that lives outside memory in the image that should hold it. The CRI-O
//! archive holds the same images as the bare dump.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use checkpoint_images::messages::{CoreEntry, PstreeEntry};
use checkpoint_images::read_entries;
use serde_json::Value;

use crate::support::truth::{dump_dir, fixtures, hex, load as truth, needle, DUMPS as TRUTHS};

fn image<M: checkpoint_images::CriuMessage>(dir: &Path, name: &str) -> Vec<M> {
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    read_entries(name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn u32_of(value: &Value) -> u32 {
    u32::try_from(value.as_u64().expect("a number")).expect("fits u32")
}

#[test]
fn truth_pids_and_threads_are_pstrees() {
    for name in TRUTHS {
        let truth = truth(name);
        let dir = dump_dir(name);
        let tree: Vec<PstreeEntry> = image(&dir, "pstree.img");
        let pids: Vec<u32> = truth["pids"]
            .as_array()
            .unwrap()
            .iter()
            .map(u32_of)
            .collect();
        let mut tree_pids: Vec<u32> = tree.iter().map(|p| p.pid).collect();
        tree_pids.sort_unstable();
        assert_eq!(pids, tree_pids, "{name}");
        assert_eq!(u32_of(&truth["root_pid"]), tree[0].pid, "{name}");
        for process in truth["processes"].as_array().unwrap() {
            let pid = u32_of(&process["pid"]);
            let entry = tree.iter().find(|p| p.pid == pid).expect("in pstree");
            if pid != tree[0].pid {
                assert_eq!(u32_of(&process["ppid"]), entry.ppid, "{name} {pid}");
            }
            assert_eq!(u32_of(&process["pgid"]), entry.pgid, "{name} {pid}");
            let threads = process["threads"].as_array().unwrap();
            let tids: Vec<u32> = threads.iter().map(|t| u32_of(&t["tid"])).collect();
            assert_eq!(tids, entry.threads, "{name} {pid}");
            for thread in threads {
                let tid = u32_of(&thread["tid"]);
                // every thread's name is in thread_core (the leader's also in tc)
                let core: Vec<CoreEntry> = image(&dir, &format!("core-{tid}.img"));
                let thread_core = core[0].thread_core.as_ref().expect("thread_core");
                assert_eq!(
                    thread_core.comm.as_deref(),
                    thread["comm"].as_str(),
                    "{name} tid {tid}"
                );
            }
        }
    }
}

#[test]
fn stored_memory_hits_are_in_the_pages_files() {
    let mut checked = 0;
    for name in TRUTHS {
        let truth = truth(name);
        for needle in truth["needles"].as_array().unwrap() {
            let text = needle["text"].as_str().unwrap().as_bytes();
            for hit in needle["memory_hits"].as_array().unwrap() {
                let stored = &hit["stored"];
                if stored.is_null() {
                    // Only pages CRIU does not store (a file's pages, POSIX shm under /dev/shm:
                    // wholetruth) may be missing, and then no pages file holds the bytes.
                    let in_pages = needle["image_hits"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|h| h["file"].as_str().unwrap().starts_with("pages-"));
                    assert!(
                        hit["not_stored"].is_string() && !in_pages,
                        "{name}: {} at {} is not stored: {}",
                        needle["id"],
                        hit["address"],
                        hit["not_stored"]
                    );
                    continue;
                }
                assert_eq!(stored["verified"], true, "{name}: {}", needle["id"]);
                let pages =
                    std::fs::read(dump_dir(name).join(stored["pages"].as_str().unwrap())).unwrap();
                let offset = usize::try_from(hex(&stored["offset"])).unwrap();
                // the bytes up to the end of the hit's first page are back to back
                let address = hex(&hit["address"]);
                let in_page = usize::try_from(4096 - address % 4096)
                    .unwrap()
                    .min(text.len());
                assert_eq!(
                    &pages[offset..offset + in_page],
                    &text[..in_page],
                    "{name}: {} at {}",
                    needle["id"],
                    hit["address"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "{checked}");
}

/// The image that must hold a value planted outside process memory.
fn image_for(place: &str) -> Option<&'static str> {
    Some(match place {
        "ghost" | "deleted_map_file" => "ghost-file-",
        "pipe" => "pipes-data.img",
        "fifo" => "fifo-data.img",
        "unix" | "unix_a2b" | "unix_b2a" => "sk-queues.img",
        "tcp_delivered" | "tcp_unsent" | "tcp_unread" => "tcp-stream-",
        "sysv_detached" => "pages-",
        _ => return None,
    })
}

#[test]
fn values_outside_memory_are_in_their_images() {
    let mut checked = 0;
    for name in TRUTHS {
        let truth = truth(name);
        for needle in truth["needles"].as_array().unwrap() {
            let hits: Vec<&str> = needle["image_hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["file"].as_str().unwrap())
                .collect();
            for place in needle["places"].as_array().unwrap() {
                if let Some(prefix) = image_for(place.as_str().unwrap()) {
                    assert!(
                        hits.iter().any(|f| f.starts_with(prefix)),
                        "{name}: {} (planted in {place}) not in {prefix}*: {hits:?}",
                        needle["id"]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 15, "{checked}");
}

#[test]
fn diff_truth_matches_the_two_dumps() {
    let diff = truth("diff");
    let (old, new) = (truth("diff-1"), truth("diff-2"));
    let pids = |t: &Value| -> Vec<u64> {
        t["pids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect()
    };
    let added: Vec<u64> = diff["processes"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    let removed: Vec<u64> = diff["processes"]["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(added.len(), 1);
    assert_eq!(removed.len(), 1);
    assert!(pids(&new).contains(&added[0]) && !pids(&old).contains(&added[0]));
    assert!(pids(&old).contains(&removed[0]) && !pids(&new).contains(&removed[0]));
    let fds = diff["fds"].as_array().unwrap();
    assert!(fds.iter().any(|f| f["added"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["target"] == "/srv/app/diff/journal.log")));
    let after = needle(&diff, "after");
    assert_eq!(after["old"].as_array().unwrap().len(), 0);
    assert_eq!(after["new"][0]["address"], "0x7e5a5a000100");
}

#[test]
fn indicator_trees_say_what_each_process_shows() {
    let shown = |name: &str| -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for p in truth(name)["processes"].as_array().unwrap() {
            for i in p["indicators"].as_array().expect("indicators") {
                *out.entry(i.as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
        out
    };
    let suspicious = shown("indicators");
    for indicator in [
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
    ] {
        assert_eq!(suspicious.get(indicator), Some(&1), "{indicator}");
    }
    assert!(shown("clean").is_empty());
}

#[test]
fn the_crio_archive_holds_the_secrets_dump() {
    let truth = truth("secrets");
    let archive = &truth["archive"];
    let path = fixtures()
        .join("crio-secrets")
        .join(archive["file"].as_str().unwrap());
    let mut tar = tar::Archive::new(std::fs::File::open(&path).expect("archive"));
    let mut members = Vec::new();
    let dir = dump_dir("secrets");
    for entry in tar.entries().expect("tar") {
        let mut entry = entry.expect("member");
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        let bare = match name.strip_prefix("checkpoint/") {
            Some("") => None,
            Some(image) => Some(image.to_owned()),
            None if name == "stats-dump" || name == "dump.log" => Some(name.clone()),
            None => None,
        };
        if let Some(bare) = bare {
            assert_eq!(data, std::fs::read(dir.join(&bare)).unwrap(), "{name}");
        }
        if name == "rootfs-diff.tar" {
            let mut inner = tar::Archive::new(&data[..]);
            for file in inner.entries().unwrap() {
                let mut file = file.unwrap();
                let rel = file.path().unwrap().to_string_lossy().into_owned();
                let mut content = Vec::new();
                file.read_to_end(&mut content).unwrap();
                for hit in archive["rootfs_diff_hits"].as_array().unwrap() {
                    if hit["path"] != rel.as_str() {
                        continue;
                    }
                    let needle = needle(&truth, hit["needle"].as_str().unwrap());
                    let text = needle["text"].as_str().unwrap().as_bytes();
                    let at = usize::try_from(hit["offset"].as_u64().unwrap()).unwrap();
                    assert_eq!(&content[at..at + text.len()], text, "{rel}");
                }
            }
        }
        members.push(name);
    }
    let expected: Vec<String> = archive["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(members, expected);
}

/// The wholetruth truths against crit 4.2's decode of files.img and fifo-data.img: each epoll
/// instance's registrations, each inotify watch and fanotify mark, and the FIFO's unread bytes
/// as /proc showed them are what CRIU stored.
#[test]
fn wholetruth_event_loops_and_watches_are_in_files_img() {
    let hex_of =
        |v: &Value| u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    for name in ["wholetruth", "wholetruth-2"] {
        let truth = truth(name);
        let whole = &truth["wholetruth"];
        let dir = crate::support::crit::expected_dir(&format!("criu-4.2/{name}"));
        let files: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("files.img.json")).unwrap())
                .unwrap();
        let entries = files["entries"].as_array().unwrap();
        let of_type =
            |t: &str| -> Vec<&Value> { entries.iter().filter(|e| e["type"] == t).collect() };
        // two epoll instances, their registrations in the kernel's order
        let epolls = of_type("EVENTPOLL");
        assert_eq!(epolls.len(), 2, "{name}");
        for (instance, stored) in ["outer", "inner"].iter().zip(&epolls) {
            let want = whole["epoll"][instance]["targets"].as_array().unwrap();
            let got = stored["epfd"]["tfd"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{name} {instance}");
            for (got, want) in got.iter().zip(want) {
                assert_eq!(got["tfd"], want["tfd"]);
                assert_eq!(got["events"].as_u64().unwrap(), hex_of(&want["events"]));
                assert_eq!(got["data"].as_u64().unwrap(), hex_of(&want["data"]));
                assert_eq!(got["inode"], want["ino"]);
            }
        }
        let inotify = of_type("INOTIFY");
        let mut stored: Vec<(u64, String, u64)> = inotify[0]["ify"]["wd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["wd"].as_u64().unwrap(),
                    w["f_handle"]["path"].as_str().unwrap().to_owned(),
                    hex_of(&w["mask"]),
                )
            })
            .collect();
        let mut want: Vec<(u64, String, u64)> = whole["inotify"]["watches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["wd"].as_u64().unwrap(),
                    w["path"].as_str().unwrap().to_owned(),
                    hex_of(&w["mask"]),
                )
            })
            .collect();
        stored.sort();
        want.sort();
        assert_eq!(stored, want, "{name}");
        let fanotify = of_type("FANOTIFY");
        let marks: BTreeMap<String, (u64, u64)> = fanotify[0]["ffy"]["mark"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["ie"]["f_handle"]["path"].as_str().unwrap().to_owned(),
                    (hex_of(&m["mask"]), hex_of(&m["ignored_mask"])),
                )
            })
            .collect();
        let want: BTreeMap<String, (u64, u64)> = whole["fanotify"]["marks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["path"].as_str().unwrap().to_owned(),
                    (hex_of(&m["mask"]), hex_of(&m["ignored_mask"])),
                )
            })
            .collect();
        assert_eq!(marks, want, "{name}");
        let fifo: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("fifo-data.img.json")).unwrap())
                .unwrap();
        assert_eq!(fifo["magic"], "FIFO_DATA");
        assert_eq!(fifo["entries"][0]["pipe_id"], whole["fifo"]["ino"]);
        assert_eq!(fifo["entries"][0]["bytes"], whole["fifo"]["unread_bytes"]);
    }
}

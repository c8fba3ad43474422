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
                assert!(
                    stored.is_object(),
                    "{name}: {} at {} is not stored: {}",
                    needle["id"],
                    hit["address"],
                    hit["not_stored"]
                );
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
        "ghost" => "ghost-file-",
        "pipe" => "pipes-data.img",
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

//! Our decodes of every fixture image against crit's: CRIU 4.2's crit (the stored decodes under
//! tests/fixtures/expected/crit-4.2) byte for byte and value by value, and the installed Debian
//! crit (3.17) run live on the CRIU 4.1 images.

use crate::support::{crit, truth};

use std::path::{Path, PathBuf};
use std::process::Command;

use checkpoint_images::{decode_image, decode_image_with, Style};
use checkpoint_model::archive::Checkpoint;
use serde_json::Value;

/// The secrets dump as a CRI-O archive (its name carries the time of the dump).
fn crio_secrets() -> String {
    let archive = truth::load("secrets");
    format!(
        "crio-secrets/{}",
        archive["archive"]["file"].as_str().expect("archive file")
    )
}

/// Where crit's decodes of a fixture are: the archive of the secrets dump holds its images
/// unchanged, so it shares theirs.
fn expected_dir(fixture: &str) -> PathBuf {
    match fixture {
        "crio-secrets" => crit::expected_dir("criu-4.2/secrets"),
        _ => crit::expected_dir(fixture),
    }
}

/// A fixture's decodable images: (name as in the expected dir, bytes).
fn images_of(fixture: &str) -> Vec<(String, Vec<u8>)> {
    let archive = match fixture {
        "crio" => Some(
            "crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar"
                .to_owned(),
        ),
        "podman/ckpt-image-plain" => Some("podman/ckpt-image-plain.tar".to_owned()),
        "crio-secrets" => Some(crio_secrets()),
        _ => None,
    };
    match archive {
        Some(rel) => archive_images(&crit::fixtures().join(rel)),
        None => {
            let dir = crit::fixtures().join(fixture);
            crit::decodable_images(&dir)
                .into_iter()
                .map(|name| {
                    let bytes = std::fs::read(dir.join(&name)).expect("read image");
                    (name, bytes)
                })
                .collect()
        }
    }
}

/// Every image of `checkpoint/` and the stats-dump of an archive, read in place.
fn archive_images(path: &Path) -> Vec<(String, Vec<u8>)> {
    let ckpt = Checkpoint::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<(String, Vec<u8>)> = ckpt
        .image_names()
        .filter(|n| crit::is_decodable(n))
        .map(|n| {
            (
                n.to_owned(),
                ckpt.read_image(n).unwrap_or_else(|e| panic!("{e}")),
            )
        })
        .collect();
    if let Some(stats) = ckpt.stats_dump().expect("stats-dump") {
        out.push(("stats-dump".to_owned(), stats));
    }
    out.sort();
    out
}

const FIXTURES: &[&str] = &[
    "criu-4.2/py",
    "criu-4.2/tree",
    "criu-4.1/tree",
    "crio",
    "podman/ckpt-image-plain",
    "criu-4.2/model",
    "criu-4.2/secrets",
    "crio-secrets",
    "criu-4.2/indicators",
    "criu-4.2/clean",
    "criu-4.2/diff-1",
    "criu-4.2/diff-2",
    "criu-4.2/wholetruth",
    "criu-4.2/wholetruth-2",
];

/// Images crit 4.2 gets wrong, so that its decode is not ours: the model's ipcns-shm image holds
/// two SysV segments with `in_pagemaps`, and crit reads `size` bytes of inline data after the
/// first entry (CRIU wrote none), swallowing the second (see
/// `crit_4_2_swallows_the_second_sysv_segment`).
fn crit_misreads(fixture: &str, image: &str) -> bool {
    fixture == "criu-4.2/model" && image.starts_with("ipcns-shm-")
}

fn pretty_text(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut ser).expect("serialize");
    out.push(b'\n');
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn every_image_decodes_as_crit_4_2_byte_for_byte() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for fixture in FIXTURES {
        let images = images_of(fixture);
        assert!(
            images.len() >= 10,
            "{fixture}: only {} images",
            images.len()
        );
        for (name, bytes) in images {
            if crit_misreads(fixture, &name) {
                continue;
            }
            let expected_path = expected_dir(fixture).join(format!("{name}.json"));
            let expected_text = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (every image needs crit's decode)",
                    expected_path.display()
                )
            });
            let expected: Value = serde_json::from_str(&expected_text).expect("expected JSON");
            let ours = match decode_image(&format!("{fixture}/{name}"), &bytes) {
                Ok(image) => image.to_value(),
                Err(e) => {
                    failures.push(format!("{fixture}/{name}: {e}"));
                    continue;
                }
            };
            if ours != expected {
                failures.push(format!("{fixture}/{name}: values differ from crit's"));
            } else if pretty_text(&ours) != expected_text {
                failures.push(format!(
                    "{fixture}/{name}: same values, different text (key order?)"
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // 108 in the hand-collected fixtures; 248 in the six generated dumps, less the one crit
    // misreads, the 27 of the secrets archive, and the 44 of each wholetruth dump
    assert_eq!(checked, 108 + 247 + 27 + 2 * 44);
}

#[test]
fn plain_decodes_hold_the_values_crit_prints_pretty() {
    let mut diffs = Vec::new();
    for fixture in FIXTURES {
        for (name, bytes) in images_of(fixture) {
            if crit_misreads(fixture, &name) {
                continue;
            }
            let expected: Value = serde_json::from_str(
                &std::fs::read_to_string(expected_dir(fixture).join(format!("{name}.json")))
                    .expect("expected"),
            )
            .expect("expected JSON");
            let ours = decode_image_with(&name, &bytes, Style::Plain)
                .expect("decode")
                .to_value();
            crit::compare_plain_with_pretty(
                &ours,
                &expected,
                "",
                &format!("{fixture}/{name}"),
                &mut diffs,
            );
        }
    }
    assert!(diffs.is_empty(), "{diffs:#?}");
}

/// Fields CRIU added after 3.17: the installed crit does not know them, so it cannot print them.
const NEWER_THAN_CRIT_3_17: &[&str] = &[
    "/thread_core/cg_set",
    "/thread_core/creds/cap_amb",
    "/thread_info/fpregs/xsave/cet",
    "/isk/ip_opts/ttl",
    "/isk/tcp_opts",
    "/dump_criu_run_id",
    "/plugins_entry",
    "/nr_pages",
];

/// Compares with crit 3.17's pretty output: every value it prints must be ours (its pagemap
/// field 2 is called `nr_pages`, ours `compat_nr_pages` as in CRIU 4.2); fields only we print
/// must be ones CRIU added after 3.17.
fn compare_with_old_crit(ours: &Value, theirs: &Value, path: &str, diffs: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let is_pagemap_entry = a.contains_key("compat_nr_pages");
            for (k, v) in b {
                let our_key = if is_pagemap_entry && k == "nr_pages" {
                    "compat_nr_pages"
                } else {
                    k.as_str()
                };
                match a.get(our_key) {
                    Some(mine) => compare_with_old_crit(mine, v, &format!("{path}/{k}"), diffs),
                    None => diffs.push(format!("{path}/{k}: crit prints it, we do not")),
                }
            }
            for k in a.keys() {
                let theirs_key = if is_pagemap_entry && k == "compat_nr_pages" {
                    "nr_pages"
                } else {
                    k.as_str()
                };
                let generic = format!("{}/{k}", strip_indices(path));
                if !b.contains_key(theirs_key)
                    && !NEWER_THAN_CRIT_3_17.iter().any(|f| generic.ends_with(f))
                {
                    diffs.push(format!("{path}/{k}: we print it, crit 3.17 does not"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare_with_old_crit(x, y, &format!("{path}/{i}"), diffs);
            }
        }
        _ if ours == theirs => {}
        _ => diffs.push(format!("{path}: {ours} vs crit {theirs}")),
    }
}

/// `/entries/0/thread_core` -> `/thread_core`: the field path without the entry index part.
fn strip_indices(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != "entries" && p.parse::<usize>().is_err())
        .fold(String::new(), |acc, p| acc + "/" + p)
}

#[test]
fn installed_crit_agrees_on_criu_4_1_images() {
    let dir = crit::fixtures().join("criu-4.1/tree");
    let mut diffs = Vec::new();
    let images = crit::decodable_images(&dir);
    assert!(images.len() >= 25);
    for name in &images {
        let path = dir.join(name);
        let output = Command::new("crit")
            .args(["decode", "--pretty", "-i"])
            .arg(&path)
            .output()
            .expect("run crit (apt-get install criu)");
        assert!(
            output.status.success(),
            "crit failed on {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let theirs: Value = serde_json::from_slice(&output.stdout).expect("crit JSON");
        let bytes = std::fs::read(&path).expect("read image");
        let ours = decode_image(name, &bytes).expect("decode").to_value();
        compare_with_old_crit(&ours, &theirs, name, &mut diffs);
    }
    assert!(diffs.is_empty(), "{diffs:#?}");
}

#[test]
fn compressed_archives_decode_every_image() {
    for rel in [
        "podman/ckpt-image-gzip.tar.gz",
        "podman/ckpt-rootfs-zstd.tar",
    ] {
        let images = archive_images(&crit::fixtures().join(rel));
        assert!(images.len() >= 15, "{rel}: {} images", images.len());
        for (name, bytes) in &images {
            let image = decode_image(name, bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert!(!image.entries.is_empty(), "{rel}: {name} has no entries");
            if name == "pstree.img" {
                assert_eq!(image.entries[0]["pid"], 1, "{rel}");
                assert_eq!(image.entries.len(), 2, "{rel}: sh and its sleep child");
            }
        }
    }
}

/// Every image of the generated fixtures has crit's decode beside it (make-fixtures.sh wrote
/// them), and nothing else is there.
#[test]
fn every_generated_image_has_crits_decode() {
    for name in truth::DUMPS {
        let fixture = format!("criu-4.2/{name}");
        let mut images: Vec<String> = images_of(&fixture)
            .into_iter()
            .map(|(n, _)| format!("{n}.json"))
            .collect();
        images.extend(["x-fds.txt", "x-mems.txt", "x-ps.txt", "x-rss.txt"].map(String::from));
        images.sort();
        let mut have: Vec<String> = std::fs::read_dir(crit::expected_dir(&fixture))
            .expect("expected dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        have.sort();
        assert_eq!(have, images, "{fixture}");
    }
}

/// crit 4.2 decodes an ipcns-shm entry as if `size` bytes of the segment followed it, even with
/// `in_pagemaps`, where CRIU writes the pages to pagemap-shmem-ID.img and nothing inline. With two
/// segments it shows one, whose `extra` is the second entry's frame; we show both, each with an
/// empty `extra` (what crit shows when the image has one segment, as in the secrets dump).
#[test]
fn crit_4_2_swallows_the_second_sysv_segment() {
    let fixture = "criu-4.2/model";
    let (name, bytes) = images_of(fixture)
        .into_iter()
        .find(|(n, _)| n.starts_with("ipcns-shm-"))
        .expect("the model has an ipcns-shm image");
    let ours = decode_image(&name, &bytes).expect("decode").to_value();
    let crit: Value = serde_json::from_str(
        &std::fs::read_to_string(expected_dir(fixture).join(format!("{name}.json")))
            .expect("crit's decode"),
    )
    .expect("JSON");
    let ours = ours["entries"].as_array().expect("entries");
    let theirs = crit["entries"].as_array().expect("entries");
    assert_eq!((ours.len(), theirs.len()), (2, 1));
    for entry in ours {
        assert_eq!(entry["in_pagemaps"], true);
        assert_eq!(entry["extra"], "");
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().expect("object").remove("extra");
        v
    };
    assert_eq!(strip(&ours[0]), strip(&theirs[0]));
    // crit's extra is the second entry as it stands in the file: u32 length, then the message
    let b64 = theirs[0]["extra"]
        .as_str()
        .expect("base64")
        .replace('\n', "");
    let swallowed =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).expect("base64");
    let first_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    assert_eq!(swallowed, &bytes[12 + first_len..]);
    // and it is the detached segment of the truth
    let truth = truth::load("model");
    let segments = truth["ipc"]["shm"].as_array().expect("segments");
    assert_eq!(segments.len(), 2);
    for (entry, segment) in ours.iter().zip(segments) {
        assert_eq!(
            format!("0x{:x}", entry["desc"]["key"].as_u64().expect("key")),
            segment["key"].as_str().expect("key")
        );
        assert_eq!(entry["size"], segment["size"]);
        assert_eq!(entry["desc"]["id"], segment["shmid"]);
    }
}

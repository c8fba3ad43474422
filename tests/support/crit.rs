//! Helpers to compare our decodes with crit's: the fixture images and their expected decodes, and
//! a comparison of a plain (numeric) decode with crit's `--pretty` one that turns crit's hex
//! strings, symbolic flags, device strings, dict names and addresses back into numbers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository's test fixtures directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The crit 4.2 decodes of a fixture (`criu-4.2/py`, `crio`, `podman/ckpt-image-plain`).
pub fn expected_dir(fixture: &str) -> PathBuf {
    fixtures().join("expected/crit-4.2").join(fixture)
}

/// Images of a fixture directory that crit can decode: all but `pages-*.img` and `dump.log`.
pub fn decodable_images(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| is_decodable(n))
        .collect();
    names.sort();
    names
}

/// crit decodes every image except raw ones (pages, tmpfs tarballs), logs and runc's
/// `descriptors.json`.
pub fn is_decodable(name: &str) -> bool {
    !(name.starts_with("pages-")
        || name.ends_with(".tar.gz.img")
        || name.ends_with(".log")
        || name.ends_with(".json"))
}

/// Flag names of crit's flag tables (pb2dict.py), for turning `"A | B"` back into a number.
const FLAGS: &[(&str, u64)] = &[
    ("PROT_READ", 0x1),
    ("PROT_WRITE", 0x2),
    ("PROT_EXEC", 0x4),
    ("MAP_SHARED", 0x1),
    ("MAP_PRIVATE", 0x2),
    ("MAP_DROPPABLE", 0x08),
    ("MAP_ANON", 0x20),
    ("MAP_GROWSDOWN", 0x100),
    ("VMA_AREA_REGULAR", 1 << 0),
    ("VMA_AREA_STACK", 1 << 1),
    ("VMA_AREA_VSYSCALL", 1 << 2),
    ("VMA_AREA_VDSO", 1 << 3),
    ("VMA_AREA_HEAP", 1 << 5),
    ("VMA_FILE_PRIVATE", 1 << 6),
    ("VMA_FILE_SHARED", 1 << 7),
    ("VMA_ANON_SHARED", 1 << 8),
    ("VMA_ANON_PRIVATE", 1 << 9),
    ("VMA_AREA_SYSVIPC", 1 << 10),
    ("VMA_AREA_SOCKET", 1 << 11),
    ("VMA_AREA_VVAR", 1 << 12),
    ("VMA_AREA_AIORING", 1 << 13),
    ("VMA_AREA_MEMFD", 1 << 14),
    ("VMA_AREA_SHSTK", 1 << 15),
    ("VMA_AREA_UPROBES", 1 << 17),
    ("VMA_UNSUPP", 1 << 31),
    ("O_WRONLY", 0o1),
    ("O_RDWR", 0o2),
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_DSYNC", 0o10000),
    ("FASYNC", 0o20000),
    ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000),
    ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000),
    ("F_SEAL_SEAL", 0x1),
    ("F_SEAL_SHRINK", 0x2),
    ("F_SEAL_GROW", 0x4),
    ("F_SEAL_WRITE", 0x8),
    ("F_SEAL_FUTURE_WRITE", 0x10),
    ("PE_PARENT", 1),
    ("PE_LAZY", 2),
    ("PE_PRESENT", 4),
];

/// crit's dict names (`(criu).dict`), by field name.
const DICT: &[(&str, &str, u64)] = &[
    ("task_state", "Alive", 1),
    ("task_state", "Zombie", 3),
    ("task_state", "Stopped", 6),
    ("family", "UNIX", 1),
    ("family", "INET", 2),
    ("family", "INET6", 10),
    ("family", "NETLINK", 16),
    ("family", "PACKET", 17),
    ("type", "STREAM", 1),
    ("type", "DGRAM", 2),
    ("type", "RAW", 3),
    ("type", "SEQPACKET", 5),
    ("type", "PACKET", 10),
    ("state", "ESTABLISHED", 1),
    ("state", "LISTEN", 10),
    ("state", "CLOSE", 7),
    ("proto", "IP", 0),
    ("proto", "TCP", 6),
    ("proto", "UDP", 17),
];

/// The number crit's pretty text `text` of field `field` stands for, if it is one of its forms.
fn pretty_number(field: &str, text: &str) -> Option<i128> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i128::from_str_radix(hex, 16).ok();
    }
    if let Some(hex) = text.strip_prefix("-0x") {
        return i128::from_str_radix(hex, 16).ok().map(|v| -v);
    }
    if let Some(&(_, _, v)) = DICT
        .iter()
        .find(|(f, name, _)| *f == field && *name == text)
    {
        return Some(i128::from(v));
    }
    if let Some((major, minor)) = text.split_once(':') {
        if let (Ok(major), Ok(minor)) = (major.parse::<i128>(), minor.parse::<i128>()) {
            return Some(major << 20 | minor);
        }
    }
    if text.is_empty() {
        return Some(0); // no flag set
    }
    let mut sum = 0i128;
    for part in text.split(" | ") {
        let bit = match FLAGS.iter().find(|(name, _)| *name == part) {
            Some(&(_, bit)) => i128::from(bit),
            None => i128::from_str_radix(part.strip_prefix("0x")?, 16).ok()?,
        };
        sum |= bit;
    }
    Some(sum)
}

fn number(value: &Value) -> Option<i128> {
    value
        .as_u64()
        .map(i128::from)
        .or_else(|| value.as_i64().map(i128::from))
}

/// An address string of crit as the u32 words (network byte order in memory) CRIU stores.
fn address_words(text: &str) -> Option<Vec<i128>> {
    let addr: std::net::IpAddr = text.parse().ok()?;
    let octets = match addr {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    Some(
        octets
            .chunks(4)
            .map(|w| i128::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
            .collect(),
    )
}

/// Compares our plain decode with crit's pretty one value by value, recording differences.
/// `field` is the name of the field holding these values.
pub fn compare_plain_with_pretty(
    plain: &Value,
    pretty: &Value,
    field: &str,
    path: &str,
    diffs: &mut Vec<String>,
) {
    match (plain, pretty) {
        (Value::Object(a), Value::Object(b)) => {
            let keys_a: Vec<_> = a.keys().collect();
            let keys_b: Vec<_> = b.keys().collect();
            if keys_a != keys_b {
                diffs.push(format!("{path}: keys {keys_a:?} vs crit {keys_b:?}"));
                return;
            }
            for (k, v) in a {
                compare_plain_with_pretty(v, &b[k], k, &format!("{path}/{k}"), diffs);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let ([Value::String(addr)], true) = (b.as_slice(), a.iter().all(Value::is_number)) {
                let ours: Vec<_> = a.iter().filter_map(number).collect();
                if address_words(addr) != Some(ours.clone()) {
                    diffs.push(format!("{path}: address {ours:?} vs crit {addr}"));
                }
                return;
            }
            if a.len() != b.len() {
                diffs.push(format!("{path}: {} items vs crit {}", a.len(), b.len()));
                return;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare_plain_with_pretty(x, y, field, &format!("{path}/{i}"), diffs);
            }
        }
        (Value::Number(_), Value::String(text)) => {
            if number(plain) != pretty_number(field, text) {
                diffs.push(format!("{path}: {plain} vs crit {text:?}"));
            }
        }
        (Value::Number(_), Value::Number(_)) => {
            if number(plain) != number(pretty) {
                diffs.push(format!("{path}: {plain} vs crit {pretty}"));
            }
        }
        _ => {
            if plain != pretty {
                diffs.push(format!("{path}: {plain} vs crit {pretty}"));
            }
        }
    }
}

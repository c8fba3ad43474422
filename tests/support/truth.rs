//! The truth files of the generated fixtures (tests/fixtures/truth/NAME.json, format in
//! tests/fixtures/README.md): read from /proc while each tree was stopped at its dump.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The fixtures with a truth file and a dump directory `criu-4.2/NAME`.
pub const DUMPS: &[&str] = &[
    "model",
    "secrets",
    "indicators",
    "clean",
    "diff-1",
    "diff-2",
    "wholetruth",
    "wholetruth-2",
];

/// tests/fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// truth/NAME.json, parsed.
pub fn load(name: &str) -> Value {
    let path = fixtures().join("truth").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The image directory of a fixture: criu-4.2/NAME.
pub fn dump_dir(name: &str) -> PathBuf {
    fixtures().join("criu-4.2").join(name)
}

/// A truth address or memory offset ("0x7f..") as a number.
pub fn hex(value: &Value) -> u64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a hex string"));
    let digits = text
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("{text}: no 0x"));
    u64::from_str_radix(digits, 16).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A process of a truth by pid.
pub fn process(truth: &Value, pid: u64) -> &Value {
    truth["processes"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["pid"] == pid))
        .unwrap_or_else(|| panic!("pid {pid} is not in the truth"))
}

/// A needle of a truth by id.
pub fn needle<'a>(truth: &'a Value, id: &str) -> &'a Value {
    truth["needles"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["id"] == id))
        .unwrap_or_else(|| panic!("needle {id} is not in the truth"))
}

//! The invariants every view must keep, whatever the checkpoint holds. Each oracle is written
//! here again, apart from the code it checks.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// Invisible characters that reorder or hide text on a terminal (bidi overrides and isolates,
/// zero-width and separator characters, the byte order mark).
fn is_layout(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Human output (tables, trees): UTF-8, no control character but the line feed, no layout
/// character, and no line a string of the checkpoint could have forged.
pub fn human(what: &str, bytes: &[u8]) {
    human_text(what, bytes, false);
}

/// crit's text views: as [`human`], with tabs between their columns as crit writes them.
pub fn crit_text(what: &str, bytes: &[u8]) {
    human_text(what, bytes, true);
}

fn human_text(what: &str, bytes: &[u8], tabs: bool) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for c in text.chars() {
        assert!(
            c == '\n' || (tabs && c == '\t') || !(c.is_control() || is_layout(c)),
            "{what}: raw {c:?} in {text}"
        );
    }
    assert!(
        !text.lines().any(|line| line.starts_with("error: FORGED")),
        "{what}: a forged line in {text}"
    );
}

/// A line of stderr as the binary writes it: the text escaped as a whole, one line.
pub fn stderr_line(what: &str, escaped: &str) {
    human(what, escaped.as_bytes());
    assert!(!escaped.contains('\n'), "{what}: a line break in {escaped}");
}

/// JSON reads back to the value, and carries no raw C1 control or layout character.
pub fn json<T: Serialize + ?Sized>(what: &str, value: &T, bytes: &[u8]) {
    let expected = serde_json::to_value(value).expect("a value serialises");
    let read: Value = serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{what}: JSON does not parse: {e}"));
    assert_eq!(read, expected, "{what}: JSON reads back otherwise");
    let text = std::str::from_utf8(bytes).expect("JSON is UTF-8");
    for c in text.chars() {
        assert!(
            !('\u{80}'..='\u{9f}').contains(&c) && !is_layout(c),
            "{what}: raw {c:?} in JSON"
        );
    }
}

/// YAML: no raw control character but the line feed, and every key and string reads back as
/// the same string with a YAML 1.1 reader (booleans `yes`/`no`/`on`/`off`) and a YAML 1.2 one.
pub fn yaml<T: Serialize + ?Sized>(what: &str, value: &T, bytes: &[u8]) {
    let expected = strings(&serde_json::to_value(value).expect("a value serialises"));
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for c in text.chars() {
        assert!(c == '\n' || !c.is_control(), "{what}: raw {c:?} in YAML");
    }
    let yaml_1_1: Value = serde_saphyr::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: YAML 1.1 reader refuses it: {e}\n{text}"));
    assert_eq!(
        strings(&yaml_1_1),
        expected,
        "{what}: YAML 1.1 reads otherwise\n{text}"
    );
    let yaml_1_2: Value = serde_yaml_ng::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: YAML 1.2 reader refuses it: {e}\n{text}"));
    assert_eq!(
        strings(&yaml_1_2),
        expected,
        "{what}: YAML 1.2 reads otherwise\n{text}"
    );
}

/// Every key and string of `value`, in order.
fn strings(value: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => {
                for (key, v) in map {
                    out.push(key.clone());
                    walk(v, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out
}

/// What went to disk for `path` is within the bytes of process data the archive stores, plus
/// the headers and the notes (capped at 4 MiB each).
pub fn disk(what: &str, path: &Path, stored_bytes: u64) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let on_disk = meta.blocks() * 512;
    let bound = stored_bytes + (16 << 20);
    assert!(
        on_disk <= bound,
        "{what}: {on_disk} bytes on disk from {stored_bytes} stored bytes"
    );
}

/// Output bounded by what the archive holds.
pub fn output_size(what: &str, bytes: &[u8], archive_bytes: u64) {
    let bound = archive_bytes.saturating_mul(64) + (4 << 20);
    assert!(
        (bytes.len() as u64) <= bound,
        "{what}: {} bytes of output from an archive of {archive_bytes}",
        bytes.len()
    );
}

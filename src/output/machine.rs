//! The one JSON writer and the one YAML writer of every machine format (`-o json`, `-o yaml`,
//! `decode`, the records of the cluster verbs): lossless, and safe to read back.
//!
//! - **JSON**: serde_json escapes what JSON requires (quotes, backslashes, C0 controls) and writes
//!   every other character raw. We also `\u`-escape the characters that act on a terminal or
//!   reorder text when the JSON is shown (`jq`, `less`, a log viewer): C1 controls (U+0080 to
//!   U+009F, the one-byte CSI U+009B among them) and the invisible layout characters
//!   [`escape_text`](super::escape_text) spells out (bidi overrides and isolates, zero-width and
//!   separator characters, the byte order mark). `\u` escapes are lossless: a reader gets the
//!   same string.
//! - **YAML**: serde-saphyr writes a string plain only when no YAML 1.1 or 1.2 resolver reads it
//!   back as something else: `yes`/`no`/`on`/`off`/`y`/`n` (1.1 booleans), `1_000`, `1:30`
//!   (sexagesimal), `2001-12-14` (timestamps), `<<` (merge), `=` (value), `~` and `null` are
//!   quoted, and so is anything starting with an indicator. Strings with line breaks or control
//!   characters are double-quoted with escapes, never block scalars, so no raw control character
//!   reaches the output.

use std::io::Write;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::escape::is_layout_format;
use super::Error;

/// How JSON is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonLayout {
    /// One line.
    Compact,
    /// Indented by this many spaces per level.
    Pretty(usize),
}

/// Writes `value` as JSON followed by a newline (see the module docs for what is escaped).
pub fn write_json<T: Serialize + ?Sized>(
    value: &T,
    layout: JsonLayout,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let result = match layout {
        JsonLayout::Compact => {
            let mut ser =
                serde_json::Serializer::with_formatter(&mut *out, Escaping(CompactFormatter));
            value.serialize(&mut ser)
        }
        JsonLayout::Pretty(spaces) => {
            let indent = vec![b' '; spaces];
            let formatter = Escaping(PrettyFormatter::with_indent(&indent));
            let mut ser = serde_json::Serializer::with_formatter(&mut *out, formatter);
            value.serialize(&mut ser)
        }
    };
    result.map_err(|err| {
        if err.is_io() {
            Error::Io(err.into())
        } else {
            Error::SerializeJson(err)
        }
    })?;
    writeln!(out)?;
    Ok(())
}

/// Writes `value` as one YAML document (see the module docs for what is quoted).
pub fn write_yaml<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> Result<(), Error> {
    let mut options = serde_saphyr::SerializerOptions::default();
    // Line breaks as `\n` in double quotes: exact, and one scalar is one line.
    options.prefer_block_scalars = false;
    let mut out = out;
    serde_saphyr::to_io_writer_with_options(&mut out, &value, options).map_err(|err| match err {
        serde_saphyr::SerializeError::IO { error } => Error::Io(error),
        other => Error::SerializeYaml(other),
    })
}

/// True for the characters JSON output `\u`-escapes besides those JSON requires.
fn needs_unicode_escape(c: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&c) || is_layout_format(c)
}

/// A serde_json formatter that writes as `F` does, with the characters of
/// [`needs_unicode_escape`] as `\uXXXX`.
struct Escaping<F>(F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if !needs_unicode_escape(c) {
                continue;
            }
            writer.write_all(fragment.get(start..at).unwrap_or_default().as_bytes())?;
            // Every such character is in the Basic Multilingual Plane: one escape.
            write!(writer, "\\u{:04x}", u32::from(c))?;
            start = at + c.len_utf8();
        }
        writer.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Strings that a YAML 1.1 or 1.2 reader resolves to something else when plain, and
    /// characters that act on terminals.
    const TRICKY: &[&str] = &[
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "NO",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "",
        "1_000",
        "1:30",
        "190:20:30",
        "2001-12-14",
        "2001-12-14 21:59:43.10 -5",
        "<<",
        "=",
        "0o17",
        "0x1f",
        "0b101",
        ".inf",
        "-.Inf",
        ".NaN",
        "1e3",
        "+1",
        "- a",
        "? q",
        "a: b",
        "#hash",
        "@at",
        "`tick",
        "%pct",
        "&anchor",
        "*alias",
        "!tag",
        "|pipe",
        ">fold",
        "'single",
        "\"double",
        "---",
        "...",
        "csi \u{9b}31m",
        "bidi \u{202e}txt\u{2066}iso\u{2069}",
        "nel\u{85}",
        "ls\u{2028}ps\u{2029}",
        "bom\u{feff}",
        "tab\there",
        "line\nbreak",
        " lead",
        "trail ",
        "back\\slash",
        "esc\u{1b}[2J",
    ];

    fn sample() -> BTreeMap<String, Vec<String>> {
        TRICKY
            .iter()
            .map(|s| ((*s).to_owned(), vec![(*s).to_owned()]))
            .collect()
    }

    #[test]
    fn json_escapes_c1_and_layout_characters_and_reads_back_the_same() {
        for layout in [JsonLayout::Compact, JsonLayout::Pretty(2)] {
            let mut out = Vec::new();
            write_json(&sample(), layout, &mut out).unwrap();
            let text = String::from_utf8(out.clone()).unwrap();
            assert!(
                !text.chars().any(needs_unicode_escape),
                "raw in {layout:?}: {text}"
            );
            assert!(text.contains("csi \\u009b31m"), "{text}");
            assert!(text.contains("\\u202etxt\\u2066iso\\u2069"), "{text}");
            let back: BTreeMap<String, Vec<String>> = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, sample());
        }
    }

    #[test]
    fn yaml_quotes_what_a_resolver_would_change_and_reads_back_the_same() {
        let mut out = Vec::new();
        write_yaml(&sample(), &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        for plain in [
            "yes",
            "no",
            "on",
            "off",
            "1_000",
            "1:30",
            "2001-12-14",
            "<<",
            "=",
            "~",
        ] {
            assert!(
                !text
                    .lines()
                    .any(|line| line.trim_start() == format!("- {plain}")),
                "{plain} left plain:\n{text}"
            );
        }
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        let back: BTreeMap<String, Vec<String>> = serde_yaml_ng::from_slice(&out).unwrap();
        assert_eq!(back, sample());
    }
}

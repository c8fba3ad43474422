//! Text from the checkpoint's bytes, and bounds on the names a checkpoint stores.
//!
//! # Bytes as text
//! Command lines, environments and unix socket names are bytes, not UTF-8: [`lossless`] is the
//! one way they become text. Valid UTF-8 is kept as it is, each byte that is not UTF-8 becomes
//! `\xNN`, and a backslash becomes `\\`, so the text is unambiguous and every byte can be
//! recovered ([`bytes_of`]): `BYTES_VAR=caf\xe9` is the five bytes `c a f 0xe9` after `=`,
//! `C:\\x` is a backslash then `x`. Control characters are valid UTF-8 and stay as they are
//! (JSON escapes them; the terminal renderer spells them out).
//!
//! # Bounds
//! The kernel never makes a path longer than `PATH_MAX`, a `comm` longer than `TASK_COMM_LEN`, a
//! memfd name longer than its limit. A longer one was fabricated; it is cut here, once, so that
//! no report (and no terminal) gets more than the kernel could have produced, however many
//! descriptors or mappings use it.

/// `PATH_MAX`: the longest path the kernel hands out, NUL included.
pub const PATH_MAX: usize = 4096;

/// `TASK_COMM_LEN`: a task's name, NUL included.
pub const TASK_COMM_LEN: usize = 16;

/// The longest unix socket address (`sizeof(sun_path)`).
pub const UNIX_PATH_MAX: usize = 108;

/// The longest memfd name (`MFD_NAME_MAX_LEN`, 249) with its `memfd:` prefix.
pub const MEMFD_NAME_MAX: usize = 255;

/// `text` if it is at most `limit` bytes; else its first bytes (on a character boundary) and a
/// note of the length it claimed: `…[1048576 bytes, longer than the kernel allows]`.
pub fn bounded(text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let claimed = text.len();
    let mut out = text;
    out.truncate(end);
    out.push_str(&format!(
        "…[{claimed} bytes, longer than the kernel allows]"
    ));
    out
}

/// Bytes from the checkpoint as text, losing nothing (see the module docs): valid UTF-8 kept,
/// a backslash as `\\`, each byte that is not UTF-8 as `\xNN`.
pub fn lossless(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// The bytes a [`lossless`] text stands for; `None` for text it cannot have made (a lone
/// backslash, `\x` without two hex digits, an escape of a byte that is valid UTF-8 on its own).
pub fn bytes_of(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.extend_from_slice(rest.get(..at)?.as_bytes());
        let escape = rest.get(at + 1..)?;
        if let Some(after) = escape.strip_prefix('\\') {
            out.push(b'\\');
            rest = after;
        } else {
            let hex = escape.strip_prefix('x')?.get(..2)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            rest = escape.get(3..)?;
        }
    }
    out.extend_from_slice(rest.as_bytes());
    (lossless(&out) == text).then_some(out)
}

/// A unix socket's name as `ss` and `/proc/net/unix` show it: an abstract name (leading NUL)
/// as `@` and the rest, a path without the NULs that pad it; as [`lossless`] text, bounded by
/// the kernel's [`UNIX_PATH_MAX`].
pub fn unix_name(name: &[u8]) -> String {
    let (prefix, name) = match name.split_first() {
        None => return String::new(),
        Some((0, rest)) => ("@", rest),
        Some(_) => {
            let end = name
                .iter()
                .rposition(|&b| b != 0)
                .map_or(0, |last| last + 1);
            ("", name.get(..end).unwrap_or_default())
        }
    };
    let kept = name.get(..UNIX_PATH_MAX).unwrap_or(name);
    let mut text = format!("{prefix}{}", lossless(kept));
    if kept.len() < name.len() {
        text.push_str(&format!(
            "…[{} bytes, longer than the kernel allows]",
            name.len()
        ));
    }
    text
}

/// A unix socket's name as crit spells it (`crit decode` and `crit x fds`): quoted-printable,
/// `=00` for a NUL (see [`checkpoint_images::encode_quoted_printable`]), bounded by the
/// kernel's [`UNIX_PATH_MAX`].
pub fn crit_unix_name(name: &[u8]) -> String {
    let kept = name.get(..UNIX_PATH_MAX).unwrap_or(name);
    let mut text = checkpoint_images::encode_quoted_printable(kept);
    if kept.len() < name.len() {
        text.push_str(&format!(
            "…[{} bytes, longer than the kernel allows]",
            name.len()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_become_text_and_back() {
        for (bytes, text) in [
            (&b"BYTES_VAR=caf\xe9"[..], "BYTES_VAR=caf\\xe9"),
            (b"plain", "plain"),
            (b"caf\xc3\xa9", "caf\u{e9}"),
            (b"C:\\x41", "C:\\\\x41"),
            (b"\xff\xfe", "\\xff\\xfe"),
            (b"a\0b\n", "a\0b\n"),
            (b"", ""),
        ] {
            assert_eq!(lossless(bytes), text, "{bytes:?}");
            assert_eq!(bytes_of(text).as_deref(), Some(bytes), "{text}");
        }
        for not_made in ["\\", "\\x4", "\\xzz", "\\x41", "\\q"] {
            assert_eq!(bytes_of(not_made), None, "{not_made}");
        }
    }

    #[test]
    fn unix_names_as_ss_and_as_crit() {
        assert_eq!(
            unix_name(b"\0kcpt-abstract\0with-nul"),
            "@kcpt-abstract\0with-nul"
        );
        assert_eq!(unix_name(b"/srv/app/kcpt.sock\0"), "/srv/app/kcpt.sock");
        assert_eq!(unix_name(b"/run/\xff.sock"), "/run/\\xff.sock");
        assert_eq!(unix_name(b""), "");
        assert_eq!(
            crit_unix_name(b"\0kcpt-abstract\0with-nul"),
            "=00kcpt-abstract=00with-nul"
        );
        assert_eq!(
            crit_unix_name(b"/srv/app/kcpt.sock\0"),
            "/srv/app/kcpt.sock=00"
        );
        let long = vec![b'a'; 1000];
        assert!(unix_name(&long).ends_with("…[1000 bytes, longer than the kernel allows]"));
        assert!(crit_unix_name(&long).len() < 300);
    }

    #[test]
    fn long_names_are_cut_with_a_note() {
        assert_eq!(bounded("short".into(), 16), "short");
        let long = "x".repeat(1 << 20);
        let cut = bounded(long, PATH_MAX);
        assert!(cut.len() < PATH_MAX + 64);
        assert!(cut.ends_with("…[1048576 bytes, longer than the kernel allows]"));
        // A multi-byte character at the limit is not split.
        let cut = bounded("ab\u{e9}cd".into(), 3);
        assert!(cut.starts_with("ab…"), "{cut}");
    }
}

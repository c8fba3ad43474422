//! Untrusted text made safe for a terminal: the one escaping rule of every human format.
//!
//! Every string a checkpoint holds (command names, command lines, environments, file and socket
//! paths, pod and container names, annotations, member names of `rootfs-diff.tar`) was written by
//! the container or the node, which may be hostile. Written raw to a terminal, an ESC or CSI
//! (`0x9b`) starts a control sequence (an OSC one can retitle the window, or worse), CR and LF
//! forge lines and table rows, and bidirectional overrides reorder what is shown.
//!
//! [`escape_text`] spells every such character out, the way `ls -b` and `git` do:
//! `\n`, `\r`, `\t` by name, other C0 controls and DEL as `\xNN`, C1 controls and the invisible
//! formatting characters that change how text is laid out (bidi overrides and isolates, zero-width
//! marks, line and paragraph separators) as `\u{NNNN}`. A backslash is doubled, so the escaped text
//! is never ambiguous: `\n` on screen always means a newline in the data, `\\n` a backslash then
//! `n`.
//!
//! Invariant: the result holds no character below U+0020, no U+007F to U+009F, and none of the
//! formatting characters above; text without them (and without a backslash) is returned as is,
//! borrowed. Table and tree renderers apply this to every cell and label; JSON and YAML are not
//! escaped here (their serializers escape control characters and keep the data exact).

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control and layout-changing character spelled out (see the module docs).
pub fn escape_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// Text that a renderer already escaped (with [`escape_text`], or the secrets scanner's own
/// printable-ASCII escaping) as it is, so it is escaped once, not twice (`\\x1b`): unchanged when
/// it holds no character [`escape_text`] spells out besides the backslash; escaped again
/// otherwise, so a raw control character can never pass.
pub fn escape_once(text: &str) -> Cow<'_, str> {
    if text.chars().any(|c| c != '\\' && needs_escape(c)) {
        escape_text(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// True for the characters [`escape_text`] spells out.
fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_layout_format(c)
}

/// Invisible characters that change how the text around them is laid out: the Arabic letter
/// mark, zero-width space/joiners and the LTR/RTL marks, line and paragraph separators, bidi
/// embeddings, overrides and isolates, word joiner and invisible operators, the byte order mark.
/// JSON output `\u`-escapes them too (see [`super::machine`]).
pub(super) fn is_layout_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) < 0x80 && c.is_control() => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if c.is_control() || is_layout_format(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_spelled_out() {
        let cases = [
            ("python3", "python3"),
            ("a b/é✓", "a b/é✓"),
            ("x\ny", "x\\ny"),
            ("\r\t", "\\r\\t"),
            ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
            ("\x1b[2J", "\\x1b[2J"),
            ("\0\x7f", "\\x00\\x7f"),
            ("\u{9b}31m", "\\u{009b}31m"),
            ("a\u{202e}gnp.exe", "a\\u{202e}gnp.exe"),
            ("\u{2066}x\u{2069}", "\\u{2066}x\\u{2069}"),
            ("C:\\dir", "C:\\\\dir"),
            ("\\n", "\\\\n"),
        ];
        for (raw, want) in cases {
            assert_eq!(escape_text(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(escape_text("/usr/bin/sleep 10"), Cow::Borrowed(_)));
        assert!(matches!(escape_text("a\tb"), Cow::Owned(_)));
    }

    #[test]
    fn no_control_character_survives() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let escaped = escape_text(&all);
        assert!(
            !escaped
                .chars()
                .any(|c| c.is_control() || is_layout_format(c)),
            "{escaped:?}"
        );
    }
}

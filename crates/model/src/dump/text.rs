//! Bounds on the names a checkpoint stores: the kernel never makes a path longer than
//! `PATH_MAX`, a `comm` longer than `TASK_COMM_LEN`, a memfd name longer than its limit. A longer
//! one was fabricated; it is cut here, once, so that no report (and no terminal) gets more than
//! the kernel could have produced, however many descriptors or mappings use it.

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

#[cfg(test)]
mod tests {
    use super::*;

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

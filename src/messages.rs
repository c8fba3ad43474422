//! Every line the binary writes to stderr that is not a progress bar or a prompt: errors,
//! warnings and notes, each through one function here.
//!
//! A line may hold names from a checkpoint, an archive, a custody manifest or a server (a
//! rootfs-diff path, a manifest's sha256 field, a pod name): written raw, an escape sequence in
//! one would retitle the terminal, clear it, or forge a line. So every line is escaped with
//! [`escape_text`] as a whole; our own text holds no control character, so escaping it changes
//! nothing. The one exception is an error's hint ([`Error::render`]): ours, on lines of its own,
//! and printed as written.
//!
//! Each function first writes out what is buffered for stdout ([`crate::stdout`]), so that
//! results and messages sent to one terminal or file keep the order they were written in.

use std::fmt::Display;

use crate::output::escape_text;
use crate::Error;

/// `error: LINE`.
pub fn error(line: impl Display) {
    crate::stdout::flush_before_stderr();
    eprintln!("error: {}", escape_text(&line.to_string()));
}

/// `error: CONTEXT: ERR` (the error rendered with its hint, see [`Error::render`]).
pub fn error_in(context: impl Display, err: &Error) {
    crate::stdout::flush_before_stderr();
    eprintln!(
        "error: {}: {}",
        escape_text(&context.to_string()),
        err.render()
    );
}

/// `error: ERR` (see [`Error::render`]).
pub fn error_of(err: &Error) {
    crate::stdout::flush_before_stderr();
    eprintln!("error: {}", err.render());
}

/// `warning: LINE`.
pub fn warning(line: impl Display) {
    crate::stdout::flush_before_stderr();
    eprintln!("warning: {}", escape_text(&line.to_string()));
}

/// `warning: ERR` (see [`Error::render`]).
pub fn warning_of(err: &Error) {
    crate::stdout::flush_before_stderr();
    eprintln!("warning: {}", err.render());
}

/// `note: LINE`.
pub fn note(line: impl Display) {
    crate::stdout::flush_before_stderr();
    eprintln!("note: {}", escape_text(&line.to_string()));
}

/// A line of its own (`No matches found.`, a summary line).
pub fn line(text: impl Display) {
    crate::stdout::flush_before_stderr();
    eprintln!("{}", escape_text(&text.to_string()));
}

/// What a node agent wrote on stderr, a line at a time, each escaped: it comes from the node.
pub fn from_node(node: &str, stderr: &[u8]) {
    for text in String::from_utf8_lossy(stderr).lines() {
        eprintln!("{}: {}", escape_text(node), escape_text(text));
    }
}

/// The agent's last stderr line (`analyze` run on a node with
/// [`checkpoint_cluster::IO_REPORT_ENV`] set): how many bytes this process read, from
/// `/proc/self/io` (`rchar`), so that the client can say what the analysis read on the node.
pub fn agent_io() {
    let read = std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("rchar:"))
                .and_then(|n| n.trim().parse::<u64>().ok())
        });
    if let Some(read) = read {
        eprintln!("{}{read}", checkpoint_cluster::IO_LINE_PREFIX);
    }
}

/// A `-v` log line, as kubectl's start: `I1207 05:16:22.123456] LINE` (UTC).
pub fn log(line: impl Display) {
    crate::stdout::flush_before_stderr();
    let now = k8s_openapi::jiff::Timestamp::now();
    eprintln!(
        "I{} {}",
        now.strftime("%m%d %H:%M:%S%.6f]"),
        escape_text(&line.to_string())
    );
}

/// A line for a progress bar's owner to print above the bar, escaped like the others.
pub fn escaped(prefix: &str, text: &str) -> String {
    format!("{prefix}: {}", escape_text(text))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// No other file of the binary writes to stderr itself: every line goes through this module.
    #[test]
    fn stderr_is_written_here_alone() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("messages.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (number, line) in text.lines().enumerate() {
                    if line.contains("eprintln!(") || line.contains("eprint!(") {
                        offenders.push(format!("{}:{}", path.display(), number + 1));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "stderr written outside messages.rs: {offenders:?}"
        );
    }
}

//! The one handle on stdout: every result the binary prints goes through [`with`] into one
//! buffer in front of the process's stdout, so a large report is written in 64 KiB blocks
//! instead of a write call per line (Rust's own stdout is line-buffered: `-o json` of 50,000
//! processes made 2.2 million write calls).
//!
//! Global state: the buffer, created on first use. It is written out
//!
//! - at the end of each [`with`] when stdout is a terminal, so a person sees each result as
//!   soon as it is complete (and nothing of it is pending when a prompt or a progress bar is
//!   drawn on stderr);
//! - before everything the binary writes to stderr: each line of [`crate::messages`], a prompt,
//!   a progress bar when it starts and a line printed above one ([`flush_before_stderr`]), so
//!   that stdout and stderr sent to one terminal or one file (`2>&1`) keep the order in which
//!   they were written;
//! - at exit, by `main` ([`flush`]), whose error (a full disk, a closed pipe) is the command's.
//!
//! A verb whose results arrive over time (a listing of nodes) flushes the writer [`with`]
//! lends at the end of each batch, so that a pipe gets them as they come too.

use std::io::{BufWriter, IsTerminal, Stdout, Write};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError, TryLockError};

/// The buffer's size: large enough that a write call carries a useful amount, small enough
/// not to matter.
const CAPACITY: usize = 64 * 1024;

/// The buffered stdout, and whether stdout is a terminal.
struct Buffered {
    out: BufWriter<Stdout>,
    is_terminal: bool,
}

static STDOUT: LazyLock<Mutex<Buffered>> = LazyLock::new(|| {
    let stdout = std::io::stdout();
    Mutex::new(Buffered {
        is_terminal: stdout.is_terminal(),
        out: BufWriter::with_capacity(CAPACITY, stdout),
    })
});

fn lock() -> MutexGuard<'static, Buffered> {
    STDOUT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `write` with the buffered stdout, locked for its duration; on a terminal, what it wrote
/// is flushed at the end.
///
/// `write` must not print to stderr or call [`with`] itself: the lock is not reentrant (a line
/// for stderr would not wait, see [`flush_before_stderr`], but a nested [`with`] would).
pub fn with<T, E: From<std::io::Error>>(
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    let mut stdout = lock();
    let value = write(&mut stdout.out)?;
    if stdout.is_terminal {
        stdout.out.flush()?;
    }
    Ok(value)
}

/// Writes out what is buffered, waiting for a writer on another thread: at exit.
pub fn flush() -> std::io::Result<()> {
    lock().out.flush()
}

/// Writes out what is buffered before a line for stderr, unless another thread is writing to
/// stdout right now (then the two are not ordered anyway, and waiting could deadlock a caller
/// that prints from inside [`with`]). A failure is left for the next write or the exit's
/// [`flush`] to report: the line for stderr goes out either way.
pub fn flush_before_stderr() {
    let mut stdout = match STDOUT.try_lock() {
        Ok(stdout) => stdout,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return,
    };
    let _ = stdout.out.flush();
}

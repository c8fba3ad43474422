//! Command lines and environments as the kernel shows them, read from a process's memory.
//!
//! # The command line (`/proc/PID/cmdline`)
//! The kernel reads the argv area `[arg_start, arg_end)`. When the area's last byte is not NUL,
//! the process rewrote its title (setproctitle, as nginx, postgres and sshd do) and may have
//! written past the argv area into the environment area; then the kernel returns the bytes from
//! `arg_start` up to the first NUL, at most one page, and at most to `env_end` when the
//! environment area follows the argv area directly (else to `arg_end`). [`read_cmdline`] follows
//! that rule; trailing padding (spaces and NULs that retitling leaves) is trimmed.
//!
//! # The environment (`/proc/PID/environ`)
//! The NUL-separated strings of `[env_start, env_end)`, in order, duplicates kept (an attacker
//! can plant a second `PATH=` to hide the first from tools that keep one). Bytes a retitled
//! command line overwrote are not environment: strings that begin before the title's end are
//! left out, so title text never turns into an invented variable.

use super::memory::{ProcessMemory, MAX_STRINGS_AREA};
use super::{Error, Unavailable};
use checkpoint_images::PAGE_SIZE;

/// Where argv and the environment lie in a process's memory (`mm_arg_*`, `mm_env_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArgBounds {
    /// `mm_arg_start`.
    pub arg_start: u64,
    /// `mm_arg_end`.
    pub arg_end: u64,
    /// `mm_env_start`.
    pub env_start: u64,
    /// `mm_env_end`.
    pub env_end: u64,
}

/// A command line as read from memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmdline {
    /// The arguments as [`super::text::lossless`] text (bytes that are not UTF-8 as `\xNN`). A
    /// retitled process has one: its title.
    pub args: Vec<String>,
    /// True when the process rewrote its title (the argv area's last byte was not NUL).
    pub retitled: bool,
    /// Where the bytes the kernel would show start (`arg_start`).
    pub start: u64,
    /// Where the bytes the kernel would show end (the environment starts after this).
    pub end: u64,
    /// The bytes the kernel would show, `start..end`: NULs between the arguments kept.
    pub bytes: Vec<u8>,
}

impl Cmdline {
    /// The arguments joined by spaces, trailing padding trimmed.
    pub fn joined(&self) -> String {
        self.args.join(" ").trim_end().to_owned()
    }
}

/// A process's command line and environment as the kernel would show them, each read from its
/// memory once (see [`super::Dump::strings`]), or why it cannot be.
#[derive(Debug, Clone)]
pub struct ProcessStrings {
    /// The command line, by the kernel's rule.
    pub cmdline: Result<Cmdline, Unavailable>,
    /// The environment in order, duplicates kept, each string with its address. The strings a
    /// retitled command line overwrote are left out; when the command line cannot be read, no
    /// byte is known to be title and the whole area is read.
    pub environ: Result<Vec<EnvString>, Unavailable>,
}

impl ProcessStrings {
    /// Reads both from `memory`.
    pub(crate) fn read(memory: &ProcessMemory<'_>, bounds: &ArgBounds) -> ProcessStrings {
        let cmdline = read_cmdline(memory, bounds);
        let overwritten_to = match &cmdline {
            Ok(cmdline) if cmdline.retitled => cmdline.end,
            _ => 0,
        };
        let environ = read_environ_strings(memory, bounds, overwritten_to);
        ProcessStrings {
            cmdline: cmdline.map_err(|err| Unavailable::new("cmdline", &err)),
            environ: environ.map_err(|err| Unavailable::new("environment", &err)),
        }
    }

    /// The bytes both hold (what they cost to keep).
    pub(crate) fn held_bytes(&self) -> u64 {
        let cmdline = self
            .cmdline
            .as_ref()
            .map_or(0, |c| c.bytes.len() as u64 * 2);
        let environ = self.environ.as_ref().map_or(0, |strings| {
            strings.iter().map(|s| s.bytes.len() as u64 + 16).sum()
        });
        cmdline.saturating_add(environ)
    }
}

/// Reads the command line by the kernel's rule (see the module docs).
pub fn read_cmdline(memory: &ProcessMemory<'_>, bounds: &ArgBounds) -> Result<Cmdline, Error> {
    read_cmdline_area(memory, bounds)
        .map_err(|err| in_area(memory, "argument", bounds.arg_start, bounds.arg_end, err))
}

/// `err` of reading an area, named by the image that gives it and the area.
fn in_area(
    memory: &ProcessMemory<'_>,
    area: &'static str,
    start: u64,
    end: u64,
    err: Error,
) -> Error {
    Error::StringsArea {
        image: format!("mm-{}.img", memory.pid()),
        area,
        start,
        end,
        source: Box::new(err),
    }
}

fn read_cmdline_area(memory: &ProcessMemory<'_>, bounds: &ArgBounds) -> Result<Cmdline, Error> {
    let ArgBounds {
        arg_start,
        arg_end,
        env_start,
        env_end,
    } = *bounds;
    if arg_start > arg_end {
        return Err(Error::BadArea);
    }
    if arg_start == arg_end {
        return Ok(Cmdline {
            args: Vec::new(),
            retitled: false,
            start: arg_start,
            end: arg_end,
            bytes: Vec::new(),
        });
    }
    check_area(arg_start, arg_end)?;
    let mut last = [0u8; 1];
    memory.read_exact_at(arg_end - 1, &mut last)?;
    if last[0] != 0 {
        let limit_end = if env_start != arg_end || env_end < env_start {
            arg_end
        } else {
            env_end
        };
        let max = (limit_end - arg_start).min(PAGE_SIZE);
        let bytes = memory.read_available(arg_start, max)?;
        let title_len = memchr::memchr(0, &bytes).unwrap_or(bytes.len());
        let title = bytes.get(..title_len).unwrap_or_default();
        let text = super::text::lossless(title)
            .trim_end_matches([' ', '\0'])
            .to_owned();
        return Ok(Cmdline {
            args: if text.is_empty() {
                Vec::new()
            } else {
                vec![text]
            },
            retitled: true,
            start: arg_start,
            end: arg_start + title_len as u64,
            bytes: title.to_vec(),
        });
    }
    let mut bytes = vec![0u8; usize::try_from(arg_end - arg_start).unwrap_or(0)];
    memory.read_exact_at(arg_start, &mut bytes)?;
    let body = bytes.strip_suffix(b"\0").unwrap_or(&bytes);
    let mut args: Vec<String> = if body.is_empty() {
        Vec::new()
    } else {
        body.split(|&b| b == 0).map(super::text::lossless).collect()
    };
    // A title padded with NULs (postgres-style) leaves empty arguments behind: drop them.
    while args.last().is_some_and(|a| a.trim_end().is_empty()) {
        args.pop();
    }
    if let Some(last) = args.last_mut() {
        let trimmed = last.trim_end().len();
        last.truncate(trimmed);
    }
    Ok(Cmdline {
        args,
        retitled: false,
        start: arg_start,
        end: arg_end,
        bytes,
    })
}

/// One string of the environment area, where it lies in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvString {
    /// Address of its first byte.
    pub vaddr: u64,
    /// Its bytes, without the terminating NUL.
    pub bytes: Vec<u8>,
}

impl EnvString {
    /// The string as [`super::text::lossless`] text: bytes that are not UTF-8 as `\xNN`, a
    /// backslash as `\\`.
    pub fn text(&self) -> String {
        super::text::lossless(&self.bytes)
    }
}

/// Reads the environment in order, duplicates kept, each string with its address; strings that
/// begin before `overwritten_to` (the end of a retitled command line) are left out.
pub fn read_environ_strings(
    memory: &ProcessMemory<'_>,
    bounds: &ArgBounds,
    overwritten_to: u64,
) -> Result<Vec<EnvString>, Error> {
    read_environ_area(memory, bounds, overwritten_to)
        .map_err(|err| in_area(memory, "environment", bounds.env_start, bounds.env_end, err))
}

fn read_environ_area(
    memory: &ProcessMemory<'_>,
    bounds: &ArgBounds,
    overwritten_to: u64,
) -> Result<Vec<EnvString>, Error> {
    let ArgBounds {
        env_start, env_end, ..
    } = *bounds;
    if env_start > env_end {
        return Err(Error::BadArea);
    }
    if env_start == env_end {
        return Ok(Vec::new());
    }
    check_area(env_start, env_end)?;
    let mut bytes = vec![0u8; usize::try_from(env_end - env_start).unwrap_or(0)];
    memory.read_exact_at(env_start, &mut bytes)?;
    let mut out = Vec::new();
    let mut offset = 0u64;
    for string in bytes.split(|&b| b == 0) {
        let begins = env_start + offset;
        offset += string.len() as u64 + 1;
        if string.is_empty() || begins < overwritten_to {
            continue;
        }
        out.push(EnvString {
            vaddr: begins,
            bytes: string.to_vec(),
        });
    }
    Ok(out)
}

fn check_area(start: u64, end: u64) -> Result<(), Error> {
    let len = end.checked_sub(start).ok_or(Error::BadArea)?;
    if len > MAX_STRINGS_AREA {
        return Err(Error::TooLarge {
            what: "area",
            len,
            limit: MAX_STRINGS_AREA,
        });
    }
    Ok(())
}

//! Open files: each process's descriptors resolved through the dump's file table, plus its cwd
//! and root, and the SysV segments of the IPC namespace.
//!
//! Two spellings of the same facts: [`describe_proc`] writes what `/proc/PID/fd` links show
//! (`/etc/hostname`, `/srv/app/cache.db (deleted)`, `pipe:[44604]`, `socket:[44607]`,
//! `/memfd:cache (deleted)`), [`describe_crit`] what `crit x fds` prints (`pipe[44604]`,
//! `INETSK.13`, `unix[ino (peer) name]`), byte for byte.

use super::{
    FdsProcess, FdsRow, LockReport, OpenFile, ProcessFiles, Sections, SysvReport, TimerfdReport,
};
use checkpoint_model::dump::files::{Deleted, FileKind, FileTable, Regular};
use checkpoint_model::dump::{Dump, Fd};
use checkpoint_model::messages::FdTypes;

/// What crit prints for a regular file it cannot find.
const UNKNOWN_PATH: &str = "unknown path";

/// The name of a file type (`REG`, `PIPE`, ...) or its number when unknown.
pub(crate) fn file_type_name(value: i32) -> String {
    FdTypes::proto_name(value).map_or_else(|| value.to_string(), str::to_owned)
}

/// The `/proc/PID/fd`-style text of file `id` of type `file_type`.
pub(crate) fn describe_proc(files: &FileTable, file_type: i32, id: u32) -> String {
    let file = files.get(id).map(|f| &f.kind);
    let socket = |ino: u32| format!("socket:[{ino}]");
    match (FdTypes::try_from(file_type), file) {
        (Ok(FdTypes::REG), Some(FileKind::Regular(reg))) => regular_path(reg),
        (Ok(FdTypes::REG), _) => UNKNOWN_PATH.to_owned(),
        (Ok(FdTypes::PIPE), Some(FileKind::Pipe { pipe_id })) => format!("pipe:[{pipe_id}]"),
        (Ok(FdTypes::PIPE), _) => "pipe:[?]".to_owned(),
        (Ok(FdTypes::FIFO), Some(FileKind::Fifo { path_id, pipe_id })) => path_id
            .and_then(|p| files.path(p))
            .map_or_else(|| format!("fifo:[{pipe_id}]"), |path| path.to_string()),
        (Ok(FdTypes::FIFO), _) => "fifo:[?]".to_owned(),
        (Ok(FdTypes::INETSK), Some(FileKind::Inet(sk))) => socket(sk.ino),
        (Ok(FdTypes::UNIXSK), Some(FileKind::Unix(sk))) => socket(sk.ino),
        (Ok(FdTypes::NETLINKSK), Some(FileKind::Netlink(sk))) => socket(sk.ino),
        (Ok(FdTypes::INETSK | FdTypes::UNIXSK | FdTypes::NETLINKSK | FdTypes::PACKETSK), _) => {
            "socket:[?]".to_owned()
        }
        (Ok(FdTypes::MEMFD), _) => files
            .path(id)
            .map_or_else(|| "/memfd:? (deleted)".to_owned(), |p| p.to_string()),
        (Ok(FdTypes::EVENTFD), _) => "anon_inode:[eventfd]".to_owned(),
        (Ok(FdTypes::EVENTPOLL), _) => "anon_inode:[eventpoll]".to_owned(),
        (Ok(FdTypes::SIGNALFD), _) => "anon_inode:[signalfd]".to_owned(),
        (Ok(FdTypes::TIMERFD), _) => "anon_inode:[timerfd]".to_owned(),
        (Ok(FdTypes::INOTIFY), _) => "anon_inode:inotify".to_owned(),
        (Ok(FdTypes::FANOTIFY), _) => "anon_inode:[fanotify]".to_owned(),
        (Ok(FdTypes::PIDFD), _) => "anon_inode:[pidfd]".to_owned(),
        _ => format!("{}.{id}", file_type_name(file_type)),
    }
}

/// A path as `/proc` shows it: ` (deleted)` after unlinked files.
fn regular_path(reg: &Regular) -> String {
    if reg.deleted.is_some() {
        format!("{} (deleted)", reg.path)
    } else {
        reg.path.to_string()
    }
}

/// The `crit x fds` text of file `id` of type `file_type`: crit looks in `files.img` (and the
/// per-type images before it) and prints `TYPE.id` for types it does not resolve.
pub(crate) fn describe_crit(files: &FileTable, file_type: i32, id: u32) -> String {
    let file = files.get(id).map(|f| &f.kind);
    match (FdTypes::try_from(file_type), file) {
        (Ok(FdTypes::REG), Some(FileKind::Regular(reg))) => reg.path.to_string(),
        (Ok(FdTypes::REG), _) => UNKNOWN_PATH.to_owned(),
        (Ok(FdTypes::PIPE), Some(FileKind::Pipe { pipe_id })) => format!("pipe[{pipe_id}]"),
        (Ok(FdTypes::PIPE), _) => "pipe[?]".to_owned(),
        (Ok(FdTypes::UNIXSK), Some(FileKind::Unix(sk))) => {
            let name = checkpoint_model::dump::text::crit_unix_name(&sk.name);
            if name.is_empty() {
                format!("unix[{} ({})]", sk.ino, sk.peer)
            } else {
                format!("unix[{} ({}) {name}]", sk.ino, sk.peer)
            }
        }
        (Ok(FdTypes::UNIXSK), _) => "unix[?]".to_owned(),
        _ => format!("{}.{id}", file_type_name(file_type)),
    }
}

/// The `--files` section: every live process's descriptors, cwd and root (all processes, or
/// `--pid`'s subtree). A process whose descriptors cannot be read says why.
pub(crate) fn collect_files(dump: &Dump, sections: &Sections) -> Vec<ProcessFiles> {
    let files = dump.files();
    let tasks = super::selected_tasks(dump, sections);
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        if !task.state.has_resources() {
            continue;
        }
        let open = match dump.open_files(task.pid) {
            Ok(open) => open,
            Err(err) => {
                out.push(ProcessFiles {
                    pid: task.pid,
                    open_files: Vec::new(),
                    // the reason alone: the process is this entry's
                    unavailable: Some(match err {
                        checkpoint_model::dump::Error::Unavailable { reason, .. } => reason,
                        other => checkpoint_model::error_text(&other),
                    }),
                });
                continue;
            }
        };
        let mut open_files: Vec<OpenFile> = Vec::with_capacity(open.fds.len() + 2);
        open_files.extend(
            open.fds
                .iter()
                .map(|fd| open_file(files, task.pid, &open.fds, fd)),
        );
        let reg = FdTypes::REG as i32;
        for (name, id) in [("cwd", open.cwd_id), ("root", open.root_id)] {
            let mut entry = open_file(
                files,
                task.pid,
                &[],
                &Fd {
                    fd: u32::MAX,
                    file_type: reg,
                    id,
                    flags: 0,
                },
            );
            entry.fd = name.to_owned();
            entry.file_type = "DIR".to_owned();
            if let Some(extras) = entry.extras.as_mut() {
                extras.locks.clear();
            }
            entry.size = None;
            entry.pos = None;
            open_files.push(entry);
        }
        out.push(ProcessFiles {
            pid: task.pid,
            open_files,
            unavailable: None,
        });
    }
    out
}

/// One descriptor, typed; `fds` is the process's descriptor table (where an epoll instance's
/// registered descriptors are looked up).
pub(crate) fn open_file(files: &FileTable, pid: u32, fds: &[Fd], fd: &Fd) -> OpenFile {
    let mut entry = OpenFile {
        fd: fd.fd.to_string(),
        file_type: file_type_name(fd.file_type),
        path: describe_proc(files, fd.file_type, fd.id),
        ..OpenFile::default()
    };
    let mut details: Vec<String> = Vec::new();
    match files.get(fd.id).map(|f| &f.kind) {
        Some(FileKind::Regular(reg)) => {
            if reg.is_directory() {
                entry.file_type = "DIR".to_owned();
            }
            entry.size = reg.size;
            entry.pos = Some(reg.pos);
            match &reg.deleted {
                Some(Deleted::Ghost { size, .. }) => {
                    entry.deleted = true;
                    if size.is_some() {
                        entry.size = *size;
                    }
                    details.push("deleted; contents stored in the checkpoint".to_owned());
                }
                Some(Deleted::Linked { .. }) => {
                    entry.deleted = true;
                    details.push("deleted; kept by CRIU under a temporary link".to_owned());
                }
                None => {}
            }
        }
        Some(FileKind::Memfd { pos, .. }) => {
            entry.pos = Some(*pos);
            if let Some(inode) = files.memfd(fd.id) {
                entry.size = Some(inode.size);
                let seals = seal_names(inode.seals);
                if !seals.is_empty() {
                    details.push(format!("seals {}", seals.join(",")));
                }
                entry.extras_mut().seals = Some(seals);
            }
        }
        Some(FileKind::Pipe { pipe_id }) => {
            let unread = files.pipe_unread(*pipe_id);
            details.extend(queued_detail(unread, "unread", "pipes-data.img"));
            set_unread(&mut entry, unread);
        }
        Some(FileKind::Fifo { pipe_id, .. }) => {
            let unread = files.fifo_unread(*pipe_id);
            details.extend(queued_detail(unread, "unread", "fifo-data.img"));
            set_unread(&mut entry, unread);
        }
        Some(FileKind::Unix(sk)) => {
            let queued = files.unix_queued(sk.id);
            details.extend(queued_detail(queued, "queued", "sk-queues.img"));
            set_unread(&mut entry, queued);
        }
        Some(FileKind::Eventpoll { targets }) => {
            let reports = super::notify::epoll_targets(targets, |tfd| {
                fds.iter().find(|fd| fd.fd == tfd).map_or_else(
                    || "unknown".to_owned(),
                    |fd| describe_proc(files, fd.file_type, fd.id),
                )
            });
            let mut tfds: Vec<u32> = targets.iter().map(|t| t.tfd).collect();
            tfds.sort_unstable();
            tfds.dedup();
            let list: Vec<String> = tfds.iter().map(u32::to_string).collect();
            details.push(format!(
                "{} registration{}{}",
                targets.len(),
                if targets.len() == 1 { "" } else { "s" },
                if list.is_empty() {
                    String::new()
                } else {
                    format!(": fds {}", list.join(" "))
                }
            ));
            entry.extras_mut().epoll_targets = Some(reports);
        }
        Some(FileKind::Inotify { watches }) => {
            let reports = super::notify::inotify_watches(watches);
            let paths: Vec<String> = reports
                .iter()
                .map(|w| format!("{} {}", w.wd, or_unknown(&w.path)))
                .collect();
            details.push(format!(
                "{} watch{}{}",
                reports.len(),
                if reports.len() == 1 { "" } else { "es" },
                if paths.is_empty() {
                    String::new()
                } else {
                    format!(": {}", paths.join(", "))
                }
            ));
            entry.extras_mut().inotify_watches = Some(reports);
        }
        Some(FileKind::Fanotify {
            flags,
            event_flags,
            marks,
        }) => {
            let report = super::notify::fanotify(*flags, *event_flags, marks);
            let paths: Vec<String> = report
                .marks
                .iter()
                .map(|m| format!("{} {}", m.mark_type, or_unknown(&m.path)))
                .collect();
            details.push(format!(
                "{} mark{}{}",
                report.marks.len(),
                if report.marks.len() == 1 { "" } else { "s" },
                if paths.is_empty() {
                    String::new()
                } else {
                    format!(": {}", paths.join(", "))
                }
            ));
            entry.extras_mut().fanotify = Some(report);
        }
        Some(FileKind::Inet(sk)) => {
            if let Some(queued) = files.tcp_queued(sk.ino) {
                entry.extras_mut().unread_bytes = Some(queued.recv);
                if queued.recv > 0 || queued.send > 0 {
                    details.push(format!(
                        "{} bytes to read, {} to send",
                        queued.recv, queued.send
                    ));
                }
            }
        }
        Some(FileKind::Eventfd { counter }) => {
            entry.extras_mut().eventfd_counter = Some(*counter);
            details.push(format!("counter {counter}"));
        }
        Some(FileKind::Signalfd { mask }) => {
            let names = signal_names(*mask);
            details.push(format!("signals {}", names.join(",")));
            entry.extras_mut().signalfd_mask = Some(names);
        }
        Some(FileKind::Timerfd(timer)) => {
            let report = TimerfdReport {
                clock: clock_name(timer.clockid),
                remaining_ns: nanos(timer.value),
                interval_ns: nanos(timer.interval),
                ticks: timer.ticks,
            };
            details.push(format!(
                "clock {}, next in {}, interval {}",
                report.clock,
                duration_text(report.remaining_ns),
                duration_text(report.interval_ns)
            ));
            entry.extras_mut().timerfd = Some(report);
        }
        _ => {}
    }
    for lock in files.locks(pid, fd.fd) {
        entry.extras_mut().locks.push(LockReport {
            kind: lock.kind.to_owned(),
            mode: lock.mode.to_owned(),
            start: lock.start,
            len: lock.len,
        });
        details.push(format!("{} {} lock", lock.kind, lock.mode));
    }
    entry.detail = details.join("; ");
    entry
}

/// Sets the bytes waiting in a queue, when they are known.
fn set_unread(entry: &mut OpenFile, unread: Option<u64>) {
    if unread.is_some() {
        entry.extras_mut().unread_bytes = unread;
    }
}

/// The detail of a queue count: `N bytes unread` when there are some, and a note when the
/// image that holds them could not be read.
fn queued_detail(count: Option<u64>, what: &str, image: &str) -> Option<String> {
    match count {
        None => Some(format!("{what} bytes unknown: {image} could not be read")),
        Some(0) => None,
        Some(n) => Some(format!("{n} bytes {what}")),
    }
}

/// A path, or `?` when it is not known.
fn or_unknown(path: &str) -> &str {
    if path.is_empty() {
        "?"
    } else {
        path
    }
}

/// The SysV segments of the IPC namespace, each with where it is attached.
pub(crate) fn collect_sysv(dump: &Dump) -> Vec<SysvReport> {
    dump.shared()
        .sysv()
        .iter()
        .map(|segment| {
            let mut attached = Vec::new();
            for task in dump.tasks() {
                let Ok(map) = dump.memory_map(task.pid) else {
                    continue;
                };
                for vma in map.layout.vmas() {
                    if vma.shared == Some(u64::from(segment.id)) && vma.is_sysv() {
                        attached.push(format!("{}@{:#x}", task.pid, vma.start));
                    }
                }
            }
            SysvReport {
                key: format!("{:#x}", segment.key),
                id: segment.id,
                size: segment.size,
                mode: format!("{:o}", segment.mode & 0o777),
                uid: segment.uid,
                attached,
            }
        })
        .collect()
}

/// `crit x fds`; a process whose descriptors cannot be read is left out and handed to
/// `unreadable`.
pub(crate) fn collect_explore_fds(
    dump: &Dump,
    unreadable: &mut dyn FnMut(u32, checkpoint_model::dump::Error),
) -> Vec<FdsProcess> {
    let files = dump.files();
    let reg = FdTypes::REG as i32;
    let mut out = Vec::new();
    for task in dump.tasks().iter().filter(|t| t.state.has_resources()) {
        let open = match dump.open_files(task.pid) {
            Ok(open) => open,
            Err(err) => {
                unreadable(task.pid, err);
                continue;
            }
        };
        let mut fds: Vec<FdsRow> = open
            .fds
            .iter()
            .map(|fd| FdsRow {
                fd: fd.fd.to_string(),
                file: describe_crit(files, fd.file_type, fd.id),
            })
            .collect();
        for (name, id) in [("cwd", open.cwd_id), ("root", open.root_id)] {
            fds.push(FdsRow {
                fd: name.to_owned(),
                file: describe_crit(files, reg, id),
            });
        }
        out.push(FdsProcess { pid: task.pid, fds });
    }
    out
}

/// Names of `F_SEAL_*` bits (fcntl.h): SEAL 1, SHRINK 2, GROW 4, WRITE 8, FUTURE_WRITE 16,
/// EXEC 32.
fn seal_names(seals: u32) -> Vec<String> {
    const NAMES: [(u32, &str); 6] = [
        (1, "seal"),
        (2, "shrink"),
        (4, "grow"),
        (8, "write"),
        (16, "future_write"),
        (32, "exec"),
    ];
    let mut out: Vec<String> = NAMES
        .iter()
        .filter(|(bit, _)| seals & bit != 0)
        .map(|(_, name)| (*name).to_owned())
        .collect();
    let unknown = seals & !63;
    if unknown != 0 {
        out.push(format!("{unknown:#x}"));
    }
    out
}

/// Names of the signals in a mask (bit N-1 for signal N), as `kill -l` spells them.
fn signal_names(mask: u64) -> Vec<String> {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    (0..64u32)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| match NAMES.get(bit as usize) {
            Some(name) => (*name).to_owned(),
            None if bit + 1 >= 34 => format!("SIGRTMIN+{}", bit + 1 - 34),
            None => format!("SIG{}", bit + 1),
        })
        .collect()
}

/// Clock ids of `timerfd_create` (linux/time.h).
fn clock_name(clockid: u32) -> String {
    match clockid {
        0 => "realtime".to_owned(),
        1 => "monotonic".to_owned(),
        7 => "boottime".to_owned(),
        8 => "realtime_alarm".to_owned(),
        9 => "boottime_alarm".to_owned(),
        other => other.to_string(),
    }
}

fn nanos((sec, nsec): (u64, u64)) -> u64 {
    sec.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// A duration in nanoseconds as `1.5s`, `250ms`, `0`.
fn duration_text(ns: u64) -> String {
    if ns == 0 {
        "0".to_owned()
    } else if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns >= 1_000_000_000 {
        format!("{:.3}s", ns as f64 / 1e9)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else {
        format!("{}us", ns / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_model::messages::{
        FileEntry, InetSkEntry, PipeEntry, RegFileEntry, UnixSkEntry,
    };

    fn table() -> FileTable {
        FileTable::from_iter([
            FileEntry {
                r#type: FdTypes::REG as i32,
                id: 1,
                reg: Some(RegFileEntry {
                    id: 1,
                    name: "/etc/hostname".into(),
                    ..RegFileEntry::default()
                }),
                ..FileEntry::default()
            },
            FileEntry {
                r#type: FdTypes::PIPE as i32,
                id: 2,
                pipe: Some(PipeEntry {
                    id: 2,
                    pipe_id: 44604,
                    ..PipeEntry::default()
                }),
                ..FileEntry::default()
            },
            FileEntry {
                r#type: FdTypes::INETSK as i32,
                id: 3,
                isk: Some(InetSkEntry {
                    id: 3,
                    ino: 44607,
                    ..InetSkEntry::default()
                }),
                ..FileEntry::default()
            },
            FileEntry {
                r#type: FdTypes::UNIXSK as i32,
                id: 4,
                usk: Some(UnixSkEntry {
                    id: 4,
                    ino: 100,
                    peer: 101,
                    name: b"/run/x.sock".to_vec(),
                    ..UnixSkEntry::default()
                }),
                ..FileEntry::default()
            },
        ])
    }

    #[test]
    fn proc_and_crit_spellings() {
        let files = table();
        let reg = FdTypes::REG as i32;
        let pipe = FdTypes::PIPE as i32;
        let inet = FdTypes::INETSK as i32;
        let unix = FdTypes::UNIXSK as i32;
        for (file_type, id, proc_text, crit_text) in [
            (reg, 1, "/etc/hostname", "/etc/hostname"),
            (reg, 9, "unknown path", "unknown path"),
            (pipe, 2, "pipe:[44604]", "pipe[44604]"),
            (inet, 3, "socket:[44607]", "INETSK.3"),
            (unix, 4, "socket:[100]", "unix[100 (101) /run/x.sock]"),
            (unix, 9, "socket:[?]", "unix[?]"),
            (
                FdTypes::EVENTFD as i32,
                5,
                "anon_inode:[eventfd]",
                "EVENTFD.5",
            ),
            (999, 6, "999.6", "999.6"),
        ] {
            assert_eq!(describe_proc(&files, file_type, id), proc_text);
            assert_eq!(describe_crit(&files, file_type, id), crit_text);
        }
    }

    #[test]
    fn signal_seal_and_time_names() {
        assert_eq!(
            signal_names((1 << 1) | (1 << 14) | (1 << 9)),
            ["SIGINT", "SIGUSR1", "SIGTERM"]
        );
        assert_eq!(signal_names(1 << 34), ["SIGRTMIN+1"]);
        assert_eq!(seal_names(1 | 8), ["seal", "write"]);
        assert_eq!(clock_name(1), "monotonic");
        assert_eq!(duration_text(1_500_000_000), "1.500s");
        assert_eq!(duration_text(250_000_000), "250ms");
        assert_eq!(duration_text(2_000_000_000), "2s");
    }
}

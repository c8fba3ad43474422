//! Processes, descriptors and sockets of two checkpoints, matched by pid (and descriptor
//! number), and compared fact by fact.
//!
//! Facts are those the `analyze` views show, built by the same functions
//! ([`crate::analyze::open_file`], [`crate::analyze::socket_node`]), so a difference reads the
//! same here as there. What moves on its own between two dumps of an idle process is left out:
//! a timerfd's time to its next expiration, file positions.

use std::collections::BTreeMap;

use super::report::{
    Changes, FdChange, FdSummary, FieldChange, NotCompared, ProcessChange, ProcessSummary,
    SocketChange, SocketSummary,
};
use crate::analyze::{describe_proc, open_file, socket_node, OpenFile, SocketNode};
use checkpoint_model::dump::{Dump, EnvString, Task};
use checkpoint_model::messages::FdTypes;

/// What one checkpoint says about one process.
struct ProcessFacts {
    summary: ProcessSummary,
    pgid: u32,
    sid: u32,
    exe: Option<String>,
    cwd: Option<String>,
    root: Option<String>,
    environ: Option<Vec<String>>,
    threads: Vec<(u32, String)>,
    /// Facts that could not be read: what, and why.
    unreadable: Vec<(&'static str, String)>,
}

fn process_facts(dump: &Dump, task: &Task) -> ProcessFacts {
    let mut unreadable = Vec::new();
    let mut cmdline = None;
    let mut environ = None;
    let mut exe = None;
    let (mut cwd, mut root) = (None, None);
    if task.state.has_resources() {
        match dump.strings(task.pid) {
            Ok(strings) => {
                match &strings.environ {
                    Ok(strings) => environ = Some(strings.iter().map(EnvString::text).collect()),
                    Err(problem) => unreadable.push(("environment", problem.reason.clone())),
                }
                match &strings.cmdline {
                    Ok(line) => cmdline = Some(line.joined()),
                    Err(problem) => unreadable.push(("cmdline", problem.reason.clone())),
                }
            }
            Err(problem) => unreadable.push(("cmdline and environment", problem.reason)),
        }
        if let Ok(map) = dump.memory_map(task.pid) {
            exe = Some(describe_file(dump, map.exe_file_id));
        }
        // Unreadable descriptors are reported once, by the files section.
        if let Ok(open) = dump.open_files(task.pid) {
            cwd = Some(describe_file(dump, open.cwd_id));
            root = Some(describe_file(dump, open.root_id));
        }
    }
    ProcessFacts {
        summary: ProcessSummary {
            pid: task.pid,
            ppid: task.ppid,
            command: task.comm.clone(),
            state: task.state.name().to_owned(),
            threads: task.threads.len(),
            cmdline,
        },
        pgid: task.pgid,
        sid: task.sid,
        exe,
        cwd,
        root,
        environ,
        threads: task
            .threads
            .iter()
            .map(|t| (t.tid, t.comm.clone().unwrap_or_default()))
            .collect(),
        unreadable,
    }
}

/// A file id as `/proc` shows it (`(deleted)` after unlinked files, `/memfd:NAME (deleted)`).
fn describe_file(dump: &Dump, id: u32) -> String {
    let file_type = dump
        .files()
        .get(id)
        .map_or(FdTypes::REG as i32, |file| file.file_type);
    describe_proc(dump.files(), file_type, id)
}

/// Adds a change of `field` when `old` and `new` differ.
fn compare(changes: &mut Vec<FieldChange>, field: &str, old: &str, new: &str) {
    if old != new {
        changes.push(FieldChange::changed(field, old, new));
    }
}

/// Like [`compare`] for facts one side may lack (an unreadable fact is not compared).
fn compare_known(
    changes: &mut Vec<FieldChange>,
    field: &str,
    old: &Option<String>,
    new: &Option<String>,
) {
    if let (Some(old), Some(new)) = (old, new) {
        compare(changes, field, old, new);
    }
}

/// The processes section; `both` receives the pids both checkpoints hold alive, for the
/// sections that compare what a process holds.
pub(super) fn diff_processes(
    old: &Dump,
    new: &Dump,
    not_compared: &mut Vec<NotCompared>,
    both: &mut Vec<u32>,
) -> Changes<ProcessSummary, ProcessChange> {
    let mut out = Changes::default();
    for task in new.tasks() {
        let Some(old_task) = old.tree().task(task.pid) else {
            out.added.push(process_facts(new, task).summary);
            continue;
        };
        let before = process_facts(old, old_task);
        let after = process_facts(new, task);
        for (side, facts) in [("old", &before), ("new", &after)] {
            for (what, reason) in &facts.unreadable {
                not_compared.push(NotCompared {
                    pid: Some(task.pid),
                    what: (*what).to_owned(),
                    reason: format!("{side} checkpoint: {reason}"),
                });
            }
        }
        if task.state.has_resources() && old_task.state.has_resources() {
            both.push(task.pid);
        }
        let changes = compare_processes(&before, &after);
        if !changes.is_empty() {
            out.changed.push(ProcessChange {
                pid: task.pid,
                command: task.comm.clone(),
                changes,
            });
        }
    }
    for task in old.tasks() {
        if new.tree().task(task.pid).is_none() {
            out.removed.push(process_facts(old, task).summary);
        }
    }
    out
}

fn compare_processes(old: &ProcessFacts, new: &ProcessFacts) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let (a, b) = (&old.summary, &new.summary);
    compare(
        &mut changes,
        "ppid",
        &a.ppid.to_string(),
        &b.ppid.to_string(),
    );
    compare(
        &mut changes,
        "pgid",
        &old.pgid.to_string(),
        &new.pgid.to_string(),
    );
    compare(
        &mut changes,
        "sid",
        &old.sid.to_string(),
        &new.sid.to_string(),
    );
    compare(&mut changes, "comm", &a.command, &b.command);
    compare(&mut changes, "state", &a.state, &b.state);
    compare_known(&mut changes, "cmdline", &a.cmdline, &b.cmdline);
    compare_known(&mut changes, "exe", &old.exe, &new.exe);
    compare_known(&mut changes, "cwd", &old.cwd, &new.cwd);
    compare_known(&mut changes, "root", &old.root, &new.root);
    if let (Some(before), Some(after)) = (&old.environ, &new.environ) {
        compare_environ(&mut changes, before, after);
    }
    let before: BTreeMap<u32, &str> = old.threads.iter().map(|(t, n)| (*t, n.as_str())).collect();
    let after: BTreeMap<u32, &str> = new.threads.iter().map(|(t, n)| (*t, n.as_str())).collect();
    for (tid, name) in &before {
        let field = format!("thread {tid}");
        match after.get(tid) {
            None => changes.push(FieldChange {
                field,
                old: Some((*name).to_owned()),
                new: None,
            }),
            Some(new_name) => compare(&mut changes, &field, name, new_name),
        }
    }
    for (tid, name) in after.iter().filter(|(tid, _)| !before.contains_key(tid)) {
        changes.push(FieldChange {
            field: format!("thread {tid}"),
            old: None,
            new: Some((*name).to_owned()),
        });
    }
    changes
}

/// The strings of the environment removed and added (duplicates counted), or, when only their
/// order moved, the two orders.
fn compare_environ(changes: &mut Vec<FieldChange>, old: &[String], new: &[String]) {
    if old == new {
        return;
    }
    let mut unmatched_new: Vec<Option<&String>> = new.iter().map(Some).collect();
    let mut removed = Vec::new();
    for entry in old {
        match unmatched_new.iter_mut().find(|slot| **slot == Some(entry)) {
            Some(slot) => *slot = None,
            None => removed.push(entry),
        }
    }
    let added: Vec<&String> = unmatched_new.into_iter().flatten().collect();
    if removed.is_empty() && added.is_empty() {
        changes.push(FieldChange::changed(
            "environment order",
            names(old),
            names(new),
        ));
        return;
    }
    for entry in removed {
        changes.push(FieldChange {
            field: "environment".to_owned(),
            old: Some(entry.clone()),
            new: None,
        });
    }
    for entry in added {
        changes.push(FieldChange {
            field: "environment".to_owned(),
            old: None,
            new: Some(entry.clone()),
        });
    }
}

/// The variable names of an environment, in order.
fn names(environ: &[String]) -> String {
    environ
        .iter()
        .map(|e| e.split_once('=').map_or(e.as_str(), |(name, _)| name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One process's descriptors, by number, described as `--files` and `--sockets` do.
fn descriptors(
    dump: &Dump,
    pid: u32,
) -> Result<BTreeMap<u32, (OpenFile, Option<SocketNode>)>, checkpoint_model::dump::Error> {
    let open = dump.open_files(pid)?;
    let files = dump.files();
    Ok(open
        .fds
        .iter()
        .map(|fd| {
            let socket = files
                .get(fd.id)
                .and_then(|file| socket_node(files, fd.fd, &file.kind));
            (fd.fd, (open_file(files, pid, &open.fds, fd), socket))
        })
        .collect())
}

/// The files and sockets sections for the processes both checkpoints hold.
pub(super) fn diff_descriptors(
    old: &Dump,
    new: &Dump,
    pids: &[u32],
    not_compared: &mut Vec<NotCompared>,
) -> (
    Changes<FdSummary, FdChange>,
    Changes<SocketSummary, SocketChange>,
) {
    let mut files = Changes::default();
    let mut sockets = Changes::default();
    for &pid in pids {
        let (before, after) =
            match descriptors(old, pid).and_then(|b| Ok((b, descriptors(new, pid)?))) {
                Ok(pair) => pair,
                Err(err) => {
                    not_compared.push(NotCompared {
                        pid: Some(pid),
                        what: "files".to_owned(),
                        reason: checkpoint_model::error_text(&err),
                    });
                    continue;
                }
            };
        for (fd, (file, socket)) in &after {
            match before.get(fd) {
                None => {
                    files.added.push(fd_summary(pid, *fd, file));
                    if let Some(socket) = socket {
                        sockets.added.push(socket_summary(pid, socket));
                    }
                }
                Some((old_file, old_socket)) => {
                    let changes = compare_fds(old_file, file);
                    if !changes.is_empty() {
                        files.changed.push(FdChange {
                            pid,
                            fd: *fd,
                            changes,
                        });
                    }
                    diff_socket(pid, old_socket.as_ref(), socket.as_ref(), &mut sockets);
                }
            }
        }
        for (fd, (file, socket)) in &before {
            if !after.contains_key(fd) {
                files.removed.push(fd_summary(pid, *fd, file));
                if let Some(socket) = socket {
                    sockets.removed.push(socket_summary(pid, socket));
                }
            }
        }
    }
    (files, sockets)
}

fn fd_summary(pid: u32, fd: u32, file: &OpenFile) -> FdSummary {
    FdSummary {
        pid,
        fd,
        file_type: file.file_type.clone(),
        path: file.path.clone(),
    }
}

/// What differs between two descriptors of one number (timers' remaining time moves on its own
/// and is not compared; a value one checkpoint does not know, such as unread bytes whose image
/// could not be read, is not compared either: `not_compared` says why).
fn compare_fds(old: &OpenFile, new: &OpenFile) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let list =
        |value: &Option<Vec<String>>| value.as_ref().map_or_else(String::new, |v| v.join(","));
    let locks = |file: &OpenFile| {
        file.extras()
            .locks
            .iter()
            .map(|l| format!("{} {} {}+{}", l.kind, l.mode, l.start, l.len))
            .collect::<Vec<_>>()
            .join(", ")
    };
    compare(&mut changes, "type", &old.file_type, &new.file_type);
    compare(&mut changes, "path", &old.path, &new.path);
    compare(
        &mut changes,
        "deleted",
        &old.deleted.to_string(),
        &new.deleted.to_string(),
    );
    compare_numbers(&mut changes, "size", old.size, new.size);
    compare_numbers(&mut changes, "position", old.pos, new.pos);
    compare_numbers(
        &mut changes,
        "unread bytes",
        old.extras().unread_bytes,
        new.extras().unread_bytes,
    );
    compare_numbers(
        &mut changes,
        "eventfd counter",
        old.extras().eventfd_counter,
        new.extras().eventfd_counter,
    );
    compare(
        &mut changes,
        "signals",
        &list(&old.extras().signalfd_mask),
        &list(&new.extras().signalfd_mask),
    );
    compare(
        &mut changes,
        "seals",
        &list(&old.extras().seals),
        &list(&new.extras().seals),
    );
    compare(&mut changes, "locks", &locks(old), &locks(new));
    let epoll = |file: &OpenFile| -> BTreeMap<String, String> {
        file.extras()
            .epoll_targets
            .iter()
            .flatten()
            .map(|t| {
                (
                    format!("epoll registration fd {}", t.tfd),
                    format!(
                        "{}: events {} ({}), data {}",
                        t.target,
                        t.events,
                        t.event_names.join("|"),
                        t.data
                    ),
                )
            })
            .collect()
    };
    compare_keyed(&mut changes, &epoll(old), &epoll(new));
    let inotify = |file: &OpenFile| -> BTreeMap<String, String> {
        file.extras()
            .inotify_watches
            .iter()
            .flatten()
            .map(|w| {
                (
                    format!("inotify watch {}", w.wd),
                    format!(
                        "{}: mask {} ({})",
                        if w.path.is_empty() { "?" } else { &w.path },
                        w.mask,
                        w.mask_names.join("|")
                    ),
                )
            })
            .collect()
    };
    compare_keyed(&mut changes, &inotify(old), &inotify(new));
    let fanotify = |file: &OpenFile| -> BTreeMap<String, String> {
        file.extras()
            .fanotify
            .iter()
            .flat_map(|f| &f.marks)
            .map(|m| {
                (
                    format!(
                        "fanotify mark {} {}",
                        m.mark_type,
                        if m.path.is_empty() {
                            m.ino
                                .map_or_else(|| "?".to_owned(), |ino| format!("inode {ino}"))
                        } else {
                            m.path.clone()
                        }
                    ),
                    format!(
                        "mask {} ({}), ignored {} ({})",
                        m.mask,
                        m.mask_names.join("|"),
                        m.ignored_mask,
                        m.ignored_mask_names.join("|")
                    ),
                )
            })
            .collect()
    };
    compare_keyed(&mut changes, &fanotify(old), &fanotify(new));
    changes
}

/// Compares two numbers when both checkpoints know them.
fn compare_numbers(
    changes: &mut Vec<FieldChange>,
    field: &str,
    old: Option<u64>,
    new: Option<u64>,
) {
    if let (Some(old), Some(new)) = (old, new) {
        compare(changes, field, &old.to_string(), &new.to_string());
    }
}

/// Compares two sets of keyed values (an epoll instance's registrations by descriptor, ...):
/// each key only in `new` is added, only in `old` removed, in both with another value changed.
fn compare_keyed(
    changes: &mut Vec<FieldChange>,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) {
    for (key, value) in new {
        match old.get(key) {
            None => changes.push(FieldChange {
                field: key.clone(),
                old: None,
                new: Some(value.clone()),
            }),
            Some(before) => compare(changes, key, before, value),
        }
    }
    for (key, value) in old {
        if !new.contains_key(key) {
            changes.push(FieldChange {
                field: key.clone(),
                old: Some(value.clone()),
                new: None,
            });
        }
    }
}

fn socket_summary(pid: u32, socket: &SocketNode) -> SocketSummary {
    let data = &socket.data;
    SocketSummary {
        pid,
        fd: socket.fd,
        protocol: socket.protocol.clone(),
        state: data.state.clone(),
        local: endpoint(&data.src, data.src_port, &data.address),
        remote: endpoint(&data.dst, data.dst_port, ""),
    }
}

/// One descriptor's socket in both checkpoints: the same socket (same inode) compared, else the
/// old one removed and the new one added.
fn diff_socket(
    pid: u32,
    old: Option<&SocketNode>,
    new: Option<&SocketNode>,
    out: &mut Changes<SocketSummary, SocketChange>,
) {
    match (old, new) {
        (None, None) => {}
        (Some(old), None) => out.removed.push(socket_summary(pid, old)),
        (None, Some(new)) => out.added.push(socket_summary(pid, new)),
        (Some(old), Some(new)) if old.data.ino != new.data.ino => {
            out.removed.push(socket_summary(pid, old));
            out.added.push(socket_summary(pid, new));
        }
        (Some(old), Some(new)) => {
            let (a, b) = (socket_summary(pid, old), socket_summary(pid, new));
            let mut changes = Vec::new();
            compare(&mut changes, "state", &a.state, &b.state);
            compare(&mut changes, "local", &a.local, &b.local);
            compare(&mut changes, "remote", &a.remote, &b.remote);
            compare_numbers(
                &mut changes,
                "send queue",
                old.data.send_queue,
                new.data.send_queue,
            );
            compare_numbers(
                &mut changes,
                "recv queue",
                old.data.recv_queue,
                new.data.recv_queue,
            );
            if !changes.is_empty() {
                out.changed.push(SocketChange {
                    pid,
                    fd: new.fd,
                    changes,
                });
            }
        }
    }
}

/// `addr:port`, `[addr]:port` for IPv6, or the unix path.
fn endpoint(address: &str, port: Option<u32>, unix_path: &str) -> String {
    match port {
        Some(port) if address.contains(':') => format!("[{address}]:{port}"),
        Some(port) => format!("{address}:{port}"),
        None => unix_path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::FileExtras;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn environment_changes_count_duplicates_and_see_order() {
        let mut changes = Vec::new();
        compare_environ(
            &mut changes,
            &strings(&["A=1", "PATH=/bin", "A=1"]),
            &strings(&["A=1", "PATH=/bin", "B=2"]),
        );
        assert_eq!(
            changes,
            vec![
                FieldChange {
                    field: "environment".into(),
                    old: Some("A=1".into()),
                    new: None
                },
                FieldChange {
                    field: "environment".into(),
                    old: None,
                    new: Some("B=2".into())
                },
            ]
        );
        let mut changes = Vec::new();
        compare_environ(
            &mut changes,
            &strings(&["A=1", "B=2"]),
            &strings(&["B=2", "A=1"]),
        );
        assert_eq!(
            changes,
            vec![FieldChange::changed("environment order", "A B", "B A")]
        );
        let mut changes = Vec::new();
        compare_environ(&mut changes, &strings(&["A=1"]), &strings(&["A=1"]));
        assert!(changes.is_empty());
    }

    fn facts(state: &str, cmdline: Option<&str>, threads: &[(u32, &str)]) -> ProcessFacts {
        ProcessFacts {
            summary: ProcessSummary {
                pid: 7,
                ppid: 1,
                command: "app".into(),
                state: state.into(),
                threads: threads.len(),
                cmdline: cmdline.map(str::to_owned),
            },
            pgid: 7,
            sid: 7,
            exe: Some("/usr/bin/app".into()),
            cwd: Some("/srv".into()),
            root: Some("/".into()),
            environ: Some(strings(&["A=1"])),
            threads: threads.iter().map(|(t, n)| (*t, (*n).to_owned())).collect(),
            unreadable: Vec::new(),
        }
    }

    #[test]
    fn process_changes_name_each_field() {
        let old = facts("Alive", Some("app serve"), &[(7, "app"), (8, "worker-1")]);
        let new = facts(
            "Stopped",
            Some("app serve --debug"),
            &[(7, "app"), (8, "gc"), (9, "worker-2")],
        );
        assert_eq!(
            compare_processes(&old, &new),
            vec![
                FieldChange::changed("state", "Alive", "Stopped"),
                FieldChange::changed("cmdline", "app serve", "app serve --debug"),
                FieldChange::changed("thread 8", "worker-1", "gc"),
                FieldChange {
                    field: "thread 9".into(),
                    old: None,
                    new: Some("worker-2".into())
                },
            ]
        );
        // A fact one side could not read is not compared.
        let unreadable = facts("Alive", None, &[(7, "app"), (8, "worker-1")]);
        assert!(compare_processes(&old, &unreadable).is_empty());
        assert!(compare_processes(&old, &old).is_empty());
    }

    #[test]
    fn descriptor_changes_leave_out_what_moves_on_its_own() {
        let old = OpenFile {
            fd: "3".into(),
            file_type: "TIMERFD".into(),
            path: "anon_inode:[timerfd]".into(),
            detail: "clock monotonic, next in 59 s".into(),
            ..OpenFile::default()
        };
        let new = OpenFile {
            detail: "clock monotonic, next in 12 s".into(),
            ..old.clone()
        };
        assert!(compare_fds(&old, &new).is_empty());
        let pipe = OpenFile {
            fd: "4".into(),
            file_type: "PIPE".into(),
            path: "pipe:[10]".into(),
            extras: Some(Box::new(FileExtras {
                unread_bytes: Some(0),
                ..FileExtras::default()
            })),
            ..OpenFile::default()
        };
        let mut filled = pipe.clone();
        filled.extras_mut().unread_bytes = Some(21);
        assert_eq!(
            compare_fds(&pipe, &filled),
            vec![FieldChange::changed("unread bytes", "0", "21")]
        );
    }

    #[test]
    fn sockets_are_the_same_only_with_the_same_inode() {
        use crate::analyze::SocketData;
        let socket = |ino: u32, state: &str| SocketNode {
            fd: 5,
            protocol: "TCP".into(),
            data: SocketData {
                state: state.into(),
                src: "127.0.0.1".into(),
                src_port: Some(8080),
                ino: Some(ino),
                ..SocketData::default()
            },
        };
        let mut out = Changes::default();
        diff_socket(
            1,
            Some(&socket(10, "LISTEN")),
            Some(&socket(10, "CLOSE")),
            &mut out,
        );
        assert_eq!(out.changed.len(), 1);
        assert_eq!(
            out.changed[0].changes,
            vec![FieldChange::changed("state", "LISTEN", "CLOSE")]
        );
        let mut out = Changes::default();
        diff_socket(
            1,
            Some(&socket(10, "LISTEN")),
            Some(&socket(11, "LISTEN")),
            &mut out,
        );
        assert_eq!(
            (out.added.len(), out.removed.len(), out.changed.len()),
            (1, 1, 0)
        );
        assert_eq!(out.added[0].local, "127.0.0.1:8080");
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("0.0.0.0", Some(80), ""), "0.0.0.0:80");
        assert_eq!(endpoint("::", Some(80), ""), "[::]:80");
        assert_eq!(endpoint("", None, "@abstract"), "@abstract");
    }
}

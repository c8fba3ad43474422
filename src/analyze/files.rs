//! Open files: each process's descriptors (`ids-PID.img` -> `fdinfo-FILES_ID.img`) resolved
//! through the file table, plus its cwd and root (`fs-PID.img`).
//!
//! Two spellings of the same facts: [`describe_proc`] writes what `/proc/PID/fd` links show
//! (`/etc/hostname`, `pipe:[44604]`, `socket:[44607]`), [`describe_crit`] what `crit x fds`
//! prints (`pipe[44604]`, `INETSK.13`, `unix[ino (peer) name]`).

use std::collections::HashMap;

use super::images::{file_type_name, has_resources, Images};
use super::processes::TaskTree;
use super::{Error, FdsProcess, FdsRow, OpenFile, ProcessFiles};
use crate::criu::messages::{FdTypes, FileEntry};

/// What crit prints for a regular file it cannot find.
const UNKNOWN_PATH: &str = "unknown path";

/// The descriptors of one process in `fdinfo` order, each as (fd, type, file id).
pub(crate) struct Descriptors {
    /// `(fd, fd type, file id)`.
    pub fds: Vec<(u32, i32, u32)>,
    /// File id of the cwd.
    pub cwd_id: u32,
    /// File id of the root.
    pub root_id: u32,
}

/// The descriptors of process `pid`.
pub(crate) fn collect_descriptors(images: &Images<'_>, pid: u32) -> Result<Descriptors, Error> {
    let ids = images.ids(pid)?;
    let fds = images
        .fdinfo(ids.files_id)?
        .into_iter()
        .map(|fd| (fd.fd, fd.r#type, fd.id))
        .collect();
    let fs = images.fs(pid)?;
    Ok(Descriptors {
        fds,
        cwd_id: fs.cwd_id,
        root_id: fs.root_id,
    })
}

/// The `/proc/PID/fd`-style text of file `id` of type `file_type`.
pub(crate) fn describe_proc(files: &HashMap<u32, FileEntry>, file_type: i32, id: u32) -> String {
    let file = files.get(&id);
    let ino = |ino: u32| format!("socket:[{ino}]");
    match FdTypes::try_from(file_type) {
        Ok(FdTypes::REG) => file
            .and_then(|f| f.reg.as_ref())
            .map_or_else(|| UNKNOWN_PATH.to_owned(), |reg| reg.name.clone()),
        Ok(FdTypes::PIPE) => file.and_then(|f| f.pipe.as_ref()).map_or_else(
            || "pipe:[?]".to_owned(),
            |p| format!("pipe:[{}]", p.pipe_id),
        ),
        Ok(FdTypes::FIFO) => file.and_then(|f| f.fifo.as_ref()).map_or_else(
            || "fifo:[?]".to_owned(),
            |f| format!("fifo:[{}]", f.pipe_id),
        ),
        Ok(FdTypes::INETSK) => file
            .and_then(|f| f.isk.as_ref())
            .map_or_else(|| "socket:[?]".to_owned(), |sk| ino(sk.ino)),
        Ok(FdTypes::UNIXSK) => file
            .and_then(|f| f.usk.as_ref())
            .map_or_else(|| "socket:[?]".to_owned(), |sk| ino(sk.ino)),
        Ok(FdTypes::NETLINKSK) => file
            .and_then(|f| f.nlsk.as_ref())
            .map_or_else(|| "socket:[?]".to_owned(), |sk| ino(sk.ino)),
        Ok(FdTypes::EVENTFD) => "anon_inode:[eventfd]".to_owned(),
        Ok(FdTypes::EVENTPOLL) => "anon_inode:[eventpoll]".to_owned(),
        Ok(FdTypes::SIGNALFD) => "anon_inode:[signalfd]".to_owned(),
        Ok(FdTypes::TIMERFD) => "anon_inode:[timerfd]".to_owned(),
        Ok(FdTypes::INOTIFY) => "anon_inode:inotify".to_owned(),
        Ok(FdTypes::FANOTIFY) => "anon_inode:[fanotify]".to_owned(),
        Ok(FdTypes::PIDFD) => "anon_inode:[pidfd]".to_owned(),
        _ => format!("{}.{id}", file_type_name(file_type)),
    }
}

/// The `crit x fds` text of file `id` of type `file_type`: crit looks in `files.img` (and the
/// per-type images before it) and prints `TYPE.id` for types it does not resolve.
pub(crate) fn describe_crit(files: &HashMap<u32, FileEntry>, file_type: i32, id: u32) -> String {
    let file = files.get(&id);
    match FdTypes::try_from(file_type) {
        Ok(FdTypes::REG) => file
            .and_then(|f| f.reg.as_ref())
            .map_or_else(|| UNKNOWN_PATH.to_owned(), |reg| reg.name.clone()),
        Ok(FdTypes::PIPE) => file
            .and_then(|f| f.pipe.as_ref())
            .map_or_else(|| "pipe[?]".to_owned(), |p| format!("pipe[{}]", p.pipe_id)),
        Ok(FdTypes::UNIXSK) => file.and_then(|f| f.usk.as_ref()).map_or_else(
            || "unix[?]".to_owned(),
            |sk| {
                let name = String::from_utf8_lossy(&sk.name);
                if name.is_empty() {
                    format!("unix[{} ({})]", sk.ino, sk.peer)
                } else {
                    format!("unix[{} ({}) {name}]", sk.ino, sk.peer)
                }
            },
        ),
        _ => format!("{}.{id}", file_type_name(file_type)),
    }
}

/// The `--files` section: every process's descriptors, cwd and root. Processes without
/// resources (zombies, dead) are left out.
pub(crate) fn collect_files(
    images: &Images<'_>,
    tree: &TaskTree,
) -> Result<Vec<ProcessFiles>, Error> {
    let files = images.files()?;
    let mut out = Vec::new();
    for task in tree.tasks.iter().filter(|task| has_resources(task.state)) {
        let descriptors = collect_descriptors(images, task.entry.pid)?;
        let mut open_files: Vec<OpenFile> = descriptors
            .fds
            .iter()
            .map(|&(fd, file_type, id)| OpenFile {
                fd: fd.to_string(),
                file_type: file_type_name(file_type),
                path: describe_proc(files, file_type, id),
            })
            .collect();
        let reg = FdTypes::REG as i32;
        for (name, id) in [("cwd", descriptors.cwd_id), ("root", descriptors.root_id)] {
            open_files.push(OpenFile {
                fd: name.to_owned(),
                file_type: "REG".to_owned(),
                path: describe_proc(files, reg, id),
            });
        }
        out.push(ProcessFiles {
            pid: task.entry.pid,
            open_files,
        });
    }
    Ok(out)
}

/// `crit x fds`.
pub(crate) fn collect_explore_fds(
    images: &Images<'_>,
    tree: &TaskTree,
) -> Result<Vec<FdsProcess>, Error> {
    let files = images.files()?;
    let reg = FdTypes::REG as i32;
    let mut out = Vec::new();
    for task in tree.tasks.iter().filter(|task| has_resources(task.state)) {
        let descriptors = collect_descriptors(images, task.entry.pid)?;
        let mut fds: Vec<FdsRow> = descriptors
            .fds
            .iter()
            .map(|&(fd, file_type, id)| FdsRow {
                fd: fd.to_string(),
                file: describe_crit(files, file_type, id),
            })
            .collect();
        for (name, id) in [("cwd", descriptors.cwd_id), ("root", descriptors.root_id)] {
            fds.push(FdsRow {
                fd: name.to_owned(),
                file: describe_crit(files, reg, id),
            });
        }
        out.push(FdsProcess {
            pid: task.entry.pid,
            fds,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criu::messages::{InetSkEntry, PipeEntry, RegFileEntry, UnixSkEntry};

    fn table() -> HashMap<u32, FileEntry> {
        let mut files = HashMap::new();
        files.insert(
            1,
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
        );
        files.insert(
            2,
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
        );
        files.insert(
            3,
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
        );
        files.insert(
            4,
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
        );
        files
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
}

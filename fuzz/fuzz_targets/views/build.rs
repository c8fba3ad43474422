//! The input of `checkpoint_views`: a small real-shaped checkpoint (the test generator's
//! processes, pages, files and fds) changed by a list of edits made on decoded images, with
//! hostile strings where a checkpoint holds names, packed as the kubelet packs it (plain, gzip
//! or zstd).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use arbitrary::Arbitrary;
use checkpoint_images::messages::{
    CoreEntry, FdinfoEntry, FileEntry, MmEntry, PagemapEntry, PagemapHead, PstreeEntry,
    RegFileEntry, VmaEntry,
};
use checkpoint_images::{encode_image, read_entries, Magic, IMG_COMMON};
use prost::Message;

use crate::memgen::{self, GenSpec};

/// Strings a hostile container or node would choose: terminal escapes and forged lines, YAML 1.1
/// look-alikes, bidi and layout characters, indicators, and secrets-shaped text.
const HOSTILE: &[&str] = &[
    "",
    "\x1b]0;owned\x07\x1b[2J\r\nerror: FORGED",
    "\nerror: FORGED line",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "1:30",
    "1_000",
    "0x1F",
    "0o17",
    ".inf",
    "2001-12-14",
    "<<",
    "=",
    "~",
    "null",
    "\u{9b}31m",
    "\u{202e}gpj.exe",
    "\u{2028}\u{2029}\u{200b}\u{feff}",
    "- x",
    "? y",
    "&anchor",
    "*alias",
    "!tag",
    "%YAML",
    "# comment",
    ": colon",
    "'\"quotes\"'",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "../../etc/passwd",
    "\u{0}nul\u{7f}del",
];

/// A string of the checkpoint: a hostile template and arbitrary text after it.
#[derive(Debug, Arbitrary)]
pub struct Hostile {
    template: u8,
    text: String,
}

impl Hostile {
    /// The string, at most 200 characters of arbitrary text after the template.
    pub fn text(&self) -> String {
        let template = HOSTILE[usize::from(self.template) % HOSTILE.len()];
        let tail: String = self.text.chars().take(200).collect();
        format!("{template}{tail}")
    }

    /// As a member or path name: no NUL, no empty name, never absolute.
    fn name(&self) -> String {
        let text: String = self.text().chars().filter(|&c| c != '\0').collect();
        format!("f{}", text.trim_start_matches('/'))
    }
}

/// How the archive is compressed.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Compression {
    /// A plain tar, read in place.
    Plain,
    /// gzip, as CRI-O's exports.
    Gzip,
    /// zstd, as Podman's.
    Zstd,
}

/// One change to the generated images.
#[derive(Debug, Arbitrary)]
pub enum Edit {
    /// A process's name (`core-PID.img` tc.comm).
    Comm { proc: u8, name: Hostile },
    /// A file's path (`files.img`).
    FilePath { file: u8, name: Hostile },
    /// A mapping's fields.
    Vma {
        proc: u8,
        vma: u8,
        start: Option<u64>,
        end: Option<u64>,
        flags: Option<u32>,
        status: Option<u32>,
        shmid: Option<u64>,
        pgoff: Option<u64>,
    },
    /// One more mapping, at a page number (pages count capped).
    AddVma {
        proc: u8,
        page: u32,
        pages: u16,
        flags: u32,
        status: u32,
        shmid: u64,
    },
    /// A pagemap run's fields.
    Run {
        proc: u8,
        entry: u8,
        vaddr: Option<u64>,
        nr_pages: Option<u32>,
        flags: Option<u32>,
    },
    /// The pages file a pagemap names (several pagemaps may name one).
    PagesId { proc: u8, pages_id: u8 },
    /// The argument and environment bounds, moved.
    Args {
        proc: u8,
        arg: (i16, i16),
        env: (i16, i16),
    },
    /// More threads than cores.
    Threads { proc: u8, extra: u8 },
    /// Another parent.
    Parent { proc: u8, ppid: u16 },
    /// One more descriptor.
    Fd {
        proc: u8,
        fd: u32,
        id: u32,
        kind: u8,
    },
    /// An image removed.
    Drop { image: u8 },
    /// An image cut short.
    Cut { image: u8, keep: u16 },
}

/// The whole input.
#[derive(Debug, Arbitrary)]
pub struct Input {
    processes: u8,
    seed: u16,
    /// How the archive is packed.
    pub compression: Compression,
    edits: Vec<Edit>,
    rootfs: Vec<(Hostile, Vec<u8>)>,
    rootfs_zstd: bool,
    engine_files: Vec<(Hostile, Vec<u8>)>,
    container: Hostile,
}

/// What was built: the sizes the bounds are derived from.
pub struct Built {
    /// The bytes of pages and stored file contents the archive holds.
    pub stored_bytes: u64,
    /// The bytes of the archive's uncompressed tar.
    pub plain_bytes: u64,
}

const PIDS_FROM: u32 = 4000;

/// Builds the archive of `input` at `path`, using `work` for the generator's images.
pub fn build(input: &Input, work: &Path, path: &Path) -> std::io::Result<Built> {
    let processes = 1 + u32::from(input.processes % 3);
    let spec = GenSpec {
        processes,
        bytes_per_process: 64 << 12,
        markers_per_process: 2,
        seed: u64::from(input.seed),
        ..GenSpec::default()
    };
    let dir = work.join("images");
    let _ = std::fs::remove_dir_all(&dir);
    memgen::write_dir(&dir, &spec)?;
    let mut images: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        images.insert(name, std::fs::read(entry.path())?);
    }
    for edit in input.edits.iter().take(24) {
        apply(edit, processes, &mut images);
    }
    let stored_bytes = images
        .iter()
        .filter(|(name, _)| name.starts_with("pages-") || name.starts_with("ghost-file-"))
        .map(|(_, bytes)| bytes.len() as u64)
        .sum();
    let mut tar = tar::Builder::new(Vec::new());
    let mut append = |name: &str, data: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append_data(&mut header, name, data)
    };
    let container = serde_json::json!({
        "id": "views",
        "name": input.container.text(),
        "rootfsImageName": input.container.text(),
    });
    append("config.dump", container.to_string().as_bytes())?;
    let spec_dump = serde_json::json!({"annotations": {
        "io.kubernetes.pod.name": input.container.text(),
        "io.kubernetes.pod.namespace": "fuzz",
    }});
    append("spec.dump", spec_dump.to_string().as_bytes())?;
    for (name, bytes) in &images {
        append(&format!("checkpoint/{name}"), bytes)?;
    }
    for (name, data) in input.engine_files.iter().take(4) {
        append(&format!("checkpoint/{}", name.name()), data)?;
    }
    if !input.rootfs.is_empty() {
        append("rootfs-diff.tar", &rootfs_diff(input)?)?;
    }
    let plain = tar.into_inner()?;
    let plain_bytes = plain.len() as u64;
    let packed = match input.compression {
        Compression::Plain => plain,
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&plain)?;
            gz.finish()?
        }
        Compression::Zstd => zstd::encode_all(plain.as_slice(), 1)?,
    };
    std::fs::write(path, packed)?;
    Ok(Built {
        stored_bytes,
        plain_bytes,
    })
}

/// `rootfs-diff.tar`: the input's files under hostile names, zstd-compressed when asked.
fn rootfs_diff(input: &Input) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in input.rootfs.iter().take(8) {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        // Names the tar crate refuses (too long for its own checks) are left out.
        let _ = tar.append_data(&mut header, name.name(), data.as_slice());
    }
    let plain = tar.into_inner()?;
    if input.rootfs_zstd {
        zstd::encode_all(plain.as_slice(), 1)
    } else {
        Ok(plain)
    }
}

fn pid_of(proc: u8, processes: u32) -> u32 {
    PIDS_FROM + u32::from(proc) % processes
}

/// Decodes image `name` as `M`, lets `change` edit the entries, encodes them back.
fn edit_entries<M: checkpoint_images::CriuMessage>(
    images: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    change: impl FnOnce(&mut Vec<M>),
) {
    let Some(bytes) = images.get(name) else {
        return;
    };
    let Ok(mut entries) = read_entries::<M>(name, bytes) else {
        return;
    };
    change(&mut entries);
    images.insert(name.to_owned(), encode_image(&entries));
}

/// Decodes a pagemap image, lets `change` edit its head and runs, encodes it back.
fn edit_pagemap(
    images: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    change: impl FnOnce(&mut PagemapHead, &mut Vec<PagemapEntry>),
) {
    let Some(bytes) = images.get(name) else {
        return;
    };
    let Ok(map) = checkpoint_images::PageMap::decode(name, bytes) else {
        return;
    };
    let mut head = PagemapHead {
        pages_id: map.pages_id,
    };
    let mut runs: Vec<PagemapEntry> = map
        .runs
        .iter()
        .map(|run| PagemapEntry {
            vaddr: run.vaddr,
            compat_nr_pages: 0,
            in_parent: None,
            flags: Some(run.flags),
            nr_pages: Some(run.nr_pages),
        })
        .collect();
    change(&mut head, &mut runs);
    let mut out = Vec::new();
    out.extend_from_slice(&IMG_COMMON.to_le_bytes());
    out.extend_from_slice(&Magic::Pagemap.value().to_le_bytes());
    let mut push = |bytes: Vec<u8>| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    };
    push(head.encode_to_vec());
    for run in runs {
        push(run.encode_to_vec());
    }
    images.insert(name.to_owned(), out);
}

fn apply(edit: &Edit, processes: u32, images: &mut BTreeMap<String, Vec<u8>>) {
    match edit {
        Edit::Comm { proc, name } => {
            let pid = pid_of(*proc, processes);
            edit_entries::<CoreEntry>(images, &format!("core-{pid}.img"), |cores| {
                if let Some(tc) = cores.first_mut().and_then(|c| c.tc.as_mut()) {
                    tc.comm = name.text();
                }
            });
        }
        Edit::FilePath { file, name } => {
            edit_entries::<FileEntry>(images, "files.img", |files| {
                let len = files.len().max(1);
                if let Some(reg) = files
                    .get_mut(usize::from(*file) % len)
                    .and_then(|f| f.reg.as_mut())
                {
                    reg.name = format!("/{}", name.name());
                }
            });
        }
        Edit::Vma {
            proc,
            vma,
            start,
            end,
            flags,
            status,
            shmid,
            pgoff,
        } => {
            let pid = pid_of(*proc, processes);
            edit_entries::<MmEntry>(images, &format!("mm-{pid}.img"), |mm| {
                let Some(mm) = mm.first_mut() else { return };
                let len = mm.vmas.len().max(1);
                let Some(v) = mm.vmas.get_mut(usize::from(*vma) % len) else {
                    return;
                };
                v.start = start.unwrap_or(v.start);
                v.end = end.unwrap_or(v.end);
                v.flags = flags.unwrap_or(v.flags);
                v.status = status.unwrap_or(v.status);
                v.shmid = shmid.unwrap_or(v.shmid);
                v.pgoff = pgoff.unwrap_or(v.pgoff);
            });
        }
        Edit::AddVma {
            proc,
            page,
            pages,
            flags,
            status,
            shmid,
        } => {
            let pid = pid_of(*proc, processes);
            edit_entries::<MmEntry>(images, &format!("mm-{pid}.img"), |mm| {
                let Some(mm) = mm.first_mut() else { return };
                let start = u64::from(*page) << 12;
                mm.vmas.push(VmaEntry {
                    start,
                    end: start + (u64::from(*pages % 4096) << 12),
                    prot: 3,
                    flags: *flags,
                    status: *status,
                    shmid: *shmid,
                    ..VmaEntry::default()
                });
            });
        }
        Edit::Run {
            proc,
            entry,
            vaddr,
            nr_pages,
            flags,
        } => {
            let pid = pid_of(*proc, processes);
            edit_pagemap(images, &format!("pagemap-{pid}.img"), |_, runs| {
                let len = runs.len().max(1);
                if let Some(run) = runs.get_mut(usize::from(*entry) % len) {
                    run.vaddr = vaddr.unwrap_or(run.vaddr);
                    run.nr_pages = nr_pages.map(u64::from).or(run.nr_pages);
                    run.flags = flags.or(run.flags);
                }
            });
        }
        Edit::PagesId { proc, pages_id } => {
            let pid = pid_of(*proc, processes);
            edit_pagemap(images, &format!("pagemap-{pid}.img"), |head, _| {
                head.pages_id = u32::from(*pages_id % 8);
            });
        }
        Edit::Args { proc, arg, env } => {
            let pid = pid_of(*proc, processes);
            let moved = |at: u64, by: i16| at.wrapping_add_signed(i64::from(by));
            edit_entries::<MmEntry>(images, &format!("mm-{pid}.img"), |mm| {
                let Some(mm) = mm.first_mut() else { return };
                mm.mm_arg_start = moved(mm.mm_arg_start, arg.0);
                mm.mm_arg_end = moved(mm.mm_arg_end, arg.1);
                mm.mm_env_start = moved(mm.mm_env_start, env.0);
                mm.mm_env_end = moved(mm.mm_env_end, env.1);
            });
        }
        Edit::Threads { proc, extra } => {
            let pid = pid_of(*proc, processes);
            edit_entries::<PstreeEntry>(images, "pstree.img", |tree| {
                if let Some(entry) = tree.iter_mut().find(|e| e.pid == pid) {
                    entry
                        .threads
                        .extend((1..=u32::from(*extra % 64)).map(|n| pid + 1000 * n));
                }
            });
        }
        Edit::Parent { proc, ppid } => {
            let pid = pid_of(*proc, processes);
            edit_entries::<PstreeEntry>(images, "pstree.img", |tree| {
                if let Some(entry) = tree.iter_mut().find(|e| e.pid == pid) {
                    entry.ppid = u32::from(*ppid);
                }
            });
        }
        Edit::Fd { proc, fd, id, kind } => {
            let pid = pid_of(*proc, processes);
            edit_entries::<FdinfoEntry>(images, &format!("fdinfo-{pid}.img"), |fds| {
                fds.push(FdinfoEntry {
                    id: *id % 8,
                    flags: 0,
                    r#type: i32::from(*kind % 20),
                    fd: *fd,
                    ..FdinfoEntry::default()
                });
            });
            edit_entries::<FileEntry>(images, "files.img", |files| {
                if !files.iter().any(|f| f.id == *id % 8) {
                    files.push(FileEntry {
                        r#type: 1,
                        id: *id % 8,
                        reg: Some(RegFileEntry {
                            id: *id % 8,
                            name: "/tmp/added".into(),
                            ..RegFileEntry::default()
                        }),
                        ..FileEntry::default()
                    });
                }
            });
        }
        Edit::Drop { image } => {
            if let Some(name) = nth_name(images, *image) {
                images.remove(&name);
            }
        }
        Edit::Cut { image, keep } => {
            if let Some(name) = nth_name(images, *image) {
                if let Some(bytes) = images.get_mut(&name) {
                    bytes.truncate(usize::from(*keep));
                }
            }
        }
    }
}

fn nth_name(images: &BTreeMap<String, Vec<u8>>, n: u8) -> Option<String> {
    let len = images.len().max(1);
    images.keys().nth(usize::from(n) % len).cloned()
}

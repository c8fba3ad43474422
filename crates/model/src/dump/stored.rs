//! The data a checkpoint stores outside process memory, each as byte ranges of one image, with a
//! label that says where the bytes were in the running system: unread pipe data
//! (`pipes-data.img`, `fifo-data.img`), unix socket queues (`sk-queues.img`), TCP receive and
//! send queues (`tcp-stream-INO.img`), the contents of deleted files (`ghost-file-N.img`), and
//! shared-memory objects that no process maps (a memfd held only as a descriptor, a SysV segment
//! nobody attached), whose pages are in their own pages file or inline in `ipcns-shm-NSID.img`.
//!
//! Shared memory that a process maps is read through that process's memory instead (see
//! [`super::memory`]), so each stored byte is found in one place. The files of `rootfs-diff.tar`
//! are streamed by [`crate::archive::Checkpoint::visit_rootfs_files`].

use std::net::{Ipv4Addr, Ipv6Addr};

use super::files::FileKind;
use super::shared::SharedKind;
use super::Dump;
use checkpoint_images as criu;
use checkpoint_images::messages::{GhostChunkEntry, GhostFileEntry, PipeDataEntry, SkPacketEntry};

/// What kind of stored data a [`StoredData`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoredKind {
    /// Bytes written to a pipe or FIFO and not yet read.
    PipeData,
    /// Bytes queued on a unix socket.
    UnixQueue,
    /// Bytes a TCP socket had received and the process had not read.
    TcpReceiveQueue,
    /// Bytes a TCP socket had not sent, or sent and not seen acknowledged.
    TcpSendQueue,
    /// The contents of a file deleted while open.
    GhostFile,
    /// A shared-memory object no process maps.
    SharedMemory,
}

/// One piece of stored data: `len` bytes at `data_offset` of the data are at `file_offset` of
/// the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredRange {
    /// Offset inside the stored data (what a search hit reports).
    pub data_offset: u64,
    /// Offset inside the image member.
    pub file_offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// Data the checkpoint stores, where it is, and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredData {
    /// What it was, for people: `pipe:[117990] unread data`,
    /// `tcp 127.0.0.1:40000 -> 127.0.0.1:18080 receive queue`, `ghost /srv/app/cache.db (deleted)`.
    pub source: String,
    /// Its kind.
    pub kind: StoredKind,
    /// The image holding it (a name inside `checkpoint/`).
    pub image: String,
    /// Its pieces, by data offset.
    pub ranges: Vec<StoredRange>,
}

impl StoredData {
    /// Total bytes.
    pub fn len(&self) -> u64 {
        self.ranges
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.len))
    }

    /// True when it holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every piece of stored data of `dump` (see the module docs), in a fixed order: pipes, unix
/// queues, TCP queues, ghost files, unmapped shared memory. Images that cannot be read are left
/// out (the views that need them report their errors).
pub fn collect(dump: &Dump) -> Vec<StoredData> {
    let mut out = Vec::new();
    for image in ["pipes-data.img", "fifo-data.img"] {
        pipe_data(dump, image, &mut out);
    }
    unix_queues(dump, &mut out);
    tcp_queues(dump, &mut out);
    ghosts(dump, &mut out);
    unmapped_shared(dump, &mut out);
    out.retain(|data| !data.is_empty());
    out
}

/// Walks the raw entries of an image the dump has, with `visit(index, payload, extra offset,
/// extra length)`; nothing when the image is missing or broken.
fn each_raw(dump: &Dump, image: &str, mut visit: impl FnMut(u64, &[u8], u64, u64)) {
    if !dump.checkpoint().has_image(image) {
        return;
    }
    let Ok(bytes) = dump.checkpoint().read_image(image) else {
        return;
    };
    let Ok(entries) = criu::entries(image, &bytes) else {
        return;
    };
    for entry in entries.take(criu::budget::MAX_ENTRIES as usize) {
        let Ok(entry) = entry else {
            return;
        };
        let extra_at = entry.offset + 4 + entry.payload.len() as u64;
        visit(
            entry.index,
            entry.payload,
            extra_at,
            entry.extra.len() as u64,
        );
    }
}

fn pipe_data(dump: &Dump, image: &str, out: &mut Vec<StoredData>) {
    each_raw(dump, image, |_, payload, at, len| {
        let Ok(entry) = <PipeDataEntry as prost::Message>::decode(payload) else {
            return;
        };
        let what = if image.starts_with("fifo") {
            "fifo"
        } else {
            "pipe"
        };
        out.push(StoredData {
            source: format!("{what}:[{}] unread data", entry.pipe_id),
            kind: StoredKind::PipeData,
            image: image.to_owned(),
            ranges: vec![StoredRange {
                data_offset: 0,
                file_offset: at,
                len,
            }],
        });
    });
}

fn unix_queues(dump: &Dump, out: &mut Vec<StoredData>) {
    let image = "sk-queues.img";
    let mut queues: Vec<StoredData> = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    each_raw(dump, image, |_, payload, at, len| {
        let Ok(packet) = <SkPacketEntry as prost::Message>::decode(payload) else {
            return;
        };
        let index = match ids.iter().position(|&id| id == packet.id_for) {
            Some(index) => index,
            None => {
                let label = match dump.files().get(packet.id_for).map(|f| &f.kind) {
                    Some(FileKind::Unix(sk)) => {
                        format!("unix socket:[{}] receive queue", sk.ino)
                    }
                    _ => format!("socket file id {} receive queue", packet.id_for),
                };
                ids.push(packet.id_for);
                queues.push(StoredData {
                    source: label,
                    kind: StoredKind::UnixQueue,
                    image: image.to_owned(),
                    ranges: Vec::new(),
                });
                queues.len() - 1
            }
        };
        if let Some(queue) = queues.get_mut(index) {
            let data_offset = queue.len();
            queue.ranges.push(StoredRange {
                data_offset,
                file_offset: at,
                len,
            });
        }
    });
    out.extend(queues);
}

fn tcp_queues(dump: &Dump, out: &mut Vec<StoredData>) {
    let mut sockets: Vec<(u32, String)> = dump
        .files()
        .iter()
        .filter_map(|file| match &file.kind {
            FileKind::Inet(sk) => Some((sk.ino, endpoints(sk))),
            _ => None,
        })
        .collect();
    sockets.sort();
    sockets.dedup_by_key(|(ino, _)| *ino);
    for (ino, label) in sockets {
        let image = format!("tcp-stream-{ino:x}.img");
        each_raw(dump, &image, |index, payload, at, len| {
            if index != 0 {
                return;
            }
            let Ok(stream) =
                <checkpoint_images::messages::TcpStreamEntry as prost::Message>::decode(payload)
            else {
                return;
            };
            let inq = u64::from(stream.inq_len).min(len);
            let outq = u64::from(stream.outq_len).min(len - inq);
            for (what, kind, file_offset, len) in [
                ("receive", StoredKind::TcpReceiveQueue, at, inq),
                ("send", StoredKind::TcpSendQueue, at + inq, outq),
            ] {
                out.push(StoredData {
                    source: format!("tcp {label} {what} queue"),
                    kind,
                    image: image.clone(),
                    ranges: vec![StoredRange {
                        data_offset: 0,
                        file_offset,
                        len,
                    }],
                });
            }
        });
    }
}

/// `local -> remote` of an inet socket.
fn endpoints(sk: &checkpoint_images::messages::InetSkEntry) -> String {
    let address = |words: &[u32], port: u32| match words {
        [v4] => format!("{}:{port}", Ipv4Addr::from(v4.to_le_bytes())),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (chunk, word) in bytes.chunks_exact_mut(4).zip([a, b, c, d]) {
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            format!("[{}]:{port}", Ipv6Addr::from(bytes))
        }
        _ => format!("?:{port}"),
    };
    format!(
        "{} -> {}",
        address(&sk.src_addr, sk.src_port),
        address(&sk.dst_addr, sk.dst_port)
    )
}

fn ghosts(dump: &Dump, out: &mut Vec<StoredData>) {
    let mut seen = Vec::new();
    for file in dump.files().iter() {
        let FileKind::Regular(reg) = &file.kind else {
            continue;
        };
        let Some(super::files::Deleted::Ghost { remap_id, .. }) = &reg.deleted else {
            continue;
        };
        if seen.contains(remap_id) {
            continue;
        }
        seen.push(*remap_id);
        let image = format!("ghost-file-{remap_id}.img");
        let mut ranges = Vec::new();
        let mut chunked = false;
        each_raw(dump, &image, |index, payload, at, len| {
            if index == 0 {
                chunked = <GhostFileEntry as prost::Message>::decode(payload)
                    .ok()
                    .and_then(|g| g.chunks)
                    .unwrap_or(false);
                if !chunked {
                    ranges.push(StoredRange {
                        data_offset: 0,
                        file_offset: at,
                        len,
                    });
                }
                return;
            }
            if let Ok(chunk) = <GhostChunkEntry as prost::Message>::decode(payload) {
                ranges.push(StoredRange {
                    data_offset: chunk.off,
                    file_offset: at,
                    len,
                });
            }
        });
        ranges.sort_by_key(|r| r.data_offset);
        out.push(StoredData {
            source: format!("ghost {} (deleted)", reg.path),
            kind: StoredKind::GhostFile,
            image,
            ranges,
        });
    }
}

fn unmapped_shared(dump: &Dump, out: &mut Vec<StoredData>) {
    let mapped: Vec<u64> = dump
        .tasks()
        .iter()
        .filter_map(|task| dump.memory_map(task.pid).ok())
        .flat_map(|map| map.layout.vmas().iter().filter_map(|vma| vma.shared))
        .collect();
    let mut objects: Vec<_> = dump
        .shared()
        .objects()
        .filter(|object| !mapped.contains(&object.shmid))
        .collect();
    objects.sort_by_key(|object| object.shmid);
    for object in objects {
        let source = match &object.kind {
            SharedKind::SysV { .. } => format!("{} (not attached)", object.describe()),
            _ => format!("{} (not mapped)", object.describe()),
        };
        if let Some(pages_id) = object.pages_id {
            out.push(StoredData {
                source,
                kind: StoredKind::SharedMemory,
                image: format!("pages-{pages_id}.img"),
                ranges: object
                    .runs
                    .iter()
                    .map(|run| StoredRange {
                        data_offset: run.vaddr,
                        file_offset: run.pages_offset,
                        len: run.len,
                    })
                    .collect(),
            });
            continue;
        }
        // A SysV segment whose contents CRIU wrote inline after its ipcns-shm entry.
        if let Some(segment) = dump
            .shared()
            .sysv()
            .iter()
            .find(|s| u64::from(s.id) == object.shmid)
        {
            if let Some((file_offset, len)) = segment.inline {
                out.push(StoredData {
                    source,
                    kind: StoredKind::SharedMemory,
                    image: segment.image.clone(),
                    ranges: vec![StoredRange {
                        data_offset: 0,
                        file_offset,
                        len: len.min(segment.size),
                    }],
                });
            }
        }
    }
}

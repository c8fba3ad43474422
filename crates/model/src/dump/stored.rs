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
//!
//! The loader builds this list while it decodes the queue images for the file table (each image
//! once: a broken one adds nothing here and is listed in [`super::Dump::unavailable`]), and
//! while it reads each ghost image's header; the dump keeps it.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::files::{FileKind, FileTable};
use super::shared::SharedKind;
use super::{MemoryMap, SharedMemory};
use checkpoint_images as criu;
use checkpoint_images::messages::{
    GhostChunkEntry, GhostFileEntry, InetSkEntry, PipeDataEntry, SkPacketEntry, TcpStreamEntry,
};

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

/// The stored data of the queue images, built while the loader decodes them (each image is
/// decoded once, for the file table's counts and for these ranges): pipes, unix queues, TCP
/// queues, in that order.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    pipes: Vec<StoredData>,
    unix: Vec<StoredData>,
    unix_by_socket: HashMap<u32, usize>,
    tcp: Vec<StoredData>,
}

impl Queues {
    /// One entry of `pipes-data.img` or `fifo-data.img`, its bytes at `extra`.
    pub(crate) fn add_pipe_data(&mut self, image: &str, entry: &PipeDataEntry, extra: (u64, u64)) {
        let what = if image.starts_with("fifo") {
            "fifo"
        } else {
            "pipe"
        };
        self.pipes.push(StoredData {
            source: format!("{what}:[{}] unread data", entry.pipe_id),
            kind: StoredKind::PipeData,
            image: image.to_owned(),
            ranges: vec![StoredRange {
                data_offset: 0,
                file_offset: extra.0,
                len: extra.1,
            }],
        });
    }

    /// One packet of `sk-queues.img`, its bytes at `extra`; packets of one socket are one stream.
    pub(crate) fn add_unix_packet(
        &mut self,
        files: &FileTable,
        packet: &SkPacketEntry,
        extra: (u64, u64),
    ) {
        let index = *self.unix_by_socket.entry(packet.id_for).or_insert_with(|| {
            let source = match files.get(packet.id_for).map(|f| &f.kind) {
                Some(FileKind::Unix(sk)) => format!("unix socket:[{}] receive queue", sk.ino),
                _ => format!("socket file id {} receive queue", packet.id_for),
            };
            self.unix.push(StoredData {
                source,
                kind: StoredKind::UnixQueue,
                image: "sk-queues.img".to_owned(),
                ranges: Vec::new(),
            });
            self.unix.len() - 1
        });
        if let Some(queue) = self.unix.get_mut(index) {
            let data_offset = queue.len();
            queue.ranges.push(StoredRange {
                data_offset,
                file_offset: extra.0,
                len: extra.1,
            });
        }
    }

    /// The queues of TCP socket `sk` from its `tcp-stream-INO.img` (`image`), whose bytes at
    /// `extra` are the receive queue then the send queue.
    pub(crate) fn add_tcp_stream(
        &mut self,
        sk: &InetSkEntry,
        image: &str,
        stream: &TcpStreamEntry,
        extra: (u64, u64),
    ) {
        let (at, len) = extra;
        let inq = u64::from(stream.inq_len).min(len);
        let outq = u64::from(stream.outq_len).min(len - inq);
        let label = endpoints(sk);
        for (what, kind, file_offset, len) in [
            ("receive", StoredKind::TcpReceiveQueue, at, inq),
            ("send", StoredKind::TcpSendQueue, at + inq, outq),
        ] {
            self.tcp.push(StoredData {
                source: format!("tcp {label} {what} queue"),
                kind,
                image: image.to_owned(),
                ranges: vec![StoredRange {
                    data_offset: 0,
                    file_offset,
                    len,
                }],
            });
        }
    }

    /// Pipes, unix queues and TCP queues (by inode), then `ghosts` and `unmapped`; empty ones
    /// left out.
    pub(crate) fn finish(
        self,
        ghosts: Vec<StoredData>,
        unmapped: Vec<StoredData>,
    ) -> Vec<StoredData> {
        let mut out = self.pipes;
        out.extend(self.unix);
        out.extend(self.tcp);
        out.extend(ghosts);
        out.extend(unmapped);
        out.retain(|data| !data.is_empty());
        out
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

/// The contents of each deleted file of the file table whose contents CRIU stored, once per
/// ghost image, in file table order; `ranges` has where each ghost image's bytes are.
pub(crate) fn ghosts(
    files: &FileTable,
    ranges: &HashMap<u32, Vec<StoredRange>>,
) -> Vec<StoredData> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for file in files.iter() {
        let FileKind::Regular(reg) = &file.kind else {
            continue;
        };
        let Some(super::files::Deleted::Ghost { remap_id, .. }) = &reg.deleted else {
            continue;
        };
        if !seen.insert(*remap_id) {
            continue;
        }
        out.push(StoredData {
            source: format!("ghost {} (deleted)", reg.path),
            kind: StoredKind::GhostFile,
            image: format!("ghost-file-{remap_id}.img"),
            ranges: ranges.get(remap_id).cloned().unwrap_or_default(),
        });
    }
    out
}

/// Where the contents of a ghost file image lie: after its header (one piece), or after each
/// chunk entry when the header says it is chunked (CRIU's sparse ghost files). An entry that
/// cannot be read is an error naming the image and its offset.
pub(crate) fn ghost_ranges(
    header: Option<&GhostFileEntry>,
    entries: criu::Entries<'_>,
) -> Result<Vec<StoredRange>, criu::Error> {
    let chunked = header.and_then(|g| g.chunks).unwrap_or(false);
    let file = entries.file_name().to_owned();
    let mut ranges = Vec::new();
    for entry in entries.take(criu::budget::MAX_ENTRIES as usize) {
        let entry = entry?;
        let at = entry.offset + 4 + entry.payload.len() as u64;
        let len = entry.extra.len() as u64;
        if entry.index == 0 {
            if !chunked {
                ranges.push(StoredRange {
                    data_offset: 0,
                    file_offset: at,
                    len,
                });
            }
            continue;
        }
        let chunk =
            <GhostChunkEntry as prost::Message>::decode(entry.payload).map_err(|source| {
                criu::Error::Entry {
                    file: file.clone(),
                    entry: entry.index,
                    offset: entry.offset,
                    problem: criu::Problem::Decode {
                        message: "ghost_chunk_entry",
                        source,
                    },
                }
            })?;
        ranges.push(StoredRange {
            data_offset: chunk.off,
            file_offset: at,
            len,
        });
    }
    ranges.sort_by_key(|r| r.data_offset);
    Ok(ranges)
}

/// Shared-memory objects no process maps (a memfd held only as a descriptor, a SysV segment
/// nobody attached), by id.
pub(crate) fn unmapped_shared<'a>(
    maps: impl Iterator<Item = &'a MemoryMap>,
    shared: &SharedMemory,
) -> Vec<StoredData> {
    let mut out = Vec::new();
    let mapped: HashSet<u64> = maps
        .flat_map(|map| map.layout.vmas().iter().filter_map(|vma| vma.shared))
        .collect();
    let mut objects: Vec<_> = shared
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
        if let Some(segment) = shared
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
    out
}

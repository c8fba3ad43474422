//! Shared memory: what CRIU stores once for every process that maps it, outside the processes'
//! own `pagemap-PID.img`.
//!
//! - Anonymous shared memory (`MAP_SHARED | MAP_ANONYMOUS`) and memfds: CRIU 4.x dumps both as
//!   memfds (`VMA_AREA_MEMFD`, the VMA's `shmid` is a file id, `memfd.img` gives the inode's
//!   `shmid`); older dumps mark anonymous shared memory `VMA_ANON_SHARED` with the object's id in
//!   the VMA's `shmid` directly.
//! - SysV segments (`VMA_AREA_SYSVIPC`, `shmid` = the segment id): `ipcns-shm-NSID.img` lists
//!   them with key, size and mode; with `in_pagemaps` their pages are in the shmem pagemap,
//!   otherwise inline after the entry.
//!
//! The pages of object `SHMID` are in `pagemap-shmem-SHMID.img`: a pagemap whose addresses are
//! byte offsets inside the object, laid over its own `pages-N.img`.

use std::collections::HashMap;
use std::sync::Arc;

use super::layout::PresentRun;
use checkpoint_images::PageMap;

/// What kind of object a shared-memory id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedKind {
    /// Anonymous shared memory (`MAP_SHARED | MAP_ANONYMOUS`, or `/dev/zero` mapped shared).
    Anonymous,
    /// A memfd, by name.
    Memfd {
        /// The name given to `memfd_create`.
        name: Arc<str>,
    },
    /// A SysV shared-memory segment.
    SysV {
        /// Its key (`IPC_PRIVATE` is 0).
        key: u32,
    },
}

/// One shared-memory object.
#[derive(Debug, Clone)]
pub struct SharedObject {
    /// Its id: the `SHMID` of `pagemap-shmem-SHMID.img`.
    pub shmid: u64,
    /// What it is.
    pub kind: SharedKind,
    /// Its size in bytes, when an image records it (memfd and SysV); else the largest extent
    /// any mapping shows.
    pub size: u64,
    /// The `N` of the `pages-N.img` holding its pages, when it has a pagemap.
    pub pages_id: Option<u32>,
    /// Its present pages: `vaddr` is the byte offset inside the object.
    pub runs: Vec<PresentRun>,
}

impl SharedObject {
    /// The present run holding object offset `offset`.
    pub fn run_at(&self, offset: u64) -> Option<&PresentRun> {
        let index = self.runs.partition_point(|run| run.vaddr <= offset);
        let run = self.runs.get(index.checked_sub(1)?)?;
        (offset < run.end()).then_some(run)
    }

    /// Present bytes of the whole object.
    pub fn present_bytes(&self) -> u64 {
        self.runs
            .iter()
            .fold(0u64, |sum, run| sum.saturating_add(run.len))
    }

    /// A short description for reports: `memfd:NAME`, `SysV key 0x1234 id 7`, `shared anonymous
    /// memory 123`.
    pub fn describe(&self) -> String {
        match &self.kind {
            SharedKind::Anonymous => format!("shared anonymous memory {}", self.shmid),
            SharedKind::Memfd { name } => format!("memfd:{name}"),
            SharedKind::SysV { key } => format!("SysV segment key {key:#x} id {}", self.shmid),
        }
    }
}

/// A SysV shared-memory segment of the dump's IPC namespace (`ipcns-shm-NSID.img`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysvSegment {
    /// Key (`IPC_PRIVATE` is 0).
    pub key: u32,
    /// Segment id.
    pub id: u32,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// True when the contents are in `pagemap-shmem-ID.img`, false when inline in the image.
    pub in_pagemaps: bool,
    /// Byte range of the inline contents in the ipcns-shm image (when not in pagemaps).
    pub inline: Option<(u64, u64)>,
    /// The image that lists it.
    pub image: String,
}

/// Every shared-memory object of the dump, by `SHMID`, and the SysV segments.
#[derive(Debug, Clone, Default)]
pub struct SharedMemory {
    objects: HashMap<u64, SharedObject>,
    sysv: Vec<SysvSegment>,
}

impl SharedMemory {
    /// The object with this id.
    pub fn get(&self, shmid: u64) -> Option<&SharedObject> {
        self.objects.get(&shmid)
    }

    /// Every object, by id.
    pub fn objects(&self) -> impl Iterator<Item = &SharedObject> + '_ {
        self.objects.values()
    }

    /// The SysV segments, in image order.
    pub fn sysv(&self) -> &[SysvSegment] {
        &self.sysv
    }

    /// Adds a SysV segment.
    pub(crate) fn add_sysv(&mut self, segment: SysvSegment) {
        self.sysv.push(segment);
    }

    /// Notes an object: `kind` and `size` from the image that names it, or from a mapping
    /// (then the size only grows). The first kind that names an object wins, except that a
    /// memfd or SysV name replaces `Anonymous`.
    pub(crate) fn note(&mut self, shmid: u64, kind: SharedKind, size: u64) {
        let object = self.objects.entry(shmid).or_insert_with(|| SharedObject {
            shmid,
            kind: kind.clone(),
            size,
            pages_id: None,
            runs: Vec::new(),
        });
        if object.kind == SharedKind::Anonymous && kind != SharedKind::Anonymous {
            object.kind = kind;
        }
        object.size = object.size.max(size);
    }

    /// Ids of the objects noted so far.
    pub(crate) fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.objects.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Lays a decoded `pagemap-shmem-SHMID.img` over object `shmid`.
    pub(crate) fn set_pages(&mut self, shmid: u64, pagemap: &PageMap) {
        if let Some(object) = self.objects.get_mut(&shmid) {
            object.pages_id = Some(pagemap.pages_id);
            object.runs = present_runs(pagemap);
        }
    }
}

/// The present runs of a pagemap, with their offsets in the pages file.
pub(crate) fn present_runs(pagemap: &PageMap) -> Vec<PresentRun> {
    let mut runs: Vec<PresentRun> = pagemap
        .runs
        .iter()
        .filter_map(|run| {
            Some(PresentRun {
                vaddr: run.vaddr,
                len: run.nr_pages.checked_mul(checkpoint_images::PAGE_SIZE)?,
                pages_offset: run.pages_offset?,
            })
        })
        .collect();
    // Kept for the checkpoint's life, one list per process: no growth room.
    runs.shrink_to_fit();
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_take_the_best_name_and_the_largest_size() {
        let mut shared = SharedMemory::default();
        shared.note(7, SharedKind::Anonymous, 0x1000);
        shared.note(
            7,
            SharedKind::Memfd {
                name: Arc::from("cache"),
            },
            0x3000,
        );
        shared.note(7, SharedKind::Anonymous, 0x2000);
        let object = shared.get(7).unwrap();
        assert_eq!(object.describe(), "memfd:cache");
        assert_eq!(object.size, 0x3000);
        assert_eq!(shared.ids(), vec![7]);
    }

    #[test]
    fn runs_by_offset() {
        let object = SharedObject {
            shmid: 1,
            kind: SharedKind::SysV { key: 0x1234 },
            size: 0x4000,
            pages_id: Some(3),
            runs: vec![
                PresentRun {
                    vaddr: 0,
                    len: 0x1000,
                    pages_offset: 0,
                },
                PresentRun {
                    vaddr: 0x2000,
                    len: 0x2000,
                    pages_offset: 0x1000,
                },
            ],
        };
        assert_eq!(object.run_at(0x2fff).map(|r| r.pages_offset), Some(0x1000));
        assert!(object.run_at(0x1000).is_none());
        assert_eq!(object.present_bytes(), 0x3000);
        assert_eq!(object.describe(), "SysV segment key 0x1234 id 1");
    }
}

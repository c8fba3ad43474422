//! How much process memory a checkpoint holds, each stored page counted once.
//!
//! CRIU stores a process's private pages in its own `pages-N.img` and each shared-memory object
//! (anonymous shared memory, a memfd, a SysV segment) once, in the object's pages file, however
//! many processes map it. Summing every process's present bytes counts an object once per
//! process that maps it: the checkpoint of seven PostgreSQL processes sharing their buffers
//! would claim four times the bytes its pages files hold. Here every stored byte is counted by
//! where it is stored (pages file and offset), once; per process, what is its own (its private
//! pages) and what it maps of shared memory.

use std::collections::BTreeMap;

use super::memory::Source;
use super::Dump;

/// The memory of a checkpoint, each stored byte counted once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryFootprint {
    /// Bytes of memory the checkpoint stores (private pages of every process and the pages of
    /// every shared-memory object, mapped or not), each counted once. For a checkpoint whose
    /// pages files hold nothing else, their total size.
    pub stored_bytes: u64,
    /// Of those, bytes of shared-memory objects.
    pub shared_bytes: u64,
    /// Each process whose memory could be read, in `pstree.img` order.
    pub processes: Vec<ProcessFootprint>,
}

/// One process's part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessFootprint {
    /// The process.
    pub pid: u32,
    /// Bytes of its own pages (stored in its `pages-N.img`; a thread group shares them).
    pub own_bytes: u64,
    /// Bytes of shared memory it maps that the checkpoint stores (stored once, for every
    /// process that maps them).
    pub shared_bytes: u64,
}

/// Byte ranges of pages files, merged so that each byte counts once.
#[derive(Debug, Default)]
struct Stored {
    /// `(offset, len)` ranges by pages file id.
    ranges: BTreeMap<u32, Vec<(u64, u64)>>,
}

impl Stored {
    fn add(&mut self, pages_id: u32, offset: u64, len: u64) {
        self.ranges.entry(pages_id).or_default().push((offset, len));
    }

    /// The bytes the ranges cover, each once.
    fn bytes(&mut self) -> u64 {
        let mut total = 0u64;
        for ranges in self.ranges.values_mut() {
            ranges.sort_unstable();
            let mut covered_to = 0u64;
            for &(offset, len) in ranges.iter() {
                let end = offset.saturating_add(len);
                let from = offset.max(covered_to);
                if end > from {
                    total = total.saturating_add(end - from);
                }
                covered_to = covered_to.max(end);
            }
        }
        total
    }
}

impl Dump {
    /// The checkpoint's memory, each stored byte counted once (see the module docs).
    /// Processes whose memory cannot be read are left out (their memory is
    /// [`super::Unavailable`]).
    pub fn memory_footprint(&self) -> MemoryFootprint {
        let mut all = Stored::default();
        let mut shared = Stored::default();
        for object in self.shared().objects() {
            let Some(pages_id) = object.pages_id else {
                continue;
            };
            for run in &object.runs {
                all.add(pages_id, run.pages_offset, run.len);
                shared.add(pages_id, run.pages_offset, run.len);
            }
        }
        let mut processes = Vec::new();
        for task in self.tasks() {
            let Ok(map) = self.memory_map(task.pid) else {
                continue;
            };
            for run in map.layout.runs() {
                all.add(map.pages_id, run.pages_offset, run.len);
            }
            let shared_mapped = self.memory(task.pid).map_or(0, |memory| {
                memory
                    .stretches()
                    .iter()
                    .filter(|s| matches!(s.source, Source::Shared(_)))
                    .fold(0u64, |sum, s| sum.saturating_add(s.len))
            });
            processes.push(ProcessFootprint {
                pid: task.pid,
                own_bytes: map.layout.present_bytes(),
                shared_bytes: shared_mapped,
            });
        }
        MemoryFootprint {
            stored_bytes: all.bytes(),
            shared_bytes: shared.bytes(),
            processes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_ranges_count_once_per_file() {
        let mut stored = Stored::default();
        stored.add(1, 0, 8192);
        stored.add(1, 4096, 8192);
        stored.add(1, 0, 4096);
        stored.add(2, 0, 4096);
        stored.add(1, 65536, 4096);
        assert_eq!(stored.bytes(), 12288 + 4096 + 4096);
    }
}

//! Memory: the mappings of a process in two checkpoints matched by address, and their pages
//! compared as both checkpoints' pages files are streamed.
//!
//! # Matching
//! A mapping of the new checkpoint with the same start and end as an old one is the same
//! mapping (its pages, permissions and name are compared); one with the same start or the
//! same end (a heap that grew, a stack that grew down) is resized (its pages are compared where
//! the two overlap); any other is added, and an old one left unmatched is removed.
//!
//! # What a page holds
//! A checkpoint stores the pages a process had in memory; the others read as zeros (anonymous,
//! shared and memfd memory never touched) or as the mapped file's bytes (clean pages of a file
//! mapping, which no checkpoint stores). So a page present in both is compared byte for byte; a
//! page of anonymous memory present in one only differs when that copy is not all zeros; a page
//! of a file mapping present in one only differs (a private copy appeared or went), since the
//! file's bytes are not in the checkpoint to compare with.
//!
//! # Bounds
//! Both sides are read in address order through two buffers of [`CHUNK`] bytes and compared in
//! place: no page, hash or whole image is held, so memory stays flat whatever the checkpoints
//! hold. Comparing bytes instead of page hashes is exact (no collision can hide a change) and
//! cheaper, and it needs nothing kept between the two reads. The changed ranges are kept only
//! when asked for (`--memory`).

use std::collections::HashMap;

use super::report::{MemoryChanges, NotCompared, PageRange, VmaChange, VmaResize, VmaSummary};
use checkpoint_model::dump::{Dump, ProcessMemory, Vma, PAGE_SIZE};

/// Bytes read from each side at a time.
pub const CHUNK: u64 = 256 * 1024;

/// Compares the memory of process `pid`, which both dumps hold, into `out`.
pub(super) fn diff_process(
    old: &Dump,
    new: &Dump,
    pid: u32,
    keep_ranges: bool,
    out: &mut MemoryChanges,
    not_compared: &mut Vec<NotCompared>,
) {
    let opened = old
        .memory(pid)
        .and_then(|old_memory| Ok((old_memory, new.memory(pid)?)));
    let (old_memory, new_memory) = match opened {
        Ok(pair) => pair,
        Err(err) => {
            not_compared.push(NotCompared {
                pid: Some(pid),
                what: "memory".to_owned(),
                reason: checkpoint_model::error_text(&err),
            });
            return;
        }
    };
    let mut comparer = Comparer {
        old: &old_memory,
        new: &new_memory,
        old_buf: vec![0; CHUNK as usize],
        new_buf: vec![0; CHUNK as usize],
    };
    let old_vmas = old_memory.vmas();
    let by_start: HashMap<u64, usize> = old_vmas
        .iter()
        .enumerate()
        .map(|(i, v)| (v.start, i))
        .collect();
    let by_end: HashMap<u64, usize> = old_vmas
        .iter()
        .enumerate()
        .map(|(i, v)| (v.end, i))
        .collect();
    let mut matched = vec![false; old_vmas.len()];
    let mut failure = None;
    for vma in new_memory.vmas() {
        let exact = by_start
            .get(&vma.start)
            .copied()
            .filter(|&i| old_vmas.get(i).is_some_and(|o| o.end == vma.end));
        let near = exact.or_else(|| {
            by_start
                .get(&vma.start)
                .or_else(|| by_end.get(&vma.end))
                .copied()
                .filter(|&i| matched.get(i) == Some(&false))
        });
        let Some((index, old_vma)) = near.and_then(|i| Some((i, old_vmas.get(i)?))) else {
            out.added.push(summary(pid, vma));
            continue;
        };
        if let Some(flag) = matched.get_mut(index) {
            *flag = true;
        }
        let from = vma.start.max(old_vma.start);
        let to = vma.end.min(old_vma.end);
        let file_backed = vma.maps_regular_file() || old_vma.maps_regular_file();
        let pages = match comparer.compare(from, to, file_backed, keep_ranges) {
            Ok(pages) => pages,
            Err(err) => {
                failure = Some(err);
                break;
            }
        };
        if exact.is_some() {
            let perms = vma.perms();
            let old_perms = old_vma.perms();
            let renamed = old_vma.name != vma.name;
            if pages.count > 0 || perms != old_perms || renamed {
                out.changed.push(VmaChange {
                    pid,
                    start: vma.start,
                    end: vma.end,
                    old_perms: (old_perms != perms).then_some(old_perms),
                    perms,
                    name: vma.name.to_string(),
                    old_name: renamed.then(|| old_vma.name.to_string()),
                    pages: vma.size().div_ceil(PAGE_SIZE),
                    pages_changed: pages.count,
                    changed_ranges: pages.ranges,
                });
            }
        } else {
            out.resized.push(VmaResize {
                pid,
                name: vma.name.to_string(),
                old_start: old_vma.start,
                old_end: old_vma.end,
                new_start: vma.start,
                new_end: vma.end,
                pages_changed: pages.count,
                changed_ranges: pages.ranges,
            });
        }
    }
    if let Some(err) = failure {
        not_compared.push(NotCompared {
            pid: Some(pid),
            what: "memory".to_owned(),
            reason: checkpoint_model::error_text(&err),
        });
        return;
    }
    for (vma, _) in old_vmas.iter().zip(&matched).filter(|(_, m)| !**m) {
        out.removed.push(summary(pid, vma));
    }
}

fn summary(pid: u32, vma: &Vma) -> VmaSummary {
    VmaSummary {
        pid,
        start: vma.start,
        end: vma.end,
        perms: vma.perms(),
        name: vma.name.to_string(),
    }
}

/// The changed pages of one range, counted and (when kept) as ranges, marked in address order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PageChanges {
    /// Pages that differ.
    pub count: u64,
    /// The same as ranges (when kept).
    pub ranges: Vec<PageRange>,
    keep: bool,
    marked_to: u64,
}

impl PageChanges {
    fn new(keep: bool) -> Self {
        PageChanges {
            keep,
            ..PageChanges::default()
        }
    }

    /// Marks the pages that hold any byte of `[from, to)`; ranges are marked in increasing
    /// order.
    fn mark(&mut self, from: u64, to: u64) {
        let from = (from - from % PAGE_SIZE).max(self.marked_to);
        let to = to.saturating_add(PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
        if to <= from {
            return;
        }
        self.count += (to - from) / PAGE_SIZE;
        self.marked_to = to;
        if !self.keep {
            return;
        }
        match self.ranges.last_mut() {
            Some(last) if last.end == from => {
                last.end = to;
                last.pages += (to - from) / PAGE_SIZE;
            }
            _ => self.ranges.push(PageRange {
                start: from,
                end: to,
                pages: (to - from) / PAGE_SIZE,
            }),
        }
    }
}

/// Reads two processes' memory side by side.
struct Comparer<'m, 'd> {
    old: &'m ProcessMemory<'d>,
    new: &'m ProcessMemory<'d>,
    old_buf: Vec<u8>,
    new_buf: Vec<u8>,
}

impl Comparer<'_, '_> {
    /// The changed pages of `[start, end)` (see the module docs for what a page holds).
    fn compare(
        &mut self,
        start: u64,
        end: u64,
        file_backed: bool,
        keep: bool,
    ) -> Result<PageChanges, checkpoint_model::dump::Error> {
        let mut changes = PageChanges::new(keep);
        let mut at = start;
        while at < end {
            let (old_present, old_until) = presence(self.old, at, end);
            let (new_present, new_until) = presence(self.new, at, end);
            let until = old_until.min(new_until);
            match (old_present, new_present) {
                (false, false) => {}
                (true, true) => self.compare_present(at, until, &mut changes)?,
                (true, false) | (false, true) if file_backed => changes.mark(at, until),
                (true, false) => {
                    nonzero_pages(self.old, &mut self.old_buf, at, until, &mut changes)?
                }
                (false, true) => {
                    nonzero_pages(self.new, &mut self.new_buf, at, until, &mut changes)?
                }
            }
            at = until;
        }
        Ok(changes)
    }

    /// Compares `[from, to)`, present on both sides, page by page.
    fn compare_present(
        &mut self,
        from: u64,
        to: u64,
        changes: &mut PageChanges,
    ) -> Result<(), checkpoint_model::dump::Error> {
        let mut at = from;
        while at < to {
            let len = (to - at).min(CHUNK) as usize;
            let (Some(old), Some(new)) = (self.old_buf.get_mut(..len), self.new_buf.get_mut(..len))
            else {
                return Ok(());
            };
            self.old.read_exact_at(at, old)?;
            self.new.read_exact_at(at, new)?;
            let page = PAGE_SIZE as usize;
            for (index, (a, b)) in old.chunks(page).zip(new.chunks(page)).enumerate() {
                if a != b {
                    let page_at = at + (index * page) as u64;
                    changes.mark(page_at, page_at + a.len() as u64);
                }
            }
            at += len as u64;
        }
        Ok(())
    }
}

/// Marks the pages of `[from, to)` of `memory` (present there, absent on the other side, where
/// they read as zeros) that hold a byte other than zero.
fn nonzero_pages(
    memory: &ProcessMemory<'_>,
    buf: &mut [u8],
    from: u64,
    to: u64,
    changes: &mut PageChanges,
) -> Result<(), checkpoint_model::dump::Error> {
    let mut at = from;
    while at < to {
        let len = (to - at).min(CHUNK) as usize;
        let Some(bytes) = buf.get_mut(..len) else {
            return Ok(());
        };
        memory.read_exact_at(at, bytes)?;
        for (index, page) in bytes.chunks(PAGE_SIZE as usize).enumerate() {
            if page.iter().any(|&b| b != 0) {
                let page_at = at + index as u64 * PAGE_SIZE;
                changes.mark(page_at, page_at + page.len() as u64);
            }
        }
        at += len as u64;
    }
    Ok(())
}

/// Whether `at` is present in `memory`, and up to where (at most `end`) that stays so.
fn presence(memory: &ProcessMemory<'_>, at: u64, end: u64) -> (bool, u64) {
    let stretches = memory.stretches();
    let index = stretches.partition_point(|s| s.end() <= at);
    match stretches.get(index) {
        Some(s) if s.vaddr <= at => (true, s.end().min(end)),
        Some(s) => (false, s.vaddr.min(end)),
        None => (false, end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_merge_into_ranges_and_count_each_page_once() {
        let mut changes = PageChanges::new(true);
        changes.mark(0x1000, 0x2000);
        changes.mark(0x2000, 0x4000);
        changes.mark(0x3800, 0x3900);
        changes.mark(0x8000, 0x8001);
        assert_eq!(changes.count, 4);
        assert_eq!(
            changes.ranges,
            vec![
                PageRange {
                    start: 0x1000,
                    end: 0x4000,
                    pages: 3
                },
                PageRange {
                    start: 0x8000,
                    end: 0x9000,
                    pages: 1
                },
            ]
        );
        let mut counted = PageChanges::new(false);
        counted.mark(0, 0x10_0000);
        assert_eq!((counted.count, counted.ranges.len()), (256, 0));
    }
}

//! The address-space layout of one process: its VMAs (with names like `/proc/PID/maps`) and the
//! runs of pages that the checkpoint holds, each with its byte offset in `pages-N.img`.
//!
//! Everything here is plain data built from decoded images; no I/O happens in this module.

use std::sync::Arc;

use serde::Serialize;

pub use checkpoint_images::PAGE_SIZE;

/// `VmaEntry.status` bits (CRIU `criu/include/image.h`).
pub mod status {
    /// The VMA is in use by the process.
    pub const VMA_AREA_REGULAR: u32 = 1 << 0;
    /// Stack area (CRIU marks the main stack).
    pub const VMA_AREA_STACK: u32 = 1 << 1;
    /// The `[vsyscall]` page.
    pub const VMA_AREA_VSYSCALL: u32 = 1 << 2;
    /// The `[vdso]` area.
    pub const VMA_AREA_VDSO: u32 = 1 << 3;
    /// The `[heap]` area.
    pub const VMA_AREA_HEAP: u32 = 1 << 5;
    /// Private file mapping; `shmid` is the file id.
    pub const VMA_FILE_PRIVATE: u32 = 1 << 6;
    /// Shared file mapping; `shmid` is the file id.
    pub const VMA_FILE_SHARED: u32 = 1 << 7;
    /// Shared anonymous memory.
    pub const VMA_ANON_SHARED: u32 = 1 << 8;
    /// SysV IPC shared memory.
    pub const VMA_AREA_SYSVIPC: u32 = 1 << 10;
    /// Memory mapped from a socket (packet rings).
    pub const VMA_AREA_SOCKET: u32 = 1 << 11;
    /// The `[vvar]` area.
    pub const VMA_AREA_VVAR: u32 = 1 << 12;
    /// An AIO ring.
    pub const VMA_AREA_AIORING: u32 = 1 << 13;
    /// A memfd mapping; `shmid` is the file id.
    pub const VMA_AREA_MEMFD: u32 = 1 << 14;
}

/// One past the highest user address any 64-bit Linux hands out (x86_64 with 5-level paging
/// stops at 2^56, arm64 at 2^52): a VMA ending past it was fabricated. Only the kernel's
/// `[vsyscall]` page lies above.
pub const USER_SPACE_END: u64 = 1 << 57;

/// `mmap` flag of areas that grow down (stacks).
pub const MAP_GROWSDOWN: u32 = 0x100;
/// `mmap` flag of shared mappings.
pub const MAP_SHARED: u32 = 0x01;

/// What [`name_vma`] needs of a VMA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawVma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `MAP_*` bits.
    pub flags: u32,
    /// CRIU `VMA_*` status bits (see [`status`]).
    pub status: u32,
    /// `vma_entry.shmid` (the file id of file mappings).
    pub shmid: u64,
}

/// A named VMA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `PROT_*` bits.
    pub prot: u32,
    /// `MAP_*` bits.
    pub flags: u32,
    /// CRIU status bits.
    pub status: u32,
    /// Offset in the mapped file or shared-memory object, in bytes.
    pub pgoff: u64,
    /// `vma_entry.shmid`: the file id of file and memfd mappings, the shared-memory id of
    /// anonymous shared and SysV mappings.
    #[serde(skip)]
    pub shmid: u64,
    /// `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vsyscall]`, a file path, `[anon]`, ...
    pub name: Arc<str>,
    /// The shared-memory object (the `SHMID` of `pagemap-shmem-SHMID.img`) whose pages back this
    /// mapping where the process's own pagemap has none: shared anonymous memory, memfds and
    /// SysV segments.
    #[serde(skip)]
    pub shared: Option<u64>,
}

impl Vma {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True for shared mappings (file or anonymous).
    pub fn is_shared(&self) -> bool {
        self.flags & MAP_SHARED != 0
            || self.status
                & (status::VMA_FILE_SHARED | status::VMA_ANON_SHARED | status::VMA_AREA_SYSVIPC)
                != 0
    }

    /// `rwxp`/`rwxs` like `/proc/PID/maps`.
    pub fn perms(&self) -> String {
        let bit = |mask: u32, c: char| if self.prot & mask != 0 { c } else { '-' };
        let mut text = String::with_capacity(4);
        text.push(bit(1, 'r'));
        text.push(bit(2, 'w'));
        text.push(bit(4, 'x'));
        text.push(if self.is_shared() { 's' } else { 'p' });
        text
    }

    /// The offset in its shared-memory object of address `vaddr` of this mapping.
    pub fn object_offset(&self, vaddr: u64) -> Option<u64> {
        self.pgoff.checked_add(vaddr.checked_sub(self.start)?)
    }
}

/// Names a VMA the way `/proc/PID/maps` would; `file` is the path of its file (file and memfd
/// mappings), `brk` the heap bounds (`mm_start_brk`, `mm_brk`).
pub fn name_vma(vma: &RawVma, brk: (u64, u64), file: Option<&Arc<str>>) -> Arc<str> {
    use status::*;
    let is_file = vma.status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED | VMA_AREA_MEMFD) != 0;
    let (brk_start, brk_end) = brk;
    let fixed = if vma.status & VMA_AREA_VDSO != 0 {
        "[vdso]"
    } else if vma.status & VMA_AREA_VVAR != 0 {
        "[vvar]"
    } else if vma.status & VMA_AREA_VSYSCALL != 0 {
        "[vsyscall]"
    } else if is_file {
        return match file {
            Some(path) => Arc::clone(path),
            None if vma.status & VMA_AREA_MEMFD != 0 => Arc::from("[memfd]"),
            None => Arc::from(format!("[file id {}]", vma.shmid)),
        };
    } else if vma.status & VMA_AREA_STACK != 0 || vma.flags & MAP_GROWSDOWN != 0 {
        "[stack]"
    } else if vma.status & VMA_AREA_HEAP != 0
        || (brk_end > brk_start && vma.start <= brk_end && vma.end >= brk_start)
    {
        "[heap]"
    } else if vma.status & VMA_AREA_SYSVIPC != 0 {
        "[sysvipc]"
    } else if vma.status & VMA_AREA_SOCKET != 0 {
        "[socket]"
    } else if vma.status & VMA_AREA_AIORING != 0 {
        "[aio]"
    } else if vma.status & VMA_ANON_SHARED != 0 {
        "[anon:shared]"
    } else {
        "[anon]"
    };
    Arc::from(fixed)
}

/// Why a layout was refused: a VMA or a run that no real process has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {index} ({start:#x}-{end:#x}): {reason}")]
pub struct LayoutError {
    /// `mapping` or `page run`.
    pub what: &'static str,
    /// Its position (mm image order for mappings, pagemap order for runs).
    pub index: usize,
    /// Its start address.
    pub start: u64,
    /// Its end address.
    pub end: u64,
    /// What is wrong.
    pub reason: &'static str,
}

/// A run of pages the checkpoint holds: `len` bytes at `vaddr`, stored at `pages_offset` in
/// `pages-N.img`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PresentRun {
    /// First virtual address.
    pub vaddr: u64,
    /// Length in bytes (a multiple of the page size).
    pub len: u64,
    /// Byte offset of the first page in the pages file.
    pub pages_offset: u64,
}

impl PresentRun {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.len)
    }
}

/// A maximal chain of present runs that follow each other both in virtual memory and in the pages
/// file: matches may span its inner run edges, never its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First virtual address.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Byte offset in the pages file.
    pub pages_offset: u64,
}

/// Pieces of memory joined into segments where they follow each other both in memory and in
/// the pages file, in file order (what [`crate::search::search_segments`] walks).
pub fn join_segments(pieces: impl IntoIterator<Item = Segment>) -> Vec<Segment> {
    let mut pieces: Vec<Segment> = pieces.into_iter().collect();
    pieces.sort_by_key(|piece| piece.pages_offset);
    let mut segments: Vec<Segment> = Vec::new();
    for piece in pieces {
        if let Some(last) = segments.last_mut() {
            if last.vaddr.checked_add(last.len) == Some(piece.vaddr)
                && last.pages_offset.checked_add(last.len) == Some(piece.pages_offset)
            {
                last.len += piece.len;
                continue;
            }
        }
        segments.push(piece);
    }
    segments
}

/// VMAs and present runs of one process, sorted by address.
#[derive(Debug, Clone, Default)]
pub struct MemoryLayout {
    vmas: Vec<Vma>,
    runs: Vec<PresentRun>,
}

impl MemoryLayout {
    /// Builds the layout, checking it: every VMA is non-empty, page-aligned and does not overlap
    /// another; every run is non-empty and does not overlap another. VMAs and runs are sorted by
    /// address here (CRIU writes them sorted). Runs outside every VMA are kept (CRIU does not
    /// write them; [`MemoryLayout::runs_by_vma`] shows them without a VMA).
    pub fn build(mut vmas: Vec<Vma>, mut runs: Vec<PresentRun>) -> Result<Self, LayoutError> {
        for (index, vma) in vmas.iter().enumerate() {
            let bad = |reason| LayoutError {
                what: "mapping",
                index,
                start: vma.start,
                end: vma.end,
                reason,
            };
            if vma.end <= vma.start {
                return Err(bad("it ends before it starts"));
            }
            if !vma.start.is_multiple_of(PAGE_SIZE) || !vma.end.is_multiple_of(PAGE_SIZE) {
                return Err(bad("it is not page-aligned"));
            }
            if vma.end > USER_SPACE_END && vma.status & status::VMA_AREA_VSYSCALL == 0 {
                return Err(bad(
                    "it ends past the largest user address space (2^57 bytes)",
                ));
            }
        }
        vmas.sort_by_key(|vma| vma.start);
        for (index, pair) in vmas.windows(2).enumerate() {
            if let [a, b] = pair {
                if b.start < a.end {
                    return Err(LayoutError {
                        what: "mapping",
                        index: index + 1,
                        start: b.start,
                        end: b.end,
                        reason: "it overlaps the mapping before it",
                    });
                }
            }
        }
        for (index, run) in runs.iter().enumerate() {
            if run.len == 0 || run.vaddr.checked_add(run.len).is_none() {
                return Err(LayoutError {
                    what: "page run",
                    index,
                    start: run.vaddr,
                    end: run.end(),
                    reason: "it is empty or runs past the address space",
                });
            }
        }
        runs.sort_by_key(|run| run.vaddr);
        for (index, pair) in runs.windows(2).enumerate() {
            if let [a, b] = pair {
                if b.vaddr < a.end() {
                    return Err(LayoutError {
                        what: "page run",
                        index: index + 1,
                        start: b.vaddr,
                        end: b.end(),
                        reason: "it overlaps the run before it",
                    });
                }
            }
        }
        Ok(MemoryLayout { vmas, runs })
    }

    /// The VMAs, by address.
    pub fn vmas(&self) -> &[Vma] {
        &self.vmas
    }

    /// The present runs, by address.
    pub fn runs(&self) -> &[PresentRun] {
        &self.runs
    }

    /// The VMA holding `vaddr`, if any.
    pub fn vma_at(&self, vaddr: u64) -> Option<&Vma> {
        let idx = self.vmas.partition_point(|vma| vma.start <= vaddr);
        let vma = self.vmas.get(idx.checked_sub(1)?)?;
        (vaddr < vma.end).then_some(vma)
    }

    /// The present run holding `vaddr`, if any.
    pub fn run_at(&self, vaddr: u64) -> Option<&PresentRun> {
        let idx = self.runs.partition_point(|run| run.vaddr <= vaddr);
        let run = self.runs.get(idx.checked_sub(1)?)?;
        (vaddr < run.end()).then_some(run)
    }

    /// The present runs cut at VMA boundaries (CRIU writes one pagemap entry for pages of
    /// adjacent VMAs), each piece with the VMA it lies in (`None` for pages outside every VMA,
    /// which CRIU does not write). In address order; the pieces cover exactly the present runs.
    pub fn runs_by_vma(&self) -> Vec<(PresentRun, Option<&Vma>)> {
        let mut pieces = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            let mut at = run.vaddr;
            while at < run.end() {
                let vma = self.vma_at(at);
                let limit = match vma {
                    Some(vma) => vma.end,
                    None => {
                        let next = self.vmas.partition_point(|vma| vma.start <= at);
                        self.vmas.get(next).map_or(u64::MAX, |vma| vma.start)
                    }
                };
                let end = limit.min(run.end());
                let piece = PresentRun {
                    vaddr: at,
                    len: end - at,
                    pages_offset: run.pages_offset + (at - run.vaddr),
                };
                pieces.push((piece, vma));
                at = end;
            }
        }
        pieces
    }

    /// Total present bytes (the runs do not overlap, so the sum cannot pass 2^64).
    pub fn present_bytes(&self) -> u64 {
        self.runs
            .iter()
            .fold(0u64, |sum, run| sum.saturating_add(run.len))
    }

    /// Total size of the VMAs (they do not overlap, so the sum cannot pass 2^64).
    pub fn vma_bytes(&self) -> u64 {
        self.vmas
            .iter()
            .fold(0u64, |sum, vma| sum.saturating_add(vma.size()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(start: u64, end: u64, flags: u32, status: u32) -> RawVma {
        RawVma {
            start,
            end,
            flags,
            status,
            shmid: 9,
        }
    }

    fn vma(start: u64, end: u64, flags: u32, status: u32) -> Vma {
        Vma {
            start,
            end,
            prot: 3,
            flags,
            status,
            pgoff: 0,
            shmid: 0,
            name: name_vma(&raw(start, end, flags, status), (0, 0), None),
            shared: None,
        }
    }

    fn run(vaddr: u64, len: u64, pages_offset: u64) -> PresentRun {
        PresentRun {
            vaddr,
            len,
            pages_offset,
        }
    }

    #[test]
    fn names_follow_proc_maps() {
        let brk = (0x735a000, 0x7443000);
        let python: Arc<str> = Arc::from("/usr/bin/python3.11");
        let cases = [
            (
                raw(0x400000, 0x41f000, 0x2, status::VMA_FILE_PRIVATE | 1),
                Some(&python),
                "/usr/bin/python3.11",
            ),
            (
                raw(0x400000, 0x41f000, 0x1, status::VMA_FILE_SHARED | 1),
                None,
                "[file id 9]",
            ),
            (
                raw(0x735a000, 0x7443000, 0x22, (1 << 9) | 1),
                None,
                "[heap]",
            ),
            (
                raw(0x735a000, 0x7443000, 0x22, status::VMA_AREA_HEAP | 1),
                None,
                "[heap]",
            ),
            (
                raw(0x7ffc0000, 0x7ffd0000, 0x122, (1 << 9) | 1),
                None,
                "[stack]",
            ),
            (
                raw(0x7ffc0000, 0x7ffd0000, 0x22, status::VMA_AREA_STACK),
                None,
                "[stack]",
            ),
            (
                raw(0x7f00, 0x7f01, 0x22, status::VMA_AREA_VDSO | (1 << 9)),
                None,
                "[vdso]",
            ),
            (
                raw(0x7f00, 0x7f01, 0x22, status::VMA_AREA_VVAR | (1 << 9)),
                None,
                "[vvar]",
            ),
            (
                raw(
                    0xffffffffff600000,
                    0xffffffffff601000,
                    0x22,
                    status::VMA_AREA_VSYSCALL,
                ),
                None,
                "[vsyscall]",
            ),
            (
                raw(0x8000, 0x9000, 0x21, status::VMA_ANON_SHARED),
                None,
                "[anon:shared]",
            ),
            (
                raw(0x8000, 0x9000, 0x21, status::VMA_AREA_MEMFD),
                None,
                "[memfd]",
            ),
            (raw(0x8000, 0x9000, 0x22, 1 << 9), None, "[anon]"),
        ];
        for (vma, file, want) in cases {
            assert_eq!(&*name_vma(&vma, brk, file), want, "{vma:x?}");
        }
    }

    fn layout() -> MemoryLayout {
        let vmas = vec![
            vma(0x1000, 0x5000, 0x22, 1 << 9),
            vma(0x8000, 0xa000, 0x21, status::VMA_ANON_SHARED),
        ];
        let runs = vec![
            run(0x1000, 0x1000, 0),
            run(0x2000, 0x2000, 0x1000),
            run(0x8000, 0x1000, 0x3000),
            run(0x9000, 0x1000, 0x4000),
        ];
        MemoryLayout::build(vmas, runs).unwrap()
    }

    #[test]
    fn lookups_by_address() {
        let layout = layout();
        assert_eq!(layout.vma_at(0x1000).map(|v| v.start), Some(0x1000));
        assert_eq!(layout.vma_at(0x4fff).map(|v| v.start), Some(0x1000));
        assert_eq!(layout.vma_at(0x5000), None);
        assert_eq!(layout.vma_at(0), None);
        assert_eq!(
            layout.vma_at(0x9fff).map(|v| &*v.name),
            Some("[anon:shared]")
        );
        assert_eq!(layout.run_at(0x2fff).map(|r| r.pages_offset), Some(0x1000));
        assert_eq!(layout.run_at(0x4000), None);
        assert_eq!(layout.present_bytes(), 0x5000);
        assert_eq!(layout.vma_bytes(), 0x6000);
        assert_eq!(layout.vmas()[1].perms(), "rw-s");
    }

    #[test]
    fn bad_layouts_are_refused() {
        let cases = [
            (
                vec![vma(0x2000, 0x1000, 0x22, 1)],
                vec![],
                "ends before it starts",
            ),
            (
                vec![vma(0x1000, 0x1800, 0x22, 1)],
                vec![],
                "not page-aligned",
            ),
            (
                vec![vma(0x1000, 0x3000, 0x22, 1), vma(0x2000, 0x4000, 0x22, 1)],
                vec![],
                "overlaps the mapping before it",
            ),
            (vec![], vec![run(0x1000, 0, 0)], "empty"),
            (
                vec![],
                vec![run(0x1000, 0x2000, 0), run(0x2000, 0x1000, 0x2000)],
                "overlaps the run before it",
            ),
        ];
        for (vmas, runs, want) in cases {
            let err = MemoryLayout::build(vmas, runs).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn segments_join_only_what_is_contiguous_in_memory_and_file() {
        let piece = |vaddr, len, pages_offset| Segment {
            vaddr,
            len,
            pages_offset,
        };
        let joined = join_segments([
            piece(0x8000, 0x1000, 0x3000),
            piece(0x1000, 0x1000, 0),
            piece(0x2000, 0x2000, 0x1000),
            piece(0x9000, 0x1000, 0x4000),
            piece(0x20000, 0x1000, 0x5000),
        ]);
        assert_eq!(
            joined,
            vec![
                piece(0x1000, 0x3000, 0),
                piece(0x8000, 0x2000, 0x3000),
                piece(0x20000, 0x1000, 0x5000),
            ]
        );
    }

    #[test]
    fn runs_are_cut_at_vma_edges() {
        let vmas = vec![
            vma(0x1000, 0x2000, 0x22, 1 << 9),
            vma(0x2000, 0x4000, 0x22, 1 << 9),
        ];
        let runs = vec![run(0x1000, 0x2000, 0), run(0x5000, 0x1000, 0x2000)];
        let layout = MemoryLayout::build(vmas, runs).unwrap();
        let pieces: Vec<(u64, u64, u64, Option<u64>)> = layout
            .runs_by_vma()
            .iter()
            .map(|(run, vma)| (run.vaddr, run.len, run.pages_offset, vma.map(|v| v.start)))
            .collect();
        assert_eq!(
            pieces,
            vec![
                (0x1000, 0x1000, 0, Some(0x1000)),
                (0x2000, 0x1000, 0x1000, Some(0x2000)),
                (0x5000, 0x1000, 0x2000, None)
            ]
        );
    }
}

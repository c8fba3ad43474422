//! The address-space layout of one process: its VMAs (with names like `/proc/PID/maps`) and the
//! runs of pages that the checkpoint holds, each with its byte offset in `pages-N.img`.
//!
//! Everything here is plain data built from decoded images; no I/O happens in this module.

use std::collections::HashMap;

use serde::Serialize;

pub use crate::criu::PAGE_SIZE;

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

/// `mmap` flag of areas that grow down (stacks).
pub const MAP_GROWSDOWN: u32 = 0x100;
/// `mmap` flag of shared mappings.
pub const MAP_SHARED: u32 = 0x01;

/// A VMA as read from `mm-PID.img`, before naming.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawVma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Offset in the mapped file.
    pub pgoff: u64,
    /// File id for file mappings (`files.img`), shared-memory id otherwise.
    pub shmid: u64,
    /// `PROT_*` bits.
    pub prot: u32,
    /// `MAP_*` bits.
    pub flags: u32,
    /// CRIU `VMA_*` status bits (see [`status`]).
    pub status: u32,
}

/// What the naming of VMAs needs besides the VMAs: heap bounds and file paths.
#[derive(Debug, Clone, Default)]
pub struct NamingContext {
    /// `mm_start_brk`.
    pub brk_start: u64,
    /// `mm_brk`.
    pub brk_end: u64,
    /// File id to path (`files.img` REG entries).
    pub file_paths: HashMap<u64, String>,
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
    /// Offset in the mapped file.
    pub pgoff: u64,
    /// `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vsyscall]`, a file path, `[anon]`, ...
    pub name: String,
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
}

/// Names a VMA the way `/proc/PID/maps` would.
pub fn name_vma(vma: &RawVma, ctx: &NamingContext) -> String {
    use status::*;
    let is_file = vma.status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED | VMA_AREA_MEMFD) != 0;
    if vma.status & VMA_AREA_VDSO != 0 {
        "[vdso]".into()
    } else if vma.status & VMA_AREA_VVAR != 0 {
        "[vvar]".into()
    } else if vma.status & VMA_AREA_VSYSCALL != 0 {
        "[vsyscall]".into()
    } else if is_file {
        match ctx.file_paths.get(&vma.shmid) {
            Some(path) => path.clone(),
            None if vma.status & VMA_AREA_MEMFD != 0 => "[memfd]".into(),
            None => format!("[file id {}]", vma.shmid),
        }
    } else if vma.status & VMA_AREA_STACK != 0 || vma.flags & MAP_GROWSDOWN != 0 {
        "[stack]".into()
    } else if vma.status & VMA_AREA_HEAP != 0
        || (ctx.brk_end > ctx.brk_start && vma.start <= ctx.brk_end && vma.end >= ctx.brk_start)
    {
        "[heap]".into()
    } else if vma.status & VMA_AREA_SYSVIPC != 0 {
        "[sysvipc]".into()
    } else if vma.status & VMA_AREA_SOCKET != 0 {
        "[socket]".into()
    } else if vma.status & VMA_AREA_AIORING != 0 {
        "[aio]".into()
    } else if vma.status & VMA_ANON_SHARED != 0 {
        "[anon:shared]".into()
    } else {
        "[anon]".into()
    }
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

/// VMAs and present runs of one process, sorted by address.
#[derive(Debug, Clone, Default)]
pub struct MemoryLayout {
    vmas: Vec<Vma>,
    runs: Vec<PresentRun>,
}

impl MemoryLayout {
    /// Builds the layout. VMAs and runs are sorted by address here (CRIU writes them sorted).
    pub fn build(raw_vmas: &[RawVma], ctx: &NamingContext, mut runs: Vec<PresentRun>) -> Self {
        let mut vmas: Vec<Vma> = raw_vmas
            .iter()
            .map(|raw| Vma {
                start: raw.start,
                end: raw.end,
                prot: raw.prot,
                flags: raw.flags,
                status: raw.status,
                pgoff: raw.pgoff,
                name: name_vma(raw, ctx),
            })
            .collect();
        vmas.sort_by_key(|vma| vma.start);
        runs.sort_by_key(|run| run.vaddr);
        MemoryLayout { vmas, runs }
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

    /// Present bytes inside `[start, end)`.
    pub fn present_bytes_in(&self, start: u64, end: u64) -> u64 {
        let first = self.runs.partition_point(|run| run.end() <= start);
        self.runs
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|run| run.vaddr < end)
            .map(|run| run.end().min(end).saturating_sub(run.vaddr.max(start)))
            .sum()
    }

    /// Total present bytes.
    pub fn present_bytes(&self) -> u64 {
        self.runs.iter().map(|run| run.len).sum()
    }

    /// The runs grouped into segments contiguous in memory and in the pages file, in file order.
    pub fn segments(&self) -> Vec<Segment> {
        let mut by_offset: Vec<&PresentRun> = self.runs.iter().collect();
        by_offset.sort_by_key(|run| run.pages_offset);
        let mut segments: Vec<Segment> = Vec::new();
        for run in by_offset {
            if let Some(last) = segments.last_mut() {
                if last.vaddr.checked_add(last.len) == Some(run.vaddr)
                    && last.pages_offset.checked_add(last.len) == Some(run.pages_offset)
                {
                    last.len += run.len;
                    continue;
                }
            }
            segments.push(Segment {
                vaddr: run.vaddr,
                len: run.len,
                pages_offset: run.pages_offset,
            });
        }
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(start: u64, end: u64, flags: u32, status: u32, shmid: u64) -> RawVma {
        RawVma {
            start,
            end,
            flags,
            status,
            shmid,
            prot: 3,
            pgoff: 0,
        }
    }

    #[test]
    fn names_follow_proc_maps() {
        let mut ctx = NamingContext {
            brk_start: 0x735a000,
            brk_end: 0x7443000,
            ..Default::default()
        };
        ctx.file_paths.insert(1, "/usr/bin/python3.11".into());
        let cases = [
            (
                raw(0x400000, 0x41f000, 0x2, status::VMA_FILE_PRIVATE | 1, 1),
                "/usr/bin/python3.11",
            ),
            (
                raw(0x400000, 0x41f000, 0x1, status::VMA_FILE_SHARED | 1, 9),
                "[file id 9]",
            ),
            (raw(0x735a000, 0x7443000, 0x22, (1 << 9) | 1, 0), "[heap]"),
            (
                raw(0x735a000, 0x7443000, 0x22, status::VMA_AREA_HEAP | 1, 0),
                "[heap]",
            ),
            (
                raw(0x7ffc0000, 0x7ffd0000, 0x122, (1 << 9) | 1, 0),
                "[stack]",
            ),
            (
                raw(0x7ffc0000, 0x7ffd0000, 0x22, status::VMA_AREA_STACK, 0),
                "[stack]",
            ),
            (
                raw(0x7f00, 0x7f01, 0x22, status::VMA_AREA_VDSO | (1 << 9), 0),
                "[vdso]",
            ),
            (
                raw(0x7f00, 0x7f01, 0x22, status::VMA_AREA_VVAR | (1 << 9), 0),
                "[vvar]",
            ),
            (
                raw(
                    0xffffffffff600000,
                    0xffffffffff601000,
                    0x22,
                    status::VMA_AREA_VSYSCALL,
                    0,
                ),
                "[vsyscall]",
            ),
            (
                raw(0x8000, 0x9000, 0x21, status::VMA_ANON_SHARED, 0),
                "[anon:shared]",
            ),
            (raw(0x8000, 0x9000, 0x22, 1 << 9, 0), "[anon]"),
        ];
        for (vma, want) in cases {
            assert_eq!(name_vma(&vma, &ctx), want, "{vma:x?}");
        }
    }

    fn layout() -> MemoryLayout {
        let vmas = [
            raw(0x1000, 0x5000, 0x22, 1 << 9, 0),
            raw(0x8000, 0xa000, 0x21, status::VMA_ANON_SHARED, 0),
        ];
        let runs = vec![
            PresentRun {
                vaddr: 0x1000,
                len: 0x1000,
                pages_offset: 0,
            },
            PresentRun {
                vaddr: 0x2000,
                len: 0x2000,
                pages_offset: 0x1000,
            },
            PresentRun {
                vaddr: 0x8000,
                len: 0x1000,
                pages_offset: 0x3000,
            },
            PresentRun {
                vaddr: 0x9000,
                len: 0x1000,
                pages_offset: 0x4000,
            },
        ];
        MemoryLayout::build(&vmas, &NamingContext::default(), runs)
    }

    #[test]
    fn lookups_by_address() {
        let layout = layout();
        assert_eq!(layout.vma_at(0x1000).map(|v| v.start), Some(0x1000));
        assert_eq!(layout.vma_at(0x4fff).map(|v| v.start), Some(0x1000));
        assert_eq!(layout.vma_at(0x5000), None);
        assert_eq!(layout.vma_at(0), None);
        assert_eq!(
            layout.vma_at(0x9fff).map(|v| v.name.as_str()),
            Some("[anon:shared]")
        );
        assert_eq!(layout.run_at(0x2fff).map(|r| r.pages_offset), Some(0x1000));
        assert_eq!(layout.run_at(0x4000), None);
        assert_eq!(layout.present_bytes_in(0x1800, 0x8800), 0x2800 + 0x800);
        assert_eq!(layout.present_bytes(), 0x5000);
        assert_eq!(layout.vmas()[1].perms(), "rw-s");
    }

    #[test]
    fn runs_are_cut_at_vma_edges() {
        let vmas = [
            raw(0x1000, 0x2000, 0x22, 1 << 9, 0),
            raw(0x2000, 0x4000, 0x22, 1 << 9, 0),
        ];
        let runs = vec![
            PresentRun {
                vaddr: 0x1000,
                len: 0x2000,
                pages_offset: 0,
            },
            PresentRun {
                vaddr: 0x5000,
                len: 0x1000,
                pages_offset: 0x2000,
            },
        ];
        let layout = MemoryLayout::build(&vmas, &NamingContext::default(), runs);
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

    #[test]
    fn segments_join_only_contiguous_runs() {
        let segments = layout().segments();
        assert_eq!(
            segments,
            vec![
                Segment {
                    vaddr: 0x1000,
                    len: 0x3000,
                    pages_offset: 0
                },
                Segment {
                    vaddr: 0x8000,
                    len: 0x2000,
                    pages_offset: 0x3000
                },
            ]
        );
    }
}

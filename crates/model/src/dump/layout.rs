//! The address-space layout of one process: its VMAs (with names like `/proc/PID/maps`) and the
//! runs of pages that the checkpoint holds, each with its byte offset in `pages-N.img`.
//!
//! Everything here is plain data built from decoded images; no I/O happens in this module.

use std::sync::Arc;

use serde::Serialize;

pub use checkpoint_images::PAGE_SIZE;

/// `VmaEntry.status` bits (CRIU `criu/include/image.h`), for code that builds mappings; the
/// views ask a [`Vma`] what it is ([`Vma::has_file`], [`Vma::is_memfd`], ...).
pub use checkpoint_images::vma::status;

/// One past the highest user address any 64-bit Linux hands out (x86_64 with 5-level paging
/// stops at 2^56, arm64 at 2^52): a VMA ending past it was fabricated. Only the kernel's
/// `[vsyscall]` page lies above.
pub const USER_SPACE_END: u64 = 1 << 57;

pub use checkpoint_images::vma::flags::{MAP_GROWSDOWN, MAP_SHARED};
use checkpoint_images::vma::prot::{PROT_EXEC, PROT_READ, PROT_WRITE};

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

/// What a mapping is, from CRIU's status bits: each kind is one named predicate, so every view
/// tells a file mapping, a memfd or shared memory apart by the same rule.
impl Vma {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    fn has(&self, bits: u32) -> bool {
        self.status & bits != 0
    }

    /// True when the mapping names an object of the file table (`shmid` is a file id): a file,
    /// or a memfd (CRIU marks memfd mappings as file mappings too).
    pub fn has_file(&self) -> bool {
        self.has(status::VMA_FILE_PRIVATE | status::VMA_FILE_SHARED | status::VMA_AREA_MEMFD)
    }

    /// The file table id of the mapped file or memfd.
    pub fn file_id(&self) -> Option<u32> {
        self.has_file()
            .then(|| u32::try_from(self.shmid).ok())
            .flatten()
    }

    /// True when CRIU marked the mapping as a file mapping, private or shared (memfds
    /// included): crit's own test.
    pub fn is_file_mapping(&self) -> bool {
        self.has(status::VMA_FILE_PRIVATE | status::VMA_FILE_SHARED)
    }

    /// True for a shared file mapping (memfds included).
    pub fn is_shared_file(&self) -> bool {
        self.has(status::VMA_FILE_SHARED)
    }

    /// True for a mapping of a file that is not a memfd: the pages it has not written are the
    /// file's bytes, which the checkpoint does not hold.
    pub fn maps_regular_file(&self) -> bool {
        self.is_file_mapping() && !self.is_memfd()
    }

    /// True for a memfd mapping (its pages are in `pagemap-shmem-*.img`).
    pub fn is_memfd(&self) -> bool {
        self.has(status::VMA_AREA_MEMFD)
    }

    /// True for shared anonymous memory (old CRIU's; 4.x dumps it as a memfd).
    pub fn is_anon_shared(&self) -> bool {
        self.has(status::VMA_ANON_SHARED)
    }

    /// True for an attached SysV segment.
    pub fn is_sysv(&self) -> bool {
        self.has(status::VMA_AREA_SYSVIPC)
    }

    /// True for memory mapped from a socket (packet rings).
    pub fn is_socket(&self) -> bool {
        self.has(status::VMA_AREA_SOCKET)
    }

    /// True for an AIO ring.
    pub fn is_aio_ring(&self) -> bool {
        self.has(status::VMA_AREA_AIORING)
    }

    /// True for the stack CRIU marked.
    pub fn is_stack(&self) -> bool {
        self.has(status::VMA_AREA_STACK)
    }

    /// True for an area that grows down (`MAP_GROWSDOWN`: a stack).
    pub fn grows_down(&self) -> bool {
        self.flags & MAP_GROWSDOWN != 0
    }

    /// True for the heap CRIU marked.
    pub fn is_heap(&self) -> bool {
        self.has(status::VMA_AREA_HEAP)
    }

    /// True for `[vdso]`.
    pub fn is_vdso(&self) -> bool {
        self.has(status::VMA_AREA_VDSO)
    }

    /// True for `[vvar]`.
    pub fn is_vvar(&self) -> bool {
        self.has(status::VMA_AREA_VVAR)
    }

    /// True for `[vsyscall]`.
    pub fn is_vsyscall(&self) -> bool {
        self.has(status::VMA_AREA_VSYSCALL)
    }

    /// True for the kernel's own areas: `[vdso]`, `[vvar]`, `[vsyscall]`.
    pub fn is_kernel_area(&self) -> bool {
        self.has(status::VMA_AREA_VSYSCALL | status::VMA_AREA_VDSO | status::VMA_AREA_VVAR)
    }

    /// True when CRIU marked the area as in use by the process (`VMA_AREA_REGULAR`).
    pub fn is_regular(&self) -> bool {
        self.has(status::VMA_AREA_REGULAR)
    }

    /// True for anonymous memory, private or shared (SysV included): neither a file nor a
    /// memfd, nor a kernel area.
    pub fn is_anonymous(&self) -> bool {
        !self.has_file() && !self.is_kernel_area()
    }

    /// True for private anonymous memory: what a process's own pagemap holds and nothing else
    /// backs (no file, memfd, shared or SysV memory, socket ring, AIO ring or kernel area).
    pub fn is_private_anonymous(&self) -> bool {
        self.is_anonymous() && !self.is_shared() && !self.is_socket() && !self.is_aio_ring()
    }

    /// True for shared mappings (file or anonymous).
    pub fn is_shared(&self) -> bool {
        self.flags & MAP_SHARED != 0
            || self
                .has(status::VMA_FILE_SHARED | status::VMA_ANON_SHARED | status::VMA_AREA_SYSVIPC)
    }

    /// True when the mapping may be read.
    pub fn is_readable(&self) -> bool {
        self.prot & PROT_READ != 0
    }

    /// True when the mapping may be written.
    pub fn is_writable(&self) -> bool {
        self.prot & PROT_WRITE != 0
    }

    /// True when the mapping may be executed.
    pub fn is_executable(&self) -> bool {
        self.prot & PROT_EXEC != 0
    }

    /// `rwxp`/`rwxs` like `/proc/PID/maps`.
    pub fn perms(&self) -> String {
        let bit = |on: bool, c: char| if on { c } else { '-' };
        let mut text = String::with_capacity(4);
        text.push(bit(self.is_readable(), 'r'));
        text.push(bit(self.is_writable(), 'w'));
        text.push(bit(self.is_executable(), 'x'));
        text.push(if self.is_shared() { 's' } else { 'p' });
        text
    }

    /// The offset in its shared-memory object of address `vaddr` of this mapping.
    pub fn object_offset(&self, vaddr: u64) -> Option<u64> {
        self.pgoff.checked_add(vaddr.checked_sub(self.start)?)
    }
}

/// Names a VMA the way `/proc/PID/maps` would; `file` is the path of its file (file and memfd
/// mappings), `brk` the heap bounds (`mm_start_brk`, `mm_brk`). The VMA's own `name` is not read.
pub fn name_vma(vma: &Vma, brk: (u64, u64), file: Option<&Arc<str>>) -> Arc<str> {
    let (brk_start, brk_end) = brk;
    let fixed = if vma.is_vdso() {
        "[vdso]"
    } else if vma.is_vvar() {
        "[vvar]"
    } else if vma.is_vsyscall() {
        "[vsyscall]"
    } else if vma.has_file() {
        return match file {
            Some(path) => Arc::clone(path),
            None if vma.is_memfd() => fixed_name("[memfd]"),
            None => Arc::from(format!("[file id {}]", vma.shmid)),
        };
    } else if vma.is_stack() || vma.grows_down() {
        "[stack]"
    } else if vma.is_heap() || (brk_end > brk_start && vma.start <= brk_end && vma.end >= brk_start)
    {
        "[heap]"
    } else if vma.is_sysv() {
        "[sysvipc]"
    } else if vma.is_socket() {
        "[socket]"
    } else if vma.is_aio_ring() {
        "[aio]"
    } else if vma.is_anon_shared() {
        "[anon:shared]"
    } else {
        "[anon]"
    };
    fixed_name(fixed)
}

/// The kernel's names of special mappings, each allocated once and shared by every VMA that
/// has it (a checkpoint of 50,000 processes names 200,000 mappings).
fn fixed_name(name: &'static str) -> Arc<str> {
    static NAMES: std::sync::LazyLock<Vec<Arc<str>>> = std::sync::LazyLock::new(|| {
        [
            "[vdso]",
            "[vvar]",
            "[vsyscall]",
            "[memfd]",
            "[stack]",
            "[heap]",
            "[sysvipc]",
            "[socket]",
            "[aio]",
            "[anon:shared]",
            "[anon]",
        ]
        .into_iter()
        .map(Arc::from)
        .collect()
    });
    NAMES
        .iter()
        .find(|shared| shared.as_ref() == name)
        .map_or_else(|| Arc::from(name), Arc::clone)
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
            if vma.end > USER_SPACE_END && !vma.is_vsyscall() {
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

    fn raw(start: u64, end: u64, flags: u32, status: u32) -> Vma {
        Vma {
            start,
            end,
            prot: 3,
            flags,
            status,
            pgoff: 0,
            shmid: 9,
            name: Arc::from(""),
            shared: None,
        }
    }

    fn vma(start: u64, end: u64, flags: u32, status: u32) -> Vma {
        let mut vma = raw(start, end, flags, status);
        vma.shmid = 0;
        vma.name = name_vma(&vma, (0, 0), None);
        vma
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

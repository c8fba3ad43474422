//! [`ProcessMemory`]: one process's memory, read by virtual address from the checkpoint, private
//! pages (`pagemap-PID.img` over `pages-N.img`) and shared pages (`pagemap-shmem-SHMID.img` over
//! its own pages file) alike.
//!
//! Where an address is: in the process's own pagemap when a present run holds it (private
//! anonymous memory, and the private copy-on-write pages of private file and memfd mappings);
//! else, for a mapping of a shared-memory object, at `pgoff + (address - start)` of the object;
//! else not in the checkpoint (never touched, clean file pages, in a parent pre-dump, or lazy).
//! [`ProcessMemory::stretches`] is that answer for the whole address space, computed once.
//!
//! Besides pages, a checkpoint can hold the bytes of a mapped file: CRIU stores the contents of a
//! file deleted while open in `ghost-file-N.img`, and a mapping of such a file shows them where
//! no page of its own covers it. [`ProcessMemory::file_stretches`] says where; views that show
//! everything the checkpoint holds at an address (cores, hexdumps) read them with
//! [`ProcessMemory::read_held`]. Searches and dumps of memory read pages only (the ghost file
//! itself is searched as stored data).

use std::io::{self, Write};
use std::sync::Arc;

use super::layout::{join_segments, MemoryLayout, PresentRun, Segment, Vma};
use super::shared::SharedMemory;
use super::{Error, MemoryMap};
use crate::archive::{Checkpoint, MemberReader};
use crate::search;

/// Longest argv or environment area read (Linux limits both together to a quarter of the
/// stack rlimit; 4 MiB covers the default 8 MiB stack).
pub const MAX_STRINGS_AREA: u64 = 4 << 20;

/// Which pages file holds a stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The process's own `pages-N.img`.
    Private,
    /// The pages file of shared-memory object `SHMID`.
    Shared(u64),
}

/// A stretch of present memory: `len` bytes at `vaddr`, stored at `pages_offset` of `source`'s
/// pages file, inside one VMA (or outside every VMA: pages CRIU should not have written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    /// First address.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Which pages file.
    pub source: Source,
    /// Offset in that file.
    pub pages_offset: u64,
}

impl Stretch {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.len)
    }
}

/// Bytes of a mapped file that the checkpoint holds where no page of the process does: the
/// contents of a deleted file stored in `ghost-file-N.img`, seen through a mapping of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStretch {
    /// First address.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// The image holding the bytes and the offset of the first one in it; `None` for zeros the
    /// checkpoint knows of (a hole of a sparse ghost file, or the rest of the file's last page,
    /// which the kernel shows as zeros).
    pub stored: Option<(Arc<str>, u64)>,
}

impl FileStretch {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.len)
    }
}

/// The stored contents of a deleted file, for [`file_stretches`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct GhostContents<'a> {
    /// `ghost-file-N.img`.
    pub image: &'a str,
    /// One past the last byte of the file the checkpoint knows, page aligned (its last page
    /// rounded up with the zeros the kernel shows there).
    pub known_end: u64,
    /// Where its bytes are in the image, by offset in the file.
    pub ranges: &'a [super::StoredRange],
}

/// Most [`FileStretch`]es one process gets: each is a piece of a ghost file seen through one
/// mapping, and a forged checkpoint can map one file of a million chunks a thousand times. Past
/// it, the rest of those files' contents is not held (and reported missing where it is shown).
pub const MAX_FILE_STRETCHES: usize = 1 << 16;

/// One sequential pass over a pages file (see [`ProcessMemory::passes`]).
#[derive(Debug, Clone)]
pub struct Pass {
    /// Which pages file.
    pub source: Source,
    /// A reader of it (its own position, sharing the file handle).
    pub reader: MemberReader,
    /// What to read of it, in file order.
    pub segments: Vec<Segment>,
}

/// A piece of a [`ProcessMemory::read_present`] answer: `len` bytes at `vaddr`, with their
/// contents if the checkpoint holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// First address.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// The bytes (`len` of them), or `None` where the checkpoint holds no page.
    pub bytes: Option<Vec<u8>>,
}

/// The memory of one checkpointed process.
///
/// Reads go to the pages files with positional reads and read only what is asked for; nothing
/// loads a whole file. Every run was checked against its pages file's size when the dump was
/// loaded.
pub struct ProcessMemory<'d> {
    checkpoint: String,
    pid: u32,
    map: &'d MemoryMap,
    stretches: Vec<Stretch>,
    readers: Vec<(Source, MemberReader)>,
    files: Vec<FileStretch>,
    file_readers: Vec<(Arc<str>, MemberReader)>,
    files_cut: bool,
}

impl std::fmt::Debug for ProcessMemory<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessMemory")
            .field("pid", &self.pid)
            .field("stretches", &self.stretches.len())
            .finish()
    }
}

impl<'d> ProcessMemory<'d> {
    /// Opens the memory of `pid` described by `map`: works out where every present byte is,
    /// and opens the pages files involved; `ghost_of(file id)` gives the stored contents of a
    /// mapped file that was deleted.
    pub(crate) fn open<'g>(
        checkpoint: &Checkpoint,
        pid: u32,
        map: &'d MemoryMap,
        shared: &'d SharedMemory,
        ghost_of: &dyn Fn(u32) -> Option<GhostContents<'g>>,
    ) -> Result<Self, Error> {
        let stretches = build_stretches(&map.layout, shared);
        let (files, files_cut) = file_stretches(&map.layout, ghost_of, &stretches);
        let mut file_readers: Vec<(Arc<str>, MemberReader)> = Vec::new();
        for stretch in &files {
            if let Some((image, _)) = &stretch.stored {
                if !file_readers.iter().any(|(name, _)| name == image) {
                    file_readers.push((Arc::clone(image), checkpoint.open_image(image)?));
                }
            }
        }
        let mut readers = vec![(Source::Private, checkpoint.open_pages(map.pages_id)?)];
        for stretch in &stretches {
            if let Source::Shared(shmid) = stretch.source {
                if readers.iter().any(|(source, _)| *source == stretch.source) {
                    continue;
                }
                let pages_id = shared.get(shmid).and_then(|o| o.pages_id).unwrap_or(0);
                readers.push((stretch.source, checkpoint.open_pages(pages_id)?));
            }
        }
        Ok(ProcessMemory {
            checkpoint: checkpoint.display_name().to_owned(),
            pid,
            map,
            stretches,
            readers,
            files,
            file_readers,
            files_cut,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// VMAs and private present runs.
    pub fn layout(&self) -> &'d MemoryLayout {
        &self.map.layout
    }

    /// The VMAs, by address.
    pub fn vmas(&self) -> &'d [Vma] {
        self.map.layout.vmas()
    }

    /// Name of the process's own pages file in the checkpoint (for messages).
    pub fn pages_name(&self) -> &str {
        self.reader(Source::Private).map_or("", MemberReader::name)
    }

    /// Name of the pages file of `source`.
    pub fn source_name(&self, source: Source) -> &str {
        self.reader(source).map_or("", MemberReader::name)
    }

    /// Every present byte, by address, cut at VMA edges and at source changes.
    pub fn stretches(&self) -> &[Stretch] {
        &self.stretches
    }

    /// Where the checkpoint holds bytes of mapped files that no page covers (see
    /// [`FileStretch`]), by address; they never overlap [`ProcessMemory::stretches`].
    pub fn file_stretches(&self) -> &[FileStretch] {
        &self.files
    }

    /// True when some stored file contents were left out of [`ProcessMemory::file_stretches`]
    /// (past [`MAX_FILE_STRETCHES`]).
    pub fn file_stretches_cut(&self) -> bool {
        self.files_cut
    }

    /// A reader of the image holding a [`FileStretch`]'s bytes (a clone sharing the handle).
    pub fn file_reader(&self, image: &str) -> Option<MemberReader> {
        self.file_readers
            .iter()
            .find(|(name, _)| &**name == image)
            .map(|(_, reader)| reader.clone())
    }

    /// Present bytes in all, private and shared.
    pub fn present_bytes(&self) -> u64 {
        self.stretches
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.len))
    }

    /// Present bytes inside `[start, end)`.
    pub fn present_bytes_in(&self, start: u64, end: u64) -> u64 {
        let first = self.stretches.partition_point(|s| s.end() <= start);
        self.stretches
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|s| s.vaddr < end)
            .map(|s| s.end().min(end).saturating_sub(s.vaddr.max(start)))
            .fold(0u64, u64::saturating_add)
    }

    /// The stretches of `source` joined into segments contiguous in memory and in the file, in
    /// file order: what a search of that pages file reads.
    pub fn segments(&self, source: Source) -> Vec<Segment> {
        segments_of(&self.stretches, source)
    }

    /// The stretch holding `vaddr`.
    pub fn stretch_at(&self, vaddr: u64) -> Option<&Stretch> {
        let index = self.stretches.partition_point(|s| s.vaddr <= vaddr);
        let stretch = self.stretches.get(index.checked_sub(1)?)?;
        (vaddr < stretch.end()).then_some(stretch)
    }

    /// Reads `buf.len()` bytes at `vaddr`; fails with [`Error::NotPresent`] naming the first
    /// address the checkpoint holds no page for.
    pub fn read_exact_at(&self, vaddr: u64, buf: &mut [u8]) -> Result<(), Error> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = vaddr
                .checked_add(done as u64)
                .ok_or_else(|| self.not_present(vaddr))?;
            let stretch = *self.stretch_at(at).ok_or_else(|| self.not_present(at))?;
            let in_stretch = at - stretch.vaddr;
            let take = usize::try_from(stretch.len - in_stretch)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            let part = buf.get_mut(done..done + take).unwrap_or_default();
            self.read_source(stretch.source, stretch.pages_offset + in_stretch, at, part)?;
            done += take;
        }
        Ok(())
    }

    /// The bytes present at `vaddr`, up to `max` of them, stopping at the first absent byte
    /// (what the kernel's `access_remote_vm` gives).
    pub fn read_available(&self, vaddr: u64, max: u64) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut at = vaddr;
        while (out.len() as u64) < max {
            let Some(stretch) = self.stretch_at(at).copied() else {
                break;
            };
            let in_stretch = at - stretch.vaddr;
            let take = (stretch.len - in_stretch).min(max - out.len() as u64);
            let start = out.len();
            out.resize(start + take as usize, 0);
            let part = out.get_mut(start..).unwrap_or_default();
            self.read_source(stretch.source, stretch.pages_offset + in_stretch, at, part)?;
            at += take;
        }
        Ok(out)
    }

    /// Reads `len` bytes at `vaddr`, split into pieces that are present (with their bytes) or
    /// absent. The caller bounds `len`: the present bytes are returned in memory.
    pub fn read_present(&self, vaddr: u64, len: u64) -> Result<Vec<Piece>, Error> {
        let end = vaddr.saturating_add(len);
        let mut pieces = Vec::new();
        let mut at = vaddr;
        while at < end {
            match self.stretch_at(at).copied() {
                Some(stretch) => {
                    let take = stretch.end().min(end) - at;
                    let size = usize::try_from(take).map_err(|_| Error::TooLarge {
                        what: "read",
                        len: take,
                        limit: usize::MAX as u64,
                    })?;
                    let mut bytes = vec![0u8; size];
                    self.read_source(
                        stretch.source,
                        stretch.pages_offset + (at - stretch.vaddr),
                        at,
                        &mut bytes,
                    )?;
                    pieces.push(Piece {
                        vaddr: at,
                        len: take,
                        bytes: Some(bytes),
                    });
                    at += take;
                }
                None => {
                    let next_index = self.stretches.partition_point(|s| s.vaddr <= at);
                    let next = self
                        .stretches
                        .get(next_index)
                        .map_or(end, |s| s.vaddr)
                        .min(end);
                    pieces.push(Piece {
                        vaddr: at,
                        len: next - at,
                        bytes: None,
                    });
                    at = next;
                }
            }
        }
        Ok(pieces)
    }

    /// Reads `len` bytes at `vaddr` like [`ProcessMemory::read_present`], with the bytes of
    /// mapped files the checkpoint holds (see [`ProcessMemory::file_stretches`]) where no page
    /// covers them: every byte the checkpoint has for these addresses, and `None` pieces where it
    /// has none. The caller bounds `len`.
    pub fn read_held(&self, vaddr: u64, len: u64) -> Result<Vec<Piece>, Error> {
        let mut pieces = Vec::new();
        for piece in self.read_present(vaddr, len)? {
            if piece.bytes.is_some() {
                pieces.push(piece);
                continue;
            }
            let end = piece.vaddr.saturating_add(piece.len);
            let mut at = piece.vaddr;
            let first = self.files.partition_point(|f| f.end() <= at);
            for file in self.files.get(first..).unwrap_or_default() {
                if file.vaddr >= end {
                    break;
                }
                let from = file.vaddr.max(at);
                if from > at {
                    pieces.push(Piece {
                        vaddr: at,
                        len: from - at,
                        bytes: None,
                    });
                }
                let to = file.end().min(end);
                let size = usize::try_from(to - from).map_err(|_| Error::TooLarge {
                    what: "read",
                    len: to - from,
                    limit: usize::MAX as u64,
                })?;
                let mut bytes = vec![0u8; size];
                if let Some((image, offset)) = &file.stored {
                    let reader = self
                        .file_reader(image)
                        .ok_or_else(|| self.not_present(from))?;
                    let at_offset = offset + (from - file.vaddr);
                    reader.read_exact_at(&mut bytes, at_offset).map_err(|err| {
                        Error::ReadPages {
                            pages: reader.name().to_owned(),
                            source: search::ReadError {
                                offset: at_offset,
                                vaddr: from,
                                len: to - from,
                                source: err,
                            },
                        }
                    })?;
                }
                pieces.push(Piece {
                    vaddr: from,
                    len: to - from,
                    bytes: Some(bytes),
                });
                at = to;
            }
            if at < end {
                pieces.push(Piece {
                    vaddr: at,
                    len: end - at,
                    bytes: None,
                });
            }
        }
        Ok(pieces)
    }

    /// Copies the bytes of one stretch to `out` through a small buffer.
    pub fn copy_stretch(&self, stretch: &Stretch, out: &mut dyn Write) -> Result<(), Error> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = 0u64;
        while done < stretch.len {
            let take = (stretch.len - done).min(buf.len() as u64) as usize;
            let part = buf.get_mut(..take).unwrap_or_default();
            self.read_source(
                stretch.source,
                stretch.pages_offset + done,
                stretch.vaddr + done,
                part,
            )?;
            out.write_all(part).map_err(Error::Write)?;
            done += take as u64;
        }
        Ok(())
    }

    /// Every present byte as one sequential pass per pages file, private pages first: each
    /// pass's segments (stretches joined where they follow each other both in memory and in the
    /// file) in file order. Passes without segments are left out.
    pub fn passes(&self) -> Vec<Pass> {
        self.readers
            .iter()
            .map(|(source, reader)| Pass {
                source: *source,
                reader: reader.clone(),
                segments: segments_of(&self.stretches, *source),
            })
            .filter(|pass| !pass.segments.is_empty())
            .collect()
    }

    fn not_present(&self, vaddr: u64) -> Error {
        Error::NotPresent {
            checkpoint: self.checkpoint.clone(),
            pid: self.pid,
            vaddr,
        }
    }

    /// A reader of the pages file of `source` (a clone sharing the file handle); a reader of
    /// no bytes for a source the process does not use.
    pub fn source_reader(&self, source: Source) -> MemberReader {
        self.reader(source)
            .cloned()
            .unwrap_or_else(|| MemberReader::empty(self.source_name(Source::Private)))
    }

    fn reader(&self, source: Source) -> Option<&MemberReader> {
        self.readers
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, reader)| reader)
    }

    fn read_source(
        &self,
        source: Source,
        offset: u64,
        vaddr: u64,
        buf: &mut [u8],
    ) -> Result<(), Error> {
        let reader = self.reader(source).ok_or_else(|| self.not_present(vaddr))?;
        reader
            .read_exact_at(buf, offset)
            .map_err(|err: io::Error| Error::ReadPages {
                pages: reader.name().to_owned(),
                source: search::ReadError {
                    offset,
                    vaddr,
                    len: buf.len() as u64,
                    source: err,
                },
            })
    }
}

/// Where every present byte of the address space is: private runs first (they take precedence:
/// copy-on-write pages of private mappings), then the shared objects behind shared mappings,
/// cut at VMA edges; sorted by address.
pub(crate) fn build_stretches(layout: &MemoryLayout, shared: &SharedMemory) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = layout
        .runs_by_vma()
        .into_iter()
        .map(|(run, _)| Stretch {
            vaddr: run.vaddr,
            len: run.len,
            source: Source::Private,
            pages_offset: run.pages_offset,
        })
        .collect();
    let private: Vec<PresentRun> = layout.runs().to_vec();
    for vma in layout.vmas() {
        let Some(object) = vma.shared.and_then(|shmid| shared.get(shmid)) else {
            continue;
        };
        let (Some(window_start), Some(window_end)) =
            (vma.object_offset(vma.start), vma.object_offset(vma.end))
        else {
            continue;
        };
        let first = object.runs.partition_point(|run| run.end() <= window_start);
        for run in object.runs.get(first..).unwrap_or_default() {
            if run.vaddr >= window_end {
                break;
            }
            let from = run.vaddr.max(window_start);
            let to = run.end().min(window_end);
            let vaddr = vma.start + (from - window_start);
            let stretch = Stretch {
                vaddr,
                len: to - from,
                source: Source::Shared(object.shmid),
                pages_offset: run.pages_offset + (from - run.vaddr),
            };
            push_uncovered(&mut out, &private, stretch);
        }
    }
    out.sort_by_key(|s| s.vaddr);
    out
}

/// Where the stored contents of deleted files appear in the address space, outside `covered`
/// (the process's page stretches, sorted): for each mapping of such a file, the file offsets
/// `[pgoff, pgoff + size)` it shows, as far as the checkpoint knows the file
/// ([`GhostContents::known_end`]); pages past that are not held. At most
/// [`MAX_FILE_STRETCHES`] pieces; the flag says whether some were left out.
pub(crate) fn file_stretches<'g>(
    layout: &MemoryLayout,
    ghost_of: &dyn Fn(u32) -> Option<GhostContents<'g>>,
    covered: &[Stretch],
) -> (Vec<FileStretch>, bool) {
    let mut out: Vec<FileStretch> = Vec::new();
    let mut cut = false;
    for vma in layout.vmas() {
        let Some(ghost) = vma.file_id().and_then(ghost_of) else {
            continue;
        };
        let (Some(window_start), Some(window_end)) =
            (vma.object_offset(vma.start), vma.object_offset(vma.end))
        else {
            continue;
        };
        let file_end = ghost.known_end.min(window_end);
        if window_start >= file_end {
            continue;
        }
        // The file's pieces in [window_start, file_end): stored ranges, zeros between them.
        let piece = |from: u64, to: u64, stored: Option<(Arc<str>, u64)>| FileStretch {
            vaddr: vma.start + (from - window_start),
            len: to - from,
            stored,
        };
        let mut pieces: Vec<FileStretch> = Vec::new();
        let image: Arc<str> = Arc::from(ghost.image);
        let mut at = window_start;
        let first = ghost
            .ranges
            .partition_point(|r| r.data_offset.saturating_add(r.len) <= at);
        for range in ghost.ranges.get(first..).unwrap_or_default() {
            if at >= file_end || range.data_offset >= file_end {
                break;
            }
            let from = range.data_offset.max(at);
            if from > at {
                pieces.push(piece(at, from, None));
            }
            let to = range.data_offset.saturating_add(range.len).min(file_end);
            if to > from {
                let offset = range.file_offset + (from - range.data_offset);
                pieces.push(piece(from, to, Some((Arc::clone(&image), offset))));
                at = to;
            }
        }
        if at < file_end {
            pieces.push(piece(at, file_end, None));
        }
        for stretch in pieces {
            if !push_file_uncovered(&mut out, covered, stretch) {
                cut = true;
                break;
            }
        }
        if cut {
            break;
        }
    }
    out.sort_by_key(|s| s.vaddr);
    (out, cut)
}

/// Adds the parts of a file stretch that no page stretch covers; false when the cap is reached.
fn push_file_uncovered(
    out: &mut Vec<FileStretch>,
    covered: &[Stretch],
    stretch: FileStretch,
) -> bool {
    let end = stretch.end();
    let mut at = stretch.vaddr;
    let mut index = covered.partition_point(|s| s.end() <= at);
    while at < end {
        let next = covered.get(index).filter(|s| s.vaddr < end);
        let gap_end = next.map_or(end, |s| s.vaddr.max(at));
        if gap_end > at {
            if out.len() >= MAX_FILE_STRETCHES {
                return false;
            }
            let skip = at - stretch.vaddr;
            out.push(FileStretch {
                vaddr: at,
                len: gap_end - at,
                stored: stretch
                    .stored
                    .as_ref()
                    .map(|(image, offset)| (Arc::clone(image), offset + skip)),
            });
        }
        match next {
            Some(s) => {
                at = s.end().max(at);
                index += 1;
            }
            None => at = end,
        }
    }
    true
}

/// Adds the parts of a shared stretch that no private run covers.
fn push_uncovered(out: &mut Vec<Stretch>, private: &[PresentRun], stretch: Stretch) {
    let mut at = stretch.vaddr;
    let end = stretch.end();
    let mut index = private.partition_point(|run| run.end() <= at);
    while at < end {
        let next_private = private.get(index).filter(|run| run.vaddr < end);
        let gap_end = next_private.map_or(end, |run| run.vaddr.max(at));
        if gap_end > at {
            out.push(Stretch {
                vaddr: at,
                len: gap_end - at,
                source: stretch.source,
                pages_offset: stretch.pages_offset + (at - stretch.vaddr),
            });
        }
        match next_private {
            Some(run) => {
                at = run.end().max(at);
                index += 1;
            }
            None => at = end,
        }
    }
}

/// The stretches of one source joined into segments contiguous in memory and in the file, in
/// file order (what [`search::search_segments`] reads).
fn segments_of(stretches: &[Stretch], source: Source) -> Vec<Segment> {
    join_segments(
        stretches
            .iter()
            .filter(|s| s.source == source)
            .map(|s| Segment {
                vaddr: s.vaddr,
                len: s.len,
                pages_offset: s.pages_offset,
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::layout::name_vma;
    use crate::dump::shared::SharedKind;
    use std::sync::Arc;

    fn vma(start: u64, end: u64, pgoff: u64, shared: Option<u64>) -> Vma {
        let mut vma = Vma {
            start,
            end,
            prot: 3,
            flags: 0x22,
            status: 1,
            pgoff,
            shmid: 0,
            name: Arc::from(""),
            shared,
        };
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
    fn shared_pages_fill_in_where_private_ones_are_absent() {
        let layout = MemoryLayout::build(
            vec![
                vma(0x10000, 0x12000, 0, None),
                vma(0x20000, 0x24000, 0x1000, Some(5)),
            ],
            vec![run(0x10000, 0x1000, 0), run(0x21000, 0x1000, 0x1000)],
        )
        .unwrap();
        let mut shared = SharedMemory::default();
        shared.note(
            5,
            SharedKind::Memfd {
                name: Arc::from("m"),
            },
            0x5000,
        );
        let pagemap = checkpoint_images::PageMap {
            pages_id: 2,
            runs: vec![checkpoint_images::PageRun {
                vaddr: 0,
                nr_pages: 5,
                flags: checkpoint_images::PE_PRESENT,
                pages_offset: Some(0),
            }],
        };
        shared.set_pages(5, &pagemap);
        let got: Vec<(u64, u64, Source, u64)> = build_stretches(&layout, &shared)
            .iter()
            .map(|s| (s.vaddr, s.len, s.source, s.pages_offset))
            .collect();
        // The shared VMA maps object bytes 0x1000..0x5000 at 0x20000; its page 0x21000 has a
        // private copy.
        assert_eq!(
            got,
            vec![
                (0x10000, 0x1000, Source::Private, 0),
                (0x20000, 0x1000, Source::Shared(5), 0x1000),
                (0x21000, 0x1000, Source::Private, 0x1000),
                (0x22000, 0x2000, Source::Shared(5), 0x3000),
            ]
        );
        let segments = segments_of(&build_stretches(&layout, &shared), Source::Shared(5));
        assert_eq!(segments.len(), 2);
    }

    #[test]
    fn a_deleted_files_stored_contents_fill_its_mapping_where_no_page_does() {
        // File id 7 mapped at 0x10000..0x14000 from file offset 0x1000; the checkpoint knows the
        // file up to 0x3000: a chunk at 0..0x800, one at 0x2000..0x2100, zeros elsewhere.
        let mut mapping = vma(0x10000, 0x14000, 0x1000, None);
        mapping.status = 1 | (1 << 6); // VMA_AREA_REGULAR | VMA_FILE_PRIVATE
        mapping.shmid = 7;
        let layout = MemoryLayout::build(vec![mapping], vec![]).unwrap();
        let ranges = [
            crate::dump::StoredRange {
                data_offset: 0,
                file_offset: 100,
                len: 0x800,
            },
            crate::dump::StoredRange {
                data_offset: 0x2000,
                file_offset: 5000,
                len: 0x100,
            },
        ];
        let ghost_of = |id: u32| {
            (id == 7).then_some(GhostContents {
                image: "ghost-file-3.img",
                known_end: 0x3000,
                ranges: &ranges,
            })
        };
        // A private page at 0x10000 takes precedence.
        let covered = [Stretch {
            vaddr: 0x10000,
            len: 0x1000,
            source: Source::Private,
            pages_offset: 0,
        }];
        let (got, cut) = file_stretches(&layout, &ghost_of, &covered);
        assert!(!cut);
        let image: Arc<str> = Arc::from("ghost-file-3.img");
        assert_eq!(
            got,
            vec![
                FileStretch {
                    vaddr: 0x11000,
                    len: 0x100,
                    stored: Some((image, 5000)),
                },
                FileStretch {
                    vaddr: 0x11100,
                    len: 0xf00,
                    stored: None,
                },
            ]
        );
        // The cap holds whatever the images claim.
        let many: Vec<crate::dump::StoredRange> = (0..(MAX_FILE_STRETCHES as u64 + 10))
            .map(|i| crate::dump::StoredRange {
                data_offset: i * 2,
                file_offset: i,
                len: 1,
            })
            .collect();
        let ghost_of = |_: u32| {
            Some(GhostContents {
                image: "ghost-file-3.img",
                known_end: 1 << 30,
                ranges: &many,
            })
        };
        let mut big = vma(0x10000, 0x10000 + (1 << 30), 0, None);
        big.status = 1 | (1 << 6);
        big.shmid = 7;
        let layout = MemoryLayout::build(vec![big], vec![]).unwrap();
        let (got, cut) = file_stretches(&layout, &ghost_of, &[]);
        assert!(cut);
        assert_eq!(got.len(), MAX_FILE_STRETCHES);
    }
}

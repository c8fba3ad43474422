//! The ELF64 core file itself: planning the layout (ELF header, one `PT_NOTE`, `PT_LOAD`
//! segments, page-aligned segment data) and streaming the checkpoint's bytes into it.
//!
//! What a core holds, mapping by mapping ([`Backing`]): private anonymous memory is written whole
//! (pages the checkpoint lacks were never touched: zeros); of any other mapping, only the pieces
//! the checkpoint holds get a `PT_LOAD`, and the others are listed in our note with why (left to
//! the file `NT_FILE` names, or missing). No byte the checkpoint does not hold is written, not
//! even as a `PT_LOAD` without file bytes, which gdb reads as zeros when it cannot open the file:
//! with no segment there, gdb reads the file `NT_FILE` names when it has it, and otherwise
//! reports the memory unavailable instead of showing zeros that were never there.
//!
//! Memory is never held whole: runs are copied from their sources in bounded chunks through a
//! [`SparseWriter`] (zero blocks, including those the checkpoint stores as pages, stay holes; the
//! free space of the core's file system is checked with its margin before and while writing).
//! Every segment lies inside the file, so readers never see a segment "extending past end of
//! file".

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use checkpoint_model::sparse::{SparseWriter, WriteError, Written};

use super::image::{Arch, Backing, CoreImage, PAGE_SIZE};
use super::notes::{
    build_file_note, build_missing_note, build_notes, Absence, AbsentRange, FILE_NOTE_LIMIT,
    MISSING_NOTE_LIMIT,
};
use super::Error;

const ELF_HEADER_SIZE: u64 = 64;
const PHDR_SIZE: u64 = 56;
const SHDR_SIZE: u64 = 64;
const ET_CORE: u16 = 4;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
/// `e_phnum` value saying the real count is in section header 0's `sh_info`.
const PN_XNUM: u64 = 0xffff;
/// Bytes copied from a source at a time.
const COPY_CHUNK: usize = 1 << 20;

/// One `PT_LOAD` segment as planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Start address (`p_vaddr`).
    pub vaddr: u64,
    /// Size in memory (`p_memsz`).
    pub memsz: u64,
    /// Bytes in the file (`p_filesz`): `memsz` or 0.
    pub filesz: u64,
    /// Where its bytes start in the file (`p_offset`).
    pub offset: u64,
    /// `PF_R`/`PF_W`/`PF_X`.
    pub flags: u32,
}

/// The whole layout of one core file, computed before anything is written.
#[derive(Debug, Clone)]
pub struct CorePlan {
    machine: u16,
    notes: Vec<u8>,
    notes_offset: u64,
    segments: Vec<Segment>,
    section_header_offset: Option<u64>,
    file_len: u64,
    /// Ranges of mappings the core holds no byte of, and why, by address.
    pub absent: Vec<AbsentRange>,
    /// Bytes of runs that lie outside every mapping (not written).
    pub stray_bytes: u64,
    /// Bytes the checkpoint holds that the core will copy (some may be zero blocks, written as
    /// holes).
    pub data_bytes: u64,
    /// File-backed mappings `NT_FILE` lists, of all there are.
    pub file_note: (usize, usize),
    /// Ranges our note lists, of all absent ranges.
    pub missing_note: (usize, usize),
}

/// What writing one core did, for the caller to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreSummary {
    /// Number of `PT_LOAD` segments.
    pub segments: usize,
    /// Segments without file bytes (`p_filesz` 0).
    pub omitted_segments: usize,
    /// Bytes copied from the checkpoint (pages and stored file contents).
    pub dumped_bytes: u64,
    /// Bytes of those from deleted files' contents the checkpoint stores (ghost files).
    pub stored_file_bytes: u64,
    /// Bytes of mappings left to their files (named in `NT_FILE`).
    pub left_to_files_bytes: u64,
    /// Bytes of mappings that nothing in the checkpoint holds (listed in our note).
    pub missing_bytes: u64,
    /// Bytes of runs outside every mapping, not written.
    pub stray_bytes: u64,
    /// Size of the core file (holes included).
    pub file_len: u64,
    /// What went to disk: bytes written as data, and zeros left as holes among the bytes copied.
    pub written: Written,
    /// Threads whose registers the core leaves out (past the per-core thread limit).
    pub omitted_threads: usize,
    /// File-backed mappings `NT_FILE` lists, of all there are (fewer past its 4 MiB limit).
    pub file_note: (usize, usize),
    /// Absent ranges our note lists, of all there are (fewer past its 4 MiB limit).
    pub missing_note: (usize, usize),
    /// True when some stored contents of deleted files were not used (more pieces than the
    /// model keeps per process); they are counted as missing.
    pub stored_files_cut: bool,
}

fn align_up(value: u64, align: u64) -> Option<u64> {
    value.checked_add(align - 1).map(|v| v / align * align)
}

fn prot_to_flags(prot: u32) -> u32 {
    let mut flags = 0;
    if prot & 1 != 0 {
        flags |= PF_R;
    }
    if prot & 2 != 0 {
        flags |= PF_W;
    }
    if prot & 4 != 0 {
        flags |= PF_X;
    }
    flags
}

/// Sorted, disjoint (start, end) address ranges.
type AddressRanges = Vec<(u64, u64)>;

/// What the runs cover: for each mapping, the sub-ranges covered by runs, sorted; the bytes of
/// runs outside every mapping; and the bytes of runs with a source (not known zeros) inside
/// mappings. Mappings must be sorted and disjoint.
struct Held {
    ranges: Vec<AddressRanges>,
    stray: u64,
    data: u64,
}

fn held_ranges(image: &CoreImage) -> Result<Held, Error> {
    let mut runs = Vec::with_capacity(image.runs.len());
    for (index, run) in image.runs.iter().enumerate() {
        let end = run.end().ok_or(Error::BadPageRun {
            index,
            vaddr: run.vaddr,
            len: run.len,
        })?;
        runs.push((run.vaddr, end, run.source.is_some()));
    }
    runs.sort_unstable();
    let mut held = Held {
        ranges: vec![Vec::new(); image.mappings.len()],
        stray: 0,
        data: 0,
    };
    let mut m = 0usize;
    for (start, end, has_source) in runs {
        let mut cursor = start;
        while cursor < end {
            while image.mappings.get(m).is_some_and(|map| map.end <= cursor) {
                m += 1;
            }
            match image.mappings.get(m) {
                Some(map) if map.start <= cursor => {
                    let piece_end = end.min(map.end);
                    if let Some(list) = held.ranges.get_mut(m) {
                        push_merged(list, cursor, piece_end);
                    }
                    if has_source {
                        held.data += piece_end - cursor;
                    }
                    cursor = piece_end;
                }
                Some(map) => {
                    let gap_end = end.min(map.start);
                    held.stray += gap_end - cursor;
                    cursor = gap_end;
                }
                None => {
                    held.stray += end - cursor;
                    cursor = end;
                }
            }
        }
    }
    Ok(held)
}

fn push_merged(list: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    if let Some(last) = list.last_mut() {
        if last.1 >= start {
            last.1 = last.1.max(end);
            return;
        }
    }
    list.push((start, end));
}

/// A piece of a mapping as planned: its range and whether the core holds its bytes.
struct Piece {
    start: u64,
    end: u64,
    written: bool,
}

/// The pieces of one mapping (see the module docs), and the absent ranges among them.
fn plan_mapping(
    map: &super::image::Mapping,
    held: &[(u64, u64)],
    pieces: &mut Vec<Piece>,
    absent: &mut Vec<AbsentRange>,
) {
    if map.backing == Backing::AnonPrivate {
        let whole = !held.is_empty() || map.prot != 0;
        pieces.push(Piece {
            start: map.start,
            end: map.end,
            written: whole,
        });
        return;
    }
    let absence = match map.backing {
        Backing::File => Absence::LeftToFile,
        Backing::Special => Absence::KernelArea,
        Backing::AnonPrivate | Backing::Unknown => Absence::Missing,
    };
    let mut cursor = map.start;
    for &(start, end) in held {
        if start > cursor {
            absent.push(AbsentRange {
                start: cursor,
                end: start,
                absence,
            });
        }
        pieces.push(Piece {
            start,
            end,
            written: true,
        });
        cursor = end;
    }
    if cursor < map.end {
        absent.push(AbsentRange {
            start: cursor,
            end: map.end,
            absence,
        });
    }
}

/// Plans the core file of `image`: checks the mappings, decides which pieces of each are
/// written, lays out notes and segments.
pub fn plan_core(image: &CoreImage) -> Result<CorePlan, Error> {
    let mut previous_end = 0u64;
    for (index, map) in image.mappings.iter().enumerate() {
        let reason = if map.start >= map.end {
            Some("start is not below end")
        } else if !map.start.is_multiple_of(PAGE_SIZE) || !map.end.is_multiple_of(PAGE_SIZE) {
            Some("not page aligned")
        } else if map.start < previous_end {
            Some("overlaps the previous mapping or is out of order")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::BadMapping {
                index,
                start: map.start,
                end: map.end,
                reason,
            });
        }
        previous_end = map.end;
    }
    for (index, run) in image.runs.iter().enumerate() {
        if !run.vaddr.is_multiple_of(PAGE_SIZE) || !run.len.is_multiple_of(PAGE_SIZE) {
            return Err(Error::BadPageRun {
                index,
                vaddr: run.vaddr,
                len: run.len,
            });
        }
    }
    let held = held_ranges(image)?;
    let (stray_bytes, data_bytes) = (held.stray, held.data);

    let mut pieces = Vec::with_capacity(image.mappings.len());
    let mut absent = Vec::new();
    for (map, ranges) in image.mappings.iter().zip(&held.ranges) {
        plan_mapping(map, ranges, &mut pieces, &mut absent);
    }

    let file_note = build_file_note(&image.mappings, FILE_NOTE_LIMIT);
    let missing_note = build_missing_note(&absent, MISSING_NOTE_LIMIT);
    let notes = build_notes(image, &file_note.desc, &missing_note.desc);
    let phnum = 1 + pieces.len() as u64;
    let notes_offset = ELF_HEADER_SIZE + phnum * PHDR_SIZE;
    let too_big = Error::CoreTooLarge;
    let mut cursor = align_up(notes_offset + notes.len() as u64, PAGE_SIZE).ok_or(too_big)?;
    let mut segments = Vec::with_capacity(pieces.len());
    for (piece, map) in pieces.iter().zip(mapping_of_each(&pieces, image)) {
        let memsz = piece.end - piece.start;
        let filesz = if piece.written { memsz } else { 0 };
        segments.push(Segment {
            vaddr: piece.start,
            memsz,
            filesz,
            offset: cursor,
            flags: prot_to_flags(map),
        });
        cursor = cursor.checked_add(filesz).ok_or(Error::CoreTooLarge)?;
    }
    let section_header_offset = (phnum >= PN_XNUM).then_some(cursor);
    let file_len = match section_header_offset {
        Some(offset) => offset + SHDR_SIZE,
        None => cursor,
    };
    Ok(CorePlan {
        machine: match image.arch {
            Arch::X86_64 => EM_X86_64,
            Arch::Aarch64 => EM_AARCH64,
        },
        notes,
        notes_offset,
        segments,
        section_header_offset,
        file_len,
        absent,
        stray_bytes,
        data_bytes,
        file_note: (file_note.listed, file_note.total),
        missing_note: (missing_note.listed, missing_note.total),
    })
}

/// The protection of the mapping each piece belongs to, in order (pieces are by address).
fn mapping_of_each<'a>(
    pieces: &'a [Piece],
    image: &'a CoreImage,
) -> impl Iterator<Item = u32> + 'a {
    let mut m = 0usize;
    pieces.iter().map(move |piece| {
        while image
            .mappings
            .get(m)
            .is_some_and(|map| map.end <= piece.start)
        {
            m += 1;
        }
        image.mappings.get(m).map_or(0, |map| map.prot)
    })
}

impl CorePlan {
    /// The planned `PT_LOAD` segments, in address order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The size the core file will have.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Bytes of absent ranges for one reason.
    pub fn absent_bytes(&self, absence: Absence) -> u64 {
        self.absent
            .iter()
            .filter(|range| range.absence == absence)
            .fold(0u64, |sum, range| {
                sum.saturating_add(range.end - range.start)
            })
    }

    /// The ELF header, the program headers and the notes: the first bytes of the file.
    fn build_headers(&self) -> Vec<u8> {
        let phnum = 1 + self.segments.len() as u64;
        let mut out = Vec::with_capacity((self.notes_offset as usize) + self.notes.len());
        out.extend_from_slice(b"\x7fELF");
        out.extend_from_slice(&[2, 1, 1, 0]); // ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&ET_CORE.to_le_bytes());
        out.extend_from_slice(&self.machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // e_version
        out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
        out.extend_from_slice(&ELF_HEADER_SIZE.to_le_bytes()); // e_phoff
        out.extend_from_slice(&self.section_header_offset.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        out.extend_from_slice(&(ELF_HEADER_SIZE as u16).to_le_bytes());
        out.extend_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        out.extend_from_slice(&(phnum.min(PN_XNUM) as u16).to_le_bytes());
        let (shentsize, shnum) = match self.section_header_offset {
            Some(_) => (SHDR_SIZE as u16, 1u16),
            None => (0, 0),
        };
        out.extend_from_slice(&shentsize.to_le_bytes());
        out.extend_from_slice(&shnum.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx

        let note = Segment {
            vaddr: 0,
            memsz: 0,
            filesz: self.notes.len() as u64,
            offset: self.notes_offset,
            flags: 0,
        };
        push_phdr(&mut out, PT_NOTE, &note, 0);
        for segment in &self.segments {
            push_phdr(&mut out, PT_LOAD, segment, PAGE_SIZE);
        }
        out.extend_from_slice(&self.notes);
        out
    }

    /// Section header 0 for `PN_XNUM`: an `SHT_NULL` section whose `sh_info` holds the count.
    fn build_section_header(&self) -> Vec<u8> {
        let mut out = vec![0u8; SHDR_SIZE as usize];
        let phnum = (1 + self.segments.len()) as u32;
        out[44..48].copy_from_slice(&phnum.to_le_bytes()); // sh_info
        out
    }
}

fn push_phdr(out: &mut Vec<u8>, p_type: u32, segment: &Segment, align: u64) {
    out.extend_from_slice(&p_type.to_le_bytes());
    out.extend_from_slice(&segment.flags.to_le_bytes());
    out.extend_from_slice(&segment.offset.to_le_bytes());
    out.extend_from_slice(&segment.vaddr.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // p_paddr
    out.extend_from_slice(&segment.filesz.to_le_bytes());
    out.extend_from_slice(&segment.memsz.to_le_bytes());
    out.extend_from_slice(&align.to_le_bytes());
}

/// Where the bytes of a core come from: a reader over a `pages-N.img` (or an image holding a
/// deleted file's contents) and its name for errors.
pub struct PagesSource<'a, R: Read + Seek> {
    /// The pages file (or the archive member) to read.
    pub reader: &'a mut R,
    /// The name to put in errors, e.g. `checkpoint/pages-1.img`.
    pub name: &'a str,
    /// True for the contents of a deleted file (counted apart in the summary).
    pub stored_file: bool,
}

/// Writes the planned core into `out` (an empty file; `path` names it in errors), copying every
/// run of `image` that falls in a written segment from its source (`pages[run.source]`), sparsely
/// and within the free space of `out`'s file system (read with `writer`'s probe).
pub fn write_core<R: Read + Seek>(
    plan: &CorePlan,
    image: &CoreImage,
    pages: &mut [PagesSource<'_, R>],
    writer: &mut SparseWriter<&File>,
    path: &Path,
) -> Result<CoreSummary, Error> {
    let write_err = |err: WriteError, written: Written| match err {
        WriteError::NoSpace(no_space) => Error::NoRoom {
            path: path.to_path_buf(),
            len: plan.file_len,
            data: plan.data_bytes,
            no_space,
        },
        WriteError::Io(source) => Error::WriteCore {
            path: path.to_path_buf(),
            len: plan.file_len,
            data: plan.data_bytes,
            written,
            source,
        },
    };
    writer
        .write_at(0, &plan.build_headers())
        .map_err(|err| write_err(err, Written::default()))?;
    let mut summary = CoreSummary {
        segments: plan.segments.len(),
        omitted_segments: plan.segments.iter().filter(|s| s.filesz == 0).count(),
        left_to_files_bytes: plan.absent_bytes(Absence::LeftToFile),
        missing_bytes: plan.absent_bytes(Absence::Missing),
        stray_bytes: plan.stray_bytes,
        file_len: plan.file_len,
        omitted_threads: image.omitted_threads,
        file_note: plan.file_note,
        missing_note: plan.missing_note,
        stored_files_cut: image.runs_cut,
        ..CoreSummary::default()
    };
    let mut buffer = Vec::new();
    let mut positions: Vec<Option<u64>> = vec![None; pages.len()];
    for run in &image.runs {
        let Some(run_end) = run.end() else { continue };
        let Some(index) = run.source else {
            continue; // known zeros: holes
        };
        let (Some(source), Some(position)) = (pages.get_mut(index), positions.get_mut(index))
        else {
            continue;
        };
        // Segments overlapping the run: they are sorted, so find the first ending after it starts.
        let first = plan
            .segments
            .partition_point(|s| s.vaddr + s.memsz <= run.vaddr);
        for segment in plan.segments.iter().skip(first) {
            if segment.vaddr >= run_end {
                break;
            }
            if segment.filesz == 0 {
                continue;
            }
            let start = run.vaddr.max(segment.vaddr);
            let end = run_end.min(segment.vaddr + segment.memsz);
            let source_offset = run.offset + (start - run.vaddr);
            if *position != Some(source_offset) {
                source
                    .reader
                    .seek(SeekFrom::Start(source_offset))
                    .map_err(|err| Error::ReadPages {
                        file: source.name.to_string(),
                        offset: source_offset,
                        source: err,
                    })?;
            }
            let copy = Copy {
                len: end - start,
                from: source_offset,
                to: segment.offset + (start - segment.vaddr),
            };
            copy_exact(source.reader, writer, &copy, source.name, &mut buffer).map_err(|err| {
                match err {
                    CopyError::Read(err) => err,
                    CopyError::Write(err) => write_err(err, writer.written()),
                }
            })?;
            *position = Some(source_offset + copy.len);
            summary.dumped_bytes += copy.len;
            if source.stored_file {
                summary.stored_file_bytes += copy.len;
            }
        }
    }
    if let Some(offset) = plan.section_header_offset {
        writer
            .write_at(offset, &plan.build_section_header())
            .map_err(|err| write_err(err, writer.written()))?;
    }
    writer
        .set_len(plan.file_len)
        .map_err(|err| write_err(WriteError::Io(err), writer.written()))?;
    summary.written = writer.written();
    Ok(summary)
}

/// One copy from a source into the core.
struct Copy {
    /// Bytes.
    len: u64,
    /// Offset in the source.
    from: u64,
    /// Offset in the core.
    to: u64,
}

enum CopyError {
    Read(Error),
    Write(WriteError),
}

/// Copies exactly `copy.len` bytes in chunks of at most [`COPY_CHUNK`]; a short source is an
/// error naming the source and the byte offset where it ended.
fn copy_exact<R: Read>(
    reader: &mut R,
    out: &mut SparseWriter<&File>,
    copy: &Copy,
    name: &str,
    buffer: &mut Vec<u8>,
) -> Result<(), CopyError> {
    if buffer.is_empty() {
        buffer.resize(COPY_CHUNK, 0);
    }
    let mut done = 0u64;
    while done < copy.len {
        let want = (copy.len - done).min(COPY_CHUNK as u64) as usize;
        let chunk = &mut buffer[..want];
        let mut filled = 0usize;
        while filled < want {
            match reader.read(&mut chunk[filled..]) {
                Ok(0) => {
                    return Err(CopyError::Read(Error::PagesTruncated {
                        file: name.to_string(),
                        offset: copy.from + done + filled as u64,
                        needed: copy.from + copy.len,
                    }))
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CopyError::Read(Error::ReadPages {
                        file: name.to_string(),
                        offset: copy.from + done + filled as u64,
                        source,
                    }))
                }
            }
        }
        out.write_at(copy.to + done, chunk)
            .map_err(CopyError::Write)?;
        done += want as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use super::*;
    use crate::coredump::image::{
        Aarch64Regs, MappedFile, Mapping, PageRun, ProcessInfo, ThreadRegs, ThreadState, X86Fpregs,
        X86Regs, X86Xsave,
    };
    use crate::coredump::notes::*;
    use crate::coredump::write_core_file;

    /// A minimal ELF core reader for checking what we wrote, independent of the writer.
    struct Parsed {
        machine: u16,
        loads: Vec<(u32, u64, u64, u64, u64)>, // flags, offset, vaddr, filesz, memsz
        notes: Vec<(String, u32, Vec<u8>)>,
    }

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    fn parse(bytes: &[u8]) -> Parsed {
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert_eq!(u16_at(bytes, 16), 4, "ET_CORE");
        let phoff = u64_at(bytes, 32) as usize;
        let mut phnum = u16_at(bytes, 56) as usize;
        if phnum == 0xffff {
            let shoff = u64_at(bytes, 40) as usize;
            phnum = u32_at(bytes, shoff + 44) as usize;
        }
        let mut loads = Vec::new();
        let mut notes = Vec::new();
        for i in 0..phnum {
            let p = phoff + i * 56;
            let (ty, flags) = (u32_at(bytes, p), u32_at(bytes, p + 4));
            let (offset, vaddr) = (u64_at(bytes, p + 8), u64_at(bytes, p + 16));
            let (filesz, memsz) = (u64_at(bytes, p + 32), u64_at(bytes, p + 40));
            assert!(
                offset + filesz <= bytes.len() as u64,
                "segment {i} past EOF"
            );
            if ty == PT_LOAD {
                assert_eq!(offset % 4096, vaddr % 4096);
                loads.push((flags, offset, vaddr, filesz, memsz));
            } else if ty == PT_NOTE {
                let mut n = offset as usize;
                let end = (offset + filesz) as usize;
                while n < end {
                    let namesz = u32_at(bytes, n) as usize;
                    let descsz = u32_at(bytes, n + 4) as usize;
                    let ty = u32_at(bytes, n + 8);
                    let name = &bytes[n + 12..n + 12 + namesz - 1];
                    let desc_at = n + 12 + namesz.div_ceil(4) * 4;
                    notes.push((
                        String::from_utf8(name.to_vec()).unwrap(),
                        ty,
                        bytes[desc_at..desc_at + descsz].to_vec(),
                    ));
                    n = desc_at + descsz.div_ceil(4) * 4;
                }
                assert_eq!(n, end, "notes fill the segment exactly");
            }
        }
        Parsed {
            machine: u16_at(bytes, 18),
            loads,
            notes,
        }
    }

    fn x86_thread(tid: u32) -> ThreadState {
        let mut gpregs = [0u64; 27];
        gpregs[16] = 0x401000 + u64::from(tid); // rip
        gpregs[19] = 0x7ffd_0000; // rsp
        ThreadState {
            tid,
            sigblocked: 0,
            regs: ThreadRegs::X86_64(Box::new(X86Regs {
                gpregs,
                fpregs: X86Fpregs::default(),
                xsave: Some(X86Xsave {
                    xstate_bv: 0x7,
                    ymmh: Some([9; 64]),
                    ..X86Xsave::default()
                }),
            })),
        }
    }

    fn sample_image() -> CoreImage {
        let file = |path: &str, offset| {
            Some(MappedFile {
                path: Arc::from(path),
                offset,
            })
        };
        CoreImage {
            omitted_threads: 0,
            arch: Arch::X86_64,
            info: ProcessInfo {
                pid: 42,
                ppid: 1,
                pgid: 42,
                sid: 42,
                comm: "app".into(),
                psargs: "app --flag".into(),
                state: b'S',
                ..ProcessInfo::default()
            },
            threads: vec![x86_thread(42), x86_thread(43)],
            auxv: vec![(6, 4096)],
            mappings: vec![
                Mapping {
                    start: 0x400000,
                    end: 0x402000,
                    prot: 5,
                    file: file("/bin/app", 0),
                    backing: Backing::File,
                },
                Mapping {
                    start: 0x600000,
                    end: 0x603000,
                    prot: 3,
                    file: file("/bin/app", 0x2000),
                    backing: Backing::File,
                },
                Mapping {
                    start: 0x10000000,
                    end: 0x10004000,
                    prot: 3,
                    file: None,
                    backing: Backing::AnonPrivate,
                },
                Mapping {
                    start: 0x20000000,
                    end: 0x20100000,
                    prot: 0,
                    file: None,
                    backing: Backing::AnonPrivate,
                },
                Mapping {
                    start: 0x7fff0000,
                    end: 0x7fff2000,
                    prot: 1,
                    file: None,
                    backing: Backing::Special,
                },
            ],
            // Pages file order differs from address order on purpose.
            runs: vec![
                PageRun {
                    vaddr: 0x10001000,
                    len: 0x2000,
                    offset: 0,
                    source: Some(0),
                },
                PageRun {
                    vaddr: 0x601000,
                    len: 0x1000,
                    offset: 0x2000,
                    source: Some(0),
                },
                // Outside every mapping.
                PageRun {
                    vaddr: 0x30000000,
                    len: 0x1000,
                    offset: 0x3000,
                    source: Some(0),
                },
            ],
            runs_cut: false,
        }
    }

    fn sample_pages() -> Vec<u8> {
        let mut pages = Vec::new();
        for fill in [0xa1u8, 0xa2, 0xb1, 0xc1] {
            pages.extend(std::iter::repeat_n(fill, 4096));
        }
        pages
    }

    /// Writes `image`'s core into `dir`, its pages read from `pages` as the one pages file
    /// `name`.
    fn write_from(
        dir: &Path,
        image: &CoreImage,
        pages: Vec<u8>,
        name: &str,
    ) -> Result<crate::coredump::WrittenCore, Error> {
        write_core_file(
            dir,
            image,
            &mut [PagesSource {
                reader: &mut Cursor::new(pages),
                name,
                stored_file: false,
            }],
            &mut |_| {},
        )
    }

    #[test]
    fn writes_segments_notes_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let image = sample_image();
        let written = write_from(dir.path(), &image, sample_pages(), "pages-1.img").unwrap();
        assert_eq!(written.path, dir.path().join("core.42"));
        let mode = std::fs::metadata(&written.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");

        let bytes = std::fs::read(&written.path).unwrap();
        assert_eq!(bytes.len() as u64, written.summary.file_len);
        let parsed = parse(&bytes);
        assert_eq!(parsed.machine, 62);
        let loads = &parsed.loads;
        assert_eq!(loads.len(), 3);
        // Untouched file text: no segment (left to the file); partly dumped file data: its dumped
        // page only; anon: whole; PROT_NONE without pages: a segment without bytes; [vvar]-like
        // without pages: no segment.
        let filesz: Vec<u64> = loads.iter().map(|l| l.3).collect();
        assert_eq!(filesz, vec![0x1000, 0x4000, 0]);
        let vaddrs: Vec<u64> = loads.iter().map(|l| l.2).collect();
        assert_eq!(vaddrs, vec![0x601000, 0x10000000, 0x20000000]);
        let flags: Vec<u32> = loads.iter().map(|l| l.0).collect();
        assert_eq!(flags, vec![PF_R | PF_W, PF_R | PF_W, 0]);
        assert_eq!(loads[2].4, 0x100000);

        let at = |vaddr: u64| {
            loads
                .iter()
                .find(|l| l.2 <= vaddr && vaddr < l.2 + l.3)
                .map(|l| bytes[(l.1 + vaddr - l.2) as usize])
        };
        assert_eq!(at(0x10000000), Some(0));
        assert_eq!(at(0x10001000), Some(0xa1));
        assert_eq!(at(0x10002fff), Some(0xa2));
        assert_eq!(at(0x10003000), Some(0));
        assert_eq!(at(0x600fff), None, "not invented: left to /bin/app");
        assert_eq!(at(0x601000), Some(0xb1));
        assert_eq!(at(0x602000), None);
        assert_eq!(written.summary.dumped_bytes, 0x3000);
        assert_eq!(written.summary.stray_bytes, 0x1000);
        assert_eq!(written.summary.left_to_files_bytes, 0x4000);
        assert_eq!(written.summary.missing_bytes, 0);
        assert_eq!(written.summary.omitted_segments, 1);
        assert!(written.summary.written.data_bytes >= 0x3000);

        let kinds: Vec<(&str, u32)> = parsed
            .notes
            .iter()
            .map(|(n, t, _)| (n.as_str(), *t))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("CORE", NT_PRSTATUS),
                ("CORE", NT_PRPSINFO),
                ("CORE", NT_SIGINFO),
                ("CORE", NT_AUXV),
                ("CORE", NT_FILE),
                ("CORE", NT_FPREGSET),
                ("LINUX", NT_X86_XSTATE),
                ("CORE", NT_PRSTATUS),
                ("CORE", NT_FPREGSET),
                ("LINUX", NT_X86_XSTATE),
                (OWN_NOTE_NAME, NT_KC_MISSING),
            ]
        );
        let prstatus = &parsed.notes[7].2;
        assert_eq!(u32_at(prstatus, 32), 43);
        assert_eq!(u64_at(prstatus, 112 + 16 * 8), 0x401000 + 43);
        assert_eq!(parsed.notes[6].2.len(), 832);
        let missing = &parsed.notes[10].2;
        let triples: Vec<(u64, u64, u64)> = (0..u64_at(missing, 0) as usize)
            .map(|i| {
                let at = 16 + i * 24;
                (
                    u64_at(missing, at),
                    u64_at(missing, at + 8),
                    u64_at(missing, at + 16),
                )
            })
            .collect();
        assert_eq!(u64_at(missing, 8), 4);
        assert_eq!(
            triples,
            vec![
                (0x400000, 0x402000, 1),
                (0x600000, 0x601000, 1),
                (0x602000, 0x603000, 1),
                (0x7fff0000, 0x7fff2000, 3),
            ]
        );
        let file_note = &parsed.notes[4].2;
        assert_eq!(u64_at(file_note, 0), 2);
        assert!(file_note.ends_with(b"/bin/app\0/bin/app\0"));
    }

    #[test]
    fn zero_pages_of_the_checkpoint_become_holes() {
        let dir = tempfile::tempdir().unwrap();
        let mut image = sample_image();
        image.mappings.truncate(3);
        image.mappings[2].end = 0x10000000 + (64 << 20);
        image.runs = vec![PageRun {
            vaddr: 0x10000000,
            len: 64 << 20,
            offset: 0,
            source: Some(0),
        }];
        let mut data = vec![0u8; 64 << 20];
        data[5 << 20] = 7;
        let written = write_from(dir.path(), &image, data, "pages-1.img").unwrap();
        let summary = written.summary;
        assert_eq!(summary.dumped_bytes, 64 << 20);
        // One page of data and the headers (about a page); every other page of zeros is a hole.
        assert!(summary.written.data_bytes <= 3 * 4096, "{summary:?}");
        assert!(summary.written.hole_bytes >= (64 << 20) - 4096);
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&written.path).unwrap();
        assert!(meta.blocks() * 512 <= 64 * 1024, "{} blocks", meta.blocks());
        let bytes = std::fs::read(&written.path).unwrap();
        let parsed = parse(&bytes);
        let anon = parsed.loads.iter().find(|l| l.2 == 0x10000000).unwrap();
        assert_eq!(bytes[(anon.1 + (5 << 20)) as usize], 7);
    }

    #[test]
    fn a_core_past_the_free_space_stops_with_an_account_of_what_was_written() {
        use checkpoint_model::sparse::FreeSpace;
        use std::os::unix::fs::MetadataExt;
        // Room above the 32 MiB margin for the headers, not for the pages.
        fn tight(file: &File) -> std::io::Result<FreeSpace> {
            let used = file.metadata()?.blocks() * 512;
            Ok(FreeSpace {
                available: ((32 << 20) + 6000u64).saturating_sub(used),
                margin: 32 << 20,
            })
        }
        let image = sample_image();
        let plan = plan_core(&image).unwrap();
        let file = tempfile::tempfile().unwrap();
        let mut writer = SparseWriter::with_probe(&file, tight);
        let mut pages = Cursor::new(sample_pages());
        let err = write_core(
            &plan,
            &image,
            &mut [PagesSource {
                reader: &mut pages,
                name: "pages-1.img",
                stored_file: false,
            }],
            &mut writer,
            Path::new("/cores/core.42"),
        )
        .unwrap_err();
        let Error::NoRoom { no_space, .. } = &err else {
            panic!("{err}")
        };
        let headers = plan.build_headers().len() as u64;
        assert_eq!(no_space.written.data_bytes, headers);
        let text = err.to_string();
        assert!(
            text.starts_with("writing /cores/core.42: no room for ")
                && text.contains("of which 32.0 MiB are kept free")
                && text.contains("nothing was kept"),
            "{text}"
        );
    }

    #[test]
    fn readelf_reads_the_core_without_complaint() {
        let Ok(check) = std::process::Command::new("readelf")
            .arg("--version")
            .output()
        else {
            return; // binutils not installed; the parser test above still covers the layout.
        };
        assert!(check.status.success());
        let dir = tempfile::tempdir().unwrap();
        let written =
            write_from(dir.path(), &sample_image(), sample_pages(), "pages-1.img").unwrap();
        let out = std::process::Command::new("readelf")
            .args(["-W", "-n", "-l"])
            .arg(&written.path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.is_empty(), "readelf warned: {stderr}");
        assert!(stdout.contains("NT_PRSTATUS"), "{stdout}");
        assert!(stdout.contains("NT_X86_XSTATE"), "{stdout}");
        assert!(stdout.contains("NT_FILE"), "{stdout}");
        assert_eq!(stdout.matches("LOAD").count(), 3, "{stdout}");
    }

    #[test]
    fn truncated_pages_leave_no_core() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_from(
            dir.path(),
            &sample_image(),
            sample_pages()[..0x1800].to_vec(),
            "checkpoint/pages-1.img",
        )
        .unwrap_err();
        assert!(matches!(err, Error::PagesTruncated { offset: 0x1800, .. }));
        assert!(err
            .to_string()
            .starts_with("checkpoint/pages-1.img: ends at byte 6144"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_mappings_are_rejected() {
        let mut image = sample_image();
        image.mappings.swap(0, 1);
        let err = plan_core(&image).unwrap_err();
        assert!(
            err.to_string().contains("mapping 1 (0x400000-0x402000)"),
            "{err}"
        );
        let mut image = sample_image();
        image.mappings[2].end = image.mappings[2].start;
        assert!(plan_core(&image).is_err());
        let mut image = sample_image();
        image.runs[0].len = !0xfff;
        assert!(matches!(
            plan_core(&image),
            Err(Error::BadPageRun { index: 0, .. })
        ));
        let mut image = sample_image();
        image.runs[0].len = 100;
        assert!(matches!(
            plan_core(&image),
            Err(Error::BadPageRun { index: 0, .. })
        ));
    }

    #[test]
    fn many_mappings_use_pn_xnum() {
        let mut image = sample_image();
        image.runs.clear();
        image.mappings = (0..70_000u64)
            .map(|i| Mapping {
                start: 0x1000_0000 + i * 0x2000,
                end: 0x1000_1000 + i * 0x2000,
                prot: 0,
                file: None,
                backing: Backing::AnonPrivate,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let written = write_from(dir.path(), &image, Vec::new(), "pages-1.img").unwrap();
        let bytes = std::fs::read(&written.path).unwrap();
        assert_eq!(u16_at(&bytes, 56), 0xffff);
        assert_eq!(parse(&bytes).loads.len(), 70_000);
    }

    #[test]
    fn aarch64_core_has_arm_notes() {
        let mut image = sample_image();
        image.arch = Arch::Aarch64;
        image.threads = vec![ThreadState {
            tid: 42,
            sigblocked: 0,
            regs: ThreadRegs::Aarch64(Box::new(Aarch64Regs {
                regs: [1; 31],
                sp: 0x7fff_f000,
                pc: 0x40_0123,
                pstate: 0,
                vregs: [0; 64],
                fpsr: 0,
                fpcr: 0,
                tls: 0xabc,
            })),
        }];
        let dir = tempfile::tempdir().unwrap();
        let written = write_from(dir.path(), &image, sample_pages(), "pages-1.img").unwrap();
        let parsed = parse(&std::fs::read(&written.path).unwrap());
        assert_eq!(parsed.machine, 183);
        let kinds: Vec<(u32, usize)> = parsed.notes.iter().map(|n| (n.1, n.2.len())).collect();
        assert_eq!(kinds[0], (NT_PRSTATUS, 392));
        assert_eq!(kinds[5], (NT_FPREGSET, 528));
        assert_eq!(kinds[6], (NT_ARM_TLS, 8));
        assert_eq!(u64_at(&parsed.notes[0].2, 112 + 32 * 8), 0x40_0123);
    }
}

//! The ELF64 core file itself: planning the layout (ELF header, one `PT_NOTE`, one `PT_LOAD`
//! per mapping, page-aligned segment data) and streaming the checkpoint's pages into it.
//!
//! Memory is never held whole: present runs are copied from the pages reader in bounded chunks,
//! and bytes the checkpoint lacks are left as holes (the file is sized with `set_len`), which
//! read back as zeros. Every segment lies inside the file, so readers never see a segment
//! "extending past end of file".

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::image::{Arch, Backing, CoreImage, PAGE_SIZE};
use super::notes::build_notes;
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
/// Bytes copied from the pages reader at a time.
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
    /// Ranges written as zeros whose real contents the checkpoint does not hold.
    pub zero_filled: Vec<(u64, u64)>,
    /// Bytes of page runs that lie outside every mapping (not written).
    pub stray_bytes: u64,
    /// Bytes of the checkpoint's pages the core will hold (the rest of it is zeros).
    pub data_bytes: u64,
}

/// What writing one core did, for the caller to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreSummary {
    /// Number of `PT_LOAD` segments.
    pub segments: usize,
    /// Segments without file bytes (`p_filesz` 0).
    pub omitted_segments: usize,
    /// Bytes copied from the checkpoint's pages.
    pub dumped_bytes: u64,
    /// Bytes written as zeros although the checkpoint does not know them.
    pub zero_filled_bytes: u64,
    /// Bytes of page runs outside every mapping, not written.
    pub stray_bytes: u64,
    /// Size of the core file (holes included).
    pub file_len: u64,
    /// Threads whose registers the core leaves out (past the per-core thread limit).
    pub omitted_threads: usize,
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

/// For each mapping, the sub-ranges covered by page runs, sorted; and the bytes of runs outside
/// every mapping. Mappings must be sorted and disjoint.
fn present_ranges(image: &CoreImage) -> Result<(Vec<AddressRanges>, u64), Error> {
    let mut runs = Vec::with_capacity(image.runs.len());
    for (index, run) in image.runs.iter().enumerate() {
        let end = run.end().ok_or(Error::BadPageRun {
            index,
            vaddr: run.vaddr,
            nr_pages: run.nr_pages,
        })?;
        runs.push((run.vaddr, end));
    }
    runs.sort_unstable();
    let mut present = vec![Vec::new(); image.mappings.len()];
    let mut stray = 0u64;
    let mut m = 0usize;
    for (start, end) in runs {
        let mut cursor = start;
        while cursor < end {
            while image.mappings.get(m).is_some_and(|map| map.end <= cursor) {
                m += 1;
            }
            match image.mappings.get(m) {
                Some(map) if map.start <= cursor => {
                    let piece_end = end.min(map.end);
                    if let Some(list) = present.get_mut(m) {
                        push_merged(list, cursor, piece_end);
                    }
                    cursor = piece_end;
                }
                Some(map) => {
                    let gap_end = end.min(map.start);
                    stray += gap_end - cursor;
                    cursor = gap_end;
                }
                None => {
                    stray += end - cursor;
                    cursor = end;
                }
            }
        }
    }
    Ok((present, stray))
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

/// Plans the core file of `image`: checks the mappings, decides per mapping whether its bytes
/// are written, lays out notes and segments.
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
    let (present, stray_bytes) = present_ranges(image)?;

    let mut zero_filled = Vec::new();
    let mut data_bytes = 0u64;
    let mut dumped = Vec::with_capacity(image.mappings.len());
    for (map, ranges) in image.mappings.iter().zip(&present) {
        let has_pages = !ranges.is_empty();
        let whole = match map.backing {
            Backing::AnonPrivate => has_pages || map.prot != 0,
            Backing::Unknown | Backing::Special => has_pages,
        };
        if whole {
            data_bytes = ranges.iter().fold(data_bytes, |sum, (start, end)| {
                sum.saturating_add(end - start)
            });
        }
        if whole && map.backing != Backing::AnonPrivate {
            let mut cursor = map.start;
            for (start, end) in ranges {
                if *start > cursor {
                    zero_filled.push((cursor, *start));
                }
                cursor = *end;
            }
            if cursor < map.end {
                zero_filled.push((cursor, map.end));
            }
        }
        dumped.push(whole);
    }

    let notes = build_notes(image, &zero_filled);
    let phnum = 1 + image.mappings.len() as u64;
    let notes_offset = ELF_HEADER_SIZE + phnum * PHDR_SIZE;
    let too_big = Error::CoreTooLarge;
    let mut cursor = align_up(notes_offset + notes.len() as u64, PAGE_SIZE).ok_or(too_big)?;
    let mut segments = Vec::with_capacity(image.mappings.len());
    for (map, whole) in image.mappings.iter().zip(dumped) {
        let memsz = map.end - map.start;
        let filesz = if whole { memsz } else { 0 };
        segments.push(Segment {
            vaddr: map.start,
            memsz,
            filesz,
            offset: cursor,
            flags: prot_to_flags(map.prot),
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
        zero_filled,
        stray_bytes,
        data_bytes,
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

/// Where the pages of a core come from: a reader over a `pages-N.img` and its name for errors.
pub struct PagesSource<'a, R: Read + Seek> {
    /// The pages file (or the archive member) to read.
    pub reader: &'a mut R,
    /// The name to put in errors, e.g. `checkpoint/pages-1.img`.
    pub name: &'a str,
}

/// Writes the planned core into `out` (an empty file; `path` names it in errors), copying every
/// run of `image` that falls in a written segment from its pages source (`pages[run.source]`).
pub fn write_core<R: Read + Seek>(
    plan: &CorePlan,
    image: &CoreImage,
    pages: &mut [PagesSource<'_, R>],
    out: &mut File,
    path: &Path,
) -> Result<CoreSummary, Error> {
    let write_err = |source| Error::WriteCore {
        path: path.to_path_buf(),
        len: plan.file_len,
        source,
    };
    out.write_all(&plan.build_headers()).map_err(write_err)?;
    let mut summary = CoreSummary {
        segments: plan.segments.len(),
        omitted_segments: plan.segments.iter().filter(|s| s.filesz == 0).count(),
        zero_filled_bytes: plan
            .zero_filled
            .iter()
            .fold(0u64, |sum, (s, e)| sum.saturating_add(e - s)),
        stray_bytes: plan.stray_bytes,
        file_len: plan.file_len,
        dumped_bytes: 0,
        omitted_threads: image.omitted_threads,
    };
    let mut buffer = Vec::new();
    let mut positions: Vec<Option<u64>> = vec![None; pages.len()];
    for run in &image.runs {
        let Some(run_end) = run.end() else { continue };
        let (Some(source), Some(position)) =
            (pages.get_mut(run.source), positions.get_mut(run.source))
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
            out.seek(SeekFrom::Start(segment.offset + (start - segment.vaddr)))
                .map_err(write_err)?;
            copy_exact(
                source.reader,
                out,
                end - start,
                source_offset,
                source.name,
                &mut buffer,
            )
            .map_err(|err| match err {
                Error::WriteCore { source, .. } => write_err(source),
                other => other,
            })?;
            *position = Some(source_offset + (end - start));
            summary.dumped_bytes += end - start;
        }
    }
    if let Some(offset) = plan.section_header_offset {
        out.seek(SeekFrom::Start(offset)).map_err(write_err)?;
        out.write_all(&plan.build_section_header())
            .map_err(write_err)?;
    }
    out.set_len(plan.file_len).map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(summary)
}

/// Copies exactly `len` bytes in chunks of at most [`COPY_CHUNK`]; a short source is an error
/// naming the pages file and the byte offset where it ended.
fn copy_exact<R: Read>(
    reader: &mut R,
    out: &mut File,
    len: u64,
    offset: u64,
    name: &str,
    buffer: &mut Vec<u8>,
) -> Result<(), Error> {
    if buffer.is_empty() {
        buffer.resize(COPY_CHUNK, 0);
    }
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(COPY_CHUNK as u64) as usize;
        let chunk = &mut buffer[..want];
        let mut filled = 0usize;
        while filled < want {
            match reader.read(&mut chunk[filled..]) {
                Ok(0) => {
                    return Err(Error::PagesTruncated {
                        file: name.to_string(),
                        offset: offset + done + filled as u64,
                        needed: offset + len,
                    })
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::ReadPages {
                        file: name.to_string(),
                        offset: offset + done + filled as u64,
                        source,
                    })
                }
            }
        }
        out.write_all(chunk).map_err(|source| Error::WriteCore {
            path: std::path::PathBuf::new(),
            len: 0,
            source,
        })?;
        done += want as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::os::unix::fs::PermissionsExt;

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
                path: path.into(),
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
                    backing: Backing::Unknown,
                },
                Mapping {
                    start: 0x600000,
                    end: 0x603000,
                    prot: 3,
                    file: file("/bin/app", 0x2000),
                    backing: Backing::Unknown,
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
                    nr_pages: 2,
                    offset: 0,
                    source: 0,
                },
                PageRun {
                    vaddr: 0x601000,
                    nr_pages: 1,
                    offset: 0x2000,
                    source: 0,
                },
                // Outside every mapping.
                PageRun {
                    vaddr: 0x30000000,
                    nr_pages: 1,
                    offset: 0x3000,
                    source: 0,
                },
            ],
        }
    }

    fn sample_pages() -> Vec<u8> {
        let mut pages = Vec::new();
        for fill in [0xa1u8, 0xa2, 0xb1, 0xc1] {
            pages.extend(std::iter::repeat_n(fill, 4096));
        }
        pages
    }

    #[test]
    fn writes_segments_notes_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let image = sample_image();
        let mut pages = Cursor::new(sample_pages());
        let written = write_core_file(
            dir.path(),
            &image,
            &mut [PagesSource {
                reader: &mut pages,
                name: "pages-1.img",
            }],
            &mut |_| {},
        )
        .unwrap();
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
        assert_eq!(loads.len(), 5);
        // Untouched file text: omitted; partly dumped file data: whole; anon: whole;
        // PROT_NONE without pages: omitted; [vvar]-like without pages: omitted.
        let filesz: Vec<u64> = loads.iter().map(|l| l.3).collect();
        assert_eq!(filesz, vec![0, 0x3000, 0x4000, 0, 0]);
        let flags: Vec<u32> = loads.iter().map(|l| l.0).collect();
        assert_eq!(flags, vec![PF_R | PF_X, PF_R | PF_W, PF_R | PF_W, 0, PF_R]);
        assert_eq!(loads[3].4, 0x100000);

        let at = |vaddr: u64| {
            let l = loads
                .iter()
                .find(|l| l.2 <= vaddr && vaddr < l.2 + l.3)
                .unwrap();
            bytes[(l.1 + vaddr - l.2) as usize]
        };
        assert_eq!(at(0x10000000), 0);
        assert_eq!(at(0x10001000), 0xa1);
        assert_eq!(at(0x10002fff), 0xa2);
        assert_eq!(at(0x10003000), 0);
        assert_eq!(at(0x600fff), 0);
        assert_eq!(at(0x601000), 0xb1);
        assert_eq!(at(0x602000), 0);
        assert_eq!(written.summary.dumped_bytes, 0x3000);
        assert_eq!(written.summary.stray_bytes, 0x1000);
        assert_eq!(written.summary.zero_filled_bytes, 0x2000);
        assert_eq!(written.summary.omitted_segments, 3);

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
                (OWN_NOTE_NAME, NT_KC_ZERO_FILLED),
            ]
        );
        let prstatus = &parsed.notes[7].2;
        assert_eq!(u32_at(prstatus, 32), 43);
        assert_eq!(u64_at(prstatus, 112 + 16 * 8), 0x401000 + 43);
        assert_eq!(parsed.notes[6].2.len(), 832);
        let zero_filled = &parsed.notes[10].2;
        assert_eq!(u64_at(zero_filled, 0), 2);
        assert_eq!(u64_at(zero_filled, 8), 0x600000);
        assert_eq!(u64_at(zero_filled, 16), 0x601000);
        assert_eq!(u64_at(zero_filled, 24), 0x602000);
        assert_eq!(u64_at(zero_filled, 32), 0x603000);
        let file_note = &parsed.notes[4].2;
        assert_eq!(u64_at(file_note, 0), 2);
        assert!(file_note.ends_with(b"/bin/app\0/bin/app\0"));
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
        let mut pages = Cursor::new(sample_pages());
        let written = write_core_file(
            dir.path(),
            &sample_image(),
            &mut [PagesSource {
                reader: &mut pages,
                name: "pages-1.img",
            }],
            &mut |_| {},
        )
        .unwrap();
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
        assert_eq!(stdout.matches("LOAD").count(), 5, "{stdout}");
    }

    #[test]
    fn truncated_pages_leave_no_core() {
        let dir = tempfile::tempdir().unwrap();
        let mut pages = Cursor::new(sample_pages()[..0x1800].to_vec());
        let err = write_core_file(
            dir.path(),
            &sample_image(),
            &mut [PagesSource {
                reader: &mut pages,
                name: "checkpoint/pages-1.img",
            }],
            &mut |_| {},
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
        image.runs[0].nr_pages = u64::MAX / 2;
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
        let mut pages = Cursor::new(Vec::new());
        let written = write_core_file(
            dir.path(),
            &image,
            &mut [PagesSource {
                reader: &mut pages,
                name: "pages-1.img",
            }],
            &mut |_| {},
        )
        .unwrap();
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
        let mut pages = Cursor::new(sample_pages());
        let written = write_core_file(
            dir.path(),
            &image,
            &mut [PagesSource {
                reader: &mut pages,
                name: "pages-1.img",
            }],
            &mut |_| {},
        )
        .unwrap();
        let parsed = parse(&std::fs::read(&written.path).unwrap());
        assert_eq!(parsed.machine, 183);
        let kinds: Vec<(u32, usize)> = parsed.notes.iter().map(|n| (n.1, n.2.len())).collect();
        assert_eq!(kinds[0], (NT_PRSTATUS, 392));
        assert_eq!(kinds[5], (NT_FPREGSET, 528));
        assert_eq!(kinds[6], (NT_ARM_TLS, 8));
        assert_eq!(u64_at(&parsed.notes[0].2, 112 + 32 * 8), 0x40_0123);
    }
}

//! [`ProcessMemory`]: one process's memory, read by virtual address from its pages file.

use std::io::{self, Read, Seek, SeekFrom, Write};

use super::images::{read_process_images, ArgBounds};
use super::layout::{MemoryLayout, PresentRun, Vma};
use super::search::{self, Matcher, SearchSink};
use super::Error;
use crate::archive::Checkpoint;

/// Longest argv or environment area [`ProcessMemory::read_c_strings`] reads (Linux limits both
/// together to a quarter of the stack rlimit; 4 MiB covers the default 8 MiB stack... and more).
pub const MAX_STRINGS_AREA: u64 = 4 << 20;

/// A readable, seekable pages file.
pub trait PagesSource: Read + Seek + Send {}
impl<T: Read + Seek + Send> PagesSource for T {}

/// A piece of a [`ProcessMemory::read_present`] answer: `len` bytes at `vaddr`, with their
/// contents if the checkpoint holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// First address.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// The bytes (`len` of them), or `None` where the checkpoint holds no page (never touched,
    /// file-backed and clean, in a parent pre-dump, or lazy).
    pub bytes: Option<Vec<u8>>,
}

/// The memory of one checkpointed process: its layout (VMAs, present runs) and a reader over its
/// `pages-N.img`.
///
/// Reads seek in the pages file and read only what is asked for; nothing loads the whole file.
/// Every present run was checked at construction to lie inside the pages file.
pub struct ProcessMemory {
    pid: u32,
    layout: MemoryLayout,
    args: ArgBounds,
    pages: Box<dyn PagesSource>,
    pages_name: String,
}

impl std::fmt::Debug for ProcessMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessMemory")
            .field("pid", &self.pid)
            .field("pages_name", &self.pages_name)
            .field("runs", &self.layout.runs().len())
            .finish()
    }
}

impl ProcessMemory {
    /// Opens the memory of `pid`: reads its `mm-PID.img`, `pagemap-PID.img` and `files.img`, and
    /// opens its `pages-N.img` (a window of a plain tar, the file of a directory, or a spooled
    /// copy for a compressed archive).
    pub fn open(ckpt: &Checkpoint, pid: u32) -> Result<Self, Error> {
        let images = read_process_images(ckpt, pid)?;
        let pages = ckpt.open_pages(images.pages_id)?;
        let (name, len) = (pages.name().to_owned(), pages.len());
        let mut memory = Self::from_parts(pid, images.layout, Box::new(pages), name, len)?;
        memory.args = images.args;
        Ok(memory)
    }

    /// Builds the reader from a layout and the process's pages file (`pages_len` bytes long),
    /// checking that every present run lies inside the file.
    pub fn from_parts(
        pid: u32,
        layout: MemoryLayout,
        pages: Box<dyn PagesSource>,
        pages_name: String,
        pages_len: u64,
    ) -> Result<Self, Error> {
        for run in layout.runs() {
            let end = run.pages_offset.checked_add(run.len);
            if end.is_none_or(|end| end > pages_len) {
                return Err(Error::RunOutsidePages {
                    pages: pages_name,
                    vaddr: run.vaddr,
                    offset: run.pages_offset,
                    len: run.len,
                    file_len: pages_len,
                });
            }
        }
        Ok(ProcessMemory {
            pid,
            layout,
            args: ArgBounds::default(),
            pages,
            pages_name,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// VMAs and present runs.
    pub fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    /// The VMAs, by address.
    pub fn vmas(&self) -> &[Vma] {
        self.layout.vmas()
    }

    /// Name of the pages file in the checkpoint (for messages).
    pub fn pages_name(&self) -> &str {
        &self.pages_name
    }

    /// Present memory by address, cut at VMA boundaries, each piece with the VMA it lies in (see
    /// [`MemoryLayout::runs_by_vma`]).
    pub fn present_runs(&self) -> Vec<(PresentRun, Option<&Vma>)> {
        self.layout.runs_by_vma()
    }

    /// Reads `buf.len()` bytes at `vaddr`; fails with [`Error::NotPresent`] naming the first
    /// address the checkpoint holds no page for.
    pub fn read_exact_at(&mut self, vaddr: u64, buf: &mut [u8]) -> Result<(), Error> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = vaddr.checked_add(done as u64).ok_or(Error::NotPresent {
                pid: self.pid,
                vaddr,
            })?;
            let run = *self.layout.run_at(at).ok_or(Error::NotPresent {
                pid: self.pid,
                vaddr: at,
            })?;
            let in_run = at - run.vaddr;
            let take = usize::try_from(run.len - in_run)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            let part = buf.get_mut(done..done + take).unwrap_or_default();
            self.read_file(run.pages_offset + in_run, at, part)?;
            done += take;
        }
        Ok(())
    }

    /// Reads `len` bytes at `vaddr`, split into pieces that are present (with their bytes) or
    /// absent. The caller bounds `len`: the present bytes are returned in memory.
    pub fn read_present(&mut self, vaddr: u64, len: u64) -> Result<Vec<Piece>, Error> {
        let end = vaddr.saturating_add(len);
        let mut pieces = Vec::new();
        let mut at = vaddr;
        while at < end {
            match self.layout.run_at(at).copied() {
                Some(run) => {
                    let take = run.end().min(end) - at;
                    let mut bytes = vec![
                        0u8;
                        usize::try_from(take).map_err(|_| Error::TooLarge {
                            what: "read",
                            len: take,
                            limit: usize::MAX as u64,
                        })?
                    ];
                    self.read_file(run.pages_offset + (at - run.vaddr), at, &mut bytes)?;
                    pieces.push(Piece {
                        vaddr: at,
                        len: take,
                        bytes: Some(bytes),
                    });
                    at += take;
                }
                None => {
                    let next = self
                        .layout
                        .runs()
                        .iter()
                        .map(|run| run.vaddr)
                        .find(|&start| start > at)
                        .unwrap_or(end)
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

    /// Reads the NUL-separated strings in `[start, end)` (argv: `mm_arg_start..mm_arg_end`,
    /// environment: `mm_env_start..mm_env_end`), decoding each lossily as UTF-8. A last string
    /// without a NUL is kept. Fails if the area is not present or longer than
    /// [`MAX_STRINGS_AREA`].
    pub fn read_c_strings(&mut self, start: u64, end: u64) -> Result<Vec<String>, Error> {
        let len = end
            .checked_sub(start)
            .ok_or(Error::BadArea { start, end })?;
        if len > MAX_STRINGS_AREA {
            return Err(Error::TooLarge {
                what: "argument or environment area",
                len,
                limit: MAX_STRINGS_AREA,
            });
        }
        let mut bytes = vec![0u8; len as usize];
        self.read_exact_at(start, &mut bytes)?;
        let body = bytes.strip_suffix(b"\0").unwrap_or(&bytes);
        if body.is_empty() {
            return Ok(Vec::new());
        }
        Ok(body
            .split(|&b| b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect())
    }

    /// The command line (`mm_arg_start..mm_arg_end`), one string per argument.
    pub fn argv(&mut self) -> Result<Vec<String>, Error> {
        self.read_c_strings(self.args.arg_start, self.args.arg_end)
    }

    /// The initial environment (`mm_env_start..mm_env_end`), one `NAME=value` per string.
    pub fn environ(&mut self) -> Result<Vec<String>, Error> {
        self.read_c_strings(self.args.env_start, self.args.env_end)
    }

    /// Copies the bytes of one present run to `out` through a small buffer.
    pub fn copy_run(&mut self, run: &PresentRun, out: &mut dyn Write) -> Result<(), Error> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = 0u64;
        while done < run.len {
            let take = (run.len - done).min(buf.len() as u64) as usize;
            let part = buf.get_mut(..take).unwrap_or_default();
            self.read_file(run.pages_offset + done, run.vaddr + done, part)?;
            out.write_all(part).map_err(Error::Write)?;
            done += take as u64;
        }
        Ok(())
    }

    /// Searches all present memory in one sequential pass over the pages file (see
    /// [`search`](super::search)). Returns `false` if the sink stopped the search.
    pub fn search(
        &mut self,
        matcher: &Matcher,
        context: usize,
        sink: &mut dyn SearchSink,
    ) -> Result<bool, Error> {
        let segments = self.layout.segments();
        search::search_segments(&mut self.pages, &segments, matcher, context, sink).map_err(
            |source| Error::ReadPages {
                pages: self.pages_name.clone(),
                source,
            },
        )
    }

    fn read_file(&mut self, offset: u64, vaddr: u64, buf: &mut [u8]) -> Result<(), Error> {
        let len = buf.len() as u64;
        let wrap = |source: io::Error| search::ReadError {
            offset,
            vaddr,
            len,
            source,
        };
        let result = self
            .pages
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.pages.read_exact(buf))
            .map_err(wrap);
        result.map_err(|source| Error::ReadPages {
            pages: self.pages_name.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::layout::{NamingContext, RawVma};
    use std::io::Cursor;

    fn memory() -> ProcessMemory {
        let vmas = [RawVma {
            start: 0x1000,
            end: 0x6000,
            status: 1 << 9,
            flags: 0x22,
            prot: 3,
            ..Default::default()
        }];
        let runs = vec![
            PresentRun {
                vaddr: 0x1000,
                len: 0x1000,
                pages_offset: 0x1000,
            },
            PresentRun {
                vaddr: 0x4000,
                len: 0x1000,
                pages_offset: 0,
            },
        ];
        let mut data = vec![0u8; 0x2000];
        data[0x1ff0..0x2000].copy_from_slice(b"argv0\0-v\0HOME=/r");
        data[0..4].copy_from_slice(b"oot\0");
        let layout = MemoryLayout::build(&vmas, &NamingContext::default(), runs);
        ProcessMemory::from_parts(
            7,
            layout,
            Box::new(Cursor::new(data)),
            "pages-1.img".into(),
            0x2000,
        )
        .unwrap()
    }

    #[test]
    fn reads_by_address() {
        let mut mem = memory();
        let mut buf = [0u8; 9];
        mem.read_exact_at(0x1ff0, &mut buf).unwrap();
        assert_eq!(&buf, b"argv0\0-v\0");
        assert_eq!(
            mem.read_c_strings(0x1ff0, 0x1ff9).unwrap(),
            vec!["argv0", "-v"]
        );
        let err = mem.read_exact_at(0x1ffe, &mut [0u8; 4]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotPresent {
                    pid: 7,
                    vaddr: 0x2000
                }
            ),
            "{err}"
        );
        assert!(matches!(
            mem.read_c_strings(0x2000, 0x1000),
            Err(Error::BadArea { .. })
        ));
        assert!(matches!(
            mem.read_c_strings(0, MAX_STRINGS_AREA + 1),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn read_present_splits_holes() {
        let mut mem = memory();
        let pieces = mem.read_present(0x1ffe, 0x2004).unwrap();
        let shape: Vec<(u64, u64, bool)> = pieces
            .iter()
            .map(|p| (p.vaddr, p.len, p.bytes.is_some()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (0x1ffe, 2, true),
                (0x2000, 0x2000, false),
                (0x4000, 2, true)
            ]
        );
        assert_eq!(pieces[2].bytes.as_deref(), Some(&b"oo"[..]));
    }

    #[test]
    fn runs_outside_the_pages_file_are_rejected() {
        let runs = vec![PresentRun {
            vaddr: 0x1000,
            len: 0x2000,
            pages_offset: 0,
        }];
        let layout = MemoryLayout::build(&[], &NamingContext::default(), runs);
        let err = ProcessMemory::from_parts(
            1,
            layout,
            Box::new(Cursor::new(vec![0u8; 0x1000])),
            "pages-9.img".into(),
            0x1000,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pages-9.img: the pagemap puts 0x2000 bytes of address 0x1000 at offset 0x0, but the file has 0x1000 bytes"
        );
    }

    #[test]
    fn copy_run_streams_bytes() {
        let mut mem = memory();
        let run = mem.layout().runs()[1];
        let mut out = Vec::new();
        mem.copy_run(&run, &mut out).unwrap();
        assert_eq!(out.len(), 0x1000);
        assert_eq!(&out[..4], b"oot\0");
    }
}

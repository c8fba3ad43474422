//! A pagemap image as runs of pages, laid over the raw `pages-<pages_id>.img`.
//!
//! `pagemap-<pid>.img` holds a `pagemap_head { pages_id }` and then one `pagemap_entry` per run
//! of pages: `vaddr` (field 1), `compat_nr_pages` (2), `in_parent` (3), `flags` (4), `nr_pages`
//! (5).
//!
//! # Page count: field 5, else field 2
//! CRIU >= 4.2 writes the page count in field 5 (`nr_pages`) and leaves field 2 at 0; older CRIU
//! writes only field 2. The count of a run is field 5 when it is present, else field 2. (Tools
//! that read only one of them see empty runs in the other version's images.)
//!
//! # Where the bytes are
//! Only runs with [`PE_PRESENT`] have their contents in `pages-<pages_id>.img`, stored back to
//! back in pagemap order; so the file offset of a present run is the sum of the sizes of the
//! present runs before it. [`PE_LAZY`] may come together with [`PE_PRESENT`] (then the pages are
//! in the file too). Runs with only [`PE_PARENT`] or [`PE_LAZY`] have no bytes here (they are in
//! a parent checkpoint or were left for lazy restore). Images without `flags` (CRIU before 3.x
//! had `in_parent`) count as present unless `in_parent` is set.

use super::image::entries;
use super::messages::{PagemapEntry, PagemapHead};
use super::{Error, Magic, Problem};

/// Page contents are in a parent checkpoint's pages.
pub const PE_PARENT: u32 = 1;
/// Pages left for lazy restore.
pub const PE_LAZY: u32 = 2;
/// Page contents are in this checkpoint's `pages-<pages_id>.img`.
pub const PE_PRESENT: u32 = 4;
/// Page size of the architectures CRIU dumps here (x86_64; aarch64 with 4 KiB pages).
pub const PAGE_SIZE: u64 = 4096;

/// One run of pages of a pagemap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRun {
    /// First virtual address of the run.
    pub vaddr: u64,
    /// Number of pages: field 5 when present, else field 2.
    pub nr_pages: u64,
    /// `PE_*` flags.
    pub flags: u32,
    /// Byte offset of the run's contents in `pages-<pages_id>.img`; `None` unless present.
    pub pages_offset: Option<u64>,
}

impl PageRun {
    /// One past the last virtual address of the run.
    pub fn end(&self) -> u64 {
        self.vaddr + self.nr_pages * PAGE_SIZE
    }

    /// Size of the run in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.nr_pages * PAGE_SIZE
    }
}

/// Where one virtual address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLocation<'a> {
    /// The run holding the address.
    pub run: &'a PageRun,
    /// Index of the run in [`PageMap::runs`].
    pub index: usize,
    /// Byte offset of the address in `pages-<pages_id>.img`, `None` when the run is not present.
    pub file_offset: Option<u64>,
}

/// A decoded pagemap image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageMap {
    /// The `<id>` of the `pages-<id>.img` holding the present runs.
    pub pages_id: u32,
    /// The runs, in image order (sorted by `vaddr`, not overlapping).
    pub runs: Vec<PageRun>,
}

impl PageMap {
    /// Decodes a pagemap image. Errors name `file_name` and the entry's offset; runs that are
    /// empty, not page-aligned, out of order, overlapping, or past the address space are errors
    /// too, and so is a pagemap of more than [`super::budget::MAX_ENTRIES`] runs.
    pub fn decode(file_name: &str, bytes: &[u8]) -> Result<PageMap, Error> {
        let mut iter = entries(file_name, bytes)?;
        if iter.magic() != Magic::Pagemap {
            return Err(Error::WrongMagic {
                file: file_name.to_owned(),
                offset: iter.magic_offset(),
                found: iter.magic(),
                expected: Magic::Pagemap,
            });
        }
        let invalid = |entry: u64, offset: u64, problem: Problem| Error::Entry {
            file: file_name.to_owned(),
            entry,
            offset,
            problem,
        };
        let head = match iter.next() {
            Some(raw) => {
                let raw = raw?;
                <PagemapHead as prost::Message>::decode(raw.payload).map_err(|source| {
                    invalid(
                        raw.index,
                        raw.offset,
                        Problem::Decode {
                            message: "pagemap_head",
                            source,
                        },
                    )
                })?
            }
            None => {
                return Err(invalid(
                    0,
                    bytes.len() as u64,
                    Problem::Invalid("pagemap has no pagemap_head".into()),
                ))
            }
        };
        let mut runs = Vec::new();
        let mut next_offset: u64 = 0;
        let mut prev_end: u64 = 0;
        for raw in iter {
            let raw = raw?;
            let entry =
                <PagemapEntry as prost::Message>::decode(raw.payload).map_err(|source| {
                    invalid(
                        raw.index,
                        raw.offset,
                        Problem::Decode {
                            message: "pagemap_entry",
                            source,
                        },
                    )
                })?;
            let nr_pages = entry.nr_pages.unwrap_or(u64::from(entry.compat_nr_pages));
            let flags = entry.flags.unwrap_or(if entry.in_parent == Some(true) {
                PE_PARENT
            } else {
                PE_PRESENT
            });
            if runs.len() as u64 >= super::budget::MAX_ENTRIES {
                return Err(invalid(
                    raw.index,
                    raw.offset,
                    Problem::TooManyEntries {
                        limit: super::budget::MAX_ENTRIES,
                    },
                ));
            }
            if nr_pages == 0 {
                return Err(invalid(
                    raw.index,
                    raw.offset,
                    Problem::Invalid(format!("run at 0x{:x} holds no pages", entry.vaddr)),
                ));
            }
            if !entry.vaddr.is_multiple_of(PAGE_SIZE) {
                return Err(invalid(
                    raw.index,
                    raw.offset,
                    Problem::Invalid(format!(
                        "run at 0x{:x} does not start on a page boundary",
                        entry.vaddr
                    )),
                ));
            }
            let end = nr_pages
                .checked_mul(PAGE_SIZE)
                .and_then(|len| entry.vaddr.checked_add(len))
                .ok_or_else(|| {
                    invalid(
                        raw.index,
                        raw.offset,
                        Problem::Invalid(format!(
                            "run at 0x{:x} of {nr_pages} pages overflows the address space",
                            entry.vaddr
                        )),
                    )
                })?;
            if entry.vaddr < prev_end {
                return Err(invalid(
                    raw.index,
                    raw.offset,
                    Problem::Invalid(format!(
                        "run at 0x{:x} starts before the previous run ends (0x{prev_end:x})",
                        entry.vaddr
                    )),
                ));
            }
            prev_end = end;
            let pages_offset = if flags & PE_PRESENT != 0 {
                let here = next_offset;
                next_offset = next_offset.checked_add(end - entry.vaddr).ok_or_else(|| {
                    invalid(
                        raw.index,
                        raw.offset,
                        Problem::Invalid("present pages overflow a 64-bit file offset".into()),
                    )
                })?;
                Some(here)
            } else {
                None
            };
            runs.push(PageRun {
                vaddr: entry.vaddr,
                nr_pages,
                flags,
                pages_offset,
            });
        }
        Ok(PageMap {
            pages_id: head.pages_id,
            runs,
        })
    }

    /// The run holding `vaddr` and the address's offset in the pages file (binary search).
    pub fn locate(&self, vaddr: u64) -> Option<PageLocation<'_>> {
        let index = self.runs.partition_point(|run| run.end() <= vaddr);
        let run = self.runs.get(index)?;
        if vaddr < run.vaddr {
            return None;
        }
        Some(PageLocation {
            run,
            index,
            file_offset: run.pages_offset.map(|base| base + (vaddr - run.vaddr)),
        })
    }

    /// Bytes of page contents this pagemap has in `pages-<pages_id>.img` (its expected size).
    pub fn present_bytes(&self) -> u64 {
        self.runs
            .iter()
            .filter(|run| run.pages_offset.is_some())
            .map(PageRun::len_bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::PagemapHead;

    fn image(runs: &[PagemapEntry]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&crate::IMG_COMMON.to_le_bytes());
        out.extend_from_slice(&Magic::Pagemap.value().to_le_bytes());
        let head = PagemapHead { pages_id: 7 };
        let mut push = |m: &dyn Fn(&mut Vec<u8>) -> usize| {
            let mut body = Vec::new();
            let len = m(&mut body);
            out.extend_from_slice(&(len as u32).to_le_bytes());
            out.extend_from_slice(&body);
        };
        push(&|b| {
            prost::Message::encode_raw(&head, b);
            b.len()
        });
        for run in runs {
            push(&|b| {
                prost::Message::encode_raw(run, b);
                b.len()
            });
        }
        out
    }

    fn run(vaddr: u64, compat: u32, flags: u32, nr: Option<u64>) -> PagemapEntry {
        PagemapEntry {
            vaddr,
            compat_nr_pages: compat,
            in_parent: None,
            flags: Some(flags),
            nr_pages: nr,
        }
    }

    #[test]
    fn field_5_else_field_2_and_offsets() {
        let bytes = image(&[
            run(0x1000, 0, PE_PRESENT, Some(2)),
            run(0x4000, 3, PE_PARENT, None),
            run(0x10000, 1, PE_LAZY | PE_PRESENT, None),
            run(0x20000, 0, PE_LAZY, Some(5)),
        ]);
        let map = PageMap::decode("pagemap-1.img", &bytes).unwrap();
        assert_eq!(map.pages_id, 7);
        let counts: Vec<_> = map.runs.iter().map(|r| r.nr_pages).collect();
        assert_eq!(counts, [2, 3, 1, 5]);
        let offsets: Vec<_> = map.runs.iter().map(|r| r.pages_offset).collect();
        assert_eq!(offsets, [Some(0), None, Some(0x2000), None]);
        assert_eq!(map.present_bytes(), 3 * PAGE_SIZE);

        let table = [
            (0x0fff, None),
            (0x1000, Some((0, Some(0)))),
            (0x2abc, Some((0, Some(0x1abc)))),
            (0x3000, None),
            (0x4010, Some((1, None))),
            (0x10008, Some((2, Some(0x2008)))),
            (0x11000, None),
            (0x24fff, Some((3, None))),
            (0x25000, None),
        ];
        for (vaddr, want) in table {
            let got = map.locate(vaddr).map(|l| (l.index, l.file_offset));
            assert_eq!(got, want, "vaddr 0x{vaddr:x}");
        }
    }

    #[test]
    fn rejects_overlap_and_overflow() {
        let bytes = image(&[
            run(0x1000, 0, PE_PRESENT, Some(2)),
            run(0x2000, 0, PE_PRESENT, Some(1)),
        ]);
        let err = PageMap::decode("pagemap-1.img", &bytes)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("pagemap-1.img: entry 2 at byte 0x"),
            "{err}"
        );
        assert!(err.contains("starts before the previous run ends"), "{err}");

        let bytes = image(&[run(u64::MAX - 0xfff, 0, PE_PRESENT, Some(2))]);
        let err = PageMap::decode("pagemap-1.img", &bytes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("overflows the address space"), "{err}");
    }
}

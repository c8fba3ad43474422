//! Report structs of the memory views, built from [`ProcessMemory`]: per-process summaries,
//! search hits, the map of a raw dump, hexdump lines. `output::memory` renders them.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::Error;
use checkpoint_model::dump::{ProcessMemory, Source};
use checkpoint_model::sparse::SparseWriter;

/// Formats an address as `0x...` (the `address` fields of reports).
pub fn hex_address(vaddr: u64) -> String {
    format!("{vaddr:#x}")
}

/// Bytes as text: printable ASCII kept, everything else as `.`.
pub fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// Memory summary of one process (`--memory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySummary {
    /// The checkpoint (archive or directory) as given.
    pub checkpoint: String,
    /// Process id.
    pub pid: u32,
    /// Command name (`comm`).
    pub command: String,
    /// Number of VMAs.
    pub vmas: usize,
    /// Sum of VMA sizes in bytes.
    pub vma_bytes: u64,
    /// Bytes the checkpoint holds (present pages, private and shared).
    pub present_bytes: u64,
    /// Sum of the sizes of shared VMAs in bytes.
    pub shared_bytes: u64,
    /// Present bytes of shared memory (anonymous shared, memfd, SysV) mapped by the process:
    /// stored once in the checkpoint for every process that maps them.
    #[serde(default)]
    pub shared_present_bytes: u64,
    /// Present bytes of the process's own (private) pages, in its own pages file.
    #[serde(default)]
    pub own_present_bytes: u64,
    /// Present bytes inside `[heap]`.
    pub heap_present_bytes: u64,
    /// Present bytes inside `[stack]`.
    pub stack_present_bytes: u64,
    /// The pages file.
    pub pages_file: String,
}

/// Builds the summary of one process.
pub fn build_summary(memory: &ProcessMemory, checkpoint: &str, command: &str) -> MemorySummary {
    let layout = memory.layout();
    let present_in = |name: &str| -> u64 {
        layout
            .vmas()
            .iter()
            .filter(|vma| &*vma.name == name)
            .map(|vma| memory.present_bytes_in(vma.start, vma.end))
            .fold(0u64, u64::saturating_add)
    };
    MemorySummary {
        checkpoint: checkpoint.to_owned(),
        pid: memory.pid(),
        command: command.to_owned(),
        vmas: layout.vmas().len(),
        vma_bytes: layout.vma_bytes(),
        present_bytes: memory.present_bytes(),
        shared_bytes: layout
            .vmas()
            .iter()
            .filter(|vma| vma.is_shared())
            .fold(0u64, |sum, vma| sum.saturating_add(vma.size())),
        shared_present_bytes: memory
            .stretches()
            .iter()
            .filter(|s| matches!(s.source, Source::Shared(_)))
            .fold(0u64, |sum, s| sum.saturating_add(s.len)),
        own_present_bytes: memory
            .stretches()
            .iter()
            .filter(|s| s.source == Source::Private)
            .fold(0u64, |sum, s| sum.saturating_add(s.len)),
        heap_present_bytes: present_in("[heap]"),
        stack_present_bytes: present_in("[stack]"),
        pages_file: memory.pages_name().to_owned(),
    }
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// Process id.
    pub pid: u32,
    /// Command name (`comm`).
    pub command: String,
    /// Virtual address of the first matched byte, `0x...`.
    pub address: String,
    /// The same address as a number.
    pub vaddr: u64,
    /// The VMA holding the address: `[heap]`, `[stack]`, a file path, `[anon]`, ...
    pub vma: String,
    /// Start of that VMA, `0x...` (empty if no VMA holds the address).
    pub vma_start: String,
    /// Offset of the match inside its VMA.
    pub offset: u64,
    /// The pages file holding the bytes.
    pub pages_file: String,
    /// Byte offset of the match in the pages file.
    pub pages_offset: u64,
    /// The matched bytes, printable.
    pub matched: String,
    /// Context before, the match, and context after, printable.
    pub context: String,
}

/// Per-process totals of a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSearched {
    /// Process id.
    pub pid: u32,
    /// Command name.
    pub command: String,
    /// Present bytes searched.
    pub bytes: u64,
    /// Matches found.
    pub matches: u64,
    /// Why the process could not be searched (its other fields are then 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of a search over one or more processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchReport {
    /// The checkpoint (archive or directory) as given.
    pub checkpoint: String,
    /// The search string or regex.
    pub pattern: String,
    /// True for `--search-regex`.
    pub regex: bool,
    /// Context bytes on each side.
    pub context: usize,
    /// The processes searched, in pstree order.
    pub processes: Vec<ProcessSearched>,
    /// All hits, by process then address order within each contiguous segment.
    pub matches: Vec<SearchHit>,
    /// Hits in the data the checkpoint stores outside process memory (pipe and socket queues,
    /// deleted files, unmapped shared memory, the files of rootfs-diff.tar), by source.
    #[serde(default)]
    pub stored_matches: Vec<StoredHit>,
    /// True when the search stopped at its match limit (`--max-matches`); more may exist.
    #[serde(default)]
    pub truncated: bool,
}

/// One hit in stored data: not at a virtual address, but at an offset of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHit {
    /// Where the bytes were: `pipe:[117990] unread data`, `tcp A -> B receive queue`,
    /// `ghost /srv/app/cache.db (deleted)`, `rootfs-diff /etc/app.conf`, ...
    pub source: String,
    /// `pipe-data`, `unix-queue`, `tcp-receive-queue`, `tcp-send-queue`, `ghost-file`,
    /// `shared-memory` or `rootfs-diff`.
    pub kind: String,
    /// Offset of the first matched byte in that source.
    pub offset: u64,
    /// The matched bytes, printable.
    pub matched: String,
    /// Context before, the match, and context after, printable.
    pub context: String,
}

/// One range of a raw memory dump: `len` bytes of memory at `address` are at `file_offset` in
/// the dump file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpRange {
    /// Offset in the dump file.
    pub file_offset: u64,
    /// Virtual address, `0x...`.
    pub address: String,
    /// The same address as a number.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// The VMA holding the range.
    pub vma: String,
}

/// The result of `--dump-memory`: where each present range went in the dump file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpReport {
    /// Process id.
    pub pid: u32,
    /// Command name.
    pub command: String,
    /// The dump file.
    pub file: String,
    /// Bytes written (the file's length).
    pub bytes: u64,
    /// Bytes of those that took disk space (written as data).
    #[serde(default)]
    pub data_bytes: u64,
    /// Bytes of those that were zero blocks, left as holes (no disk space).
    #[serde(default)]
    pub hole_bytes: u64,
    /// The ranges, in address order, back to back in the file.
    pub ranges: Vec<DumpRange>,
}

/// Writes all present memory of the process (private and shared) to `out`, stretch after
/// stretch in address order, and returns the map: one range per stretch of present memory that
/// is contiguous and in one VMA.
pub fn write_dump(
    memory: &ProcessMemory,
    command: &str,
    file: &str,
    out: &mut dyn Write,
) -> Result<DumpReport, Error> {
    let layout = memory.layout();
    let mut ranges: Vec<DumpRange> = Vec::new();
    let mut written = 0u64;
    for stretch in memory.stretches() {
        let vma = layout
            .vma_at(stretch.vaddr)
            .map_or_else(|| "[none]".to_owned(), |v| v.name.to_string());
        memory.copy_stretch(stretch, out)?;
        match ranges.last_mut() {
            Some(last) if last.vaddr + last.len == stretch.vaddr && last.vma == vma => {
                last.len += stretch.len
            }
            _ => ranges.push(DumpRange {
                file_offset: written,
                address: hex_address(stretch.vaddr),
                vaddr: stretch.vaddr,
                len: stretch.len,
                vma,
            }),
        }
        written += stretch.len;
    }
    out.flush().map_err(Error::Write)?;
    Ok(DumpReport {
        pid: memory.pid(),
        command: command.to_owned(),
        file: file.to_owned(),
        bytes: written,
        data_bytes: written,
        hole_bytes: 0,
        ranges,
    })
}

/// Writes all present memory of the process into `out`, a new empty file named `file` in
/// messages, as [`write_dump`] does, but sparsely and within the free space of its file system
/// (see [`checkpoint_model::sparse`]): zero pages are holes, and data that would leave less
/// than the file system's margin free stops the dump with an error (inside
/// [`Error::Write`]) saying what was written. The report says how much is data and how much
/// holes.
pub fn write_dump_file(
    memory: &ProcessMemory,
    command: &str,
    file: &str,
    out: &std::fs::File,
) -> Result<DumpReport, Error> {
    let mut writer = SparseWriter::new(out);
    let mut report = write_dump(memory, command, file, &mut writer)?;
    writer.set_len(writer.position()).map_err(Error::Write)?;
    let written = writer.written();
    report.data_bytes = written.data_bytes;
    report.hole_bytes = written.hole_bytes;
    Ok(report)
}

/// Bytes per hexdump line.
pub const HEX_LINE: u64 = 16;

/// One hexdump line: 16 bytes (or fewer at the end), or an absent range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HexLine {
    /// Address of the first byte, `0x...`.
    pub address: String,
    /// Number of bytes the line covers.
    pub len: u64,
    /// Hex bytes separated by spaces; `None` when the checkpoint holds no page here.
    pub hex: Option<String>,
    /// The bytes as printable text; `None` when absent.
    pub ascii: Option<String>,
}

/// The result of `--hexdump`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HexdumpReport {
    /// Process id.
    pub pid: u32,
    /// Command name.
    pub command: String,
    /// First address, `0x...`.
    pub address: String,
    /// Length in bytes.
    pub len: u64,
    /// The VMA holding the first address.
    pub vma: String,
    /// The lines; an absent range is one line however long.
    pub lines: Vec<HexLine>,
}

/// Longest `--hexdump` length.
pub const MAX_HEXDUMP: u64 = 16 << 20;

/// Builds a hexdump of `len` bytes at `vaddr`: every byte the checkpoint holds there (pages,
/// and the stored contents of a deleted file a mapping shows), and the ranges it holds no byte
/// of as absent lines, never as zeros.
pub fn build_hexdump(
    memory: &ProcessMemory,
    command: &str,
    vaddr: u64,
    len: u64,
) -> Result<HexdumpReport, Error> {
    if len > MAX_HEXDUMP {
        return Err(Error::TooLarge {
            what: "hexdump",
            len,
            limit: MAX_HEXDUMP,
        });
    }
    let vma = memory
        .layout()
        .vma_at(vaddr)
        .map_or_else(|| "[none]".into(), |v| v.name.to_string());
    let mut lines = Vec::new();
    for piece in memory.read_held(vaddr, len)? {
        match piece.bytes {
            None => lines.push(HexLine {
                address: hex_address(piece.vaddr),
                len: piece.len,
                hex: None,
                ascii: None,
            }),
            Some(bytes) => {
                for (idx, chunk) in bytes.chunks(HEX_LINE as usize).enumerate() {
                    let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                    lines.push(HexLine {
                        address: hex_address(piece.vaddr + idx as u64 * HEX_LINE),
                        len: chunk.len() as u64,
                        hex: Some(hex.join(" ")),
                        ascii: Some(printable(chunk)),
                    });
                }
            }
        }
    }
    Ok(HexdumpReport {
        pid: memory.pid(),
        command: command.to_owned(),
        address: hex_address(vaddr),
        len,
        vma,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_masks_control_bytes() {
        assert_eq!(printable(b"ab\0c\x7f\xff~ "), "ab.c..~ ");
        assert_eq!(hex_address(0x7ffc_ea80_0f7e), "0x7ffcea800f7e");
    }
}

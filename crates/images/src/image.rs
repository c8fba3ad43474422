//! The framing of CRIU image files, and typed reading through [`CriuMessage`].
//!
//! ```text
//! IMAGE ::= [IMG_COMMON | IMG_SERVICE] MAGIC { ENTRY }      (inventory.img: MAGIC only)
//! ENTRY ::= u32-le LENGTH, protobuf PAYLOAD of LENGTH bytes, [EXTRA raw bytes]
//! ```
//!
//! Which entries carry EXTRA bytes, and how many, depends on the image type and the payload:
//! pipes-data and fifo-data (`bytes`), sk-queues (`length`), tcp-stream (`inq_len + outq_len`),
//! bpfmap-data (`keys_bytes + values_bytes`), SysV IPC shm/sem/msg (rounded sizes), ghost files
//! (the rest of the file, or `len` after each chunk entry). [`Entries`] knows these rules.

use super::budget::{count_repeated, max_entries, MAX_REPEATED_ELEMENTS};
use super::magic::{Magic, IMG_COMMON, IMG_SERVICE};
use super::schema::Described;
use super::wire;
use super::{Error, Problem};

/// A top-level entry type of an image file.
pub trait CriuMessage: prost::Message + Default + Described {
    /// The magic of the image file that holds entries of this type.
    const MAGIC: Magic;
    /// How many leading entries of the image are of another type and are skipped
    /// (1 for [`PagemapEntry`](super::messages::PagemapEntry): the pagemap head).
    const SKIP: usize = 0;

    /// Other image types whose entries are of this type too (fifo-data images hold
    /// [`PipeDataEntry`](super::messages::PipeDataEntry)s, as pipes-data images do).
    const ALSO: &'static [Magic] = &[];

    /// Whether an image with this magic holds entries of this type: [`Self::MAGIC`] or one of
    /// [`Self::ALSO`]. Which of them a file must be is for its reader to say (a `fifo-data.img`
    /// that holds a PIPES_DATA image is not a FIFO's data).
    fn accepts(magic: Magic) -> bool {
        magic == Self::MAGIC || Self::ALSO.contains(&magic)
    }
}

/// One entry of an image, borrowed from the image bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEntry<'a> {
    /// Index of the entry in the image, from 0.
    pub index: u64,
    /// Byte offset of the entry's length word in the file.
    pub offset: u64,
    /// The protobuf message.
    pub payload: &'a [u8],
    /// Raw bytes that follow the message (pipe contents, ...), empty for most image types.
    pub extra: &'a [u8],
}

/// Reads the magic word(s): the image type and the offset of the first entry.
pub fn read_header(file_name: &str, bytes: &[u8]) -> Result<(Magic, usize), Error> {
    let first = read_u32(file_name, bytes, 0)?;
    let (magic, offset, len) = if first == IMG_COMMON || first == IMG_SERVICE {
        (read_u32(file_name, bytes, 4)?, 4, 8)
    } else {
        (first, 0, 4)
    };
    match Magic::from_u32(magic) {
        Some(found) => Ok((found, len)),
        None => Err(Error::UnknownMagic {
            file: file_name.to_owned(),
            offset,
            magic,
        }),
    }
}

fn read_u32(file_name: &str, bytes: &[u8], offset: usize) -> Result<u32, Error> {
    match bytes.get(offset..offset + 4) {
        Some(&[a, b, c, d]) => Ok(u32::from_le_bytes([a, b, c, d])),
        _ => Err(Error::TruncatedHeader {
            file: file_name.to_owned(),
            offset: offset as u64,
            need: 4,
            left: bytes.len().saturating_sub(offset) as u64,
        }),
    }
}

/// The entries of an image, after its header has been checked.
pub fn entries<'a>(file_name: &'a str, bytes: &'a [u8]) -> Result<Entries<'a>, Error> {
    let (magic, start) = read_header(file_name, bytes)?;
    Ok(Entries {
        file_name,
        magic,
        bytes,
        magic_offset: start.saturating_sub(4) as u64,
        pos: start,
        index: 0,
        failed: false,
        ghost_chunks: false,
    })
}

/// Iterator over the entries of one image. After the first error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    file_name: &'a str,
    magic: Magic,
    bytes: &'a [u8],
    magic_offset: u64,
    pos: usize,
    index: u64,
    failed: bool,
    ghost_chunks: bool,
}

impl<'a> Entries<'a> {
    /// The image type.
    pub fn magic(&self) -> Magic {
        self.magic
    }

    /// Offset of the magic word that names the image type (4 after `IMG_COMMON`, 0 for
    /// inventory.img).
    pub fn magic_offset(&self) -> u64 {
        self.magic_offset
    }

    /// The file name used in errors.
    pub fn file_name(&self) -> &'a str {
        self.file_name
    }

    fn error(&mut self, offset: usize, problem: Problem) -> Error {
        self.failed = true;
        Error::Entry {
            file: self.file_name.to_owned(),
            entry: self.index,
            offset: offset as u64,
            problem,
        }
    }

    /// Length of the raw bytes after the payload of the current entry.
    fn extra_len(&mut self, payload: &[u8], rest: &[u8]) -> Result<u64, Problem> {
        let field = |tag: u32, message: &'static str| -> Result<u64, Problem> {
            wire::varint_field(payload, tag)
                .map(|v| v.unwrap_or(0))
                .map_err(|source| Problem::Wire { message, source })
        };
        Ok(match self.magic {
            Magic::PipesData | Magic::FifoData => field(2, "pipe_data_entry")? & 0xffff_ffff,
            Magic::SkQueues => field(2, "sk_packet_entry")? & 0xffff_ffff,
            Magic::TcpStream => {
                (field(1, "tcp_stream_entry")? & 0xffff_ffff)
                    + (field(3, "tcp_stream_entry")? & 0xffff_ffff)
            }
            Magic::BpfmapData => {
                (field(2, "bpfmap_data_entry")? & 0xffff_ffff)
                    + (field(3, "bpfmap_data_entry")? & 0xffff_ffff)
            }
            // With `in_pagemaps` (what CRIU 4 writes) the segment's pages are in
            // pagemap-shmem-ID.img and nothing follows the entry; older images carry `size`
            // bytes inline, padded to 4.
            Magic::IpcnsShm if field(3, "ipc_shm_entry")? != 0 => 0,
            Magic::IpcnsShm => round_up(field(2, "ipc_shm_entry")?, 4),
            Magic::IpcnsSem => round_up((field(2, "ipc_sem_entry")? & 0xffff_ffff) * 2, 8),
            Magic::IpcnsMsg => ipc_msg_extra_len(field(3, "ipc_msg_entry")? & 0xffff_ffff, rest)?,
            Magic::GhostFile if self.index == 0 => {
                self.ghost_chunks = field(9, "ghost_file_entry")? != 0;
                if self.ghost_chunks {
                    0
                } else {
                    rest.len() as u64
                }
            }
            Magic::GhostFile if self.ghost_chunks => field(1, "ghost_chunk_entry")?,
            _ => 0,
        })
    }
}

fn round_up(value: u64, to: u64) -> u64 {
    value.div_ceil(to).saturating_mul(to)
}

/// The messages of a SysV message queue: `qnum` times (u32 length, `ipc_msg`, `msize` bytes
/// padded to 8).
fn ipc_msg_extra_len(qnum: u64, rest: &[u8]) -> Result<u64, Problem> {
    let mut pos: u64 = 0;
    for _ in 0..qnum {
        let at = usize::try_from(pos).unwrap_or(usize::MAX);
        let Some(&[a, b, c, d]) = rest.get(at..at.saturating_add(4)) else {
            return Err(Problem::Invalid(format!(
                "message queue cut short at extra byte {pos}"
            )));
        };
        let len = u64::from(u32::from_le_bytes([a, b, c, d]));
        let msg_start = at + 4;
        let msg = usize::try_from(len)
            .ok()
            .and_then(|len| rest.get(msg_start..msg_start.checked_add(len)?))
            .ok_or_else(|| {
                Problem::Invalid(format!(
                    "queued message of {len} bytes at extra byte {pos} is cut short"
                ))
            })?;
        let msize = wire::varint_field(msg, 2)
            .map_err(|source| Problem::Wire {
                message: "ipc_msg",
                source,
            })?
            .unwrap_or(0)
            & 0xffff_ffff;
        pos = pos + 4 + len + round_up(msize, 8);
    }
    Ok(pos)
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<RawEntry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let Some(&[a, b, c, d]) = rest.get(..4) else {
            let left = rest.len() as u64;
            return Some(Err(self.error(start, Problem::TruncatedLength { left })));
        };
        let length = u64::from(u32::from_le_bytes([a, b, c, d]));
        let after_len = rest.get(4..).unwrap_or_default();
        let payload = match usize::try_from(length)
            .ok()
            .and_then(|n| after_len.get(..n))
        {
            Some(payload) => payload,
            None => {
                let left = after_len.len() as u64;
                return Some(Err(self.error(start, Problem::Length { length, left })));
            }
        };
        let after_payload = after_len.get(payload.len()..).unwrap_or_default();
        let extra_len = match self.extra_len(payload, after_payload) {
            Ok(n) => n,
            Err(problem) => return Some(Err(self.error(start, problem))),
        };
        let Some(extra) = usize::try_from(extra_len)
            .ok()
            .and_then(|n| after_payload.get(..n))
        else {
            let left = after_payload.len() as u64;
            return Some(Err(self.error(
                start,
                Problem::ExtraLength {
                    length: extra_len,
                    left,
                },
            )));
        };
        let entry = RawEntry {
            index: self.index,
            offset: start as u64,
            payload,
            extra,
        };
        self.pos = start + 4 + payload.len() + extra.len();
        self.index += 1;
        Some(Ok(entry))
    }
}

/// Decodes every entry of an image of type `M`, checking the magic first.
///
/// Errors name `file_name` and the offset of the entry that failed. At most
/// [`max_entries`]`(size_of::<M>())` entries are decoded (see [`super::budget`]); use
/// [`for_each_entry`] to visit larger images one entry at a time.
pub fn read_entries<M: CriuMessage>(file_name: &str, bytes: &[u8]) -> Result<Vec<M>, Error> {
    let cap = max_entries(std::mem::size_of::<M>());
    let mut out = Vec::new();
    for_each_entry::<M, Error>(file_name, bytes, |index, offset, message| {
        if index >= cap {
            return Err(Error::Entry {
                file: file_name.to_owned(),
                entry: index,
                offset,
                problem: Problem::TooManyEntries { limit: cap },
            });
        }
        out.push(message);
        Ok(())
    })?;
    Ok(out)
}

/// Decodes the first entry of an image of type `M` (checking the magic), leaving the rest
/// undecoded; `None` when the image holds no entry.
pub fn first_entry<M: CriuMessage>(file_name: &str, bytes: &[u8]) -> Result<Option<M>, Error> {
    let mut iter = typed_entries::<M>(file_name, bytes)?.skip(M::SKIP);
    match iter.next() {
        Some(entry) => decode_entry::<M>(file_name, &entry?).map(Some),
        None => Ok(None),
    }
}

/// Where the raw bytes after an entry lie in its file, as (offset, length).
pub type ExtraSpan = (u64, u64);

/// Like [`first_entry`], with where the raw bytes after the entry lie in the file: a TCP
/// stream's queues, a ghost file's contents.
pub fn first_entry_with_extra<M: CriuMessage>(
    file_name: &str,
    bytes: &[u8],
) -> Result<Option<(M, ExtraSpan)>, Error> {
    let mut iter = typed_entries::<M>(file_name, bytes)?.skip(M::SKIP);
    let Some(entry) = iter.next() else {
        return Ok(None);
    };
    let entry = entry?;
    let message = decode_entry::<M>(file_name, &entry)?;
    let extra_at = entry.offset + 4 + entry.payload.len() as u64;
    Ok(Some((message, (extra_at, entry.extra.len() as u64))))
}

/// Decodes the entries of an image of type `M` one at a time, checking the magic first, and
/// hands each to `visit` with its index and byte offset; `visit` may stop the walk with an
/// error of its own type.
///
/// Before prost decodes an entry, the elements of its repeated fields are counted on the wire
/// and an entry with more than [`MAX_REPEATED_ELEMENTS`] is refused, so no entry allocates more
/// than its bytes justify.
pub fn for_each_entry<M: CriuMessage, E: From<Error>>(
    file_name: &str,
    bytes: &[u8],
    mut visit: impl FnMut(u64, u64, M) -> Result<(), E>,
) -> Result<(), E> {
    for entry in typed_entries::<M>(file_name, bytes)?.skip(M::SKIP) {
        let entry = entry?;
        let message = decode_entry::<M>(file_name, &entry)?;
        visit(entry.index, entry.offset, message)?;
    }
    Ok(())
}

/// Like [`for_each_entry`], for images whose entries carry raw bytes after the message (pipe and
/// socket queues, TCP queues, ghost file contents): `visit` also gets where those bytes lie in
/// the file, as (offset, length).
pub fn for_each_entry_with_extra<M: CriuMessage, E: From<Error>>(
    file_name: &str,
    bytes: &[u8],
    mut visit: impl FnMut(u64, u64, M, ExtraSpan) -> Result<(), E>,
) -> Result<(), E> {
    for entry in typed_entries::<M>(file_name, bytes)?.skip(M::SKIP) {
        let entry = entry?;
        let message = decode_entry::<M>(file_name, &entry)?;
        let extra_at = entry.offset + 4 + entry.payload.len() as u64;
        let extra = (extra_at, entry.extra.len() as u64);
        visit(entry.index, entry.offset, message, extra)?;
    }
    Ok(())
}

/// The entries of an image whose magic says it holds entries of type `M`.
fn typed_entries<'a, M: CriuMessage>(
    file_name: &'a str,
    bytes: &'a [u8],
) -> Result<Entries<'a>, Error> {
    let iter = entries(file_name, bytes)?;
    if !M::accepts(iter.magic()) {
        return Err(Error::WrongMagic {
            file: file_name.to_owned(),
            offset: iter.magic_offset(),
            found: iter.magic(),
            expected: M::MAGIC,
        });
    }
    Ok(iter)
}

/// Decodes one entry, after counting its repeated-field elements on the wire.
fn decode_entry<M: CriuMessage>(file_name: &str, entry: &RawEntry<'_>) -> Result<M, Error> {
    let problem = |problem| Error::Entry {
        file: file_name.to_owned(),
        entry: entry.index,
        offset: entry.offset,
        problem,
    };
    // Every repeated element takes at least one byte of the payload, so only a payload longer
    // than the limit can hold more elements than it: shorter ones need no count.
    let payload_len = u64::try_from(entry.payload.len()).unwrap_or(u64::MAX);
    if payload_len > MAX_REPEATED_ELEMENTS
        && count_repeated(entry.payload, M::schema(), MAX_REPEATED_ELEMENTS) > MAX_REPEATED_ELEMENTS
    {
        return Err(problem(Problem::TooManyElements {
            message: message_name::<M>(),
            limit: MAX_REPEATED_ELEMENTS,
        }));
    }
    M::decode(entry.payload).map_err(|source| {
        problem(Problem::Decode {
            message: message_name::<M>(),
            source,
        })
    })
}

fn message_name<M>() -> &'static str {
    let full = std::any::type_name::<M>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Encodes entries the way CRIU writes them (for tests and tools that write images): the magic
/// word(s) of `M`, then each entry's u32 length and message. Images that start with an entry of
/// another type (a pagemap's `pagemap_head`, see [`CriuMessage::SKIP`]) and entries that carry
/// extra raw bytes need those written by the caller.
pub fn encode_image<M: CriuMessage>(entries: &[M]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(first) = M::MAGIC.first_word() {
        out.extend_from_slice(&first.to_le_bytes());
    }
    out.extend_from_slice(&M::MAGIC.value().to_le_bytes());
    for entry in entries {
        let len = entry.encoded_len() as u32;
        out.extend_from_slice(&len.to_le_bytes());
        entry.encode_raw(&mut out);
    }
    out
}

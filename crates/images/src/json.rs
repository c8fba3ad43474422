//! Any CRIU image as JSON, value for value what `crit decode` prints.
//!
//! The JSON is built from the protobuf wire bytes and the field tables of
//! [`schema`](super::schema), not from the prost structs, because crit prints exactly the fields
//! that are present (proto2 `ListFields`), in field-number order. Conventions, after CRIU's
//! `lib/pycriu/images/pb2dict.py` and `images.py`:
//!
//! - enums by name, `bytes` as base64 in Python's `encodebytes` form (lines of 76 characters,
//!   each ending in `\n`), repeated fields as lists, 64-bit integers as numbers;
//! - with [`Style::Pretty`] (`crit decode --pretty`) also: `(criu).hex` integers as `"0x..."`
//!   (inherited by all fields of a message marked hex), `(criu).flags` as `"A | B"` (unknown bits
//!   as a trailing `0x...`, no bit as `""`), `(criu).dict` values by name, `(criu).dev` as
//!   `"major:minor"`, `(criu).ipadd` as a one-element list holding the address;
//! - the raw payload after an entry as `"extra"`: base64 for pipe, fifo, socket-queue and bpf
//!   map data, `{"inq", "outq"}` for TCP queues, a list of `u16` for SysV semaphores, message
//!   and data pairs for SysV message queues; ghost file contents as base64;
//! - a pagemap's first entry is its `pagemap_head`.
//!
//! `pages-*.img` holds raw page data and no header: decoding it is an [`Error::RawPages`], as crit
//! refuses it too. Strings that are not UTF-8 are shown with U+FFFD replacements.

use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::vma::{flags, prot, status};

use super::budget::MAX_NESTING;
use super::image::entries;
use super::magic::Magic;
use super::messages::{self, GhostChunkEntry, IpcMsg, PagemapEntry, PagemapHead};
use super::schema::{Described, FieldDesc, Kind, Label, Schema};
use super::wire::{self, Fields, WireError, WireValue};
use super::{Error, Problem};

/// How integers are shown: like `crit decode` (plain) or `crit decode --pretty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Integers as numbers; enums by name, bytes as base64.
    Plain,
    /// As [`Style::Plain`], plus hex strings, symbolic flags, device and address strings.
    #[default]
    Pretty,
}

/// A decoded image: its type and its entries as crit shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedImage {
    /// The image type.
    pub magic: Magic,
    /// One JSON object per entry.
    pub entries: Vec<Value>,
}

impl DecodedImage {
    /// `{"magic": NAME, "entries": [...]}`, the document `crit decode` prints.
    pub fn to_value(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("magic".into(), Value::String(self.magic.name().into()));
        doc.insert("entries".into(), Value::Array(self.entries.clone()));
        Value::Object(doc)
    }
}

/// Decodes any known image into crit's `--pretty` JSON conventions.
pub fn decode_image(file_name: &str, bytes: &[u8]) -> Result<DecodedImage, Error> {
    decode_image_with(file_name, bytes, Style::Pretty)
}

/// Decodes any known image into crit's JSON conventions, plain or pretty.
pub fn decode_image_with(
    file_name: &str,
    bytes: &[u8],
    style: Style,
) -> Result<DecodedImage, Error> {
    check_not_raw(file_name)?;
    let iter = entries(file_name, bytes)?;
    let magic = iter.magic();
    let schema = messages::entry_schema(magic).ok_or_else(|| Error::Entry {
        file: file_name.to_owned(),
        entry: 0,
        offset: 0,
        problem: Problem::Invalid(format!(
            "{magic} images have no entry schema (crit cannot decode them either)"
        )),
    })?;
    let mut out = Vec::new();
    let mut ghost_chunks = false;
    for raw in iter {
        let raw = raw?;
        let fail = |problem: Problem| Error::Entry {
            file: file_name.to_owned(),
            entry: raw.index,
            offset: raw.offset,
            problem,
        };
        let entry_schema = match magic {
            Magic::Pagemap if raw.index == 0 => PagemapHead::schema(),
            Magic::Pagemap => PagemapEntry::schema(),
            Magic::GhostFile if raw.index > 0 => GhostChunkEntry::schema(),
            _ => schema,
        };
        let wire_err = |source| {
            fail(Problem::Wire {
                message: entry_schema.name,
                source,
            })
        };
        let walk = Walk {
            style,
            root: raw.payload,
            depth: 0,
        };
        let mut object = message_json(entry_schema, raw.payload, walk, false).map_err(wire_err)?;
        if let Some(extra) = extra_json(magic, raw.index, raw.payload, raw.extra, &mut ghost_chunks)
            .map_err(|source| {
                fail(Problem::Wire {
                    message: entry_schema.name,
                    source,
                })
            })?
        {
            object.insert("extra".into(), extra);
        }
        out.push(Value::Object(object));
    }
    Ok(DecodedImage {
        magic,
        entries: out,
    })
}

/// `crit info`: the image type and the number of entries (a pagemap's head not counted).
pub fn count_entries(file_name: &str, bytes: &[u8]) -> Result<(Magic, u64), Error> {
    check_not_raw(file_name)?;
    let iter = entries(file_name, bytes)?;
    let magic = iter.magic();
    let mut count = 0u64;
    for raw in iter {
        raw?;
        count += 1;
    }
    if magic == Magic::Pagemap {
        count = count.saturating_sub(1);
    }
    Ok((magic, count))
}

/// Refuses CRIU's raw images (no magic, no entries) by name, with [`Error::RawPages`] or
/// [`Error::RawImage`], so that callers can refuse them before reading them.
pub fn check_not_raw(file_name: &str) -> Result<(), Error> {
    match raw_image_kind(file_name) {
        Some("page data") => Err(Error::RawPages {
            file: file_name.to_owned(),
        }),
        Some(what) => Err(Error::RawImage {
            file: file_name.to_owned(),
            what,
        }),
        None => Ok(()),
    }
}

/// What a raw CRIU image holds, by its file name (`RAW_IMAGE_MAGIC` images of magic.h: page
/// data, tmpfs tarballs, `ip` and iptables/nftables dumps, conntrack), `None` for other names.
pub fn raw_image_kind(file_name: &str) -> Option<&'static str> {
    let base = file_name.rsplit(['/', ':']).next().unwrap_or(file_name);
    let numbered = |prefix: &str, suffix: &str| {
        base.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    };
    let table: &[(&str, &str, &'static str)] = &[
        ("pages-", ".img", "page data"),
        ("tmpfs-dev-", ".tar.gz.img", "a tmpfs tarball"),
        ("tmpfs-", ".tar.gz.img", "a tmpfs tarball"),
        ("ifaddr-", ".img", "an `ip addr save` dump"),
        ("route-", ".img", "an `ip route save` dump"),
        ("route6-", ".img", "an `ip -6 route save` dump"),
        ("rule-", ".img", "an `ip rule save` dump"),
        ("iptables-", ".img", "iptables-save output"),
        ("ip6tables-", ".img", "ip6tables-save output"),
        ("nftables-", ".img", "an nft ruleset"),
        ("netns-ct-", ".img", "a conntrack dump"),
        ("netns-exp-", ".img", "a conntrack expectation dump"),
    ];
    table
        .iter()
        .find(|(prefix, suffix, _)| numbered(prefix, suffix))
        .map(|&(_, _, what)| what)
}

/// The raw payload of an entry as crit shows it, `None` for image types without one.
fn extra_json(
    magic: Magic,
    index: u64,
    payload: &[u8],
    extra: &[u8],
    ghost_chunks: &mut bool,
) -> Result<Option<Value>, WireError> {
    let field = |tag| wire::varint_field(payload, tag).map(|v| v.unwrap_or(0));
    Ok(Some(match magic {
        Magic::PipesData | Magic::FifoData | Magic::SkQueues | Magic::BpfmapData => {
            Value::String(encode_base64(extra))
        }
        Magic::TcpStream => {
            let inq_len = usize::try_from(field(1)? & 0xffff_ffff)
                .unwrap_or(usize::MAX)
                .min(extra.len());
            let (inq, outq) = extra.split_at(inq_len);
            let mut queues = Map::new();
            queues.insert("inq".into(), Value::String(encode_base64(inq)));
            queues.insert("outq".into(), Value::String(encode_base64(outq)));
            Value::Object(queues)
        }
        Magic::IpcnsShm => {
            let size = usize::try_from(field(2)?)
                .unwrap_or(usize::MAX)
                .min(extra.len());
            Value::String(encode_base64(extra.get(..size).unwrap_or_default()))
        }
        Magic::IpcnsSem => {
            let nsems = usize::try_from(field(2)? & 0xffff_ffff).unwrap_or(usize::MAX);
            let values = extra
                .chunks_exact(2)
                .take(nsems)
                .map(|pair| Value::from(u16::from_le_bytes([pair[0], pair[1]])))
                .collect();
            Value::Array(values)
        }
        Magic::IpcnsMsg => Value::Array(ipc_messages(extra)?),
        Magic::GhostFile if index == 0 => {
            *ghost_chunks = field(9)? != 0;
            if *ghost_chunks {
                return Ok(None);
            }
            Value::String(encode_base64(extra))
        }
        Magic::GhostFile if *ghost_chunks => Value::String(encode_base64(extra)),
        _ => return Ok(None),
    }))
}

/// SysV message queue contents: `ipc_msg` as plain JSON, then its data, for each message.
fn ipc_messages(extra: &[u8]) -> Result<Vec<Value>, WireError> {
    let mut out = Vec::new();
    let mut rest = extra;
    while let Some(&[a, b, c, d]) = rest.get(..4) {
        let len = u32::from_le_bytes([a, b, c, d]) as usize;
        let cut = WireError {
            offset: extra.len() - rest.len(),
            problem: "queued message cut short",
        };
        let msg = rest.get(4..4 + len).ok_or(cut.clone())?;
        let msize = wire::varint_field(msg, 2)?.unwrap_or(0) & 0xffff_ffff;
        let msize = usize::try_from(msize).unwrap_or(usize::MAX);
        let data_start = 4 + len;
        let data = rest
            .get(data_start..data_start.saturating_add(msize))
            .ok_or(cut)?;
        let walk = Walk {
            style: Style::Plain,
            root: msg,
            depth: 0,
        };
        out.push(Value::Object(message_json(
            IpcMsg::schema(),
            msg,
            walk,
            false,
        )?));
        out.push(Value::String(encode_base64(data)));
        let padded = msize.div_ceil(8).saturating_mul(8);
        rest = rest
            .get(data_start.saturating_add(padded)..)
            .unwrap_or_default();
    }
    Ok(out)
}

/// Where [`message_json`] is: the style, the entry's payload (for offsets of nested messages)
/// and how deep in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Walk<'a> {
    /// Plain or pretty.
    pub style: Style,
    /// The whole entry the message is part of.
    pub root: &'a [u8],
    /// Messages around this one (0 for the entry itself).
    pub depth: usize,
}

impl<'a> Walk<'a> {
    /// The walk one message deeper, into `bytes` (a part of the entry); an error naming the
    /// nested message's offset in the entry past [`MAX_NESTING`].
    fn enter(self, bytes: &[u8]) -> Result<Walk<'a>, WireError> {
        if self.depth >= MAX_NESTING {
            return Err(WireError {
                offset: bytes
                    .as_ptr()
                    .addr()
                    .saturating_sub(self.root.as_ptr().addr()),
                problem:
                    "messages nested more than 100 deep (the limit of prost and of crit's protobuf)",
            });
        }
        Ok(Walk {
            depth: self.depth + 1,
            ..self
        })
    }
}

/// One message as a JSON object, fields in field-number order, only those present; nested
/// messages at most [`MAX_NESTING`] deep.
pub(crate) fn message_json(
    schema: &'static Schema,
    bytes: &[u8],
    walk: Walk<'_>,
    hex: bool,
) -> Result<Map<String, Value>, WireError> {
    let style = walk.style;
    // Values per field of the schema, in schema order; absent fields stay None.
    let mut slots: Vec<Option<Slot<'_>>> = vec![None; schema.fields.len()];
    for field in Fields::new(bytes) {
        let (tag, value) = field?;
        let Some(index) = schema.fields.iter().position(|f| f.tag == tag) else {
            continue; // unknown field: skipped, as protobuf does
        };
        let desc = &schema.fields[index];
        let slot = &mut slots[index];
        match (desc.label, value) {
            (Label::Repeated, WireValue::Len(packed)) if is_packable(desc.kind) => {
                let list = slot.get_or_insert_with(|| Slot::List(Vec::new()));
                if let Slot::List(items) = list {
                    unpack(desc.kind, packed, items)?;
                }
            }
            (Label::Repeated, value) => {
                let list = slot.get_or_insert_with(|| Slot::List(Vec::new()));
                if let Slot::List(items) = list {
                    items.push(value);
                }
            }
            (_, WireValue::Len(part)) if matches!(desc.kind, Kind::Message(_)) => match slot {
                // A repeated occurrence of a singular message merges into it: concatenation.
                Some(Slot::Message(parts)) => parts.push(part),
                _ => *slot = Some(Slot::Message(vec![part])),
            },
            (_, value) => *slot = Some(Slot::One(value)),
        }
    }

    let mut order: Vec<usize> = (0..schema.fields.len()).collect();
    order.sort_by_key(|&i| schema.fields[i].tag);
    let mut out = Map::new();
    for index in order {
        let Some(slot) = slots[index].take() else {
            continue;
        };
        let desc = &schema.fields[index];
        let hex = hex || desc.opts.hex;
        let value = match slot {
            Slot::One(value) => field_json(desc, value, walk, hex)?,
            Slot::Message(parts) => {
                let joined;
                let bytes = if let [only] = parts.as_slice() {
                    *only
                } else {
                    joined = parts.concat();
                    joined.as_slice()
                };
                field_json(desc, WireValue::Len(bytes), walk, hex)?
            }
            Slot::List(items) => {
                if style == Style::Pretty && desc.opts.ipadd {
                    if let Some(addr) = ip_address(&items) {
                        out.insert(desc.name.into(), Value::Array(vec![Value::String(addr)]));
                        continue;
                    }
                }
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = field_json(desc, item, walk, hex)? {
                        list.push(v);
                    }
                }
                Some(Value::Array(list))
            }
        };
        if let Some(value) = value {
            out.insert(desc.name.into(), value);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Slot<'a> {
    One(WireValue<'a>),
    Message(Vec<&'a [u8]>),
    List(Vec<WireValue<'a>>),
}

fn is_packable(kind: Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

fn unpack<'a>(
    kind: Kind,
    mut packed: &'a [u8],
    items: &mut Vec<WireValue<'a>>,
) -> Result<(), WireError> {
    let total = packed.len();
    while !packed.is_empty() {
        let offset = total - packed.len();
        let cut = |problem| WireError { offset, problem };
        let value = match kind {
            Kind::Fixed32 => {
                let (word, rest) = packed
                    .split_first_chunk::<4>()
                    .ok_or(cut("packed fixed32 cut short"))?;
                packed = rest;
                WireValue::Fixed32(u32::from_le_bytes(*word))
            }
            Kind::Fixed64 => {
                let (word, rest) = packed
                    .split_first_chunk::<8>()
                    .ok_or(cut("packed fixed64 cut short"))?;
                packed = rest;
                WireValue::Fixed64(u64::from_le_bytes(*word))
            }
            _ => {
                let mut pos = 0;
                let v = wire::read_varint(packed, &mut pos).map_err(cut)?;
                packed = packed.get(pos..).unwrap_or_default();
                WireValue::Varint(v)
            }
        };
        items.push(value);
    }
    Ok(())
}

/// One value of a field; `None` when crit would not show it (an enum value the enum lacks).
fn field_json(
    desc: &FieldDesc,
    value: WireValue<'_>,
    walk: Walk<'_>,
    hex: bool,
) -> Result<Option<Value>, WireError> {
    let style = walk.style;
    let mismatch = WireError {
        offset: 0,
        problem: "wire type does not match the field type",
    };
    let int = |value: WireValue<'_>| -> Result<u64, WireError> {
        match value {
            WireValue::Varint(v) | WireValue::Fixed64(v) => Ok(v),
            WireValue::Fixed32(v) => Ok(u64::from(v)),
            WireValue::Len(_) => Err(mismatch.clone()),
        }
    };
    let number: Integer = match desc.kind {
        Kind::Message(schema) => {
            let WireValue::Len(bytes) = value else {
                return Err(mismatch);
            };
            return message_json(schema(), bytes, walk.enter(bytes)?, hex)
                .map(|m| Some(Value::Object(m)));
        }
        Kind::String => {
            let WireValue::Len(bytes) = value else {
                return Err(mismatch);
            };
            return Ok(Some(Value::String(
                String::from_utf8_lossy(bytes).into_owned(),
            )));
        }
        Kind::Bytes => {
            let WireValue::Len(bytes) = value else {
                return Err(mismatch);
            };
            let text = match desc.opts.conv {
                Some("unix_name") => encode_quoted_printable(bytes),
                _ => encode_base64(bytes),
            };
            return Ok(Some(Value::String(text)));
        }
        Kind::Bool => return Ok(Some(Value::Bool(int(value)? != 0))),
        Kind::Enum(name) => {
            let v = int(value)? as i64 as i32;
            return Ok(name(v).map(|n| Value::String(n.into())));
        }
        Kind::Uint32 | Kind::Fixed32 => Integer::Unsigned(int(value)? & 0xffff_ffff),
        Kind::Uint64 | Kind::Fixed64 => Integer::Unsigned(int(value)?),
        Kind::Int32 => Integer::Signed(i64::from(int(value)? as i32)),
        Kind::Int64 => Integer::Signed(int(value)? as i64),
        Kind::Sint32 => {
            let v = int(value)? & 0xffff_ffff;
            Integer::Signed(i64::from(((v >> 1) as i32) ^ -((v & 1) as i32)))
        }
        Kind::Sint64 => {
            let v = int(value)?;
            Integer::Signed(((v >> 1) as i64) ^ -((v & 1) as i64))
        }
    };
    Ok(Some(integer_json(desc, number, style, hex)))
}

#[derive(Debug, Clone, Copy)]
enum Integer {
    Unsigned(u64),
    Signed(i64),
}

impl Integer {
    fn json(self) -> Value {
        match self {
            Integer::Unsigned(v) => Value::Number(Number::from(v)),
            Integer::Signed(v) => Value::Number(Number::from(v)),
        }
    }

    /// Python's `"0x%x" % value`.
    fn hex(self) -> String {
        match self {
            Integer::Unsigned(v) => format!("0x{v:x}"),
            Integer::Signed(v) if v < 0 => format!("-0x{:x}", v.unsigned_abs()),
            Integer::Signed(v) => format!("0x{v:x}"),
        }
    }

    fn bits(self) -> u64 {
        match self {
            Integer::Unsigned(v) => v,
            Integer::Signed(v) => v as u64,
        }
    }
}

fn integer_json(desc: &FieldDesc, number: Integer, style: Style, hex: bool) -> Value {
    if style == Style::Plain {
        return number.json();
    }
    if hex {
        return Value::String(number.hex());
    }
    if desc.opts.dev {
        let v = number.bits();
        let (major, minor) = if desc.opts.odev {
            (
                ((v >> 8) & 0xfff) | ((v >> 32) & !0xfff),
                (v & 0xff) | ((v >> 12) & !0xff),
            )
        } else {
            (v >> 20, v & ((1 << 20) - 1))
        };
        return Value::String(format!("{major}:{minor}"));
    }
    if let Some(table) = desc.opts.flags {
        return Value::String(match flag_table(table) {
            Some(flags) => map_flags(number.bits(), flags),
            None => number.hex(),
        });
    }
    if let Some(dict) = desc.opts.dict {
        let key = match number {
            Integer::Unsigned(v) => Some(v),
            Integer::Signed(v) => u64::try_from(v).ok(),
        };
        if let Some(v) = key {
            if let Some(name) = dict_name(dict, desc.name, v) {
                return Value::String(name.into());
            }
        }
    }
    number.json()
}

/// pb2dict's `map_flags`: names of the set bits in table order, leftover bits as hex.
fn map_flags(value: u64, table: &[(&str, u64)]) -> String {
    let mut parts: Vec<String> = table
        .iter()
        .filter(|(_, bit)| value & bit != 0)
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let known: u64 = table.iter().map(|(_, bit)| bit).fold(0, |a, b| a | b);
    let rest = value & !known;
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join(" | ")
}

const MMAP_PROT: &[(&str, u64)] = &[
    ("PROT_READ", prot::PROT_READ as u64),
    ("PROT_WRITE", prot::PROT_WRITE as u64),
    ("PROT_EXEC", prot::PROT_EXEC as u64),
];
const MMAP_FLAGS: &[(&str, u64)] = &[
    ("MAP_SHARED", flags::MAP_SHARED as u64),
    ("MAP_PRIVATE", flags::MAP_PRIVATE as u64),
    ("MAP_DROPPABLE", flags::MAP_DROPPABLE as u64),
    ("MAP_ANON", flags::MAP_ANON as u64),
    ("MAP_GROWSDOWN", flags::MAP_GROWSDOWN as u64),
];
const MMAP_STATUS: &[(&str, u64)] = &[
    ("VMA_AREA_NONE", 0),
    ("VMA_AREA_REGULAR", status::VMA_AREA_REGULAR as u64),
    ("VMA_AREA_STACK", status::VMA_AREA_STACK as u64),
    ("VMA_AREA_VSYSCALL", status::VMA_AREA_VSYSCALL as u64),
    ("VMA_AREA_VDSO", status::VMA_AREA_VDSO as u64),
    ("VMA_AREA_HEAP", status::VMA_AREA_HEAP as u64),
    ("VMA_FILE_PRIVATE", status::VMA_FILE_PRIVATE as u64),
    ("VMA_FILE_SHARED", status::VMA_FILE_SHARED as u64),
    ("VMA_ANON_SHARED", status::VMA_ANON_SHARED as u64),
    ("VMA_ANON_PRIVATE", status::VMA_ANON_PRIVATE as u64),
    ("VMA_AREA_SYSVIPC", status::VMA_AREA_SYSVIPC as u64),
    ("VMA_AREA_SOCKET", status::VMA_AREA_SOCKET as u64),
    ("VMA_AREA_VVAR", status::VMA_AREA_VVAR as u64),
    ("VMA_AREA_AIORING", status::VMA_AREA_AIORING as u64),
    ("VMA_AREA_MEMFD", status::VMA_AREA_MEMFD as u64),
    ("VMA_AREA_SHSTK", 1 << 15),
    ("VMA_AREA_UPROBES", 1 << 17),
    ("VMA_UNSUPP", 1 << 31),
];
const RFILE_FLAGS: &[(&str, u64)] = &[
    ("O_WRONLY", 0o1),
    ("O_RDWR", 0o2),
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_DSYNC", 0o10000),
    ("FASYNC", 0o20000),
    ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000),
    ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000),
];
const SEALS_FLAGS: &[(&str, u64)] = &[
    ("F_SEAL_SEAL", 0x1),
    ("F_SEAL_SHRINK", 0x2),
    ("F_SEAL_GROW", 0x4),
    ("F_SEAL_WRITE", 0x8),
    ("F_SEAL_FUTURE_WRITE", 0x10),
];
const PMAP_FLAGS: &[(&str, u64)] = &[("PE_PARENT", 1), ("PE_LAZY", 2), ("PE_PRESENT", 4)];

/// The flag tables crit knows; other `(criu).flags` names print as hex.
fn flag_table(name: &str) -> Option<&'static [(&'static str, u64)]> {
    Some(match name {
        "mmap.prot" => MMAP_PROT,
        "mmap.flags" => MMAP_FLAGS,
        "mmap.status" => MMAP_STATUS,
        "rfile.flags" => RFILE_FLAGS,
        "pmap.flags" => PMAP_FLAGS,
        "seals.flags" => SEALS_FLAGS,
        _ => return None,
    })
}

/// crit's `(criu).dict` tables: a value's name for a field, if it has one.
fn dict_name(dict: &str, field: &str, value: u64) -> Option<&'static str> {
    Some(match (dict, field, value) {
        ("gen", "task_state", 1) => "Alive",
        ("gen", "task_state", 3) => "Zombie",
        ("gen", "task_state", 6) => "Stopped",
        ("sk", "family", 1) => "UNIX",
        ("sk", "family", 2) => "INET",
        ("sk", "family", 10) => "INET6",
        ("sk", "family", 16) => "NETLINK",
        ("sk", "family", 17) => "PACKET",
        ("sk", "type", 1) => "STREAM",
        ("sk", "type", 2) => "DGRAM",
        ("sk", "type", 3) => "RAW",
        ("sk", "type", 5) => "SEQPACKET",
        ("sk", "type", 10) => "PACKET",
        ("sk", "state", 1) => "ESTABLISHED",
        ("sk", "state", 2) => "SYN_SENT",
        ("sk", "state", 3) => "SYN_RECV",
        ("sk", "state", 4) => "FIN_WAIT1",
        ("sk", "state", 5) => "FIN_WAIT2",
        ("sk", "state", 6) => "TIME_WAIT",
        ("sk", "state", 7) => "CLOSE",
        ("sk", "state", 8) => "CLOSE_WAIT",
        ("sk", "state", 9) => "LAST_ACK",
        ("sk", "state", 10) => "LISTEN",
        ("sk", "proto", 0) => "IP",
        ("sk", "proto", 6) => "TCP",
        ("sk", "proto", 17) => "UDP",
        ("sk", "proto", 136) => "UDPLITE",
        _ => return None,
    })
}

/// An address held in network byte order in 1 (IPv4) or 4 (IPv6) u32 words, in Python's
/// `ipaddress` `compressed` form; `None` for other word counts (crit shows the numbers then).
fn ip_address(words: &[WireValue<'_>]) -> Option<String> {
    let mut bytes = Vec::with_capacity(16);
    for word in words {
        let v = match *word {
            WireValue::Varint(v) | WireValue::Fixed64(v) => v as u32,
            WireValue::Fixed32(v) => v,
            WireValue::Len(_) => return None,
        };
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    match bytes.as_slice() {
        [a, b, c, d] => Some(format!("{a}.{b}.{c}.{d}")),
        v6 if v6.len() == 16 => {
            let groups: Vec<u16> = v6
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            Some(compress_ipv6(&groups))
        }
        _ => None,
    }
}

/// RFC 5952 text of an IPv6 address the way Python's `ipaddress` (< 3.13) writes it: the first
/// longest run of two or more zero groups becomes `::`, never a dotted quad.
fn compress_ipv6(groups: &[u16]) -> String {
    let (mut best_start, mut best_len) = (0, 0);
    let mut i = 0;
    while i < groups.len() {
        if groups[i] == 0 {
            let start = i;
            while i < groups.len() && groups[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                (best_start, best_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    let hex = |gs: &[u16]| {
        gs.iter()
            .map(|g| format!("{g:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best_len < 2 {
        return hex(groups);
    }
    let head = hex(&groups[..best_start]);
    let tail = hex(&groups[best_start + best_len..]);
    format!("{head}::{tail}")
}

/// Python's `base64.encodebytes`: standard alphabet, a `\n` after every 76 characters and at
/// the end; empty input gives an empty string.
fn encode_base64(bytes: &[u8]) -> String {
    let flat = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(flat.len() + flat.len() / 76 + 1);
    for line in flat.as_bytes().chunks(76) {
        // base64 output is ASCII
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Quoted-printable as Python's `quopri.encodestring` (binascii `b2a_qp`) writes it, for
/// `(criu).conv = "unix_name"`: `=XX` for `=` and bytes outside printable ASCII, newlines kept,
/// a space or tab before a line end encoded, soft breaks (`=\n`) keeping lines within 76. This
/// is how crit spells a unix socket's name, in `decode` and in `x fds` alike.
pub fn encode_quoted_printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            out.push('\n');
            line_len = 0;
            continue;
        }
        let at_line_end = matches!(bytes.get(i + 1), None | Some(b'\n'));
        let literal =
            (b == b' ' || b == b'\t') && !at_line_end || (b'!'..=b'~').contains(&b) && b != b'=';
        let width = if literal { 1 } else { 3 };
        if line_len + width > 75 && !(at_line_end && line_len + width <= 76) {
            out.push_str("=\n");
            line_len = 0;
        }
        if literal {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "={b:02X}");
        }
        line_len += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_python_encodebytes() {
        assert_eq!(encode_base64(b""), "");
        assert_eq!(encode_base64(b"abc"), "YWJj\n");
        let long = encode_base64(&[0u8; 60]);
        let lines: Vec<_> = long.split_terminator('\n').collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), 76);
    }

    #[test]
    fn flags_like_pb2dict() {
        assert_eq!(map_flags(4, PMAP_FLAGS), "PE_PRESENT");
        assert_eq!(map_flags(6, PMAP_FLAGS), "PE_LAZY | PE_PRESENT");
        assert_eq!(map_flags(0, PMAP_FLAGS), "");
        assert_eq!(map_flags(0x11, PMAP_FLAGS), "PE_PARENT | 0x10");
        assert_eq!(map_flags(0x22, MMAP_FLAGS), "MAP_PRIVATE | MAP_ANON");
    }

    #[test]
    fn addresses_like_python_ipaddress() {
        let v4 = [WireValue::Varint(u64::from(u32::from_le_bytes([
            127, 0, 0, 1,
        ])))];
        assert_eq!(ip_address(&v4).as_deref(), Some("127.0.0.1"));
        let word = |b: [u8; 4]| WireValue::Varint(u64::from(u32::from_le_bytes(b)));
        let v6 = [
            word([0, 0, 0, 0]),
            word([0, 0, 0, 0]),
            word([0, 0, 0xff, 0xff]),
            word([127, 0, 0, 1]),
        ];
        assert_eq!(ip_address(&v6).as_deref(), Some("::ffff:7f00:1"));
        let lo = [word([0; 4]), word([0; 4]), word([0; 4]), word([0, 0, 0, 1])];
        assert_eq!(ip_address(&lo).as_deref(), Some("::1"));
        assert_eq!(
            compress_ipv6(&[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]),
            "2001:db8::1:0:0:1"
        );
    }

    #[test]
    fn quoted_printable_like_quopri() {
        assert_eq!(encode_quoted_printable(b"/run/x.sock"), "/run/x.sock");
        assert_eq!(encode_quoted_printable(b"\0abstract=1"), "=00abstract=3D1");
        assert_eq!(encode_quoted_printable(b"a b "), "a b=20");
    }

    #[test]
    fn raw_images_are_recognised() {
        let table = [
            ("checkpoint/pages-1.img", Some("page data")),
            ("ckpt.tar:checkpoint/pages-12.img", Some("page data")),
            (
                "checkpoint/tmpfs-dev-44.tar.gz.img",
                Some("a tmpfs tarball"),
            ),
            ("ifaddr-9.img", Some("an `ip addr save` dump")),
            ("checkpoint/pagemap-1.img", None),
            ("pages-x.img", None),
            ("core-1.img", None),
        ];
        for (name, want) in table {
            assert_eq!(raw_image_kind(name), want, "{name}");
        }
    }
}

//! Field descriptors of the CRIU messages: the facts of each `.proto` field (name, number, label,
//! type, and CRIU's `(criu).*` display options) as static tables.
//!
//! The prost structs in [`crate::messages`] and these tables come out of the same macro
//! invocation, so they cannot disagree. The tables drive the crit-compatible JSON
//! ([`crate::decode_image`]), which walks the protobuf wire format itself so that it can
//! tell a field that is absent from one that holds its default value (crit prints only the fields
//! that are present).

/// How often a field may occur (proto2 labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// `required`: exactly once in a valid message.
    Required,
    /// `optional`: at most once; crit prints it only when present.
    Optional,
    /// `repeated`: any number of times (packed or not on the wire).
    Repeated,
}

/// The protobuf type of a field.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `bool`.
    Bool,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `int32`: negative values are sign-extended 10-byte varints.
    Int32,
    /// `int64`.
    Int64,
    /// `sint32`: zigzag encoded.
    Sint32,
    /// `sint64`: zigzag encoded.
    Sint64,
    /// `fixed32`.
    Fixed32,
    /// `fixed64`.
    Fixed64,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// An enum: the function gives the `.proto` name of a value, `None` for unknown values.
    Enum(fn(i32) -> Option<&'static str>),
    /// An embedded message.
    Message(fn() -> &'static Schema),
}

/// CRIU's `(criu).*` field options (`opts.proto`), which tell crit how to show a value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opts {
    /// `(criu).hex`: integers as `"0x..."`; inherited by every field of an embedded message.
    pub hex: bool,
    /// `(criu).ipadd`: a repeated u32 holding an IPv4 (1 word) or IPv6 (4 words) address.
    pub ipadd: bool,
    /// `(criu).dev`: a device number in the kernel's `major << 20 | minor` form.
    pub dev: bool,
    /// `(criu).odev`: a device number in the old (glibc `makedev`) form.
    pub odev: bool,
    /// `(criu).flags`: the name of a flag table (`"mmap.prot"`, `"pmap.flags"`, ...).
    pub flags: Option<&'static str>,
    /// `(criu).dict`: the name of a value table (`"gen"`, `"sk"`).
    pub dict: Option<&'static str>,
    /// `(criu).conv`: a custom conversion of bytes (`"unix_name"`: quoted-printable).
    pub conv: Option<&'static str>,
}

impl Opts {
    /// No option set.
    pub const NONE: Opts = Opts {
        hex: false,
        ipadd: false,
        dev: false,
        odev: false,
        flags: None,
        dict: None,
        conv: None,
    };
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct FieldDesc {
    /// The field name in the `.proto` file (and in crit's JSON).
    pub name: &'static str,
    /// The field number.
    pub tag: u32,
    /// proto2 label.
    pub label: Label,
    /// protobuf type.
    pub kind: Kind,
    /// CRIU display options.
    pub opts: Opts,
}

/// All fields of one message.
#[derive(Debug)]
pub struct Schema {
    /// The message name in the `.proto` file (`pagemap_entry`).
    pub name: &'static str,
    /// The fields, in the order of the `.proto` file (crit prints them by field number).
    pub fields: &'static [FieldDesc],
}

impl Schema {
    /// The field with this number, if the message has one.
    pub fn field(&self, tag: u32) -> Option<&'static FieldDesc> {
        self.fields.iter().find(|f| f.tag == tag)
    }
}

/// A message type whose field table is known.
pub trait Described {
    /// The field table of this message.
    fn schema() -> &'static Schema;
}

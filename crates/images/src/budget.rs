//! Bounds on what decoding untrusted entries may allocate.
//!
//! A protobuf entry is small on the wire but can be large in memory: every element of a repeated
//! field costs one byte or two in the image and a whole struct (or at least a `u64`) once decoded,
//! and an image of zero-length entries decodes to one default struct per four bytes. Decoders
//! check both before prost allocates anything:
//!
//! - [`count_repeated`] walks an entry's wire format with its field table and counts the elements
//!   of every repeated field, nested ones included (packed scalars element by element); an entry
//!   with more than [`MAX_REPEATED_ELEMENTS`] is refused;
//! - [`max_entries`] is how many entries of one type a `Vec` may hold: at most
//!   [`MAX_ENTRIES`], and fewer for large structs, so that a decoded image stays under
//!   [`MAX_DECODED_BYTES`].
//!
//! Real images are far below these bounds: a process has at most `vm.max_map_count` (65,530 by
//! default) VMAs, and a files.img of a large server holds tens of thousands of entries.

use super::schema::{Kind, Label, Schema};
use super::wire::{read_varint, Fields, WireValue};

/// Most elements of repeated fields one entry may hold (all fields, nested ones included).
pub const MAX_REPEATED_ELEMENTS: u64 = 1 << 18;

/// Most entries of one image that are decoded into memory together.
pub const MAX_ENTRIES: u64 = 1 << 20;

/// Most bytes of decoded structs one image may take in memory (`entries × size_of`).
pub const MAX_DECODED_BYTES: u64 = 64 << 20;

/// Deepest nesting of embedded messages decoded: 100, the recursion limit of prost and of the
/// protobuf library crit runs on, so `decode` refuses what crit refuses. CRIU's schemas nest a
/// few levels; only `cgroup_dir_entry` can nest itself, and a forged `cgroup.img` nests it
/// thousands of times deep, which recursive decoders and renderers turn into a stack overflow.
pub const MAX_NESTING: usize = 100;

/// Deepest nesting [`count_repeated`] follows: all that a decoder accepts.
const MAX_DEPTH: usize = MAX_NESTING;

/// How many entries of a type of `struct_size` bytes may be decoded into one `Vec`.
pub fn max_entries(struct_size: usize) -> u64 {
    let size = u64::try_from(struct_size.max(1)).unwrap_or(u64::MAX);
    (MAX_DECODED_BYTES / size).clamp(1, MAX_ENTRIES)
}

/// The number of elements of repeated fields in `message` (of type `schema`), counting nested
/// messages, and stopping early once it passes `limit`. Malformed wire data counts as nothing
/// here: prost reports it when it decodes the entry.
pub fn count_repeated(message: &[u8], schema: &Schema, limit: u64) -> u64 {
    let mut count = 0u64;
    walk(message, schema, limit, 0, &mut count);
    count
}

fn walk(message: &[u8], schema: &Schema, limit: u64, depth: usize, count: &mut u64) {
    if depth > MAX_DEPTH {
        return;
    }
    for field in Fields::new(message) {
        if *count > limit {
            return;
        }
        let Ok((tag, value)) = field else {
            return;
        };
        let Some(desc) = schema.field(tag) else {
            continue;
        };
        let repeated = desc.label == Label::Repeated;
        match (desc.kind, value) {
            (Kind::Message(inner), WireValue::Len(bytes)) => {
                if repeated {
                    *count += 1;
                }
                walk(bytes, inner(), limit, depth + 1, count);
            }
            (Kind::String | Kind::Bytes, _) => {
                if repeated {
                    *count += 1;
                }
            }
            (_, WireValue::Len(packed)) if repeated => {
                *count = count.saturating_add(packed_elements(desc.kind, packed));
            }
            _ => {
                if repeated {
                    *count += 1;
                }
            }
        }
    }
}

/// Elements in a packed repeated scalar field.
fn packed_elements(kind: Kind, packed: &[u8]) -> u64 {
    let len = packed.len() as u64;
    match kind {
        Kind::Fixed32 => len / 4,
        Kind::Fixed64 => len / 8,
        _ => {
            let mut pos = 0usize;
            let mut n = 0u64;
            while pos < packed.len() {
                if read_varint(packed, &mut pos).is_err() {
                    break;
                }
                n += 1;
            }
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{MmEntry, PstreeEntry, VmaEntry};
    use crate::schema::Described;
    use prost::Message;

    #[test]
    fn counts_packed_and_nested_elements() {
        let tree = PstreeEntry {
            pid: 1,
            threads: (1..=1000).collect(),
            ..PstreeEntry::default()
        };
        let bytes = tree.encode_to_vec();
        assert_eq!(
            count_repeated(&bytes, PstreeEntry::schema(), u64::MAX),
            1000
        );

        let mm = MmEntry {
            mm_saved_auxv: vec![1, 2, 3, 4],
            vmas: vec![VmaEntry::default(); 7],
            ..MmEntry::default()
        };
        let bytes = mm.encode_to_vec();
        assert_eq!(count_repeated(&bytes, MmEntry::schema(), u64::MAX), 11);
    }

    #[test]
    fn stops_once_past_the_limit() {
        let tree = PstreeEntry {
            threads: (1..=100_000).collect(),
            ..PstreeEntry::default()
        };
        let bytes = tree.encode_to_vec();
        // One packed field: counted in one go, then the walk stops.
        assert!(count_repeated(&bytes, PstreeEntry::schema(), 10) > 10);
    }

    #[test]
    fn entry_caps_follow_struct_size() {
        assert_eq!(max_entries(1), MAX_ENTRIES);
        assert_eq!(max_entries(1024), MAX_DECODED_BYTES / 1024);
        assert_eq!(max_entries(usize::MAX), 1);
    }
}

//! A bounds-checked reader of the protobuf wire format over a borrowed slice.
//!
//! prost decodes into typed structs; this reader is for the places that need the raw fields:
//! finding the length of an entry's extra payload (`pipe_data_entry.bytes`, ...) and walking a
//! message by its field table for the crit-style JSON. It never allocates and never indexes out
//! of bounds: every failure is a [`WireError`] with the offset inside the message.

use std::fmt;

/// Wire types of protobuf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// 0: varint.
    Varint,
    /// 1: 8 bytes little-endian.
    Fixed64,
    /// 2: length-delimited.
    Len,
    /// 5: 4 bytes little-endian.
    Fixed32,
}

/// One field read off the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// A varint, undecoded (zigzag and sign are the field type's business).
    Varint(u64),
    /// A fixed 64-bit value.
    Fixed64(u64),
    /// A fixed 32-bit value.
    Fixed32(u32),
    /// The bytes of a length-delimited field.
    Len(&'a [u8]),
}

/// What went wrong at which offset of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Offset inside the message where the bad field starts.
    pub offset: usize,
    /// What was wrong.
    pub problem: &'static str,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at message byte {}", self.problem, self.offset)
    }
}

impl std::error::Error for WireError {}

/// Iterates over the fields of one message: `(field number, value)`.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    /// A reader over the encoded message `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields {
            bytes,
            pos: 0,
            failed: false,
        }
    }

    fn fail(
        &mut self,
        offset: usize,
        problem: &'static str,
    ) -> Option<Result<(u32, WireValue<'a>), WireError>> {
        self.failed = true;
        Some(Err(WireError { offset, problem }))
    }
}

/// Reads a varint at `*pos`, advancing it.
pub fn read_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, &'static str> {
    let mut value: u64 = 0;
    for shift in 0..10u32 {
        let Some(&byte) = bytes.get(*pos) else {
            return Err("varint cut short");
        };
        *pos += 1;
        if shift == 9 && byte > 1 {
            return Err("varint longer than 64 bits");
        }
        value |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint longer than 10 bytes")
}

fn read_fixed<const N: usize>(bytes: &[u8], pos: &mut usize) -> Result<[u8; N], &'static str> {
    let end = pos.checked_add(N).ok_or("fixed-size value cut short")?;
    let slice = bytes.get(*pos..end).ok_or("fixed-size value cut short")?;
    let mut out = [0u8; N];
    out.copy_from_slice(slice);
    *pos = end;
    Ok(out)
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, WireValue<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let key = match read_varint(self.bytes, &mut self.pos) {
            Ok(key) => key,
            Err(problem) => return self.fail(start, problem),
        };
        let Ok(tag) = u32::try_from(key >> 3) else {
            return self.fail(start, "field number out of range");
        };
        if tag == 0 {
            return self.fail(start, "field number 0");
        }
        let value = match key & 7 {
            0 => read_varint(self.bytes, &mut self.pos).map(WireValue::Varint),
            1 => read_fixed::<8>(self.bytes, &mut self.pos)
                .map(|b| WireValue::Fixed64(u64::from_le_bytes(b))),
            5 => read_fixed::<4>(self.bytes, &mut self.pos)
                .map(|b| WireValue::Fixed32(u32::from_le_bytes(b))),
            2 => read_varint(self.bytes, &mut self.pos).and_then(|len| {
                let left = self.bytes.len() - self.pos;
                match usize::try_from(len) {
                    Ok(len) if len <= left => {
                        let slice = self
                            .bytes
                            .get(self.pos..self.pos + len)
                            .ok_or("length-delimited field cut short")?;
                        self.pos += len;
                        Ok(WireValue::Len(slice))
                    }
                    _ => Err("length-delimited field longer than the message"),
                }
            }),
            3 | 4 => Err("groups are not used by CRIU"),
            _ => Err("invalid wire type"),
        };
        match value {
            Ok(value) => Some(Ok((tag, value))),
            Err(problem) => self.fail(start, problem),
        }
    }
}

impl WireValue<'_> {
    /// The wire type of this value.
    pub fn wire_type(&self) -> WireType {
        match self {
            WireValue::Varint(_) => WireType::Varint,
            WireValue::Fixed64(_) => WireType::Fixed64,
            WireValue::Fixed32(_) => WireType::Fixed32,
            WireValue::Len(_) => WireType::Len,
        }
    }
}

/// The last varint value of field `tag` in `message` (proto2: the last one wins), if any.
pub fn varint_field(message: &[u8], tag: u32) -> Result<Option<u64>, WireError> {
    let mut found = None;
    for field in Fields::new(message) {
        if let (t, WireValue::Varint(v)) = field? {
            if t == tag {
                found = Some(v);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields() {
        // field 1 varint 300, field 2 bytes "ab", field 3 fixed32 7
        let msg = [0x08, 0xac, 0x02, 0x12, 0x02, b'a', b'b', 0x1d, 7, 0, 0, 0];
        let fields: Vec<_> = Fields::new(&msg).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            fields,
            vec![
                (1, WireValue::Varint(300)),
                (2, WireValue::Len(b"ab")),
                (3, WireValue::Fixed32(7))
            ]
        );
        assert_eq!(varint_field(&msg, 1).unwrap(), Some(300));
        assert_eq!(varint_field(&msg, 4).unwrap(), None);
    }

    #[test]
    fn rejects_bad_input() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x08], "varint cut short"),
            (
                &[0x12, 0x05, 1],
                "length-delimited field longer than the message",
            ),
            (&[0x1d, 1, 2], "fixed-size value cut short"),
            (&[0x0b], "groups are not used by CRIU"),
            (&[0x00, 0x01], "field number 0"),
            (
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
                "varint longer than 64 bits",
            ),
        ];
        for (bytes, problem) in cases {
            let err = Fields::new(bytes).find_map(Result::err).unwrap();
            assert_eq!(err.problem, *problem, "{bytes:?}");
        }
    }
}

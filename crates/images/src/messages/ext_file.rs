//! Messages of CRIU's `ext-file.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ext_file_entry` (ext-file.proto).
    ExtFileEntry = "ext_file_entry" {
        id(1, "id"): required uint32 [];
        fown(5, "fown"): required message FownEntry [];
    }
}

//! Messages of CRIU's `eventfd.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `eventfd_file_entry` (eventfd.proto).
    EventfdFileEntry = "eventfd_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [];
        fown(3, "fown"): required message FownEntry [];
        counter(4, "counter"): required uint64 [];
    }
}

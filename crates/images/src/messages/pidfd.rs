//! Messages of CRIU's `pidfd.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `pidfd_entry` (pidfd.proto).
    PidfdEntry = "pidfd_entry" {
        id(1, "id"): required uint32 [];
        ino(2, "ino"): required uint32 [];
        flags(3, "flags"): required uint32 [];
        nspid(4, "nspid"): required int32 [];
        fown(5, "fown"): required message FownEntry [];
    }
}

//! Messages of CRIU's `binfmt-misc.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `binfmt_misc_entry` (binfmt-misc.proto).
    BinfmtMiscEntry = "binfmt_misc_entry" {
        name(1, "name"): required string [];
        enabled(2, "enabled"): required bool [];
        interpreter(3, "interpreter"): required string [];
        flags(4, "flags"): optional string [];
        extension(5, "extension"): optional string [];
        magic(6, "magic"): optional string [];
        mask(7, "mask"): optional string [];
        offset(8, "offset"): optional int32 [];
    }
}

//! Messages of CRIU's `pipe.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `pipe_entry` (pipe.proto).
    PipeEntry = "pipe_entry" {
        id(1, "id"): required uint32 [];
        pipe_id(2, "pipe_id"): required uint32 [];
        flags(3, "flags"): required uint32 [hex];
        fown(4, "fown"): required message FownEntry [];
    }
}

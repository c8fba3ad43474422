//! Messages of CRIU's `pipe-data.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `pipe_data_entry` (pipe-data.proto).
    PipeDataEntry = "pipe_data_entry" {
        pipe_id(1, "pipe_id"): required uint32 [];
        bytes(2, "bytes"): required uint32 [];
        size(3, "size"): optional uint32 [];
    }
}

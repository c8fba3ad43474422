//! Messages of CRIU's `fifo.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `fifo_entry` (fifo.proto).
    FifoEntry = "fifo_entry" {
        id(1, "id"): required uint32 [];
        pipe_id(2, "pipe_id"): required uint32 [];
        regf_id(3, "regf_id"): optional uint32 [];
    }
}

//! Messages of CRIU's `mm.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `aio_ring_entry` (mm.proto).
    AioRingEntry = "aio_ring_entry" {
        id(1, "id"): required uint64 [];
        nr_req(2, "nr_req"): required uint32 [];
        ring_len(3, "ring_len"): required uint32 [];
    }
}

criu_message! {
    /// `mm_entry` (mm.proto).
    MmEntry = "mm_entry" {
        mm_start_code(1, "mm_start_code"): required uint64 [hex];
        mm_end_code(2, "mm_end_code"): required uint64 [hex];
        mm_start_data(3, "mm_start_data"): required uint64 [hex];
        mm_end_data(4, "mm_end_data"): required uint64 [hex];
        mm_start_stack(5, "mm_start_stack"): required uint64 [hex];
        mm_start_brk(6, "mm_start_brk"): required uint64 [hex];
        mm_brk(7, "mm_brk"): required uint64 [hex];
        mm_arg_start(8, "mm_arg_start"): required uint64 [hex];
        mm_arg_end(9, "mm_arg_end"): required uint64 [hex];
        mm_env_start(10, "mm_env_start"): required uint64 [hex];
        mm_env_end(11, "mm_env_end"): required uint64 [hex];
        exe_file_id(12, "exe_file_id"): required uint32 [];
        mm_saved_auxv(13, "mm_saved_auxv"): repeated uint64 [];
        vmas(14, "vmas"): repeated message VmaEntry [];
        dumpable(15, "dumpable"): optional int32 [];
        aios(16, "aios"): repeated message AioRingEntry [];
        thp_disabled(17, "thp_disabled"): optional bool [];
    }
}

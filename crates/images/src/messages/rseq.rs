//! Messages of CRIU's `rseq.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `rseq_entry` (rseq.proto).
    RseqEntry = "rseq_entry" {
        rseq_abi_pointer(1, "rseq_abi_pointer"): required uint64 [];
        rseq_abi_size(2, "rseq_abi_size"): required uint32 [];
        signature(3, "signature"): required uint32 [];
        rseq_cs_pointer(4, "rseq_cs_pointer"): optional uint64 [];
    }
}

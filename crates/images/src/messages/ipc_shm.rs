//! Messages of CRIU's `ipc-shm.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ipc_shm_entry` (ipc-shm.proto).
    IpcShmEntry = "ipc_shm_entry" {
        desc(1, "desc"): required message IpcDescEntry [];
        size(2, "size"): required uint64 [];
        in_pagemaps(3, "in_pagemaps"): optional bool [];
        hugetlb_flag(4, "hugetlb_flag"): optional uint32 [];
    }
}

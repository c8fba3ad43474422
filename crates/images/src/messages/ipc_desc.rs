//! Messages of CRIU's `ipc-desc.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ipc_desc_entry` (ipc-desc.proto).
    IpcDescEntry = "ipc_desc_entry" {
        key(1, "key"): required uint32 [];
        uid(2, "uid"): required uint32 [];
        gid(3, "gid"): required uint32 [];
        cuid(4, "cuid"): required uint32 [];
        cgid(5, "cgid"): required uint32 [];
        mode(6, "mode"): required uint32 [];
        id(7, "id"): required uint32 [];
    }
}

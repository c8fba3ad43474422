//! Messages of CRIU's `ipc-sem.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ipc_sem_entry` (ipc-sem.proto).
    IpcSemEntry = "ipc_sem_entry" {
        desc(1, "desc"): required message IpcDescEntry [];
        nsems(2, "nsems"): required uint32 [];
    }
}

//! Messages of CRIU's `ipc-msg.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ipc_msg` (ipc-msg.proto).
    IpcMsg = "ipc_msg" {
        mtype(1, "mtype"): required uint64 [];
        msize(2, "msize"): required uint32 [];
    }
}

criu_message! {
    /// `ipc_msg_entry` (ipc-msg.proto).
    IpcMsgEntry = "ipc_msg_entry" {
        desc(1, "desc"): required message IpcDescEntry [];
        qbytes(2, "qbytes"): required uint32 [];
        qnum(3, "qnum"): required uint32 [];
    }
}

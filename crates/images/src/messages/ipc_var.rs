//! Messages of CRIU's `ipc-var.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ipc_var_entry` (ipc-var.proto).
    IpcVarEntry = "ipc_var_entry" {
        sem_ctls(1, "sem_ctls"): repeated uint32 [];
        msg_ctlmax(2, "msg_ctlmax"): required uint32 [];
        msg_ctlmnb(3, "msg_ctlmnb"): required uint32 [];
        msg_ctlmni(4, "msg_ctlmni"): required uint32 [];
        auto_msgmni(5, "auto_msgmni"): required uint32 [];
        shm_ctlmax(6, "shm_ctlmax"): required uint64 [];
        shm_ctlall(7, "shm_ctlall"): required uint64 [];
        shm_ctlmni(8, "shm_ctlmni"): required uint32 [];
        shm_rmid_forced(9, "shm_rmid_forced"): required uint32 [];
        mq_queues_max(10, "mq_queues_max"): required uint32 [];
        mq_msg_max(11, "mq_msg_max"): required uint32 [];
        mq_msgsize_max(12, "mq_msgsize_max"): required uint32 [];
        mq_msg_default(13, "mq_msg_default"): optional uint32 [];
        mq_msgsize_default(14, "mq_msgsize_default"): optional uint32 [];
        msg_next_id(15, "msg_next_id"): optional uint32 [];
        sem_next_id(16, "sem_next_id"): optional uint32 [];
        shm_next_id(17, "shm_next_id"): optional uint32 [];
    }
}

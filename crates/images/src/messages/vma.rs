//! Messages of CRIU's `vma.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `vma_entry` (vma.proto).
    VmaEntry = "vma_entry" {
        start(1, "start"): required uint64 [hex];
        end(2, "end"): required uint64 [hex];
        pgoff(3, "pgoff"): required uint64 [];
        shmid(4, "shmid"): required uint64 [];
        prot(5, "prot"): required uint32 [flags = "mmap.prot"];
        flags(6, "flags"): required uint32 [flags = "mmap.flags"];
        status(7, "status"): required uint32 [flags = "mmap.status"];
        fd(8, "fd"): required sint64 [];
        madv(9, "madv"): optional uint64 [hex];
        fdflags(10, "fdflags"): optional uint32 [hex];
    }
}

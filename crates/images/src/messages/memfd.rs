//! Messages of CRIU's `memfd.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `memfd_file_entry` (memfd.proto).
    MemfdFileEntry = "memfd_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [flags = "rfile.flags"];
        pos(3, "pos"): required uint64 [];
        fown(4, "fown"): required message FownEntry [];
        inode_id(5, "inode_id"): required uint32 [];
    }
}

criu_message! {
    /// `memfd_inode_entry` (memfd.proto).
    MemfdInodeEntry = "memfd_inode_entry" {
        name(1, "name"): required string [];
        uid(2, "uid"): required uint32 [];
        gid(3, "gid"): required uint32 [];
        size(4, "size"): required uint64 [];
        shmid(5, "shmid"): required uint32 [];
        seals(6, "seals"): required uint32 [flags = "seals.flags"];
        inode_id(7, "inode_id"): required uint64 [];
        hugetlb_flag(8, "hugetlb_flag"): optional uint32 [];
        mode(9, "mode"): optional uint32 [];
    }
}

//! Messages of CRIU's `mnt.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `fstype` (mnt.proto).
    Fstype = "fstype" {
        UNSUPPORTED = 0,
        PROC = 1,
        SYSFS = 2,
        DEVTMPFS = 3,
        BINFMT_MISC = 4,
        TMPFS = 5,
        DEVPTS = 6,
        SIMFS = 7,
        PSTORE = 8,
        SECURITYFS = 9,
        FUSECTL = 10,
        DEBUGFS = 11,
        CGROUP = 12,
        AUFS = 13,
        MQUEUE = 14,
        FUSE = 15,
        AUTO = 16,
        OVERLAYFS = 17,
        AUTOFS = 18,
        TRACEFS = 19,
        CGROUP2 = 23,
    }
}

criu_message! {
    /// `mnt_entry` (mnt.proto).
    MntEntry = "mnt_entry" {
        fstype(1, "fstype"): required uint32 [];
        mnt_id(2, "mnt_id"): required uint32 [];
        root_dev(3, "root_dev"): required uint32 [dev];
        parent_mnt_id(4, "parent_mnt_id"): required uint32 [];
        flags(5, "flags"): required uint32 [hex];
        root(6, "root"): required string [];
        mountpoint(7, "mountpoint"): required string [];
        source(8, "source"): required string [];
        options(9, "options"): required string [];
        shared_id(10, "shared_id"): optional uint32 [];
        master_id(11, "master_id"): optional uint32 [];
        with_plugin(12, "with_plugin"): optional bool [];
        ext_mount(13, "ext_mount"): optional bool [];
        fsname(14, "fsname"): optional string [];
        internal_sharing(15, "internal_sharing"): optional bool [];
        deleted(16, "deleted"): optional bool [];
        sb_flags(17, "sb_flags"): optional uint32 [hex];
        ext_key(18, "ext_key"): optional string [];
    }
}

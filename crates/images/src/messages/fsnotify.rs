//! Messages of CRIU's `fsnotify.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `inotify_wd_entry` (fsnotify.proto).
    InotifyWdEntry = "inotify_wd_entry" {
        id(1, "id"): required uint32 [];
        i_ino(2, "i_ino"): required uint64 [];
        mask(3, "mask"): required uint32 [hex];
        ignored_mask(4, "ignored_mask"): required uint32 [hex];
        s_dev(5, "s_dev"): required uint32 [dev];
        wd(6, "wd"): required uint32 [];
        f_handle(7, "f_handle"): required message FhEntry [];
    }
}

criu_message! {
    /// `inotify_file_entry` (fsnotify.proto).
    InotifyFileEntry = "inotify_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [hex];
        fown(4, "fown"): required message FownEntry [];
        wd(5, "wd"): repeated message InotifyWdEntry [];
    }
}

criu_enum! {
    /// `mark_type` (fsnotify.proto).
    MarkType = "mark_type" {
        INODE = 1,
        MOUNT = 2,
    }
}

criu_message! {
    /// `fanotify_inode_mark_entry` (fsnotify.proto).
    FanotifyInodeMarkEntry = "fanotify_inode_mark_entry" {
        i_ino(1, "i_ino"): required uint64 [];
        f_handle(2, "f_handle"): required message FhEntry [];
    }
}

criu_message! {
    /// `fanotify_mount_mark_entry` (fsnotify.proto).
    FanotifyMountMarkEntry = "fanotify_mount_mark_entry" {
        mnt_id(1, "mnt_id"): required uint32 [];
        path(2, "path"): optional string [];
    }
}

criu_message! {
    /// `fanotify_mark_entry` (fsnotify.proto).
    FanotifyMarkEntry = "fanotify_mark_entry" {
        id(1, "id"): required uint32 [];
        r#type(2, "type"): required enumeration MarkType [];
        mflags(3, "mflags"): required uint32 [hex];
        mask(4, "mask"): required uint32 [hex];
        ignored_mask(5, "ignored_mask"): required uint32 [hex];
        s_dev(6, "s_dev"): required uint32 [dev];
        ie(7, "ie"): optional message FanotifyInodeMarkEntry [];
        me(8, "me"): optional message FanotifyMountMarkEntry [];
    }
}

criu_message! {
    /// `fanotify_file_entry` (fsnotify.proto).
    FanotifyFileEntry = "fanotify_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [hex];
        fown(3, "fown"): required message FownEntry [];
        faflags(4, "faflags"): required uint32 [hex];
        evflags(5, "evflags"): required uint32 [hex];
        mark(6, "mark"): repeated message FanotifyMarkEntry [];
    }
}

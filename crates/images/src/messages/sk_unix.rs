//! Messages of CRIU's `sk-unix.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `file_perms_entry` (sk-unix.proto).
    FilePermsEntry = "file_perms_entry" {
        mode(1, "mode"): required uint32 [];
        uid(2, "uid"): required uint32 [];
        gid(3, "gid"): required uint32 [];
    }
}

criu_message! {
    /// `unix_sk_entry` (sk-unix.proto).
    UnixSkEntry = "unix_sk_entry" {
        id(1, "id"): required uint32 [];
        ino(2, "ino"): required uint32 [];
        r#type(3, "type"): required uint32 [dict = "sk"];
        state(4, "state"): required uint32 [dict = "sk"];
        flags(5, "flags"): required uint32 [hex];
        uflags(6, "uflags"): required uint32 [hex];
        backlog(7, "backlog"): required uint32 [];
        peer(8, "peer"): required uint32 [];
        fown(9, "fown"): required message FownEntry [];
        opts(10, "opts"): required message SkOptsEntry [];
        name(11, "name"): required bytes [conv = "unix_name"];
        shutdown(12, "shutdown"): optional enumeration SkShutdown [];
        file_perms(13, "file_perms"): optional message FilePermsEntry [];
        name_dir(14, "name_dir"): optional string [];
        deleted(15, "deleted"): optional bool [];
        ns_id(16, "ns_id"): optional uint32 [];
        mnt_id(17, "mnt_id"): optional sint32 [];
    }
}

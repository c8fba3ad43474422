//! Messages of CRIU's `cgroup.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `cgroup_perms` (cgroup.proto).
    CgroupPerms = "cgroup_perms" {
        mode(1, "mode"): required uint32 [];
        uid(2, "uid"): required uint32 [];
        gid(3, "gid"): required uint32 [];
    }
}

criu_message! {
    /// `cgroup_prop_entry` (cgroup.proto).
    CgroupPropEntry = "cgroup_prop_entry" {
        name(1, "name"): required string [];
        value(2, "value"): required string [];
        perms(3, "perms"): optional message CgroupPerms [];
    }
}

criu_message! {
    /// `cgroup_dir_entry` (cgroup.proto).
    CgroupDirEntry = "cgroup_dir_entry" {
        dir_name(1, "dir_name"): required string [];
        children(2, "children"): repeated message CgroupDirEntry [];
        properties(3, "properties"): repeated message CgroupPropEntry [];
        dir_perms(4, "dir_perms"): optional message CgroupPerms [];
    }
}

criu_message! {
    /// `cg_controller_entry` (cgroup.proto).
    CgControllerEntry = "cg_controller_entry" {
        cnames(1, "cnames"): repeated string [];
        dirs(2, "dirs"): repeated message CgroupDirEntry [];
        is_threaded(3, "is_threaded"): optional bool [];
    }
}

criu_message! {
    /// `cg_member_entry` (cgroup.proto).
    CgMemberEntry = "cg_member_entry" {
        name(1, "name"): required string [];
        path(2, "path"): required string [];
        cgns_prefix(3, "cgns_prefix"): optional uint32 [];
    }
}

criu_message! {
    /// `cg_set_entry` (cgroup.proto).
    CgSetEntry = "cg_set_entry" {
        id(1, "id"): required uint32 [];
        ctls(2, "ctls"): repeated message CgMemberEntry [];
    }
}

criu_message! {
    /// `cgroup_entry` (cgroup.proto).
    CgroupEntry = "cgroup_entry" {
        sets(1, "sets"): repeated message CgSetEntry [];
        controllers(2, "controllers"): repeated message CgControllerEntry [];
    }
}

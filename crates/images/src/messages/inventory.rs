//! Messages of CRIU's `inventory.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `lsmtype` (inventory.proto).
    Lsmtype = "lsmtype" {
        NO_LSM = 0,
        SELINUX = 1,
        APPARMOR = 2,
    }
}

criu_message! {
    /// `plugins_entry` (inventory.proto).
    PluginsEntry = "plugins_entry" {
        plugins(12, "plugins"): repeated string [];
    }
}

criu_message! {
    /// `inventory_entry` (inventory.proto).
    InventoryEntry = "inventory_entry" {
        img_version(1, "img_version"): required uint32 [];
        fdinfo_per_id(2, "fdinfo_per_id"): optional bool [];
        root_ids(3, "root_ids"): optional message TaskKobjIdsEntry [];
        ns_per_id(4, "ns_per_id"): optional bool [];
        root_cg_set(5, "root_cg_set"): optional uint32 [];
        lsmtype(6, "lsmtype"): optional enumeration Lsmtype [];
        dump_uptime(8, "dump_uptime"): optional uint64 [];
        pre_dump_mode(9, "pre_dump_mode"): optional uint32 [];
        tcp_close(10, "tcp_close"): optional bool [];
        network_lock_method(11, "network_lock_method"): optional uint32 [];
        plugins_entry(12, "plugins_entry"): optional message PluginsEntry [];
        dump_criu_run_id(13, "dump_criu_run_id"): optional string [];
        allow_uprobes(14, "allow_uprobes"): optional bool [];
    }
}

//! Messages of CRIU's `sk-netlink.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `netlink_sk_entry` (sk-netlink.proto).
    NetlinkSkEntry = "netlink_sk_entry" {
        id(1, "id"): required uint32 [];
        ino(2, "ino"): required uint32 [];
        protocol(3, "protocol"): required uint32 [];
        state(4, "state"): required uint32 [];
        flags(6, "flags"): required uint32 [hex];
        portid(7, "portid"): required uint32 [];
        groups(8, "groups"): repeated uint32 [];
        dst_portid(9, "dst_portid"): required uint32 [];
        dst_group(10, "dst_group"): required uint32 [];
        fown(11, "fown"): required message FownEntry [];
        opts(12, "opts"): required message SkOptsEntry [];
        ns_id(13, "ns_id"): optional uint32 [];
    }
}

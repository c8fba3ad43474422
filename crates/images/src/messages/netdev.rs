//! Messages of CRIU's `netdev.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `nd_type` (netdev.proto).
    NdType = "nd_type" {
        LOOPBACK = 1,
        VETH = 2,
        TUN = 3,
        EXTLINK = 4,
        VENET = 5,
        BRIDGE = 6,
        MACVLAN = 7,
        SIT = 8,
    }
}

criu_message! {
    /// `net_device_entry` (netdev.proto).
    NetDeviceEntry = "net_device_entry" {
        r#type(1, "type"): required enumeration NdType [];
        ifindex(2, "ifindex"): required uint32 [];
        mtu(3, "mtu"): required uint32 [];
        flags(4, "flags"): required uint32 [hex];
        name(5, "name"): required string [];
        tun(6, "tun"): optional message TunLinkEntry [];
        address(7, "address"): optional bytes [];
        conf(8, "conf"): repeated int32 [];
        conf4(9, "conf4"): repeated message SysctlEntry [];
        conf6(10, "conf6"): repeated message SysctlEntry [];
        macvlan(11, "macvlan"): optional message MacvlanLinkEntry [];
        peer_ifindex(12, "peer_ifindex"): optional uint32 [];
        peer_nsid(13, "peer_nsid"): optional uint32 [];
        master(14, "master"): optional uint32 [];
        sit(15, "sit"): optional message SitEntry [];
    }
}

criu_message! {
    /// `netns_id` (netdev.proto).
    NetnsId = "netns_id" {
        target_ns_id(1, "target_ns_id"): required uint32 [];
        netnsid_value(2, "netnsid_value"): required int32 [];
    }
}

criu_message! {
    /// `netns_entry` (netdev.proto).
    NetnsEntry = "netns_entry" {
        def_conf(1, "def_conf"): repeated int32 [];
        all_conf(2, "all_conf"): repeated int32 [];
        def_conf4(3, "def_conf4"): repeated message SysctlEntry [];
        all_conf4(4, "all_conf4"): repeated message SysctlEntry [];
        def_conf6(5, "def_conf6"): repeated message SysctlEntry [];
        all_conf6(6, "all_conf6"): repeated message SysctlEntry [];
        nsids(7, "nsids"): repeated message NetnsId [];
        ext_key(8, "ext_key"): optional string [];
        unix_conf(9, "unix_conf"): repeated message SysctlEntry [];
        ipv4_sysctl(10, "ipv4_sysctl"): repeated message SysctlEntry [];
    }
}

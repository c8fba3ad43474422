//! Messages of CRIU's `tun.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `tunfile_entry` (tun.proto).
    TunfileEntry = "tunfile_entry" {
        id(1, "id"): required uint32 [];
        netdev(2, "netdev"): optional string [];
        detached(3, "detached"): optional bool [];
        ns_id(4, "ns_id"): optional uint32 [];
    }
}

criu_message! {
    /// `tun_link_entry` (tun.proto).
    TunLinkEntry = "tun_link_entry" {
        flags(1, "flags"): required uint32 [hex];
        owner(2, "owner"): required int32 [];
        group(3, "group"): required int32 [];
        vnethdr(4, "vnethdr"): required uint32 [];
        sndbuf(5, "sndbuf"): required uint32 [];
    }
}

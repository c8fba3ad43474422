//! Messages of CRIU's `sit.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `sit_entry` (sit.proto).
    SitEntry = "sit_entry" {
        link(1, "link"): optional uint32 [];
        local(2, "local"): repeated uint32 [ipadd];
        remote(3, "remote"): repeated uint32 [ipadd];
        ttl(4, "ttl"): optional uint32 [];
        tos(5, "tos"): optional uint32 [];
        pmtudisc(6, "pmtudisc"): optional bool [];
        proto(7, "proto"): optional uint32 [];
        flags(8, "flags"): optional uint32 [];
        encap_type(9, "encap_type"): optional uint32 [];
        encap_flags(10, "encap_flags"): optional uint32 [];
        encap_sport(11, "encap_sport"): optional uint32 [];
        encap_dport(12, "encap_dport"): optional uint32 [];
        rd_prefixlen(13, "rd_prefixlen"): optional uint32 [];
        rd_prefix(14, "rd_prefix"): repeated uint32 [ipadd];
        relay_prefixlen(15, "relay_prefixlen"): optional uint32 [];
        relay_prefix(16, "relay_prefix"): repeated uint32 [ipadd];
    }
}

//! Messages of CRIU's `sk-inet.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ip_opts_raw_entry` (sk-inet.proto).
    IpOptsRawEntry = "ip_opts_raw_entry" {
        hdrincl(1, "hdrincl"): optional bool [];
        nodefrag(2, "nodefrag"): optional bool [];
        checksum(3, "checksum"): optional bool [];
        icmpv_filter(4, "icmpv_filter"): repeated uint32 [];
    }
}

criu_message! {
    /// `ip_opts_entry` (sk-inet.proto).
    IpOptsEntry = "ip_opts_entry" {
        freebind(1, "freebind"): optional bool [];
        raw(4, "raw"): optional message IpOptsRawEntry [];
        pktinfo(5, "pktinfo"): optional bool [];
        tos(6, "tos"): optional uint32 [];
        ttl(7, "ttl"): optional uint32 [];
    }
}

criu_message! {
    /// `inet_sk_entry` (sk-inet.proto).
    InetSkEntry = "inet_sk_entry" {
        id(1, "id"): required uint32 [];
        ino(2, "ino"): required uint32 [];
        family(3, "family"): required uint32 [dict = "sk"];
        r#type(4, "type"): required uint32 [dict = "sk"];
        proto(5, "proto"): required uint32 [dict = "sk"];
        state(6, "state"): required uint32 [dict = "sk"];
        src_port(7, "src_port"): required uint32 [];
        dst_port(8, "dst_port"): required uint32 [];
        flags(9, "flags"): required uint32 [hex];
        backlog(10, "backlog"): required uint32 [];
        src_addr(11, "src_addr"): repeated uint32 [ipadd];
        dst_addr(12, "dst_addr"): repeated uint32 [ipadd];
        fown(13, "fown"): required message FownEntry [];
        opts(14, "opts"): required message SkOptsEntry [];
        v6only(15, "v6only"): optional bool [];
        ip_opts(16, "ip_opts"): optional message IpOptsEntry [];
        ifname(17, "ifname"): optional string [];
        ns_id(18, "ns_id"): optional uint32 [];
        shutdown(19, "shutdown"): optional enumeration SkShutdown [];
        tcp_opts(20, "tcp_opts"): optional message TcpOptsEntry [];
    }
}

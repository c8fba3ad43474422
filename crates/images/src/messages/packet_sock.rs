//! Messages of CRIU's `packet-sock.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `packet_mclist` (packet-sock.proto).
    PacketMclist = "packet_mclist" {
        index(1, "index"): required uint32 [];
        r#type(2, "type"): required uint32 [];
        addr(3, "addr"): required bytes [];
    }
}

criu_message! {
    /// `packet_ring` (packet-sock.proto).
    PacketRing = "packet_ring" {
        block_size(1, "block_size"): required uint32 [];
        block_nr(2, "block_nr"): required uint32 [];
        frame_size(3, "frame_size"): required uint32 [];
        frame_nr(4, "frame_nr"): required uint32 [];
        retire_tmo(5, "retire_tmo"): required uint32 [];
        sizeof_priv(6, "sizeof_priv"): required uint32 [];
        features(7, "features"): required uint32 [];
    }
}

criu_message! {
    /// `packet_sock_entry` (packet-sock.proto).
    PacketSockEntry = "packet_sock_entry" {
        id(1, "id"): required uint32 [];
        r#type(2, "type"): required uint32 [];
        protocol(3, "protocol"): required uint32 [];
        flags(4, "flags"): required uint32 [hex];
        ifindex(5, "ifindex"): required uint32 [];
        fown(6, "fown"): required message FownEntry [];
        opts(7, "opts"): required message SkOptsEntry [];
        version(8, "version"): required uint32 [];
        reserve(9, "reserve"): required uint32 [];
        aux_data(10, "aux_data"): required bool [];
        orig_dev(11, "orig_dev"): required bool [];
        vnet_hdr(12, "vnet_hdr"): required bool [];
        loss(13, "loss"): required bool [];
        timestamp(14, "timestamp"): required uint32 [];
        copy_thresh(15, "copy_thresh"): required uint32 [];
        mclist(16, "mclist"): repeated message PacketMclist [];
        fanout(17, "fanout"): optional uint32 [];
        rx_ring(18, "rx_ring"): optional message PacketRing [];
        tx_ring(19, "tx_ring"): optional message PacketRing [];
        ns_id(20, "ns_id"): optional uint32 [];
    }
}

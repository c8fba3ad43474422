//! Messages of CRIU's `sk-packet.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `scm_entry` (sk-packet.proto).
    ScmEntry = "scm_entry" {
        r#type(1, "type"): required uint32 [];
        rights(2, "rights"): repeated uint32 [];
    }
}

criu_message! {
    /// `sk_packet_entry` (sk-packet.proto).
    SkPacketEntry = "sk_packet_entry" {
        id_for(1, "id_for"): required uint32 [];
        length(2, "length"): required uint32 [];
        scm(4, "scm"): repeated message ScmEntry [];
    }
}

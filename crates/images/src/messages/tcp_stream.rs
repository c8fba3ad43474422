//! Messages of CRIU's `tcp-stream.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `tcp_opts_entry` (tcp-stream.proto).
    TcpOptsEntry = "tcp_opts_entry" {
        cork(1, "cork"): optional bool [];
        nodelay(2, "nodelay"): optional bool [];
        keepcnt(3, "keepcnt"): optional uint32 [];
        keepidle(4, "keepidle"): optional uint32 [];
        keepintvl(5, "keepintvl"): optional uint32 [];
    }
}

criu_message! {
    /// `tcp_stream_entry` (tcp-stream.proto).
    TcpStreamEntry = "tcp_stream_entry" {
        inq_len(1, "inq_len"): required uint32 [];
        inq_seq(2, "inq_seq"): required uint32 [];
        outq_len(3, "outq_len"): required uint32 [];
        outq_seq(4, "outq_seq"): required uint32 [];
        opt_mask(5, "opt_mask"): required uint32 [hex];
        snd_wscale(6, "snd_wscale"): required uint32 [];
        mss_clamp(7, "mss_clamp"): required uint32 [];
        rcv_wscale(8, "rcv_wscale"): optional uint32 [];
        timestamp(9, "timestamp"): optional uint32 [];
        cork(10, "cork"): optional bool [];
        nodelay(11, "nodelay"): optional bool [];
        unsq_len(12, "unsq_len"): optional uint32 [];
        snd_wl1(13, "snd_wl1"): optional uint32 [];
        snd_wnd(14, "snd_wnd"): optional uint32 [];
        max_window(15, "max_window"): optional uint32 [];
        rcv_wnd(16, "rcv_wnd"): optional uint32 [];
        rcv_wup(17, "rcv_wup"): optional uint32 [];
    }
}

//! Messages of CRIU's `sk-opts.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `sk_opts_entry` (sk-opts.proto).
    SkOptsEntry = "sk_opts_entry" {
        so_sndbuf(1, "so_sndbuf"): required uint32 [];
        so_rcvbuf(2, "so_rcvbuf"): required uint32 [];
        so_snd_tmo_sec(3, "so_snd_tmo_sec"): required uint64 [];
        so_snd_tmo_usec(4, "so_snd_tmo_usec"): required uint64 [];
        so_rcv_tmo_sec(5, "so_rcv_tmo_sec"): required uint64 [];
        so_rcv_tmo_usec(6, "so_rcv_tmo_usec"): required uint64 [];
        reuseaddr(7, "reuseaddr"): optional bool [];
        so_priority(8, "so_priority"): optional uint32 [];
        so_rcvlowat(9, "so_rcvlowat"): optional uint32 [];
        so_mark(10, "so_mark"): optional uint32 [];
        so_passcred(11, "so_passcred"): optional bool [];
        so_passsec(12, "so_passsec"): optional bool [];
        so_dontroute(13, "so_dontroute"): optional bool [];
        so_no_check(14, "so_no_check"): optional bool [];
        so_bound_dev(15, "so_bound_dev"): optional string [];
        so_filter(16, "so_filter"): repeated fixed64 [];
        so_reuseport(17, "so_reuseport"): optional bool [];
        so_broadcast(18, "so_broadcast"): optional bool [];
        so_keepalive(19, "so_keepalive"): optional bool [];
        tcp_keepcnt(20, "tcp_keepcnt"): optional uint32 [];
        tcp_keepidle(21, "tcp_keepidle"): optional uint32 [];
        tcp_keepintvl(22, "tcp_keepintvl"): optional uint32 [];
        so_oobinline(23, "so_oobinline"): optional uint32 [];
        so_linger(24, "so_linger"): optional uint32 [];
        so_buf_lock(25, "so_buf_lock"): optional uint32 [];
    }
}

criu_enum! {
    /// `sk_shutdown` (sk-opts.proto).
    SkShutdown = "sk_shutdown" {
        NONE = 0,
        READ = 1,
        WRITE = 2,
        BOTH = 3,
    }
}

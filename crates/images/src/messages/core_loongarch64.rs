//! Messages of CRIU's `core-loongarch64.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_loongarch64_gpregs_entry` (core-loongarch64.proto).
    UserLoongarch64GpregsEntry = "user_loongarch64_gpregs_entry" {
        regs(1, "regs"): repeated uint64 [];
        pc(2, "pc"): required uint64 [];
    }
}

criu_message! {
    /// `user_loongarch64_fpregs_entry` (core-loongarch64.proto).
    UserLoongarch64FpregsEntry = "user_loongarch64_fpregs_entry" {
        regs(1, "regs"): repeated uint64 [];
        fcc(2, "fcc"): required uint64 [];
        fcsr(3, "fcsr"): required uint32 [];
    }
}

criu_message! {
    /// `thread_info_loongarch64` (core-loongarch64.proto).
    ThreadInfoLoongarch64 = "thread_info_loongarch64" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        tls(2, "tls"): required uint64 [];
        gpregs(3, "gpregs"): required message UserLoongarch64GpregsEntry [hex];
        fpregs(4, "fpregs"): required message UserLoongarch64FpregsEntry [hex];
    }
}

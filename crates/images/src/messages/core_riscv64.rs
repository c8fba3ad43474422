//! Messages of CRIU's `core-riscv64.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_riscv64_regs_entry` (core-riscv64.proto).
    UserRiscv64RegsEntry = "user_riscv64_regs_entry" {
        pc(1, "pc"): required uint64 [];
        ra(2, "ra"): required uint64 [];
        sp(3, "sp"): required uint64 [];
        gp(4, "gp"): required uint64 [];
        tp(5, "tp"): required uint64 [];
        t0(6, "t0"): required uint64 [];
        t1(7, "t1"): required uint64 [];
        t2(8, "t2"): required uint64 [];
        s0(9, "s0"): required uint64 [];
        s1(10, "s1"): required uint64 [];
        a0(11, "a0"): required uint64 [];
        a1(12, "a1"): required uint64 [];
        a2(13, "a2"): required uint64 [];
        a3(14, "a3"): required uint64 [];
        a4(15, "a4"): required uint64 [];
        a5(16, "a5"): required uint64 [];
        a6(17, "a6"): required uint64 [];
        a7(18, "a7"): required uint64 [];
        s2(19, "s2"): required uint64 [];
        s3(20, "s3"): required uint64 [];
        s4(21, "s4"): required uint64 [];
        s5(22, "s5"): required uint64 [];
        s6(23, "s6"): required uint64 [];
        s7(24, "s7"): required uint64 [];
        s8(25, "s8"): required uint64 [];
        s9(26, "s9"): required uint64 [];
        s10(27, "s10"): required uint64 [];
        s11(28, "s11"): required uint64 [];
        t3(29, "t3"): required uint64 [];
        t4(30, "t4"): required uint64 [];
        t5(31, "t5"): required uint64 [];
        t6(32, "t6"): required uint64 [];
    }
}

criu_message! {
    /// `user_riscv64_d_ext_entry` (core-riscv64.proto).
    UserRiscv64DExtEntry = "user_riscv64_d_ext_entry" {
        f(1, "f"): repeated uint64 [];
        fcsr(2, "fcsr"): required uint32 [];
    }
}

criu_message! {
    /// `thread_info_riscv64` (core-riscv64.proto).
    ThreadInfoRiscv64 = "thread_info_riscv64" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        tls(2, "tls"): required uint64 [];
        gpregs(3, "gpregs"): required message UserRiscv64RegsEntry [hex];
        fpsimd(4, "fpsimd"): required message UserRiscv64DExtEntry [];
    }
}

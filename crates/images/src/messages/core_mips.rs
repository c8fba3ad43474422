//! Messages of CRIU's `core-mips.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_mips_regs_entry` (core-mips.proto).
    UserMipsRegsEntry = "user_mips_regs_entry" {
        r0(1, "r0"): required uint64 [];
        r1(2, "r1"): required uint64 [];
        r2(3, "r2"): required uint64 [];
        r3(4, "r3"): required uint64 [];
        r4(5, "r4"): required uint64 [];
        r5(6, "r5"): required uint64 [];
        r6(7, "r6"): required uint64 [];
        r7(8, "r7"): required uint64 [];
        r8(9, "r8"): required uint64 [];
        r9(10, "r9"): required uint64 [];
        r10(11, "r10"): required uint64 [];
        r11(12, "r11"): required uint64 [];
        r12(13, "r12"): required uint64 [];
        r13(14, "r13"): required uint64 [];
        r14(15, "r14"): required uint64 [];
        r15(16, "r15"): required uint64 [];
        r16(17, "r16"): required uint64 [];
        r17(18, "r17"): required uint64 [];
        r18(19, "r18"): required uint64 [];
        r19(20, "r19"): required uint64 [];
        r20(21, "r20"): required uint64 [];
        r21(22, "r21"): required uint64 [];
        r22(23, "r22"): required uint64 [];
        r23(24, "r23"): required uint64 [];
        r24(25, "r24"): required uint64 [];
        r25(26, "r25"): required uint64 [];
        r26(27, "r26"): required uint64 [];
        r27(28, "r27"): required uint64 [];
        r28(29, "r28"): required uint64 [];
        r29(30, "r29"): required uint64 [];
        r30(31, "r30"): required uint64 [];
        r31(32, "r31"): required uint64 [];
        lo(33, "lo"): required uint64 [];
        hi(34, "hi"): required uint64 [];
        cp0_epc(35, "cp0_epc"): required uint64 [];
        cp0_badvaddr(36, "cp0_badvaddr"): required uint64 [];
        cp0_status(37, "cp0_status"): required uint64 [];
        cp0_cause(38, "cp0_cause"): required uint64 [];
    }
}

criu_message! {
    /// `user_mips_fpregs_entry` (core-mips.proto).
    UserMipsFpregsEntry = "user_mips_fpregs_entry" {
        r0(1, "r0"): required uint64 [];
        r1(2, "r1"): required uint64 [];
        r2(3, "r2"): required uint64 [];
        r3(4, "r3"): required uint64 [];
        r4(5, "r4"): required uint64 [];
        r5(6, "r5"): required uint64 [];
        r6(7, "r6"): required uint64 [];
        r7(8, "r7"): required uint64 [];
        r8(9, "r8"): required uint64 [];
        r9(10, "r9"): required uint64 [];
        r10(11, "r10"): required uint64 [];
        r11(12, "r11"): required uint64 [];
        r12(13, "r12"): required uint64 [];
        r13(14, "r13"): required uint64 [];
        r14(15, "r14"): required uint64 [];
        r15(16, "r15"): required uint64 [];
        r16(17, "r16"): required uint64 [];
        r17(18, "r17"): required uint64 [];
        r18(19, "r18"): required uint64 [];
        r19(20, "r19"): required uint64 [];
        r20(21, "r20"): required uint64 [];
        r21(22, "r21"): required uint64 [];
        r22(23, "r22"): required uint64 [];
        r23(24, "r23"): required uint64 [];
        r24(25, "r24"): required uint64 [];
        r25(26, "r25"): required uint64 [];
        r26(27, "r26"): required uint64 [];
        r27(28, "r27"): required uint64 [];
        r28(29, "r28"): required uint64 [];
        r29(30, "r29"): required uint64 [];
        r30(31, "r30"): required uint64 [];
        r31(32, "r31"): required uint64 [];
        lo(33, "lo"): required uint64 [];
        hi(34, "hi"): required uint64 [];
        fpu_fcr31(35, "fpu_fcr31"): required uint32 [];
        fpu_id(36, "fpu_id"): required uint32 [];
    }
}

criu_message! {
    /// `thread_info_mips` (core-mips.proto).
    ThreadInfoMips = "thread_info_mips" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        tls(2, "tls"): required uint64 [];
        gpregs(3, "gpregs"): required message UserMipsRegsEntry [hex];
        fpregs(4, "fpregs"): required message UserMipsFpregsEntry [hex];
    }
}

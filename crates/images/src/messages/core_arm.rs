//! Messages of CRIU's `core-arm.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_arm_regs_entry` (core-arm.proto).
    UserArmRegsEntry = "user_arm_regs_entry" {
        r0(1, "r0"): required uint32 [];
        r1(2, "r1"): required uint32 [];
        r2(3, "r2"): required uint32 [];
        r3(4, "r3"): required uint32 [];
        r4(5, "r4"): required uint32 [];
        r5(6, "r5"): required uint32 [];
        r6(7, "r6"): required uint32 [];
        r7(8, "r7"): required uint32 [];
        r8(9, "r8"): required uint32 [];
        r9(10, "r9"): required uint32 [];
        r10(11, "r10"): required uint32 [];
        fp(12, "fp"): required uint32 [];
        ip(13, "ip"): required uint32 [];
        sp(14, "sp"): required uint32 [];
        lr(15, "lr"): required uint32 [];
        pc(16, "pc"): required uint32 [];
        cpsr(17, "cpsr"): required uint32 [];
        orig_r0(18, "orig_r0"): required uint32 [];
    }
}

criu_message! {
    /// `user_arm_vfpstate_entry` (core-arm.proto).
    UserArmVfpstateEntry = "user_arm_vfpstate_entry" {
        vfp_regs(1, "vfp_regs"): repeated uint64 [];
        fpscr(2, "fpscr"): required uint32 [];
        fpexc(3, "fpexc"): required uint32 [];
        fpinst(4, "fpinst"): required uint32 [];
        fpinst2(5, "fpinst2"): required uint32 [];
    }
}

criu_message! {
    /// `thread_info_arm` (core-arm.proto).
    ThreadInfoArm = "thread_info_arm" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        tls(2, "tls"): required uint32 [];
        gpregs(3, "gpregs"): required message UserArmRegsEntry [hex];
        fpstate(4, "fpstate"): required message UserArmVfpstateEntry [];
    }
}

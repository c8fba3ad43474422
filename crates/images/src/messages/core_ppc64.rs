//! Messages of CRIU's `core-ppc64.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_ppc64_regs_entry` (core-ppc64.proto).
    UserPpc64RegsEntry = "user_ppc64_regs_entry" {
        gpr(1, "gpr"): repeated uint64 [];
        nip(2, "nip"): required uint64 [];
        msr(3, "msr"): required uint64 [];
        orig_gpr3(4, "orig_gpr3"): required uint64 [];
        ctr(5, "ctr"): required uint64 [];
        link(6, "link"): required uint64 [];
        xer(7, "xer"): required uint64 [];
        ccr(8, "ccr"): required uint64 [];
        trap(9, "trap"): required uint64 [];
        texasr(10, "texasr"): optional uint64 [];
        tfhar(11, "tfhar"): optional uint64 [];
        tfiar(12, "tfiar"): optional uint64 [];
    }
}

criu_message! {
    /// `user_ppc64_fpstate_entry` (core-ppc64.proto).
    UserPpc64FpstateEntry = "user_ppc64_fpstate_entry" {
        fpregs(1, "fpregs"): repeated uint64 [];
    }
}

criu_message! {
    /// `user_ppc64_vrstate_entry` (core-ppc64.proto).
    UserPpc64VrstateEntry = "user_ppc64_vrstate_entry" {
        vrregs(1, "vrregs"): repeated uint64 [];
        vrsave(2, "vrsave"): required uint32 [];
    }
}

criu_message! {
    /// `user_ppc64_vsxstate_entry` (core-ppc64.proto).
    UserPpc64VsxstateEntry = "user_ppc64_vsxstate_entry" {
        vsxregs(1, "vsxregs"): repeated uint64 [];
    }
}

criu_message! {
    /// `user_ppc64_tm_regs_entry` (core-ppc64.proto).
    UserPpc64TmRegsEntry = "user_ppc64_tm_regs_entry" {
        gpregs(1, "gpregs"): required message UserPpc64RegsEntry [];
        fpstate(2, "fpstate"): optional message UserPpc64FpstateEntry [];
        vrstate(3, "vrstate"): optional message UserPpc64VrstateEntry [];
        vsxstate(4, "vsxstate"): optional message UserPpc64VsxstateEntry [];
    }
}

criu_message! {
    /// `thread_info_ppc64` (core-ppc64.proto).
    ThreadInfoPpc64 = "thread_info_ppc64" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        gpregs(2, "gpregs"): required message UserPpc64RegsEntry [hex];
        fpstate(3, "fpstate"): optional message UserPpc64FpstateEntry [];
        vrstate(4, "vrstate"): optional message UserPpc64VrstateEntry [];
        vsxstate(5, "vsxstate"): optional message UserPpc64VsxstateEntry [];
        tmstate(6, "tmstate"): optional message UserPpc64TmRegsEntry [];
    }
}

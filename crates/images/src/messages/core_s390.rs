//! Messages of CRIU's `core-s390.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_s390_regs_entry` (core-s390.proto).
    UserS390RegsEntry = "user_s390_regs_entry" {
        psw_mask(1, "psw_mask"): required uint64 [];
        psw_addr(2, "psw_addr"): required uint64 [];
        gprs(3, "gprs"): repeated uint64 [];
        acrs(4, "acrs"): repeated uint32 [];
        orig_gpr2(5, "orig_gpr2"): required uint64 [];
        system_call(6, "system_call"): required uint32 [];
    }
}

criu_message! {
    /// `user_s390_vxrs_low_entry` (core-s390.proto).
    UserS390VxrsLowEntry = "user_s390_vxrs_low_entry" {
        regs(1, "regs"): repeated uint64 [];
    }
}

criu_message! {
    /// `user_s390_vxrs_high_entry` (core-s390.proto).
    UserS390VxrsHighEntry = "user_s390_vxrs_high_entry" {
        regs(1, "regs"): repeated uint64 [];
    }
}

criu_message! {
    /// `user_s390_fpregs_entry` (core-s390.proto).
    UserS390FpregsEntry = "user_s390_fpregs_entry" {
        fpc(1, "fpc"): required uint32 [];
        fprs(2, "fprs"): repeated uint64 [];
    }
}

criu_message! {
    /// `user_s390_gs_cb_entry` (core-s390.proto).
    UserS390GsCbEntry = "user_s390_gs_cb_entry" {
        regs(1, "regs"): repeated uint64 [];
    }
}

criu_message! {
    /// `user_s390_ri_entry` (core-s390.proto).
    UserS390RiEntry = "user_s390_ri_entry" {
        ri_on(1, "ri_on"): required uint32 [];
        regs(2, "regs"): repeated uint64 [];
    }
}

criu_message! {
    /// `thread_info_s390` (core-s390.proto).
    ThreadInfoS390 = "thread_info_s390" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        gpregs(2, "gpregs"): required message UserS390RegsEntry [hex];
        fpregs(3, "fpregs"): required message UserS390FpregsEntry [hex];
        vxrs_low(4, "vxrs_low"): optional message UserS390VxrsLowEntry [hex];
        vxrs_high(5, "vxrs_high"): optional message UserS390VxrsHighEntry [hex];
        gs_cb(6, "gs_cb"): optional message UserS390GsCbEntry [hex];
        gs_bc(7, "gs_bc"): optional message UserS390GsCbEntry [hex];
        ri_cb(8, "ri_cb"): optional message UserS390RiEntry [hex];
    }
}

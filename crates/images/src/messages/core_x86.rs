//! Messages of CRIU's `core-x86.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `user_x86_regs_mode` (core-x86.proto).
    UserX86RegsMode = "user_x86_regs_mode" {
        NATIVE = 1,
        COMPAT = 2,
    }
}

criu_message! {
    /// `user_x86_regs_entry` (core-x86.proto).
    UserX86RegsEntry = "user_x86_regs_entry" {
        r15(1, "r15"): required uint64 [];
        r14(2, "r14"): required uint64 [];
        r13(3, "r13"): required uint64 [];
        r12(4, "r12"): required uint64 [];
        bp(5, "bp"): required uint64 [];
        bx(6, "bx"): required uint64 [];
        r11(7, "r11"): required uint64 [];
        r10(8, "r10"): required uint64 [];
        r9(9, "r9"): required uint64 [];
        r8(10, "r8"): required uint64 [];
        ax(11, "ax"): required uint64 [];
        cx(12, "cx"): required uint64 [];
        dx(13, "dx"): required uint64 [];
        si(14, "si"): required uint64 [];
        di(15, "di"): required uint64 [];
        orig_ax(16, "orig_ax"): required uint64 [];
        ip(17, "ip"): required uint64 [];
        cs(18, "cs"): required uint64 [];
        flags(19, "flags"): required uint64 [];
        sp(20, "sp"): required uint64 [];
        ss(21, "ss"): required uint64 [];
        fs_base(22, "fs_base"): required uint64 [];
        gs_base(23, "gs_base"): required uint64 [];
        ds(24, "ds"): required uint64 [];
        es(25, "es"): required uint64 [];
        fs(26, "fs"): required uint64 [];
        gs(27, "gs"): required uint64 [];
        mode(28, "mode"): optional enumeration UserX86RegsMode [];
    }
}

criu_message! {
    /// `user_x86_cet_entry` (core-x86.proto).
    UserX86CetEntry = "user_x86_cet_entry" {
        cet(1, "cet"): required uint64 [hex];
        ssp(2, "ssp"): required uint64 [hex];
    }
}

criu_message! {
    /// `user_x86_xsave_entry` (core-x86.proto).
    UserX86XsaveEntry = "user_x86_xsave_entry" {
        xstate_bv(1, "xstate_bv"): required uint64 [];
        ymmh_space(2, "ymmh_space"): repeated uint32 [];
        bndreg_state(3, "bndreg_state"): repeated uint64 [];
        bndcsr_state(4, "bndcsr_state"): repeated uint64 [];
        opmask_reg(5, "opmask_reg"): repeated uint64 [];
        zmm_upper(6, "zmm_upper"): repeated uint64 [];
        hi16_zmm(7, "hi16_zmm"): repeated uint64 [];
        pkru(8, "pkru"): repeated uint32 [];
        cet(9, "cet"): optional message UserX86CetEntry [];
    }
}

criu_message! {
    /// `user_x86_fpregs_entry` (core-x86.proto).
    UserX86FpregsEntry = "user_x86_fpregs_entry" {
        cwd(1, "cwd"): required uint32 [];
        swd(2, "swd"): required uint32 [];
        twd(3, "twd"): required uint32 [];
        fop(4, "fop"): required uint32 [];
        rip(5, "rip"): required uint64 [];
        rdp(6, "rdp"): required uint64 [];
        mxcsr(7, "mxcsr"): required uint32 [];
        mxcsr_mask(8, "mxcsr_mask"): required uint32 [];
        st_space(9, "st_space"): repeated uint32 [];
        xmm_space(10, "xmm_space"): repeated uint32 [];
        padding(11, "padding"): repeated uint32 [];
        xsave(13, "xsave"): optional message UserX86XsaveEntry [];
    }
}

criu_message! {
    /// `user_desc_t` (core-x86.proto).
    UserDescT = "user_desc_t" {
        entry_number(1, "entry_number"): required uint32 [];
        base_addr(2, "base_addr"): required uint32 [];
        limit(3, "limit"): required uint32 [];
        seg_32bit(4, "seg_32bit"): required bool [];
        contents_h(5, "contents_h"): required bool [];
        contents_l(6, "contents_l"): required bool [];
        read_exec_only(7, "read_exec_only"): required bool [];
        limit_in_pages(8, "limit_in_pages"): required bool [];
        seg_not_present(9, "seg_not_present"): required bool [];
        usable(10, "usable"): required bool [];
    }
}

criu_message! {
    /// `thread_info_x86` (core-x86.proto).
    ThreadInfoX86 = "thread_info_x86" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        gpregs(2, "gpregs"): required message UserX86RegsEntry [hex];
        fpregs(3, "fpregs"): required message UserX86FpregsEntry [];
        tls(4, "tls"): repeated message UserDescT [];
    }
}

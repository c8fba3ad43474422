//! Messages of CRIU's `core-aarch64.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `user_aarch64_regs_entry` (core-aarch64.proto).
    UserAarch64RegsEntry = "user_aarch64_regs_entry" {
        regs(1, "regs"): repeated uint64 [];
        sp(2, "sp"): required uint64 [];
        pc(3, "pc"): required uint64 [];
        pstate(4, "pstate"): required uint64 [];
    }
}

criu_message! {
    /// `user_aarch64_fpsimd_context_entry` (core-aarch64.proto).
    UserAarch64FpsimdContextEntry = "user_aarch64_fpsimd_context_entry" {
        vregs(1, "vregs"): repeated uint64 [];
        fpsr(2, "fpsr"): required uint32 [];
        fpcr(3, "fpcr"): required uint32 [];
    }
}

criu_message! {
    /// `pac_address_keys` (core-aarch64.proto).
    PacAddressKeys = "pac_address_keys" {
        apiakey_lo(1, "apiakey_lo"): required uint64 [];
        apiakey_hi(2, "apiakey_hi"): required uint64 [];
        apibkey_lo(3, "apibkey_lo"): required uint64 [];
        apibkey_hi(4, "apibkey_hi"): required uint64 [];
        apdakey_lo(5, "apdakey_lo"): required uint64 [];
        apdakey_hi(6, "apdakey_hi"): required uint64 [];
        apdbkey_lo(7, "apdbkey_lo"): required uint64 [];
        apdbkey_hi(8, "apdbkey_hi"): required uint64 [];
        pac_enabled_key(9, "pac_enabled_key"): required uint64 [];
    }
}

criu_message! {
    /// `pac_generic_keys` (core-aarch64.proto).
    PacGenericKeys = "pac_generic_keys" {
        apgakey_lo(1, "apgakey_lo"): required uint64 [];
        apgakey_hi(2, "apgakey_hi"): required uint64 [];
    }
}

criu_message! {
    /// `pac_keys` (core-aarch64.proto).
    PacKeys = "pac_keys" {
        pac_address_keys(6, "pac_address_keys"): optional message PacAddressKeys [];
        pac_generic_keys(7, "pac_generic_keys"): optional message PacGenericKeys [];
    }
}

criu_message! {
    /// `thread_info_aarch64` (core-aarch64.proto).
    ThreadInfoAarch64 = "thread_info_aarch64" {
        clear_tid_addr(1, "clear_tid_addr"): required uint64 [hex];
        tls(2, "tls"): required uint64 [];
        gpregs(3, "gpregs"): required message UserAarch64RegsEntry [hex];
        fpsimd(4, "fpsimd"): required message UserAarch64FpsimdContextEntry [];
        pac_keys(5, "pac_keys"): optional message PacKeys [];
    }
}

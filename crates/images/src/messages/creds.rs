//! Messages of CRIU's `creds.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `creds_entry` (creds.proto).
    CredsEntry = "creds_entry" {
        uid(1, "uid"): required uint32 [];
        gid(2, "gid"): required uint32 [];
        euid(3, "euid"): required uint32 [];
        egid(4, "egid"): required uint32 [];
        suid(5, "suid"): required uint32 [];
        sgid(6, "sgid"): required uint32 [];
        fsuid(7, "fsuid"): required uint32 [];
        fsgid(8, "fsgid"): required uint32 [];
        cap_inh(9, "cap_inh"): repeated uint32 [];
        cap_prm(10, "cap_prm"): repeated uint32 [];
        cap_eff(11, "cap_eff"): repeated uint32 [];
        cap_bnd(12, "cap_bnd"): repeated uint32 [];
        secbits(13, "secbits"): required uint32 [];
        groups(14, "groups"): repeated uint32 [];
        lsm_profile(15, "lsm_profile"): optional string [];
        lsm_sockcreate(16, "lsm_sockcreate"): optional string [];
        apparmor_data(17, "apparmor_data"): optional bytes [];
        no_new_privs(18, "no_new_privs"): optional uint32 [];
        cap_amb(19, "cap_amb"): repeated uint32 [];
    }
}

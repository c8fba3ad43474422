//! Messages of CRIU's `fown.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `fown_entry` (fown.proto).
    FownEntry = "fown_entry" {
        uid(1, "uid"): required uint32 [];
        euid(2, "euid"): required uint32 [];
        signum(3, "signum"): required uint32 [];
        pid_type(4, "pid_type"): required uint32 [];
        pid(5, "pid"): required uint32 [];
    }
}

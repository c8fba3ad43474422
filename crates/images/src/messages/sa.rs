//! Messages of CRIU's `sa.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `sa_entry` (sa.proto).
    SaEntry = "sa_entry" {
        sigaction(1, "sigaction"): required uint64 [hex];
        flags(2, "flags"): required uint64 [hex];
        restorer(3, "restorer"): required uint64 [hex];
        mask(4, "mask"): required uint64 [hex];
        compat_sigaction(5, "compat_sigaction"): optional bool [];
        mask_extended(6, "mask_extended"): optional uint64 [hex];
    }
}

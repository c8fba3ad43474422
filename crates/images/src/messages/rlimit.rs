//! Messages of CRIU's `rlimit.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `rlimit_entry` (rlimit.proto).
    RlimitEntry = "rlimit_entry" {
        cur(1, "cur"): required uint64 [];
        max(2, "max"): required uint64 [];
    }
}

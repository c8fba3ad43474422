//! Messages of CRIU's `pidns.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `pidns_entry` (pidns.proto).
    PidnsEntry = "pidns_entry" {
        ext_key(1, "ext_key"): optional string [];
    }
}

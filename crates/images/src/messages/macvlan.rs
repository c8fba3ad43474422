//! Messages of CRIU's `macvlan.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `macvlan_link_entry` (macvlan.proto).
    MacvlanLinkEntry = "macvlan_link_entry" {
        mode(1, "mode"): required uint32 [];
        flags(2, "flags"): optional uint32 [];
    }
}

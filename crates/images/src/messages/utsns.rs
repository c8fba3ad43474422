//! Messages of CRIU's `utsns.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `utsns_entry` (utsns.proto).
    UtsnsEntry = "utsns_entry" {
        nodename(1, "nodename"): required string [];
        domainname(2, "domainname"): required string [];
    }
}

//! Messages of CRIU's `ns.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ns_file_entry` (ns.proto).
    NsFileEntry = "ns_file_entry" {
        id(1, "id"): required uint32 [];
        ns_id(2, "ns_id"): required uint32 [];
        ns_cflag(3, "ns_cflag"): required uint32 [];
        flags(4, "flags"): required uint32 [];
    }
}

//! Messages of CRIU's `pstree.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `pstree_entry` (pstree.proto).
    PstreeEntry = "pstree_entry" {
        pid(1, "pid"): required uint32 [];
        ppid(2, "ppid"): required uint32 [];
        pgid(3, "pgid"): required uint32 [];
        sid(4, "sid"): required uint32 [];
        threads(5, "threads"): repeated uint32 [];
    }
}

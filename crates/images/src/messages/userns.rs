//! Messages of CRIU's `userns.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `uid_gid_extent` (userns.proto).
    UidGidExtent = "uid_gid_extent" {
        first(1, "first"): required uint32 [];
        lower_first(2, "lower_first"): required uint32 [];
        count(3, "count"): required uint32 [];
    }
}

criu_message! {
    /// `userns_entry` (userns.proto).
    UsernsEntry = "userns_entry" {
        uid_map(1, "uid_map"): repeated message UidGidExtent [];
        gid_map(2, "gid_map"): repeated message UidGidExtent [];
    }
}

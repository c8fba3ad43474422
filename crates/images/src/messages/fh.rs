//! Messages of CRIU's `fh.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `fh_entry_sizes` (fh.proto).
    FhEntrySizes = "fh_entry_sizes" {
        min_entries = 16,
    }
}

criu_message! {
    /// `fh_entry` (fh.proto).
    FhEntry = "fh_entry" {
        bytes(1, "bytes"): required uint32 [];
        r#type(2, "type"): required uint32 [];
        handle(3, "handle"): repeated uint64 [];
        path(4, "path"): optional string [];
        mnt_id(5, "mnt_id"): optional uint32 [];
    }
}

criu_message! {
    /// `irmap_cache_entry` (fh.proto).
    IrmapCacheEntry = "irmap_cache_entry" {
        dev(1, "dev"): required uint32 [dev, odev];
        inode(2, "inode"): required uint64 [];
        path(3, "path"): required string [];
    }
}

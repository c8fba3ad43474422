//! Messages of CRIU's `remap-file-path.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `remap_type` (remap-file-path.proto).
    RemapType = "remap_type" {
        LINKED = 0,
        GHOST = 1,
        PROCFS = 2,
    }
}

criu_message! {
    /// `remap_file_path_entry` (remap-file-path.proto).
    RemapFilePathEntry = "remap_file_path_entry" {
        orig_id(1, "orig_id"): required uint32 [];
        remap_id(2, "remap_id"): required uint32 [];
        remap_type(3, "remap_type"): optional enumeration RemapType [];
    }
}

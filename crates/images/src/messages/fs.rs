//! Messages of CRIU's `fs.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `fs_entry` (fs.proto).
    FsEntry = "fs_entry" {
        cwd_id(1, "cwd_id"): required uint32 [];
        root_id(2, "root_id"): required uint32 [];
        umask(3, "umask"): optional uint32 [];
    }
}

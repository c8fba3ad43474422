//! Messages of CRIU's `file-lock.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `file_lock_entry` (file-lock.proto).
    FileLockEntry = "file_lock_entry" {
        flag(1, "flag"): required uint32 [];
        r#type(2, "type"): required uint32 [];
        pid(3, "pid"): required int32 [];
        fd(4, "fd"): required int32 [];
        start(5, "start"): required int64 [];
        len(6, "len"): required int64 [];
    }
}

//! Messages of CRIU's `autofs.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `autofs_entry` (autofs.proto).
    AutofsEntry = "autofs_entry" {
        fd(1, "fd"): required int32 [];
        pgrp(2, "pgrp"): required int32 [];
        timeout(3, "timeout"): required int32 [];
        minproto(4, "minproto"): required int32 [];
        maxproto(5, "maxproto"): required int32 [];
        mode(6, "mode"): required int32 [];
        uid(7, "uid"): optional int32 [];
        gid(8, "gid"): optional int32 [];
        read_fd(9, "read_fd"): optional int32 [];
    }
}

//! Messages of CRIU's `timens.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `timespec` (timens.proto).
    Timespec = "timespec" {
        tv_sec(1, "tv_sec"): required uint64 [];
        tv_nsec(2, "tv_nsec"): required uint64 [];
    }
}

criu_message! {
    /// `timens_entry` (timens.proto).
    TimensEntry = "timens_entry" {
        monotonic(1, "monotonic"): required message Timespec [];
        boottime(2, "boottime"): required message Timespec [];
    }
}

//! Messages of CRIU's `time.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `timeval` (time.proto).
    Timeval = "timeval" {
        tv_sec(1, "tv_sec"): required uint64 [];
        tv_usec(2, "tv_usec"): required uint64 [];
    }
}

//! Messages of CRIU's `seccomp.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `seccomp_filter` (seccomp.proto).
    SeccompFilter = "seccomp_filter" {
        filter(1, "filter"): required bytes [];
        prev(2, "prev"): optional uint32 [];
        flags(3, "flags"): optional uint32 [];
    }
}

criu_message! {
    /// `seccomp_entry` (seccomp.proto).
    SeccompEntry = "seccomp_entry" {
        seccomp_filters(1, "seccomp_filters"): repeated message SeccompFilter [];
    }
}

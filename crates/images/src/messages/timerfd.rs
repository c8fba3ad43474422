//! Messages of CRIU's `timerfd.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `timerfd_entry` (timerfd.proto).
    TimerfdEntry = "timerfd_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [hex];
        fown(3, "fown"): required message FownEntry [];
        clockid(4, "clockid"): required uint32 [];
        ticks(5, "ticks"): required uint64 [];
        settime_flags(6, "settime_flags"): required uint32 [hex];
        vsec(7, "vsec"): required uint64 [];
        vnsec(8, "vnsec"): required uint64 [];
        isec(9, "isec"): required uint64 [];
        insec(10, "insec"): required uint64 [];
    }
}

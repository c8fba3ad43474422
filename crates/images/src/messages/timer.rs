//! Messages of CRIU's `timer.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `itimer_entry` (timer.proto).
    ItimerEntry = "itimer_entry" {
        isec(1, "isec"): required uint64 [];
        iusec(2, "iusec"): required uint64 [];
        vsec(3, "vsec"): required uint64 [];
        vusec(4, "vusec"): required uint64 [];
    }
}

criu_message! {
    /// `posix_timer_entry` (timer.proto).
    PosixTimerEntry = "posix_timer_entry" {
        it_id(1, "it_id"): required uint32 [];
        clock_id(2, "clock_id"): required uint32 [];
        si_signo(3, "si_signo"): required uint32 [];
        it_sigev_notify(4, "it_sigev_notify"): required uint32 [];
        sival_ptr(5, "sival_ptr"): required uint64 [];
        overrun(6, "overrun"): required uint32 [];
        isec(7, "isec"): required uint64 [];
        insec(8, "insec"): required uint64 [];
        vsec(9, "vsec"): required uint64 [];
        vnsec(10, "vnsec"): required uint64 [];
        notify_thread_id(11, "notify_thread_id"): optional int32 [];
    }
}

criu_message! {
    /// `task_timers_entry` (timer.proto).
    TaskTimersEntry = "task_timers_entry" {
        real(1, "real"): required message ItimerEntry [];
        virt(2, "virt"): required message ItimerEntry [];
        prof(3, "prof"): required message ItimerEntry [];
        posix(4, "posix"): repeated message PosixTimerEntry [];
    }
}

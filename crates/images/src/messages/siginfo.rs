//! Messages of CRIU's `siginfo.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `siginfo_entry` (siginfo.proto).
    SiginfoEntry = "siginfo_entry" {
        siginfo(1, "siginfo"): required bytes [];
    }
}

criu_message! {
    /// `signal_queue_entry` (siginfo.proto).
    SignalQueueEntry = "signal_queue_entry" {
        signals(1, "signals"): repeated message SiginfoEntry [];
    }
}

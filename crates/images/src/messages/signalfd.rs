//! Messages of CRIU's `signalfd.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `signalfd_entry` (signalfd.proto).
    SignalfdEntry = "signalfd_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [hex];
        fown(3, "fown"): required message FownEntry [];
        sigmask(4, "sigmask"): required uint64 [hex];
    }
}

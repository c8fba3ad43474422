//! Messages of CRIU's `sysctl.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `SysctlType` (sysctl.proto).
    SysctlType = "SysctlType" {
        CTL_STR = 5,
        CTL_32 = 6,
    }
}

criu_message! {
    /// `sysctl_entry` (sysctl.proto).
    SysctlEntry = "sysctl_entry" {
        r#type(1, "type"): required enumeration SysctlType [];
        iarg(2, "iarg"): optional int32 [];
        sarg(3, "sarg"): optional string [];
    }
}

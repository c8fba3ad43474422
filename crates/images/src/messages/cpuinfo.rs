//! Messages of CRIU's `cpuinfo.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `cpuinfo_x86_entry` (cpuinfo.proto).
    CpuinfoX86Entry = "cpuinfo_x86_entry" {
        vendor_id(1, "vendor_id"): required enumeration CpuinfoX86EntryVendor [];
        cpu_family(2, "cpu_family"): required uint32 [];
        model(3, "model"): required uint32 [];
        stepping(4, "stepping"): required uint32 [];
        capability_ver(5, "capability_ver"): required uint32 [];
        capability(6, "capability"): repeated uint32 [];
        model_id(7, "model_id"): optional string [];
        xfeatures_mask(8, "xfeatures_mask"): optional uint64 [];
        xsave_size(9, "xsave_size"): optional uint32 [];
        xsave_size_max(10, "xsave_size_max"): optional uint32 [];
    }
}

criu_enum! {
    /// `cpuinfo_x86_entry.vendor` (cpuinfo.proto).
    CpuinfoX86EntryVendor = "vendor" {
        UNKNOWN = 0,
        INTEL = 1,
        AMD = 2,
    }
}

criu_message! {
    /// `cpuinfo_ppc64_entry` (cpuinfo.proto).
    CpuinfoPpc64Entry = "cpuinfo_ppc64_entry" {
        endian(1, "endian"): required enumeration CpuinfoPpc64EntryEndianness [];
        hwcap(2, "hwcap"): repeated uint64 [];
    }
}

criu_enum! {
    /// `cpuinfo_ppc64_entry.endianness` (cpuinfo.proto).
    CpuinfoPpc64EntryEndianness = "endianness" {
        BIGENDIAN = 0,
        LITTLEENDIAN = 1,
    }
}

criu_message! {
    /// `cpuinfo_s390_entry` (cpuinfo.proto).
    CpuinfoS390Entry = "cpuinfo_s390_entry" {
        hwcap(2, "hwcap"): repeated uint64 [];
    }
}

criu_message! {
    /// `cpuinfo_entry` (cpuinfo.proto).
    CpuinfoEntry = "cpuinfo_entry" {
        x86_entry(1, "x86_entry"): repeated message CpuinfoX86Entry [];
        ppc64_entry(2, "ppc64_entry"): repeated message CpuinfoPpc64Entry [];
        s390_entry(3, "s390_entry"): repeated message CpuinfoS390Entry [];
    }
}

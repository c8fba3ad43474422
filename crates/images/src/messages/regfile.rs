//! Messages of CRIU's `regfile.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `reg_file_entry` (regfile.proto).
    RegFileEntry = "reg_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [flags = "rfile.flags"];
        pos(3, "pos"): required uint64 [];
        fown(5, "fown"): required message FownEntry [];
        name(6, "name"): required string [];
        mnt_id(7, "mnt_id"): optional sint32 [];
        size(8, "size"): optional uint64 [];
        ext(9, "ext"): optional bool [];
        mode(10, "mode"): optional uint32 [];
        build_id(11, "build_id"): repeated uint32 [];
        checksum(12, "checksum"): optional uint32 [];
        checksum_config(13, "checksum_config"): optional uint32 [];
        checksum_parameter(14, "checksum_parameter"): optional uint32 [];
    }
}

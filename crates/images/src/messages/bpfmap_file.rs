//! Messages of CRIU's `bpfmap-file.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `bpfmap_file_entry` (bpfmap-file.proto).
    BpfmapFileEntry = "bpfmap_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [flags = "rfile.flags"];
        pos(3, "pos"): required uint64 [];
        fown(4, "fown"): required message FownEntry [];
        map_type(5, "map_type"): required uint32 [];
        key_size(6, "key_size"): required uint32 [];
        value_size(7, "value_size"): required uint32 [];
        map_id(8, "map_id"): required uint32 [];
        max_entries(9, "max_entries"): required uint32 [];
        map_flags(10, "map_flags"): required uint32 [];
        memlock(11, "memlock"): required uint64 [];
        frozen(12, "frozen"): required bool [];
        map_name(13, "map_name"): required string [];
        ifindex(14, "ifindex"): required uint32 [];
        mnt_id(15, "mnt_id"): optional sint32 [];
        map_extra(16, "map_extra"): optional uint64 [];
    }
}

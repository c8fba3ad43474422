//! Messages of CRIU's `bpfmap-data.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `bpfmap_data_entry` (bpfmap-data.proto).
    BpfmapDataEntry = "bpfmap_data_entry" {
        map_id(1, "map_id"): required uint32 [];
        keys_bytes(2, "keys_bytes"): required uint32 [];
        values_bytes(3, "values_bytes"): required uint32 [];
        count(4, "count"): required uint32 [];
    }
}

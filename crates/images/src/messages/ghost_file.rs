//! Messages of CRIU's `ghost-file.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `ghost_file_entry` (ghost-file.proto).
    GhostFileEntry = "ghost_file_entry" {
        uid(1, "uid"): required uint32 [];
        gid(2, "gid"): required uint32 [];
        mode(3, "mode"): required uint32 [];
        dev(4, "dev"): optional uint32 [dev];
        ino(5, "ino"): optional uint64 [];
        rdev(6, "rdev"): optional uint32 [dev, odev];
        atim(7, "atim"): optional message Timeval [];
        mtim(8, "mtim"): optional message Timeval [];
        chunks(9, "chunks"): optional bool [];
        size(10, "size"): optional uint64 [];
        symlnk_target(11, "symlnk_target"): optional string [];
    }
}

criu_message! {
    /// `ghost_chunk_entry` (ghost-file.proto).
    GhostChunkEntry = "ghost_chunk_entry" {
        len(1, "len"): required uint64 [];
        off(2, "off"): required uint64 [];
    }
}

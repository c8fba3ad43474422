//! Messages of CRIU's `stats.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `dump_stats_entry` (stats.proto).
    DumpStatsEntry = "dump_stats_entry" {
        freezing_time(1, "freezing_time"): required uint32 [];
        frozen_time(2, "frozen_time"): required uint32 [];
        memdump_time(3, "memdump_time"): required uint32 [];
        memwrite_time(4, "memwrite_time"): required uint32 [];
        pages_scanned(5, "pages_scanned"): required uint64 [];
        pages_skipped_parent(6, "pages_skipped_parent"): required uint64 [];
        pages_written(7, "pages_written"): required uint64 [];
        irmap_resolve(8, "irmap_resolve"): optional uint32 [];
        pages_lazy(9, "pages_lazy"): required uint64 [];
        page_pipes(10, "page_pipes"): optional uint64 [];
        page_pipe_bufs(11, "page_pipe_bufs"): optional uint64 [];
        shpages_scanned(12, "shpages_scanned"): optional uint64 [];
        shpages_skipped_parent(13, "shpages_skipped_parent"): optional uint64 [];
        shpages_written(14, "shpages_written"): optional uint64 [];
    }
}

criu_message! {
    /// `restore_stats_entry` (stats.proto).
    RestoreStatsEntry = "restore_stats_entry" {
        pages_compared(1, "pages_compared"): required uint64 [];
        pages_skipped_cow(2, "pages_skipped_cow"): required uint64 [];
        forking_time(3, "forking_time"): required uint32 [];
        restore_time(4, "restore_time"): required uint32 [];
        pages_restored(5, "pages_restored"): optional uint64 [];
    }
}

criu_message! {
    /// `stats_entry` (stats.proto).
    StatsEntry = "stats_entry" {
        dump(1, "dump"): optional message DumpStatsEntry [];
        restore(2, "restore"): optional message RestoreStatsEntry [];
    }
}

//! Messages of CRIU's `eventpoll.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `eventpoll_tfd_entry` (eventpoll.proto).
    EventpollTfdEntry = "eventpoll_tfd_entry" {
        id(1, "id"): required uint32 [];
        tfd(2, "tfd"): required uint32 [];
        events(3, "events"): required uint32 [];
        data(4, "data"): required uint64 [];
        dev(5, "dev"): optional uint32 [];
        inode(6, "inode"): optional uint64 [];
        pos(7, "pos"): optional uint64 [];
    }
}

criu_message! {
    /// `eventpoll_file_entry` (eventpoll.proto).
    EventpollFileEntry = "eventpoll_file_entry" {
        id(1, "id"): required uint32 [];
        flags(2, "flags"): required uint32 [];
        fown(3, "fown"): required message FownEntry [];
        tfd(4, "tfd"): repeated message EventpollTfdEntry [];
    }
}

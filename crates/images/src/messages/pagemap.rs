//! Messages of CRIU's `pagemap.proto`.

#[allow(unused_imports)]
use super::*;

criu_message! {
    /// `pagemap_head` (pagemap.proto).
    PagemapHead = "pagemap_head" {
        pages_id(1, "pages_id"): required uint32 [];
    }
}

criu_message! {
    /// `pagemap_entry` (pagemap.proto).
    PagemapEntry = "pagemap_entry" {
        vaddr(1, "vaddr"): required uint64 [hex];
        compat_nr_pages(2, "compat_nr_pages"): required uint32 [];
        in_parent(3, "in_parent"): optional bool [];
        flags(4, "flags"): optional uint32 [flags = "pmap.flags"];
        nr_pages(5, "nr_pages"): optional uint64 [];
    }
}

//! The bits of a `vma_entry` (CRIU `images/vma.proto`, `criu/include/image.h`): `prot`
//! (`PROT_*`), `flags` (`MAP_*`) and `status` (CRIU's `VMA_*`). Defined here once: the
//! crit-style JSON names them, and the checkpoint model derives each mapping's kind from them.

/// `vma_entry.prot` bits.
pub mod prot {
    /// `PROT_READ`.
    pub const PROT_READ: u32 = 0x1;
    /// `PROT_WRITE`.
    pub const PROT_WRITE: u32 = 0x2;
    /// `PROT_EXEC`.
    pub const PROT_EXEC: u32 = 0x4;
}

/// `vma_entry.flags` bits.
pub mod flags {
    /// `MAP_SHARED`.
    pub const MAP_SHARED: u32 = 0x01;
    /// `MAP_PRIVATE`.
    pub const MAP_PRIVATE: u32 = 0x02;
    /// `MAP_DROPPABLE`.
    pub const MAP_DROPPABLE: u32 = 0x08;
    /// `MAP_ANONYMOUS`.
    pub const MAP_ANON: u32 = 0x20;
    /// `MAP_GROWSDOWN`: an area that grows down (stacks).
    pub const MAP_GROWSDOWN: u32 = 0x100;
}

/// `vma_entry.status` bits.
pub mod status {
    /// The VMA is in use by the process.
    pub const VMA_AREA_REGULAR: u32 = 1 << 0;
    /// Stack area (CRIU marks the main stack).
    pub const VMA_AREA_STACK: u32 = 1 << 1;
    /// The `[vsyscall]` page.
    pub const VMA_AREA_VSYSCALL: u32 = 1 << 2;
    /// The `[vdso]` area.
    pub const VMA_AREA_VDSO: u32 = 1 << 3;
    /// The `[heap]` area.
    pub const VMA_AREA_HEAP: u32 = 1 << 5;
    /// Private file mapping; `shmid` is the file id.
    pub const VMA_FILE_PRIVATE: u32 = 1 << 6;
    /// Shared file mapping; `shmid` is the file id.
    pub const VMA_FILE_SHARED: u32 = 1 << 7;
    /// Shared anonymous memory.
    pub const VMA_ANON_SHARED: u32 = 1 << 8;
    /// Private anonymous memory.
    pub const VMA_ANON_PRIVATE: u32 = 1 << 9;
    /// SysV IPC shared memory.
    pub const VMA_AREA_SYSVIPC: u32 = 1 << 10;
    /// Memory mapped from a socket (packet rings).
    pub const VMA_AREA_SOCKET: u32 = 1 << 11;
    /// The `[vvar]` area.
    pub const VMA_AREA_VVAR: u32 = 1 << 12;
    /// An AIO ring.
    pub const VMA_AREA_AIORING: u32 = 1 << 13;
    /// A memfd mapping; `shmid` is the file id (CRIU sets a file mapping bit too).
    pub const VMA_AREA_MEMFD: u32 = 1 << 14;
}

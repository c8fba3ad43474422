//! The names of the facts of a whole checkpoint that [`super::Dump::unavailable`] can list, one
//! per kind of image that feeds them (the `what` of each [`super::Unavailable`]).

/// The file table: `files.img`, and the per-type images of older CRIU (`reg-files.img`,
/// `pipes.img`, `unixsk.img`, `inetsk.img`).
pub const FILES: &str = "file table";
/// memfd inodes (`memfd.img`): names, sizes, seals of memfds.
pub const MEMFD: &str = "memfd inodes";
/// Which files were deleted while open (`remap-fpath.img`).
pub const DELETED: &str = "deleted files";
/// The contents of a deleted file (`ghost-file-N.img`).
pub const GHOST: &str = "deleted file contents";
/// File locks (`filelocks.img`).
pub const LOCKS: &str = "file locks";
/// Unread pipe data (`pipes-data.img`).
pub const PIPE_DATA: &str = "unread pipe data";
/// Unread FIFO data (`fifo-data.img`).
pub const FIFO_DATA: &str = "unread FIFO data";
/// Unix socket queues (`sk-queues.img`).
pub const UNIX_QUEUES: &str = "unix socket queues";
/// TCP queues (`tcp-stream-INO.img`).
pub const TCP_QUEUES: &str = "TCP queues";
/// SysV shared-memory segments (`ipcns-shm-NSID.img`).
pub const SYSV: &str = "SysV segments";
/// The pages of a shared-memory object (`pagemap-shmem-SHMID.img`).
pub const SHARED_PAGES: &str = "shared memory pages";

//! Reading checkpoint archives (plain tar, gzip, zstd) and CRIU image directories in place.
//!
//! [`Checkpoint::open`] accepts:
//! - a container checkpoint archive as written by CRI-O (the kubelet API), Podman or containerd:
//!   a tar, plain or compressed with gzip or zstd, told apart by its first bytes, never its name;
//! - a directory holding such an archive extracted (`checkpoint/pstree.img` inside);
//! - a bare CRIU image directory (`pstree.img` inside), such as `criu dump -D DIR` leaves.
//!
//! Nothing is ever extracted. A plain tar is indexed once (member name → data offset and size) by
//! reading its headers only, and members are later read at their offsets. A compressed archive
//! is decompressed exactly once, at open: small members (CRIU images other than `pages-*.img`,
//! metadata) are kept in memory within [`OpenParams::member_limit`] each and
//! [`OpenParams::memory_budget`] in total; `checkpoint/pages-*.img` (which readers seek in) and
//! every member past those limits are spooled (see [`spool`]: sparse, within the free space of
//! the spool directory), all into one unnamed 0600 temporary file (one descriptor however many
//! members) that disappears when the last reader of it is dropped. A directory is read where it
//! lies, each member's file opened when it is read.
//!
//! Archives are untrusted: member names that are absolute or contain `..`, and links pointing out
//! of the archive, make [`Checkpoint::open`] fail; member data are never trusted to size an
//! allocation beyond the limits; a truncated archive (even one cut at a member boundary) is an error.
//! The index holds each name once, in one buffer of names (no allocation per member), and at
//! most [`OpenParams::max_members`] members whose names (with link targets) take at most
//! [`OpenParams::max_name_bytes`]; lookups by name are binary searches of one sorted index.
//! A view that reads no CRIU image (the metadata, the statistics) opens the checkpoint with
//! [`OpenParams::index_images`] off: the images are counted and summed for the sizes, not
//! indexed, so what it holds does not grow with the number of processes. Checkpoints are found
//! by `checkpoint/pstree.img`, never by globbing `core-*.img`.
//!
//! [`custody`] reads the chain-of-custody manifest a fetch writes beside an archive and checks the
//! archive against it.
//!
//! What this module leaves out: decoding CRIU images (see [`checkpoint_images`]) and anything about
//! Kubernetes clusters.

pub mod custody;
mod index;
mod member_reader;
pub mod metadata;
pub mod recorded;
mod rootfs;
mod spool;
mod tar_stream;

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use custody::{check_custody, judge_copy, read_custody, CustodyRecord, CustodyStatus};
pub use member_reader::{MemberReader, PagesReader};
pub use metadata::ContainerMetadata;
pub use recorded::{
    RecordedMount, RecordedPort, RecordedResources, RecordedSpec, SERVICE_ACCOUNT_DIR,
};
pub use rootfs::{expansion_limit, ChangedFile, RootfsDiff, EXPANSION_FLOOR, EXPANSION_RATIO};
pub use tar_stream::MemberKind;

use index::{describe_file_type, is_pages_image, normalize_name, open_nonblocking, open_regular};

/// The default [`OpenParams::member_limit`]: 64 MiB.
pub const DEFAULT_MEMBER_LIMIT: u64 = 64 << 20;

/// The default [`OpenParams::memory_budget`]: 32 MiB.
pub const DEFAULT_MEMORY_BUDGET: u64 = 32 << 20;

/// The default [`OpenParams::max_members`]: 500,000 (about 50,000 processes' images).
pub const DEFAULT_MAX_MEMBERS: u64 = 500_000;

/// The default [`OpenParams::max_name_bytes`]: 32 MiB of member names and link targets.
pub const DEFAULT_MAX_NAME_BYTES: u64 = 32 << 20;

/// Errors of this module; each names the archive (or directory) and, where known, the member and
/// the byte offset in the (decompressed) tar stream.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening or inspecting a file or directory failed.
    #[error("{path}: {source}")]
    Open {
        /// The file or directory.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// Reading the archive failed (including decompression errors).
    #[error("{archive}: reading the {stream} failed at byte {offset} of the tar data: {source}")]
    Read {
        /// The archive.
        archive: String,
        /// What was being read: `tar file`, `gzip stream`, `zstd stream`.
        stream: &'static str,
        /// Offset in the (decompressed) tar stream.
        offset: u64,
        /// The cause.
        source: io::Error,
    },
    /// Reading a member failed.
    #[error("{archive}: reading member {member} failed: {source}")]
    ReadMember {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// The cause.
        source: io::Error,
    },
    /// The path given is neither a regular file nor a directory (a FIFO, socket or device).
    #[error("{path}: is a {kind}, not a regular file or directory; refusing to read it (it could block or never end)")]
    NotRegularInput {
        /// The path.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// A file given to read whole is larger than the limit.
    #[error(
        "{path}: {size} bytes, more than the {limit}-byte limit for reading one image into memory"
    )]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size (or the bytes read before stopping, for a file that grew).
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The file is empty.
    #[error("{archive}: the file is empty, not a checkpoint archive")]
    Empty {
        /// The archive.
        archive: String,
    },
    /// The first bytes are neither tar, gzip nor zstd.
    #[error("{archive}: not a checkpoint archive: neither tar, gzip nor zstd data (starts with {magic})")]
    UnknownFormat {
        /// The archive.
        archive: String,
        /// The first bytes, in hex.
        magic: String,
    },
    /// A known compression that we do not read.
    #[error(
        "{archive}: {compression}-compressed archives are not supported (use tar, gzip or zstd)"
    )]
    UnsupportedCompression {
        /// The archive.
        archive: String,
        /// The compression found.
        compression: &'static str,
    },
    /// A tar header block is malformed.
    #[error("{archive}: bad tar header at byte {offset}: {reason}")]
    BadHeader {
        /// The archive.
        archive: String,
        /// Offset of the header block.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The input ended inside a member's data.
    #[error("{archive}: member {member} (data at byte {offset}, {size} bytes) is truncated: the archive ends at byte {end}")]
    TruncatedMember {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// Offset of its data.
        offset: u64,
        /// Its declared size.
        size: u64,
        /// Where the input ended.
        end: u64,
    },
    /// The input ended before the end-of-archive block.
    #[error("{archive}: truncated: the tar stream ends at byte {offset} without its end-of-archive block")]
    Truncated {
        /// The archive.
        archive: String,
        /// Where the input ended.
        offset: u64,
    },
    /// A member name is absolute or climbs out with `..`.
    #[error("{archive}: member name {member:?} (header at byte {offset}) is absolute or contains `..`; refusing the archive")]
    UnsafeMemberName {
        /// The archive.
        archive: String,
        /// The name as stored.
        member: String,
        /// Offset of its header.
        offset: u64,
    },
    /// A link member points outside the archive.
    #[error("{archive}: {kind} member {member} (header at byte {offset}) points outside the archive, to {target:?}; refusing the archive")]
    UnsafeLink {
        /// The archive.
        archive: String,
        /// The link member.
        member: String,
        /// "symbolic link" or "hard link".
        kind: &'static str,
        /// Where it points.
        target: String,
        /// Offset of its header.
        offset: u64,
    },
    /// The same file name occurs twice, so which one is meant is ambiguous.
    #[error("{archive}: member {member} occurs twice (headers at bytes {first} and {second})")]
    DuplicateMember {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// Offset of the first header.
        first: u64,
        /// Offset of the second header.
        second: u64,
    },
    /// Neither `checkpoint/` nor `pstree.img` is there.
    #[error("{archive}: no checkpoint/ directory: not a container checkpoint (nor a CRIU image directory)")]
    MissingCheckpointDir {
        /// The archive.
        archive: String,
    },
    /// `checkpoint/` has no `pstree.img`.
    #[error("{archive}: no {member}: the checkpoint is incomplete or not a CRIU dump")]
    MissingPstree {
        /// The archive.
        archive: String,
        /// The path expected.
        member: String,
    },
    /// A member asked for is not in the archive.
    #[error("{archive}: no member {member}")]
    MissingMember {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
    },
    /// A member asked for is a link, directory or device.
    #[error("{archive}: member {member} is a {kind}, not a regular file")]
    NotRegular {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// What it is.
        kind: &'static str,
    },
    /// A member is larger than what we read into memory.
    #[error("{archive}: member {member} is {size} bytes, more than the {limit}-byte limit for reading it into memory")]
    MemberTooLarge {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// Its size.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The archive holds more members than the index takes.
    #[error("{archive}: more than {limit} members; refusing the archive (raise the limit with --max-members)")]
    TooManyMembers {
        /// The archive.
        archive: String,
        /// The limit in force.
        limit: u64,
    },
    /// An image was asked of a checkpoint opened without indexing its images
    /// ([`OpenParams::index_images`] off): a bug of the caller.
    #[error("{archive}: opened without its images, so {image} cannot be read")]
    ImagesNotIndexed {
        /// The archive.
        archive: String,
        /// The image asked for.
        image: String,
    },
    /// The members' names take more bytes than the index takes.
    #[error("{archive}: the names and link targets of its first {members} members take more than {limit} bytes; refusing the archive (raise the limit with --max-name-bytes)")]
    NamesTooLong {
        /// The archive.
        archive: String,
        /// The limit in force.
        limit: u64,
        /// How many members were indexed when the names went over.
        members: usize,
    },
    /// A name given to `read_image`/`open_pages` is not a plain file name.
    #[error("{archive}: {name:?} is not an image name (expected a file name inside checkpoint/)")]
    InvalidImageName {
        /// The archive.
        archive: String,
        /// The name given.
        name: String,
    },
    /// A member name given to `read_member` is absolute or contains `..`.
    #[error("{archive}: {name:?} is not a member name (absolute or contains `..`)")]
    InvalidMemberName {
        /// The archive.
        archive: String,
        /// The name given.
        name: String,
    },
    /// A metadata member (JSON) could not be parsed.
    #[error("{archive}: member {member}: {reason}")]
    ParseMember {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing a spool file failed.
    #[error("{archive}: spooling {member} to a temporary file in {dir} failed: {source}")]
    Spool {
        /// The archive.
        archive: String,
        /// The member.
        member: String,
        /// The spool directory.
        dir: String,
        /// The cause.
        source: io::Error,
    },
    /// The spool directory's file system has no room for a member.
    #[error("{0}")]
    SpoolFull(Box<NoRoom>),
}

/// Reads a loose image file (e.g. `checkpoint/core-1.img` given to `decode`) whole, under the
/// same rules as a member: a FIFO, socket or device is refused at once (it is opened without
/// blocking and checked on the open handle), and a file larger than `limit` bytes fails with
/// [`Error::FileTooLarge`] before more than `limit + 1` bytes are read (a sparse file of 4 GB or
/// `/dev/zero` costs nothing). Symbolic links given on the command line are followed.
pub fn read_image_file(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let display = path.display().to_string();
    let open_err = |source| Error::Open {
        path: display.clone(),
        source,
    };
    let file = open_nonblocking(path, 0).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if !meta.is_file() {
        return Err(Error::NotRegularInput {
            path: display,
            kind: describe_file_type(meta.file_type()),
        });
    }
    let too_large = |size| Error::FileTooLarge {
        path: display.clone(),
        size,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(open_err)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Receives the page data of a compressed archive while it streams by, instead of a spool file
/// (see [`Checkpoint::open_streaming`]).
pub trait PagesVisitor {
    /// Called once per `checkpoint/pages-<pages_id>.img` in archive order, with its `len` bytes
    /// in `data` (reading fewer is fine: the rest is skipped). `name` is the name readers of
    /// the member give ([`MemberReader::name`]: `ARCHIVE:checkpoint/pages-N.img`). An error
    /// stops the open.
    fn visit_pages(
        &mut self,
        pages_id: u32,
        name: &str,
        len: u64,
        data: &mut dyn Read,
    ) -> io::Result<()>;
}

/// Data after a tar's end-of-archive block (see [`Checkpoint::trailing_data`]): ignored when
/// reading, but other tools may read it (GNU tar with `--ignore-zeros` reads members hidden after
/// the end block; a second gzip member or zstd frame holds more tar data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TrailingData {
    /// Offset of the end-of-archive block in the (decompressed) tar stream.
    pub end_block: u64,
    /// Offset of the first non-zero byte after it, if any was found in the bytes scanned.
    pub first_nonzero: Option<u64>,
    /// Bytes scanned after the end-of-archive block.
    pub scanned: u64,
    /// True when more bytes follow than were scanned (more than tar padding).
    pub more: bool,
}

impl std::fmt::Display for TrailingData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let amount = if self.more {
            format!("more than {} bytes", self.scanned)
        } else {
            format!("{} bytes", self.scanned)
        };
        write!(
            f,
            "{amount} follow the end-of-archive block at byte {}",
            self.end_block
        )?;
        if let Some(at) = self.first_nonzero {
            write!(f, " (not padding: data from byte {at})")?;
        }
        f.write_str("; they are ignored here, but other tools may read members hidden there")
    }
}

/// What [`Error::SpoolFull`] says: a member that does not fit in the spool directory.
#[derive(Debug)]
pub struct NoRoom {
    /// The archive.
    pub archive: String,
    /// The member.
    pub member: String,
    /// The member's size.
    pub size: u64,
    /// Bytes of the member not yet written (written sparsely, they may take less).
    pub needed: u64,
    /// Bytes free on the file system (0 when a write failed with ENOSPC).
    pub available: u64,
    /// Bytes kept free.
    pub margin: u64,
    /// The spool directory.
    pub dir: String,
}

impl std::fmt::Display for NoRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: no room to spool {} ({} bytes decompressed) in {}: it may need {} more bytes, but that file system has {} bytes free of which {} are kept free; set TMPDIR or --spool-dir to a directory on a file system with more room",
            self.archive, self.member, self.size, self.dir, self.needed, self.available, self.margin
        )
    }
}

/// Lists the members of any tar stream (plain, gzip or zstd, told by content) without
/// extracting anything: the listing [`Checkpoint::rootfs_diff`] makes of `rootfs-diff.tar`,
/// within the same caps ([`OpenParams::max_members`], [`OpenParams::max_name_bytes`]).
/// A compressed stream decompresses to at most [`OpenParams::rootfs_diff_limit`] bytes (or
/// [`rootfs::EXPANSION_FLOOR`]); past it the listing stops and says so.
pub fn list_tar(reader: impl Read, params: &OpenParams) -> Result<RootfsDiff, String> {
    let listing = rootfs::list_changed(
        reader,
        rootfs::Caps {
            entries: params.max_members,
            name_bytes: params.max_name_bytes,
            expanded_bytes: rootfs::expansion_limit(params.rootfs_diff_limit, 0),
        },
    )?;
    Ok(RootfsDiff {
        changed: listing.entries,
        deleted: Vec::new(),
        incomplete: listing.incomplete,
    })
}

/// How the checkpoint is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// A plain tar.
    None,
    /// A gzip-compressed tar.
    Gzip,
    /// A zstd-compressed tar.
    Zstd,
    /// A directory (an extracted archive or a CRIU image directory).
    Directory,
}

/// Which container engine wrote the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Engine {
    /// CRI-O (spec.dump annotation `io.container.manager=cri-o`).
    #[serde(rename = "CRI-O")]
    CriO,
    /// Podman (`io.container.manager=libpod`).
    Podman,
    /// containerd (a spec.dump without either annotation).
    #[serde(rename = "containerd")]
    Containerd,
    /// Bare CRIU images, no container metadata (no spec.dump).
    #[serde(rename = "images-only")]
    ImagesOnly,
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::CriO => "CRI-O",
            Engine::Podman => "Podman",
            Engine::Containerd => "containerd",
            Engine::ImagesOnly => "images only",
        })
    }
}

/// Limits and places for [`Checkpoint::open_with`].
#[derive(Debug, Clone)]
pub struct OpenParams {
    /// The largest member read into memory (by `read_image`, `read_member`, and kept from a
    /// compressed archive).
    pub member_limit: u64,
    /// The most bytes of a compressed archive's members kept in memory in total; members past
    /// it (or past `member_limit`) are spooled.
    pub memory_budget: u64,
    /// Where spool files go; `None` for the system's temporary directory (`TMPDIR`).
    pub spool_dir: Option<PathBuf>,
    /// The most members (directories and links included) an archive or directory may hold.
    pub max_members: u64,
    /// The most bytes all member names and link targets may take together.
    pub max_name_bytes: u64,
    /// The most bytes one pass may decompress from a compressed `rootfs-diff.tar`; `None` for
    /// the larger of 1 GiB and 100 times its size (see [`rootfs::expansion_limit`]).
    pub rootfs_diff_limit: Option<u64>,
    /// Index the CRIU images (`checkpoint/*`, true by default). Off, they are counted within
    /// the limits and summed for [`Checkpoint::sizes`], but neither indexed nor kept (nor
    /// checked for repeated names: no image is read, so none is ambiguous), and every image
    /// lookup fails with [`Error::ImagesNotIndexed`]; `checkpoint/pstree.img` is still
    /// required. For views of the container's metadata, statistics and root file system
    /// changes, whose cost must not grow with the number of processes.
    pub index_images: bool,
}

impl Default for OpenParams {
    fn default() -> Self {
        OpenParams {
            member_limit: DEFAULT_MEMBER_LIMIT,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            spool_dir: None,
            max_members: DEFAULT_MAX_MEMBERS,
            max_name_bytes: DEFAULT_MAX_NAME_BYTES,
            rootfs_diff_limit: None,
            index_images: true,
        }
    }
}

impl OpenParams {
    /// Sets [`OpenParams::member_limit`].
    #[must_use]
    pub fn member_limit(mut self, bytes: u64) -> Self {
        self.member_limit = bytes;
        self
    }

    /// Sets [`OpenParams::memory_budget`].
    #[must_use]
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// Sets [`OpenParams::spool_dir`].
    #[must_use]
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// Sets [`OpenParams::max_members`].
    #[must_use]
    pub fn max_members(mut self, count: u64) -> Self {
        self.max_members = count;
        self
    }

    /// Sets [`OpenParams::rootfs_diff_limit`].
    #[must_use]
    pub fn rootfs_diff_limit(mut self, bytes: u64) -> Self {
        self.rootfs_diff_limit = Some(bytes);
        self
    }

    /// Sets [`OpenParams::max_name_bytes`].
    #[must_use]
    pub fn max_name_bytes(mut self, bytes: u64) -> Self {
        self.max_name_bytes = bytes;
        self
    }

    /// Sets [`OpenParams::index_images`].
    #[must_use]
    pub fn index_images(mut self, index: bool) -> Self {
        self.index_images = index;
        self
    }
}

/// One member of the archive (or file of the directory), as listed; borrowed from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MemberInfo<'a> {
    /// Normalised name relative to the archive root (no leading `./`, no trailing `/`):
    /// `checkpoint/pstree.img`, `config.dump`. In a bare image directory: `pstree.img`.
    pub name: &'a str,
    /// What it is.
    pub kind: MemberKind,
    /// Data size in bytes (0 for non-regular members).
    pub size: u64,
    /// Where a link points (never followed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<&'a str>,
}

/// A member as the walk lists it, before it joins the index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    /// Normalised name (see [`MemberInfo::name`]).
    name: String,
    /// What it is.
    kind: MemberKind,
    /// Data size in bytes (0 for non-regular members); `None` for a file of a directory,
    /// looked at when first asked.
    size: Option<u64>,
    /// Where a link points.
    link_target: Option<String>,
}

/// Sizes that reports show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SizeSummary {
    /// The archive file's size (for a directory: the sum of its regular files).
    pub archive_bytes: u64,
    /// The sum of the CRIU images (`checkpoint/*`).
    pub checkpoint_bytes: u64,
    /// The sum of `checkpoint/pages-*.img`.
    pub pages_bytes: u64,
    /// The size of `rootfs-diff.tar`, if present.
    pub rootfs_diff_bytes: Option<u64>,
}

/// Where a member's bytes are.
#[derive(Debug)]
enum Storage {
    /// Plain tar: at this offset of the archive file.
    Archive { offset: u64 },
    /// Compressed archive: kept in memory.
    Memory(Arc<Vec<u8>>),
    /// Compressed archive: at this offset of the archive's one unnamed (sparse) spool file.
    Spooled {
        /// Where the member starts in it.
        offset: u64,
    },
    /// Compressed archive: handed to a [`PagesVisitor`] while it streamed by, not kept.
    Streamed,
    /// Directory: the file of the member's name below the directory.
    Disk,
    /// Not a regular file.
    NoData,
}

/// One member in the index, in 48 bytes: its name (and link target) as a range of
/// [`Checkpoint`]'s one buffer of names, so that a member costs no allocation of its own.
#[derive(Debug)]
struct Member {
    /// The data size: from the tar header, or for a file of a directory from its metadata
    /// when first asked (a view that reads a few images stats only those); [`UNKNOWN_SIZE`]
    /// until then.
    size: AtomicU64,
    storage: Storage,
    /// Offset of the member's header in the tar stream (0 in a directory).
    header_offset: u64,
    /// Where the name starts in the names buffer.
    name_start: u32,
    /// The name's length; a link target follows it.
    name_len: u32,
    /// The link target's length, [`NO_TARGET`] when there is none.
    target_len: u32,
    kind: MemberKind,
}

/// [`Member::size`] of a file of a directory not looked at yet. No archive member has it: a
/// tar holding a member of 2^64 - 1 bytes would be longer than any file.
const UNKNOWN_SIZE: u64 = u64::MAX;

/// [`Member::target_len`] of a member without a link target.
const NO_TARGET: u32 = u32::MAX;

/// An opened checkpoint: its member index and the means to read members.
///
/// A `Checkpoint` is read-only and cheap to query; readers it hands out ([`PagesReader`]) stay
/// valid after it is dropped (they share the file handles).
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    display: String,
    compression: Compression,
    engine: Engine,
    /// `checkpoint/`, or empty for a bare image directory.
    image_prefix: &'static str,
    /// Members in archive order.
    members: Vec<Member>,
    /// The spool file of a compressed archive's spooled members.
    spool_file: Option<Arc<File>>,
    /// The members' names and link targets, one after the other; each is held here only.
    names: String,
    /// Indices into `members`, sorted by name (built once the walk is done).
    by_name: Vec<u32>,
    /// Members listed so far (with the images left out of the index, see
    /// [`OpenParams::index_images`]).
    listed: u64,
    /// Bytes of names and link targets listed so far.
    name_bytes: u64,
    /// The sums [`Checkpoint::sizes`] reports, kept as members are listed.
    sizes: SizeSummary,
    /// True once a pages file went to a [`PagesVisitor`] (see [`Checkpoint::pages_streamed`]).
    pages_streamed: bool,
    archive_file: Option<Arc<File>>,
    archive_bytes: u64,
    params: OpenParams,
    /// What follows the end-of-archive block, when it is not tar padding.
    trailing: Option<TrailingData>,
}

impl Checkpoint {
    /// Opens an archive or directory with the default [`OpenParams`].
    pub fn open(path: &Path) -> Result<Checkpoint, Error> {
        Checkpoint::open_with(path, &OpenParams::default())
    }

    /// Opens an archive or directory: detects the format by content, indexes the members (for a
    /// compressed archive: decompresses it once, keeping and spooling as described in the module
    /// docs), checks `checkpoint/pstree.img` is there and detects the engine.
    ///
    /// # Security
    ///
    /// Nothing is written except spool files (unnamed, 0600, in [`OpenParams::spool_dir`]), and
    /// no member name or link target is ever used as a path: names that are absolute or contain
    /// `..`, and symbolic or hard links pointing out of the archive, refuse the whole archive.
    /// In a directory, symbolic links are listed but never followed. Memory use is bounded by
    /// [`OpenParams::member_limit`] per member and [`OpenParams::memory_budget`] in total, and
    /// the index by [`OpenParams::max_members`] and [`OpenParams::max_name_bytes`], whatever
    /// the headers declare; spool files by the free space of their file system.
    pub fn open_with(path: &Path, params: &OpenParams) -> Result<Checkpoint, Error> {
        Checkpoint::open_inner(path, params, None)
    }

    fn open_inner(
        path: &Path,
        params: &OpenParams,
        visitor: Option<&mut dyn PagesVisitor>,
    ) -> Result<Checkpoint, Error> {
        let display = path.display().to_string();
        let open_err = |source| Error::Open {
            path: display.clone(),
            source,
        };
        // Never block on a FIFO or device given as PATH: open without waiting, then look.
        let file = open_nonblocking(path, 0).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        let mut ckpt = Checkpoint {
            path: path.to_owned(),
            display,
            compression: Compression::Directory,
            engine: Engine::ImagesOnly,
            image_prefix: "checkpoint/",
            members: Vec::new(),
            spool_file: None,
            names: String::new(),
            by_name: Vec::new(),
            listed: 0,
            name_bytes: 0,
            sizes: SizeSummary::default(),
            pages_streamed: false,
            archive_file: None,
            archive_bytes: 0,
            params: params.clone(),
            trailing: None,
        };
        if meta.is_dir() {
            drop(file);
            ckpt.index_directory()?;
        } else if meta.is_file() {
            ckpt.index_archive(file, meta.len(), visitor)?;
        } else {
            return Err(Error::NotRegularInput {
                path: ckpt.display,
                kind: describe_file_type(meta.file_type()),
            });
        }
        // The walk's growth room is not needed any more: an index of 350,000 members holds
        // its 48 bytes each, not up to twice that.
        ckpt.members.shrink_to_fit();
        ckpt.names.shrink_to_fit();
        ckpt.build_name_index()?;
        ckpt.check_pstree()?;
        ckpt.engine = ckpt.detect_engine()?;
        Ok(ckpt)
    }

    /// Opens like [`Checkpoint::open_with`], except that a compressed archive's page data
    /// (`checkpoint/pages-*.img`) are handed to `visitor` while they stream by instead of being
    /// spooled: one decompression pass and no disk. Those members stay listed with their sizes,
    /// but reading them fails ([`MemberReader::is_streamed`]). Plain tars and directories are
    /// opened as usual (their pages are read in place) and the visitor is not called; see
    /// [`Checkpoint::pages_streamed`].
    pub fn open_streaming(
        path: &Path,
        params: &OpenParams,
        visitor: &mut dyn PagesVisitor,
    ) -> Result<Checkpoint, Error> {
        Checkpoint::open_inner(path, params, Some(visitor))
    }

    /// Disk space the spool file of a compressed archive takes (its allocated blocks: page data
    /// and members past the memory budget, written sparsely), and its length.
    pub fn spool_usage(&self) -> (u64, u64) {
        use std::os::unix::fs::MetadataExt;
        self.spool_file
            .as_ref()
            .and_then(|file| file.metadata().ok())
            .map_or((0, 0), |meta| {
                (meta.blocks().saturating_mul(512), meta.len())
            })
    }

    /// True if page data went to a [`PagesVisitor`] at open (and cannot be read).
    pub fn pages_streamed(&self) -> bool {
        self.pages_streamed
    }

    /// False when the checkpoint was opened without indexing its images (see
    /// [`OpenParams::index_images`]).
    pub fn images_indexed(&self) -> bool {
        self.params.index_images
    }

    /// The path given to [`Checkpoint::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path for messages.
    pub fn display_name(&self) -> &str {
        &self.display
    }

    /// How the checkpoint is stored.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Data found after the tar's end-of-archive block (plain tar: in the file; gzip or zstd: in
    /// the decompressed stream, e.g. a second gzip member or zstd frame), when it is more than
    /// the zero padding tar writers leave. `None` for directories and clean archives. Callers
    /// should warn: the data is ignored here, but other tools may read members hidden there.
    pub fn trailing_data(&self) -> Option<&TrailingData> {
        self.trailing.as_ref()
    }

    /// Which engine wrote it, from spec.dump's `io.container.manager` annotation.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Same as [`Checkpoint::engine`]: the archive layout follows the engine.
    pub fn layout(&self) -> Engine {
        self.engine
    }

    /// Names of the regular files inside `checkpoint/` (e.g. `pstree.img`), in archive order.
    /// For a bare image directory, its files other than `stats-dump` and the CRIU logs.
    pub fn image_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.members.iter().filter_map(move |m| {
            let rest = self.image_name_of(self.name_of(m))?;
            (m.kind == MemberKind::File).then_some(rest)
        })
    }

    /// The name in the images directory (`pstree.img`) of a member of the archive
    /// (`checkpoint/pstree.img`), or `None` for a member outside it (and for the CRIU logs and
    /// statistics of a bare image directory).
    pub fn image_name_of<'a>(&self, member: &'a str) -> Option<&'a str> {
        let rest = member.strip_prefix(self.image_prefix)?;
        let bare_extra = self.image_prefix.is_empty()
            && matches!(
                rest,
                "stats-dump" | "stats-restore" | "dump.log" | "restore.log"
            );
        (!rest.contains('/') && !bare_extra).then_some(rest)
    }

    /// True if `checkpoint/<name>` is a regular file of the checkpoint (one of
    /// [`Checkpoint::image_names`]); a lookup in the name index, not a scan.
    pub fn has_image(&self, name: &str) -> bool {
        let bare_extra = self.image_prefix.is_empty()
            && matches!(
                name,
                "stats-dump" | "stats-restore" | "dump.log" | "restore.log"
            );
        if name.is_empty() || name.contains('/') || bare_extra {
            return false;
        }
        let mut full = String::with_capacity(self.image_prefix.len() + name.len());
        full.push_str(self.image_prefix);
        full.push_str(name);
        self.find(&full).is_some_and(|m| m.kind == MemberKind::File)
    }

    /// The bytes of the CRIU image `checkpoint/<name>` (e.g. `"pstree.img"`), at most
    /// [`OpenParams::member_limit`] bytes; larger images fail with [`Error::MemberTooLarge`].
    /// Use [`Checkpoint::open_pages`] for page data.
    pub fn read_image(&self, name: &str) -> Result<Vec<u8>, Error> {
        let member = self.image_member(name)?;
        match self.find(&member) {
            Some(m) => self.read_bytes(m),
            None => Err(self.missing(&member)),
        }
    }

    /// A reader over the CRIU image `checkpoint/<name>`, with no size limit (see
    /// [`Checkpoint::open_member`] for what a compressed archive can hand out).
    pub fn open_image(&self, name: &str) -> Result<MemberReader, Error> {
        let member = self.image_member(name)?;
        let m = self.find(&member).ok_or_else(|| self.missing(&member))?;
        self.member_reader(m)
    }

    /// A reader over `checkpoint/pages-<pages_id>.img` (the `pages_id` of a pagemap's head).
    pub fn open_pages(&self, pages_id: u32) -> Result<PagesReader, Error> {
        let member = format!("{}pages-{pages_id}.img", self.image_prefix);
        let m = self.find(&member).ok_or_else(|| self.missing(&member))?;
        self.member_reader(m)
    }

    /// The bytes of a top-level metadata member (`config.dump`, `spec.dump`, `stats-dump`, ...),
    /// or `None` if the archive has no such member. Any other member (e.g. `checkpoint/core-1.img`)
    /// can be read by its full name too. At most [`OpenParams::member_limit`] bytes.
    pub fn read_member(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let Some(normal) = normalize_name(name).ok().flatten() else {
            return Err(Error::InvalidMemberName {
                archive: self.display.clone(),
                name: name.to_owned(),
            });
        };
        match self.find(&normal) {
            Some(m) => self.read_bytes(m).map(Some),
            None => Ok(None),
        }
    }

    /// A streaming reader over any regular member (e.g. `dump.log`, `rootfs-diff.tar`), with no
    /// size limit (for a compressed archive: from memory or its spool file).
    pub fn open_member(&self, name: &str) -> Result<MemberReader, Error> {
        let Some(normal) = normalize_name(name).ok().flatten() else {
            return Err(Error::InvalidMemberName {
                archive: self.display.clone(),
                name: name.to_owned(),
            });
        };
        let m = self.find(&normal).ok_or_else(|| self.missing(&normal))?;
        self.member_reader(m)
    }

    /// The raw bytes of `stats-dump` (a CRIU image with the IMG_SERVICE magic holding a
    /// `StatsEntry`; [`checkpoint_images`] decodes it), or `None` if absent.
    pub fn stats_dump(&self) -> Result<Option<Vec<u8>>, Error> {
        self.read_member("stats-dump")
    }

    /// Every member (directories and links too), in archive order (without the images when
    /// they are not indexed, see [`OpenParams::index_images`]).
    pub fn members(&self) -> impl Iterator<Item = MemberInfo<'_>> + '_ {
        self.members.iter().map(|m| self.info_of(m))
    }

    /// The size of the CRIU image `checkpoint/<name>`, `None` if there is no such member, an
    /// error if the member is not a regular file (a link, a GNU sparse file).
    pub fn image_size(&self, name: &str) -> Result<Option<u64>, Error> {
        let member = self.image_member(name)?;
        match self.find(&member) {
            None => Ok(None),
            Some(m) if m.kind == MemberKind::File => Ok(Some(self.size_of(m))),
            Some(m) => Err(self.not_regular(m)),
        }
    }

    /// The size of a member, if present.
    pub fn member_size(&self, name: &str) -> Option<u64> {
        self.find(name).map(|m| self.size_of(m))
    }

    /// Sizes for reports: archive, checkpoint images, memory pages, root fs diff (summed as
    /// the members were listed; for a directory, the files in the index are summed now).
    pub fn sizes(&self) -> SizeSummary {
        let mut sizes = SizeSummary {
            archive_bytes: self.archive_bytes,
            rootfs_diff_bytes: self.member_size(rootfs::MEMBER),
            ..self.sizes
        };
        if self.compression == Compression::Directory {
            for m in self.members.iter().filter(|m| m.kind == MemberKind::File) {
                let size = self.size_of(m);
                sizes.archive_bytes = sizes.archive_bytes.saturating_add(size);
                if let Some(image) = self.image_name_of(self.name_of(m)) {
                    sizes.checkpoint_bytes = sizes.checkpoint_bytes.saturating_add(size);
                    if is_pages_image(image) {
                        sizes.pages_bytes = sizes.pages_bytes.saturating_add(size);
                    }
                }
            }
        }
        sizes
    }

    /// The data size of member `m`; a file of a directory is looked at the first time (0 if
    /// it is gone: reading it then says why).
    fn size_of(&self, m: &Member) -> u64 {
        let size = m.size.load(Ordering::Relaxed);
        if size != UNKNOWN_SIZE {
            return size;
        }
        let size =
            std::fs::symlink_metadata(self.path.join(self.name_of(m))).map_or(0, |md| md.len());
        m.size.store(size, Ordering::Relaxed);
        size
    }

    /// The name of the container log member of this engine's layout, if the archive has it:
    /// `io.kubernetes.cri-o.LogPath` (CRI-O), `ctr.log` (Podman), `container.log` (containerd).
    pub fn log_member(&self) -> Option<&'static str> {
        ["io.kubernetes.cri-o.LogPath", "ctr.log", "container.log"]
            .into_iter()
            .find(|name| self.find(name).is_some())
    }

    /// Container metadata from config.dump, spec.dump, network.status and bind.mounts.
    pub fn metadata(&self) -> Result<ContainerMetadata, Error> {
        let read = |name: &str| self.read_member(name);
        let sources = metadata::Sources {
            config_dump: read("config.dump")?,
            spec_dump: read("spec.dump")?,
            network_status: read("network.status")?,
            bind_mounts: read("bind.mounts")?,
        };
        metadata::build_metadata(self.engine, &sources, self.log_member()).map_err(
            |(member, reason)| Error::ParseMember {
                archive: self.display.clone(),
                member: member.to_owned(),
                reason,
            },
        )
    }

    /// What the checkpoint recorded of its container's Kubernetes spec (ports, resources, the
    /// bind mounts a restore must define) in spec.dump and bind.mounts; empty without spec.dump.
    pub fn recorded_spec(&self) -> Result<RecordedSpec, Error> {
        let Some(spec) = self.read_member("spec.dump")? else {
            return Ok(RecordedSpec::default());
        };
        let binds = self.read_member("bind.mounts")?;
        recorded::build_recorded_spec(&spec, binds.as_deref()).map_err(|(member, reason)| {
            Error::ParseMember {
                archive: self.display.clone(),
                member: member.to_owned(),
                reason,
            }
        })
    }

    /// Files changed in the container's root file system (`rootfs-diff.tar`, plain or gzip or zstd
    /// whatever its name says) and files deleted (`deleted.files`). Empty lists when absent.
    pub fn rootfs_diff(&self) -> Result<RootfsDiff, Error> {
        let parse_error = |member: &str, reason: String| Error::ParseMember {
            archive: self.display.clone(),
            member: member.to_owned(),
            reason,
        };
        let listing = match self.find(rootfs::MEMBER) {
            Some(m) => {
                let reader = self.member_reader(m)?;
                rootfs::list_changed(reader, self.listing_caps(self.size_of(m)))
                    .map_err(|reason| parse_error(rootfs::MEMBER, reason))?
            }
            None => rootfs::Listing::default(),
        };
        let deleted = match self.read_member(rootfs::DELETED)? {
            Some(bytes) => rootfs::parse_deleted(&bytes, self.listing_caps(0))
                .map_err(|reason| parse_error(rootfs::DELETED, reason))?,
            None => Vec::new(),
        };
        Ok(RootfsDiff {
            changed: listing.entries,
            deleted,
            incomplete: listing
                .incomplete
                .map(|reason| format!("{}: {}: {reason}", self.display, rootfs::MEMBER)),
        })
    }

    /// Streams every regular file of `rootfs-diff.tar` to `visit(path, size, data)`, in archive order
    /// (see [`RootfsDiff`]); `visit` returns `false` to stop. Nothing when there is no
    /// `rootfs-diff.tar`; for a compressed archive, the member must have been kept or spooled.
    pub fn visit_rootfs_files(
        &self,
        visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> io::Result<bool>,
    ) -> Result<(), Error> {
        self.visit_tar_files(rootfs::MEMBER, visit)
    }

    /// Streams every regular file of member `name`, a tar (plain, gzip or zstd: `rootfs-diff.tar`,
    /// CRIU's `tmpfs-dev-N.tar.gz.img`), to `visit(path, size, data)`, in its order, within the
    /// caps of the archive's own listing; `visit` returns `false` to stop. Nothing when there is
    /// no such member. Nothing is extracted.
    pub fn visit_tar_files(
        &self,
        name: &str,
        visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> io::Result<bool>,
    ) -> Result<(), Error> {
        let Some(m) = self.find(name) else {
            return Ok(());
        };
        let reader = self.member_reader(m)?;
        rootfs::visit_files(reader, name, self.listing_caps(self.size_of(m)), visit).map_err(
            |reason| Error::ParseMember {
                archive: self.display.clone(),
                member: name.to_owned(),
                reason,
            },
        )
    }

    // ---- internals ----

    /// The caps of listings inside the archive: those of the index, and the decompression bound
    /// of a member of `size` bytes.
    fn listing_caps(&self, size: u64) -> rootfs::Caps {
        rootfs::Caps {
            entries: self.params.max_members,
            name_bytes: self.params.max_name_bytes,
            expanded_bytes: rootfs::expansion_limit(self.params.rootfs_diff_limit, size),
        }
    }

    fn find(&self, name: &str) -> Option<&Member> {
        let name_at = |&i: &u32| self.members.get(i as usize).map_or("", |m| self.name_of(m));
        let at = self
            .by_name
            .binary_search_by(|i| name_at(i).cmp(name))
            .ok()?;
        self.by_name
            .get(at)
            .and_then(|&i| self.members.get(i as usize))
    }

    /// The name of member `m`.
    fn name_of(&self, m: &Member) -> &str {
        let start = m.name_start as usize;
        self.names
            .get(start..start + m.name_len as usize)
            .unwrap_or_default()
    }

    /// Member `m` as listed.
    fn info_of(&self, m: &Member) -> MemberInfo<'_> {
        let end = m.name_start as usize + m.name_len as usize;
        MemberInfo {
            name: self.name_of(m),
            kind: m.kind,
            size: self.size_of(m),
            link_target: (m.target_len != NO_TARGET)
                .then(|| self.names.get(end..end + m.target_len as usize))
                .flatten(),
        }
    }

    fn missing(&self, member: &str) -> Error {
        Error::MissingMember {
            archive: self.display.clone(),
            member: member.to_owned(),
        }
    }

    fn image_member(&self, name: &str) -> Result<String, Error> {
        if !self.params.index_images {
            return Err(Error::ImagesNotIndexed {
                archive: self.display.clone(),
                image: name.to_owned(),
            });
        }
        if name.is_empty()
            || name == "."
            || name == ".."
            || name.contains('/')
            || name.contains('\0')
        {
            return Err(Error::InvalidImageName {
                archive: self.display.clone(),
                name: name.to_owned(),
            });
        }
        Ok(format!("{}{name}", self.image_prefix))
    }

    fn read_bytes(&self, m: &Member) -> Result<Vec<u8>, Error> {
        let name = self.name_of(m);
        let read_err = |source| Error::ReadMember {
            archive: self.display.clone(),
            member: name.to_owned(),
            source,
        };
        if m.kind != MemberKind::File {
            return Err(self.not_regular(m));
        }
        let limit = self.params.member_limit;
        let too_large = |size| Error::MemberTooLarge {
            archive: self.display.clone(),
            member: name.to_owned(),
            size,
            limit,
        };
        let member_size = self.size_of(m);
        if member_size > limit {
            return Err(too_large(member_size));
        }
        let size = usize::try_from(member_size).map_err(|_| too_large(member_size))?;
        match &m.storage {
            Storage::Archive { offset } => {
                let file = self
                    .archive_file
                    .as_ref()
                    .ok_or_else(|| self.missing(name))?;
                let mut buf = vec![0u8; size];
                file.read_exact_at(&mut buf, *offset).map_err(read_err)?;
                Ok(buf)
            }
            Storage::Memory(bytes) => Ok(bytes.as_ref().clone()),
            Storage::Spooled { offset } => {
                let file = self.spool_file.as_ref().ok_or_else(|| self.missing(name))?;
                let mut buf = vec![0u8; size];
                file.read_exact_at(&mut buf, *offset).map_err(read_err)?;
                Ok(buf)
            }
            Storage::Disk => {
                let file = open_regular(&self.path.join(name)).map_err(read_err)?;
                let mut buf = Vec::with_capacity(size.min(1 << 20));
                file.take(limit.saturating_add(1))
                    .read_to_end(&mut buf)
                    .map_err(read_err)?;
                if buf.len() as u64 > limit {
                    return Err(too_large(buf.len() as u64));
                }
                Ok(buf)
            }
            Storage::Streamed => Err(read_err(
                MemberReader::streamed(member_size, format!("{}:{name}", self.display))
                    .streamed_error(),
            )),
            Storage::NoData => Err(self.not_regular(m)),
        }
    }

    fn member_reader(&self, m: &Member) -> Result<MemberReader, Error> {
        let member = self.name_of(m);
        let name = format!("{}:{member}", self.display);
        match &m.storage {
            Storage::Archive { offset } => {
                let file = self
                    .archive_file
                    .clone()
                    .ok_or_else(|| self.missing(member))?;
                Ok(MemberReader::new(file, *offset, self.size_of(m), name))
            }
            Storage::Spooled { offset } => {
                let file = self
                    .spool_file
                    .clone()
                    .ok_or_else(|| self.missing(member))?;
                Ok(MemberReader::new(file, *offset, self.size_of(m), name))
            }
            Storage::Memory(bytes) => Ok(MemberReader::from_memory(bytes.clone(), name)),
            Storage::Disk => {
                let file =
                    open_regular(&self.path.join(member)).map_err(|source| Error::ReadMember {
                        archive: self.display.clone(),
                        member: member.to_owned(),
                        source,
                    })?;
                let len = file
                    .metadata()
                    .map(|md| md.len())
                    .unwrap_or_else(|_| self.size_of(m));
                Ok(MemberReader::new(Arc::new(file), 0, len, name))
            }
            Storage::Streamed => Ok(MemberReader::streamed(self.size_of(m), name)),
            Storage::NoData => Err(self.not_regular(m)),
        }
    }

    fn not_regular(&self, m: &Member) -> Error {
        Error::NotRegular {
            archive: self.display.clone(),
            member: self.name_of(m).to_owned(),
            kind: m.kind.describe(),
        }
    }

    /// True when a walk keeps member `name` in the index (see [`OpenParams::index_images`]):
    /// with the images left out, every member outside the images directory, the directory
    /// itself, and its `pstree.img` (which makes the checkpoint one).
    fn indexes(&self, name: &str) -> bool {
        self.params.index_images
            || match self.image_name_of(name) {
                Some(image) => image == "pstree.img",
                None => true,
            }
    }

    /// Appends a member in archive order, within [`OpenParams::max_members`] and
    /// [`OpenParams::max_name_bytes`]; an image is counted in the sizes, and left out of the
    /// index unless [`Checkpoint::indexes`] it.
    fn push(&mut self, info: Listed, storage: Storage, header_offset: u64) -> Result<(), Error> {
        let limit = self.params.max_members.min(u64::from(u32::MAX));
        if self.listed >= limit {
            return Err(Error::TooManyMembers {
                archive: self.display.clone(),
                limit,
            });
        }
        self.listed += 1;
        let target_len = info.link_target.as_ref().map_or(0, String::len);
        self.name_bytes = self
            .name_bytes
            .saturating_add((info.name.len() + target_len) as u64);
        let names_limit = self.params.max_name_bytes.min(u64::from(u32::MAX));
        if self.name_bytes > names_limit {
            return Err(Error::NamesTooLong {
                archive: self.display.clone(),
                limit: self.params.max_name_bytes,
                members: usize::try_from(self.listed).unwrap_or(usize::MAX),
            });
        }
        if let (MemberKind::File, Some(size)) = (info.kind, info.size) {
            if let Some(image) = self.image_name_of(&info.name) {
                let sizes = &mut self.sizes;
                sizes.checkpoint_bytes = sizes.checkpoint_bytes.saturating_add(size);
                if is_pages_image(image) {
                    sizes.pages_bytes = sizes.pages_bytes.saturating_add(size);
                }
            }
        }
        if !self.indexes(&info.name) {
            return Ok(());
        }
        // Within the names limit checked above, which is at most u32::MAX.
        let name_start = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let name_len = u32::try_from(info.name.len()).unwrap_or(u32::MAX);
        self.names.push_str(&info.name);
        let target_len = info.link_target.map_or(NO_TARGET, |target| {
            self.names.push_str(&target);
            // Within the names limit, below NO_TARGET.
            u32::try_from(target.len()).unwrap_or(NO_TARGET - 1)
        });
        self.members.push(Member {
            size: AtomicU64::new(info.size.unwrap_or(UNKNOWN_SIZE)),
            storage,
            header_offset,
            name_start,
            name_len,
            target_len,
            kind: info.kind,
        });
        Ok(())
    }

    /// Sorts the name index once the walk is done. A name that occurs twice is an error (which
    /// one is meant is ambiguous), except a directory listed twice, whose repeats are dropped.
    fn build_name_index(&mut self) -> Result<(), Error> {
        let name_at = |i: u32| self.members.get(i as usize).map_or("", |m| self.name_of(m));
        // Sorted as (name, index) pairs side by side (no lookup per comparison); the pairs are
        // distinct, so the unstable sort gives the stable order.
        let mut keyed: Vec<(&str, u32)> = (0..self.members.len() as u32)
            .map(|i| (name_at(i), i))
            .collect();
        keyed.sort_unstable();
        let order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
        let mut repeats: Vec<u32> = Vec::new();
        let mut clash: Option<(u32, u32)> = None;
        for pair in order.windows(2) {
            let (&[first, second], members) = (pair, &self.members) else {
                continue;
            };
            let (Some(a), Some(b)) = (members.get(first as usize), members.get(second as usize))
            else {
                continue;
            };
            if self.name_of(a) != self.name_of(b) {
                continue;
            }
            if a.kind == MemberKind::Directory && b.kind == MemberKind::Directory {
                repeats.push(second);
            } else if clash.is_none_or(|(_, earliest)| second < earliest) {
                clash = Some((first, second));
            }
        }
        if let Some((first, second)) = clash {
            let offset = |i: u32| self.members.get(i as usize).map_or(0, |m| m.header_offset);
            return Err(Error::DuplicateMember {
                archive: self.display.clone(),
                member: name_at(second).to_owned(),
                first: offset(first),
                second: offset(second),
            });
        }
        if !repeats.is_empty() {
            repeats.sort_unstable();
            let mut index = 0u32;
            self.members.retain(|_| {
                let keep = repeats.binary_search(&index).is_err();
                index += 1;
                keep
            });
            return self.build_name_index();
        }
        self.by_name = order;
        Ok(())
    }
}

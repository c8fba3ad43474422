//! Building a [`Checkpoint`]'s member index: format detection, the single pass over a tar
//! (plain: headers only; compressed: keep, spool or drop each member), directory walks, the
//! `pstree.img` check and engine detection. Member-name policy lives here too.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use super::spool::{Spool, SpoolPlace};
use super::tar_stream::{FileSource, MemberKind, Source, StreamSource, Trailer, Walker};
use super::{Checkpoint, Compression, Engine, Error, Listed, PagesVisitor, Storage, TrailingData};

/// How many bytes after the end-of-archive block are read to reach (and check) the end of a
/// compressed stream and to look for data after the tar. Tar writers pad with zeros to their
/// record size: 10 KiB by default, 1 MiB with the largest blocking factors in use.
const TRAILER_LIMIT: u64 = 1 << 20;

/// How deep a directory walk goes below the checkpoint directory.
const DIRECTORY_DEPTH_LIMIT: usize = 8;

/// Normalises a member name: drops leading `./`, `.` components, repeated and trailing `/`.
/// `Ok(None)` for the archive root itself (`./`); `Err` for absolute names and `..` components.
pub(super) fn normalize_name(raw: &str) -> Result<Option<String>, ()> {
    if raw.starts_with('/') {
        return Err(());
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(()),
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

/// True if a link stored at member `name` with target `target` stays inside the archive.
/// Symlink targets are relative to the link's directory; hard-link targets to the archive root.
fn link_stays_inside(name: &str, target: &str, kind: MemberKind) -> bool {
    if target.starts_with('/') {
        return false;
    }
    let mut depth: usize = match kind {
        MemberKind::Symlink => name.matches('/').count(),
        _ => 0,
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

/// True for `pages-<digits>.img`.
pub(super) fn is_pages_image(name: &str) -> bool {
    name.strip_prefix("pages-")
        .and_then(|rest| rest.strip_suffix(".img"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Opens a file of an image directory for reading, refusing symlinks and non-regular files.
///
/// The file is opened without following a symlink and without blocking (a FIFO put in its place
/// after the directory was listed is opened at once), then checked on the open handle.
pub(super) fn open_regular(path: &Path) -> io::Result<File> {
    let file = open_nonblocking(path, libc::O_NOFOLLOW)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "is a {}, not a regular file (symbolic links are not followed)",
                describe_file_type(kind)
            ),
        ));
    }
    Ok(file)
}

/// Opens `path` read-only with `O_NONBLOCK` (so that opening a FIFO or a device never waits)
/// and `O_NOCTTY`, plus `extra` flags. Reads of regular files and directories are unaffected.
pub(super) fn open_nonblocking(path: &Path, extra: i32) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | extra)
        .open(path)
}

/// A word for a file type in messages: `FIFO`, `socket`, `character device`, ...
pub(super) fn describe_file_type(kind: std::fs::FileType) -> &'static str {
    if kind.is_file() {
        "regular file"
    } else if kind.is_dir() {
        "directory"
    } else if kind.is_symlink() {
        "symbolic link"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_char_device() {
        "character device"
    } else if kind.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

/// What the first bytes of a file say it is.
enum Format {
    Tar,
    Gzip,
    Zstd,
}

impl Checkpoint {
    /// Indexes the archive `file` (already open, `len` bytes long).
    pub(super) fn index_archive(
        &mut self,
        file: File,
        len: u64,
        visitor: Option<&mut dyn PagesVisitor>,
    ) -> Result<(), Error> {
        self.archive_bytes = len;
        let mut head = Vec::with_capacity(512);
        (&file)
            .take(512)
            .read_to_end(&mut head)
            .and_then(|_| (&file).seek(SeekFrom::Start(0)))
            .map_err(|source| Error::Open {
                path: self.display.clone(),
                source,
            })?;
        match self.detect_format(&head)? {
            Format::Tar => {
                self.compression = Compression::None;
                let file = Arc::new(file);
                let cloned = file.try_clone().map_err(|source| Error::Open {
                    path: self.display.clone(),
                    source,
                })?;
                self.archive_file = Some(file);
                let mut walker =
                    Walker::new(FileSource::new(cloned, len), &self.display, "tar file");
                self.walk_plain(&mut walker)
            }
            Format::Gzip => {
                self.compression = Compression::Gzip;
                let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file));
                let mut walker = Walker::new(StreamSource(decoder), &self.display, "gzip stream");
                self.walk_compressed(&mut walker, visitor)
            }
            Format::Zstd => {
                self.compression = Compression::Zstd;
                let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::new(file))
                    .map_err(|source| Error::Read {
                        archive: self.display.clone(),
                        stream: "zstd stream",
                        offset: 0,
                        source,
                    })?;
                let mut walker = Walker::new(StreamSource(decoder), &self.display, "zstd stream");
                self.walk_compressed(&mut walker, visitor)
            }
        }
    }

    fn detect_format(&self, head: &[u8]) -> Result<Format, Error> {
        let unsupported = |compression| Error::UnsupportedCompression {
            archive: self.display.clone(),
            compression,
        };
        if head.is_empty() {
            return Err(Error::Empty {
                archive: self.display.clone(),
            });
        }
        if head.starts_with(&[0x1f, 0x8b]) {
            return Ok(Format::Gzip);
        }
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Ok(Format::Zstd);
        }
        if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            return Err(unsupported("xz"));
        }
        if head.starts_with(b"BZh") {
            return Err(unsupported("bzip2"));
        }
        if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
            return Err(unsupported("lz4"));
        }
        if super::tar_stream::looks_like_header(head) {
            return Ok(Format::Tar);
        }
        let magic: String = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Err(Error::UnknownFormat {
            archive: self.display.clone(),
            magic,
        })
    }

    /// Checks a member's name and links; `None` for the archive root entry.
    fn checked_info(&self, entry: &super::tar_stream::Entry) -> Result<Option<Listed>, Error> {
        let name = match normalize_name(&entry.name) {
            Ok(Some(name)) => name,
            Ok(None) => return Ok(None),
            Err(()) => {
                return Err(Error::UnsafeMemberName {
                    archive: self.display.clone(),
                    member: entry.name.clone(),
                    offset: entry.header_offset,
                })
            }
        };
        if let Some(target) = &entry.link_name {
            if !link_stays_inside(&name, target, entry.kind) {
                return Err(Error::UnsafeLink {
                    archive: self.display.clone(),
                    member: name,
                    kind: entry.kind.describe(),
                    target: target.clone(),
                    offset: entry.header_offset,
                });
            }
        }
        Ok(Some(Listed {
            name,
            kind: entry.kind,
            size: Some(entry.size),
            link_target: entry.link_name.clone(),
        }))
    }

    fn walk_plain(&mut self, walker: &mut Walker<FileSource>) -> Result<(), Error> {
        while let Some(entry) = walker.next_entry()? {
            let Some(info) = self.checked_info(&entry)? else {
                continue;
            };
            let storage = match info.kind {
                MemberKind::File => Storage::Archive {
                    offset: entry.data_offset,
                },
                _ => Storage::NoData,
            };
            self.push(info, storage, entry.header_offset)?;
        }
        self.note_trailer(walker.scan_trailer(TRAILER_LIMIT)?);
        Ok(())
    }

    /// Keeps what follows the end-of-archive block when it is not the zero padding tar writers
    /// leave: data there is ignored here but other tools may read it.
    fn note_trailer(&mut self, trailer: Trailer) {
        if trailer.first_nonzero.is_some() || trailer.more {
            self.trailing = Some(TrailingData {
                end_block: trailer.end_block,
                first_nonzero: trailer.first_nonzero,
                scanned: trailer.scanned,
                more: trailer.more,
            });
        }
    }

    fn walk_compressed<S: Source>(
        &mut self,
        walker: &mut Walker<S>,
        mut visitor: Option<&mut dyn PagesVisitor>,
    ) -> Result<(), Error> {
        let mut spool = Spool::new(SpoolPlace::new(self.params.spool_dir.as_deref()));
        let mut kept: u64 = 0;
        while let Some(entry) = walker.next_entry()? {
            let Some(info) = self.checked_info(&entry)? else {
                continue;
            };
            let pages_id = info
                .name
                .strip_prefix("checkpoint/")
                .filter(|name| is_pages_image(name))
                .and_then(|name| {
                    name.strip_prefix("pages-")?
                        .strip_suffix(".img")?
                        .parse::<u32>()
                        .ok()
                });
            let storage = if info.kind != MemberKind::File || !self.indexes(&info.name) {
                // Not a file, or an image left out of the index: its data is skipped.
                Storage::NoData
            } else if let (Some(id), Some(visitor)) = (pages_id, visitor.as_deref_mut()) {
                let name = format!("{}:{}", self.display, info.name);
                visitor
                    .visit_pages(id, &name, entry.size, &mut walker.data())
                    .map_err(|source| walker.read_error(source))?;
                self.pages_streamed = true;
                Storage::Streamed
            } else if !info
                .name
                .strip_prefix("checkpoint/")
                .is_some_and(is_pages_image)
                && entry.size <= self.params.member_limit
                && kept.saturating_add(entry.size) <= self.params.memory_budget
            {
                kept += entry.size;
                let mut bytes =
                    Vec::with_capacity(usize::try_from(entry.size.min(1 << 20)).unwrap_or(0));
                walker
                    .data()
                    .read_to_end(&mut bytes)
                    .map_err(|source| walker.read_error(source))?;
                if bytes.len() as u64 != entry.size {
                    return Err(walker.truncated_member());
                }
                Storage::Memory(Arc::new(bytes))
            } else {
                // Pages (which readers seek in) and members past the memory limits.
                let (file, offset) =
                    spool.spool_member(walker, &info.name, entry.size, &self.display)?;
                self.spool_file.get_or_insert(file);
                Storage::Spooled { offset }
            };
            self.push(info, storage, entry.header_offset)?;
        }
        // Check the compressed stream's end (gzip CRC and length, zstd frame end) as well.
        let trailer = walker.scan_trailer(TRAILER_LIMIT)?;
        self.note_trailer(trailer);
        Ok(())
    }

    pub(super) fn index_directory(&mut self) -> Result<(), Error> {
        self.compression = Compression::Directory;
        let root = self.path.clone();
        if root.join("checkpoint").join("pstree.img").exists() || root.join("checkpoint").is_dir() {
            self.image_prefix = "checkpoint/";
            self.walk_dir(&root, "", 0)?;
        } else if root.join("pstree.img").exists() {
            self.image_prefix = "";
            self.walk_dir(&root, "", DIRECTORY_DEPTH_LIMIT)?;
        } else {
            return Err(Error::MissingCheckpointDir {
                archive: self.display.clone(),
            });
        }
        Ok(())
    }

    fn walk_dir(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<(), Error> {
        let open_err = |path: &Path, source| Error::Open {
            path: path.display().to_string(),
            source,
        };
        let mut entries: Vec<(String, std::fs::DirEntry)> = Vec::new();
        let room = self
            .params
            .max_members
            .saturating_sub(self.members.len() as u64);
        for entry in std::fs::read_dir(dir).map_err(|e| open_err(dir, e))? {
            let entry = entry.map_err(|e| open_err(dir, e))?;
            if entries.len() as u64 >= room {
                return Err(Error::TooManyMembers {
                    archive: self.display.clone(),
                    limit: self.params.max_members,
                });
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            entries.push((name, entry));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, entry) in entries {
            let path = entry.path();
            // The type the directory gives (no stat of its own, and never followed).
            let ft = entry.file_type().map_err(|e| open_err(&path, e))?;
            let member = format!("{prefix}{name}");
            let (kind, storage, link_target) = if ft.is_file() {
                (MemberKind::File, Storage::Disk, None)
            } else if ft.is_dir() {
                (MemberKind::Directory, Storage::NoData, None)
            } else if ft.is_symlink() {
                let target = std::fs::read_link(&path)
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned());
                (MemberKind::Symlink, Storage::NoData, target)
            } else {
                (MemberKind::Other, Storage::NoData, None)
            };
            // A file in the index is looked at when its size is first asked for; one left out
            // of it (see `OpenParams::index_images`) is counted now.
            let size = if kind != MemberKind::File {
                Some(0)
            } else if self.indexes(&member) {
                None
            } else {
                let size = entry.metadata().map_err(|e| open_err(&path, e))?.len();
                self.archive_bytes = self.archive_bytes.saturating_add(size);
                Some(size)
            };
            if kind == MemberKind::Directory && depth < DIRECTORY_DEPTH_LIMIT {
                self.push(
                    Listed {
                        name: member.clone(),
                        kind,
                        size,
                        link_target,
                    },
                    storage,
                    0,
                )?;
                self.walk_dir(&path, &format!("{member}/"), depth + 1)?;
            } else {
                self.push(
                    Listed {
                        name: member,
                        kind,
                        size,
                        link_target,
                    },
                    storage,
                    0,
                )?;
            }
        }
        Ok(())
    }

    pub(super) fn check_pstree(&self) -> Result<(), Error> {
        let pstree = format!("{}pstree.img", self.image_prefix);
        if self
            .find(&pstree)
            .is_some_and(|m| m.kind == MemberKind::File)
        {
            return Ok(());
        }
        let has_dir = self.image_prefix.is_empty()
            || self
                .members()
                .any(|m| m.name == "checkpoint" || m.name.starts_with("checkpoint/"));
        if has_dir {
            Err(Error::MissingPstree {
                archive: self.display.clone(),
                member: pstree,
            })
        } else {
            Err(Error::MissingCheckpointDir {
                archive: self.display.clone(),
            })
        }
    }

    pub(super) fn detect_engine(&self) -> Result<Engine, Error> {
        #[derive(serde::Deserialize)]
        struct Spec {
            #[serde(default)]
            annotations: Option<BTreeMap<String, String>>,
        }
        let Some(bytes) = self.read_member("spec.dump")? else {
            return Ok(Engine::ImagesOnly);
        };
        let spec: Spec = serde_json::from_slice(&bytes).map_err(|e| Error::ParseMember {
            archive: self.display.clone(),
            member: "spec.dump".to_owned(),
            reason: format!("not an OCI runtime spec: {e}"),
        })?;
        let manager = spec
            .annotations
            .as_ref()
            .and_then(|a| a.get("io.container.manager"))
            .map(String::as_str);
        Ok(match manager {
            Some("cri-o") => Engine::CriO,
            Some("libpod") => Engine::Podman,
            _ => Engine::Containerd,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_or_refuse() {
        let cases: &[(&str, Result<Option<&str>, ()>)] = &[
            ("checkpoint/pstree.img", Ok(Some("checkpoint/pstree.img"))),
            (
                "./checkpoint//pstree.img",
                Ok(Some("checkpoint/pstree.img")),
            ),
            ("checkpoint/", Ok(Some("checkpoint"))),
            ("./", Ok(None)),
            ("/etc/passwd", Err(())),
            ("../x", Err(())),
            ("checkpoint/../../x", Err(())),
            ("a/./b", Ok(Some("a/b"))),
        ];
        for (raw, want) in cases {
            let got = normalize_name(raw);
            assert_eq!(
                got.as_ref().map(|o| o.as_deref()),
                want.as_ref().map(|o| *o),
                "{raw}"
            );
        }
    }

    #[test]
    fn links_must_stay_inside() {
        let cases = [
            ("checkpoint/a", "b", MemberKind::Symlink, true),
            ("checkpoint/a", "../config.dump", MemberKind::Symlink, true),
            (
                "checkpoint/a",
                "../../etc/shadow",
                MemberKind::Symlink,
                false,
            ),
            ("a", "/etc/shadow", MemberKind::Symlink, false),
            ("a", "checkpoint/pstree.img", MemberKind::Hardlink, true),
            ("checkpoint/a", "../x", MemberKind::Hardlink, false),
        ];
        for (name, target, kind, want) in cases {
            assert_eq!(
                link_stays_inside(name, target, kind),
                want,
                "{name} -> {target}"
            );
        }
    }

    #[test]
    fn pages_image_names() {
        for (name, want) in [
            ("pages-1.img", true),
            ("pages-123.img", true),
            ("pages-.img", false),
            ("pages-1a.img", false),
            ("pagemap-1.img", false),
        ] {
            assert_eq!(is_pages_image(name), want, "{name}");
        }
    }
}

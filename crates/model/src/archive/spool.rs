//! Spool files: members of a compressed archive copied to unnamed 0600 temporary files, written
//! sparsely and within the free space of their file system.
//!
//! A compressed archive is decompressed once, so members that readers seek in (`pages-*.img`) or
//! that exceed the in-memory budget are copied aside while they stream by. A hostile archive can
//! make such a member as large as it likes (10 GiB of zeros compress to a few hundred KB), and a
//! legitimate one can be as large as the container's memory, so there is no fixed cap. Instead:
//!
//! - **Sparse**: each [`BLOCK`] of zeros (aligned in the member) becomes a hole, as `cp --sparse`
//!   makes it; only blocks holding data take disk space. Reads of holes return zeros.
//! - **Free space**: before the first byte and whenever the bytes written since the last look would
//!   exceed what was free, [`fstatvfs`](rustix::fs::fstatvfs) of the spool file's file system is
//!   read again; a write that would leave less than [`margin`] bytes free stops with
//!   [`Error::SpoolFull`], naming the member, the bytes it may still need and the directory.
//!   `ENOSPC` from another writer filling the disk meanwhile is reported the same way.
//!
//! Spool files are created with `O_TMPFILE` (through `tempfile`): they have no name, so nothing is
//! left behind even after a crash, and they disappear when the last reader drops its handle.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::tar_stream::{Source, Walker};
use super::{Error, MemberInfo, NoRoom};

/// The unit of sparseness: a page, the size CRIU writes page data in.
pub(super) const BLOCK: usize = 4096;

/// Bytes read from the decompressor per step.
const CHUNK: usize = 256 * 1024;

/// All-zero block to compare with.
static ZEROS: [u8; BLOCK] = [0; BLOCK];

/// How many bytes of a file system a spool leaves free: 2% of its size, at least 32 MiB and at
/// most 512 MiB (counted from the space available to unprivileged users, so the file system's
/// own reserve for root comes on top).
pub(super) fn margin(fs_bytes: u64) -> u64 {
    (fs_bytes / 50).clamp(32 << 20, 512 << 20)
}

/// Where spool files go, and how their file system's free space is read.
#[derive(Debug, Clone)]
pub(super) struct SpoolPlace {
    /// The directory (its file system is what is checked).
    pub dir: PathBuf,
    /// (available bytes, margin to keep) of the file system holding a file.
    pub free_space: fn(&File) -> io::Result<(u64, u64)>,
}

impl SpoolPlace {
    /// `dir`, or the system's temporary directory (`TMPDIR`, else `/tmp`).
    pub fn new(dir: Option<&Path>) -> Self {
        SpoolPlace {
            dir: dir.map_or_else(std::env::temp_dir, Path::to_owned),
            free_space,
        }
    }
}

/// Free space of the file system holding `file`: (available bytes, margin to keep).
fn free_space(file: &File) -> io::Result<(u64, u64)> {
    let st = rustix::fs::fstatvfs(file)?;
    let unit = st.f_frsize.max(1);
    let available = st.f_bavail.saturating_mul(unit);
    let size = st.f_blocks.saturating_mul(unit);
    Ok((available, margin(size)))
}

/// Copies the walker's current member (`info`) into a new unnamed sparse spool file in `place`.
pub(super) fn spool_member<S: Source>(
    walker: &mut Walker<S>,
    info: &MemberInfo,
    place: &SpoolPlace,
    archive: &str,
) -> Result<File, Error> {
    let spool_err = |source: io::Error| Error::Spool {
        archive: archive.to_owned(),
        member: info.name.clone(),
        dir: place.dir.display().to_string(),
        source,
    };
    let file = tempfile::tempfile_in(&place.dir).map_err(spool_err)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(spool_err)?;
    let mut writer = SparseWriter {
        file: &file,
        offset: 0,
        allowance: 0,
    };
    let full = |needed: u64, available: u64, margin: u64| {
        Error::SpoolFull(Box::new(NoRoom {
            archive: archive.to_owned(),
            member: info.name.clone(),
            size: info.size,
            needed,
            available,
            margin,
            dir: place.dir.display().to_string(),
        }))
    };
    let mut buf = vec![0u8; CHUNK];
    loop {
        // Fill whole blocks where the stream allows, so holes stay aligned in the member.
        let mut filled = 0usize;
        while filled < buf.len() {
            let space = buf.get_mut(filled..).unwrap_or_default();
            match walker.data().read(space) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(walker.read_error(source)),
            }
        }
        if filled == 0 {
            break;
        }
        let data = buf.get(..filled).unwrap_or_default();
        let runs = dense_runs(data);
        let dense: u64 = runs.iter().map(|run| run.len() as u64).sum();
        if dense > writer.allowance {
            let (available, margin) = (place.free_space)(&file).map_err(spool_err)?;
            writer.allowance = available.saturating_sub(margin);
            if dense > writer.allowance {
                let needed = info.size.saturating_sub(writer.offset);
                return Err(full(needed, available, margin));
            }
        }
        writer.write(data, &runs).map_err(|source| {
            if source.raw_os_error() == Some(libc::ENOSPC) {
                let needed = info.size.saturating_sub(writer.offset);
                full(needed, 0, 0)
            } else {
                spool_err(source)
            }
        })?;
    }
    if writer.offset != info.size {
        return Err(walker.truncated_member());
    }
    // The member may end in zeros: give the file its full length (a trailing hole).
    file.set_len(writer.offset).map_err(spool_err)?;
    Ok(file)
}

/// The ranges of `data` made of blocks that are not all zeros, adjacent blocks joined: what
/// writing `data` sparsely writes.
fn dense_runs(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (index, block) in data.chunks(BLOCK).enumerate() {
        if is_zero(block) {
            continue;
        }
        let at = index * BLOCK;
        match runs.last_mut() {
            Some(last) if last.end == at => last.end = at + block.len(),
            _ => runs.push(at..at + block.len()),
        }
    }
    runs
}

fn is_zero(block: &[u8]) -> bool {
    ZEROS.get(..block.len()).is_some_and(|zeros| block == zeros)
}

/// Writes at increasing offsets, skipping all-zero blocks (holes).
struct SparseWriter<'a> {
    file: &'a File,
    /// Offset of the next byte in the file (= in the member).
    offset: u64,
    /// Bytes that may still be written before free space is looked at again.
    allowance: u64,
}

impl SparseWriter<'_> {
    /// Writes the `runs` of `data` (from [`dense_runs`]) at the current offset and moves past
    /// all of `data`; `data` starts on a block boundary of the member.
    fn write(&mut self, data: &[u8], runs: &[std::ops::Range<usize>]) -> io::Result<()> {
        for run in runs {
            self.write_run(data.get(run.clone()).unwrap_or_default(), run.start)?;
        }
        self.offset += data.len() as u64;
        Ok(())
    }

    fn write_run(&mut self, bytes: &[u8], at: usize) -> io::Result<()> {
        self.file.write_all_at(bytes, self.offset + at as u64)?;
        self.allowance = self.allowance.saturating_sub(bytes.len() as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tar_stream::StreamSource;
    use crate::archive::MemberKind;
    use std::os::unix::fs::MetadataExt;

    /// A tar holding one member `data`, walked up to that member.
    fn walker_at_member(
        data: &[u8],
    ) -> (Walker<StreamSource<std::io::Cursor<Vec<u8>>>>, MemberInfo) {
        let mut header = [0u8; 512];
        header[..6].copy_from_slice(b"m.data");
        header[100..108].copy_from_slice(b"0000644\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut tar = header.to_vec();
        tar.extend_from_slice(data);
        tar.resize(tar.len().next_multiple_of(512) + 1024, 0);
        let mut walker = Walker::new(StreamSource(std::io::Cursor::new(tar)), "a.tar", "test");
        let entry = walker.next_entry().unwrap().unwrap();
        let info = MemberInfo {
            name: entry.name,
            kind: MemberKind::File,
            size: entry.size,
            link_target: None,
        };
        (walker, info)
    }

    fn place(free_space: fn(&File) -> io::Result<(u64, u64)>) -> SpoolPlace {
        SpoolPlace {
            dir: std::env::temp_dir(),
            free_space,
        }
    }

    #[test]
    fn data_past_the_free_space_stops_with_the_member_the_bytes_and_the_directory() {
        // 3 MiB of data, 2 MiB free above the margin.
        let data: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8 + 1).collect();
        let (mut walker, info) = walker_at_member(&data);
        // A file system with 66 MiB free before the spool file, whose blocks it then takes.
        let tight = place(|file| {
            let used = file.metadata()?.blocks() * 512;
            Ok(((66u64 << 20).saturating_sub(used), 64 << 20))
        });
        let err = spool_member(&mut walker, &info, &tight, "a.tar").unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                &err,
                Error::SpoolFull(no_room) if no_room.size == 3 << 20
                    && no_room.available <= 64 << 20
                    && no_room.margin == 64 << 20
            ),
            "{text}"
        );
        assert!(text.contains("m.data"), "{text}");
        assert!(
            text.contains(&std::env::temp_dir().display().to_string()),
            "{text}"
        );
        assert!(text.contains("--spool-dir"), "{text}");

        // Zeros take no space: 8 MiB of them spool where only 2 MiB are free.
        let zeros = vec![0u8; 8 << 20];
        let (mut walker, info) = walker_at_member(&zeros);
        let file = spool_member(&mut walker, &info, &tight, "a.tar").unwrap();
        assert_eq!(file.metadata().unwrap().len(), 8 << 20);
        assert_eq!(file.metadata().unwrap().blocks(), 0);

        // With room, the data is spooled and reads back.
        let (mut walker, info) = walker_at_member(&data);
        let roomy = place(|_| Ok((1 << 40, 1 << 30)));
        let file = spool_member(&mut walker, &info, &roomy, "a.tar").unwrap();
        let mut back = vec![0u8; data.len()];
        file.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn margins() {
        assert_eq!(margin(0), 32 << 20);
        assert_eq!(margin(10 << 30), (10 << 30) / 50);
        assert_eq!(margin(1 << 40), 512 << 20);
    }

    #[test]
    fn zero_blocks_become_holes_and_data_reads_back() {
        let file = tempfile::tempfile().unwrap();
        let mut data = vec![0u8; 64 * BLOCK + 100];
        data[5 * BLOCK + 7] = 1;
        data[6 * BLOCK..8 * BLOCK].fill(0xab);
        data[64 * BLOCK + 99] = 2; // a partial last block
        let mut writer = SparseWriter {
            file: &file,
            offset: 0,
            allowance: u64::MAX,
        };
        for piece in data.chunks(16 * BLOCK) {
            writer.write(piece, &dense_runs(piece)).unwrap();
        }
        file.set_len(writer.offset).unwrap();
        let mut back = vec![0u8; data.len()];
        file.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(back, data);
        // Four blocks hold data: far fewer than the 65 blocks of the member are allocated.
        let allocated = file.metadata().unwrap().blocks() * 512;
        assert!(allocated <= 8 * BLOCK as u64, "{allocated} bytes allocated");
        let runs = dense_runs(&data);
        assert_eq!(runs, [5 * BLOCK..8 * BLOCK, 64 * BLOCK..64 * BLOCK + 100]);
    }

    #[test]
    fn a_member_of_zeros_takes_no_space() {
        let file = tempfile::tempfile().unwrap();
        let mut writer = SparseWriter {
            file: &file,
            offset: 0,
            allowance: 0,
        };
        let zeros = vec![0u8; CHUNK];
        for _ in 0..64 {
            writer.write(&zeros, &dense_runs(&zeros)).unwrap();
        }
        file.set_len(writer.offset).unwrap();
        let meta = file.metadata().unwrap();
        assert_eq!(meta.len(), 64 * CHUNK as u64);
        assert_eq!(meta.blocks(), 0);
    }
}

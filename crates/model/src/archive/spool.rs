//! The spool file: members of a compressed archive copied to one unnamed 0600 temporary file,
//! each at its own block-aligned offset, written sparsely and within the free space of its file
//! system.
//!
//! A compressed archive is decompressed once, so members that readers seek in (`pages-*.img`) or
//! that exceed the in-memory budget are copied aside while they stream by. A hostile archive can
//! make such a member as large as it likes (10 GiB of zeros compress to a few hundred KB), and a
//! legitimate one can be as large as the container's memory, so there is no fixed cap. Instead,
//! every member is written through a [`SparseWriter`] (see [`crate::sparse`]): zero blocks
//! become holes, and data that would leave less than the file system's margin free stops with
//! [`Error::SpoolFull`], naming the member, the bytes it may still need and the directory.
//!
//! All members share one file, so a checkpoint of thousands of processes (one `pages-N.img` each,
//! as CRIU writes them) holds one descriptor, not one per member: with the usual `ulimit -n` of
//! 1024, a descriptor per member made every verb fail at about a thousand processes. The file is
//! created with `O_TMPFILE` (through `tempfile`): it has no name, so nothing is left behind even
//! after a crash, and it disappears when the last reader drops its handle.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::tar_stream::{Source, Walker};
use super::{Error, NoRoom};
use crate::sparse::{self, FreeSpaceProbe, SparseWriter, WriteError, BLOCK};

/// Bytes read from the decompressor per step.
const CHUNK: usize = 256 * 1024;

/// Where the spool file goes, and how its file system's free space is read.
#[derive(Debug, Clone)]
pub(super) struct SpoolPlace {
    /// The directory (its file system is what is checked).
    pub dir: PathBuf,
    /// Reads the free space of the file system holding the spool file.
    pub free_space: FreeSpaceProbe,
}

impl SpoolPlace {
    /// `dir`, or the system's temporary directory (`TMPDIR`, else `/tmp`).
    pub fn new(dir: Option<&Path>) -> Self {
        SpoolPlace {
            dir: dir.map_or_else(std::env::temp_dir, Path::to_owned),
            free_space: sparse::free_space,
        }
    }
}

/// The spool file of one archive, created when the first member needs it.
#[derive(Debug)]
pub(super) struct Spool {
    place: SpoolPlace,
    file: Option<Arc<File>>,
    /// Where the next member goes: past the last one, on a block boundary.
    end: u64,
}

impl Spool {
    /// A spool in `place`; nothing is created yet.
    pub fn new(place: SpoolPlace) -> Self {
        Spool {
            place,
            file: None,
            end: 0,
        }
    }

    /// Copies the walker's current member (`name`, `size` bytes) into the spool file: the file
    /// and the member's offset in it.
    pub fn spool_member<S: Source>(
        &mut self,
        walker: &mut Walker<S>,
        name: &str,
        size: u64,
        archive: &str,
    ) -> Result<(Arc<File>, u64), Error> {
        let spool_err = |source: io::Error| Error::Spool {
            archive: archive.to_owned(),
            member: name.to_owned(),
            dir: self.place.dir.display().to_string(),
            source,
        };
        let file = match &self.file {
            Some(file) => Arc::clone(file),
            None => {
                let file = tempfile::tempfile_in(&self.place.dir).map_err(spool_err)?;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(spool_err)?;
                let file = Arc::new(file);
                self.file = Some(Arc::clone(&file));
                file
            }
        };
        let base = self.end;
        let mut writer = SparseWriter::with_probe(&*file, self.place.free_space);
        let mut offset = 0u64;
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
            writer
                .write_at(base + offset, data)
                .map_err(|err| match err {
                    WriteError::NoSpace(no_space) => Error::SpoolFull(Box::new(NoRoom {
                        archive: archive.to_owned(),
                        member: name.to_owned(),
                        size,
                        needed: size.saturating_sub(offset),
                        available: no_space.available,
                        margin: no_space.margin,
                        dir: self.place.dir.display().to_string(),
                    })),
                    WriteError::Io(source) => spool_err(source),
                })?;
            offset += filled as u64;
        }
        if offset != size {
            return Err(walker.truncated_member());
        }
        // The member may end in zeros: the file reaches its end (a trailing hole), and the next
        // member starts on the next block boundary.
        let member_end = base + offset;
        if member_end > file.metadata().map_err(spool_err)?.len() {
            file.set_len(member_end).map_err(spool_err)?;
        }
        self.end = member_end.div_ceil(BLOCK) * BLOCK;
        Ok((file, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tar_stream::StreamSource;
    use crate::sparse::FreeSpace;
    use std::os::unix::fs::{FileExt, MetadataExt};

    /// A tar holding one member `data`, walked up to that member.
    fn walker_at_member(
        data: &[u8],
    ) -> (Walker<StreamSource<std::io::Cursor<Vec<u8>>>>, String, u64) {
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
        (walker, entry.name, entry.size)
    }

    fn place(free_space: FreeSpaceProbe) -> Spool {
        Spool::new(SpoolPlace {
            dir: std::env::temp_dir(),
            free_space,
        })
    }

    fn roomy(_: &File) -> io::Result<FreeSpace> {
        Ok(FreeSpace {
            available: 1 << 40,
            margin: 1 << 30,
        })
    }

    #[test]
    fn data_past_the_free_space_stops_with_the_member_the_bytes_and_the_directory() {
        // 3 MiB of data, 2 MiB free above the margin.
        let data: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8 + 1).collect();
        let (mut walker, name, size) = walker_at_member(&data);
        // A file system with 66 MiB free before the spool file, whose blocks it then takes.
        fn tight(file: &File) -> io::Result<FreeSpace> {
            let used = file.metadata()?.blocks() * 512;
            Ok(FreeSpace {
                available: (66u64 << 20).saturating_sub(used),
                margin: 64 << 20,
            })
        }
        let err = place(tight)
            .spool_member(&mut walker, &name, size, "a.tar")
            .unwrap_err();
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
        let (mut walker, name, size) = walker_at_member(&zeros);
        let (file, offset) = place(tight)
            .spool_member(&mut walker, &name, size, "a.tar")
            .unwrap();
        assert_eq!(offset, 0);
        assert_eq!(file.metadata().unwrap().len(), 8 << 20);
        assert_eq!(file.metadata().unwrap().blocks(), 0);

        // With room, the data is spooled and reads back.
        let (mut walker, name, size) = walker_at_member(&data);
        let (file, offset) = place(roomy)
            .spool_member(&mut walker, &name, size, "a.tar")
            .unwrap();
        let mut back = vec![0u8; data.len()];
        file.read_exact_at(&mut back, offset).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn members_share_one_file_at_block_aligned_offsets() {
        let mut spool = place(roomy);
        let first: Vec<u8> = (0..5000u32).map(|i| (i % 13) as u8 + 1).collect();
        let mut second = vec![0u8; 3 * BLOCK as usize];
        second[BLOCK as usize + 1] = 7;
        let third = vec![0u8; 100];
        let mut placed = Vec::new();
        for data in [&first, &second, &third] {
            let (mut walker, name, size) = walker_at_member(data);
            placed.push(
                spool
                    .spool_member(&mut walker, &name, size, "a.tar")
                    .unwrap(),
            );
        }
        let offsets: Vec<u64> = placed.iter().map(|(_, offset)| *offset).collect();
        assert_eq!(offsets, [0, 2 * BLOCK, 5 * BLOCK]);
        assert!(placed
            .iter()
            .all(|(file, _)| Arc::ptr_eq(file, &placed[0].0)));
        for ((file, offset), data) in placed.iter().zip([&first, &second, &third]) {
            let mut back = vec![1u8; data.len()];
            file.read_exact_at(&mut back, *offset).unwrap();
            assert_eq!(&back, data);
        }
        // One data block of the second member, all of the first; zeros are holes.
        let allocated = placed[0].0.metadata().unwrap().blocks() * 512;
        assert!(allocated <= 4 * BLOCK, "{allocated}");
    }
}

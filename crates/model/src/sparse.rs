//! Files we write that can be as large as what an archive claims: written sparsely, within the
//! free space of their file system, with an honest account of what went to disk. The archive's
//! spool file, core files and memory dumps are all written through [`SparseWriter`].
//!
//! - **Sparse**: a piece of zeros between two [`BLOCK`] boundaries of the file is not written: it
//!   stays a hole, as `cp --sparse` leaves it, and reads back as zeros. A hostile checkpoint can
//!   claim any number of zero pages (10 GiB of them compress to a few hundred KB); they cost no
//!   disk. Invariant the caller keeps: the file is new (zeros wherever nothing was written yet)
//!   and each byte is written at most once, so a skipped piece really is zeros in the file.
//! - **Free space**: before the first byte of data, and whenever the data written since the
//!   last look would exceed what was free then, [`fstatvfs`](rustix::fs::fstatvfs) of the file's
//!   file system is read again; data that would leave less than [`margin`] bytes free is not
//!   written and the write fails with [`NoSpace`]. `ENOSPC` from another writer filling the disk
//!   meanwhile is reported the same way.
//! - **Accounting**: [`Written`] counts the bytes written as data and the bytes left as holes,
//!   for reports and for the errors above.
//!
//! What this module leaves out: where the file is and what happens to it on failure (callers
//! write under temporary names and rename, or use unnamed files).

use std::borrow::Borrow;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::sizes::human_size;

/// The unit of sparseness: a page, the size CRIU writes page data in and the block size of the
/// usual file systems.
pub const BLOCK: u64 = 4096;

/// How many bytes of a file system our writes leave free: 2% of its size, at least 32 MiB and at
/// most 512 MiB (counted from the space available to unprivileged users, so the file system's
/// own reserve for root comes on top).
pub fn margin(fs_bytes: u64) -> u64 {
    (fs_bytes / 50).clamp(32 << 20, 512 << 20)
}

/// The free space of a file system: what is available, and what our writes leave free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSpace {
    /// Bytes available to unprivileged users.
    pub available: u64,
    /// Bytes to keep free ([`margin`] of the file system's size).
    pub margin: u64,
}

/// How a writer reads the free space of the file system holding its file (tests give their
/// own).
pub type FreeSpaceProbe = fn(&File) -> io::Result<FreeSpace>;

/// The free space of the file system holding `file`, from `fstatvfs`.
pub fn free_space(file: &File) -> io::Result<FreeSpace> {
    let st = rustix::fs::fstatvfs(file)?;
    Ok(free_space_of_statvfs(&st))
}

/// The free space of the file system holding `path`, from `statvfs`.
pub fn free_space_at(path: &Path) -> io::Result<FreeSpace> {
    let st = rustix::fs::statvfs(path)?;
    Ok(free_space_of_statvfs(&st))
}

fn free_space_of_statvfs(st: &rustix::fs::StatVfs) -> FreeSpace {
    let unit = st.f_frsize.max(1);
    let available = st.f_bavail.saturating_mul(unit);
    let size = st.f_blocks.saturating_mul(unit);
    FreeSpace {
        available,
        margin: margin(size),
    }
}

/// `tmpfs`'s `f_type` (`TMPFS_MAGIC`).
const TMPFS_MAGIC: i64 = 0x0102_1994;
/// `ramfs`'s `f_type` (`RAMFS_MAGIC`).
const RAMFS_MAGIC: i64 = 0x8584_58f6;

/// True when `path` is on a file system held in memory (`tmpfs`, `ramfs`): holes cost nothing
/// there and files may be far longer than any disk, so a file that fits there may not fit
/// elsewhere.
pub fn is_memory_file_system(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|st| {
        #[allow(clippy::unnecessary_cast)] // f_type is i64 on x86_64 and aarch64, u32 elsewhere
        let kind = st.f_type as i64;
        kind == TMPFS_MAGIC || kind == RAMFS_MAGIC
    })
}

/// What a writer put into its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Bytes written as data (they take disk space).
    pub data_bytes: u64,
    /// Bytes of zeros left as holes (they take none).
    pub hole_bytes: u64,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} written as data, {} of zeros left as holes",
            human_size(self.data_bytes),
            human_size(self.hole_bytes)
        )
    }
}

/// Data that does not fit in the file system's free space above its margin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no room for {} more of data: the file system has {} free, of which {} are kept free ({written} before it stopped)",
    human_size(*needed),
    human_size(*available),
    human_size(*margin)
)]
pub struct NoSpace {
    /// Bytes of data the refused write held.
    pub needed: u64,
    /// Bytes available on the file system (0 when a write failed with `ENOSPC`).
    pub available: u64,
    /// Bytes kept free.
    pub margin: u64,
    /// What the writer had written before.
    pub written: Written,
}

/// Why a sparse write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file system has no room for the data (see [`NoSpace`]).
    #[error(transparent)]
    NoSpace(NoSpace),
    /// Another I/O error.
    #[error(transparent)]
    Io(io::Error),
}

impl From<WriteError> for io::Error {
    fn from(err: WriteError) -> io::Error {
        match err {
            WriteError::NoSpace(no_space) => io::Error::new(io::ErrorKind::StorageFull, no_space),
            WriteError::Io(err) => err,
        }
    }
}

impl WriteError {
    /// The [`NoSpace`] inside `err`, if an I/O error carries one (a [`SparseWriter`] used as an
    /// [`io::Write`] reports it that way).
    pub fn no_space_in(err: &io::Error) -> Option<&NoSpace> {
        err.get_ref()?.downcast_ref::<NoSpace>()
    }
}

/// Writes a new file sparsely within its file system's free space (see the module docs), at
/// explicit offsets ([`SparseWriter::write_at`]) or in order ([`io::Write`], from offset 0).
#[derive(Debug)]
pub struct SparseWriter<F: Borrow<File>> {
    file: F,
    probe: FreeSpaceProbe,
    /// Bytes of data that may still be written before free space is looked at again.
    allowance: u64,
    /// The offset [`io::Write`] writes at next.
    position: u64,
    written: Written,
}

impl<F: Borrow<File>> SparseWriter<F> {
    /// A writer of `file` (new, or zeros wherever it is written), reading free space with
    /// `fstatvfs`.
    pub fn new(file: F) -> Self {
        SparseWriter::with_probe(file, free_space)
    }

    /// A writer of `file` that reads free space with `probe`.
    pub fn with_probe(file: F, probe: FreeSpaceProbe) -> Self {
        SparseWriter {
            file,
            probe,
            allowance: 0,
            position: 0,
            written: Written::default(),
        }
    }

    /// The file.
    pub fn file(&self) -> &File {
        self.file.borrow()
    }

    /// What was written so far.
    pub fn written(&self) -> Written {
        self.written
    }

    /// The offset [`io::Write`] writes at next: the end of what it wrote.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Gives the file its length: `len`, which may end in a hole.
    pub fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.borrow().set_len(len)
    }

    /// The file, once written.
    pub fn into_inner(self) -> F {
        self.file
    }

    /// Writes `data` at `offset`, leaving every piece of zeros between two [`BLOCK`] boundaries
    /// of the file as a hole. Each byte of the file is written at most once.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), WriteError> {
        let mut run: Option<(u64, usize, usize)> = None; // (file offset, start, end) in `data`
        let mut at = 0usize;
        while at < data.len() {
            let file_offset = offset + at as u64;
            let to_boundary = BLOCK - file_offset % BLOCK;
            let end = data
                .len()
                .min(at.saturating_add(usize::try_from(to_boundary).unwrap_or(usize::MAX)));
            let piece = data.get(at..end).unwrap_or_default();
            if is_zero(piece) {
                if let Some((run_offset, start, run_end)) = run.take() {
                    self.write_run(run_offset, data.get(start..run_end).unwrap_or_default())?;
                }
                self.written.hole_bytes += piece.len() as u64;
            } else {
                match &mut run {
                    Some((_, _, run_end)) => *run_end = end,
                    None => run = Some((file_offset, at, end)),
                }
            }
            at = end;
        }
        if let Some((run_offset, start, run_end)) = run {
            self.write_run(run_offset, data.get(start..run_end).unwrap_or_default())?;
        }
        Ok(())
    }

    /// Writes one piece of data, after checking the free space it needs.
    fn write_run(&mut self, offset: u64, bytes: &[u8]) -> Result<(), WriteError> {
        let len = bytes.len() as u64;
        if len > self.allowance {
            let space = (self.probe)(self.file.borrow()).map_err(WriteError::Io)?;
            self.allowance = space.available.saturating_sub(space.margin);
            if len > self.allowance {
                return Err(WriteError::NoSpace(NoSpace {
                    needed: len,
                    available: space.available,
                    margin: space.margin,
                    written: self.written,
                }));
            }
        }
        match self.file.borrow().write_all_at(bytes, offset) {
            Ok(()) => {
                self.allowance -= len;
                self.written.data_bytes += len;
                Ok(())
            }
            Err(err) if err.raw_os_error() == Some(libc::ENOSPC) => {
                Err(WriteError::NoSpace(NoSpace {
                    needed: len,
                    available: 0,
                    margin: 0,
                    written: self.written,
                }))
            }
            Err(err) => Err(WriteError::Io(err)),
        }
    }
}

impl<F: Borrow<File>> Write for SparseWriter<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_at(self.position, buf)?;
        self.position += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// All-zero block to compare with.
static ZEROS: [u8; BLOCK as usize] = [0; BLOCK as usize];

fn is_zero(piece: &[u8]) -> bool {
    ZEROS.get(..piece.len()).is_some_and(|zeros| piece == zeros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    fn roomy(_: &File) -> io::Result<FreeSpace> {
        Ok(FreeSpace {
            available: 1 << 40,
            margin: 1 << 30,
        })
    }

    #[test]
    fn margins() {
        assert_eq!(margin(0), 32 << 20);
        assert_eq!(margin(10 << 30), (10 << 30) / 50);
        assert_eq!(margin(1 << 40), 512 << 20);
    }

    #[test]
    fn zero_blocks_become_holes_and_data_reads_back() {
        let mut data = vec![0u8; 64 * BLOCK as usize + 100];
        data[5 * 4096 + 7] = 1;
        data[6 * 4096..8 * 4096].fill(0xab);
        data[64 * 4096 + 99] = 2; // a partial last block
        let mut writer = SparseWriter::with_probe(tempfile::tempfile().unwrap(), roomy);
        // Pieces that do not start on block boundaries.
        for piece in data.chunks(3 * 4096 + 5) {
            writer.write_all(piece).unwrap();
        }
        writer.set_len(writer.position()).unwrap();
        let written = writer.written();
        assert_eq!(
            written.data_bytes + written.hole_bytes,
            data.len() as u64,
            "every byte is data or hole"
        );
        assert_eq!(written.data_bytes, 3 * 4096 + 100);
        let mut file = writer.into_inner();
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        let allocated = file.metadata().unwrap().blocks() * 512;
        assert!(allocated <= 8 * BLOCK, "{allocated} bytes allocated");
    }

    #[test]
    fn zeros_take_no_space_and_no_free_space_check() {
        fn full(_: &File) -> io::Result<FreeSpace> {
            Ok(FreeSpace {
                available: 0,
                margin: 32 << 20,
            })
        }
        let mut writer = SparseWriter::with_probe(tempfile::tempfile().unwrap(), full);
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            writer.write_all(&zeros).unwrap();
        }
        writer.set_len(writer.position()).unwrap();
        assert_eq!(writer.written().hole_bytes, 64 << 20);
        let meta = writer.file().metadata().unwrap();
        assert_eq!((meta.len(), meta.blocks()), (64 << 20, 0));
    }

    #[test]
    fn data_past_the_free_space_is_refused_with_an_account() {
        // 66 MiB free before the file, whose blocks it then takes; 64 MiB kept free.
        fn tight(file: &File) -> io::Result<FreeSpace> {
            let used = file.metadata()?.blocks() * 512;
            Ok(FreeSpace {
                available: (66u64 << 20).saturating_sub(used),
                margin: 64 << 20,
            })
        }
        let mut writer = SparseWriter::with_probe(tempfile::tempfile().unwrap(), tight);
        writer.write_at(0, &vec![0u8; 8 << 20]).unwrap();
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8 + 1).collect();
        writer.write_at(8 << 20, &data).unwrap();
        writer.write_at(9 << 20, &data).unwrap();
        let err = writer.write_at(10 << 20, &data).unwrap_err();
        writer.write_at(11 << 20, &data).unwrap_err();
        let WriteError::NoSpace(no_space) = err else {
            panic!("{err}")
        };
        assert_eq!(no_space.needed, 1 << 20);
        assert_eq!(no_space.margin, 64 << 20);
        assert!(no_space.available <= 64 << 20);
        assert_eq!(
            no_space.written,
            Written {
                data_bytes: 2 << 20,
                hole_bytes: 8 << 20
            }
        );
        assert_eq!(
            no_space.to_string(),
            format!(
                "no room for 1.0 MiB more of data: the file system has {} free, of which 64.0 MiB are kept free (2.0 MiB written as data, 8.0 MiB of zeros left as holes before it stopped)",
                human_size(no_space.available)
            )
        );
        // Through io::Write, the same error is inside the io::Error.
        let io_err = io::Error::from(WriteError::NoSpace(no_space.clone()));
        assert_eq!(io_err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(WriteError::no_space_in(&io_err), Some(&no_space));
    }

    #[test]
    fn the_file_system_kind_is_read() {
        assert!(!is_memory_file_system(Path::new("/proc")));
        if Path::new("/dev/shm").is_dir() {
            // /dev/shm is a tmpfs on every Linux this runs on.
            assert!(is_memory_file_system(Path::new("/dev/shm")));
        }
    }
}

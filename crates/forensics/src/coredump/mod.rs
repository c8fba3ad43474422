//! ELF core files built from checkpointed processes, for gdb.
//!
//! - [`build`]: from the dump model to that description;
//! - [`image`]: what a core says about a process (registers, mappings, the runs of bytes the
//!   checkpoint holds), whatever the source;
//! - [`notes`]: the `PT_NOTE` encodings for x86_64 and aarch64, and our own note;
//! - [`elf`]: the file layout and the streaming writer.
//!
//! [`write_core_file`] writes one core under a temporary name in the target directory and
//! renames it into place, so a failure never leaves a partial `core.PID` behind. Core files are
//! created 0600: they hold the process memory. They are written sparsely, within the free space
//! of their file system (see [`checkpoint_model::sparse`]): a checkpoint that claims gigabytes
//! of zero pages costs no disk, and one whose data do not fit stops with [`Error::NoRoom`]
//! before the file system is full.

pub mod build;
pub mod elf;
pub mod image;
pub mod notes;

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use checkpoint_model::archive::MemberReader;
use checkpoint_model::dump::{Dump, Source};
use checkpoint_model::sizes::human_size;
use checkpoint_model::sparse::{self, NoSpace, SparseWriter, Written};

pub use build::CoreSource;
pub use elf::{CorePlan, CoreSummary, PagesSource};
pub use image::CoreImage;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Archive(#[from] checkpoint_model::archive::Error),
    /// Reading the checkpoint's images or memory failed.
    #[error(transparent)]
    Dump(#[from] checkpoint_model::dump::Error),
    /// The process has no thread to take registers from.
    #[error("pid {pid}: pstree.img lists no threads")]
    NoThreads {
        /// The process.
        pid: u32,
    },
    /// A thread's core image cannot make a core file.
    #[error("{file}: {problem}")]
    BadThread {
        /// The `core-<tid>.img`.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// An image holds no entry where one is needed.
    #[error("{file}: has no entry")]
    EmptyImage {
        /// The image file.
        file: String,
    },
    /// A mapping is empty, unaligned, or overlaps the one before it.
    #[error("mapping {index} ({start:#x}-{end:#x}): {reason}")]
    BadMapping {
        /// Position in the mm image's VMA list.
        index: usize,
        /// Its start address.
        start: u64,
        /// Its end address.
        end: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A run of bytes is not page aligned or its end overflows the address space.
    #[error("run {index} of {len} bytes at {vaddr:#x} is not page aligned or overflows the address space")]
    BadPageRun {
        /// Position in the runs.
        index: usize,
        /// Its start address.
        vaddr: u64,
        /// Its length.
        len: u64,
    },
    /// The core would be larger than a 64-bit file offset.
    #[error("the core file would exceed 2^64 bytes")]
    CoreTooLarge,
    /// Reading the pages file failed.
    #[error("{file}: reading at byte {offset}: {source}")]
    ReadPages {
        /// The pages file.
        file: String,
        /// Where the read started.
        offset: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The pages file ended before the pagemap's runs did.
    #[error("{file}: ends at byte {offset}, but the pagemap needs pages up to byte {needed}")]
    PagesTruncated {
        /// The pages file.
        file: String,
        /// Where it ended.
        offset: u64,
        /// The end of the run being copied.
        needed: u64,
    },
    /// Creating or renaming the core file failed.
    #[error("{path}: {source}")]
    CreateCore {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing the core file failed.
    #[error(
        "writing {path}: {source} (the core is {} long and holds {} of the checkpoint's data, the rest holes; before the failure: {written}; nothing was kept)",
        human_size(*len),
        human_size(*data),
        path = path.display()
    )]
    WriteCore {
        /// The core file.
        path: PathBuf,
        /// The length it was to have.
        len: u64,
        /// Bytes of the checkpoint it was to hold.
        data: u64,
        /// What was written before the failure.
        written: Written,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The core's file system has no room for its data above the free-space margin.
    #[error(
        "writing {path}: {no_space}; the core would be {} long holding {} of the checkpoint's data: nothing was kept, choose a --dir on a file system with more room",
        human_size(*len),
        human_size(*data),
        path = path.display()
    )]
    NoRoom {
        /// The core file.
        path: PathBuf,
        /// The length it was to have.
        len: u64,
        /// Bytes of the checkpoint it was to hold.
        data: u64,
        /// What did not fit, and what was written before.
        no_space: NoSpace,
    },
}

/// A core whose file is larger than this many times the data it holds (and than
/// [`SPARSE_WARNING_MIN`]) gets a warning before it is written: it is mostly holes.
pub const SPARSE_WARNING_RATIO: u64 = 16;

/// Cores smaller than this never get the mostly-holes warning.
pub const SPARSE_WARNING_MIN: u64 = 1 << 30;

/// Writes `DIR/core.PID` for process `pid` of `dump`: decodes its threads' cores, and streams
/// every byte the checkpoint holds for its addresses (private and shared pages, stored contents
/// of deleted files) into the core. Before writing a core that is mostly holes (see
/// [`SPARSE_WARNING_RATIO`]), or one longer than a disk could take on a file system in memory,
/// `warn` gets a line saying so.
pub fn dump_process(
    dump: &Dump,
    pid: u32,
    dir: &Path,
    warn: &mut dyn FnMut(String),
) -> Result<WrittenCore, Error> {
    let task = dump.task(pid)?;
    let map = dump.memory_map(pid)?;
    let memory = dump.memory(pid)?;
    let cores = dump
        .thread_cores(task)
        .map(|core| core.map_err(Error::from));
    let psargs = dump
        .strings(pid)
        .ok()
        .and_then(|strings| strings.cmdline.as_ref().ok())
        .map(|cmdline| build::psargs_of(&cmdline.joined()));
    let mut sources: Vec<CoreSource> = vec![CoreSource::Pages(Source::Private)];
    for stretch in memory.stretches() {
        let source = CoreSource::Pages(stretch.source);
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    for stretch in memory.file_stretches() {
        if let Some((image, _)) = &stretch.stored {
            let source = CoreSource::Image(std::sync::Arc::clone(image));
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
    }
    let image = build::build_core_image(build::ProcessImages {
        task,
        cores: Box::new(cores),
        vmas: map.layout.vmas(),
        auxv: &map.auxv,
        stretches: memory.stretches(),
        file_stretches: memory.file_stretches(),
        file_stretches_cut: memory.file_stretches_cut(),
        sources: &sources,
        files: dump.files(),
        psargs,
    })?;
    let mut readers: Vec<(String, MemberReader, bool)> = sources
        .iter()
        .map(|source| {
            let (reader, stored_file) = match source {
                CoreSource::Pages(source) => (memory.source_reader(*source), false),
                CoreSource::Image(image) => (
                    memory
                        .file_reader(image)
                        .unwrap_or_else(|| MemberReader::empty(image)),
                    true,
                ),
            };
            (reader.name().to_owned(), reader, stored_file)
        })
        .collect();
    let mut pages: Vec<PagesSource<'_, MemberReader>> = readers
        .iter_mut()
        .map(|(name, reader, stored_file)| PagesSource {
            reader,
            name: name.as_str(),
            stored_file: *stored_file,
        })
        .collect();
    write_core_file(dir, &image, &mut pages, warn)
}

/// A core file that was written.
#[derive(Debug, Clone)]
pub struct WrittenCore {
    /// Its path: `DIR/core.PID`.
    pub path: PathBuf,
    /// What went into it.
    pub summary: CoreSummary,
}

/// Writes `DIR/core.PID` for `image`: plans it, writes it under a temporary 0600 name in `dir`,
/// sparsely and within the free space of `dir`'s file system, copies the bytes of the runs from
/// `pages`, and renames it into place. On any error the temporary file is removed and no
/// `core.PID` is created (an older one stays untouched).
pub fn write_core_file<R: Read + Seek>(
    dir: &Path,
    image: &CoreImage,
    pages: &mut [PagesSource<'_, R>],
    warn: &mut dyn FnMut(String),
) -> Result<WrittenCore, Error> {
    let plan = elf::plan_core(image)?;
    let path = dir.join(format!("core.{}", image.info.pid));
    let len = plan.file_len();
    if len > SPARSE_WARNING_MIN && len / SPARSE_WARNING_RATIO > plan.data_bytes {
        warn(format!(
            "{}: the core will be {} long but hold {} of the checkpoint's data: the rest is holes (untouched anonymous memory, ranges left to their files), which some file systems cannot hold",
            path.display(),
            human_size(len),
            human_size(plan.data_bytes)
        ));
    }
    if let Some(line) = memory_file_system_warning(dir, &path, len) {
        warn(line);
    }
    let temp = tempfile::Builder::new()
        .prefix(&format!(".core.{}.", image.info.pid))
        .tempfile_in(dir)
        .map_err(|source| Error::CreateCore {
            path: dir.to_path_buf(),
            source,
        })?;
    let summary = {
        let mut writer = SparseWriter::new(temp.as_file());
        elf::write_core(&plan, image, pages, &mut writer, &path)?
    };
    temp.persist(&path).map_err(|err| Error::CreateCore {
        path: path.clone(),
        source: err.error,
    })?;
    Ok(WrittenCore { path, summary })
}

/// On a file system held in memory (tmpfs), which takes a sparse file of any length, a warning
/// when the core is longer than the free space of the disk: the file system of the current
/// directory, or of `/` when that is in memory too (a copy that does not keep holes would need
/// that much).
fn memory_file_system_warning(dir: &Path, path: &Path, len: u64) -> Option<String> {
    if !sparse::is_memory_file_system(dir) {
        return None;
    }
    let disk = [Path::new("."), Path::new("/")]
        .into_iter()
        .find(|candidate| !sparse::is_memory_file_system(candidate))?;
    let free = sparse::free_space_at(disk).ok()?.available;
    let shown = if disk == Path::new(".") {
        std::env::current_dir().map_or_else(|_| ".".into(), |d| d.display().to_string())
    } else {
        "/".to_owned()
    };
    let here = sparse::free_space_at(dir).ok()?.available;
    (len > free).then(|| {
        format!(
            "{}: {} is a file system in memory (tmpfs, {} free), which takes this {} core because it is sparse; the disk at {} has {} free: copy the core off it only with a copy that keeps holes (cp --sparse=always, tar -S, rsync -S)",
            path.display(),
            dir.display(),
            human_size(here),
            human_size(len),
            shown,
            human_size(free)
        )
    })
}

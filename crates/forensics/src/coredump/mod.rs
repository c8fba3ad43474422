//! ELF core files built from checkpointed processes, for gdb.
//!
//! - [`build`]: from decoded CRIU images to that description;
//! - [`image`]: what a core says about a process (registers, mappings, page runs), whatever the
//!   source;
//! - [`notes`]: the `PT_NOTE` encodings for x86_64 and aarch64;
//! - [`elf`]: the file layout and the streaming writer.
//!
//! [`write_core_file`] writes one core under a temporary name in the target directory and
//! renames it into place, so a failure never leaves a partial `core.PID` behind. Core files are
//! created 0600: they hold the process memory.

pub mod build;
pub mod elf;
pub mod image;
pub mod notes;

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use checkpoint_model::archive::MemberReader;
use checkpoint_model::dump::{Dump, Source};

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
    /// A page run's end overflows the address space.
    #[error("page run {index} at {vaddr:#x} with {nr_pages} pages overflows the address space")]
    BadPageRun {
        /// Position in the pagemap.
        index: usize,
        /// Its start address.
        vaddr: u64,
        /// Its page count.
        nr_pages: u64,
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
    #[error("writing {path} ({len} bytes, most of them holes): {source}", path = path.display())]
    WriteCore {
        /// The core file.
        path: PathBuf,
        /// The size it was to have.
        len: u64,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A core whose file is larger than this many times the data it holds (and than
/// [`SPARSE_WARNING_MIN`]) gets a warning before it is written: it is mostly holes.
pub const SPARSE_WARNING_RATIO: u64 = 16;

/// Cores smaller than this never get the mostly-holes warning.
pub const SPARSE_WARNING_MIN: u64 = 1 << 30;

/// Writes `DIR/core.PID` for process `pid` of `dump`: decodes its threads' cores, and streams
/// its pages (private and shared) from the checkpoint into the core. Before writing a core that
/// is mostly holes (see [`SPARSE_WARNING_RATIO`]), `warn` gets a line saying so.
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
    let mut sources: Vec<Source> = vec![Source::Private];
    for stretch in memory.stretches() {
        if !sources.contains(&stretch.source) {
            sources.push(stretch.source);
        }
    }
    let image = build::build_core_image(build::ProcessImages {
        task,
        cores: Box::new(cores),
        vmas: map.layout.vmas(),
        auxv: &map.auxv,
        stretches: memory.stretches(),
        sources: &sources,
        files: dump.files(),
        psargs,
    })?;
    let mut readers: Vec<(String, MemberReader)> = sources
        .iter()
        .map(|source| {
            let reader = memory.source_reader(*source);
            (reader.name().to_owned(), reader)
        })
        .collect();
    let mut pages: Vec<PagesSource<'_, MemberReader>> = readers
        .iter_mut()
        .map(|(name, reader)| PagesSource {
            reader,
            name: name.as_str(),
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
/// copies the present pages from `pages`, and renames it into place. On any error the temporary
/// file is removed and no `core.PID` is created (an older one stays untouched).
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
            "{}: the core will be {len} bytes long but hold {} bytes of the checkpoint's pages: the rest is holes (untouched anonymous memory), which some file systems cannot hold",
            path.display(),
            plan.data_bytes
        ));
    }
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".core.{}.", image.info.pid))
        .tempfile_in(dir)
        .map_err(|source| Error::CreateCore {
            path: dir.to_path_buf(),
            source,
        })?;
    let summary = elf::write_core(&plan, image, pages, temp.as_file_mut(), &path)?;
    temp.persist(&path).map_err(|err| Error::CreateCore {
        path: path.clone(),
        source: err.error,
    })?;
    Ok(WrittenCore { path, summary })
}

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

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::archive::Checkpoint;
use crate::criu::messages::{CoreEntry, MmEntry, PstreeEntry};
use crate::criu::{read_entries, CriuMessage, PageMap};

pub use elf::{CorePlan, CoreSummary, PagesSource};
pub use image::CoreImage;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Archive(#[from] crate::archive::Error),
    /// Decoding an image failed.
    #[error(transparent)]
    Criu(#[from] crate::criu::Error),
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
    #[error("writing the core file: {source}")]
    WriteCore {
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Writes `DIR/core.PID` for the process `pstree` of `checkpoint`: reads its thread cores,
/// mm and pagemap images, and streams its pages from the checkpoint into the core.
pub fn dump_process(
    checkpoint: &Checkpoint,
    pstree: &PstreeEntry,
    file_paths: &HashMap<u32, String>,
    dir: &Path,
) -> Result<WrittenCore, Error> {
    let pid = pstree.pid;
    let mut tids = vec![pid];
    tids.extend(pstree.threads.iter().copied().filter(|tid| *tid != pid));
    let mut cores = Vec::with_capacity(tids.len());
    for tid in tids {
        let name = format!("core-{tid}.img");
        let core = read_one::<CoreEntry>(checkpoint, &name)?;
        cores.push((name, core));
    }
    let mm = read_one::<MmEntry>(checkpoint, &format!("mm-{pid}.img"))?;
    let pagemap_name = format!("pagemap-{pid}.img");
    let pagemap = PageMap::decode(&pagemap_name, &checkpoint.read_image(&pagemap_name)?)?;
    let mut pages = checkpoint.open_pages(pagemap.pages_id)?;
    let psargs = build::read_psargs(&mm, &pagemap, &mut pages);
    let image = build::build_core_image(&build::ProcessImages {
        pstree,
        cores: &cores,
        mm: &mm,
        pagemap: &pagemap,
        file_paths,
        psargs,
    })?;
    let name = pages.name().to_string();
    write_core_file(
        dir,
        &image,
        PagesSource {
            reader: &mut pages,
            name: &name,
        },
    )
}

/// The first entry of a one-entry image (`core-<tid>.img`, `mm-<pid>.img`).
fn read_one<M: CriuMessage>(checkpoint: &Checkpoint, name: &str) -> Result<M, Error> {
    read_entries::<M>(name, &checkpoint.read_image(name)?)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::EmptyImage {
            file: name.to_string(),
        })
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
    pages: PagesSource<'_, R>,
) -> Result<WrittenCore, Error> {
    let plan = elf::plan_core(image)?;
    let path = dir.join(format!("core.{}", image.info.pid));
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".core.{}.", image.info.pid))
        .tempfile_in(dir)
        .map_err(|source| Error::CreateCore {
            path: dir.to_path_buf(),
            source,
        })?;
    let summary = elf::write_core(&plan, image, pages, temp.as_file_mut())?;
    temp.persist(&path).map_err(|err| Error::CreateCore {
        path: path.clone(),
        source: err.error,
    })?;
    Ok(WrittenCore { path, summary })
}

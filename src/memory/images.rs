//! Reading the images a process's memory needs out of a [`Checkpoint`]: `pstree.img` and
//! `core-PID.img` (pids and command names), `mm-PID.img` (VMAs, heap and argument bounds),
//! `pagemap-PID.img` (present runs) and `files.img` (paths of file mappings; memfd names are not resolved).

use std::collections::HashMap;

use crate::archive::Checkpoint;
use crate::criu::messages::{CoreEntry, FileEntry, MmEntry, PstreeEntry, RegFileEntry};
use crate::criu::{self, PageMap};

use super::layout::{MemoryLayout, NamingContext, PresentRun, RawVma};
use super::Error;

/// `FileEntry.type` of regular files (CRIU `fd_types.REG`).
const FD_TYPE_REG: i32 = 1;

/// Where argv and the environment lie in a process's memory (`mm_arg_*`, `mm_env_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArgBounds {
    /// `mm_arg_start`.
    pub arg_start: u64,
    /// `mm_arg_end`.
    pub arg_end: u64,
    /// `mm_env_start`.
    pub env_start: u64,
    /// `mm_env_end`.
    pub env_end: u64,
}

/// What the images say about one process's memory, before its pages file is opened.
#[derive(Debug, Clone)]
pub struct ProcessImages {
    /// Process id.
    pub pid: u32,
    /// VMAs and present runs.
    pub layout: MemoryLayout,
    /// The `<id>` of `pages-<id>.img`.
    pub pages_id: u32,
    /// argv and environment bounds.
    pub args: ArgBounds,
}

/// The processes of the checkpoint in `pstree.img` order, each with its command name (`comm`
/// from `core-PID.img`; empty if that image is missing).
pub fn checkpoint_processes(ckpt: &Checkpoint) -> Result<Vec<(u32, String)>, Error> {
    let bytes = ckpt.read_image("pstree.img")?;
    let tree = criu::read_entries::<PstreeEntry>("pstree.img", &bytes)?;
    let mut out = Vec::with_capacity(tree.len());
    for entry in tree {
        let name = format!("core-{}.img", entry.pid);
        let comm = if ckpt.has_image(&name) {
            let core = criu::read_entries::<CoreEntry>(&name, &ckpt.read_image(&name)?)?;
            core.into_iter()
                .next()
                .and_then(|core| core.tc)
                .map(|tc| tc.comm)
                .unwrap_or_default()
        } else {
            String::new()
        };
        out.push((entry.pid, comm));
    }
    Ok(out)
}

/// Reads `mm-PID.img`, `pagemap-PID.img` and the file paths of `pid`.
pub fn read_process_images(ckpt: &Checkpoint, pid: u32) -> Result<ProcessImages, Error> {
    let mm_name = format!("mm-{pid}.img");
    let mm = criu::read_entries::<MmEntry>(&mm_name, &ckpt.read_image(&mm_name)?)?
        .into_iter()
        .next()
        .ok_or(Error::NoEntry { image: mm_name })?;
    let pagemap_name = format!("pagemap-{pid}.img");
    let pagemap = PageMap::decode(&pagemap_name, &ckpt.read_image(&pagemap_name)?)?;
    let raw_vmas: Vec<RawVma> = mm
        .vmas
        .iter()
        .map(|vma| RawVma {
            start: vma.start,
            end: vma.end,
            pgoff: vma.pgoff,
            shmid: vma.shmid,
            prot: vma.prot,
            flags: vma.flags,
            status: vma.status,
        })
        .collect();
    let ctx = NamingContext {
        brk_start: mm.mm_start_brk,
        brk_end: mm.mm_brk,
        file_paths: file_paths(ckpt)?,
    };
    let runs = pagemap
        .runs
        .iter()
        .filter_map(|run| {
            Some(PresentRun {
                vaddr: run.vaddr,
                len: run.nr_pages.checked_mul(super::PAGE_SIZE)?,
                pages_offset: run.pages_offset?,
            })
        })
        .collect();
    Ok(ProcessImages {
        pid,
        layout: MemoryLayout::build(&raw_vmas, &ctx, runs),
        pages_id: pagemap.pages_id,
        args: ArgBounds {
            arg_start: mm.mm_arg_start,
            arg_end: mm.mm_arg_end,
            env_start: mm.mm_env_start,
            env_end: mm.mm_env_end,
        },
    })
}

/// File id to path, from `files.img` (CRIU >= 3.x) or the older `reg-files.img`.
fn file_paths(ckpt: &Checkpoint) -> Result<HashMap<u64, String>, Error> {
    let mut paths = HashMap::new();
    if ckpt.has_image("files.img") {
        for entry in criu::read_entries::<FileEntry>("files.img", &ckpt.read_image("files.img")?)? {
            let name = if entry.r#type == FD_TYPE_REG {
                entry.reg.map(|reg| reg.name)
            } else {
                None
            };
            if let Some(name) = name {
                paths.insert(u64::from(entry.id), name);
            }
        }
    } else if ckpt.has_image("reg-files.img") {
        for reg in
            criu::read_entries::<RegFileEntry>("reg-files.img", &ckpt.read_image("reg-files.img")?)?
        {
            paths.insert(u64::from(reg.id), reg.name);
        }
    }
    Ok(paths)
}

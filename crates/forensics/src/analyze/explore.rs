//! Builders of crit's `x` views: `ps` (pstree + core), `fds` (see [`super::files`]), `mems`
//! (mm VMAs named like crit does) and `rss` (pagemap runs against VMAs).
//!
//! `rss` reads the page count of each pagemap entry from field 5 (CRIU >= 4.2) else field 2,
//! through [`checkpoint_model::PageMap`], so it works on CRIU 4.1 images where CRIU 4.2's crit fails.

use std::collections::HashMap;

use super::{MemsProcess, MemsVma, PsRow, RssProcess, RssRun, RssVma};
use checkpoint_model::dump::files::FileTable;
use checkpoint_model::dump::{Dump, Error, Vma};
use checkpoint_model::messages::FdTypes;
use checkpoint_model::{PageMap, PAGE_SIZE};

/// `crit x ps`: depth-first from the root, children in `pstree.img` order. A task whose core
/// image cannot be read (crit fails there) keeps its row, with no name, and is handed to
/// `unreadable`.
pub(crate) fn build_ps(dump: &Dump, unreadable: &mut dyn FnMut(u32, Error)) -> Vec<PsRow> {
    let tree = dump.tree();
    let mut rows = Vec::new();
    for (index, depth) in tree.depth_first(None) {
        let Some(task) = tree.tasks().get(index) else {
            continue;
        };
        if let Some(problem) = &task.core_problem {
            unreadable(task.pid, problem.to_error(task.pid));
        }
        rows.push(PsRow {
            pid: task.pid,
            pgid: task.pgid,
            sid: task.sid,
            depth,
            comm: task.comm.clone(),
        });
    }
    rows
}

/// The path of regular file `id`, or crit's `unknown path`.
fn reg_path(files: &FileTable, id: u64) -> String {
    let id = u32::try_from(id).ok();
    super::files::describe_crit(files, FdTypes::REG as i32, id.unwrap_or(u32::MAX))
}

/// Numbers shared memory objects 1, 2, ... in order of first appearance, as crit does.
#[derive(Default)]
struct ShmemIds {
    ids: HashMap<u64, u64>,
}

impl ShmemIds {
    fn get(&mut self, shmid: u64) -> u64 {
        let next = self.ids.len() as u64 + 1;
        *self.ids.entry(shmid).or_insert(next)
    }
}

fn vma_resource(vma: &Vma, files: &FileTable, ids: &mut ShmemIds) -> String {
    let mut resource = if vma.is_sysv() {
        format!("ips[{:x}]", ids.get(vma.shmid))
    } else if vma.is_anon_shared() {
        format!("shmem[{:x}]", ids.get(vma.shmid))
    } else if vma.is_socket() {
        format!("packet[{:x}]", ids.get(vma.shmid))
    } else if vma.is_file_mapping() {
        let mut text = reg_path(files, vma.shmid);
        if vma.pgoff != 0 {
            text.push_str(&format!(" + {:#x}", vma.pgoff));
        }
        if vma.is_shared_file() {
            text.push_str(" (s)");
        }
        text
    } else if vma.is_stack() {
        "[stack]".to_owned()
    } else if vma.is_vsyscall() {
        "[vsyscall]".to_owned()
    } else if vma.is_vdso() {
        "[vdso]".to_owned()
    } else if vma.grows_down() {
        "[stack?]".to_owned()
    } else {
        String::new()
    };
    if !vma.is_regular() {
        if resource.is_empty() {
            resource.push('*');
        } else {
            resource.push_str(" *");
        }
    }
    resource
}

fn prot_text(prot: u32) -> String {
    let bit = |mask: u32, c: char| if prot & mask != 0 { c } else { '-' };
    [bit(1, 'r'), bit(2, 'w'), bit(4, 'x')].iter().collect()
}

/// `crit x mems`; a process whose memory map cannot be read is left out and handed to
/// `unreadable`.
pub(crate) fn build_mems(dump: &Dump, unreadable: &mut dyn FnMut(u32, Error)) -> Vec<MemsProcess> {
    let files = dump.files();
    let mut ids = ShmemIds::default();
    let mut out = Vec::new();
    for task in dump.tasks().iter().filter(|t| t.state.has_resources()) {
        let map = match dump.memory_map(task.pid) {
            Ok(map) => map,
            Err(err) => {
                unreadable(task.pid, err);
                continue;
            }
        };
        let vmas = map
            .layout
            .vmas()
            .iter()
            .map(|vma| MemsVma {
                start: vma.start,
                end: vma.end,
                prot: prot_text(vma.prot),
                resource: vma_resource(vma, files, &mut ids),
            })
            .collect();
        out.push(MemsProcess {
            pid: task.pid,
            exe: reg_path(files, u64::from(map.exe_file_id)),
            vmas,
        });
    }
    out
}

/// `crit x rss`; a process whose memory map cannot be read is left out and handed to
/// `unreadable`.
pub(crate) fn build_rss(dump: &Dump, unreadable: &mut dyn FnMut(u32, Error)) -> Vec<RssProcess> {
    let files = dump.files();
    let mut out = Vec::new();
    for task in dump.tasks().iter().filter(|t| t.state.has_resources()) {
        let read = dump
            .memory_map(task.pid)
            .and_then(|map| Ok((map, dump.pagemap(task.pid)?)));
        match read {
            Ok((map, pagemap)) => out.push(RssProcess {
                pid: task.pid,
                runs: match_runs(&pagemap, map.layout.vmas(), files),
            }),
            Err(err) => unreadable(task.pid, err),
        }
    }
    out
}

/// Walks pagemap runs and VMAs (both sorted by address) together, as crit does: each run
/// lists the VMAs it overlaps, and a VMA already listed by the previous run is `continued`.
fn match_runs(pagemap: &PageMap, vmas: &[Vma], files: &FileTable) -> Vec<RssRun> {
    let mut runs = Vec::with_capacity(pagemap.runs.len());
    let mut vmi = 0usize;
    let mut previous: Option<usize> = None;
    for run in &pagemap.runs {
        while vmas.get(vmi).is_some_and(|vma| vma.end <= run.vaddr) {
            vmi += 1;
        }
        let run_end = run
            .vaddr
            .saturating_add(run.nr_pages.saturating_mul(PAGE_SIZE));
        let mut listed = Vec::new();
        while let Some(vma) = vmas.get(vmi).filter(|vma| vma.start < run_end) {
            let continued = previous == Some(vmi);
            let file_backed = vma.is_file_mapping();
            listed.push(RssVma {
                continued,
                start: vma.start,
                nr_pages: vma.end.saturating_sub(vma.start) / PAGE_SIZE,
                file: (file_backed && !continued).then(|| reg_path(files, vma.shmid)),
            });
            previous = Some(vmi);
            vmi += 1;
        }
        vmi = vmi.saturating_sub(1);
        runs.push(RssRun {
            vaddr: run.vaddr,
            nr_pages: run.nr_pages,
            vmas: listed,
        });
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_model::dump::layout::status::{
        VMA_ANON_SHARED, VMA_AREA_REGULAR, VMA_AREA_VSYSCALL, VMA_FILE_SHARED,
    };
    use checkpoint_model::dump::layout::MAP_GROWSDOWN;
    use checkpoint_model::PageRun;

    fn vma(start: u64, end: u64, status: u32) -> Vma {
        Vma {
            start,
            end,
            prot: 0,
            flags: 0,
            status,
            pgoff: 0,
            shmid: 0,
            name: std::sync::Arc::from(""),
            shared: None,
        }
    }

    fn run(vaddr: u64, nr_pages: u64) -> PageRun {
        PageRun {
            vaddr,
            nr_pages,
            flags: 4,
            pages_offset: None,
        }
    }

    #[test]
    fn runs_list_overlapping_vmas_and_mark_repeats() {
        let vmas = [
            vma(0x1000, 0x5000, VMA_AREA_REGULAR),
            vma(0x5000, 0x6000, VMA_AREA_REGULAR),
            vma(0x9000, 0xa000, VMA_AREA_REGULAR),
        ];
        let pagemap = PageMap {
            pages_id: 1,
            runs: vec![run(0x1000, 1), run(0x3000, 3), run(0x9000, 1)],
        };
        let runs = match_runs(&pagemap, &vmas, &FileTable::default());
        let shape: Vec<Vec<(u64, bool)>> = runs
            .iter()
            .map(|r| r.vmas.iter().map(|v| (v.start, v.continued)).collect())
            .collect();
        assert_eq!(
            shape,
            vec![
                vec![(0x1000, false)],
                vec![(0x1000, true), (0x5000, false)],
                vec![(0x9000, false)],
            ]
        );
        assert_eq!(runs[0].vmas[0].nr_pages, 4);
    }

    #[test]
    fn huge_runs_do_not_overflow() {
        let vmas = [vma(0x1000, 0x2000, VMA_AREA_REGULAR)];
        let pagemap = PageMap {
            pages_id: 1,
            runs: vec![run(u64::MAX - 10, u64::MAX)],
        };
        let runs = match_runs(&pagemap, &vmas, &FileTable::default());
        assert!(runs[0].vmas.is_empty());
    }

    #[test]
    fn vma_names_follow_crit() {
        let files = FileTable::default();
        let mut ids = ShmemIds::default();
        let mut stack = vma(0, 0x1000, VMA_AREA_REGULAR);
        stack.flags = MAP_GROWSDOWN;
        assert_eq!(vma_resource(&stack, &files, &mut ids), "[stack?]");
        let vsyscall = vma(0, 0x1000, VMA_AREA_VSYSCALL);
        assert_eq!(vma_resource(&vsyscall, &files, &mut ids), "[vsyscall] *");
        let mut shared = vma(0, 0x1000, VMA_AREA_REGULAR | VMA_ANON_SHARED);
        shared.shmid = 77;
        assert_eq!(vma_resource(&shared, &files, &mut ids), "shmem[1]");
        let mut file = vma(0, 0x1000, VMA_AREA_REGULAR | VMA_FILE_SHARED);
        file.pgoff = 0x2000;
        assert_eq!(
            vma_resource(&file, &files, &mut ids),
            "unknown path + 0x2000 (s)"
        );
        assert_eq!(prot_text(5), "r-x");
    }
}

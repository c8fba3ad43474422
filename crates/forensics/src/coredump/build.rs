//! From the dump model to a [`CoreImage`]: registers from each thread's `core-<tid>.img`,
//! identity from the task tree and the main thread's task core, mappings from the memory map
//! with their paths from the file table, and every byte the checkpoint holds for the process's
//! addresses with where it is: present pages (private, and of shared-memory objects) and the
//! stored contents of deleted files its mappings show.

use std::collections::HashMap;
use std::sync::Arc;

use super::image::{
    Aarch64Regs, Arch, Backing, CoreImage, MappedFile, Mapping, PageRun, ProcessInfo, ThreadRegs,
    ThreadState, X86Fpregs, X86Regs, X86Xsave,
};
use super::Error;
use checkpoint_model::dump::files::FileTable;
use checkpoint_model::dump::{FileKind, FileStretch, Source, Stretch, Task, ThreadCore, Vma};
use checkpoint_model::messages::{ThreadInfoAarch64, ThreadInfoX86, UserX86XsaveEntry};

/// `core_entry.mtype` of x86_64 tasks.
const MTYPE_X86_64: i32 = 1;
/// `core_entry.mtype` of aarch64 tasks.
const MTYPE_AARCH64: i32 = 3;
/// `user_x86_regs_entry.mode` of 32-bit (compat) tasks.
const X86_MODE_COMPAT: i32 = 2;
/// Longest command line kept (`pr_psargs` holds 80 bytes with its NUL).
const PSARGS_MAX: usize = 79;

/// Most threads whose registers one core holds. Each costs a few KiB of notes (the XSAVE area
/// alone is up to 2.7 KiB); a process with more threads gets the first ones, and the core's
/// summary says how many were left out.
pub const MAX_CORE_THREADS: usize = 8192;

/// Where a core's bytes come from: a pages file, or an image holding a deleted file's contents
/// (`ghost-file-N.img`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreSource {
    /// The pages file of a [`Source`].
    Pages(Source),
    /// A CRIU image, by name.
    Image(Arc<str>),
}

/// What a core is built from: one task of the dump and its decoded thread cores.
pub struct ProcessImages<'a> {
    /// The task.
    pub task: &'a Task,
    /// The core of each thread, main thread first, decoded one at a time as the core is built
    /// (at most [`MAX_CORE_THREADS`] are read).
    pub cores: Box<dyn Iterator<Item = Result<ThreadCore, Error>> + 'a>,
    /// Its VMAs, by address.
    pub vmas: &'a [Vma],
    /// Its auxiliary vector.
    pub auxv: &'a [(u64, u64)],
    /// Every present stretch of its memory.
    pub stretches: &'a [Stretch],
    /// The stored contents of deleted files its mappings show, where no page covers them.
    pub file_stretches: &'a [FileStretch],
    /// True when the model left some of those out (see
    /// [`checkpoint_model::dump::MAX_FILE_STRETCHES`]).
    pub file_stretches_cut: bool,
    /// The order of the sources the runs point at (`PageRun::source` is an index here).
    pub sources: &'a [CoreSource],
    /// The dump's file table (paths of file mappings).
    pub files: &'a FileTable,
    /// The command line as the kernel shows it, if it could be read.
    pub psargs: Option<String>,
}

/// Cuts a command line to what `pr_psargs` holds, on a character boundary.
pub fn psargs_of(cmdline: &str) -> String {
    let mut end = cmdline.len().min(PSARGS_MAX);
    while !cmdline.is_char_boundary(end) {
        end -= 1;
    }
    cmdline.get(..end).unwrap_or_default().to_owned()
}

/// Builds the core description of one process.
pub fn build_core_image(images: ProcessImages<'_>) -> Result<CoreImage, Error> {
    let ProcessImages {
        task,
        mut cores,
        vmas,
        auxv,
        stretches,
        file_stretches,
        file_stretches_cut,
        sources,
        files,
        psargs,
    } = images;
    let Some(first) = cores.next() else {
        return Err(Error::NoThreads { pid: task.pid });
    };
    let main_thread = first?;
    let main_name = &main_thread.image;
    let main = &main_thread.core;
    let arch = match main.mtype {
        MTYPE_X86_64 => Arch::X86_64,
        MTYPE_AARCH64 => Arch::Aarch64,
        other => {
            return Err(Error::BadThread {
                file: main_name.clone(),
                problem: format!("architecture {other} is not supported (x86_64 and aarch64 are)"),
            })
        }
    };
    let tc = main.tc.as_ref().ok_or_else(|| Error::BadThread {
        file: main_name.clone(),
        problem: "no task core (tc)".into(),
    })?;
    if !task.state.has_resources() {
        return Err(Error::BadThread {
            file: main_name.clone(),
            problem: format!(
                "the task is {}: it has no memory to dump",
                task.state.name()
            ),
        });
    }

    let mut threads = vec![build_thread(&main_thread, arch, tc.blk_sigset)?];
    let mut omitted_threads = 0usize;
    for core in cores {
        if threads.len() >= MAX_CORE_THREADS {
            omitted_threads += 1;
            continue;
        }
        threads.push(build_thread(&core?, arch, tc.blk_sigset)?);
    }
    let creds = main.thread_core.as_ref().and_then(|t| t.creds.as_ref());
    let info = ProcessInfo {
        pid: task.pid,
        ppid: task.ppid,
        pgid: task.pgid,
        sid: task.sid,
        uid: creds.map_or(0, |c| c.uid),
        gid: creds.map_or(0, |c| c.gid),
        comm: tc.comm.clone(),
        psargs: psargs.unwrap_or_else(|| tc.comm.clone()),
        state: if task.state == checkpoint_model::dump::TaskState::Stopped {
            b'T'
        } else {
            b'S'
        },
        nice: main
            .thread_core
            .as_ref()
            .and_then(|t| t.sched_nice)
            .map_or(0, |n| n.clamp(-128, 127) as i8),
        flags: u64::from(tc.flags),
    };

    let mut paths = MappedPaths::default();
    let mappings = vmas
        .iter()
        .map(|vma| mapping(vma, files, &mut paths))
        .collect();
    let position = |wanted: &CoreSource| sources.iter().position(|s| s == wanted);
    let mut runs: Vec<PageRun> = stretches
        .iter()
        .filter_map(|stretch| {
            Some(PageRun {
                vaddr: stretch.vaddr,
                len: stretch.len,
                offset: stretch.pages_offset,
                source: Some(position(&CoreSource::Pages(stretch.source))?),
            })
        })
        .collect();
    for stretch in file_stretches {
        let (source, offset) = match &stretch.stored {
            Some((image, offset)) => {
                let Some(index) = position(&CoreSource::Image(Arc::clone(image))) else {
                    continue;
                };
                (Some(index), *offset)
            }
            None => (None, 0),
        };
        runs.push(PageRun {
            vaddr: stretch.vaddr,
            len: stretch.len,
            offset,
            source,
        });
    }
    runs.sort_by_key(|run| run.vaddr);
    let auxv = auxv.to_vec();
    Ok(CoreImage {
        arch,
        info,
        threads,
        omitted_threads,
        auxv,
        mappings,
        runs,
        runs_cut: file_stretches_cut,
    })
}

/// The `NT_FILE` path of each file id, made once however many mappings use it.
#[derive(Default)]
struct MappedPaths(HashMap<u32, Option<(Arc<str>, bool)>>);

impl MappedPaths {
    /// The path of file `id` (` (deleted)` after a deleted file's, as the kernel writes it) and
    /// whether the file still existed when it was dumped.
    fn get(&mut self, id: u32, files: &FileTable) -> Option<(Arc<str>, bool)> {
        self.0
            .entry(id)
            .or_insert_with(|| {
                let path = files.path(id)?;
                match &files.get(id)?.kind {
                    FileKind::Regular(reg) if reg.deleted.is_none() => Some((path, true)),
                    FileKind::Regular(_) => Some((Arc::from(format!("{path} (deleted)")), false)),
                    _ => Some((path, false)),
                }
            })
            .clone()
    }
}

/// One mapping of the core: its file, and what its bytes are where the checkpoint has none.
fn mapping(vma: &Vma, files: &FileTable, paths: &mut MappedPaths) -> Mapping {
    let file = vma.file_id().and_then(|id| paths.get(id, files));
    let backing = if vma.is_kernel_area() {
        Backing::Special
    } else if vma.is_private_anonymous() {
        Backing::AnonPrivate
    } else if vma.maps_regular_file() && file.as_ref().is_some_and(|(_, exists)| *exists) {
        Backing::File
    } else {
        Backing::Unknown
    };
    Mapping {
        start: vma.start,
        end: vma.end,
        prot: vma.prot,
        file: file.map(|(path, _)| MappedFile {
            path,
            offset: vma.pgoff,
        }),
        backing,
    }
}

fn build_thread(thread: &ThreadCore, arch: Arch, task_sigset: u64) -> Result<ThreadState, Error> {
    let bad = |problem: &str| Error::BadThread {
        file: thread.image.clone(),
        problem: problem.to_string(),
    };
    let (tid, core) = (thread.tid, &thread.core);
    let sigblocked = core
        .thread_core
        .as_ref()
        .and_then(|t| t.blk_sigset)
        .unwrap_or(task_sigset);
    let regs = match arch {
        Arch::X86_64 => {
            let ti = core
                .thread_info
                .as_ref()
                .ok_or_else(|| bad("no x86_64 thread_info"))?;
            ThreadRegs::X86_64(Box::new(build_x86_regs(ti).map_err(|p| bad(&p))?))
        }
        Arch::Aarch64 => {
            let ti = core
                .ti_aarch64
                .as_ref()
                .ok_or_else(|| bad("no ti_aarch64"))?;
            ThreadRegs::Aarch64(Box::new(build_aarch64_regs(ti).map_err(|p| bad(&p))?))
        }
    };
    Ok(ThreadState {
        tid,
        sigblocked,
        regs,
    })
}

/// Copies a repeated field that must have exactly `N` values.
fn exact<T: Copy + Default, const N: usize>(values: &[T], what: &str) -> Result<[T; N], String> {
    if values.len() != N {
        return Err(format!("{what} has {} values, expected {N}", values.len()));
    }
    let mut out = [T::default(); N];
    out.copy_from_slice(values);
    Ok(out)
}

/// Copies a repeated field if it has exactly `N` values (absent or odd-sized components are
/// left out of the core rather than guessed).
fn component<T: Copy + Default, const N: usize>(values: &[T]) -> Option<[T; N]> {
    exact(values, "").ok()
}

fn build_x86_regs(ti: &ThreadInfoX86) -> Result<X86Regs, String> {
    let g = &ti.gpregs;
    if g.mode == Some(X86_MODE_COMPAT) {
        return Err("32-bit (compat) tasks are not supported".into());
    }
    let gpregs = [
        g.r15, g.r14, g.r13, g.r12, g.bp, g.bx, g.r11, g.r10, g.r9, g.r8, g.ax, g.cx, g.dx, g.si,
        g.di, g.orig_ax, g.ip, g.cs, g.flags, g.sp, g.ss, g.fs_base, g.gs_base, g.ds, g.es, g.fs,
        g.gs,
    ];
    let f = &ti.fpregs;
    let fpregs = X86Fpregs {
        // The x87 control words are 16 bits wide; CRIU stores them in uint32 fields.
        cwd: f.cwd as u16,
        swd: f.swd as u16,
        twd: f.twd as u16,
        fop: f.fop as u16,
        rip: f.rip,
        rdp: f.rdp,
        mxcsr: f.mxcsr,
        mxcsr_mask: f.mxcsr_mask,
        st_space: exact(&f.st_space, "fpregs.st_space")?,
        xmm_space: exact(&f.xmm_space, "fpregs.xmm_space")?,
    };
    Ok(X86Regs {
        gpregs,
        fpregs,
        xsave: f.xsave.as_ref().map(build_x86_xsave),
    })
}

fn build_x86_xsave(x: &UserX86XsaveEntry) -> X86Xsave {
    X86Xsave {
        xstate_bv: x.xstate_bv,
        ymmh: component(&x.ymmh_space),
        bndregs: component(&x.bndreg_state),
        bndcsr: component(&x.bndcsr_state),
        opmask: component(&x.opmask_reg),
        zmm_upper: component(&x.zmm_upper),
        hi16_zmm: component(&x.hi16_zmm),
        pkru: component(&x.pkru),
    }
}

fn build_aarch64_regs(ti: &ThreadInfoAarch64) -> Result<Aarch64Regs, String> {
    Ok(Aarch64Regs {
        regs: exact(&ti.gpregs.regs, "gpregs.regs")?,
        sp: ti.gpregs.sp,
        pc: ti.gpregs.pc,
        pstate: ti.gpregs.pstate,
        vregs: exact(&ti.fpsimd.vregs, "fpsimd.vregs")?,
        fpsr: ti.fpsimd.fpsr,
        fpcr: ti.fpsimd.fpcr,
        tls: ti.tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_model::dump::Source;
    use checkpoint_model::messages::{
        CoreEntry, TaskCoreEntry, UserAarch64FpsimdContextEntry, UserAarch64RegsEntry,
    };

    const PY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/criu-4.2/py/"
    );

    #[test]
    fn builds_the_py_fixture() {
        let checkpoint =
            checkpoint_model::archive::Checkpoint::open(std::path::Path::new(PY)).unwrap();
        let dump = checkpoint_model::dump::Dump::load(checkpoint).unwrap();
        let task = dump.task(24390).unwrap();
        let memory = dump.memory(24390).unwrap();
        let map = dump.memory_map(24390).unwrap();
        let psargs = dump
            .strings(24390)
            .unwrap()
            .cmdline
            .as_ref()
            .map(|c| psargs_of(&c.joined()))
            .ok();
        assert_eq!(psargs.as_deref(), Some("python3 /srv/app/bin/secret.py"));
        let image = build_core_image(ProcessImages {
            task,
            cores: Box::new(dump.thread_cores(task).map(|core| Ok(core.unwrap()))),
            vmas: map.layout.vmas(),
            auxv: &map.auxv,
            stretches: memory.stretches(),
            file_stretches: memory.file_stretches(),
            file_stretches_cut: false,
            sources: &[CoreSource::Pages(Source::Private)],
            files: dump.files(),
            psargs,
        })
        .unwrap();
        assert_eq!(image.arch, Arch::X86_64);
        assert_eq!(image.info.pid, 24390);
        assert_eq!(image.info.comm, "python3");
        assert_eq!(image.threads.len(), 1);
        let ThreadRegs::X86_64(regs) = &image.threads[0].regs else {
            panic!("x86_64 registers expected")
        };
        assert_eq!(regs.gpregs[16], 0x7f225c04d501); // rip, as crit shows it
        assert_eq!(regs.gpregs[19], 0x7ffcea7ff688); // rsp
        assert_eq!(regs.gpregs[21], 0x7f225bf7d040); // fs_base
        let xsave = regs.xsave.as_ref().unwrap();
        assert_eq!(xsave.xstate_bv, 162);
        assert!(xsave.ymmh.is_some() && xsave.hi16_zmm.is_some() && xsave.pkru.is_none());
        assert_eq!(image.auxv.first(), Some(&(33, 0x7f225c29b000)));
        assert_eq!(image.mappings.len(), 42);
        let exe = &image.mappings[1];
        assert_eq!((exe.start, exe.prot), (0x41f000, 5));
        assert_eq!(
            exe.file,
            Some(MappedFile {
                path: Arc::from("/usr/bin/python3.11"),
                offset: 0x1f000
            })
        );
        assert_eq!(exe.backing, Backing::File);
        let vdso = image
            .mappings
            .iter()
            .find(|m| m.start == 0x7f225c29b000)
            .unwrap();
        assert_eq!(
            (vdso.backing, vdso.file.is_none()),
            (Backing::Special, true)
        );
        let heap = image
            .mappings
            .iter()
            .find(|m| m.start == 0x735a000)
            .unwrap();
        assert_eq!(heap.backing, Backing::AnonPrivate);
        // 61 pagemap runs, cut at VMA edges; 959 pages = pages-1.img / 4096.
        assert!(image.runs.len() >= 61);
        assert_eq!(image.runs.iter().map(|r| r.len).sum::<u64>(), 959 * 4096);
        assert!(image.runs.iter().all(|r| r.source == Some(0)));
    }

    #[test]
    fn builds_aarch64_threads_from_ti_aarch64() {
        let mut core = CoreEntry {
            mtype: MTYPE_AARCH64,
            ti_aarch64: Some(ThreadInfoAarch64 {
                clear_tid_addr: 0,
                tls: 0xffff_8000_1000,
                gpregs: UserAarch64RegsEntry {
                    regs: (0..31).collect(),
                    sp: 0xffff_ffff_e000,
                    pc: 0xaaaa_0000_1234,
                    pstate: 0x8000_0000,
                },
                fpsimd: UserAarch64FpsimdContextEntry {
                    vregs: (100..164).collect(),
                    fpsr: 0x10,
                    fpcr: 0x20,
                },
                pac_keys: None,
            }),
            tc: Some(TaskCoreEntry {
                task_state: 1,
                comm: "arm".into(),
                ..TaskCoreEntry::default()
            }),
            ..CoreEntry::default()
        };
        let task = Task {
            pid: 5,
            ppid: 0,
            pgid: 5,
            sid: 5,
            comm: "arm".into(),
            state: checkpoint_model::dump::TaskState::Alive,
            exit_code: 0,
            threads: Vec::new(),
            core_problem: None,
        };
        let files = FileTable::default();
        let images = |core: CoreEntry| ProcessImages {
            task: &task,
            cores: Box::new(std::iter::once(Ok(ThreadCore {
                tid: 5,
                image: "core-5.img".to_string(),
                core,
            }))),
            vmas: &[],
            auxv: &[],
            stretches: &[],
            file_stretches: &[],
            file_stretches_cut: false,
            sources: &[CoreSource::Pages(Source::Private)],
            files: &files,
            psargs: None,
        };
        let image = build_core_image(images(core.clone())).unwrap();
        assert_eq!(image.arch, Arch::Aarch64);
        assert_eq!(image.info.psargs, "arm");
        let ThreadRegs::Aarch64(regs) = &image.threads[0].regs else {
            panic!("aarch64 registers expected")
        };
        assert_eq!(
            (regs.regs[30], regs.sp, regs.pc),
            (30, 0xffff_ffff_e000, 0xaaaa_0000_1234)
        );
        assert_eq!(
            (regs.vregs[63], regs.fpsr, regs.fpcr, regs.tls),
            (163, 0x10, 0x20, 0xffff_8000_1000)
        );

        // A short register list is an error naming the file, not a panic.
        if let Some(ti) = core.ti_aarch64.as_mut() {
            ti.gpregs.regs.truncate(3);
        }
        let err = build_core_image(images(core)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "core-5.img: gpregs.regs has 3 values, expected 31"
        );
    }
}

//! What a core file says about one process, independent of where it came from: the process
//! identity, each thread's registers, the auxiliary vector, the mappings and which of their bytes
//! the checkpoint holds (pages, and the stored contents of deleted files). [`super::build`] fills
//! it from the dump model; [`super::elf`] writes it.
//!
//! Register values are stored in the order and width of the kernel's ptrace register sets, so
//! that the note encoders only lay them out.

use std::sync::Arc;

/// The size of a page in every checkpoint this module reads (x86_64 and 4 KiB aarch64 kernels).
pub const PAGE_SIZE: u64 = 4096;

/// The machine a process ran on; picks the ELF `e_machine` and the register note layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86_64 (`EM_X86_64`).
    X86_64,
    /// 64-bit Arm (`EM_AARCH64`).
    Aarch64,
}

/// One process as a core file describes it.
#[derive(Debug, Clone)]
pub struct CoreImage {
    /// The machine, which must match every thread's registers.
    pub arch: Arch,
    /// Identity and state for `NT_PRPSINFO`.
    pub info: ProcessInfo,
    /// The threads, main thread first.
    pub threads: Vec<ThreadState>,
    /// Threads of the process whose registers the core leaves out (past
    /// [`super::build::MAX_CORE_THREADS`]).
    pub omitted_threads: usize,
    /// The saved auxiliary vector as (type, value) pairs, without the terminating `AT_NULL`.
    pub auxv: Vec<(u64, u64)>,
    /// The mappings, sorted by start address and not overlapping.
    pub mappings: Vec<Mapping>,
    /// The runs of bytes the checkpoint holds, by address.
    pub runs: Vec<PageRun>,
    /// True when some stored contents of deleted files were left out of `runs` (more pieces
    /// than the model keeps per process): those ranges are reported missing.
    pub runs_cut: bool,
}

/// Identity and state of a process (`NT_PRPSINFO`).
#[derive(Debug, Clone, Default)]
pub struct ProcessInfo {
    /// Process id (in the checkpoint's pid namespace).
    pub pid: u32,
    /// Parent process id; 0 for the root of the dumped tree.
    pub ppid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Session id.
    pub sid: u32,
    /// Real user id.
    pub uid: u32,
    /// Real group id.
    pub gid: u32,
    /// The command name (`comm`), at most 15 bytes are kept.
    pub comm: String,
    /// The command line, arguments separated by spaces; at most 79 bytes are kept.
    pub psargs: String,
    /// The kernel's state letter: `R`, `S`, `D`, `T`, `Z`.
    pub state: u8,
    /// The nice value.
    pub nice: i8,
    /// The kernel task flags (`PF_*`).
    pub flags: u64,
}

/// One thread: its id, blocked signals and registers.
#[derive(Debug, Clone)]
pub struct ThreadState {
    /// Thread id (`pr_pid` of its `NT_PRSTATUS`).
    pub tid: u32,
    /// The blocked signal mask.
    pub sigblocked: u64,
    /// The registers.
    pub regs: ThreadRegs,
}

/// A thread's registers for one architecture.
#[derive(Debug, Clone)]
pub enum ThreadRegs {
    /// x86_64 registers.
    X86_64(Box<X86Regs>),
    /// aarch64 registers.
    Aarch64(Box<Aarch64Regs>),
}

/// x86_64 registers in the kernel's `user_regs_struct`, `user_fpregs_struct` and XSAVE layouts.
#[derive(Debug, Clone)]
pub struct X86Regs {
    /// `user_regs_struct`: r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi,
    /// rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs.
    pub gpregs: [u64; 27],
    /// The legacy FXSAVE area (`user_fpregs_struct`).
    pub fpregs: X86Fpregs,
    /// The XSAVE extended state, when the checkpoint has it.
    pub xsave: Option<X86Xsave>,
}

/// The FXSAVE area of an x86_64 thread.
#[derive(Debug, Clone)]
pub struct X86Fpregs {
    /// FPU control word.
    pub cwd: u16,
    /// FPU status word.
    pub swd: u16,
    /// Abridged FPU tag word.
    pub twd: u16,
    /// Last FPU opcode.
    pub fop: u16,
    /// Last FPU instruction pointer.
    pub rip: u64,
    /// Last FPU data pointer.
    pub rdp: u64,
    /// SSE control and status.
    pub mxcsr: u32,
    /// Valid bits of `mxcsr`.
    pub mxcsr_mask: u32,
    /// st0-st7, 16 bytes each.
    pub st_space: [u32; 32],
    /// xmm0-xmm15, 16 bytes each.
    pub xmm_space: [u32; 64],
}

impl Default for X86Fpregs {
    fn default() -> Self {
        X86Fpregs {
            cwd: 0,
            swd: 0,
            twd: 0,
            fop: 0,
            rip: 0,
            rdp: 0,
            mxcsr: 0,
            mxcsr_mask: 0,
            st_space: [0; 32],
            xmm_space: [0; 64],
        }
    }
}

/// The XSAVE components CRIU saves beyond the FXSAVE area; each is `None` when absent.
#[derive(Debug, Clone, Default)]
pub struct X86Xsave {
    /// The XSAVE header's `xstate_bv`: which components are not in their initial state.
    pub xstate_bv: u64,
    /// Upper halves of ymm0-ymm15 (256 bytes).
    pub ymmh: Option<[u32; 64]>,
    /// MPX bound registers bnd0-bnd3 (64 bytes).
    pub bndregs: Option<[u64; 8]>,
    /// MPX BNDCFGU and BNDSTATUS (64 bytes).
    pub bndcsr: Option<[u64; 8]>,
    /// AVX-512 opmask registers k0-k7 (64 bytes).
    pub opmask: Option<[u64; 8]>,
    /// Upper 256 bits of zmm0-zmm15 (512 bytes).
    pub zmm_upper: Option<[u64; 64]>,
    /// zmm16-zmm31 (1024 bytes).
    pub hi16_zmm: Option<[u64; 128]>,
    /// The PKRU register (8 bytes).
    pub pkru: Option<[u32; 2]>,
}

/// aarch64 registers in the kernel's `user_pt_regs` and `user_fpsimd_state` layouts.
#[derive(Debug, Clone)]
pub struct Aarch64Regs {
    /// x0-x30.
    pub regs: [u64; 31],
    /// Stack pointer.
    pub sp: u64,
    /// Program counter.
    pub pc: u64,
    /// PSTATE.
    pub pstate: u64,
    /// v0-v31 as pairs of u64 (low half first).
    pub vregs: [u64; 64],
    /// Floating-point status register.
    pub fpsr: u32,
    /// Floating-point control register.
    pub fpcr: u32,
    /// The thread pointer `tpidr_el0`.
    pub tls: u64,
}

/// One mapping of the address space: one `PT_LOAD` segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `PROT_READ` (1), `PROT_WRITE` (2), `PROT_EXEC` (4).
    pub prot: u32,
    /// The mapped file and the byte offset of `start` in it, for file-backed mappings.
    pub file: Option<MappedFile>,
    /// What the bytes the checkpoint lacks are.
    pub backing: Backing,
}

/// The file behind a mapping (an `NT_FILE` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedFile {
    /// The path as the checkpoint recorded it, ` (deleted)` after it for a file deleted while
    /// mapped (as the kernel writes it); shared by every mapping of the file.
    pub path: Arc<str>,
    /// The byte offset in the file that `start` maps.
    pub offset: u64,
}

/// What a mapping's bytes are where the checkpoint holds none; decides what the core holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// Private anonymous memory: pages CRIU did not dump were never touched, so they are zero.
    /// Written whole (zeros as holes), unless the mapping is `PROT_NONE` with no page.
    AnonPrivate,
    /// A file that was not deleted: CRIU dumps only the pages that differ from it, so the others
    /// are the file's. The core holds the dumped pages and leaves the rest to the file (segments
    /// without file bytes, the file named in `NT_FILE`), as the kernel does for file mappings.
    File,
    /// Anything else (shared memory, memfds, deleted files): where the checkpoint holds nothing,
    /// nothing is known. The core holds what the checkpoint has and no byte elsewhere.
    Unknown,
    /// Kernel-provided areas ([vvar], [vsyscall], [vdso]): the dumped pages when there are some,
    /// nothing elsewhere.
    Special,
}

/// A run of consecutive bytes the checkpoint holds, page aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRun {
    /// Address of the first byte.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Byte offset of the first byte in its source.
    pub offset: u64,
    /// Where the bytes are: an index into the sources given to the writer (0: the process's own
    /// `pages-N.img`; others: the pages of shared-memory objects, ghost file images); `None` for
    /// zeros the checkpoint knows of (a hole of a sparse deleted file), written as holes.
    pub source: Option<usize>,
}

impl PageRun {
    /// One past the last address of the run, or `None` if it would overflow.
    pub fn end(&self) -> Option<u64> {
        self.vaddr.checked_add(self.len)
    }
}

//! The `PT_NOTE` contents of a Linux core file: note framing (4-byte aligned name and
//! descriptor) and the byte layouts of `NT_PRSTATUS`, `NT_PRPSINFO`, `NT_FPREGSET`,
//! `NT_X86_XSTATE`, `NT_ARM_TLS`, `NT_SIGINFO`, `NT_AUXV` and `NT_FILE` for x86_64 and aarch64,
//! as the kernel's `fs/binfmt_elf.c` writes them and as gdb/BFD size-check them; and our own
//! note listing the ranges the core holds no byte of.
//!
//! Notes are built in memory, so the two whose size follows the input are capped: `NT_FILE` at
//! [`FILE_NOTE_LIMIT`] (the kernel's `core_file_note_size_limit`; 262,000 mappings of a file with
//! a 4 KiB path would make a 1 GiB note) and ours at [`MISSING_NOTE_LIMIT`]. What a cap leaves
//! out is counted, and the core's summary says so.

use super::image::{
    Aarch64Regs, CoreImage, Mapping, ProcessInfo, ThreadRegs, ThreadState, X86Regs, PAGE_SIZE,
};

/// Largest `NT_FILE` descriptor: 4 MiB, the kernel's default `core_file_note_size_limit`.
pub const FILE_NOTE_LIMIT: usize = 4 << 20;

/// Largest descriptor of our [`NT_KC_MISSING`] note: 4 MiB (174,762 ranges).
pub const MISSING_NOTE_LIMIT: usize = 4 << 20;

/// `NT_PRSTATUS`: general-purpose registers and ids of one thread.
pub const NT_PRSTATUS: u32 = 1;
/// `NT_PRFPREG` / `NT_FPREGSET`: the FPU/SIMD registers of one thread.
pub const NT_FPREGSET: u32 = 2;
/// `NT_PRPSINFO`: process identity and command line.
pub const NT_PRPSINFO: u32 = 3;
/// `NT_AUXV`: the auxiliary vector.
pub const NT_AUXV: u32 = 6;
/// `NT_X86_XSTATE`: the XSAVE area of one thread (name `LINUX`).
pub const NT_X86_XSTATE: u32 = 0x202;
/// `NT_ARM_TLS`: `tpidr_el0` of one thread (name `LINUX`).
pub const NT_ARM_TLS: u32 = 0x401;
/// `NT_SIGINFO`: the `siginfo_t` of the signal that caused the dump.
pub const NT_SIGINFO: u32 = 0x5349_4749;
/// `NT_FILE`: the file-backed mappings.
pub const NT_FILE: u32 = 0x4649_4c45;
/// Our own note (name [`OWN_NOTE_NAME`]): the address ranges of mappings the core holds no byte
/// of, and why. Its descriptor: u64 count of the ranges listed, u64 count of all such ranges
/// (more when [`MISSING_NOTE_LIMIT`] cut the list), then per range u64 start, u64 end, u64
/// [`Absence`] code.
pub const NT_KC_MISSING: u32 = 0x4b43_4d52;
/// Name of our own notes.
pub const OWN_NOTE_NAME: &str = "KUBECTL-CHECKPOINT";

/// Size of x86_64 `struct elf_prstatus`.
pub const X86_64_PRSTATUS_SIZE: usize = 336;
/// Size of aarch64 `struct elf_prstatus`.
pub const AARCH64_PRSTATUS_SIZE: usize = 392;
/// Size of `struct elf_prpsinfo` on both 64-bit architectures.
pub const PRPSINFO_SIZE: usize = 136;
/// Size of `siginfo_t`.
pub const SIGINFO_SIZE: usize = 128;
/// Size of x86_64 `user_fpregs_struct` (the FXSAVE area).
pub const X86_FPREGS_SIZE: usize = 512;
/// Size of aarch64 `user_fpsimd_state`.
pub const AARCH64_FPSIMD_SIZE: usize = 528;

/// Offset of `pr_reg` in `struct elf_prstatus` (after siginfo, signal sets, ids and times).
const PRSTATUS_REG_OFFSET: usize = 112;
/// Offset in the FXSAVE area where Linux stores XCR0 for ptrace and core files (gdb reads it).
const XSAVE_XCR0_OFFSET: usize = 464;
/// Offset of the XSAVE header (`xstate_bv`).
const XSAVE_HEADER_OFFSET: usize = 512;

/// XSAVE component bits of XCR0 / `xstate_bv`.
const XFEATURE_FP: u64 = 1;
const XFEATURE_SSE: u64 = 1 << 1;
const XFEATURE_YMM: u64 = 1 << 2;
const XFEATURE_BNDREGS: u64 = 1 << 3;
const XFEATURE_BNDCSR: u64 = 1 << 4;
const XFEATURE_OPMASK: u64 = 1 << 5;
const XFEATURE_ZMM_HI256: u64 = 1 << 6;
const XFEATURE_HI16_ZMM: u64 = 1 << 7;
const XFEATURE_PKRU: u64 = 1 << 9;
const XFEATURES_AVX512: u64 = XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM;
const XFEATURES_MPX: u64 = XFEATURE_BNDREGS | XFEATURE_BNDCSR;

/// Appends one note: `namesz`, `descsz`, `type`, the NUL-terminated name and the descriptor, each
/// padded to 4 bytes.
pub fn encode_note(out: &mut Vec<u8>, name: &str, note_type: u32, desc: &[u8]) {
    let namesz = name.len() + 1;
    out.extend_from_slice(&(namesz as u32).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&note_type.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(desc);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// A fixed-size little-endian structure being filled at explicit offsets.
struct Layout(Vec<u8>);

impl Layout {
    fn new(size: usize) -> Self {
        Layout(vec![0; size])
    }

    fn put(&mut self, offset: usize, bytes: &[u8]) {
        // Offsets are constants of the layouts below, so this only fails on a bug here.
        self.0[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    fn u16(&mut self, offset: usize, value: u16) {
        self.put(offset, &value.to_le_bytes());
    }

    fn u32(&mut self, offset: usize, value: u32) {
        self.put(offset, &value.to_le_bytes());
    }

    fn u64(&mut self, offset: usize, value: u64) {
        self.put(offset, &value.to_le_bytes());
    }

    fn u32s(&mut self, offset: usize, values: &[u32]) {
        for (i, v) in values.iter().enumerate() {
            self.u32(offset + 4 * i, *v);
        }
    }

    fn u64s(&mut self, offset: usize, values: &[u64]) {
        for (i, v) in values.iter().enumerate() {
            self.u64(offset + 8 * i, *v);
        }
    }
}

/// Why the core holds no byte of an address range of a mapping (the code in [`NT_KC_MISSING`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// The file named in `NT_FILE` holds it: the checkpoint stores only pages that differ from
    /// the file (1).
    LeftToFile = 1,
    /// Nothing in the checkpoint holds it (shared memory or a deleted file's pages it did not
    /// store) (2).
    Missing = 2,
    /// A kernel-provided area ([vvar], [vsyscall]) the checkpoint has no page of (3).
    KernelArea = 3,
}

/// An address range of a mapping that the core holds no byte of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsentRange {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Why.
    pub absence: Absence,
}

/// A note whose list may have been cut: its descriptor, the entries it lists, and how many
/// there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CappedNote {
    /// The descriptor.
    pub desc: Vec<u8>,
    /// Entries listed.
    pub listed: usize,
    /// Entries there were.
    pub total: usize,
}

/// Builds the whole note segment of a process: per thread `NT_PRSTATUS` followed by its register
/// notes, the process-wide notes (with `file_note`, from [`build_file_note`]) after the first
/// thread's `NT_PRSTATUS` (the kernel's order, which BFD relies on to attach register notes to
/// the preceding thread), then our own note (`missing_note`, from [`build_missing_note`]).
pub fn build_notes(image: &CoreImage, file_note: &[u8], missing_note: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, thread) in image.threads.iter().enumerate() {
        encode_note(
            &mut out,
            "CORE",
            NT_PRSTATUS,
            &build_prstatus(&image.info, thread),
        );
        if index == 0 {
            encode_note(&mut out, "CORE", NT_PRPSINFO, &build_prpsinfo(&image.info));
            encode_note(&mut out, "CORE", NT_SIGINFO, &[0; SIGINFO_SIZE]);
            encode_note(&mut out, "CORE", NT_AUXV, &build_auxv(&image.auxv));
            encode_note(&mut out, "CORE", NT_FILE, file_note);
        }
        match &thread.regs {
            ThreadRegs::X86_64(regs) => {
                encode_note(&mut out, "CORE", NT_FPREGSET, &build_x86_fpregs(regs));
                if let Some(xstate) = build_x86_xstate(regs) {
                    encode_note(&mut out, "LINUX", NT_X86_XSTATE, &xstate);
                }
            }
            ThreadRegs::Aarch64(regs) => {
                encode_note(&mut out, "CORE", NT_FPREGSET, &build_aarch64_fpsimd(regs));
                encode_note(&mut out, "LINUX", NT_ARM_TLS, &regs.tls.to_le_bytes());
            }
        }
    }
    encode_note(&mut out, OWN_NOTE_NAME, NT_KC_MISSING, missing_note);
    out
}

/// `struct elf_prstatus` of one thread: x86_64 (336 bytes) or aarch64 (392 bytes).
pub fn build_prstatus(info: &ProcessInfo, thread: &ThreadState) -> Vec<u8> {
    let (size, regs): (usize, Vec<u64>) = match &thread.regs {
        ThreadRegs::X86_64(regs) => (X86_64_PRSTATUS_SIZE, regs.gpregs.to_vec()),
        ThreadRegs::Aarch64(regs) => {
            let mut all = regs.regs.to_vec();
            all.extend([regs.sp, regs.pc, regs.pstate]);
            (AARCH64_PRSTATUS_SIZE, all)
        }
    };
    let mut s = Layout::new(size);
    // pr_info (si_signo, si_code, si_errno) and pr_cursig stay 0: no signal caused this dump.
    s.u64(16, 0); // pr_sigpend
    s.u64(24, thread.sigblocked); // pr_sighold
    s.u32(32, thread.tid); // pr_pid
    s.u32(36, info.ppid);
    s.u32(40, info.pgid);
    s.u32(44, info.sid);
    // pr_utime, pr_stime, pr_cutime, pr_cstime (48..112): not in a checkpoint.
    s.u64s(PRSTATUS_REG_OFFSET, &regs);
    s.u32(PRSTATUS_REG_OFFSET + 8 * regs.len(), 1); // pr_fpvalid
    s.0
}

/// `struct elf_prpsinfo` (136 bytes on x86_64 and aarch64).
pub fn build_prpsinfo(info: &ProcessInfo) -> Vec<u8> {
    let mut s = Layout::new(PRPSINFO_SIZE);
    let sname = if info.state == 0 { b'R' } else { info.state };
    let state_index = b"RSDTZ".iter().position(|c| *c == sname).unwrap_or(0);
    s.put(0, &[state_index as u8, sname, u8::from(sname == b'Z')]);
    s.put(3, &info.nice.to_le_bytes());
    s.u64(8, info.flags);
    s.u32(16, info.uid);
    s.u32(20, info.gid);
    s.u32(24, info.pid);
    s.u32(28, info.ppid);
    s.u32(32, info.pgid);
    s.u32(36, info.sid);
    s.put(40, truncated(info.comm.as_bytes(), 15));
    s.put(56, truncated(info.psargs.as_bytes(), 79));
    s.0
}

fn truncated(bytes: &[u8], max: usize) -> &[u8] {
    bytes.get(..max).unwrap_or(bytes)
}

/// The auxiliary vector as u64 pairs ending in `AT_NULL`.
pub fn build_auxv(auxv: &[(u64, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity((auxv.len() + 1) * 16);
    for (key, value) in auxv.iter().chain(std::iter::once(&(0, 0))) {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// `NT_FILE`: count, page size, (start, end, offset in pages) per file-backed mapping, then the
/// NUL-terminated paths in the same order; the mappings in address order as long as the note
/// stays within `limit` bytes (the kernel writes no `NT_FILE` at all past its limit; we list what
/// fits and count the rest).
pub fn build_file_note(mappings: &[Mapping], limit: usize) -> CappedNote {
    let files: Vec<_> = mappings
        .iter()
        .filter_map(|m| m.file.as_ref().map(|f| (m, f)))
        .collect();
    let mut size = 16usize;
    let mut listed = 0usize;
    for (_, file) in &files {
        let path_len = file.path.bytes().filter(|b| *b != 0).count() + 1;
        if size + 24 + path_len > limit {
            break;
        }
        size += 24 + path_len;
        listed += 1;
    }
    let kept = files.get(..listed).unwrap_or_default();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(listed as u64).to_le_bytes());
    out.extend_from_slice(&PAGE_SIZE.to_le_bytes());
    for (mapping, file) in kept {
        out.extend_from_slice(&mapping.start.to_le_bytes());
        out.extend_from_slice(&mapping.end.to_le_bytes());
        out.extend_from_slice(&(file.offset / PAGE_SIZE).to_le_bytes());
    }
    for (_, file) in kept {
        out.extend(file.path.bytes().filter(|b| *b != 0));
        out.push(0);
    }
    CappedNote {
        desc: out,
        listed,
        total: files.len(),
    }
}

/// Our own note ([`NT_KC_MISSING`]): the ranges the core holds no byte of, in address order,
/// as many as fit in `limit` bytes.
pub fn build_missing_note(ranges: &[AbsentRange], limit: usize) -> CappedNote {
    let listed = ranges.len().min(limit.saturating_sub(16) / 24);
    let mut out = Vec::with_capacity(16 + listed * 24);
    out.extend_from_slice(&(listed as u64).to_le_bytes());
    out.extend_from_slice(&(ranges.len() as u64).to_le_bytes());
    for range in ranges.get(..listed).unwrap_or_default() {
        out.extend_from_slice(&range.start.to_le_bytes());
        out.extend_from_slice(&range.end.to_le_bytes());
        out.extend_from_slice(&(range.absence as u64).to_le_bytes());
    }
    CappedNote {
        desc: out,
        listed,
        total: ranges.len(),
    }
}

/// x86_64 `user_fpregs_struct`, the 512-byte FXSAVE area.
pub fn build_x86_fpregs(regs: &X86Regs) -> Vec<u8> {
    let mut s = Layout::new(X86_FPREGS_SIZE);
    write_fxsave(&mut s, regs);
    s.0
}

fn write_fxsave(s: &mut Layout, regs: &X86Regs) {
    let fp = &regs.fpregs;
    s.u16(0, fp.cwd);
    s.u16(2, fp.swd);
    s.u16(4, fp.twd);
    s.u16(6, fp.fop);
    s.u64(8, fp.rip);
    s.u64(16, fp.rdp);
    s.u32(24, fp.mxcsr);
    s.u32(28, fp.mxcsr_mask);
    s.u32s(32, &fp.st_space);
    s.u32s(160, &fp.xmm_space);
}

/// The XCR0 value (enabled XSAVE components) a thread's saved state supports, as gdb derives the
/// register set and the expected note size from it. AVX-512 and MPX need AVX below them.
pub fn x86_xcr0(regs: &X86Regs) -> Option<u64> {
    let xsave = regs.xsave.as_ref()?;
    let mut xcr0 = XFEATURE_FP | XFEATURE_SSE;
    if xsave.ymmh.is_some() {
        xcr0 |= XFEATURE_YMM;
        if xsave.bndregs.is_some() && xsave.bndcsr.is_some() {
            xcr0 |= XFEATURES_MPX;
        }
        if xsave.opmask.is_some() && xsave.zmm_upper.is_some() && xsave.hi16_zmm.is_some() {
            xcr0 |= XFEATURES_AVX512;
        }
        if xsave.pkru.is_some() {
            xcr0 |= XFEATURE_PKRU;
        }
    }
    Some(xcr0)
}

/// Size of the standard-format XSAVE area for `xcr0`, as gdb's `X86_XSTATE_SIZE` expects it for
/// `.reg-xstate` (any other size makes it warn "Unexpected size of section").
pub fn x86_xstate_size(xcr0: u64) -> usize {
    if xcr0 & XFEATURE_PKRU != 0 {
        2696
    } else if xcr0 & XFEATURES_AVX512 != 0 {
        2688
    } else if xcr0 & XFEATURES_MPX != 0 {
        1088
    } else if xcr0 & XFEATURE_YMM != 0 {
        832
    } else {
        576
    }
}

/// `NT_X86_XSTATE`: the standard (non-compacted) XSAVE area with XCR0 at byte 464, or `None`
/// when the checkpoint has no XSAVE state. Components live at their architectural offsets: ymm
/// upper halves 576, MPX 960/1024, opmask 1088, zmm upper halves 1152, zmm16-31 1664, PKRU 2688.
pub fn build_x86_xstate(regs: &X86Regs) -> Option<Vec<u8>> {
    let xsave = regs.xsave.as_ref()?;
    let xcr0 = x86_xcr0(regs)?;
    let mut s = Layout::new(x86_xstate_size(xcr0));
    write_fxsave(&mut s, regs);
    s.u64(XSAVE_XCR0_OFFSET, xcr0);
    s.u64(XSAVE_HEADER_OFFSET, xsave.xstate_bv & xcr0);
    if xcr0 & XFEATURE_YMM != 0 {
        if let Some(ymmh) = &xsave.ymmh {
            s.u32s(576, ymmh);
        }
    }
    if xcr0 & XFEATURES_MPX != 0 {
        if let (Some(bndregs), Some(bndcsr)) = (&xsave.bndregs, &xsave.bndcsr) {
            s.u64s(960, bndregs);
            s.u64s(1024, bndcsr);
        }
    }
    if xcr0 & XFEATURES_AVX512 != 0 {
        if let (Some(opmask), Some(zmm_upper), Some(hi16)) =
            (&xsave.opmask, &xsave.zmm_upper, &xsave.hi16_zmm)
        {
            s.u64s(1088, opmask);
            s.u64s(1152, zmm_upper);
            s.u64s(1664, hi16);
        }
    }
    if xcr0 & XFEATURE_PKRU != 0 {
        if let Some(pkru) = &xsave.pkru {
            s.u32s(2688, pkru);
        }
    }
    Some(s.0)
}

/// aarch64 `user_fpsimd_state`: v0-v31 (16 bytes each), fpsr, fpcr, 8 reserved bytes.
pub fn build_aarch64_fpsimd(regs: &Aarch64Regs) -> Vec<u8> {
    let mut s = Layout::new(AARCH64_FPSIMD_SIZE);
    s.u64s(0, &regs.vregs);
    s.u32(512, regs.fpsr);
    s.u32(516, regs.fpcr);
    s.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coredump::image::{Backing, MappedFile, X86Fpregs, X86Xsave};
    use std::sync::Arc;

    fn u64_at(bytes: &[u8], offset: usize) -> u64 {
        u64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap())
    }

    fn u32_at(bytes: &[u8], offset: usize) -> u32 {
        u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
    }

    fn info() -> ProcessInfo {
        ProcessInfo {
            pid: 100,
            ppid: 1,
            pgid: 100,
            sid: 7,
            uid: 1000,
            gid: 1001,
            comm: "a-very-long-command-name".into(),
            psargs: "python3 -u app.py".into(),
            state: b'S',
            nice: -5,
            flags: 0x40_0000,
        }
    }

    fn x86_thread() -> ThreadState {
        let mut gpregs = [0u64; 27];
        for (i, r) in gpregs.iter_mut().enumerate() {
            *r = 0x1000 + i as u64;
        }
        ThreadState {
            tid: 101,
            sigblocked: 0x8000,
            regs: ThreadRegs::X86_64(Box::new(X86Regs {
                gpregs,
                fpregs: X86Fpregs {
                    cwd: 0x37f,
                    mxcsr: 0x1fa0,
                    xmm_space: [7; 64],
                    ..X86Fpregs::default()
                },
                xsave: None,
            })),
        }
    }

    fn aarch64_regs() -> Aarch64Regs {
        let mut regs = [0u64; 31];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = i as u64 * 3;
        }
        let mut vregs = [0u64; 64];
        for (i, r) in vregs.iter_mut().enumerate() {
            *r = 0xa000 + i as u64;
        }
        Aarch64Regs {
            regs,
            sp: 0xfffff000,
            pc: 0x4000_1234,
            pstate: 0x6000_0000,
            vregs,
            fpsr: 0x11,
            fpcr: 0x22,
            tls: 0xdead_beef,
        }
    }

    #[test]
    fn notes_are_padded_to_four_bytes() {
        let mut out = Vec::new();
        encode_note(&mut out, "CORE", 1, &[1, 2, 3]);
        // 12 header + "CORE\0" padded to 8 + 3 padded to 4.
        assert_eq!(out.len(), 12 + 8 + 4);
        assert_eq!(u32_at(&out, 0), 5);
        assert_eq!(u32_at(&out, 4), 3);
        assert_eq!(u32_at(&out, 8), 1);
        assert_eq!(&out[12..17], b"CORE\0");
        assert_eq!(&out[20..23], &[1, 2, 3]);
        let mut out = Vec::new();
        encode_note(&mut out, "LINUX", NT_X86_XSTATE, &[0; 8]);
        assert_eq!(out.len(), 12 + 8 + 8);
        assert_eq!(u32_at(&out, 0), 6);
    }

    #[test]
    fn x86_prstatus_layout() {
        let s = build_prstatus(&info(), &x86_thread());
        assert_eq!(s.len(), 336);
        assert_eq!(u64_at(&s, 24), 0x8000);
        assert_eq!(u32_at(&s, 32), 101);
        assert_eq!(u32_at(&s, 36), 1);
        assert_eq!(u32_at(&s, 40), 100);
        assert_eq!(u32_at(&s, 44), 7);
        // rip is register 16, rsp 19, fs_base 21, gs 26.
        assert_eq!(u64_at(&s, 112 + 16 * 8), 0x1010);
        assert_eq!(u64_at(&s, 112 + 19 * 8), 0x1013);
        assert_eq!(u64_at(&s, 112 + 26 * 8), 0x101a);
        assert_eq!(u32_at(&s, 328), 1);
    }

    #[test]
    fn aarch64_prstatus_layout() {
        let thread = ThreadState {
            tid: 9,
            sigblocked: 0,
            regs: ThreadRegs::Aarch64(Box::new(aarch64_regs())),
        };
        let s = build_prstatus(&info(), &thread);
        assert_eq!(s.len(), 392);
        assert_eq!(u32_at(&s, 32), 9);
        assert_eq!(u64_at(&s, 112), 0);
        assert_eq!(u64_at(&s, 112 + 30 * 8), 90);
        assert_eq!(u64_at(&s, 112 + 31 * 8), 0xfffff000);
        assert_eq!(u64_at(&s, 112 + 32 * 8), 0x4000_1234);
        assert_eq!(u64_at(&s, 112 + 33 * 8), 0x6000_0000);
        assert_eq!(u32_at(&s, 384), 1);
    }

    #[test]
    fn aarch64_fpsimd_layout() {
        let s = build_aarch64_fpsimd(&aarch64_regs());
        assert_eq!(s.len(), 528);
        assert_eq!(u64_at(&s, 0), 0xa000);
        assert_eq!(u64_at(&s, 8), 0xa001);
        assert_eq!(u64_at(&s, 31 * 16 + 8), 0xa03f);
        assert_eq!(u32_at(&s, 512), 0x11);
        assert_eq!(u32_at(&s, 516), 0x22);
    }

    #[test]
    fn prpsinfo_layout() {
        let s = build_prpsinfo(&info());
        assert_eq!(s.len(), 136);
        assert_eq!(&s[0..3], &[1, b'S', 0]);
        assert_eq!(s[3] as i8, -5);
        assert_eq!(u64_at(&s, 8), 0x40_0000);
        assert_eq!(u32_at(&s, 16), 1000);
        assert_eq!(u32_at(&s, 20), 1001);
        assert_eq!(u32_at(&s, 24), 100);
        assert_eq!(u32_at(&s, 36), 7);
        assert_eq!(&s[40..56], b"a-very-long-com\0");
        assert_eq!(&s[56..73], b"python3 -u app.py");
        assert_eq!(s[73], 0);
    }

    #[test]
    fn fpregs_layout() {
        let ThreadRegs::X86_64(regs) = x86_thread().regs else {
            unreachable!()
        };
        let s = build_x86_fpregs(&regs);
        assert_eq!(s.len(), 512);
        assert_eq!(&s[0..2], &0x37fu16.to_le_bytes());
        assert_eq!(u32_at(&s, 24), 0x1fa0);
        assert_eq!(u32_at(&s, 160), 7);
        assert_eq!(u32_at(&s, 160 + 63 * 4), 7);
        assert_eq!(u32_at(&s, 416), 0);
        assert!(build_x86_xstate(&regs).is_none());
    }

    #[test]
    fn xstate_size_follows_the_components() {
        let ThreadRegs::X86_64(mut regs) = x86_thread().regs else {
            unreachable!()
        };
        let cases: [(X86Xsave, u64, usize); 4] = [
            (X86Xsave::default(), 0x3, 576),
            (
                X86Xsave {
                    ymmh: Some([1; 64]),
                    ..X86Xsave::default()
                },
                0x7,
                832,
            ),
            (
                X86Xsave {
                    xstate_bv: 0xa2,
                    ymmh: Some([1; 64]),
                    opmask: Some([2; 8]),
                    zmm_upper: Some([3; 64]),
                    hi16_zmm: Some([4; 128]),
                    ..X86Xsave::default()
                },
                0xe7,
                2688,
            ),
            (
                X86Xsave {
                    ymmh: Some([1; 64]),
                    bndregs: Some([5; 8]),
                    bndcsr: Some([6; 8]),
                    opmask: Some([2; 8]),
                    zmm_upper: Some([3; 64]),
                    hi16_zmm: Some([4; 128]),
                    pkru: Some([0x55, 0]),
                    ..X86Xsave::default()
                },
                0x2ff,
                2696,
            ),
        ];
        for (xsave, xcr0, size) in cases {
            regs.xsave = Some(xsave);
            assert_eq!(x86_xcr0(&regs), Some(xcr0));
            let s = build_x86_xstate(&regs).unwrap();
            assert_eq!(s.len(), size);
            assert_eq!(u64_at(&s, 464), xcr0);
            assert_eq!(u32_at(&s, 24), 0x1fa0, "FXSAVE part is shared");
            if xcr0 & XFEATURE_YMM != 0 {
                assert_eq!(u32_at(&s, 576), 1);
            }
            if xcr0 & XFEATURES_AVX512 != 0 {
                assert_eq!(u64_at(&s, 1088), 2);
                assert_eq!(u64_at(&s, 1152), 3);
                assert_eq!(u64_at(&s, 1664 + 127 * 8), 4);
            }
            if xcr0 == 0xe7 {
                assert_eq!(u64_at(&s, 512), 0xa2);
            }
            if xcr0 & XFEATURE_PKRU != 0 {
                assert_eq!(u64_at(&s, 960), 5);
                assert_eq!(u64_at(&s, 1024), 6);
                assert_eq!(u32_at(&s, 2688), 0x55);
            }
        }
    }

    #[test]
    fn file_note_lists_file_backed_mappings() {
        let mappings = vec![
            Mapping {
                start: 0x400000,
                end: 0x402000,
                prot: 5,
                file: Some(MappedFile {
                    path: Arc::from("/usr/bin/x"),
                    offset: 0x3000,
                }),
                backing: Backing::File,
            },
            Mapping {
                start: 0x500000,
                end: 0x501000,
                prot: 3,
                file: None,
                backing: Backing::AnonPrivate,
            },
        ];
        let note = build_file_note(&mappings, FILE_NOTE_LIMIT);
        assert_eq!((note.listed, note.total), (1, 1));
        let s = note.desc;
        assert_eq!(u64_at(&s, 0), 1);
        assert_eq!(u64_at(&s, 8), 4096);
        assert_eq!(u64_at(&s, 16), 0x400000);
        assert_eq!(u64_at(&s, 24), 0x402000);
        assert_eq!(u64_at(&s, 32), 3);
        assert_eq!(&s[40..], b"/usr/bin/x\0");
    }

    #[test]
    fn file_note_stops_at_its_limit() {
        let path: Arc<str> = Arc::from(format!("/{}", "p".repeat(4095)));
        let mappings: Vec<Mapping> = (0..5000u64)
            .map(|i| Mapping {
                start: 0x1000_0000 + i * 0x2000,
                end: 0x1000_1000 + i * 0x2000,
                prot: 1,
                file: Some(MappedFile {
                    path: Arc::clone(&path),
                    offset: 0,
                }),
                backing: Backing::File,
            })
            .collect();
        let note = build_file_note(&mappings, FILE_NOTE_LIMIT);
        // 16 + n * (24 + 4097) <= 4 MiB: 1017 entries.
        assert_eq!((note.listed, note.total), (1017, 5000));
        assert!(note.desc.len() <= FILE_NOTE_LIMIT);
        assert_eq!(note.desc.len(), 16 + 1017 * (24 + 4097));
        assert_eq!(u64_at(&note.desc, 0), 1017);
        assert_eq!(
            u64_at(&note.desc, 16 + 1016 * 24),
            0x1000_0000 + 1016 * 0x2000
        );
    }

    #[test]
    fn missing_note_lists_ranges_up_to_its_limit() {
        let ranges: Vec<AbsentRange> = (0..10u64)
            .map(|i| AbsentRange {
                start: i * 0x1000,
                end: i * 0x1000 + 0x800,
                absence: if i % 2 == 0 {
                    Absence::LeftToFile
                } else {
                    Absence::Missing
                },
            })
            .collect();
        let note = build_missing_note(&ranges, 16 + 3 * 24);
        assert_eq!((note.listed, note.total), (3, 10));
        assert_eq!(u64_at(&note.desc, 0), 3);
        assert_eq!(u64_at(&note.desc, 8), 10);
        assert_eq!(u64_at(&note.desc, 16 + 24 + 8), 0x1800);
        assert_eq!(u64_at(&note.desc, 16 + 24 + 16), 2);
        assert_eq!(note.desc.len(), 16 + 3 * 24);
    }

    #[test]
    fn auxv_ends_with_at_null() {
        let s = build_auxv(&[(33, 0x7fff_0000), (6, 4096)]);
        assert_eq!(s.len(), 48);
        assert_eq!(u64_at(&s, 0), 33);
        assert_eq!(u64_at(&s, 24), 4096);
        assert_eq!(u64_at(&s, 32), 0);
        assert_eq!(u64_at(&s, 40), 0);
    }
}

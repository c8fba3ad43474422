//! Generator of large, valid CRIU checkpoints for memory-search tests and benchmarks.
//!
//! Writes a bare image directory or a plain tar archive (`checkpoint/` + `spec.dump` +
//! `config.dump`) holding `processes` processes with consistent `inventory.img`, `pstree.img`,
//! `core-PID.img`, `ids-PID.img`, `fdinfo-PID.img`, `fs-PID.img`, `mm-PID.img`,
//! `pagemap-PID.img`, `files.img` and `pages-N.img`. The pages are
//! streamed from a seeded generator (never held in memory), so GiB-sized checkpoints cost only
//! disk space. A marker string is planted at known addresses, including across the edge of two
//! runs that are contiguous in memory (a real match) and, as a decoy, across the file edge of two
//! runs that are not (bytes adjacent in the pages file only: no match in memory).
//!
//! Used by `tests/integration/memsearch.rs` (small sizes) and `examples/gen_checkpoint.rs`
//! (benchmarks).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use checkpoint_images::encode_image;
use checkpoint_images::messages::{
    CoreEntry, FdinfoEntry, FileEntry, FsEntry, InventoryEntry, MmEntry, PagemapEntry, PagemapHead,
    PstreeEntry, RegFileEntry, TaskCoreEntry, TaskKobjIdsEntry, VmaEntry,
};

const PAGE: u64 = 4096;
const PE_LAZY: u32 = 2;
const PE_PRESENT: u32 = 4;
const MAP_PRIVATE: u32 = 0x02;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_GROWSDOWN: u32 = 0x100;
const PROT_RW: u32 = 0x3;
const PROT_RX: u32 = 0x5;
const VMA_AREA_REGULAR: u32 = 1;
const VMA_AREA_HEAP: u32 = 1 << 5;
const VMA_FILE_PRIVATE: u32 = 1 << 6;
const VMA_ANON_PRIVATE: u32 = 1 << 9;
const HEAP_START: u64 = 0x0100_0000;
const ANON_START: u64 = 0x7f00_0000_0000;
const STACK_END: u64 = 0x7ffd_0000_0000;
const STACK_PAGES: u64 = 8;
/// The path of the executable mapping (file id 1 of files.img).
pub const EXE_PATH: &str = "/usr/bin/kcp-gen";

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenSpec {
    /// Number of processes (pids 4000, 4001, ...; 4000 is the parent of the others).
    pub processes: u32,
    /// Present bytes per process, rounded to pages (at least 64 pages).
    pub bytes_per_process: u64,
    /// The marker planted in memory.
    pub marker: Vec<u8>,
    /// Markers planted per process at pseudo-random places (besides the run-edge ones).
    pub markers_per_process: usize,
    /// Seed of the page contents.
    pub seed: u64,
    /// Mixed into the seed of the filler only, after the layout is planned: two specs that
    /// differ only here give the same processes and mappings with other page contents.
    pub fill_salt: u64,
    /// Take the page contents from this file instead of the seeded filler: the processes'
    /// pages files are its consecutive pages (wrapping around), markers and argv patched in.
    pub pages_from: Option<PathBuf>,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            processes: 2,
            bytes_per_process: 4 << 20,
            marker: b"KCP_GEN_MARKER_7731".to_vec(),
            markers_per_process: 16,
            seed: 0x5eed,
            fill_salt: 0,
            pages_from: None,
        }
    }
}

/// A planted marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planted {
    /// Process id.
    pub pid: u32,
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Byte offset in the process's pages file.
    pub pages_offset: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Markers in memory, by pid then address.
    pub markers: Vec<Planted>,
    /// Markers that are contiguous only in a pages file (pid, pages offset): not in memory.
    pub decoys: Vec<(u32, u64)>,
    /// Present bytes of all processes.
    pub present_bytes: u64,
    /// pid and argv of each process.
    pub argv: Vec<(u32, Vec<String>)>,
}

/// One present run.
#[derive(Debug, Clone, Copy)]
struct Run {
    vaddr: u64,
    pages: u64,
    offset: u64,
    lazy: bool,
}

struct Process {
    pid: u32,
    pages_id: u32,
    runs: Vec<Run>,
    /// (pages offset, bytes) to write over the filler, sorted by offset.
    patches: Vec<(u64, Vec<u8>)>,
    /// Markers in memory: (vaddr, pages offset).
    planted: Vec<(u64, u64)>,
    mm: MmEntry,
    argv: Vec<String>,
    seed: u64,
}

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn vma(start: u64, end: u64, prot: u32, flags: u32, status: u32, shmid: u64) -> VmaEntry {
    VmaEntry {
        start,
        end,
        pgoff: 0,
        shmid,
        prot,
        flags,
        status,
        fd: -1,
        ..Default::default()
    }
}

fn plan_process(index: u32, spec: &GenSpec) -> Process {
    let pid = 4000 + index;
    let mut rng = Rng(spec.seed ^ (u64::from(pid) << 32) ^ 0x9e37_79b9_7f4a_7c15);
    let total_pages = (spec.bytes_per_process / PAGE).max(64);
    let heap_pages = (total_pages / 8).max(4);
    let anon_pages = total_pages - heap_pages - STACK_PAGES - 1;

    let mut runs = Vec::new();
    let mut offset = 0u64;
    let mut push = |runs: &mut Vec<Run>, vaddr: u64, pages: u64, lazy: bool| {
        runs.push(Run {
            vaddr,
            pages,
            offset,
            lazy,
        });
        offset += pages * PAGE;
    };
    // Text page of the executable.
    push(&mut runs, 0x40_0000, 1, false);
    // Heap: fully present, written as two contiguous runs (a marker will span their edge).
    let heap_end = HEAP_START + heap_pages * PAGE;
    push(&mut runs, HEAP_START, heap_pages / 2, false);
    push(
        &mut runs,
        HEAP_START + heap_pages / 2 * PAGE,
        heap_pages - heap_pages / 2,
        true,
    );
    // Anonymous region: runs of 1..=256 pages with holes of 0..=3 pages between them.
    let mut vaddr = ANON_START;
    let mut left = anon_pages;
    while left > 0 {
        let pages = (1 + rng.below(256)).min(left);
        push(&mut runs, vaddr, pages, rng.below(4) == 0);
        left -= pages;
        vaddr += (pages + rng.below(4)) * PAGE;
    }
    let anon_end = vaddr + PAGE;
    // Stack, with argv and the environment at its top.
    let stack_start = STACK_END - STACK_PAGES * PAGE;
    push(&mut runs, stack_start, STACK_PAGES, false);

    let argv = vec![
        "kcp-gen".to_owned(),
        "--child".to_owned(),
        index.to_string(),
    ];
    let env = ["HOME=/root".to_owned(), format!("KCP_GEN_PID={pid}")];
    let mut strings = Vec::new();
    for arg in &argv {
        strings.extend_from_slice(arg.as_bytes());
        strings.push(0);
    }
    let arg_len = strings.len() as u64;
    for var in &env {
        strings.extend_from_slice(var.as_bytes());
        strings.push(0);
    }
    let arg_start = STACK_END - 512;
    let stack_run = runs[runs.len() - 1];
    let mut patches = vec![(
        stack_run.offset + (arg_start - stack_start),
        strings.clone(),
    )];

    // Markers: across the contiguous heap edge, then pseudo-random places.
    let marker = &spec.marker;
    let mlen = marker.len() as u64;
    // Decoy: the first half of the marker ends the run before the stack, the second half begins
    // the stack run; they are adjacent in the file only.
    let before_stack = runs[runs.len() - 2];
    let decoy_offset = before_stack.offset + before_stack.pages * PAGE - mlen / 2;
    let decoy_vaddr = before_stack.vaddr + before_stack.pages * PAGE - mlen / 2;
    patches.push((decoy_offset, marker.clone()));
    let mut planted = Vec::new();
    let edge = runs[2].vaddr - mlen / 2;
    planted.push((edge, runs[1].offset + (edge - runs[1].vaddr)));
    for _ in 0..spec.markers_per_process {
        // Anonymous runs are runs[3..len-1]; stay clear of run ends so the marker stays inside.
        let idx = 3 + rng.below(runs.len() as u64 - 4) as usize;
        let run = runs[idx];
        let room = run.pages * PAGE - mlen;
        let at = rng.below(room);
        let vaddr = run.vaddr + at;
        let overlaps = planted
            .iter()
            .map(|&(v, _)| v)
            .chain([decoy_vaddr])
            .any(|v| v < vaddr + mlen + 1 && vaddr < v + mlen + 1);
        if !overlaps {
            planted.push((vaddr, run.offset + at));
        }
    }
    for &(_, offset) in &planted {
        patches.push((offset, marker.clone()));
    }
    patches.sort_by_key(|p| p.0);

    let vmas = vec![
        vma(
            0x40_0000,
            0x40_1000,
            PROT_RX,
            MAP_PRIVATE,
            VMA_AREA_REGULAR | VMA_FILE_PRIVATE,
            1,
        ),
        vma(
            HEAP_START,
            heap_end,
            PROT_RW,
            MAP_PRIVATE | MAP_ANONYMOUS,
            VMA_AREA_REGULAR | VMA_AREA_HEAP | VMA_ANON_PRIVATE,
            0,
        ),
        vma(
            ANON_START,
            anon_end,
            PROT_RW,
            MAP_PRIVATE | MAP_ANONYMOUS,
            VMA_AREA_REGULAR | VMA_ANON_PRIVATE,
            0,
        ),
        vma(
            stack_start,
            STACK_END,
            PROT_RW,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN,
            VMA_AREA_REGULAR | VMA_ANON_PRIVATE,
            0,
        ),
    ];
    let mm = MmEntry {
        mm_start_code: 0x40_0000,
        mm_end_code: 0x40_1000,
        mm_start_stack: STACK_END - 1024,
        mm_start_brk: HEAP_START,
        mm_brk: heap_end,
        mm_arg_start: arg_start,
        mm_arg_end: arg_start + arg_len,
        mm_env_start: arg_start + arg_len,
        mm_env_end: arg_start + strings.len() as u64,
        exe_file_id: 1,
        vmas,
        ..Default::default()
    };
    Process {
        pid,
        pages_id: index + 1,
        runs,
        patches,
        planted,
        mm,
        argv,
        seed: rng.next() ^ spec.fill_salt,
    }
}

fn frame<M: prost::Message>(out: &mut Vec<u8>, message: &M) {
    out.extend_from_slice(&(message.encoded_len() as u32).to_le_bytes());
    message.encode_raw(out);
}

fn pagemap_image(process: &Process) -> Vec<u8> {
    // The magic words of a pagemap image, then the head, then one entry per run.
    let mut out = encode_image::<PagemapEntry>(&[]);
    frame(
        &mut out,
        &PagemapHead {
            pages_id: process.pages_id,
        },
    );
    for run in &process.runs {
        let entry = PagemapEntry {
            vaddr: run.vaddr,
            compat_nr_pages: 0,
            flags: Some(PE_PRESENT | if run.lazy { PE_LAZY } else { 0 }),
            nr_pages: Some(run.pages),
            ..Default::default()
        };
        frame(&mut out, &entry);
    }
    out
}

fn core_image() -> Vec<u8> {
    let core = CoreEntry {
        mtype: 1, // x86_64
        tc: Some(TaskCoreEntry {
            task_state: 1,
            comm: "kcp-gen".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    encode_image(&[core])
}

/// Every small image of the checkpoint, by name.
fn small_images(processes: &[Process]) -> Vec<(String, Vec<u8>)> {
    let mut images = vec![
        (
            "inventory.img".to_owned(),
            encode_image(&[InventoryEntry {
                img_version: 2,
                ..Default::default()
            }]),
        ),
        (
            "pstree.img".to_owned(),
            encode_image(
                &processes
                    .iter()
                    .map(|p| PstreeEntry {
                        pid: p.pid,
                        ppid: if p.pid == 4000 { 0 } else { 4000 },
                        pgid: 4000,
                        sid: 4000,
                        threads: vec![p.pid],
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "files.img".to_owned(),
            encode_image(
                &[
                    (1, EXE_PATH, 0o100755),
                    (2, "/dev/null", 0o20666),
                    (3, "/", 0o40755),
                ]
                .map(|(id, name, mode)| FileEntry {
                    r#type: 1,
                    id,
                    reg: Some(RegFileEntry {
                        id,
                        name: name.into(),
                        mode: Some(mode),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            ),
        ),
    ];
    for p in processes {
        // Each process: stdin on /dev/null (file id 2), cwd and root `/` (file id 3).
        images.push((
            format!("ids-{}.img", p.pid),
            encode_image(&[TaskKobjIdsEntry {
                vm_id: p.pid,
                files_id: p.pid,
                fs_id: p.pid,
                sighand_id: p.pid,
                ..Default::default()
            }]),
        ));
        images.push((
            format!("fdinfo-{}.img", p.pid),
            encode_image(&[FdinfoEntry {
                id: 2,
                flags: 0,
                r#type: 1,
                fd: 0,
                ..Default::default()
            }]),
        ));
        images.push((
            format!("fs-{}.img", p.pid),
            encode_image(&[FsEntry {
                cwd_id: 3,
                root_id: 3,
                umask: Some(0o22),
            }]),
        ));
        images.push((format!("core-{}.img", p.pid), core_image()));
        images.push((
            format!("mm-{}.img", p.pid),
            encode_image(std::slice::from_ref(&p.mm)),
        ));
        images.push((format!("pagemap-{}.img", p.pid), pagemap_image(p)));
    }
    images
}

/// Page contents taken from a file: `(file, its length, the byte this process starts at)`.
type PageSource<'a> = Option<(&'a File, u64, u64)>;

/// Streams a process's pages: seeded filler (a quarter of the pages zero), or the pages of a
/// source file, with the patches.
struct PagesStream<'a> {
    process: &'a Process,
    source: PageSource<'a>,
    pos: u64,
    len: u64,
    page: [u8; PAGE as usize],
    page_index: u64,
}

impl<'a> PagesStream<'a> {
    fn new(process: &'a Process, source: PageSource<'a>) -> Self {
        let len = process.runs.iter().map(|r| r.pages * PAGE).sum();
        PagesStream {
            process,
            source,
            pos: 0,
            len,
            page: [0; PAGE as usize],
            page_index: u64::MAX,
        }
    }

    fn fill_page(&mut self, index: u64) {
        let mut rng = Rng(self.process.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        if let Some((file, file_len, base)) = self.source {
            let pages = (file_len / PAGE).max(1);
            let at = ((base / PAGE + index) % pages) * PAGE;
            self.page.fill(0);
            let _ = file.read_exact_at(&mut self.page, at);
        } else if rng.below(4) == 0 {
            self.page.fill(0);
        } else {
            for chunk in self.page.chunks_mut(8) {
                // Text-like bytes: lower-case letters, digits, spaces and some binary.
                let word = rng.next().to_le_bytes();
                for (dst, b) in chunk.iter_mut().zip(word) {
                    *dst = if b < 200 { b'a' + b % 26 } else { b };
                }
            }
        }
        let start = index * PAGE;
        let end = start + PAGE;
        for (offset, bytes) in &self.process.patches {
            let p_end = offset + bytes.len() as u64;
            if p_end <= start || *offset >= end {
                continue;
            }
            for (i, b) in bytes.iter().enumerate() {
                let at = offset + i as u64;
                if (start..end).contains(&at) {
                    self.page[(at - start) as usize] = *b;
                }
            }
        }
        self.page_index = index;
    }
}

impl Read for PagesStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() && self.pos < self.len {
            let index = self.pos / PAGE;
            if index != self.page_index {
                self.fill_page(index);
            }
            let in_page = (self.pos % PAGE) as usize;
            let take = (PAGE as usize - in_page).min(buf.len() - done);
            buf[done..done + take].copy_from_slice(&self.page[in_page..in_page + take]);
            done += take;
            self.pos += take as u64;
        }
        Ok(done)
    }
}

fn plan(spec: &GenSpec) -> (Vec<Process>, Generated) {
    let processes: Vec<Process> = (0..spec.processes.max(1))
        .map(|i| plan_process(i, spec))
        .collect();
    let mut generated = Generated::default();
    for p in &processes {
        let mut markers: Vec<Planted> = p
            .planted
            .iter()
            .map(|&(vaddr, pages_offset)| Planted {
                pid: p.pid,
                vaddr,
                pages_offset,
            })
            .collect();
        markers.sort_by_key(|m| m.vaddr);
        generated.markers.extend(markers);
        let before_stack = p.runs[p.runs.len() - 2];
        generated.decoys.push((
            p.pid,
            before_stack.offset + before_stack.pages * PAGE - spec.marker.len() as u64 / 2,
        ));
        generated.present_bytes += p.runs.iter().map(|r| r.pages * PAGE).sum::<u64>();
        generated.argv.push((p.pid, p.argv.clone()));
    }
    (processes, generated)
}

/// The file of [`GenSpec::pages_from`] and its length.
fn open_source(spec: &GenSpec) -> io::Result<Option<(File, u64)>> {
    spec.pages_from
        .as_ref()
        .map(|path| {
            let file = File::open(path)?;
            let len = file.metadata()?.len();
            Ok((file, len))
        })
        .transpose()
}

/// Writes a bare image directory (created if missing).
pub fn write_dir(dir: &Path, spec: &GenSpec) -> io::Result<Generated> {
    std::fs::create_dir_all(dir)?;
    let (processes, generated) = plan(spec);
    for (name, bytes) in small_images(&processes) {
        std::fs::write(dir.join(name), bytes)?;
    }
    let source = open_source(spec)?;
    let mut base = 0u64;
    for p in &processes {
        let mut out = BufWriter::with_capacity(
            1 << 20,
            File::create(dir.join(format!("pages-{}.img", p.pages_id)))?,
        );
        let mut stream = PagesStream::new(p, source.as_ref().map(|(f, len)| (f, *len, base)));
        base += stream.len;
        io::copy(&mut stream, &mut out)?;
        out.flush()?;
    }
    Ok(generated)
}

/// Writes a plain tar archive like Podman's uncompressed export.
pub fn write_tar(path: &Path, spec: &GenSpec) -> io::Result<Generated> {
    let (processes, generated) = plan(spec);
    let mut builder = tar::Builder::new(BufWriter::with_capacity(1 << 20, File::create(path)?));
    let append = |builder: &mut tar::Builder<_>, name: &str, size: u64, data: &mut dyn Read| {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, data)
    };
    let spec_dump = br#"{"annotations":{"io.container.manager":"libpod"}}"#;
    let config_dump = br#"{"id":"kcp-gen","name":"kcp-gen","rootfsImageName":"kcp-gen:latest"}"#;
    append(
        &mut builder,
        "spec.dump",
        spec_dump.len() as u64,
        &mut &spec_dump[..],
    )?;
    append(
        &mut builder,
        "config.dump",
        config_dump.len() as u64,
        &mut &config_dump[..],
    )?;
    for (name, bytes) in small_images(&processes) {
        append(
            &mut builder,
            &format!("checkpoint/{name}"),
            bytes.len() as u64,
            &mut bytes.as_slice(),
        )?;
    }
    let source = open_source(spec)?;
    let mut base = 0u64;
    for p in &processes {
        let mut stream = PagesStream::new(p, source.as_ref().map(|(f, len)| (f, *len, base)));
        let len = stream.len;
        base += len;
        append(
            &mut builder,
            &format!("checkpoint/pages-{}.img", p.pages_id),
            len,
            &mut stream,
        )?;
    }
    builder.into_inner()?.flush()?;
    Ok(generated)
}

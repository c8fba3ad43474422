//! Generators of the hostile inputs of issue 20 ("Hostile checkpoints, round 2"), each small on
//! disk whatever it claims, shared by the tests (`tests/integration/hostile.rs`,
//! `hostile_model.rs`) and `examples/gen_hostile.rs`, which writes them at the sizes the issue
//! and docs/security.md measure.
//!
//! Most start from the real `criu-4.2/py` dump (one Python process, pid 24390) with images
//! replaced or added.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use checkpoint_images::messages::{
    FileEntry, MmEntry, PagemapEntry, PagemapHead, RegFileEntry, VmaEntry,
};
use checkpoint_images::{encode_image, read_entries, Magic, PageMap, IMG_COMMON};
use prost::Message;

/// The pid of the py dump's process.
pub const PY_PID: u32 = 24390;

/// The py dump's image directory.
pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criu-4.2/py")
}

/// The py dump's images, by name.
pub fn py_images() -> Vec<(String, Vec<u8>)> {
    let mut images: Vec<(String, Vec<u8>)> = std::fs::read_dir(py_dir())
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect();
    images.sort();
    images
}

/// The entries of one of the py dump's images.
pub fn py_entries<M: checkpoint_images::CriuMessage>(name: &str) -> Vec<M> {
    let bytes = std::fs::read(py_dir().join(name)).unwrap();
    read_entries(name, &bytes).unwrap()
}

/// A copy of the py dump in `dir` with `images` replaced or added.
pub fn py_dir_with(dir: &Path, images: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in py_images() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    for (name, bytes) in images {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// A member of a generated tar: its name, size and a reader of its bytes.
pub type Member = (String, u64, Box<dyn Read>);

/// Writes a zstd-compressed tar to `path` through the `zstd` command (fast whatever the build
/// profile), each member streamed from its reader.
pub fn zstd_tar(path: &Path, members: Vec<Member>) {
    let mut zstd = Command::new("zstd")
        .args(["-q", "-1", "-T2", "-f", "-c", "-o"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("zstd runs (apt-get install zstd)");
    {
        let stdin = zstd.stdin.as_mut().unwrap();
        let writer = std::io::BufWriter::with_capacity(1 << 20, stdin);
        let mut tar = tar::Builder::new(writer);
        for (name, size, data) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(size);
            header.set_mode(0o600);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, &name, data).unwrap();
        }
        tar.into_inner().unwrap().flush().unwrap();
    }
    assert!(zstd.wait().unwrap().success());
}

/// The py dump's images as tar members under `checkpoint/`, with `replaced` in place of theirs
/// and `pages-1.img` left out when `skip_pages`.
fn py_members(replaced: &[(&str, Vec<u8>)], skip_pages: bool) -> Vec<Member> {
    let mut members: Vec<Member> = Vec::new();
    for (name, bytes) in py_images() {
        if skip_pages && name == "pages-1.img" {
            continue;
        }
        let bytes = replaced
            .iter()
            .find(|(replaced, _)| *replaced == name)
            .map_or(bytes, |(_, bytes)| bytes.clone());
        members.push((
            format!("checkpoint/{name}"),
            bytes.len() as u64,
            Box::new(std::io::Cursor::new(bytes)),
        ));
    }
    members
}

/// A pagemap image of pages file 1: head, then runs of `(vaddr, nr_pages)`, all present.
pub fn pagemap_image(runs: &[(u64, u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&IMG_COMMON.to_le_bytes());
    out.extend_from_slice(&Magic::Pagemap.value().to_le_bytes());
    let mut push = |bytes: Vec<u8>| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    };
    push(PagemapHead { pages_id: 1 }.encode_to_vec());
    for &(vaddr, nr_pages) in runs {
        push(
            PagemapEntry {
                vaddr,
                compat_nr_pages: 0,
                in_parent: None,
                flags: Some(4),
                nr_pages: Some(nr_pages),
            }
            .encode_to_vec(),
        );
    }
    out
}

/// Issue 20.1: the py dump as a zstd archive with one more private anonymous mapping of
/// `zero_bytes` at 16 TiB whose every page is present and zero (pages-1.img grows by that much,
/// in pagemap order): about 150 KB for 4 GiB, 400 KB for 10 GiB. Returns pages-1.img's size.
pub fn zero_mapping_archive(path: &Path, zero_bytes: u64) -> u64 {
    let start = 16u64 << 40;
    let mut mm: Vec<MmEntry> = py_entries("mm-24390.img");
    mm[0].vmas.push(VmaEntry {
        start,
        end: start + zero_bytes,
        prot: 3,
        flags: 0x22,
        status: 1 | (1 << 9),
        ..VmaEntry::default()
    });
    mm[0].vmas.sort_by_key(|v| v.start);
    let map = PageMap::decode(
        "pagemap-24390.img",
        &std::fs::read(py_dir().join("pagemap-24390.img")).unwrap(),
    )
    .unwrap();
    let mut runs: Vec<(u64, u64)> = map
        .runs
        .iter()
        .filter(|r| r.pages_offset.is_some())
        .map(|r| (r.vaddr, r.nr_pages))
        .collect();
    let before: u64 = runs
        .iter()
        .filter(|(vaddr, _)| *vaddr < start)
        .map(|(_, n)| n * 4096)
        .sum();
    runs.push((start, zero_bytes / 4096));
    runs.sort_unstable();
    let pages = std::fs::read(py_dir().join("pages-1.img")).unwrap();
    let (head, tail) = pages.split_at(before as usize);
    let mut members = py_members(
        &[
            ("mm-24390.img", encode_image(&mm)),
            ("pagemap-24390.img", pagemap_image(&runs)),
        ],
        true,
    );
    let size = pages.len() as u64 + zero_bytes;
    let data = std::io::Cursor::new(head.to_vec())
        .chain(std::io::repeat(0).take(zero_bytes))
        .chain(std::io::Cursor::new(tail.to_vec()));
    members.push(("checkpoint/pages-1.img".into(), size, Box::new(data)));
    zstd_tar(path, members);
    size
}

/// Issue 20.3: `files.img` and `mm-24390.img` of the py dump with `count` more one-page
/// mappings of one file whose path is `path_len` bytes long (262,000 of a 4,000-byte path make
/// a 1 GiB `NT_FILE` note uncapped).
pub fn file_note_images(count: u64, path_len: usize) -> Vec<(&'static str, Vec<u8>)> {
    let long = format!("/{}", "n".repeat(path_len.saturating_sub(1)));
    let mut files: Vec<FileEntry> = py_entries("files.img");
    files.push(FileEntry {
        r#type: 1,
        id: 9000,
        reg: Some(RegFileEntry {
            id: 9000,
            name: long,
            ..RegFileEntry::default()
        }),
        ..FileEntry::default()
    });
    let mut mm: Vec<MmEntry> = py_entries("mm-24390.img");
    mm[0].vmas.extend((0..count).map(|i| VmaEntry {
        start: 0x1_0000_0000 + i * 0x2000,
        end: 0x1_0000_1000 + i * 0x2000,
        prot: 1,
        flags: 2,
        status: 1 | (1 << 6),
        shmid: 9000,
        ..VmaEntry::default()
    }));
    mm[0].vmas.sort_by_key(|v| v.start);
    vec![
        ("files.img", encode_image(&files)),
        ("mm-24390.img", encode_image(&mm)),
    ]
}

/// Issue 20.10: `mm-24390.img` of the py dump with one more private anonymous mapping of
/// `bytes` at 16 TiB, untouched (no page): a core of that length, nearly all holes.
pub fn huge_mapping_images(bytes: u64) -> Vec<(&'static str, Vec<u8>)> {
    let start = 16u64 << 40;
    let mut mm: Vec<MmEntry> = py_entries("mm-24390.img");
    assert!(mm[0]
        .vmas
        .iter()
        .all(|v| v.end <= start || v.start >= start + bytes));
    mm[0].vmas.push(VmaEntry {
        start,
        end: start + bytes,
        prot: 3,
        flags: 0x22,
        status: 1 | (1 << 9),
        ..VmaEntry::default()
    });
    mm[0].vmas.sort_by_key(|v| v.start);
    vec![("mm-24390.img", encode_image(&mm))]
}

/// Issue 20.5: a `cgroup.img` of one entry whose `cgroup_dir_entry` nests itself `depth` levels
/// deep (10,000 levels in 67 KB).
pub fn deep_cgroup_image(depth: usize) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
        out.push(tag);
        let mut len = bytes.len();
        while len >= 0x80 {
            out.push((len as u8) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(bytes);
    }
    let mut dir = Vec::new();
    for _ in 0..depth {
        let mut outer = Vec::new();
        field(&mut outer, 0x0a, b"d"); // dir_name
        if !dir.is_empty() {
            field(&mut outer, 0x12, &dir); // children
        }
        dir = outer;
    }
    let mut controller = Vec::new();
    field(&mut controller, 0x12, &dir); // cg_controller_entry.dirs
    let mut entry = Vec::new();
    field(&mut entry, 0x12, &controller); // cgroup_entry.controllers
    let mut image = encode_image::<checkpoint_images::messages::CgroupEntry>(&[]);
    image.extend_from_slice(&(entry.len() as u32).to_le_bytes());
    image.extend_from_slice(&entry);
    image
}

/// A piece of a hand-made zstd frame.
pub enum FramePiece<'a> {
    /// Bytes as they are (raw blocks).
    Raw(&'a [u8]),
    /// This many zero bytes (RLE blocks: 4 bytes per 128 KiB).
    Zeros(u64),
}

/// A zstd frame written by hand: raw blocks and RLE blocks of zeros, a 128 KiB window and no
/// content size (64 GiB of zeros take 2 MB, 1 TiB 32 MB).
pub fn zstd_frame(pieces: &[FramePiece<'_>]) -> Vec<u8> {
    const BLOCK: u64 = 128 << 10;
    let mut blocks: Vec<(u32, u32, Option<&[u8]>)> = Vec::new(); // (type, size, raw bytes)
    for piece in pieces {
        match piece {
            FramePiece::Raw(bytes) => {
                for chunk in bytes.chunks(BLOCK as usize) {
                    blocks.push((0, chunk.len() as u32, Some(chunk)));
                }
            }
            FramePiece::Zeros(total) => {
                let mut left = *total;
                while left > 0 {
                    let n = left.min(BLOCK);
                    blocks.push((1, n as u32, None));
                    left -= n;
                }
            }
        }
    }
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3];
    let count = blocks.len();
    for (index, (kind, size, raw)) in blocks.into_iter().enumerate() {
        let last = u32::from(index + 1 == count);
        let header = last | (kind << 1) | (size << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        match raw {
            Some(bytes) => out.extend_from_slice(bytes),
            None => out.push(0),
        }
    }
    out
}

/// A ustar header block of a regular file.
fn tar_header(name: &str, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name).unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    header.as_bytes().to_vec()
}

/// Issue 20.4: a `rootfs-diff.tar` as zstd (made by hand, see [`zstd_frame`]): `etc/before.conf`,
/// `srv/zeros.bin` of `zero_bytes` zeros, `etc/after.conf`.
pub fn rootfs_bomb(zero_bytes: u64) -> Vec<u8> {
    let before = b"listen: 0.0.0.0\n";
    let mut first = tar_header("etc/before.conf", before.len() as u64);
    first.extend_from_slice(before);
    first.resize(first.len().next_multiple_of(512), 0);
    first.extend_from_slice(&tar_header("srv/zeros.bin", zero_bytes));
    let mut last = tar_header("etc/after.conf", 0);
    last.extend_from_slice(&[0; 1024]);
    zstd_frame(&[
        FramePiece::Raw(&first),
        FramePiece::Zeros(zero_bytes),
        FramePiece::Raw(&last),
    ])
}

/// Issue 20.4: the py dump as a zstd archive holding [`rootfs_bomb`]`(zero_bytes)` (under 1 MB
/// for 64 GiB and for 1 TiB).
pub fn rootfs_bomb_archive(path: &Path, zero_bytes: u64) {
    let mut members = py_members(&[], false);
    let bomb = rootfs_bomb(zero_bytes);
    members.push((
        "rootfs-diff.tar".into(),
        bomb.len() as u64,
        Box::new(std::io::Cursor::new(bomb)),
    ));
    zstd_tar(path, members);
}

/// Issue 20.6: `processes` processes of 64 pages each, one pages file each as CRIU writes them,
/// all zero, as a zstd archive `DIR/many.tar.zst` (0.5 MB for 1,101 processes).
pub fn many_processes_archive(dir: &Path, processes: u32) -> PathBuf {
    let zero_page = dir.join("zero.page");
    std::fs::write(&zero_page, [0u8; 4096]).unwrap();
    let tar = dir.join("many.tar");
    let spec = super::memgen::GenSpec {
        processes,
        bytes_per_process: 64 * 4096,
        pages_from: Some(zero_page),
        ..super::memgen::GenSpec::default()
    };
    super::memgen::write_tar(&tar, &spec).unwrap();
    let status = Command::new("zstd")
        .args(["-q", "-1", "-T2", "-f", "--rm"])
        .arg(&tar)
        .status()
        .expect("zstd runs");
    assert!(status.success());
    dir.join("many.tar.zst")
}

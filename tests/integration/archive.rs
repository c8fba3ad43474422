//! `archive`: opening the real fixture archives and image directories, layouts and metadata, the
//! same bytes through every reading path, and refusing bad input with clear errors.

use crate::support::archive_builder;

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use archive_builder::{containerd_archive, gzip, images_of, zstd, TarBuilder};
use checkpoint_model::archive::{Checkpoint, Compression, Engine, Error, MemberKind, OpenParams};
use sha2::{Digest, Sha256};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

const CRIO: &str =
    "crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar";
const PODMAN_PLAIN: &str = "podman/ckpt-image-plain.tar";
const PODMAN_GZIP: &str = "podman/ckpt-image-gzip.tar.gz";
const PODMAN_ZSTD: &str = "podman/ckpt-rootfs-zstd.tar";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every regular member of an archive read by an independent reader (the `tar` crate), by name.
fn reference_members(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let raw = std::fs::read(path).unwrap();
    let plain = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::decode_all(&raw[..]).unwrap()
    } else {
        raw
    };
    let mut archive = tar::Archive::new(&plain[..]);
    let mut out = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.insert(name.trim_start_matches("./").to_owned(), data);
        }
    }
    out
}

/// Reads all of a pages image through `open_pages` in odd-sized chunks.
fn read_pages(ckpt: &Checkpoint, id: u32) -> Vec<u8> {
    let mut reader = ckpt.open_pages(id).unwrap();
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 12_345];
    loop {
        let n = reader.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(out.len() as u64, reader.len());
    out
}

/// Asserts every `checkpoint/` member comes out of `ckpt` with the reference bytes.
fn assert_images_match(ckpt: &Checkpoint, reference: &BTreeMap<String, Vec<u8>>) {
    let mut seen = 0;
    for (name, want) in reference {
        let Some(image) = name.strip_prefix("checkpoint/") else {
            continue;
        };
        seen += 1;
        assert!(ckpt.has_image(image), "{image}");
        let got = match image
            .strip_prefix("pages-")
            .and_then(|r| r.strip_suffix(".img"))
        {
            Some(id) => read_pages(ckpt, id.parse().unwrap()),
            None => ckpt.read_image(image).unwrap(),
        };
        assert_eq!(sha(&got), sha(want), "{}: {image}", ckpt.display_name());
    }
    assert!(seen > 5);
    assert_eq!(ckpt.image_names().count(), seen);
}

#[test]
fn crio_archive_layout_and_metadata() {
    let path = fixture(CRIO);
    let ckpt = Checkpoint::open(&path).unwrap();
    assert_eq!(ckpt.compression(), Compression::None);
    assert_eq!(ckpt.engine(), Engine::CriO);
    assert_eq!(ckpt.path(), path);
    let mut images: Vec<&str> = ckpt.image_names().collect();
    images.sort();
    assert_eq!(
        images,
        [
            "core-27426.img",
            "fdinfo-2.img",
            "files.img",
            "fs-27426.img",
            "ids-27426.img",
            "inventory.img",
            "mm-27426.img",
            "pagemap-27426.img",
            "pages-1.img",
            "pstree.img",
            "seccomp.img",
            "timens-0.img"
        ]
    );

    let meta = ckpt.metadata().unwrap();
    assert_eq!(meta.engine, Engine::CriO);
    assert_eq!(meta.name.as_deref(), Some("counter"));
    assert_eq!(meta.pod.as_deref(), Some("counters-857d7978fd-jnkck"));
    assert_eq!(meta.namespace.as_deref(), Some("demo"));
    assert_eq!(meta.ip.as_deref(), Some("10.85.0.14"));
    assert_eq!(
        meta.image.as_deref(),
        Some("quay.io/rbohne/counters:latest")
    );
    assert_eq!(meta.runtime.as_deref(), Some("runc"));
    assert_eq!(
        meta.id.as_deref(),
        Some("11737cd75c1a83f7c3f60f23f9e450d59e9172155883e9ba286d7a5b74e6a61b")
    );
    assert_eq!(
        meta.created.as_deref(),
        Some("2023-08-24T11:19:38.607090024Z")
    );
    assert_eq!(
        meta.checkpointed.as_deref(),
        Some("2023-08-24T11:24:18.316482933Z")
    );
    assert_eq!(meta.command, ["/usr/bin/python3", "-u", "/app/counters.py"]);
    assert_eq!(meta.cwd.as_deref(), Some("/app"));
    assert_eq!(meta.bind_mounts.len(), 5);
    let secrets = meta
        .bind_mounts
        .iter()
        .find(|m| m.destination == "/var/run/secrets/kubernetes.io/serviceaccount")
        .unwrap();
    assert_eq!(
        (secrets.file_type.as_str(), secrets.permissions),
        ("directory", 511)
    );
    assert_eq!(
        meta.annotations
            .get("io.container.manager")
            .map(String::as_str),
        Some("cri-o")
    );
    assert_eq!(
        meta.log_member.as_deref(),
        Some("io.kubernetes.cri-o.LogPath")
    );

    let log = ckpt
        .read_member("io.kubernetes.cri-o.LogPath")
        .unwrap()
        .unwrap();
    assert_eq!(log.len(), 451);
    assert!(String::from_utf8_lossy(&log).contains("GET /secret/RANDOM_1432_KEY"));
    assert_eq!(ckpt.read_member("network.status").unwrap(), None);

    let stats = ckpt.stats_dump().unwrap().unwrap();
    assert_eq!(&stats[..4], &0x5510_5940u32.to_le_bytes());

    let diff = ckpt.rootfs_diff().unwrap();
    assert_eq!(diff.changed.len(), 1);
    assert_eq!(diff.changed[0].name, "test-file");
    assert_eq!(diff.changed[0].size, 34);
    assert_eq!(diff.changed[0].kind, MemberKind::File);
    assert!(diff.deleted.is_empty());

    let sizes = ckpt.sizes();
    assert_eq!(sizes.archive_bytes, 9_236_480);
    assert_eq!(sizes.pages_bytes, 9_084_928);
    assert_eq!(sizes.rootfs_diff_bytes, Some(10_240));
    assert!(sizes.checkpoint_bytes > sizes.pages_bytes);
    assert_eq!(ckpt.member_size("dump.log"), Some(96_146));
    let listed: Vec<&str> = ckpt.members().map(|m| m.name).collect();
    assert_eq!(listed.first(), Some(&"stats-dump"));
    assert_eq!(listed.last(), Some(&"io.kubernetes.cri-o.LogPath"));

    assert_images_match(&ckpt, &reference_members(&path));
}

#[test]
fn crio_pages_reader_random_offsets() {
    let path = fixture(CRIO);
    let reference = reference_members(&path);
    let want = &reference["checkpoint/pages-1.img"];
    let ckpt = Checkpoint::open(&path).unwrap();
    let mut reader = ckpt.open_pages(1).unwrap();
    assert_eq!(reader.len(), 9_084_928);
    assert_eq!(want.len(), 9_084_928);
    // The secret of the fixture README: 2 hits in the page data.
    assert_eq!(
        memchr::memmem::find_iter(want, b"RANDOM_1432_KEY").count(),
        2
    );

    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..200 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let offset = state % reader.len();
        let len = (state >> 40) as usize % 20_000;
        reader.seek(SeekFrom::Start(offset)).unwrap();
        let mut got = vec![0u8; len];
        let n = reader.read(&mut got).unwrap();
        let end = (offset as usize + len).min(want.len());
        assert_eq!(n, end - offset as usize);
        assert_eq!(&got[..n], &want[offset as usize..end], "offset {offset}");
        let mut exact = vec![0u8; end - offset as usize];
        reader.read_exact_at(&mut exact, offset).unwrap();
        assert_eq!(exact, &want[offset as usize..end]);
    }
    // The window ends at the member's end, not the archive's.
    reader.seek(SeekFrom::End(-10)).unwrap();
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, &want[want.len() - 10..]);
    reader.seek(SeekFrom::Start(reader.len() + 100)).unwrap();
    assert_eq!(reader.read(&mut [0u8; 16]).unwrap(), 0);
    assert!(reader
        .seek(SeekFrom::Current(-(reader.len() as i64) - 1000))
        .is_err());
    let mut past = [0u8; 2];
    assert!(reader.read_exact_at(&mut past, reader.len() - 1).is_err());
    assert!(ckpt.open_pages(2).is_err());
}

#[test]
fn podman_archives_plain_gzip_zstd() {
    // The plain and gzip archives are two checkpoints of one image-based container; the zstd one
    // is of a `--rootfs` container (no image, no rootfs-diff.tar).
    let cases = [
        (
            PODMAN_PLAIN,
            Compression::None,
            "counter3",
            Some("localhost/bbcounter:latest"),
        ),
        (
            PODMAN_GZIP,
            Compression::Gzip,
            "counter3",
            Some("localhost/bbcounter:latest"),
        ),
        (PODMAN_ZSTD, Compression::Zstd, "counter-rootfs", None),
    ];
    for (rel, compression, name, image) in cases {
        let has_rootfs_diff = image.is_some();
        let path = fixture(rel);
        let ckpt = Checkpoint::open(&path).unwrap();
        assert_eq!(ckpt.compression(), compression, "{rel}");
        assert_eq!(ckpt.engine(), Engine::Podman, "{rel}");
        let meta = ckpt.metadata().unwrap();
        assert_eq!(meta.engine, Engine::Podman);
        assert_eq!(meta.name.as_deref(), Some(name), "{rel}");
        assert_eq!(meta.image.as_deref(), image, "{rel}");
        assert_eq!(meta.runtime.as_deref(), Some("runc"), "{rel}");
        assert_eq!(meta.id.as_ref().map(String::len), Some(64), "{rel}");
        assert_eq!(meta.ip, None, "{rel}: network.status is null");
        assert_eq!(meta.command.first().map(String::as_str), Some("/bin/sh"));
        assert_eq!(meta.log_member.as_deref(), Some("ctr.log"));
        assert!(ckpt.has_image("pstree.img"));
        assert!(ckpt.has_image("descriptors.json"));
        let diff = ckpt.rootfs_diff().unwrap();
        if has_rootfs_diff {
            assert_eq!(diff.changed.len(), 1, "{rel}");
            assert_eq!(diff.changed[0].name, "root/newfile.txt");
            assert_eq!(diff.changed[0].size, 6);
            assert_eq!(ckpt.sizes().rootfs_diff_bytes, Some(2048));
        } else {
            assert!(diff.changed.is_empty());
            assert_eq!(ckpt.sizes().rootfs_diff_bytes, None);
        }
        assert_eq!(ckpt.sizes().pages_bytes, {
            let reference = reference_members(&path);
            reference
                .iter()
                .filter(|(n, _)| n.starts_with("checkpoint/pages-"))
                .map(|(_, d)| d.len() as u64)
                .sum::<u64>()
        });
        // The container's environment secret is in the page data.
        let pages = read_pages(&ckpt, 1);
        let hits = memchr::memmem::find_iter(&pages, b"CONTAINER_SECRET_5150").count()
            + memchr::memmem::find_iter(&read_pages(&ckpt, 2), b"CONTAINER_SECRET_5150").count();
        assert!(hits > 0, "{rel}");
        assert_images_match(&ckpt, &reference_members(&path));
        let config = ckpt.read_member("config.dump").unwrap().unwrap();
        assert_eq!(sha(&config), sha(&reference_members(&path)["config.dump"]));
    }
}

#[test]
fn image_directories_open_in_place() {
    for rel in ["criu-4.2/py", "criu-4.2/tree", "criu-4.1/tree"] {
        let dir = fixture(rel);
        let ckpt = Checkpoint::open(&dir).unwrap();
        assert_eq!(ckpt.compression(), Compression::Directory);
        assert_eq!(ckpt.engine(), Engine::ImagesOnly);
        let images = images_of(&dir);
        assert_eq!(ckpt.image_names().count(), images.len(), "{rel}");
        assert!(!ckpt.has_image("dump.log"));
        for (name, bytes) in &images {
            let got = match name
                .strip_prefix("pages-")
                .and_then(|r| r.strip_suffix(".img"))
            {
                Some(id) => read_pages(&ckpt, id.parse().unwrap()),
                None => ckpt.read_image(name).unwrap(),
            };
            assert_eq!(sha(&got), sha(bytes), "{rel}/{name}");
        }
        assert!(ckpt.stats_dump().unwrap().is_some());
        let meta = ckpt.metadata().unwrap();
        assert_eq!(meta.engine, Engine::ImagesOnly);
        assert_eq!(meta.name, None);
    }
    let py = Checkpoint::open(&fixture("criu-4.2/py")).unwrap();
    let pages = read_pages(&py, 1);
    assert_eq!(
        memchr::memmem::find_iter(&pages, b"RANDOM_1432_KEY").count(),
        4
    );
}

#[test]
fn containerd_layout_in_every_form() {
    let images = fixture("criu-4.2/py");
    let tar = containerd_archive(&images);
    let tmp = tempfile::tempdir().unwrap();
    let forms = [
        ("ckpt.tar", tar.clone(), Compression::None),
        ("ckpt.tar", gzip(&tar), Compression::Gzip),
        ("ckpt.tar.gz", zstd(&tar), Compression::Zstd),
    ];
    for (i, (name, bytes, compression)) in forms.into_iter().enumerate() {
        let path = tmp.path().join(format!("{i}-{name}"));
        std::fs::write(&path, &bytes).unwrap();
        let ckpt = Checkpoint::open(&path).unwrap();
        assert_eq!(ckpt.compression(), compression);
        assert_eq!(ckpt.engine(), Engine::Containerd);
        let meta = ckpt.metadata().unwrap();
        assert_eq!(meta.name.as_deref(), Some("secret-app"));
        assert_eq!(meta.pod.as_deref(), Some("secret-app-5d9c7b8f6-x2x4q"));
        assert_eq!(meta.namespace.as_deref(), Some("forensics"));
        assert_eq!(meta.image.as_deref(), Some("docker.io/library/python:3.11"));
        assert_eq!(meta.runtime.as_deref(), Some("io.containerd.runc.v2"));
        assert_eq!(meta.checkpointed.as_deref(), Some("2024-05-06T08:00:00.5Z"));
        assert_eq!(meta.log_member.as_deref(), Some("container.log"));
        assert_eq!(meta.cwd.as_deref(), Some("/srv/app"));
        // rootfs-diff.tar holds gzip data despite its name.
        let diff = ckpt.rootfs_diff().unwrap();
        let changed: Vec<(&str, u64)> = diff
            .changed
            .iter()
            .filter(|c| c.kind == MemberKind::File)
            .map(|c| (c.name.as_str(), c.size))
            .collect();
        assert_eq!(changed, [("srv/app/state.txt", 9), ("etc/motd", 19)]);
        for (image, want) in images_of(&images) {
            let got = match image
                .strip_prefix("pages-")
                .and_then(|r| r.strip_suffix(".img"))
            {
                Some(id) => read_pages(&ckpt, id.parse().unwrap()),
                None => ckpt.read_image(&image).unwrap(),
            };
            assert_eq!(sha(&got), sha(&want), "{compression:?} {image}");
        }
    }

    // The same layout extracted into a directory.
    let dir = tmp.path().join("extracted");
    std::fs::create_dir_all(dir.join("checkpoint")).unwrap();
    for (name, bytes) in images_of(&images) {
        std::fs::write(dir.join("checkpoint").join(name), bytes).unwrap();
    }
    std::fs::write(dir.join("spec.dump"), archive_builder::CONTAINERD_SPEC).unwrap();
    std::fs::write(dir.join("config.dump"), archive_builder::CONTAINERD_CONFIG).unwrap();
    let ckpt = Checkpoint::open(&dir).unwrap();
    assert_eq!(ckpt.compression(), Compression::Directory);
    assert_eq!(ckpt.engine(), Engine::Containerd);
    assert_eq!(
        ckpt.metadata().unwrap().namespace.as_deref(),
        Some("forensics")
    );
    assert_eq!(
        sha(&read_pages(&ckpt, 1)),
        sha(&std::fs::read(images.join("pages-1.img")).unwrap())
    );
}

/// A minimal valid checkpoint plus `extra` members.
fn minimal_with(extra: impl FnOnce(&mut TarBuilder)) -> Vec<u8> {
    let pstree = std::fs::read(fixture("criu-4.2/py/pstree.img")).unwrap();
    let mut tar = TarBuilder::new();
    tar.dir("checkpoint/")
        .file("checkpoint/pstree.img", &pstree);
    extra(&mut tar);
    tar.finish()
}

fn open_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, Result<Checkpoint, Error>) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let result = Checkpoint::open(&path);
    (path, result)
}

#[test]
fn odd_members_are_indexed_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = minimal_with(|t| {
        t.symlink("checkpoint/link.img", "pstree.img")
            .hardlink("checkpoint/hard.img", "checkpoint/pstree.img")
            .char_device("dev-null")
            .pax_global("comment", "made by a test")
            .pax_file(
                "checkpoint/a-very-long-name-that-does-not-fit-into-the-one-hundred-bytes-of-a-ustar-header-name-field.img",
                b"pax data",
            )
            .gnu_long_name_file(
                "artifacts/another-very-long-name-that-does-not-fit-into-the-one-hundred-bytes-of-a-ustar-header.bin",
                b"gnu data",
            );
    });
    for (name, data) in [
        ("plain.tar", bytes.clone()),
        ("gz.tar", gzip(&bytes)),
        ("zst.tar", zstd(&bytes)),
    ] {
        let (_, result) = open_bytes(tmp.path(), name, &data);
        let ckpt = result.unwrap();
        assert_eq!(ckpt.engine(), Engine::ImagesOnly);
        let long = "a-very-long-name-that-does-not-fit-into-the-one-hundred-bytes-of-a-ustar-header-name-field.img";
        assert_eq!(ckpt.read_image(long).unwrap(), b"pax data");
        assert_eq!(
            ckpt.read_member("artifacts/another-very-long-name-that-does-not-fit-into-the-one-hundred-bytes-of-a-ustar-header.bin")
                .unwrap()
                .unwrap(),
            b"gnu data"
        );
        assert!(!ckpt.has_image("link.img"));
        let err = ckpt.read_member("checkpoint/link.img").unwrap_err();
        assert!(matches!(err, Error::NotRegular { .. }), "{err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(matches!(
            ckpt.read_member("checkpoint/hard.img").unwrap_err(),
            Error::NotRegular { .. }
        ));
        assert!(matches!(
            ckpt.read_member("dev-null").unwrap_err(),
            Error::NotRegular { .. }
        ));
        let link = ckpt
            .members()
            .find(|m| m.name == "checkpoint/link.img")
            .unwrap();
        assert_eq!(link.kind, MemberKind::Symlink);
        assert_eq!(link.link_target, Some("pstree.img"));
        assert!(ckpt.read_member("../etc/passwd").is_err());
        assert!(ckpt.read_image("../config.dump").is_err());
        assert!(ckpt.read_image("").is_err());
    }
}

#[test]
fn unsafe_names_and_links_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            minimal_with(|t| {
                t.file("../evil", b"x");
            }),
            "../evil",
        ),
        (
            "nested-dotdot",
            minimal_with(|t| {
                t.file("checkpoint/../../evil", b"x");
            }),
            "checkpoint/../../evil",
        ),
        (
            "absolute",
            minimal_with(|t| {
                t.file("/tmp/evil", b"x");
            }),
            "/tmp/evil",
        ),
        (
            "pax-dotdot",
            minimal_with(|t| {
                t.pax_file("../../evil", b"x");
            }),
            "../../evil",
        ),
        (
            "symlink-out",
            minimal_with(|t| {
                t.symlink("checkpoint/pages-1.img", "/etc/shadow");
            }),
            "/etc/shadow",
        ),
        (
            "symlink-up",
            minimal_with(|t| {
                t.symlink("checkpoint/x", "../../../etc/shadow");
            }),
            "../../../etc/shadow",
        ),
        (
            "hardlink-out",
            minimal_with(|t| {
                t.hardlink("checkpoint/x", "/etc/shadow");
            }),
            "/etc/shadow",
        ),
    ];
    for (name, bytes, shown) in cases {
        for (suffix, data) in [("tar", bytes.clone()), ("gz", gzip(&bytes))] {
            let file = format!("{name}.{suffix}");
            let (path, result) = open_bytes(tmp.path(), &file, &data);
            let err = result.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::UnsafeMemberName { .. } | Error::UnsafeLink { .. }
                ),
                "{file}: {err}"
            );
            let text = err.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains(shown), "{text}");
            assert!(text.contains("at byte"), "{text}");
        }
    }
    // Nothing was written next to (or above) the archives.
    let mut left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".tar") && !n.ends_with(".gz"))
        .collect();
    left.sort();
    assert!(left.is_empty(), "{left:?}");
    assert!(!tmp.path().parent().unwrap().join("evil").exists());
}

#[test]
fn truncated_archives_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let path = fixture(CRIO);
    let full = std::fs::read(&path).unwrap();
    let len = full.len();
    // The last member's data (padded) ends at 9,228,800; Go's tar writer pads the end-of-archive
    // blocks up to a 10 KiB record, so cutting anywhere in that zero tail leaves a valid archive.
    let data_end = 9_228_800;
    assert!(full[data_end..].iter().all(|&b| b == 0));
    assert!(full[data_end - 512..data_end].iter().any(|&b| b != 0));
    // Inside headers, inside member data (dump.log, pages-1.img), exactly at a member boundary
    // (end blocks cut off), and inside the first end block.
    for cut in [
        600,
        1024,
        5_000,
        60_000,
        len / 2,
        len - 20_000,
        data_end,
        data_end + 100,
    ] {
        let (shown, result) = open_bytes(tmp.path(), &format!("cut-{cut}.tar"), &full[..cut]);
        let err = result.expect_err(&format!("cut at {cut}"));
        assert!(
            matches!(
                err,
                Error::TruncatedMember { .. } | Error::Truncated { .. } | Error::BadHeader { .. }
            ),
            "cut at {cut}: {err}"
        );
        let text = err.to_string();
        assert!(text.contains(&shown.display().to_string()), "{text}");
        assert!(text.contains("truncated"), "{text}");
    }
    let (_, result) = open_bytes(tmp.path(), "cut-mid-pages.tar", &full[..len / 2]);
    match result.unwrap_err() {
        Error::TruncatedMember { member, size, .. } => {
            assert_eq!(member, "checkpoint/pages-1.img");
            assert_eq!(size, 9_084_928);
        }
        other => panic!("{other}"),
    }
    // Compressed archives cut short: an error, whichever layer notices first.
    for (name, packed) in [
        ("gzip", std::fs::read(fixture(PODMAN_GZIP)).unwrap()),
        ("zstd", std::fs::read(fixture(PODMAN_ZSTD)).unwrap()),
    ] {
        for cut in [20, packed.len() / 3, packed.len() / 2, packed.len() - 8] {
            let (_, result) = open_bytes(tmp.path(), &format!("cut-{cut}.{name}"), &packed[..cut]);
            assert!(result.is_err(), "{name} cut at {cut}");
        }
    }
}

/// Whether an error is of the expected variant.
type ErrorCheck = fn(&Error) -> bool;

#[test]
fn missing_pstree_garbage_empty_and_unknown_compression() {
    let tmp = tempfile::tempdir().unwrap();
    let core = std::fs::read(fixture("criu-4.2/py/core-24390.img")).unwrap();
    let mut no_pstree = TarBuilder::new();
    no_pstree
        .dir("checkpoint/")
        .file("checkpoint/core-24390.img", &core);
    let mut no_checkpoint = TarBuilder::new();
    no_checkpoint.file("config.dump", b"{}");
    let mut garbage = vec![0u8; 4096];
    let mut state: u32 = 7;
    for b in &mut garbage {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *b = (state >> 16) as u8;
    }
    let cases: Vec<(&str, Vec<u8>, ErrorCheck, &str)> = vec![
        (
            "no-pstree.tar",
            no_pstree.finish(),
            |e| matches!(e, Error::MissingPstree { .. }),
            "checkpoint/pstree.img",
        ),
        (
            "no-checkpoint.tar",
            no_checkpoint.finish(),
            |e| matches!(e, Error::MissingCheckpointDir { .. }),
            "checkpoint/",
        ),
        (
            "garbage.tar",
            garbage,
            |e| matches!(e, Error::UnknownFormat { .. }),
            "neither tar, gzip nor zstd",
        ),
        (
            "empty.tar",
            Vec::new(),
            |e| matches!(e, Error::Empty { .. }),
            "empty",
        ),
        (
            "zeros.tar",
            vec![0u8; 10_240],
            |e| matches!(e, Error::UnknownFormat { .. }),
            "not a checkpoint archive",
        ),
        (
            "xz.tar",
            b"\xfd7zXZ\0rest".to_vec(),
            |e| matches!(e, Error::UnsupportedCompression { .. }),
            "xz",
        ),
        (
            "bz.tar",
            b"BZh91AY&SY".to_vec(),
            |e| matches!(e, Error::UnsupportedCompression { .. }),
            "bzip2",
        ),
        (
            "gz-garbage.tar",
            [&[0x1f, 0x8b][..], &[0x55; 100]].concat(),
            |e| matches!(e, Error::Read { .. }),
            "reading the gzip stream failed at byte 0",
        ),
    ];
    for (name, bytes, is_expected, shown) in cases {
        let (path, result) = open_bytes(tmp.path(), name, &bytes);
        let err = result.unwrap_err();
        assert!(is_expected(&err), "{name}: {err}");
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(shown), "{name}: {text}");
    }
    // Directories: neither checkpoint/ nor pstree.img; checkpoint/ without pstree.img.
    let empty_dir = tmp.path().join("empty-dir");
    std::fs::create_dir(&empty_dir).unwrap();
    assert!(matches!(
        Checkpoint::open(&empty_dir).unwrap_err(),
        Error::MissingCheckpointDir { .. }
    ));
    std::fs::create_dir(empty_dir.join("checkpoint")).unwrap();
    std::fs::write(empty_dir.join("checkpoint/core-1.img"), &core).unwrap();
    assert!(matches!(
        Checkpoint::open(&empty_dir).unwrap_err(),
        Error::MissingPstree { .. }
    ));
    assert!(matches!(
        Checkpoint::open(&tmp.path().join("does-not-exist")).unwrap_err(),
        Error::Open { .. }
    ));
}

#[test]
fn huge_declared_sizes_and_limits() {
    let tmp = tempfile::tempdir().unwrap();
    // A header declaring 1 TiB (base-256 size field) with no data behind it.
    let huge = minimal_with(|t| {
        t.header_only("checkpoint/pages-1.img", b'0', 1 << 40);
    });
    for (name, data) in [("huge.tar", huge.clone()), ("huge.tar.zst", zstd(&huge))] {
        let (_, result) = open_bytes(tmp.path(), name, &data);
        match result.unwrap_err() {
            Error::TruncatedMember { member, size, .. } => {
                assert_eq!(member, "checkpoint/pages-1.img");
                assert_eq!(size, 1 << 40);
            }
            other => panic!("{name}: {other}"),
        }
    }
    // A huge pax extended header is refused before reading it.
    let mut pax = TarBuilder::new();
    pax.header_only("PaxHeaders/x", b'x', 1 << 33);
    let (_, result) = open_bytes(tmp.path(), "pax.tar", &pax.unfinished());
    assert!(matches!(result.unwrap_err(), Error::BadHeader { .. }));

    // Members over the in-memory limit: listed with their size, refused by read_*.
    let big = minimal_with(|t| {
        t.file("checkpoint/mm-1.img", &vec![7u8; 10_000])
            .file("dump.log", &vec![b'x'; 10_000])
            .file("checkpoint/pages-1.img", &vec![1u8; 64 * 1024]);
    });
    for (name, data) in [("big.tar", big.clone()), ("big.tar.gz", gzip(&big))] {
        let path = tmp.path().join(name);
        std::fs::write(&path, &data).unwrap();
        let params = OpenParams::default()
            .member_limit(4096)
            .memory_budget(1 << 20);
        let ckpt = Checkpoint::open_with(&path, &params).unwrap();
        assert_eq!(ckpt.member_size("checkpoint/mm-1.img"), Some(10_000));
        let err = ckpt.read_image("mm-1.img").unwrap_err();
        assert!(
            matches!(
                err,
                Error::MemberTooLarge {
                    size: 10_000,
                    limit: 4096,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("checkpoint/mm-1.img"), "{err}");
        assert!(matches!(
            ckpt.read_member("dump.log").unwrap_err(),
            Error::MemberTooLarge { .. }
        ));
        // Pages are streamed, never limited.
        assert_eq!(read_pages(&ckpt, 1), vec![1u8; 64 * 1024]);
        assert_eq!(ckpt.read_image("pstree.img").unwrap().len(), 30);
    }
    // Past the memory budget of a compressed archive, members are spooled, not dropped.
    let path = tmp.path().join("budget.tar.gz");
    std::fs::write(&path, gzip(&big)).unwrap();
    let params = OpenParams::default().memory_budget(5_000);
    let ckpt = Checkpoint::open_with(&path, &params).unwrap();
    assert_eq!(ckpt.read_image("mm-1.img").unwrap(), vec![7u8; 10_000]);
    assert_eq!(
        ckpt.read_member("dump.log").unwrap(),
        Some(vec![b'x'; 10_000])
    );

    // The same name twice is ambiguous.
    let twice = minimal_with(|t| {
        t.file("config.dump", b"{}")
            .file("config.dump", b"{\"id\":\"x\"}");
    });
    let (_, result) = open_bytes(tmp.path(), "twice.tar", &twice);
    assert!(matches!(result.unwrap_err(), Error::DuplicateMember { .. }));
}

#[test]
fn spool_files_are_private_unnamed_and_gone_after_drop() {
    use std::os::unix::fs::PermissionsExt;
    let spool = tempfile::tempdir().unwrap();
    let params = OpenParams::default().spool_dir(spool.path());
    let ckpt = Checkpoint::open_with(&fixture(PODMAN_ZSTD), &params).unwrap();
    let reader = ckpt.open_pages(1).unwrap();
    // Spool files have no name in the spool directory at any time ...
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
    // ... and the open ones are 0600.
    let spooled = || -> Vec<PathBuf> {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| {
                let fd = e.ok()?.path();
                let target = std::fs::read_link(&fd).ok()?;
                target.starts_with(spool.path()).then_some(fd)
            })
            .collect()
    };
    let open = spooled();
    // One spool file holds pages-1.img and pages-2.img: one descriptor however many members.
    assert_eq!(open.len(), 1, "one spool file");
    for fd in &open {
        let mode = std::fs::metadata(fd).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{fd:?}");
    }
    let other = ckpt.open_pages(2).unwrap();
    assert_eq!(spooled().len(), 1, "readers share the spool file");
    drop(other);
    drop(ckpt);
    // A reader keeps the spool file alive; then it is gone.
    assert_eq!(spooled().len(), 1);
    drop(reader);
    assert!(spooled().is_empty());
}

#[test]
fn errors_of_read_calls_name_archive_and_member() {
    let ckpt = Checkpoint::open(&fixture(CRIO)).unwrap();
    let err = ckpt.read_image("core-1.img").unwrap_err();
    assert!(matches!(err, Error::MissingMember { .. }));
    let text = err.to_string();
    assert!(
        text.contains(CRIO) && text.contains("checkpoint/core-1.img"),
        "{text}"
    );
    let err = ckpt.read_image("../spec.dump").unwrap_err();
    assert!(matches!(err, Error::InvalidImageName { .. }), "{err}");
    assert!(matches!(
        ckpt.read_member("/etc/passwd").unwrap_err(),
        Error::InvalidMemberName { .. }
    ));
    let err = ckpt.open_pages(9).unwrap_err();
    assert!(checkpoint_model::error_text(&err).contains("checkpoint/pages-9.img"));
}

#[test]
fn members_stream_through_open_member() {
    let path = fixture(CRIO);
    let reference = reference_members(&path);
    let ckpt = Checkpoint::open(&path).unwrap();
    let mut log = Vec::new();
    ckpt.open_member("dump.log")
        .unwrap()
        .read_to_end(&mut log)
        .unwrap();
    assert_eq!(sha(&log), sha(&reference["dump.log"]));
    assert!(matches!(
        ckpt.open_member("checkpoint").unwrap_err(),
        Error::NotRegular { .. }
    ));
    assert!(matches!(
        ckpt.open_member("nope").unwrap_err(),
        Error::MissingMember { .. }
    ));

    // A compressed archive whose rootfs-diff.tar is over the in-memory limit: spooled, listed
    // and read from the spool file.
    let mut rootfs = TarBuilder::new();
    rootfs
        .file("var/lib/big.bin", &vec![9u8; 20_000])
        .symlink("usr/bin/sh", "busybox");
    let rootfs = rootfs.finish();
    let bytes = minimal_with(|t| {
        t.file("rootfs-diff.tar", &rootfs)
            .file("deleted.files", br#"["/etc/motd","/tmp/x"]"#);
    });
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("big-rootfs.tar.zst");
    std::fs::write(&archive, zstd(&bytes)).unwrap();
    let want = [
        ("var/lib/big.bin", MemberKind::File, 20_000),
        ("usr/bin/sh", MemberKind::Symlink, 0),
    ];
    let listed = |ckpt: &Checkpoint| -> Vec<(String, MemberKind, u64)> {
        ckpt.rootfs_diff()
            .unwrap()
            .changed
            .into_iter()
            .map(|c| (c.name, c.kind, c.size))
            .collect()
    };
    let small = OpenParams::default().member_limit(4096);
    let ckpt = Checkpoint::open_with(&archive, &small).unwrap();
    let got = listed(&ckpt);
    assert_eq!(got.len(), 2);
    for ((name, kind, size), want) in got.iter().zip(want) {
        assert_eq!((name.as_str(), *kind, *size), want);
    }
    assert_eq!(ckpt.rootfs_diff().unwrap().deleted, ["/etc/motd", "/tmp/x"]);
    let mut spooled = Vec::new();
    ckpt.open_member("rootfs-diff.tar")
        .unwrap()
        .read_to_end(&mut spooled)
        .unwrap();
    assert_eq!(spooled, rootfs);
}

mod mutated {
    //! Damaged archives: any byte changed or any cut gives `Ok` or an error, never a panic, and
    //! whatever opens reads back without panicking either.
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Vec<u8> {
        minimal_with(|t| {
            t.file("checkpoint/pages-1.img", &[0xabu8; 8192])
                .pax_file(
                    "spec.dump",
                    br#"{"annotations":{"io.container.manager":"libpod"}}"#,
                )
                .symlink("checkpoint/s", "pstree.img")
                .gnu_long_name_file("config.dump", br#"{"name":"x"}"#);
        })
    }

    fn exercise(path: &Path) {
        let Ok(ckpt) = Checkpoint::open(path) else {
            return;
        };
        let names: Vec<String> = ckpt.image_names().map(str::to_owned).collect();
        for name in names {
            let _ = ckpt.read_image(&name);
        }
        if let Ok(mut pages) = ckpt.open_pages(1) {
            let _ = pages.read_to_end(&mut Vec::new());
        }
        let _ = ckpt.metadata();
        let _ = ckpt.rootfs_diff();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn damaged_plain_and_gzip_archives_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            compress in any::<bool>(),
        ) {
            let mut bytes = sample();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let keep = cut.index(bytes.len() + 1);
            bytes.truncate(keep.max(1));
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("damaged");
            std::fs::write(&path, if compress { gzip(&bytes) } else { bytes }).unwrap();
            exercise(&path);
        }

        #[test]
        fn arbitrary_valid_headers_never_panic(
            name in "(\\./|/|\\.\\./)?[a-z./-]{0,40}",
            typeflag in any::<u8>(),
            size in prop_oneof![0u64..5000, any::<u64>()],
            data in proptest::collection::vec(any::<u8>(), 0..3000),
            compress in any::<bool>(),
        ) {
            let bytes = minimal_with(|t| {
                t.header_only(&name, typeflag, size).raw(&data);
            });
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("odd");
            std::fs::write(&path, if compress { zstd(&bytes) } else { bytes }).unwrap();
            exercise(&path);
        }
    }
}

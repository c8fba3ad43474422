//! Builds tar archives for tests, byte by byte, including ones no well-behaved tar writer would
//! produce (`../` names, absolute names, links pointing out, huge declared sizes), and the
//! containerd checkpoint layout from its documented member names.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// An in-memory tar writer (ustar headers, optional pax and GNU long-name records).
#[derive(Default)]
pub struct TarBuilder {
    buf: Vec<u8>,
}

impl TarBuilder {
    pub fn new() -> Self {
        TarBuilder::default()
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.header(name, b'0', data.len() as u64, "");
        self.data(data)
    }

    /// A directory.
    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.header(name, b'5', 0, "")
    }

    /// A symbolic link.
    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.header(name, b'2', 0, target)
    }

    /// A hard link.
    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.header(name, b'1', 0, target)
    }

    /// A character device.
    pub fn char_device(&mut self, name: &str) -> &mut Self {
        self.header(name, b'3', 0, "")
    }

    /// A regular file whose name is given by a pax `path` record (the ustar name is a decoy).
    pub fn pax_file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        let record = pax_record("path", name);
        self.header("PaxHeaders/decoy", b'x', record.len() as u64, "");
        self.data(record.as_bytes());
        self.file("decoy-name", data)
    }

    /// A global pax header (ignored by readers of member names).
    pub fn pax_global(&mut self, key: &str, value: &str) -> &mut Self {
        let record = pax_record(key, value);
        self.header("GlobalHead", b'g', record.len() as u64, "");
        self.data(record.as_bytes())
    }

    /// A regular file with a GNU `L` long-name record.
    pub fn gnu_long_name_file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        let mut long = name.as_bytes().to_vec();
        long.push(0);
        self.header("././@LongLink", b'L', long.len() as u64, "");
        self.data(&long);
        self.file("truncated-name", data)
    }

    /// A header declaring `size` data bytes (base-256 when octal is too small), with no data.
    pub fn header_only(&mut self, name: &str, typeflag: u8, size: u64) -> &mut Self {
        self.header(name, typeflag, size, "")
    }

    /// Raw bytes appended as they are.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// The archive with its two end-of-archive blocks.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.buf.clone();
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    /// The archive without end-of-archive blocks.
    pub fn unfinished(&self) -> Vec<u8> {
        self.buf.clone()
    }

    fn data(&mut self, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    fn header(&mut self, name: &str, typeflag: u8, size: u64, link: &str) -> &mut Self {
        let mut h = [0u8; 512];
        let name = name.as_bytes();
        let n = name.len().min(100);
        h[..n].copy_from_slice(&name[..n]);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        if size < 0o77777777777 {
            h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        } else {
            h[124] = 0x80;
            h[128..136].copy_from_slice(&size.to_be_bytes());
        }
        h[136..148].copy_from_slice(b"14477331510\0");
        h[156] = typeflag;
        let link = link.as_bytes();
        let l = link.len().min(100);
        h[157..157 + l].copy_from_slice(&link[..l]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.buf.extend_from_slice(&h);
        self
    }
}

fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// zstd-compresses `bytes`.
pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

/// The CRIU images of a raw image directory (files ending in `.img`), sorted by name.
pub fn images_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut images: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".img"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    images.sort();
    images
}

/// containerd's `config.dump` for the test container.
pub const CONTAINERD_CONFIG: &str = r#"{"id":"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","name":"secret-app","rootfsImage":"docker.io/library/python:3.11","rootfsImageRef":"sha256:1111111111111111111111111111111111111111111111111111111111111111","rootfsImageName":"docker.io/library/python:3.11","runtime":"io.containerd.runc.v2","createdTime":"2024-05-06T07:08:09.123456789Z","checkpointedTime":"2024-05-06T08:00:00.5Z","restoredTime":"0001-01-01T00:00:00Z","restored":false}"#;

/// containerd's `spec.dump` for the test container (no `io.container.manager`).
pub const CONTAINERD_SPEC: &str = r#"{"ociVersion":"1.1.0","process":{"args":["python3","/srv/app/bin/secret.py"],"cwd":"/srv/app"},"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"secret-app","io.kubernetes.cri.sandbox-name":"secret-app-5d9c7b8f6-x2x4q","io.kubernetes.cri.sandbox-namespace":"forensics","io.kubernetes.cri.image-name":"docker.io/library/python:3.11"}}"#;

/// The containerd checkpoint layout (REFERENCE.md "Archive layouts": `status`, `stats-dump`,
/// `dump.log`, `container.log`, `config.dump`, `status.dump`, `checkpoint/`, `rootfs-diff.tar`
/// holding gzip data despite its name, `spec.dump`) around the images of `images_dir`.
pub fn containerd_archive(images_dir: &Path) -> Vec<u8> {
    let mut rootfs = TarBuilder::new();
    rootfs
        .dir("srv/app/")
        .file("srv/app/state.txt", b"state 42\n")
        .file("etc/motd", b"changed by the app\n");
    let rootfs_gz = gzip(&rootfs.finish());
    let mut tar = TarBuilder::new();
    tar.file("status", b"{\"pid\":24390}")
        .file(
            "stats-dump",
            &std::fs::read(images_dir.join("stats-dump")).unwrap(),
        )
        .file(
            "dump.log",
            &std::fs::read(images_dir.join("dump.log")).unwrap(),
        )
        .file(
            "container.log",
            b"2024-05-06T08:00:00.000000000Z stdout F started\n",
        )
        .file("config.dump", CONTAINERD_CONFIG.as_bytes())
        .file("status.dump", b"{}")
        .dir("checkpoint/");
    for (name, bytes) in images_of(images_dir) {
        tar.file(&format!("checkpoint/{name}"), &bytes);
    }
    tar.file("rootfs-diff.tar", &rootfs_gz)
        .file("spec.dump", CONTAINERD_SPEC.as_bytes());
    tar.finish()
}

//! The layer is the archive: read once, in order, through a fixed buffer, never extracted and
//! never held in memory. Reading it yields its digest (the sha256 of its bytes) and, for a
//! compressed archive, the diff ID (the sha256 of the tar inside, decompressed as the bytes go
//! by); for a plain tar the two are the same hash, computed once.
//!
//! Two writers of an image layout use it: [`write_oci_dir`] (`--output oci:DIR`) and
//! [`write_oci_archive`] (`--output oci-archive:FILE`, a tar of that layout). Both write the
//! layer blob while hashing it: the directory under a temporary name renamed to its digest, the
//! tar after a header slot that is filled in once the digest is known (the file is seekable), so
//! neither reads the archive twice. Every file written is 0600, every directory 0700; an existing
//! output is never replaced.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::image::{self, ImageDocuments, Layer, LayerCompression};
use crate::{Error, Result};

/// The buffer the archive is read through (and the chunk a push sends at a time).
pub const CHUNK_BYTES: usize = 4 << 20;

/// An archive opened as a layer: its size and compression, known before it is read.
#[derive(Debug)]
pub struct LayerSource {
    /// The archive.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its compression, from its first bytes.
    pub compression: LayerCompression,
    file: File,
}

impl LayerSource {
    /// Opens `path` and looks at its first bytes.
    pub fn open(path: &Path) -> Result<LayerSource> {
        let read_error = |source| Error::ReadArchive {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(read_error)?;
        let size = file.metadata().map_err(read_error)?.len();
        let mut head = [0u8; 4];
        let mut have = 0;
        while have < head.len() {
            match file.read(head.get_mut(have..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => have += n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(read_error(err)),
            }
        }
        file.seek(SeekFrom::Start(0)).map_err(read_error)?;
        Ok(LayerSource {
            path: path.to_path_buf(),
            size,
            compression: LayerCompression::of_head(head.get(..have).unwrap_or_default()),
            file,
        })
    }

    /// Reads the archive once, handing each chunk to `sink` (which may fail, e.g. a full disk
    /// or a closed upload), and returns the layer it is. `progress` gets the bytes read so far.
    pub fn stream(
        mut self,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Layer> {
        let mut hasher = LayerHasher::new(self.compression);
        let mut buf = vec![0u8; CHUNK_BYTES];
        let mut done = 0u64;
        loop {
            let n = match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::ReadArchive {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk).map_err(|reason| Error::Decompress {
                path: self.path.clone(),
                reason,
            })?;
            sink(chunk).map_err(Error::Sink)?;
            done += n as u64;
            progress(done);
        }
        if done != self.size {
            return Err(Error::ReadArchive {
                path: self.path.clone(),
                source: std::io::Error::other(format!(
                    "it changed while it was read: {} bytes at the start, {done} read",
                    self.size
                )),
            });
        }
        let (sha256, diff_id) = hasher.finish().map_err(|reason| Error::Decompress {
            path: self.path.clone(),
            reason,
        })?;
        Ok(Layer::new(self.compression, done, &sha256, &diff_id))
    }
}

/// A writer that only hashes.
struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hashes of a layer as its bytes go by: the digest, and the diff ID through a decompressor
/// that writes into a second hash.
enum Inner {
    Plain,
    Gzip(Box<flate2::write::GzDecoder<HashWriter>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, HashWriter>>),
}

struct LayerHasher {
    digest: Sha256,
    inner: Inner,
}

impl LayerHasher {
    fn new(compression: LayerCompression) -> LayerHasher {
        let hash = || HashWriter(Sha256::new());
        let inner = match compression {
            LayerCompression::None => Inner::Plain,
            LayerCompression::Gzip => Inner::Gzip(Box::new(flate2::write::GzDecoder::new(hash()))),
            LayerCompression::Zstd => match zstd::stream::write::Decoder::new(hash()) {
                Ok(decoder) => Inner::Zstd(Box::new(decoder)),
                // Only a failed allocation of the decoder's context gets here.
                Err(_) => Inner::Plain,
            },
        };
        LayerHasher {
            digest: Sha256::new(),
            inner,
        }
    }

    fn update(&mut self, chunk: &[u8]) -> std::result::Result<(), String> {
        self.digest.update(chunk);
        match &mut self.inner {
            Inner::Plain => Ok(()),
            Inner::Gzip(decoder) => decoder.write_all(chunk).map_err(|e| format!("gzip: {e}")),
            Inner::Zstd(decoder) => decoder.write_all(chunk).map_err(|e| format!("zstd: {e}")),
        }
    }

    /// The digest and the diff ID, hex.
    fn finish(self) -> std::result::Result<(String, String), String> {
        let digest = hex::encode(self.digest.finalize());
        let diff_id = match self.inner {
            Inner::Plain => digest.clone(),
            Inner::Gzip(decoder) => {
                let inner = decoder.finish().map_err(|e| format!("gzip: {e}"))?;
                hex::encode(inner.0.finalize())
            }
            Inner::Zstd(mut decoder) => {
                decoder.flush().map_err(|e| format!("zstd: {e}"))?;
                hex::encode(decoder.into_inner().0.finalize())
            }
        };
        Ok((digest, diff_id))
    }
}

/// What an image layout holds once written.
#[derive(Debug, Clone)]
pub struct WrittenImage {
    /// The layer (the archive).
    pub layer: Layer,
    /// The config and manifest.
    pub documents: ImageDocuments,
}

/// The annotations of an image once its layer is known (they record the archive's sha256), or
/// why the image must not be made (the archive is not the copy its custody manifest describes).
pub type Annotate<'a> =
    &'a (dyn Fn(&Layer) -> Result<std::collections::BTreeMap<String, String>> + Sync);

/// The annotations and tag of an image to write, and when it is built.
#[derive(Clone, Copy)]
pub struct ImageParams<'a> {
    /// The manifest's annotations, from the layer.
    pub annotate: Annotate<'a>,
    /// The tag recorded in the layout's index (`org.opencontainers.image.ref.name`).
    pub tag: Option<&'a str>,
    /// When the image is built (RFC 3339).
    pub created: &'a str,
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::WriteOutput {
        path: path.to_path_buf(),
        source,
    }
}

fn create_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => Error::OutputExists {
                path: path.to_path_buf(),
            },
            _ => Error::WriteOutput {
                path: path.to_path_buf(),
                source,
            },
        })
}

fn write_small(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = create_file(path)?;
    file.write_all(bytes).map_err(write_error(path))?;
    file.sync_all().map_err(write_error(path))
}

/// Writes the image layout of `source` into `dir`, which must not exist yet or be empty:
/// `oci-layout`, `index.json`, and `blobs/sha256/` with the layer, the config and the manifest.
pub fn write_oci_dir(
    source: LayerSource,
    dir: &Path,
    params: &ImageParams<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<WrittenImage> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::OutputExists {
                    path: dir.to_path_buf(),
                });
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(write_error(dir))?,
        Err(err) => return Err(write_error(dir)(err)),
    }
    let blobs = dir.join("blobs").join("sha256");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&blobs)
        .map_err(write_error(&blobs))?;
    let partial = blobs.join(".layer.partial");
    let mut out = create_file(&partial)?;
    let layer = source.stream(|chunk| out.write_all(chunk), progress);
    let layer = match layer.and_then(|layer| {
        out.sync_all().map_err(write_error(&partial))?;
        Ok(layer)
    }) {
        Ok(layer) => layer,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    let annotations = match (params.annotate)(&layer) {
        Ok(annotations) => annotations,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    let layer_path = blobs.join(layer.descriptor.hex());
    std::fs::rename(&partial, &layer_path).map_err(write_error(&layer_path))?;
    let documents = image::build_image(&layer, &annotations, params.created);
    write_small(&blobs.join(hex_of(&documents.config)), &documents.config)?;
    write_small(
        &blobs.join(documents.manifest_descriptor.hex()),
        &documents.manifest,
    )?;
    write_small(
        &dir.join("index.json"),
        &image::build_index(&documents, params.tag),
    )?;
    write_small(&dir.join("oci-layout"), &image::build_oci_layout())?;
    Ok(WrittenImage { layer, documents })
}

fn hex_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A ustar header for a file `name` of `size` bytes (or a directory), mode 0600 (0700): what
/// is unpacked from it is as private as the directory layout.
fn tar_header(name: &str, size: u64, dir: bool) -> std::io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name)?;
    header.set_size(size);
    header.set_mode(if dir { 0o700 } else { 0o600 });
    header.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    header.set_mtime(0);
    header.set_cksum();
    Ok(header)
}

/// Zeros up to the next 512-byte block after `size` bytes.
fn padding(size: u64) -> usize {
    ((512 - size % 512) % 512) as usize
}

/// Writes the image layout of `source` as a tar (`oci-archive:FILE`, what skopeo and podman
/// read). `file` must not exist. The layer comes first, after a header slot filled in once its
/// digest is known.
pub fn write_oci_archive(
    source: LayerSource,
    file: &Path,
    params: &ImageParams<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<WrittenImage> {
    let written = write_archive_inner(source, file, params, progress);
    if written.is_err() {
        // Ours, half written: nothing else may be left under that name.
        if !matches!(written, Err(Error::OutputExists { .. })) {
            let _ = std::fs::remove_file(file);
        }
    }
    written
}

fn write_archive_inner(
    source: LayerSource,
    file: &Path,
    params: &ImageParams<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<WrittenImage> {
    let fail = write_error(file);
    let mut out = create_file(file)?;
    for dir in ["blobs/", "blobs/sha256/"] {
        out.write_all(tar_header(dir, 0, true).map_err(&fail)?.as_bytes())
            .map_err(&fail)?;
    }
    let slot = out.stream_position().map_err(&fail)?;
    out.write_all(&[0u8; 512]).map_err(&fail)?;
    let layer = source.stream(|chunk| out.write_all(chunk), progress)?;
    out.write_all(&vec![0u8; padding(layer.descriptor.size)])
        .map_err(&fail)?;
    let end = out.stream_position().map_err(&fail)?;
    let header = tar_header(
        &format!("blobs/sha256/{}", layer.descriptor.hex()),
        layer.descriptor.size,
        false,
    )
    .map_err(&fail)?;
    out.seek(SeekFrom::Start(slot)).map_err(&fail)?;
    out.write_all(header.as_bytes()).map_err(&fail)?;
    out.seek(SeekFrom::Start(end)).map_err(&fail)?;
    let annotations = (params.annotate)(&layer)?;
    let documents = image::build_image(&layer, &annotations, params.created);
    let index = image::build_index(&documents, params.tag);
    let members: [(String, &[u8]); 4] = [
        (
            format!("blobs/sha256/{}", hex_of(&documents.config)),
            &documents.config,
        ),
        (
            format!("blobs/sha256/{}", documents.manifest_descriptor.hex()),
            &documents.manifest,
        ),
        ("index.json".to_string(), &index),
        ("oci-layout".to_string(), &image::build_oci_layout()),
    ];
    for (name, bytes) in members {
        let header = tar_header(&name, bytes.len() as u64, false).map_err(&fail)?;
        out.write_all(header.as_bytes()).map_err(&fail)?;
        out.write_all(bytes).map_err(&fail)?;
        out.write_all(&vec![0u8; padding(bytes.len() as u64)])
            .map_err(&fail)?;
    }
    // The end of a tar: two zero blocks.
    out.write_all(&[0u8; 1024]).map_err(&fail)?;
    out.sync_all().map_err(&fail)?;
    Ok(WrittenImage { layer, documents })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn archive(dir: &Path, bytes: &[u8]) -> PathBuf {
        let path = dir.join("a.tar");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_plain_layer_is_hashed_once_and_its_diff_id_is_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = vec![7u8; CHUNK_BYTES + 1000];
        let source = LayerSource::open(&archive(dir.path(), &bytes)).unwrap();
        let mut copy = Vec::new();
        let layer = source
            .stream(
                |c| {
                    copy.extend_from_slice(c);
                    Ok(())
                },
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(copy, bytes);
        assert_eq!(layer.descriptor.digest, image::sha256_digest(&bytes));
        assert_eq!(layer.diff_id, layer.descriptor.digest);
    }

    #[test]
    fn a_compressed_layer_gets_the_diff_id_of_its_tar() {
        let dir = tempfile::tempdir().unwrap();
        let tar = vec![1u8; 5000];
        let gz = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&tar).unwrap();
            enc.finish().unwrap()
        };
        let zst = zstd::encode_all(&tar[..], 1).unwrap();
        for (bytes, compression) in [(gz, LayerCompression::Gzip), (zst, LayerCompression::Zstd)] {
            let source = LayerSource::open(&archive(dir.path(), &bytes)).unwrap();
            assert_eq!(source.compression, compression);
            let layer = source.stream(|_| Ok(()), &mut |_| {}).unwrap();
            assert_eq!(layer.descriptor.digest, image::sha256_digest(&bytes));
            assert_eq!(layer.diff_id, image::sha256_digest(&tar));
        }
    }

    #[test]
    fn an_archive_output_is_a_tar_of_the_directory_output() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = vec![3u8; 1500];
        let path = archive(dir.path(), &bytes);
        let params = ImageParams {
            annotate: &|_| Ok(BTreeMap::new()),
            tag: Some("v1"),
            created: "2026-12-07T00:00:00Z",
        };
        let out_dir = dir.path().join("layout");
        let a = write_oci_dir(
            LayerSource::open(&path).unwrap(),
            &out_dir,
            &params,
            &mut |_| {},
        )
        .unwrap();
        let file = dir.path().join("layout.tar");
        let b = write_oci_archive(
            LayerSource::open(&path).unwrap(),
            &file,
            &params,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(a.documents, b.documents);
        let mut members = BTreeMap::new();
        let mut tar = tar::Archive::new(File::open(&file).unwrap());
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            members.insert(name, data);
        }
        for (name, data) in &members {
            if name.ends_with('/') {
                continue;
            }
            assert_eq!(&std::fs::read(out_dir.join(name)).unwrap(), data, "{name}");
        }
        assert_eq!(members.len(), 2 + 3 + 2);
        assert!(matches!(
            write_oci_archive(
                LayerSource::open(&path).unwrap(),
                &file,
                &params,
                &mut |_| {}
            ),
            Err(Error::OutputExists { .. })
        ));
        assert!(file.exists(), "an existing output is left alone");
    }
}

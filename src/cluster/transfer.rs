//! Copying an archive off a node: `NODE:PATH` parsing, and a resumable, verified stream through
//! a helper pod's exec.
//!
//! The archive's size and sha256 come from `stat` and `sha256sum` in the helper (the hash runs
//! while the bytes stream); the bytes come from `cat`, or `tail -c +N` to resume after a broken
//! stream. A blocking writer thread appends them to `DEST.part` (created 0600, never following a
//! symlink) and hashes them; only a file whose size and sha256 match is renamed to DEST (with
//! [`Verify::Size`], the size, and the sha256 only after a resumed stream). On
//! failure or cancellation the `.part` file is removed. Memory stays flat: at most a few 256 KiB
//! chunks are in flight.

use std::future::Future;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use bytes::BytesMut;
use kube::Client;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::helper::{check_status, drain_bounded, exec_status, read_exec, with_helper};
use super::{from_kube, Call, Error, Helper, HelperParams, Result, CHECKPOINT_DIR};

/// Bytes read from the exec stream at a time.
const CHUNK: usize = 256 << 10;
/// Chunks queued for the writer thread.
const QUEUE: usize = 4;

/// An archive on a node, from `NODE:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePath {
    /// The node's name.
    pub node: String,
    /// The absolute path on the node, directly inside the kubelet's checkpoint directory.
    pub path: String,
}

impl NodePath {
    /// The archive's file name (a single normal path component).
    pub fn basename(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Parses `NODE:PATH`. PATH must name a file directly inside `/var/lib/kubelet/checkpoints`
/// (the only directory a helper mounts); a bare file name is taken as relative to it.
pub fn parse_node_path(input: &str) -> Result<NodePath> {
    let bad = |reason: &str| Error::NodePath {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let (node, path) = input.split_once(':').ok_or_else(|| {
        bad("expected NODE:PATH, e.g. node-a:/var/lib/kubelet/checkpoints/checkpoint-....tar")
    })?;
    if node.is_empty() || node.contains('/') {
        return Err(bad("the part before the first ':' must be a node name"));
    }
    let name = match path.strip_prefix(CHECKPOINT_DIR) {
        Some(rest) => rest
            .strip_prefix('/')
            .ok_or_else(|| bad("PATH must be a file inside /var/lib/kubelet/checkpoints"))?,
        None if !path.starts_with('/') => path,
        None => {
            return Err(bad(
                "PATH must be a file inside /var/lib/kubelet/checkpoints",
            ))
        }
    };
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) if !name.contains('\0') && !name.ends_with('/') => {}
        _ => {
            return Err(bad(
                "PATH must name one file directly inside /var/lib/kubelet/checkpoints (no '..', no subdirectories)",
            ))
        }
    }
    Ok(NodePath {
        node: node.to_string(),
        path: format!("{CHECKPOINT_DIR}/{name}"),
    })
}

/// Where to write: DEST, or DEST/basename when DEST is a directory, or ./basename.
pub fn build_dest(source: &NodePath, dest: Option<&Path>, dest_is_dir: bool) -> PathBuf {
    match dest {
        Some(dir) if dest_is_dir => dir.join(source.basename()),
        Some(file) => file.to_path_buf(),
        None => PathBuf::from(source.basename()),
    }
}

/// How a fetched copy is checked against the archive on the node. The copy's own sha256 is
/// always computed and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// The node hashes the archive (`sha256sum`, while it streams) and the hashes must match:
    /// an end-to-end check for chain of custody.
    Sha256,
    /// Only the sizes must match; the node hashes the archive only when a broken stream was
    /// resumed, to check the pieces fit. Spares the node's CPU, as `kubectl cp` does.
    Size,
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchParams {
    /// How often a broken stream is resumed before giving up.
    pub retries: u32,
    /// How the copy is checked.
    pub verify: Verify,
    /// The helper pod to stream through.
    pub helper: HelperParams,
}

/// Progress of one transfer; the CLI draws a bar, tests and `-o json` ignore it.
pub trait Progress: Send + Sync {
    /// The transfer of `total` bytes starts.
    fn start(&self, total: u64);
    /// `done` bytes have arrived.
    fn position(&self, done: u64);
    /// The stream broke at `offset` and is resumed (attempt `attempt`).
    fn resumed(&self, attempt: u32, offset: u64, reason: &str);
    /// All bytes arrived; the node's sha256 is awaited.
    fn verifying(&self);
    /// The transfer ended (either way).
    fn finish(&self);
}

/// What one fetch did; the JSON/YAML record of `fetch -o json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchRecord {
    /// The node.
    pub node: String,
    /// The archive's path on the node.
    pub path: String,
    /// The local file written.
    pub dest: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256, hex.
    pub sha256: String,
    /// How it was checked against the node's archive (`sha256` also with `--verify size` when a
    /// stream was resumed).
    pub verified: Verify,
    /// How often a broken stream was resumed.
    pub resumes: u32,
    /// Seconds the fetch took, helper start included.
    pub duration_seconds: f64,
}

/// Copies `source` to `dest` through a helper pod on its node (removed afterwards unless kept,
/// see [`with_helper`]). Stops early, cleaning up, when `cancel` completes.
pub async fn collect_archive(
    client: &Client,
    source: &NodePath,
    dest: &Path,
    params: &FetchParams,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<FetchRecord> {
    let started = Instant::now();
    let outcome = with_helper(
        client,
        &source.node,
        &params.helper,
        cancel,
        async |helper| transfer(helper, source, dest, params, progress).await,
    )
    .await;
    progress.finish();
    let Transferred {
        size,
        sha256,
        resumes,
        verified,
    } = outcome?;
    Ok(FetchRecord {
        node: source.node.clone(),
        path: source.path.clone(),
        dest: dest.to_path_buf(),
        size,
        sha256,
        verified,
        resumes,
        duration_seconds: started.elapsed().as_secs_f64(),
    })
}

/// `DEST.part`: removed on drop unless renamed to DEST by [`PartFile::commit`].
struct PartFile {
    part: PathBuf,
    committed: bool,
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.committed {
            // A small unlink; safe to do on any thread, even the runtime's.
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

fn open_part(part: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // A leftover of an earlier run is replaced, never followed if it is a symlink.
    match std::fs::remove_file(part) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(part)
}

/// The writer thread: appends chunks, hashes them, returns (bytes, sha256 hex).
fn write_chunks(
    mut file: std::fs::File,
    mut chunks: mpsc::Receiver<BytesMut>,
) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    while let Some(chunk) = chunks.blocking_recv() {
        file.write_all(&chunk)?;
        hasher.update(&chunk);
        written += chunk.len() as u64;
    }
    file.flush()?;
    Ok((written, hex::encode(hasher.finalize())))
}

/// What [`transfer`] did.
struct Transferred {
    size: u64,
    sha256: String,
    resumes: u32,
    verified: Verify,
}

async fn transfer(
    helper: &Helper,
    source: &NodePath,
    dest: &Path,
    params: &FetchParams,
    progress: &dyn Progress,
) -> Result<Transferred> {
    let retries = params.retries;
    let fail = |reason: String| Error::Transfer {
        node: source.node.clone(),
        path: source.path.clone(),
        reason,
    };
    let stat = helper
        .run(
            "reading the archive's size",
            &["stat".into(), "-c".into(), "%s".into(), source.path.clone()],
        )
        .await?;
    let size: u64 = String::from_utf8_lossy(&stat.stdout)
        .trim()
        .parse()
        .map_err(|_| fail("`stat -c %s` printed no size".into()))?;

    let part = PartFile {
        part: part_path(dest),
        committed: false,
    };
    let part_name = part.part.clone();
    let file = tokio::task::spawn_blocking(move || open_part(&part_name))
        .await
        .map_err(|err| fail(format!("writer task: {err}")))?
        .map_err(|source| Error::Write {
            path: part.part.clone(),
            source,
        })?;
    let (tx, rx) = mpsc::channel::<BytesMut>(QUEUE);
    let writer = tokio::task::spawn_blocking(move || write_chunks(file, rx));

    progress.start(size);
    let hash_command = ["sha256sum".to_string(), source.path.clone()];
    let remote_hash = async {
        match params.verify {
            Verify::Sha256 => Some(helper.run("hashing the archive", &hash_command).await),
            Verify::Size => None,
        }
    };
    let stream = async {
        let mut received = 0u64;
        let mut resumes = 0u32;
        loop {
            let ended = stream_once(helper, &source.path, &mut received, size, &tx, progress).await;
            if received > size {
                return Err(fail(format!(
                    "the archive grew while it was copied ({received} bytes, {size} expected)"
                )));
            }
            match ended {
                Ok(()) if received == size => return Ok(resumes),
                Err(StreamEnd::Fatal(err)) => return Err(err),
                Ok(()) => {
                    return Err(fail(format!(
                        "the archive shrank while it was copied ({received} of {size} bytes)"
                    )))
                }
                Err(StreamEnd::Broken(reason)) => {
                    if resumes >= retries {
                        return Err(fail(format!(
                            "the stream broke at byte {received} of {size} and {retries} resumes did not finish it: {reason}"
                        )));
                    }
                    resumes += 1;
                    progress.resumed(resumes, received, &reason);
                }
            }
        }
    };
    let stream = async {
        let streamed = stream.await;
        if streamed.is_ok() && params.verify == Verify::Sha256 {
            progress.verifying();
        }
        streamed
    };
    let (streamed, hashed) = tokio::join!(stream, remote_hash);
    drop(tx);
    let written = writer
        .await
        .map_err(|err| fail(format!("writer task: {err}")))?
        .map_err(|source| Error::Write {
            path: part.part.clone(),
            source,
        });
    let resumes = streamed?;
    let (written, local_hash) = written?;
    if written != size {
        return Err(fail(format!("wrote {written} bytes, expected {size}")));
    }
    let hashed = match hashed {
        Some(hashed) => Some(hashed?),
        // Pieces were joined at byte offsets: check the whole against the node after all.
        None if resumes > 0 => {
            progress.verifying();
            Some(
                helper
                    .run("hashing the resumed archive", &hash_command)
                    .await?,
            )
        }
        None => None,
    };
    let verified = match hashed {
        Some(hashed) => {
            let remote_hash = String::from_utf8_lossy(&hashed.stdout)
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if remote_hash != local_hash {
                return Err(fail(format!(
                    "sha256 mismatch: node has {remote_hash}, received {local_hash}"
                )));
            }
            Verify::Sha256
        }
        None => Verify::Size,
    };
    let mut part = part;
    let (from, to) = (part.part.clone(), dest.to_path_buf());
    tokio::task::spawn_blocking(move || std::fs::rename(&from, &to))
        .await
        .map_err(|err| fail(format!("rename task: {err}")))?
        .map_err(|source| Error::Write {
            path: dest.to_path_buf(),
            source,
        })?;
    part.committed = true;
    Ok(Transferred {
        size,
        sha256: local_hash,
        resumes,
        verified,
    })
}

enum StreamEnd {
    /// The stream ended early; resuming may help.
    Broken(String),
    /// Resuming cannot help (the local file cannot be written, exec is refused).
    Fatal(Error),
}

/// Streams the archive from byte `received` on; returns `Ok` when the command exited cleanly.
async fn stream_once(
    helper: &Helper,
    path: &str,
    received: &mut u64,
    size: u64,
    tx: &mpsc::Sender<BytesMut>,
    progress: &dyn Progress,
) -> std::result::Result<(), StreamEnd> {
    let command: Vec<String> = if *received == 0 {
        vec!["cat".into(), path.into()]
    } else {
        vec![
            "tail".into(),
            "-c".into(),
            format!("+{}", *received + 1),
            path.into(),
        ]
    };
    let what = format!(
        "streaming {path} from helper pod {}/{}",
        helper.namespace, helper.name
    );
    let mut process = match helper
        .pods
        .exec(&helper.name, command, &Helper::attach_params())
        .await
    {
        Ok(process) => process,
        // The API server refusing exec is final; a dropped connection is worth a retry.
        Err(kube::Error::Api(status)) => {
            return Err(StreamEnd::Fatal(from_kube(
                what,
                Call::Helper,
                kube::Error::Api(status),
            )))
        }
        Err(err) => return Err(StreamEnd::Broken(err.to_string())),
    };
    let status = exec_status(&mut process);
    let (Some(mut stdout), Some(stderr)) = (process.stdout(), process.stderr()) else {
        return Err(StreamEnd::Broken("exec gave no output streams".into()));
    };
    let read_stdout = async {
        let mut eof = false;
        while !eof {
            let mut chunk = BytesMut::with_capacity(CHUNK);
            while chunk.len() < CHUNK {
                match read_exec(&mut stdout, &mut chunk, &status).await {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(err) => {
                        eof = true;
                        if chunk.is_empty() {
                            return Err(StreamEnd::Broken(err.to_string()));
                        }
                        break;
                    }
                }
            }
            if chunk.is_empty() {
                break;
            }
            *received += chunk.len() as u64;
            if tx.send(chunk).await.is_err() {
                return Err(StreamEnd::Fatal(Error::Transfer {
                    node: helper.node.clone(),
                    path: path.to_string(),
                    reason: "the local writer stopped".into(),
                }));
            }
            progress.position((*received).min(size));
        }
        Ok(())
    };
    let (out, errors) = tokio::join!(read_stdout, drain_bounded(stderr, 64 << 10, &status));
    out?;
    let errors = errors.map(|(kept, _)| kept).unwrap_or_default();
    let status = status.await;
    match check_status(status.as_ref(), &errors) {
        Ok(()) => Ok(()),
        Err(message) => Err(StreamEnd::Broken(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_node_paths() {
        let ok = [
            (
                "node-a:/var/lib/kubelet/checkpoints/checkpoint-p_ns-c-2023-08-24T11:24:18Z.tar",
                "node-a",
                "/var/lib/kubelet/checkpoints/checkpoint-p_ns-c-2023-08-24T11:24:18Z.tar",
            ),
            ("n:a.tar", "n", "/var/lib/kubelet/checkpoints/a.tar"),
        ];
        for (input, node, path) in ok {
            let got = parse_node_path(input).unwrap();
            assert_eq!((got.node.as_str(), got.path.as_str()), (node, path));
        }
        let bad = [
            "no-colon",
            ":/var/lib/kubelet/checkpoints/a.tar",
            "n:/etc/shadow",
            "n:/var/lib/kubelet/checkpoints/../../../etc/shadow",
            "n:/var/lib/kubelet/checkpoints/sub/a.tar",
            "n:../a.tar",
            "n:..",
            "n:/var/lib/kubelet/checkpoints/",
            "n:/var/lib/kubelet/checkpointsX/a.tar",
            "a/b:/var/lib/kubelet/checkpoints/a.tar",
        ];
        for input in bad {
            assert!(parse_node_path(input).is_err(), "{input}");
        }
    }

    #[test]
    fn dest_stays_in_the_directory() {
        let source = parse_node_path("n:/var/lib/kubelet/checkpoints/a.tar").unwrap();
        assert_eq!(build_dest(&source, None, false), PathBuf::from("a.tar"));
        assert_eq!(
            build_dest(&source, Some(Path::new("out")), true),
            PathBuf::from("out/a.tar")
        );
        assert_eq!(
            build_dest(&source, Some(Path::new("x.tar")), false),
            PathBuf::from("x.tar")
        );
        assert_eq!(
            part_path(Path::new("d/x.tar")),
            PathBuf::from("d/x.tar.part")
        );
    }

    #[test]
    fn part_file_is_private_and_replaces_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, b"keep").unwrap();
        let part = dir.path().join("a.tar.part");
        std::os::unix::fs::symlink(&target, &part).unwrap();
        let mut file = open_part(&part).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        let mode = std::fs::metadata(&part).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

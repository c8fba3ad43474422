//! Copying an archive off a node: `NODE:PATH` parsing, and a resumable, verified stream through
//! a helper pod's exec, with a chain-of-custody manifest beside the copy.
//!
//! The helper prints the archive's size and mtime (`stat`) on stderr, then streams the file with
//! `cat`; with [`Verify::Sha256`] a second exec runs `sha256sum` on the node at the same time, so
//! the verification overlaps the transfer (both read the file, the second mostly from the page
//! cache). A broken stream is resumed with `tail -c +N` (after a backoff, within the retries),
//! its size and mtime checked again so that pieces of different files are never joined; a copy
//! completed from an earlier run's partial file is checked against a node hash made at the end.
//! With [`Verify::Size`] the node does not hash unless a stream was resumed.
//!
//! Locally, a blocking writer thread appends the bytes to `DEST.part` and hashes them (see
//! `partial`); only a copy whose size and sha256 match is moved to DEST, and never over an
//! existing file unless asked. A failed or interrupted transfer keeps `DEST.part` for the next
//! run to resume. Every finished copy gets `DEST.custody.json` (see [`checkpoint_model::archive::custody`]).
//! Memory stays flat: at most a few 256 KiB chunks are in flight. A writer that fails (a full
//! disk) stops the stream, and the node's hash with it, and its I/O error is the error.

use std::future::Future;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use bytes::BytesMut;
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::clock::rfc3339;
use super::connect::{collect_identity, Identity, USER_AGENT};
use super::exec::{check_status, exec_status, read_exec, MAX_ERRORS};
use super::helper::with_helpers;
use super::partial::{find_partial, open_part, write_private, Part, PartialState};
use super::retry::Backoff;
use super::{
    CheckpointRecord, Connection, Error, Helper, HelperParams, Progress, Result, CHECKPOINT_DIR,
};
use checkpoint_model::archive::custody::{
    custody_path, CustodyArchive, CustodyCheckpoint, CustodyHelper, CustodyNodeDeletion,
    CustodyRecord, CustodySource, CustodyUser, CUSTODY_FORMAT,
};

/// Bytes read from the exec stream at a time.
const CHUNK: usize = 256 << 10;
/// Chunks queued for the writer thread.
const QUEUE: usize = 4;
/// Bytes written between two requests to flush the archive to disk.
const FLUSH_STEP: u64 = 32 << 20;

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

/// The helper command that streams `path` from byte `offset` on, printing the file's size and
/// mtime on stderr first (so that a resumed stream can tell the file did not change).
pub fn build_stream_command(path: &str, offset: u64) -> Vec<String> {
    const STAT: &str = "stat -c '%s %Y' \"$1\" >&2 || exit 1";
    let script = if offset == 0 {
        format!("{STAT}; exec cat \"$1\"")
    } else {
        format!("{STAT}; exec tail -c \"+$2\" \"$1\"")
    };
    let mut command = vec![
        "sh".to_string(),
        "-c".to_string(),
        script,
        "kubectl-checkpoint".to_string(),
        path.to_string(),
    ];
    if offset > 0 {
        command.push((offset + 1).to_string());
    }
    command
}

/// How a fetched copy is checked against the archive on the node. The copy's own sha256 is
/// always computed and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// The node hashes the archive (`sha256sum`, in the same pass that streams it) and the
    /// hashes must match: an end-to-end check for chain of custody.
    Sha256,
    /// Only the sizes must match; the node hashes the archive only when a broken stream was
    /// resumed, to check the pieces fit. Spares the node's CPU, as `kubectl cp` does.
    Size,
}

impl Verify {
    fn as_str(self) -> &'static str {
        match self {
            Verify::Sha256 => "sha256",
            Verify::Size => "size",
        }
    }
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchParams {
    /// How the copy is checked.
    pub verify: Verify,
    /// Replace an existing DEST (and its custody manifest).
    pub overwrite: bool,
    /// The helper pod to stream through (its `retries` bound the resumes too).
    pub helper: HelperParams,
}

/// Where the time of one fetch went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FetchTiming {
    /// Until the helper pod ran (0 when it was already running, e.g. started during the
    /// checkpoint).
    pub helper_start_seconds: f64,
    /// From the first exec until the last byte was written here.
    pub stream_seconds: f64,
    /// From the last byte until the node's sha256 was known and compared.
    pub verify_seconds: f64,
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
    /// Bytes taken over from the partial copy of an earlier run.
    #[serde(default)]
    pub resumed_from_partial: u64,
    /// The chain-of-custody manifest written beside it.
    pub custody: PathBuf,
    /// Seconds the fetch took, helper start included.
    pub duration_seconds: f64,
    /// Where the time went.
    #[serde(default)]
    pub timing: FetchTiming,
}

/// Fails unless a file can be made in `dir`: it exists, is a directory, and takes a new file
/// (made and removed at once). With `create`, a missing `dir` is made first when its parent
/// exists (as `mkdir`, never `mkdir -p`: a mistyped path is an error, not a new tree).
pub fn check_dest_dir(dir: &Path, create: bool) -> Result<()> {
    let shown = dir.to_path_buf();
    let bad = |reason: String| Error::Exists {
        path: shown.clone(),
        reason,
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(bad("is not a directory".into())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && create => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(|err| match err.kind() {
                    std::io::ErrorKind::NotFound => {
                        let parent = dir.parent().unwrap_or(Path::new("/"));
                        bad(format!(
                            "cannot be made: its parent directory {} does not exist",
                            parent.display()
                        ))
                    }
                    _ => bad(format!("cannot be made: {err}")),
                })?;
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad("does not exist (no such directory)".into()))
        }
        Err(err) => return Err(bad(format!("cannot be read: {err}"))),
    }
    tempfile::Builder::new()
        .prefix(".kubectl-checkpoint-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|err| bad(format!("takes no new file here ({err})")))
}

/// Fails when DEST exists and may not be replaced, or when its directory cannot take it
/// (before any helper starts).
pub async fn check_dest(dest: &Path, overwrite: bool) -> Result<()> {
    let path = dest.to_path_buf();
    let meta = tokio::task::spawn_blocking(move || std::fs::symlink_metadata(&path))
        .await
        .ok()
        .and_then(|m| m.ok());
    if meta.is_none() {
        let dir = dest.parent().unwrap_or(Path::new(".")).to_path_buf();
        tokio::task::spawn_blocking(move || check_dest_dir(&dir, false))
            .await
            .map_err(|err| Error::Exists {
                path: dest.to_path_buf(),
                reason: format!("cannot be checked: {err}"),
            })??;
    }
    match meta {
        Some(meta) if meta.is_dir() => Err(Error::Exists {
            path: dest.to_path_buf(),
            reason: "is a directory".into(),
        }),
        Some(_) if !overwrite => Err(Error::Exists {
            path: dest.to_path_buf(),
            reason: "exists; evidence is never replaced silently: pass --overwrite to replace it, or choose another DEST".into(),
        }),
        _ => Ok(()),
    }
}

/// Copies `source` to `dest` through a helper pod on its node (removed afterwards unless kept,
/// see [`with_helpers`]). Stops early, cleaning up, when `cancel` completes.
pub async fn collect_archive(
    conn: &Connection,
    source: &NodePath,
    dest: &Path,
    params: &FetchParams,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<FetchRecord> {
    check_dest(dest, params.overwrite).await?;
    let started = Started::now();
    let outcome = with_helpers(conn, &params.helper, progress, cancel, async |scope| {
        let (helper, identity) = tokio::join!(
            scope.start(&source.node, false),
            collect_identity(&conn.client)
        );
        let helper = helper?;
        let helper_start = started.instant.elapsed().as_secs_f64();
        transfer(
            conn,
            &helper,
            source,
            dest,
            params,
            progress,
            Context {
                started: &started,
                helper_start,
                identity,
                checkpoint: None,
            },
        )
        .await
    })
    .await;
    progress.finish();
    outcome
}

/// When a fetch started, by the clock and for durations.
pub(crate) struct Started {
    /// The wall clock.
    pub at: Timestamp,
    /// For durations.
    pub instant: Instant,
}

impl Started {
    /// Now.
    pub fn now() -> Started {
        Started {
            at: Timestamp::now(),
            instant: Instant::now(),
        }
    }
}

/// What a transfer records besides its own doings.
pub(crate) struct Context<'a> {
    pub started: &'a Started,
    pub helper_start: f64,
    pub identity: std::result::Result<Identity, String>,
    pub checkpoint: Option<(&'a CheckpointRecord, Timestamp)>,
}

/// The node's size and mtime of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NodeStat {
    size: u64,
    modified: i64,
}

fn decode_stat(line: &str) -> Option<NodeStat> {
    let mut fields = line.split_whitespace();
    let size = fields.next()?.parse().ok()?;
    let modified = fields.next()?.parse().ok()?;
    fields
        .next()
        .is_none()
        .then_some(NodeStat { size, modified })
}

fn decode_hash(line: &str) -> Option<String> {
    let hash = line.split_whitespace().next()?.to_ascii_lowercase();
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

/// The writer thread: appends chunks, hashes them, returns (bytes, sha256 hex) once the file
/// is on disk.
fn write_chunks(
    mut file: std::fs::File,
    mut hasher: Sha256,
    mut written: u64,
    mut chunks: mpsc::Receiver<BytesMut>,
) -> std::io::Result<(u64, String)> {
    let flusher = Flusher::start(&file)?;
    let mut unflushed = 0u64;
    while let Some(chunk) = chunks.blocking_recv() {
        file.write_all(&chunk)?;
        hasher.update(&chunk);
        let len = chunk.len() as u64;
        written += len;
        unflushed += len;
        if unflushed >= FLUSH_STEP {
            flusher.request();
            unflushed = 0;
        }
    }
    flusher.finish()?;
    file.sync_all()?;
    Ok((written, hex::encode(hasher.finalize())))
}

/// Writes a file being received to disk on a thread of its own, while the transfer goes on, so
/// that the final `fsync` finds little left to write (on its own it took 0.4 s for 500 MiB).
struct Flusher {
    requests: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Flusher {
    fn start(file: &std::fs::File) -> std::io::Result<Flusher> {
        let file = file.try_clone()?;
        let (requests, received) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("flush".into())
            .spawn(move || {
                while received.recv().is_ok() {
                    file.sync_data()?;
                }
                Ok(())
            })?;
        Ok(Flusher { requests, thread })
    }

    /// Asks for a flush of everything written so far; a flush already asked for and not yet
    /// started covers this one too.
    fn request(&self) {
        // Full: a flush is pending. Disconnected: a flush failed, and `finish` reports it.
        let _ = self.requests.try_send(());
    }

    /// Waits for the flushes asked for; the first error of any.
    fn finish(self) -> std::io::Result<()> {
        drop(self.requests);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the flush thread stopped")))
    }
}

/// Copies `source` through the running `helper` (see the module docs). Public within the crate
/// for the checkpoint-and-fetch path, which starts the helper while the kubelet dumps.
pub(crate) async fn transfer(
    conn: &Connection,
    helper: &Helper,
    source: &NodePath,
    dest: &Path,
    params: &FetchParams,
    progress: &dyn Progress,
    context: Context<'_>,
) -> Result<FetchRecord> {
    let retries = params.helper.retries;
    let fail = |reason: String| Error::Transfer {
        node: source.node.clone(),
        path: source.path.clone(),
        reason,
    };
    let blocking = |err: tokio::task::JoinError| fail(format!("local file task: {err}"));

    // A partial copy of an earlier run, if the node's file is unchanged since.
    let (d, server, node, path) = (
        dest.to_path_buf(),
        conn.server.clone(),
        source.node.clone(),
        source.path.clone(),
    );
    let found = tokio::task::spawn_blocking(move || find_partial(&d, &server, &node, &path))
        .await
        .map_err(blocking)?;
    let mut node_stat: Option<NodeStat> = None;
    let mut keep = None;
    let mut earlier_attempts = Vec::new();
    if let Some((state, have)) = found {
        let stat = helper
            .run(
                "reading the archive's size",
                &[
                    "stat".into(),
                    "-c".into(),
                    "%s %Y".into(),
                    source.path.clone(),
                ],
                progress,
            )
            .await?;
        let now = decode_stat(String::from_utf8_lossy(&stat.stdout).trim());
        let was = NodeStat {
            size: state.node_size,
            modified: state.node_modified,
        };
        if now == Some(was) && have > 0 && have <= was.size {
            node_stat = Some(was);
            keep = Some(have);
            earlier_attempts = state.attempts.clone();
            progress.resumed(source.basename(), have, was.size);
        } else {
            progress.warning(&format!(
                "the partial copy {} does not fit the node's archive any more (it changed): starting over",
                super::partial::part_path(dest).display()
            ));
        }
    }
    let part = Part::new(dest);
    part.set_earlier_attempts(earlier_attempts);
    let helper_name = format!("{}/{}", helper.namespace, helper.name);
    let part_name = part.path();
    let (file, hasher, offset) = tokio::task::spawn_blocking(move || open_part(&part_name, keep))
        .await
        .map_err(blocking)?
        .map_err(|source| Error::Write {
            path: part.path(),
            source,
        })?;
    let keep_state = |stat: NodeStat| PartialState {
        server: conn.server.clone(),
        node: source.node.clone(),
        path: source.path.clone(),
        node_size: stat.size,
        node_modified: stat.modified,
        attempts: Vec::new(),
    };
    if let Some(stat) = node_stat {
        part.keep_for(Some(keep_state(stat)));
        progress.start(source.basename(), stat.size, offset);
    }
    let on_stat = |stat: NodeStat| {
        if !part.keeps() {
            part.keep_for(Some(keep_state(stat)));
        }
    };
    let (tx, rx) = mpsc::channel::<BytesMut>(QUEUE);
    let mut writer = Some(tokio::task::spawn_blocking(move || {
        write_chunks(file, hasher, offset, rx)
    }));

    // Stream, resuming broken streams; the node hashes the whole archive at the same time.
    let stream_started = Instant::now();
    let mut received = offset;
    let mut resumes = 0u32;
    let mut backoff = Backoff::default();
    let mut tx = Some(tx);
    let hash_command = ["sha256sum".to_string(), source.path.clone()];
    let hash_alongside = params.verify == Verify::Sha256 && offset == 0;
    // Best effort: a hash cut short (a killed process, a restarting kubelet) is made again
    // after the stream.
    let node_hashing = async {
        if !hash_alongside {
            return Ok(None);
        }
        let out = helper
            .run("hashing the archive", &hash_command, progress)
            .await
            .ok();
        Ok::<_, Error>(out.and_then(|out| decode_hash(&String::from_utf8_lossy(&out.stdout))))
    };
    let streaming = async {
        while let Some(sender) = tx.as_ref() {
            let from = received;
            part.begin_attempt(from, helper_name.clone(), helper.uid.clone());
            let ended = stream_once(
                helper,
                source,
                &mut received,
                sender,
                progress,
                &mut node_stat,
                &on_stat,
            )
            .await;
            let size = node_stat.map_or(0, |s| s.size);
            if received > size && node_stat.is_some() {
                part.keep_for(None);
                return Err(fail(format!(
                    "the archive grew while it was copied ({received} bytes, {size} expected)"
                )));
            }
            // A clean end before the last byte (a reader killed on the node): the size and
            // mtime are checked again on the next try, so resuming cannot join different files.
            let ended = match ended {
                Ok(()) if received < size => Err(StreamEnd::Broken(format!(
                    "the stream ended early, at byte {received} of {size}"
                ))),
                other => other,
            };
            part.end_attempt(
                received,
                match &ended {
                    Ok(()) => "completed".to_string(),
                    Err(StreamEnd::Broken(reason)) => {
                        format!("the stream broke at byte {received}: {reason}")
                    }
                    Err(StreamEnd::Fatal(err)) => format!("failed: {err}"),
                    Err(StreamEnd::WriterStopped) => "the local writer stopped".to_string(),
                },
            );
            match ended {
                Ok(()) => return Ok(()),
                Err(StreamEnd::Fatal(err)) => return Err(err),
                Err(StreamEnd::WriterStopped) => {
                    drop(tx.take());
                    return Err(writer_error(writer.take(), &part, fail).await);
                }
                Err(StreamEnd::Broken(reason)) => {
                    if resumes >= retries {
                        return Err(fail(format!(
                            "the stream broke at byte {received} of {size} and {retries} resumes did not finish it: {reason}; the partial copy stays in {}: run the same command again to resume",
                            part.path().display()
                        )));
                    }
                    resumes += 1;
                    if received > from {
                        backoff.reset();
                    }
                    let delay = backoff.next_delay();
                    progress.retrying(
                        &format!("streaming {}", source.basename()),
                        resumes,
                        retries,
                        delay,
                        &format!(
                            "the stream broke at byte {received} of {size}: {reason}; resuming there"
                        ),
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
        Err(fail("the local writer is gone".into()))
    };
    let streaming = async {
        let streamed = streaming.await;
        if streamed.is_ok() && hash_alongside {
            progress.waiting("the node's sha256");
        }
        streamed
    };
    // A failed stream (a full disk here) drops the node's hash at once, and the other way round.
    let ((), node_hash) = tokio::try_join!(streaming, node_hashing)?;
    drop(tx);
    let (written, local_hash) = match writer.take() {
        Some(task) => task
            .await
            .map_err(blocking)?
            .map_err(|source| Error::Write {
                path: part.path(),
                source,
            })?,
        None => return Err(fail("the local writer is gone".into())),
    };
    let stream_seconds = stream_started.elapsed().as_secs_f64();
    let Some(stat) = node_stat else {
        return Err(fail("the helper never said the archive's size".into()));
    };
    if written != stat.size {
        return Err(fail(format!(
            "wrote {written} bytes, expected {}",
            stat.size
        )));
    }

    // The node's hash: from the streaming pass, or of the whole file when pieces were joined.
    let verify_started = Instant::now();
    let node_hash = match node_hash {
        Some(hash) => Some(hash),
        None if params.verify == Verify::Sha256 || resumes > 0 || offset > 0 => {
            progress.waiting("the node's sha256 of the whole archive");
            let out = helper
                .run(
                    "hashing the archive",
                    &["sha256sum".into(), source.path.clone()],
                    progress,
                )
                .await?;
            Some(
                decode_hash(&String::from_utf8_lossy(&out.stdout))
                    .ok_or_else(|| fail("sha256sum printed no hash".into()))?,
            )
        }
        None => None,
    };
    if let Some(node_hash) = &node_hash {
        if *node_hash != local_hash {
            part.keep_for(None);
            return Err(fail(format!(
                "sha256 mismatch: the node has {node_hash}, the copy here {local_hash}; nothing was kept"
            )));
        }
    }
    let verified = if node_hash.is_some() {
        Verify::Sha256
    } else {
        Verify::Size
    };
    let verify_seconds = verify_started.elapsed().as_secs_f64();

    // Move it in place, then write its custody manifest.
    let attempts = part.attempts();
    let overwrite = params.overwrite;
    let part = tokio::task::spawn_blocking(move || {
        let mut part = part;
        part.commit(overwrite).map(|()| part)
    })
    .await
    .map_err(blocking)?
    .map_err(|source| Error::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    part.keep_for(None);
    let finished = Timestamp::now();
    let (fetched_by, fetched_by_unknown) = match context.identity {
        Ok(identity) => (
            Some(CustodyUser {
                username: identity.username,
                groups: identity.groups,
            }),
            None,
        ),
        Err(reason) => (None, Some(reason)),
    };
    let record = CustodyRecord {
        format: CUSTODY_FORMAT.into(),
        tool: USER_AGENT.into(),
        archive: CustodyArchive {
            file: dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: written,
            sha256: local_hash.clone(),
        },
        source: CustodySource {
            server: conn.server.clone(),
            node: source.node.clone(),
            path: source.path.clone(),
            size: stat.size,
            modified: Timestamp::from_second(stat.modified)
                .map(rfc3339)
                .unwrap_or_else(|_| stat.modified.to_string()),
            sha256: node_hash,
        },
        verified: verified.as_str().into(),
        checkpoint: context.checkpoint.map(|(c, requested)| CustodyCheckpoint {
            namespace: c.namespace.clone(),
            pod: c.pod.clone(),
            container: c.container.clone(),
            requested: rfc3339(requested),
        }),
        helper: CustodyHelper {
            namespace: helper.namespace.clone(),
            name: helper.name.clone(),
            uid: helper.uid.clone(),
            image: helper.image.clone(),
            image_id: helper.image_id.clone(),
            created_by_this_run: helper.created,
        },
        fetched_by,
        fetched_by_unknown,
        started: rfc3339(context.started.at),
        finished: rfc3339(finished),
        resumes,
        resumed_from_partial: offset,
        attempts,
        deleted_from_node: None,
    };
    let manifest = custody_path(dest);
    let text = serde_json::to_vec_pretty(&record).map_err(|err| fail(err.to_string()))?;
    let target = manifest.clone();
    tokio::task::spawn_blocking(move || write_private(&target, &text))
        .await
        .map_err(blocking)?
        .map_err(|source| Error::Write {
            path: manifest.clone(),
            source,
        })?;
    Ok(FetchRecord {
        node: source.node.clone(),
        path: source.path.clone(),
        dest: dest.to_path_buf(),
        size: written,
        sha256: local_hash,
        verified,
        resumes,
        resumed_from_partial: offset,
        custody: manifest,
        duration_seconds: context.started.instant.elapsed().as_secs_f64(),
        timing: FetchTiming {
            helper_start_seconds: context.helper_start,
            stream_seconds,
            verify_seconds,
        },
    })
}

/// Records in the custody manifest of the copy `dest` that the archive was deleted from the
/// node (now, asked for by `by`): rewritten in place, privately.
pub fn record_node_deletion(dest: &Path, by: &str) -> Result<()> {
    let manifest = custody_path(dest);
    let write_error = |source: std::io::Error| Error::Write {
        path: manifest.clone(),
        source,
    };
    let text = std::fs::read(&manifest).map_err(write_error)?;
    let mut record: CustodyRecord = serde_json::from_slice(&text)
        .map_err(|err| write_error(std::io::Error::other(err.to_string())))?;
    record.deleted_from_node = Some(CustodyNodeDeletion {
        deleted: rfc3339(Timestamp::now()),
        by: by.to_string(),
    });
    let text = serde_json::to_vec_pretty(&record)
        .map_err(|err| write_error(std::io::Error::other(err.to_string())))?;
    write_private(&manifest, &text).map_err(write_error)
}

/// The writer thread's own error, once it stopped taking chunks.
async fn writer_error(
    writer: Option<tokio::task::JoinHandle<std::io::Result<(u64, String)>>>,
    part: &Part,
    fail: impl Fn(String) -> Error,
) -> Error {
    match writer {
        Some(task) => match task.await {
            Ok(Err(source)) => Error::Write {
                path: part.path(),
                source,
            },
            Ok(Ok(_)) => fail("the local writer stopped".into()),
            Err(err) => fail(format!("local file task: {err}")),
        },
        None => fail("the local writer stopped".into()),
    }
}

enum StreamEnd {
    /// The stream ended early; resuming may help.
    Broken(String),
    /// Resuming cannot help (the archive is missing or changed, exec is refused).
    Fatal(Error),
    /// The local writer stopped (its error says why).
    WriterStopped,
}

/// Streams the archive from byte `received` on; `Ok` when the command exited cleanly.
async fn stream_once(
    helper: &Helper,
    source: &NodePath,
    received: &mut u64,
    tx: &mpsc::Sender<BytesMut>,
    progress: &dyn Progress,
    node_stat: &mut Option<NodeStat>,
    on_stat: &(dyn Fn(NodeStat) + Sync),
) -> std::result::Result<(), StreamEnd> {
    let offset = *received;
    let command = build_stream_command(&source.path, offset);
    let what = format!("streaming {}", source.basename());
    let mut process = helper
        .start_exec(&what, &command, progress)
        .await
        .map_err(StreamEnd::Fatal)?;
    let status = exec_status(&mut process);
    let (Some(mut stdout), Some(mut stderr)) = (process.stdout(), process.stderr()) else {
        return Err(StreamEnd::Broken("exec gave no output streams".into()));
    };
    let known = *node_stat;
    let read_errors = async {
        let mut kept = Vec::new();
        let mut seen: Option<NodeStat> = None;
        let mut buf = BytesMut::with_capacity(4096);
        loop {
            buf.clear();
            let n = read_exec(&mut stderr, &mut buf, &status).await.unwrap_or(0);
            if n == 0 {
                return Ok((kept, seen));
            }
            let room = MAX_ERRORS.saturating_sub(kept.len());
            kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            if seen.is_none() {
                let text = String::from_utf8_lossy(&kept);
                if let Some((line, _)) = text.split_once('\n') {
                    if let Some(stat) = decode_stat(line) {
                        if known.is_some_and(|k| k != stat) {
                            return Err(StreamEnd::Fatal(Error::Transfer {
                                node: source.node.clone(),
                                path: source.path.clone(),
                                reason: "the archive changed on the node while it was copied (its size or mtime differ); nothing was kept".into(),
                            }));
                        }
                        if known.is_none() {
                            on_stat(stat);
                            progress.start(source.basename(), stat.size, offset);
                        }
                        seen = Some(stat);
                    }
                }
            }
        }
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
                return Err(StreamEnd::WriterStopped);
            }
            progress.position(*received);
        }
        Ok(())
    };
    let (errors, stat) = match tokio::try_join!(read_stdout, read_errors) {
        Ok(((), (errors, stat))) => (errors, stat),
        Err(end) => {
            // A fatal end drops the exec here, which stops the node's commands too.
            if let StreamEnd::Fatal(Error::Transfer { .. }) = &end {
                *node_stat = None;
            }
            return Err(end);
        }
    };
    if node_stat.is_none() {
        *node_stat = stat;
    }
    let text = String::from_utf8_lossy(&errors).into_owned();
    // What the commands said besides the stat line: their errors.
    let said = match stat {
        Some(_) => text.split_once('\n').map_or("", |(_, rest)| rest),
        None => text.as_str(),
    };
    let status = status.await;
    if let Err(message) = check_status(status.as_ref(), said.as_bytes()) {
        if status.is_some() && stat.is_none() {
            // `stat` failed: the archive is not there (or not readable); no retry helps.
            return Err(StreamEnd::Fatal(
                helper.exec_error(&format!("reading {}", source.path), message),
            ));
        }
        return Err(StreamEnd::Broken(message));
    }
    Ok(())
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
    }

    #[test]
    fn stream_commands_are_exact() {
        let path = "/var/lib/kubelet/checkpoints/a.tar";
        let plain = build_stream_command(path, 0);
        assert_eq!(plain[..2], ["sh", "-c"]);
        assert_eq!(plain[3..], ["kubectl-checkpoint", path]);
        assert!(plain[2].contains("stat -c '%s %Y' \"$1\" >&2 || exit 1"));
        assert!(plain[2].ends_with("exec cat \"$1\""), "{plain:?}");
        let resumed = build_stream_command(path, 3_000_000);
        assert!(
            resumed[2].ends_with("exec tail -c \"+$2\" \"$1\""),
            "{resumed:?}"
        );
        assert_eq!(resumed[3..], ["kubectl-checkpoint", path, "3000001"]);
    }

    #[test]
    fn decodes_what_the_helper_prints() {
        assert_eq!(
            decode_stat("9236480 1692876258"),
            Some(NodeStat {
                size: 9236480,
                modified: 1692876258
            })
        );
        assert_eq!(decode_stat("stat: can't stat"), None);
        assert_eq!(decode_stat("1 2 3"), None);
        let hash = "589d39ec47afb0768f4ac888cad5f2c515050b70e2f692c01218766d74dc7c98";
        assert_eq!(decode_hash(&format!("{hash}  -")).as_deref(), Some(hash));
        assert_eq!(decode_hash("tee: /proc/self/fd/3: No such device"), None);
    }

    #[test]
    fn dest_directories_are_checked_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_dest_dir(dir.path(), false).is_ok());
        let missing = dir.path().join("no/such/dir");
        let err = check_dest_dir(&missing, true).unwrap_err().to_string();
        assert!(
            err.contains("its parent directory") && err.contains("no/such"),
            "{err}"
        );
        assert!(!missing.exists());
        let err = check_dest_dir(&dir.path().join("x"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        let made = dir.path().join("new");
        check_dest_dir(&made, true).unwrap();
        assert!(made.is_dir());
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        let err = check_dest_dir(&dir.path().join("file"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a directory"), "{err}");
        // Nothing is left behind by the probe.
        assert_eq!(std::fs::read_dir(&made).unwrap().count(), 0);
    }
}

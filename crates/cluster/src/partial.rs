//! The local files of a transfer: `DEST.part` (the bytes so far, 0600, never opened through a
//! symlink), `DEST.part.json` (which archive on which node they belong to: the node's size and
//! mtime of it), and moving a finished copy to DEST without replacing evidence.
//!
//! A transfer that fails or is interrupted keeps `DEST.part` and records its source in
//! `DEST.part.json` (written by [`Part`]'s `Drop`, so Ctrl-C keeps it too); the next fetch of the
//! same archive to the same DEST appends to it when the node's file still has that size and
//! mtime. Whatever the partial copy holds, the finished copy is checked against the node's sha256
//! of the whole archive, so a damaged partial file cannot slip through.
//!
//! The part also keeps the custody record's tries ([`CustodyAttempt`]): those of earlier runs,
//! read from `DEST.part.json`, and this run's, each closed with why it stopped; a try still open
//! when the part is dropped (Ctrl-C, a failure) is closed as interrupted, with the bytes the
//! partial file got, and saved with the state for the run that finishes the copy.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use checkpoint_model::archive::custody::CustodyAttempt;
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The state file is tiny; a larger one is not ours.
const MAX_STATE_BYTES: u64 = 64 << 10;

/// What a partial copy belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartialState {
    /// The API server.
    pub server: String,
    /// The node.
    pub node: String,
    /// The archive's path on the node.
    pub path: String,
    /// The archive's size on the node when the copy started.
    pub node_size: u64,
    /// Its mtime on the node (seconds since the epoch).
    pub node_modified: i64,
    /// The tries so far, for the custody record.
    #[serde(default)]
    pub attempts: Vec<CustodyAttempt>,
}

/// `DEST.part`: the partial copy of a fetch to DEST.
pub fn part_path(dest: &Path) -> PathBuf {
    with_suffix(dest, ".part")
}

/// `DEST.part.json`.
pub(crate) fn state_path(dest: &Path) -> PathBuf {
    with_suffix(dest, ".part.json")
}

fn with_suffix(dest: &Path, suffix: &str) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dest.with_file_name(name)
}

fn open_nofollow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// The partial copy an earlier run left for `dest`, when its state names `(server, node,
/// path)`: the state and the partial file's length.
pub(crate) fn find_partial(
    dest: &Path,
    server: &str,
    node: &str,
    path: &str,
) -> Option<(PartialState, u64)> {
    let mut text = String::new();
    open_nofollow(&state_path(dest))
        .ok()?
        .take(MAX_STATE_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let state: PartialState = serde_json::from_str(&text).ok()?;
    let part = std::fs::symlink_metadata(part_path(dest)).ok()?;
    let ours = state.server == server && state.node == node && state.path == path;
    (ours && part.file_type().is_file()).then_some((state, part.len()))
}

/// Opens `DEST.part` for writing. With `keep`, its first `keep` bytes stay (anything after
/// them is cut off) and are hashed; else any old file is replaced. Returns the file positioned
/// at its end, the hash of what it holds, and its length.
pub(crate) fn open_part(part: &Path, keep: Option<u64>) -> std::io::Result<(File, Sha256, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(keep) = keep {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(part)?;
        if file.metadata()?.len() > keep {
            file.set_len(keep)?;
        }
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut have = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(buf.get(..n).unwrap_or_default());
            have += n as u64;
        }
        file.seek(std::io::SeekFrom::End(0))?;
        return Ok((file, hasher, have));
    }
    // A leftover is replaced, never followed if it is a symlink.
    match std::fs::remove_file(part) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(part)?;
    Ok((file, Sha256::new(), 0))
}

/// Now, as the custody record writes times.
fn now() -> String {
    super::clock::rfc3339(Timestamp::now())
}

/// Writes a small file privately (0600), replacing it atomically, never through a symlink.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let temp = with_suffix(path, &format!(".{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// `DEST.part` while a transfer runs: on drop, unless committed, it is kept together with its
/// state (when the source is known and it holds bytes) or removed.
pub(crate) struct Part {
    dest: PathBuf,
    /// The source, once known: a failed transfer keeps the partial copy for it. (A mutex, so
    /// that the stream can set it the moment the node names the size, while the transfer
    /// holds the part.)
    keep_for: std::sync::Mutex<Option<PartialState>>,
    committed: bool,
    /// The tries so far and the one under way.
    attempts: std::sync::Mutex<Attempts>,
}

/// The custody record's tries of one copy.
#[derive(Default)]
struct Attempts {
    /// Closed tries, earlier runs' first.
    done: Vec<CustodyAttempt>,
    /// The try under way: when it started, its first byte, the helper (`ns/name`) and its uid.
    current: Option<(String, u64, String, String)>,
}

impl Part {
    /// The partial copy of `dest`.
    pub fn new(dest: &Path) -> Part {
        Part {
            dest: dest.to_path_buf(),
            keep_for: std::sync::Mutex::new(None),
            committed: false,
            attempts: std::sync::Mutex::new(Attempts::default()),
        }
    }

    /// The tries of earlier runs whose partial copy this one continues.
    pub fn set_earlier_attempts(&self, earlier: Vec<CustodyAttempt>) {
        self.lock_attempts().done = earlier;
    }

    /// A try starts at byte `from_byte` through the helper `helper` (`ns/name`, uid).
    pub fn begin_attempt(&self, from_byte: u64, helper: String, helper_uid: String) {
        self.lock_attempts().current = Some((now(), from_byte, helper, helper_uid));
    }

    /// The try under way stopped with `received` bytes of the archive here, because of
    /// `outcome`.
    pub fn end_attempt(&self, received: u64, outcome: String) {
        let mut attempts = self.lock_attempts();
        if let Some((started, from_byte, helper, helper_uid)) = attempts.current.take() {
            attempts.done.push(CustodyAttempt {
                started,
                ended: now(),
                from_byte,
                bytes: received.saturating_sub(from_byte),
                helper,
                helper_uid,
                outcome,
            });
        }
    }

    /// Every closed try, earlier runs' first.
    pub fn attempts(&self) -> Vec<CustodyAttempt> {
        self.lock_attempts().done.clone()
    }

    fn lock_attempts(&self) -> std::sync::MutexGuard<'_, Attempts> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps the partial copy for `state` if the transfer does not finish (`None`: discard it).
    pub fn keep_for(&self, state: Option<PartialState>) {
        *self.keep_for.lock().unwrap_or_else(|e| e.into_inner()) = state;
    }

    /// Whether a source to keep the partial copy for is known.
    pub fn keeps(&self) -> bool {
        self.keep_for
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// `DEST.part`.
    pub fn path(&self) -> PathBuf {
        part_path(&self.dest)
    }

    /// Moves the finished copy to DEST: without `overwrite`, only if DEST does not exist (a
    /// hard link, which fails atomically when it does); then removes the partial files.
    pub fn commit(&mut self, overwrite: bool) -> std::io::Result<()> {
        let part = self.path();
        if overwrite {
            std::fs::rename(&part, &self.dest)?;
        } else {
            match std::fs::hard_link(&part, &self.dest) {
                Ok(()) => std::fs::remove_file(&part)?,
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return Err(err),
                // A file system without hard links: check, then rename.
                Err(_) => {
                    if std::fs::symlink_metadata(&self.dest).is_ok() {
                        return Err(std::io::ErrorKind::AlreadyExists.into());
                    }
                    std::fs::rename(&part, &self.dest)?;
                }
            }
        }
        self.committed = true;
        let _ = std::fs::remove_file(state_path(&self.dest));
        Ok(())
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Small writes and unlinks: safe on any thread, even the runtime's.
        let part = self.path();
        let length = std::fs::symlink_metadata(&part)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let has_bytes = length.is_some_and(|len| len > 0);
        let keep_for = self
            .keep_for
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // A try still under way was cut short here (Ctrl-C, or the transfer failed).
        self.end_attempt(
            length.unwrap_or(0),
            "interrupted (the fetch stopped before the copy was complete)".to_string(),
        );
        match keep_for {
            Some(mut state) if has_bytes => {
                state.attempts = self.attempts();
                let state = &state;
                let text = serde_json::to_vec_pretty(state).unwrap_or_default();
                if write_private(&state_path(&self.dest), &text).is_ok() {
                    return;
                }
                let _ = std::fs::remove_file(&part);
            }
            _ => {
                let _ = std::fs::remove_file(&part);
                let _ = std::fs::remove_file(state_path(&self.dest));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PartialState {
        PartialState {
            server: "https://s".into(),
            node: "n".into(),
            path: "/var/lib/kubelet/checkpoints/a.tar".into(),
            node_size: 10,
            node_modified: 1700000000,
            attempts: Vec::new(),
        }
    }

    #[test]
    fn a_dropped_transfer_keeps_its_bytes_and_source_for_the_next_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar");
        {
            let part = Part::new(&dest);
            let (mut file, _, have) = open_part(&part.path(), None).unwrap();
            assert_eq!(have, 0);
            file.write_all(b"hello").unwrap();
            part.keep_for(Some(state()));
        }
        let (found, len) = find_partial(&dest, "https://s", "n", &state().path).unwrap();
        assert_eq!(len, 5);
        assert_eq!(
            (found.node_size, found.node_modified),
            (state().node_size, state().node_modified)
        );
        assert!(find_partial(&dest, "https://other", "n", &state().path).is_none());
        let mode = std::fs::metadata(state_path(&dest))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        // Resuming keeps (and hashes) the bytes so far, cutting off anything beyond them.
        let (mut file, hasher, have) = open_part(&part_path(&dest), Some(4)).unwrap();
        assert_eq!(have, 4);
        assert_eq!(
            hex::encode(hasher.finalize()),
            hex::encode(Sha256::digest(b"hell"))
        );
        file.write_all(b"o!").unwrap();
        drop(file);
        let mut part = Part::new(&dest);
        part.commit(false).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello!");
        assert!(!part_path(&dest).exists() && !state_path(&dest).exists());
    }

    #[test]
    fn tries_are_kept_across_runs_with_the_partial_copy() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar");
        {
            let part = Part::new(&dest);
            let (mut file, _, _) = open_part(&part.path(), None).unwrap();
            part.keep_for(Some(state()));
            part.begin_attempt(0, "ns/h1".into(), "uid-1".into());
            file.write_all(b"abc").unwrap();
            part.end_attempt(3, "the stream broke at byte 3: reset".into());
            part.begin_attempt(3, "ns/h1".into(), "uid-1".into());
            file.write_all(b"de").unwrap();
            // Dropped mid-try: Ctrl-C.
        }
        let (found, _) = find_partial(&dest, "https://s", "n", &state().path).unwrap();
        let outcomes: Vec<(u64, u64, &str)> = found
            .attempts
            .iter()
            .map(|a| (a.from_byte, a.bytes, a.outcome.as_str()))
            .collect();
        assert_eq!(outcomes.len(), 2, "{outcomes:?}");
        assert_eq!(outcomes[0], (0, 3, "the stream broke at byte 3: reset"));
        assert_eq!((outcomes[1].0, outcomes[1].1), (3, 2));
        assert!(outcomes[1].2.starts_with("interrupted"), "{outcomes:?}");

        // The next run continues the list.
        let part = Part::new(&dest);
        part.set_earlier_attempts(found.attempts.clone());
        part.begin_attempt(5, "ns/h2".into(), "uid-2".into());
        part.end_attempt(10, "completed".into());
        let all = part.attempts();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].helper, "ns/h2");
        assert_eq!(all[2].bytes, 5);
    }

    #[test]
    fn commit_never_replaces_evidence_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar");
        std::fs::write(&dest, b"evidence").unwrap();
        let mut part = Part::new(&dest);
        std::fs::write(part.path(), b"new").unwrap();
        let err = part.commit(false).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&dest).unwrap(), b"evidence");
        part.commit(true).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
    }

    #[test]
    fn an_empty_or_unknown_partial_copy_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar");
        {
            let part = Part::new(&dest);
            std::fs::write(part.path(), b"bytes").unwrap();
        }
        assert!(!part_path(&dest).exists() && !state_path(&dest).exists());
        {
            let part = Part::new(&dest);
            open_part(&part.path(), None).unwrap();
            part.keep_for(Some(state()));
        }
        assert!(!part_path(&dest).exists() && !state_path(&dest).exists());
    }

    #[test]
    fn the_part_file_is_private_and_replaces_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, b"keep").unwrap();
        let part = dir.path().join("a.tar.part");
        std::os::unix::fs::symlink(&target, &part).unwrap();
        assert!(open_part(&part, Some(0)).is_err());
        let (mut file, _, _) = open_part(&part, None).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        let mode = std::fs::metadata(&part).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

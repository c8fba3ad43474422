//! The little this tool remembers between runs, in one JSON file (0600, in a 0700 directory):
//! `$XDG_STATE_HOME/kubectl-checkpoint/state.json`, else `~/.local/state/kubectl-checkpoint/`.
//!
//! It holds the helper pods a run left running with `--keep-helper` (a later run reuses a pod
//! only if it is listed here with the same uid and nonce: see `helper`), and the archive paths
//! of recent checkpoints (the kubelet names archives by the second, so a second checkpoint of a
//! container within the same second replaces the first: we warn when a path comes back).
//!
//! Everything here is best effort and sync (callers use `spawn_blocking`): a missing, unreadable
//! or corrupt file reads as empty and is replaced on the next write. Two runs writing at once
//! may lose one of their updates; the cost is a helper that is not reused, or a missed warning.
//! The file is written to a temp file and renamed, never through a symlink.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's name inside the state directory.
const FILE: &str = "state.json";
/// A larger file is not ours: it is ignored.
const MAX_BYTES: u64 = 1 << 20;
/// How many recent checkpoint paths are remembered.
const MAX_RECENT: usize = 256;

/// A helper pod a run created and left running (`--keep-helper`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeptHelper {
    /// The API server's URL.
    pub server: String,
    /// The helper's namespace.
    pub namespace: String,
    /// Its node.
    pub node: String,
    /// Its name.
    pub name: String,
    /// Its uid, assigned by the API server at creation: no other pod can have it.
    pub uid: String,
    /// The nonce annotation we gave it.
    pub nonce: String,
    /// The image as we asked for it.
    pub image: String,
    /// The image the kubelet ran (`imageID`, a digest), when it was kept.
    pub image_id: String,
    /// Whether its checkpoint mount is writable.
    pub writable: bool,
}

/// An archive path a checkpoint returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecentCheckpoint {
    /// The API server's URL.
    pub server: String,
    /// The node.
    pub node: String,
    /// The archive's path on the node.
    pub path: String,
    /// When it was taken (RFC 3339, this machine's clock).
    pub taken: String,
}

/// The state file's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LocalState {
    /// Helper pods left running.
    #[serde(default)]
    pub kept_helpers: Vec<KeptHelper>,
    /// Recent checkpoint paths, oldest first.
    #[serde(default)]
    pub recent_checkpoints: Vec<RecentCheckpoint>,
}

impl LocalState {
    /// Remembers a checkpoint path, forgetting the oldest beyond the limit; returns the earlier
    /// checkpoint that had the same path, if any.
    pub fn remember_checkpoint(&mut self, taken: RecentCheckpoint) -> Option<RecentCheckpoint> {
        let earlier = self
            .recent_checkpoints
            .iter()
            .rposition(|c| c.server == taken.server && c.node == taken.node && c.path == taken.path)
            .map(|i| self.recent_checkpoints.remove(i));
        self.recent_checkpoints.push(taken);
        let excess = self.recent_checkpoints.len().saturating_sub(MAX_RECENT);
        self.recent_checkpoints.drain(..excess);
        earlier
    }
}

/// The state directory, from `$XDG_STATE_HOME` or `$HOME`; `None` when neither is set.
pub(crate) fn state_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".local/state")
        }
    };
    Some(base.join("kubectl-checkpoint"))
}

/// Reads the state in `dir` (empty when missing or unreadable).
pub(crate) fn load(dir: &Path) -> LocalState {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(dir.join(FILE));
    let Ok(file) = file else {
        return LocalState::default();
    };
    let mut text = String::new();
    if file.take(MAX_BYTES).read_to_string(&mut text).is_err() {
        return LocalState::default();
    }
    serde_json::from_str(&text).unwrap_or_default()
}

/// Reads the state in `dir`, lets `change` edit it, and writes it back (0600, via a temp file
/// and a rename). Returns what `change` returned.
pub(crate) fn update<T>(
    dir: &Path,
    change: impl FnOnce(&mut LocalState) -> T,
) -> std::io::Result<T> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut state = load(dir);
    let result = change(&mut state);
    let text = serde_json::to_vec_pretty(&state).map_err(std::io::Error::other)?;
    let temp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temp)?;
    let written = file.write_all(&text).and_then(|()| file.sync_all());
    if let Err(err) = written.and_then(|()| std::fs::rename(&temp, dir.join(FILE))) {
        let _ = std::fs::remove_file(&temp);
        return Err(err);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(path: &str, taken: &str) -> RecentCheckpoint {
        RecentCheckpoint {
            server: "https://s".into(),
            node: "n".into(),
            path: path.into(),
            taken: taken.into(),
        }
    }

    #[test]
    fn round_trips_privately_and_finds_repeated_paths() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        let first = update(&state_dir, |s| {
            s.remember_checkpoint(recent("/a.tar", "t1"))
        })
        .unwrap();
        assert!(first.is_none());
        let again = update(&state_dir, |s| {
            s.remember_checkpoint(recent("/a.tar", "t2"))
        })
        .unwrap();
        assert_eq!(again.unwrap().taken, "t1");
        let state = load(&state_dir);
        assert_eq!(state.recent_checkpoints, [recent("/a.tar", "t2")]);
        let mode = std::fs::metadata(state_dir.join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(&state_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn keeps_a_bounded_history_and_survives_garbage() {
        let dir = tempfile::tempdir().unwrap();
        update(dir.path(), |s| {
            for i in 0..300 {
                s.remember_checkpoint(recent(&format!("/{i}.tar"), "t"));
            }
        })
        .unwrap();
        let state = load(dir.path());
        assert_eq!(state.recent_checkpoints.len(), MAX_RECENT);
        assert_eq!(state.recent_checkpoints[0].path, "/44.tar");
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert!(load(dir.path()).recent_checkpoints.is_empty());
        update(dir.path(), |s| s.remember_checkpoint(recent("/x.tar", "t"))).unwrap();
        assert_eq!(load(dir.path()).recent_checkpoints.len(), 1);
    }

    #[test]
    fn never_writes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let state_dir = dir.path().join("s");
        std::fs::create_dir(&state_dir).unwrap();
        std::os::unix::fs::symlink(&victim, state_dir.join(FILE)).unwrap();
        assert!(load(&state_dir).kept_helpers.is_empty());
        update(&state_dir, |s| s.remember_checkpoint(recent("/a.tar", "t"))).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}

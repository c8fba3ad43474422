//! The chain-of-custody manifest `fetch` writes beside every archive it copies off a node
//! (`DEST.custody.json`, 0600), and checking an archive against it.
//!
//! The manifest says where the bytes came from (API server, node, path, the node's size and
//! mtime of the file, the sha256 the node computed), through what (the helper pod's name, uid,
//! image and image digest), for whom (the user the API server authenticated, from a
//! `SelfSubjectReview`), when (start and end, RFC 3339 UTC), with which tool, and how the copy
//! was checked. [`check_custody`] reads it for `analyze` and hashes the archive again: a copy that
//! no longer matches its recorded size and sha256 is reported, never silently accepted.
//!
//! The manifest is input like any other (someone may have edited it): it is read up to 1 MiB,
//! and its fields are only ever shown, never used to open or write files.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `format` value of manifests this version writes.
pub const CUSTODY_FORMAT: &str = "kubectl-checkpoint/custody/v1";
/// A manifest larger than this is not ours.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// The archive as written here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyArchive {
    /// The archive's file name (the manifest sits in the same directory).
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256 (hex), computed here while it was written.
    pub sha256: String,
}

/// The archive on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodySource {
    /// The API server the request went through.
    pub server: String,
    /// The node.
    pub node: String,
    /// The path on the node.
    pub path: String,
    /// Its size on the node, in bytes.
    pub size: u64,
    /// Its modification time on the node (RFC 3339).
    pub modified: String,
    /// The sha256 the node computed (`None` with `--verify size` and no resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The helper pod the bytes were streamed through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyHelper {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// Its image as asked for.
    pub image: String,
    /// The image the kubelet ran (`imageID`).
    pub image_id: String,
    /// Whether the fetch created it (false: a helper kept by an earlier run of the same user).
    pub created_by_this_run: bool,
}

/// The checkpoint request that made the archive, when the same run took it (`--fetch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyCheckpoint {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The container's name.
    pub container: String,
    /// When the checkpoint was requested (RFC 3339).
    pub requested: String,
}

/// Who fetched it, as the API server authenticated them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyUser {
    /// The user name.
    pub username: String,
    /// The user's groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// One try at streaming the archive: a fetch that was cut and resumed, or interrupted and run
/// again, has several, across runs (an interrupted run leaves its tries beside the partial
/// copy, and the run that finishes it records them all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyAttempt {
    /// When it started (RFC 3339).
    pub started: String,
    /// When it stopped (RFC 3339).
    pub ended: String,
    /// The byte of the archive it started at (0, or where an earlier try stopped).
    pub from_byte: u64,
    /// The bytes it received.
    pub bytes: u64,
    /// The helper pod it streamed through (`namespace/name`).
    pub helper: String,
    /// That pod's uid.
    pub helper_uid: String,
    /// Why it stopped: `completed`, `the stream broke: ...`, `interrupted (Ctrl-C or a
    /// failure)`.
    pub outcome: String,
}

/// The archive's deletion from the node, once fetched and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyNodeDeletion {
    /// When it was deleted (RFC 3339).
    pub deleted: String,
    /// What asked for it (`--delete-after-fetch`, or `analyze TARGET`).
    pub by: String,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyRecord {
    /// [`CUSTODY_FORMAT`].
    pub format: String,
    /// The tool and its version (`kubectl-checkpoint/0.1.0`).
    pub tool: String,
    /// The local copy.
    pub archive: CustodyArchive,
    /// Where it came from.
    pub source: CustodySource,
    /// How the copy was checked against the node: `sha256` or `size`.
    pub verified: String,
    /// The checkpoint request, when this run took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CustodyCheckpoint>,
    /// The helper pod.
    pub helper: CustodyHelper,
    /// Who fetched it; `None` when the API server could not say (see `fetched_by_unknown`).
    pub fetched_by: Option<CustodyUser>,
    /// Why the user is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_by_unknown: Option<String>,
    /// When the fetch started (RFC 3339).
    pub started: String,
    /// When the copy was complete and checked (RFC 3339).
    pub finished: String,
    /// How often a broken stream was resumed.
    pub resumes: u32,
    /// Bytes taken over from an earlier run's partial copy (0: none).
    #[serde(default)]
    pub resumed_from_partial: u64,
    /// Every try at streaming the archive, the earlier runs' included, in order.
    #[serde(default)]
    pub attempts: Vec<CustodyAttempt>,
    /// The archive was deleted from the node after this copy was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_from_node: Option<CustodyNodeDeletion>,
}

/// What `analyze` shows about an archive's custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustodyStatus {
    /// The manifest's path.
    pub manifest: PathBuf,
    /// What it records; `None` when it could not be read (see `problem`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<CustodyRecord>,
    /// Whether the archive still has the recorded size and sha256.
    pub matches: bool,
    /// What is wrong, in words (a mismatch, an unreadable manifest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// `DEST.custody.json` for the archive `dest`.
pub fn custody_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".custody.json");
    dest.with_file_name(name)
}

/// Reads the manifest beside `archive` (if there is one) and checks the archive against it: its
/// size, then its sha256 (one streaming read of the archive). `None` when there is no manifest.
pub fn check_custody(archive: &Path) -> Option<CustodyStatus> {
    let record = match read_custody(archive)? {
        Ok(record) => record,
        Err(unreadable) => return Some(unreadable),
    };
    let manifest = custody_path(archive);
    let problem = match hash_file(archive) {
        Err(err) => Some(format!("cannot read the archive to check it: {err}")),
        Ok((size, sha256)) => judge_copy(&record, size, &sha256),
    };
    Some(CustodyStatus {
        manifest,
        matches: problem.is_none(),
        record: Some(record),
        problem,
    })
}

/// Reads the manifest beside `archive` without reading the archive: `None` when there is none,
/// the status saying why when it cannot be used. A caller that reads the archive anyway (an
/// image build hashes it as its layer) checks it with [`judge_copy`] afterwards, in one pass.
pub fn read_custody(archive: &Path) -> Option<Result<CustodyRecord, CustodyStatus>> {
    let manifest = custody_path(archive);
    let file = match open_nofollow(&manifest) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => return Some(Err(unreadable(manifest, format!("cannot read it: {err}")))),
    };
    let mut text = String::new();
    if let Err(err) = file.take(MAX_MANIFEST_BYTES + 1).read_to_string(&mut text) {
        return Some(Err(unreadable(manifest, format!("cannot read it: {err}"))));
    }
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Some(Err(unreadable(manifest, "it is larger than 1 MiB".into())));
    }
    let record: CustodyRecord = match serde_json::from_str(&text) {
        Ok(record) => record,
        Err(err) => {
            return Some(Err(unreadable(
                manifest,
                format!("it is not a custody manifest: {err}"),
            )))
        }
    };
    if !is_sha256_hex(&record.archive.sha256) {
        return Some(Err(unreadable(
            manifest,
            "its archive sha256 is not 64 hexadecimal digits: it is not a custody manifest".into(),
        )));
    }
    Some(Ok(record))
}

/// What is wrong with an archive of `size` bytes and sha256 `sha256` (hex) as the copy `record`
/// describes; `None` when it is that copy.
pub fn judge_copy(record: &CustodyRecord, size: u64, sha256: &str) -> Option<String> {
    if size != record.archive.size {
        return Some(format!(
            "the archive has {size} bytes, the manifest records {}: it is not the fetched copy",
            record.archive.size
        ));
    }
    if !sha256.eq_ignore_ascii_case(&record.archive.sha256) {
        return Some(format!(
            "the archive's sha256 is {sha256}, the manifest records {}: it changed since it was fetched",
            record.archive.sha256
        ));
    }
    None
}

/// True for the 64 hexadecimal digits of a sha256.
fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn unreadable(manifest: PathBuf, problem: String) -> CustodyStatus {
    CustodyStatus {
        manifest,
        record: None,
        matches: false,
        problem: Some(problem),
    }
}

fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Size and sha256 (hex) of a file, read once through a fixed buffer.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(size: u64, sha256: &str) -> CustodyRecord {
        CustodyRecord {
            format: CUSTODY_FORMAT.into(),
            tool: "kubectl-checkpoint/0.1.0".into(),
            archive: CustodyArchive {
                file: "a.tar".into(),
                size,
                sha256: sha256.into(),
            },
            source: CustodySource {
                server: "https://127.0.0.1:6443".into(),
                node: "n".into(),
                path: "/var/lib/kubelet/checkpoints/a.tar".into(),
                size,
                modified: "2026-12-01T11:00:00Z".into(),
                sha256: Some(sha256.into()),
            },
            verified: "sha256".into(),
            checkpoint: None,
            helper: CustodyHelper {
                namespace: "ns".into(),
                name: "h".into(),
                uid: "u".into(),
                image: "busybox:1.36".into(),
                image_id: "busybox@sha256:00".into(),
                created_by_this_run: true,
            },
            fetched_by: Some(CustodyUser {
                username: "alice".into(),
                groups: vec!["system:authenticated".into()],
            }),
            fetched_by_unknown: None,
            started: "2026-12-01T11:00:01Z".into(),
            finished: "2026-12-01T11:00:02Z".into(),
            resumes: 0,
            resumed_from_partial: 0,
            attempts: vec![CustodyAttempt {
                started: "2026-12-01T11:00:01Z".into(),
                ended: "2026-12-01T11:00:02Z".into(),
                from_byte: 0,
                bytes: size,
                helper: "ns/h".into(),
                helper_uid: "u".into(),
                outcome: "completed".into(),
            }],
            deleted_from_node: None,
        }
    }

    #[test]
    fn an_unchanged_archive_matches_and_a_changed_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar");
        assert!(check_custody(&archive).is_none());
        std::fs::write(&archive, b"hello").unwrap();
        // sha256("hello")
        let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let manifest = custody_path(&archive);
        assert_eq!(manifest, dir.path().join("a.tar.custody.json"));
        std::fs::write(&manifest, serde_json::to_vec(&record(5, sha)).unwrap()).unwrap();
        let status = check_custody(&archive).unwrap();
        assert!(status.matches, "{status:?}");
        assert_eq!(status.record.unwrap().fetched_by.unwrap().username, "alice");

        std::fs::write(&archive, b"jello").unwrap();
        let status = check_custody(&archive).unwrap();
        assert!(!status.matches);
        assert!(status
            .problem
            .unwrap()
            .contains("changed since it was fetched"));

        std::fs::write(&archive, b"hello!").unwrap();
        let problem = check_custody(&archive).unwrap().problem.unwrap();
        assert!(
            problem.contains("has 6 bytes, the manifest records 5"),
            "{problem}"
        );

        std::fs::write(&manifest, b"{}").unwrap();
        let status = check_custody(&archive).unwrap();
        assert!(!status.matches && status.record.is_none());
        assert!(status.problem.unwrap().contains("not a custody manifest"));

        // A sha256 field that is not a sha256 (here: an escape sequence) is refused, not shown.
        let forged = record(5, "\u{1b}]0;owned\u{7}");
        std::fs::write(&manifest, serde_json::to_vec(&forged).unwrap()).unwrap();
        let status = check_custody(&archive).unwrap();
        assert!(!status.matches && status.record.is_none());
        let problem = status.problem.unwrap();
        assert!(problem.contains("not 64 hexadecimal digits"), "{problem}");
        assert!(!problem.contains('\u{1b}'));
    }
}

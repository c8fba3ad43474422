//! The scratch file a fuzz target writes its input to: one per process, in `/dev/shm` when
//! there is one (no disk I/O per input), removed with its directory at exit.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The scratch directory (also the spool directory) and the file `name` in it.
pub fn scratch(name: &str) -> (&'static Path, PathBuf) {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        if base.is_dir() {
            tempfile::tempdir_in(base)
        } else {
            tempfile::tempdir()
        }
        .expect("a scratch directory")
    });
    (dir.path(), dir.path().join(name))
}

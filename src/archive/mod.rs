//! Reading checkpoint archives (plain tar, gzip, zstd) and image directories in place, never extracting them.

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

//! Decoding of CRIU image files: framing, magics, typed entries, crit-compatible JSON.

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

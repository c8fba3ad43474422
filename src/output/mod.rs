//! Rendering reports as tables, trees, JSON and YAML into a caller's writer.

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

//! Reading process memory out of a checkpoint: pagemap runs laid over `pages-N.img`, by virtual address.

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

//! Talking to Kubernetes: the checkpoint POST through the nodes proxy, helper pods, exec streams.

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

//! The crate's top-level error: one variant per layer, and the one place that turns an error
//! chain into text for people (`Error::render`).

use std::error::Error as StdError;

/// The errno values of "too many open files" (Linux).
mod libc_errno {
    /// The process has too many files open.
    pub const EMFILE: i32 = 24;
    /// The system has too many files open.
    pub const ENFILE: i32 = 23;
}

/// Our advice when the open-files limit ran out.
const OUT_OF_DESCRIPTORS: &str = "the process ran out of open files: its limit is what `ulimit -n` shows; raise it (for example `ulimit -n 65536`, at most `ulimit -Hn`) and run the command again";

/// Any failure of a verb, wrapping the error of the layer where it happened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Decoding CRIU images failed.
    #[error(transparent)]
    Criu(#[from] checkpoint_images::Error),
    /// Reading a checkpoint archive or image directory failed.
    #[error(transparent)]
    Archive(#[from] checkpoint_model::archive::Error),
    /// Reading process memory failed.
    #[error(transparent)]
    Memory(#[from] checkpoint_forensics::memory::Error),
    /// Decoding or validating a checkpoint's images failed.
    #[error(transparent)]
    Dump(#[from] checkpoint_model::dump::Error),
    /// Building a report failed.
    #[error(transparent)]
    Analyze(#[from] checkpoint_forensics::analyze::Error),
    /// Comparing two checkpoints failed.
    #[error(transparent)]
    Diff(#[from] checkpoint_forensics::diff::Error),
    /// Writing a core file failed.
    #[error(transparent)]
    Coredump(#[from] checkpoint_forensics::coredump::Error),
    /// Talking to the cluster failed.
    #[error(transparent)]
    Cluster(#[from] checkpoint_cluster::Error),
    /// Building, writing, pushing or reading a checkpoint image failed.
    #[error(transparent)]
    Registry(#[from] checkpoint_registry::Error),
    /// The secret-detection rule table is unusable.
    #[error(transparent)]
    Secrets(#[from] checkpoint_forensics::secrets::Error),
    /// Rendering or writing the output failed.
    #[error(transparent)]
    Output(#[from] crate::output::Error),
    /// An error of one part of the work, named: a checkpoint, a process of it.
    #[error("{context}")]
    In {
        /// The part (`CHECKPOINT`, `CHECKPOINT: pid 7`).
        context: String,
        /// What went wrong there.
        #[source]
        source: Box<Error>,
    },
    /// The command line asked for something impossible; the text says what to change.
    #[error("{0}")]
    Usage(String),
    /// The user left an interactive pick without choosing; nothing was done.
    #[error("cancelled at the prompt; nothing was done")]
    Cancelled,
    /// The default verb's TARGET looks like a mistyped verb, and no such pod could be
    /// checkpointed either.
    #[error("`{word}` is not a verb (did you mean `{verb}`?), and as a pod")]
    NotAVerb {
        /// The word given.
        word: String,
        /// The verb it resembles.
        verb: String,
        /// Why checkpointing it as a pod failed.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// This error, named by the part of the work it happened in.
    pub fn within(self, context: impl Into<String>) -> Error {
        Error::In {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// True when the error is only a closed stdout (`kubectl checkpoint ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        let mut source: Option<&(dyn StdError + 'static)> = Some(self);
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return true;
                }
            }
            source = err.source();
        }
        false
    }

    /// True when the user cancelled: Ctrl-C, or Esc/q at a prompt.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            Error::Cancelled | Error::Cluster(checkpoint_cluster::Error::Interrupted(_))
        )
    }

    /// The message for people: this error and each of its causes, joined by `: `,
    /// leaving out causes whose text the previous message already contains, then our hint for
    /// it, if any, on lines of its own. The message holds names from a checkpoint and text from
    /// servers, which are untrusted, so control characters in it are escaped as in every human
    /// format ([`crate::output::escape_text`]); the hint is ours and keeps its newlines.
    pub fn render(&self) -> String {
        let text = checkpoint_model::error_text(self);
        let mut text = match crate::output::escape_text(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
        if let Some(hint) = self.hint() {
            text.push('\n');
            text.push_str(hint);
        }
        text
    }

    /// Our advice for this error (see [`checkpoint_cluster::Error::hint`]).
    fn hint(&self) -> Option<&str> {
        match self {
            Error::Cluster(err) => err.hint(),
            Error::Registry(err) => err.hint(),
            Error::NotAVerb { source, .. } | Error::In { source, .. } => source.hint(),
            _ if self.is_out_of_descriptors() => Some(OUT_OF_DESCRIPTORS),
            _ => None,
        }
    }

    /// True when an open failed because the process or the system has too many files open
    /// (`EMFILE`, `ENFILE`).
    fn is_out_of_descriptors(&self) -> bool {
        let mut source: Option<&(dyn StdError + 'static)> = Some(self);
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if matches!(
                    io.raw_os_error(),
                    Some(libc_errno::EMFILE | libc_errno::ENFILE)
                ) {
                    return true;
                }
            }
            source = err.source();
        }
        false
    }
}

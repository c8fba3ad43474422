//! What a long cluster operation tells the person waiting for it. `cluster` never prints: it
//! calls a [`Reporter`] (and, for a transfer, a [`Progress`]), and the CLI draws spinners and
//! bars on a terminal or prints warnings to stderr. [`Silent`] ignores everything.

use std::time::Duration;

/// Receives what an operation waits for, its retries and its warnings. Calls are cheap and may
/// come from several tasks at once.
pub trait Reporter: Send + Sync {
    /// The operation now waits for `what` (e.g. "helper pod on node node-a to start").
    fn waiting(&self, what: &str);
    /// A transient failure of `what` (`reason`); try `attempt` of `retries` starts after
    /// `delay`.
    fn retrying(&self, what: &str, attempt: u32, retries: u32, delay: Duration, reason: &str);
    /// Something the user should know that is not an error (a replaced archive, a helper pod
    /// that was not trusted).
    fn warning(&self, text: &str);
}

/// Progress of one transfer, on top of what it waits for.
pub trait Progress: Reporter {
    /// The transfer of `what` (`total` bytes) starts, `done` of them already here (a resumed
    /// partial copy).
    fn start(&self, what: &str, total: u64, done: u64);
    /// `done` bytes have arrived.
    fn position(&self, done: u64);
    /// The copy of `what` continues the partial copy an earlier run left: `from` of its
    /// `total` bytes are here already.
    fn resumed(&self, what: &str, from: u64, total: u64);
    /// The transfer ended (either way); nothing of it may stay on the screen.
    fn finish(&self);
}

/// A [`Reporter`] and [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn waiting(&self, _what: &str) {}
    fn retrying(&self, _: &str, _: u32, _: u32, _: Duration, _: &str) {}
    fn warning(&self, _text: &str) {}
}

impl Progress for Silent {
    fn start(&self, _what: &str, _total: u64, _done: u64) {}
    fn position(&self, _done: u64) {}
    fn resumed(&self, _what: &str, _from: u64, _total: u64) {}
    fn finish(&self) {}
}

//! What the cluster verbs show on stderr while they wait: a spinner naming what they wait for,
//! a transfer bar that fits the terminal's width, and warnings (retries, replaced archives).
//! The one place that builds indicatif bars for the cluster verbs.
//!
//! Spinners and bars are drawn only on a terminal and never with `-o json|yaml`; warnings are
//! printed either way (above the bar when there is one). Every bar is cleared when its wait or
//! transfer ends, also on Ctrl-C, so nothing of it stays on the screen.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use checkpoint_cluster::{Progress, Reporter};

/// The width assumed when the terminal does not say.
const DEFAULT_WIDTH: usize = 80;

/// The spinner or bar on stderr, or only warnings.
pub(super) struct Activity {
    show: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Activity {
    /// Draws on stderr when `show` (a terminal, table output); else only prints warnings.
    pub fn new(show: bool) -> Activity {
        Activity {
            show,
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, draw: impl FnOnce(&ProgressBar)) {
        if !self.show {
            return;
        }
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let bar = slot.get_or_insert_with(|| {
            crate::stdout::flush_before_stderr();
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        draw(bar);
    }

    /// Runs `print` (which writes to stdout or stderr) with the bar out of the way, so that the
    /// lines it prints are not drawn over.
    pub fn suspend<T>(&self, print: impl FnOnce() -> T) -> T {
        let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// A note above the bar (or on its own without one).
    fn note(&self, text: &str) {
        let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(bar) => {
                crate::stdout::flush_before_stderr();
                bar.println(crate::messages::escaped("note", text))
            }
            None => crate::messages::note(text),
        }
    }

    fn say(&self, text: &str) {
        let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(bar) => {
                crate::stdout::flush_before_stderr();
                bar.println(crate::messages::escaped("warning", text))
            }
            None => crate::messages::warning(text),
        }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The terminal's width in columns.
fn width() -> usize {
    console::Term::stderr()
        .size_checked()
        .map(|(_, cols)| usize::from(cols))
        .filter(|cols| *cols >= 20)
        .unwrap_or(DEFAULT_WIDTH)
}

/// `text` cut to `max` characters by dropping its middle (`abc…xyz`).
pub(super) fn shorten_middle(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    if max < 3 {
        return chars.iter().take(max).collect();
    }
    let keep = max - 1;
    let head = keep / 2;
    let tail = keep - head;
    let mut out: String = chars.iter().take(head).collect();
    out.push('…');
    out.extend(chars.iter().skip(chars.len() - tail));
    out
}

/// A bar template that fits `width` columns: the name gets what the numbers leave.
fn bar_style(width: usize) -> ProgressStyle {
    let template = if width >= 110 {
        "{wide_msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta:>3}"
    } else if width >= 80 {
        "{wide_msg} [{bar:16}] {bytes}/{total_bytes} {binary_bytes_per_sec}"
    } else {
        "{wide_msg} {bytes}/{total_bytes}"
    };
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {wide_msg} {elapsed:>4}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Reporter for Activity {
    fn waiting(&self, what: &str) {
        let text = shorten_middle(&format!("waiting for {what}"), width().saturating_sub(8));
        self.with_bar(|bar| {
            bar.set_style(spinner_style());
            bar.set_message(text);
        });
    }

    fn retrying(&self, what: &str, attempt: u32, retries: u32, delay: Duration, reason: &str) {
        self.say(&format!(
            "{what}: {reason}; retrying in {:.1} s (retry {attempt} of {retries})",
            delay.as_secs_f64()
        ));
    }

    fn warning(&self, text: &str) {
        self.say(text);
    }
}

impl Progress for Activity {
    fn start(&self, what: &str, total: u64, done: u64) {
        let width = width();
        let name = shorten_middle(what, width / 2);
        self.with_bar(|bar| {
            bar.set_style(bar_style(width));
            bar.set_length(total);
            bar.set_position(done);
            bar.reset_eta();
            bar.set_message(name);
        });
    }

    fn resumed(&self, what: &str, from: u64, total: u64) {
        self.note(&format!(
            "resuming {what} at {} of {} (from the partial copy an earlier run left)",
            crate::output::human_size(from),
            crate::output::human_size(total)
        ));
    }

    fn position(&self, done: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.set_position(done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_in_the_middle() {
        assert_eq!(shorten_middle("abcdef", 6), "abcdef");
        assert_eq!(shorten_middle("abcdefgh", 5), "ab…gh");
        assert_eq!(
            shorten_middle(
                "checkpoint-secretloop_ckpt-app-2026-12-01T11:24:18Z.tar",
                30
            )
            .chars()
            .count(),
            30
        );
    }
}

//! The interactive list the picks draw on stderr: a prompt with its key hint, the typed filter, a
//! column header, and the rows that match the filter; one row or (for `delete`) several.
//!
//! Keys: typing filters (case-insensitive substring; every letter goes into the filter, so
//! there are no letter commands to move), Backspace edits the filter, Up/Down (and Tab /
//! Shift-Tab) and PageUp/PageDown move, Space marks rows when several may be chosen, Enter
//! chooses, and Esc, Ctrl-C, or `q` with an empty filter cancel. The key help has a line of its
//! own that fits 80 columns, so Esc is always shown. Keys are read raw, so Ctrl-C is a key here, not a
//! signal: every way out erases what was drawn and shows the cursor again, leaving the screen
//! as it was (after a choice, one line says what was chosen).
//!
//! Invariant: each frame is a known number of lines, each cut to the terminal's width, so the
//! next frame (and the final erase) moves up exactly that many lines.

use std::io;

use console::{Key, Term};

use crate::Error;

/// Rows shown at most, whatever the terminal's height.
const MAX_ROWS: usize = 15;

/// What the user may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Choose {
    /// Exactly one row.
    One,
    /// One or more rows (Space marks them).
    Several,
}

/// A list to choose from: `header` is aligned with `rows` (already escaped for the terminal).
#[derive(Debug)]
pub(super) struct Picker<'a> {
    /// What is asked, e.g. `Pod of namespace demo to checkpoint`.
    pub prompt: &'a str,
    /// Column header line, or empty.
    pub header: &'a str,
    /// One line per choice.
    pub rows: &'a [String],
    /// One row or several.
    pub choose: Choose,
}

/// The state between two keys.
struct State {
    filter: String,
    /// Index into the matching rows.
    cursor: usize,
    /// First matching row shown.
    top: usize,
    /// Marked rows (indices into all rows), with [`Choose::Several`].
    marked: Vec<usize>,
}

impl Picker<'_> {
    /// Shows the list on stderr and returns the indices chosen (into `rows`), in row order.
    /// [`Error::Cancelled`] when the user leaves without choosing.
    pub fn run(&self) -> Result<Vec<usize>, Error> {
        crate::stdout::flush_before_stderr();
        let term = Term::stderr();
        let result = self.interact(&term);
        // Whatever happened, the cursor comes back.
        let shown = term.show_cursor();
        let chosen = result.map_err(|err| {
            Error::Usage(format!(
                "the interactive pick failed ({err}); give the choice on the command line"
            ))
        })?;
        shown.map_err(|err| Error::Usage(format!("the terminal failed: {err}")))?;
        chosen.ok_or(Error::Cancelled)
    }

    fn interact(&self, term: &Term) -> io::Result<Option<Vec<usize>>> {
        let (height, width) = term.size();
        let visible = MAX_ROWS.min(usize::from(height).saturating_sub(5).max(3));
        let width = usize::from(width).max(20);
        let mut state = State {
            filter: String::new(),
            cursor: 0,
            top: 0,
            marked: Vec::new(),
        };
        term.hide_cursor()?;
        let mut drawn = 0;
        loop {
            let matching = self.matching(&state.filter);
            state.cursor = state.cursor.min(matching.len().saturating_sub(1));
            if state.cursor < state.top {
                state.top = state.cursor;
            } else if state.cursor >= state.top + visible {
                state.top = state.cursor + 1 - visible;
            }
            erase(term, drawn)?;
            drawn = self.draw(term, &state, &matching, visible, width)?;
            let key = term.read_key_raw()?;
            match key {
                Key::Escape | Key::CtrlC => {
                    erase(term, drawn)?;
                    return Ok(None);
                }
                Key::Char('q') if state.filter.is_empty() => {
                    erase(term, drawn)?;
                    return Ok(None);
                }
                Key::Enter => {
                    let Some(&current) = matching.get(state.cursor) else {
                        continue;
                    };
                    let mut chosen = state.marked.clone();
                    if chosen.is_empty() {
                        chosen.push(current);
                    }
                    chosen.sort_unstable();
                    erase(term, drawn)?;
                    let said = match chosen.as_slice() {
                        [one] => self
                            .rows
                            .get(*one)
                            .map(|row| row.split_whitespace().collect::<Vec<_>>().join(" "))
                            .unwrap_or_default(),
                        many => format!("{} chosen", many.len()),
                    };
                    term.write_line(&cut(&format!("{}: {said}", self.prompt), width))?;
                    return Ok(Some(chosen));
                }
                Key::ArrowUp | Key::BackTab => state.cursor = state.cursor.saturating_sub(1),
                Key::ArrowDown | Key::Tab => {
                    state.cursor = (state.cursor + 1).min(matching.len().saturating_sub(1))
                }
                Key::PageUp => state.cursor = state.cursor.saturating_sub(visible),
                Key::PageDown => {
                    state.cursor = (state.cursor + visible).min(matching.len().saturating_sub(1))
                }
                Key::Char(' ') if self.choose == Choose::Several => {
                    if let Some(&current) = matching.get(state.cursor) {
                        match state.marked.iter().position(|&m| m == current) {
                            Some(at) => {
                                state.marked.remove(at);
                            }
                            None => state.marked.push(current),
                        }
                    }
                }
                Key::Backspace => {
                    state.filter.pop();
                    state.cursor = 0;
                }
                Key::Char(c) if !c.is_control() => {
                    state.filter.push(c);
                    state.cursor = 0;
                    state.top = 0;
                }
                _ => {}
            }
        }
    }

    /// Indices of the rows that contain the filter, ignoring case.
    fn matching(&self, filter: &str) -> Vec<usize> {
        let filter = filter.to_lowercase();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.to_lowercase().contains(&filter))
            .map(|(i, _)| i)
            .collect()
    }

    /// Writes one frame; returns its number of lines.
    fn draw(
        &self,
        term: &Term,
        state: &State,
        matching: &[usize],
        visible: usize,
        width: usize,
    ) -> io::Result<usize> {
        let mut lines = vec![
            self.prompt.to_string(),
            format!("  {}", key_help(self.choose)),
            format!("  filter: {}", crate::output::escape_text(&state.filter)),
        ];
        let marks = self.choose == Choose::Several;
        if !self.header.is_empty() {
            lines.push(format!(
                "{}{}",
                if marks { "      " } else { "  " },
                self.header
            ));
        }
        if matching.is_empty() {
            lines.push("  (nothing matches)".to_string());
        }
        for (at, &index) in matching.iter().enumerate().skip(state.top).take(visible) {
            let pointer = if at == state.cursor { "> " } else { "  " };
            let mark = match (marks, state.marked.contains(&index)) {
                (false, _) => "",
                (true, true) => "[x] ",
                (true, false) => "[ ] ",
            };
            let row = self.rows.get(index).map(String::as_str).unwrap_or_default();
            lines.push(format!("{pointer}{mark}{row}"));
        }
        let hidden = matching.len().saturating_sub(state.top + visible);
        if hidden > 0 {
            lines.push(format!("  ... {hidden} more (PageDown)"));
        }
        for line in &lines {
            term.write_line(&cut(line, width))?;
        }
        Ok(lines.len())
    }
}

/// The keys, on a line of their own (62 and 74 columns with the indent: Esc is never cut at 80).
fn key_help(choose: Choose) -> &'static str {
    match choose {
        Choose::One => "Up/Down move, Enter choose, Esc cancel; type to filter",
        Choose::Several => "Up/Down move, Space mark, Enter choose, Esc cancel; type to filter",
    }
}

/// Moves up over the last frame and clears it.
fn erase(term: &Term, lines: usize) -> io::Result<()> {
    if lines > 0 {
        term.move_cursor_up(lines)?;
        term.clear_to_end_of_screen()?;
    }
    Ok(())
}

/// `line` cut to fit `width` columns less one (a full line would wrap on some terminals).
fn cut(line: &str, width: usize) -> String {
    let keep = width.saturating_sub(1);
    if line.chars().count() <= keep {
        return line.to_string();
    }
    let mut out: String = line.chars().take(keep.saturating_sub(1)).collect();
    out.push('~');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_ignore_case_and_cut_keeps_the_width() {
        let rows = vec!["web-1 node-a".to_string(), "Counters node-b".to_string()];
        let picker = Picker {
            prompt: "p",
            header: "",
            rows: &rows,
            choose: Choose::One,
        };
        assert_eq!(picker.matching(""), [0, 1]);
        assert_eq!(picker.matching("COUNT"), [1]);
        assert_eq!(picker.matching("node"), [0, 1]);
        assert!(picker.matching("zzz").is_empty());
        assert_eq!(cut("abcdef", 5), "abc~");
        assert_eq!(cut("abc", 5), "abc");
    }

    #[test]
    fn the_key_help_fits_80_columns() {
        for choose in [Choose::One, Choose::Several] {
            let line = format!("  {}", key_help(choose));
            assert!(line.chars().count() < 79, "{line}");
            assert_eq!(cut(&line, 80), line);
            assert!(line.contains("Esc cancel"));
        }
    }
}

//! Rendering reports as tables, trees, JSON and YAML into a caller's writer.
//!
//! Renderers never decide where output goes or whether it is a terminal: the caller passes a
//! writer and a [`Style`] (colour and tree glyphs only for a terminal without `NO_COLOR`).
//! Human formats (tables, trees, crit's text views) escape every string from the checkpoint
//! with [`escape_text`], in [`Table`], [`TreeNode`] and the text views; JSON and YAML keep the
//! data exact, written by the one JSON and the one YAML writer ([`write_json`], [`write_yaml`]).
//!
//! The fuzz target `checkpoint_views` compiles this module into itself to check the bytes the
//! binary prints, so it uses nothing else of the binary.

mod custody;
mod diff;
mod escape;
mod explore;
mod indicators;
mod machine;
mod memory;
mod report_table;
mod report_tree;
mod secrets;
mod summary;
mod table;
mod tree;

use std::io::Write;

use serde::Serialize;

use checkpoint_forensics::analyze::{CheckpointReport, ExploreReport};

pub use diff::render_diff;
pub use escape::{escape_once, escape_text};
pub use explore::render_explore_text;
pub use machine::{write_json, write_yaml, JsonLayout};
pub use memory::{render_dump, render_hexdump, render_memory_summaries, render_search};
pub use secrets::render_secrets;
pub use table::{Cell, Table};
pub use tree::TreeNode;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing the output failed.
    #[error("writing the output failed")]
    Io(#[from] std::io::Error),
    /// Serializing a report as JSON failed.
    #[error("serializing the report as JSON failed")]
    SerializeJson(#[source] serde_json::Error),
    /// Serializing a report as YAML failed.
    #[error("serializing the report as YAML failed")]
    SerializeYaml(#[source] serde_saphyr::SerializeError),
}

/// How to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// kubectl-like tables.
    #[default]
    Table,
    /// Indented trees.
    Tree,
    /// Pretty-printed JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Terminal niceties, on only when the output is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Bold headers.
    pub color: bool,
    /// Box-drawing glyphs in trees.
    pub glyphs: bool,
    /// The terminal's width in columns: long cells are cut to fit it. `None` when the output
    /// is not a terminal: then nothing is ever cut.
    pub width: Option<usize>,
}

impl Style {
    /// The style for an output that is (or is not) a terminal, given the `NO_COLOR` variable;
    /// on a terminal, its width (see [`terminal_width`]).
    pub fn for_terminal(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> Style {
        let on = is_terminal && no_color.is_none_or(|value| value.is_empty());
        Style {
            color: on,
            glyphs: on,
            width: is_terminal.then(terminal_width).flatten(),
        }
    }
}

/// Narrowest width long cells are cut to, whatever the terminal says.
const MIN_TERMINAL_WIDTH: usize = 40;

/// The width of the terminal on stdout: `COLUMNS` when set (as `ls` honours it), else what the
/// terminal reports; `None` when neither says.
pub fn terminal_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, cols)| usize::from(cols))
        })?;
    Some(columns.max(MIN_TERMINAL_WIDTH))
}

/// `text` cut to at most `max` characters by replacing its middle with `…` (the start and the
/// end of a path say the most); unchanged when it fits.
pub fn shorten_middle(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    let keep = max - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
    out
}

/// Renders checkpoint reports: one checkpoint's summary or head, or one overview row per
/// checkpoint, then the sections each report holds; `wide` adds columns to the tables, as
/// kubectl's `-o wide` does. JSON and YAML give a list with one object per checkpoint.
pub fn render_reports(
    reports: &[CheckpointReport],
    format: Format,
    style: Style,
    wide: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(&reports, out),
        Format::Yaml => render_yaml(&reports, out),
        Format::Table => report_table::render(reports, style, wide, out),
        Format::Tree => report_tree::render(reports, style, out),
    }
}

/// Renders one crit `x` view: crit's text for tables and trees, else JSON or YAML.
pub fn render_explore(
    report: &ExploreReport,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Json => render_json(report, out),
        Format::Yaml => render_yaml(report, out),
        Format::Table | Format::Tree => render_explore_text(report, out),
    }
}

/// Pretty JSON (two spaces) followed by a newline, through the one JSON writer.
fn render_json<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> Result<(), Error> {
    write_json(value, JsonLayout::Pretty(2), out)
}

/// YAML through the one YAML writer.
fn render_yaml<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> Result<(), Error> {
    write_yaml(value, out)
}

/// Bytes as kubectl-ish human text: `512 B`, `8.7 MiB`, `64.0 TiB` (the model's one size
/// formatter, which its own messages use too).
pub use checkpoint_model::sizes::human_size;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_follows_terminal_and_no_color() {
        use std::ffi::OsStr;
        let style = Style::for_terminal(true, None);
        assert!(style.color && style.glyphs);
        assert!(Style::for_terminal(true, Some(OsStr::new(""))).color);
        let no_color = Style::for_terminal(true, Some(OsStr::new("1")));
        assert!(!no_color.color && !no_color.glyphs);
        assert_eq!(Style::for_terminal(false, None), Style::default());
    }

    #[test]
    fn middles_are_shortened() {
        assert_eq!(shorten_middle("short", 10), "short");
        assert_eq!(
            shorten_middle("/var/lib/kubelet/checkpoints/x.tar", 15),
            "/var/li…s/x.tar"
        );
        assert_eq!(shorten_middle("abcdef", 5), "ab…ef");
        assert_eq!(shorten_middle("abcdef", 1), "…");
    }

    #[test]
    fn json_is_a_list_of_checkpoints() {
        let report = CheckpointReport {
            checkpoint: "a.tar".into(),
            container_name: "counter".into(),
            ..CheckpointReport::default()
        };
        let mut out = Vec::new();
        render_reports(&[report], Format::Json, Style::default(), false, &mut out)
            .expect("writing to a Vec cannot fail");
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(value[0]["container_name"], "counter");
        assert!(value[0].get("process_tree").is_none());
    }
}

//! `kubectl checkpoint diff OLD NEW`: what changed between two checkpoints, built by
//! [`checkpoint_forensics::diff`] and rendered by [`crate::output::render_diff`].
//!
//! Exit status as diff(1): 0 no differences, 1 differences, 2 trouble (a checkpoint that cannot
//! be read, or a part of one that could not be compared: the report is still printed, and each
//! such part is named on stderr).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::archive_args::ArchiveArgs;
use super::{Outcome, OutputFormat};
use crate::output::{self, Format, Style};
use crate::Error;
use checkpoint_forensics::diff::{self, DiffParams};
use checkpoint_model::archive::Checkpoint;

/// Arguments of `kubectl checkpoint diff`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # What changed in a container between two checkpoints
  kubectl checkpoint diff before.tar after.tar

  # With the changed page ranges of each mapping, as JSON
  kubectl checkpoint diff before.tar after.tar --memory -o json

  # As a tree; the exit status says whether anything changed (0 no, 1 yes)
  kubectl checkpoint diff a.tar b.tar -o tree

Exit status as diff(1): 0 no differences, 1 differences, 2 trouble.")]
pub struct DiffArgs {
    /// The older checkpoint: an archive or a CRIU image directory.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The newer checkpoint.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// List the changed page ranges of each mapping, not only how many pages changed.
    #[arg(long)]
    pub memory: bool,
    /// Output format.
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "table", value_parser = OutputFormat::parser(DIFF_FORMATS))]
    pub output: OutputFormat,
    /// Spool directory and limits of the archive reader.
    #[command(flatten)]
    pub archive: ArchiveArgs,
}

/// The `-o` values diff honours.
const DIFF_FORMATS: &[OutputFormat] = &[
    OutputFormat::Table,
    OutputFormat::Tree,
    OutputFormat::Json,
    OutputFormat::Yaml,
];

fn output_format(format: OutputFormat) -> Format {
    format.render_format()
}

/// Runs `diff`.
pub fn run(args: DiffArgs) -> Result<Outcome, Error> {
    let params = args.archive.open_params();
    let old = Checkpoint::open_with(&args.old, &params)?;
    let new = Checkpoint::open_with(&args.new, &params)?;
    let report = diff::collect_diff(
        old,
        &args.old.display().to_string(),
        new,
        &args.new.display().to_string(),
        &DiffParams {
            page_ranges: args.memory,
        },
    )?;
    let style = Style::for_terminal(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    crate::stdout::with(|out| {
        output::render_diff(&report, output_format(args.output), style, out)
    })?;
    for item in &report.not_compared {
        let prefix = item
            .pid
            .map(|pid| format!("pid {pid}: "))
            .unwrap_or_default();
        let reason = item
            .reason
            .strip_prefix(prefix.as_str())
            .unwrap_or(&item.reason);
        crate::messages::error(format_args!("{prefix}{} not compared: {reason}", item.what));
    }
    Ok(if !report.not_compared.is_empty() {
        Outcome::Trouble
    } else if report.differences() > 0 {
        Outcome::Differences
    } else {
        Outcome::Success
    })
}

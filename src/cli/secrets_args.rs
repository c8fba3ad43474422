//! Flags of `analyze` that look for secrets (`--secrets`, `--reveal`) and the scan they drive:
//! each input loaded once, scanned by [`checkpoint_forensics::analyze::collect_secrets`] with a progress bar on
//! a terminal's stderr, rendered by [`crate::output::render_secrets`].
//!
//! Exit status: 0 whether or not secrets are found (a finding is not an error); 1 when a part of
//! a checkpoint could not be scanned (each named on stderr) or one of several inputs failed.

use std::io::IsTerminal;
use std::path::Path;

use clap::Args;

use super::archive_args::{open_checkpoint, ArchiveArgs};
use super::memory_args::{scan_progress_bar, shows_progress};
use super::Outcome;
use crate::output::{self, Format, Style};
use crate::Error;
use checkpoint_forensics::analyze::{self, ScanEvent, SecretsParams};
use checkpoint_model::dump::Dump;

/// Secrets flags of `kubectl checkpoint analyze`.
#[derive(Debug, Default, Clone, Copy, Args)]
#[command(next_help_heading = "Secrets")]
pub struct SecretsArgs {
    /// Credentials anywhere in the checkpoint, masked: keys, tokens, JWTs, passwords.
    ///
    /// Everything the checkpoint stores is read (process memory, command lines, environments,
    /// ghost files, pipe and socket queues, shared memory, rootfs-diff.tar, the engine's files)
    /// for cloud keys, tokens, JWTs, private keys, passwords; each with where it is and how many
    /// copies, the value masked. With --pid, that process only.
    #[arg(long, conflicts_with_all = ["SectionArgs", "crit_x", "summary", "dump_memory", "hexdump", "search", "search_regex"])]
    pub secrets: bool,
    /// With --secrets: show each secret's value instead of its masked form.
    #[arg(long, requires = "secrets", hide_short_help = true)]
    pub reveal: bool,
}

/// Scans each input (a path and the name to report it under) for secrets and renders the
/// reports; `pid` limits the scan to one process.
pub fn run(
    args: &SecretsArgs,
    pid: Option<u32>,
    inputs: &[(&Path, String)],
    format: Format,
    archive: &ArchiveArgs,
) -> Result<Outcome, Error> {
    let params = SecretsParams::default().reveal(args.reveal).pid(pid);
    let mut reports = Vec::with_capacity(inputs.len());
    let mut failed = 0usize;
    for (input, name) in inputs {
        match scan(input, name, &params, archive, format) {
            Ok(report) => reports.push(report),
            Err(err) if inputs.len() == 1 => return Err(err),
            Err(err) => {
                crate::messages::error_of(&err);
                failed += 1;
            }
        }
    }
    let style = Style::for_terminal(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    crate::stdout::with(|out| output::render_secrets(&reports, format, style, out))?;
    for report in &reports {
        if report.not_itemised > 0 {
            crate::messages::warning(format_args!(
                "{}: {} more copies of further values were counted but not listed (the report keeps at most {} values)",
                report.checkpoint,
                report.not_itemised,
                params.limits.max_secrets
            ));
        }
        for part in &report.incomplete {
            crate::messages::error(format_args!(
                "{}: {}: {}",
                report.checkpoint, part.what, part.reason
            ));
        }
        if !report.incomplete.is_empty() {
            failed += 1;
        }
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    })
}

/// Loads one checkpoint and scans it, with a progress bar when stderr is a terminal.
fn scan(
    input: &Path,
    name: &str,
    params: &SecretsParams,
    archive: &ArchiveArgs,
    format: Format,
) -> Result<analyze::SecretsReport, Error> {
    let dump = Dump::load(open_checkpoint(input, archive)?)?;
    if let Some(pid) = params.pid {
        dump.task(pid)?;
    }
    let show = shows_progress(format);
    let bar = scan_progress_bar(show);
    if show {
        bar.set_length(analyze::secrets_scan_size(&dump, params));
    }
    let mut progress = |event: ScanEvent<'_>| match event {
        ScanEvent::Stage(stage) => bar.set_message(stage.to_owned()),
        ScanEvent::Bytes(bytes) => bar.inc(bytes),
    };
    let mut report = analyze::collect_secrets(&dump, params, &mut progress)?;
    bar.finish_and_clear();
    // Data whose image could not be read (a queue, a ghost file) was not scanned.
    for fact in analyze::unreadable_images(&dump) {
        report.incomplete.push(analyze::Incomplete {
            what: fact.field,
            reason: fact.reason,
        });
    }
    report.checkpoint = name.to_owned();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<super::SecretsArgs, clap::Error> {
        let argv = ["kubectl-checkpoint", "analyze", "--local", "x.tar"];
        let cli = Cli::try_parse_from(argv.iter().chain(args.iter()))?;
        match cli.command {
            Some(Command::Analyze(analyze)) => Ok(analyze.secrets),
            other => panic!("not analyze: {other:?}"),
        }
    }

    #[test]
    fn reveal_needs_secrets_and_secrets_is_a_view_of_its_own() {
        let args = parse(&["--secrets", "--reveal", "--pid", "7"]).unwrap();
        assert!(args.secrets && args.reveal);
        assert!(!parse(&[]).unwrap().secrets);
        assert!(parse(&["--reveal"]).is_err(), "--reveal needs --secrets");
        for other in [
            &["--search", "x"][..],
            &["--memory"],
            &["--ps-tree"],
            &["--all"],
            &["--crit-x", "ps"],
        ] {
            let mut args = vec!["--secrets"];
            args.extend_from_slice(other);
            assert!(parse(&args).is_err(), "--secrets with {other:?}");
        }
    }
}

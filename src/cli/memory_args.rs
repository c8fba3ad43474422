//! Flags of `analyze` that read process memory: summaries, raw dumps, hexdumps and search over
//! every process of a checkpoint.
//!
//! `--dump-memory FILE` writes the present pages of one process back to back in address order
//! (never a sparse image of the whole address space, which could be 128 TiB long); the command's
//! output is the map from file offsets to addresses (table, or JSON/YAML with `-o`).

use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::archive_args::{open_checkpoint, open_checkpoint_streaming, ArchiveArgs};
use super::{Outcome, OutputFormat};
use crate::output::{self, Format, Style};
use crate::Error;
use checkpoint_forensics::analyze::ScanEvent;
use checkpoint_forensics::memory::report::{
    build_hexdump, build_summary, write_dump_file, SearchReport,
};
use checkpoint_forensics::memory::search::SearchParams;
use checkpoint_forensics::memory::{self, Matcher, ProcessMemory};
use checkpoint_model::dump::Dump;
use checkpoint_model::sources::{self, Selection};
use checkpoint_model::streamed::StreamedSearch;

/// Memory flags of `kubectl checkpoint analyze`.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Memory")]
pub struct MemoryArgs {
    /// A memory summary per process: VMAs, present (dumped) and shared bytes.
    #[arg(long = "memory")]
    pub summary: bool,
    /// Limit the memory views, the search and the process views to this process.
    ///
    /// The process views (--ps-tree, --files, --sockets) show it and its descendants (a pid of
    /// the checkpoint's process tree).
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Write the present memory of --pid to FILE (mode 0600): present pages back to back in address
    /// order; the output maps file offsets to addresses.
    #[arg(long, value_name = "FILE", requires = "pid", hide_short_help = true)]
    pub dump_memory: Option<PathBuf>,
    /// Hexdump LEN bytes (default 256) of --pid's memory at ADDR (hex with 0x, or decimal).
    #[arg(
        long,
        value_name = "ADDR[:LEN]",
        requires = "pid",
        hide_short_help = true
    )]
    pub hexdump: Option<HexdumpRange>,
    /// Search the memory of every process (or --pid) for a string.
    ///
    /// Each hit with pid, command, address, VMA and context.
    #[arg(long, value_name = "STRING", conflicts_with = "search_regex")]
    pub search: Option<String>,
    /// Search the memory of every process (or --pid) for a regex (Rust regex syntax over bytes).
    #[arg(long, value_name = "REGEX", hide_short_help = true)]
    pub search_regex: Option<String>,
    /// Bytes of context shown on each side of a search hit.
    #[arg(
        long = "match-context",
        short = 'C',
        value_name = "N",
        default_value_t = 16,
        hide_short_help = true
    )]
    pub match_context: usize,
    /// Stop searching a checkpoint after N matches (0: no limit); the report says when it
    /// stopped. Bounds memory and output for common patterns.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        hide_short_help = true
    )]
    pub max_matches: usize,
}

/// An `ADDR[:LEN]` range for `--hexdump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexdumpRange {
    /// First address.
    pub vaddr: u64,
    /// Length in bytes.
    pub len: u64,
}

/// Default `--hexdump` length.
const DEFAULT_HEXDUMP_LEN: u64 = 256;

fn parse_number(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => text.replace('_', "").parse::<u64>(),
    };
    parsed.map_err(|err| format!("`{text}` is not a number (hex with 0x, or decimal): {err}"))
}

impl FromStr for HexdumpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, len) = match text.split_once(':') {
            Some((addr, len)) => (addr, parse_number(len)?),
            None => (text, DEFAULT_HEXDUMP_LEN),
        };
        if len == 0 {
            return Err("the length must be at least 1".into());
        }
        Ok(HexdumpRange {
            vaddr: parse_number(addr)?,
            len,
        })
    }
}

impl MemoryArgs {
    /// True if any memory view was asked for (then `analyze` runs [`run`] instead of its reports).
    pub fn is_requested(&self) -> bool {
        self.summary
            || self.dump_memory.is_some()
            || self.hexdump.is_some()
            || self.search.is_some()
            || self.search_regex.is_some()
    }

    fn matcher(&self) -> Result<Option<(Matcher, String, bool)>, Error> {
        let usage = |err: memory::PatternError| Error::Usage(format!("{err}"));
        if let Some(text) = &self.search {
            return Ok(Some((
                Matcher::literal(text.as_bytes()).map_err(usage)?,
                text.clone(),
                false,
            )));
        }
        if let Some(re) = &self.search_regex {
            return Ok(Some((Matcher::regex(re).map_err(usage)?, re.clone(), true)));
        }
        Ok(None)
    }
}

fn format_of(output: OutputFormat) -> Format {
    output.render_format()
}

/// Runs the memory views asked for on each input: summary, dump, hexdump, then search.
pub fn run(
    args: &MemoryArgs,
    inputs: &[PathBuf],
    output: OutputFormat,
    archive: &ArchiveArgs,
) -> Result<Outcome, Error> {
    let matcher = args.matcher()?;
    let single = args.dump_memory.is_some() || args.hexdump.is_some();
    if single && inputs.len() != 1 {
        return Err(Error::Usage(
            "--dump-memory and --hexdump read one checkpoint: give exactly one input".into(),
        ));
    }
    let format = format_of(output);
    let style = Style::for_terminal(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let mut summaries = Vec::new();
    let mut searches = Vec::new();
    // What could not be read, each error named by its checkpoint (and process).
    let mut failures: Vec<Error> = Vec::new();
    let mut unread: Vec<Error> = Vec::new();
    // A search that reads no page otherwise goes through a compressed archive's pages in its one
    // decompression pass, without spooling them.
    let streamable = args.dump_memory.is_none() && args.hexdump.is_none();
    let limit = (args.max_matches > 0).then_some(args.max_matches);
    for input in inputs {
        let mut streamed = matcher
            .as_ref()
            .filter(|_| streamable)
            .map(|(matcher, ..)| StreamedSearch::new(matcher, args.match_context, limit));
        let checkpoint = match streamed.as_mut() {
            Some(visitor) => open_checkpoint_streaming(input, archive, visitor)?,
            None => open_checkpoint(input, archive)?,
        };
        let streamed = streamed.filter(|_| checkpoint.pages_streamed());
        let dump = Dump::load(checkpoint)?;
        // Facts of the whole checkpoint that could not be read (an image broken or of another
        // type, such as a FIFO's unread data): the views run without them, and say so.
        unread.extend(
            dump.unavailable()
                .iter()
                .map(|fact| Error::from(fact.to_fact_error()).within(dump.display_name())),
        );
        let processes = select_processes(&dump, args.pid)?;
        if args.summary {
            for (pid, command) in &processes {
                match dump.memory(*pid) {
                    Ok(memory) => {
                        summaries.push(build_summary(&memory, dump.display_name(), command))
                    }
                    Err(err) => failures.push(process_error(&dump, *pid, err)),
                }
            }
        }
        if let Some(path) = &args.dump_memory {
            let (pid, command) = processes.first().cloned().unwrap_or_default();
            let memory = dump.memory(pid)?;
            let report = dump_to_file(&memory, &command, path)?;
            crate::stdout::with(|out| output::render_dump(&report, format, style, out))?;
        }
        if let Some(range) = args.hexdump {
            let (pid, command) = processes.first().cloned().unwrap_or_default();
            let memory = dump.memory(pid)?;
            let report = build_hexdump(&memory, &command, range.vaddr, range.len)?;
            crate::stdout::with(|out| output::render_hexdump(&report, format, out))?;
        }
        if let Some((matcher, pattern, regex)) = &matcher {
            let params = SearchParams {
                matcher,
                pattern,
                regex: *regex,
                context: args.match_context,
                limit,
                pid: args.pid,
                streamed: streamed.as_ref(),
            };
            searches.push(search_checkpoint(&dump, &params, format, &mut failures));
        }
    }
    // A table of no process says nothing the errors below do not.
    let nothing_summarised = summaries.is_empty() && !failures.is_empty();
    if args.summary && !(nothing_summarised && matches!(format, Format::Table | Format::Tree)) {
        crate::stdout::with(|out| output::render_memory_summaries(&summaries, format, style, out))?;
    }
    let searched = searches.iter().map(|r| r.processes.len()).sum::<usize>();
    if !failures.is_empty() && failures.len() == searched {
        // Nothing could be searched: the last failure is the error, the others are reported
        // before it.
        if let Some(last) = failures.pop() {
            for err in unread.iter().chain(&failures) {
                crate::messages::error_of(err);
            }
            return Err(last);
        }
    }
    if matcher.is_some() {
        let total: usize = searches
            .iter()
            .map(|report| report.matches.len() + report.stored_matches.len())
            .sum();
        if total == 0 && matches!(format, Format::Table | Format::Tree) {
            crate::messages::line("No matches found.");
        } else {
            crate::stdout::with(|out| output::render_search(&searches, format, style, out))?;
        }
        for report in searches.iter().filter(|r| r.truncated) {
            crate::messages::warning(format_args!(
                "{}: stopped after {} matches; more may exist (raise --max-matches, 0 for no limit)",
                report.checkpoint,
                report.matches.len()
            ));
        }
    }
    for err in unread.iter().chain(&failures) {
        crate::messages::error_of(err);
    }
    Ok(if failures.is_empty() && unread.is_empty() {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    })
}

/// `err` of process `pid`, named by the checkpoint and, unless its text does, the process.
fn process_error(dump: &Dump, pid: u32, err: checkpoint_model::dump::Error) -> Error {
    let context = match err.names_process() {
        Some(named) if named == pid => dump.display_name().to_owned(),
        _ => format!("{}: pid {pid}", dump.display_name()),
    };
    Error::from(err).within(context)
}

/// The processes to read, in pstree order, with their command names: all live ones, or only
/// `pid`.
fn select_processes(dump: &Dump, pid: Option<u32>) -> Result<Vec<(u32, String)>, Error> {
    match pid {
        Some(pid) => {
            let task = dump.task(pid)?;
            Ok(vec![(task.pid, task.comm.clone())])
        }
        None => Ok(dump
            .tasks()
            .iter()
            .filter(|task| task.state.has_resources())
            .map(|task| (task.pid, task.comm.clone()))
            .collect()),
    }
}

/// Searches one checkpoint (see [`memory::search`]), with a progress bar on a terminal's stderr;
/// what could not be searched is added to `failures`.
fn search_checkpoint(
    dump: &Dump,
    params: &SearchParams<'_>,
    format: Format,
    failures: &mut Vec<Error>,
) -> SearchReport {
    let show_progress = shows_progress(format);
    let bar = scan_progress_bar(show_progress);
    if show_progress {
        bar.set_length(sources::walk_size(dump, &Selection { pid: params.pid }));
    }
    let mut progress = |event: ScanEvent<'_>| match event {
        ScanEvent::Stage(stage) => bar.set_message(stage.to_owned()),
        ScanEvent::Bytes(bytes) => bar.inc(bytes),
    };
    let (report, failed) = memory::search::collect_search(dump, params, &mut progress);
    bar.finish_and_clear();
    failures.extend(failed.into_iter().map(|failure| {
        let context = match failure.what {
            Some(what) => format!("{}: {what}", dump.display_name()),
            None => dump.display_name().to_owned(),
        };
        Error::from(failure.error).within(context)
    }));
    report
}

/// True when a scan of memory should show a progress bar: stderr is a terminal and the output
/// is for people.
pub(super) fn shows_progress(format: Format) -> bool {
    std::io::stderr().is_terminal() && matches!(format, Format::Table | Format::Tree)
}

/// The progress bar of a scan over memory (`{msg} [===> ] bytes/total rate`) on stderr, or a
/// hidden one.
pub(super) fn scan_progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    // Nothing pending for stdout goes out after the bar has been drawn over it.
    crate::stdout::flush_before_stderr();
    let bar = ProgressBar::new(0);
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Writes the dump file as a core file is written: under a temporary 0600 name in the target's
/// directory, synced, then renamed into place, so a failure (a full disk) never leaves a partial
/// file and nothing is ever written through a symbolic link or into a FIFO or device. An existing
/// regular file is replaced; anything else at the path is refused.
fn dump_to_file(
    memory: &ProcessMemory,
    command: &str,
    path: &Path,
) -> Result<memory::report::DumpReport, Error> {
    let display = path.display().to_string();
    let failed = |source: std::io::Error| memory::Error::CreateDump {
        path: display.clone(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_file() {
            let kind = if meta.file_type().is_symlink() {
                "a symbolic link"
            } else if meta.is_dir() {
                "a directory"
            } else {
                "not a regular file"
            };
            return Err(Error::Usage(format!(
                "--dump-memory {display}: the path exists and is {kind}; refusing to write there"
            )));
        }
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".kubectl-checkpoint-memory.")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(failed)?;
    let report =
        write_dump_file(memory, command, &display, temp.as_file()).map_err(|err| match err {
            memory::Error::Write(source)
            | memory::Error::Dump(checkpoint_model::dump::Error::Write(source)) => failed(source),
            other => other,
        })?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(path).map_err(|err| failed(err.error))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        memory: MemoryArgs,
    }

    fn parse(args: &[&str]) -> Result<MemoryArgs, clap::Error> {
        Harness::try_parse_from(std::iter::once("x").chain(args.iter().copied())).map(|h| h.memory)
    }

    #[test]
    fn hexdump_ranges() {
        let cases = [
            ("0x1000", Ok((0x1000, 256))),
            ("0x7ffcea800f7e:0x20", Ok((0x7ffcea800f7e, 0x20))),
            ("4096:16", Ok((4096, 16))),
            ("0x1000:0", Err(())),
            ("zz", Err(())),
            ("0x1000:abc", Err(())),
        ];
        for (text, want) in cases {
            let got = text
                .parse::<HexdumpRange>()
                .map(|r| (r.vaddr, r.len))
                .map_err(|_| ());
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn flags_parse_and_depend() {
        let args = parse(&["--search", "KEY", "-C", "4", "--pid", "7"]).unwrap();
        assert_eq!(args.search.as_deref(), Some("KEY"));
        assert_eq!((args.match_context, args.pid), (4, Some(7)));
        assert!(args.is_requested());
        assert!(!parse(&[]).unwrap().is_requested());
        assert!(parse(&["--memory"]).unwrap().summary);
        assert!(
            parse(&["--dump-memory", "f"]).is_err(),
            "--dump-memory needs --pid"
        );
        assert!(
            parse(&["--hexdump", "0x10"]).is_err(),
            "--hexdump needs --pid"
        );
        assert!(parse(&["--search", "a", "--search-regex", "b"]).is_err());
        assert_eq!(parse(&["--search", "x"]).unwrap().match_context, 16);
    }

    #[test]
    fn bad_patterns_are_usage_errors() {
        let args = parse(&["--search-regex", "("]).unwrap();
        assert!(matches!(args.matcher(), Err(Error::Usage(_))));
        let args = parse(&["--search", ""]).unwrap();
        assert!(matches!(args.matcher(), Err(Error::Usage(_))));
    }
}

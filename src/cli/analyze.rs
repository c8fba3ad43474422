//! `kubectl checkpoint analyze`: reports on checkpoint archives and CRIU image directories.
//!
//! With `--local`, every input is a file or directory on this machine: it is opened with
//! [`checkpoint_model::archive`], turned into a report by [`checkpoint_forensics::analyze`] and rendered by
//! [`crate::output`] to stdout. Without it, the one input is a TARGET: its container is
//! checkpointed and fetched into a private temp directory, analysed the same way, and removed.
//! With `--remote`, the one input (TARGET or NODE:PATH) is analysed on its node by the agent
//! (see `remote_analysis`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::archive_args::{self, ArchiveArgs};
use super::checkpoint::{checkpoint_to_temp, report_restarts, RemoteArgs};
use super::memory_args::MemoryArgs;
use super::pick::interactive;
use super::secrets_args::{self, SecretsArgs};
use super::{Outcome, OutputFormat};
use crate::output::{self, Format, Style};
use crate::Error;
use checkpoint_cluster::CheckpointRecord;
use checkpoint_forensics::analyze::{self, ExploreView, Sections};
use checkpoint_model::archive::Checkpoint;

/// Arguments of `kubectl checkpoint analyze`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Checkpoint a pod's container, fetch and analyse the archive
  kubectl checkpoint analyze -n demo pod/counters-857d7978fd-jnkck -c counter

  # Compromise indicators of an archive here; its secrets, masked
  kubectl checkpoint analyze --local counters.tar --indicators
  kubectl checkpoint analyze --local counters.tar --secrets

More flags and examples: kubectl checkpoint analyze --help")]
#[command(after_long_help = "Examples:
  # Checkpoint a container, fetch and analyse the archive (no local copy kept)
  kubectl checkpoint analyze -n demo pod/counters-857d7978fd-jnkck -c counter

  # Overview of archives: container, image, engine, pod, sizes (one row each)
  kubectl checkpoint analyze --local counters.tar other.tar.zst

  # Process tree with command lines and environments, open files, sockets
  kubectl checkpoint analyze --local counters.tar --ps-tree --cmdline --env \\
      --files --sockets

  # What an incident responder checks first: fileless or deleted executables,
  # reverse shells, LD_PRELOAD, writable and executable memory, ...
  kubectl checkpoint analyze --local counters.tar --indicators

  # Credentials anywhere in the checkpoint (memory, environment, files,
  # queues), where each copy is, values masked
  kubectl checkpoint analyze --local counters.tar --secrets

  # Everything as JSON (checkpointctl inspect's keys) for scripts
  kubectl checkpoint analyze --local counters.tar -o json

  # crit's views of a CRIU image directory (as `crit x DIR ps`)
  kubectl checkpoint analyze --local ./images --crit-x ps")]
pub struct AnalyzeArgs {
    /// Analyse archives or image directories on this machine instead of checkpointing TARGET.
    #[arg(long)]
    pub local: bool,
    /// Archives or image dirs (--local), or a TARGET, or NODE:PATH (--remote).
    ///
    /// With --local: checkpoint archives or CRIU image directories. Without: one TARGET
    /// (`pod/NAME`, `NAME` or `pod NAME`) to checkpoint, fetch and analyse; left out on a
    /// terminal, pick one of the namespace's running pods. With --remote: one TARGET, or the
    /// NODE:PATH of an archive on a node, to analyse there.
    #[arg(value_name = "TARGET|PATH")]
    pub inputs: Vec<PathBuf>,
    /// Output format.
    ///
    /// With json or yaml and no section flag, every section is included.
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "table", value_parser = OutputFormat::parser(ANALYZE_FORMATS))]
    pub output: OutputFormat,
    /// Report sections.
    #[command(flatten)]
    pub sections: SectionArgs,
    /// Print one of crit's `x` views (`crit x DIR ps|fds|mems|rss`) instead of the report.
    #[arg(long, value_enum, value_name = "VIEW", conflicts_with_all = SECTION_FLAGS, hide_short_help = true)]
    pub crit_x: Option<CritView>,
    /// Memory views and search.
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Secrets in everything the checkpoint stores.
    #[command(flatten)]
    pub secrets: SecretsArgs,
    /// Spool directory and limits of the archive reader (boxed: the verb's arguments stay small).
    #[command(flatten)]
    pub archive: Box<ArchiveArgs>,
    /// Analysis on the node (`--remote`; boxed: the verb's arguments stay small).
    #[command(flatten)]
    pub agent: Box<AgentArgs>,
    /// The name to report the checkpoint under, instead of its path (the node agent's).
    #[arg(long, value_name = "NAME", requires = "local", hide = true)]
    pub report_name: Option<String>,
    /// Checkpoint and fetch flags (without --local).
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// `analyze --remote`: the flags of the node agent.
#[derive(Debug, Args)]
#[command(next_help_heading = "Checkpoint")]
pub struct AgentArgs {
    /// Analyse on the node; only the report travels (TARGET or NODE:PATH).
    ///
    /// Copies this program (or --agent-binary) into the helper pod, checks its sha256 there,
    /// and runs `analyze --local` of the archive on the node, with the helper's read-only
    /// mount, no token, its memory limit and --agent-timeout. A node of another architecture,
    /// or an agent that does not run there, falls back to fetching the archive and analysing
    /// it here; an agent changed on the node is refused. The result is as trustworthy as the
    /// node.
    #[arg(long = "remote", conflicts_with_all = ["local", "dump_memory", "spool_dir"])]
    pub on_node: bool,
    /// With --remote: the agent to copy to the node, for a node of another architecture.
    ///
    /// A static kubectl-checkpoint of this version, built for the node (the release archive
    /// of that platform). Without it, this program itself, when the node's OS and
    /// architecture are this program's.
    #[arg(
        long,
        value_name = "PATH",
        requires = "on_node",
        hide_short_help = true
    )]
    pub agent_binary: Option<PathBuf>,
    /// With --remote: seconds the agent may run before it is killed.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600,
        requires = "on_node",
        hide_short_help = true
    )]
    pub agent_timeout: u64,
}

/// The `-o` values analyze honours (`wide`: the reports' tables with more columns; the other
/// views show their one table).
const ANALYZE_FORMATS: &[OutputFormat] = &[
    OutputFormat::Table,
    OutputFormat::Wide,
    OutputFormat::Tree,
    OutputFormat::Json,
    OutputFormat::Yaml,
];

/// The section flags, for `conflicts_with_all`.
const SECTION_FLAGS: [&str; 11] = [
    "stats",
    "ps_tree",
    "cmdline",
    "env",
    "files",
    "sockets",
    "mounts",
    "metadata",
    "rootfs_diff",
    "indicators",
    "all",
];

/// Which sections to add to the overview.
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Sections (with --local, or of TARGET)")]
pub struct SectionArgs {
    /// CRIU dump statistics (stats-dump): times and pages.
    ///
    /// Freezing, frozen, memdump and memwrite times, and page counts.
    #[arg(long, hide_short_help = true)]
    pub stats: bool,
    /// The process tree: pids, commands, task states, threads.
    #[arg(long)]
    pub ps_tree: bool,
    /// Add each process's command line, read from its memory (implies --ps-tree).
    #[arg(long)]
    pub cmdline: bool,
    /// Add each process's environment, read from its memory (implies --ps-tree).
    #[arg(long)]
    pub env: bool,
    /// Open files of each process: descriptors, cwd and root.
    #[arg(long)]
    pub files: bool,
    /// Sockets: TCP, UDP, UNIX; states, addresses, ports, queues.
    #[arg(long)]
    pub sockets: bool,
    /// Mount points of the container.
    #[arg(long, hide_short_help = true)]
    pub mounts: bool,
    /// Kubernetes metadata: pod, namespace, annotations.
    #[arg(long, hide_short_help = true)]
    pub metadata: bool,
    /// Files the container changed or deleted in its root file system.
    #[arg(long)]
    pub rootfs_diff: bool,
    /// Compromise indicators: fileless executables, reverse shells, LD_PRELOAD, ...
    ///
    /// Deleted or fileless executables, code in /tmp, writable and executable memory,
    /// LD_PRELOAD, reverse shells, listeners on all addresses, disguised names, stopped tasks,
    /// duplicated environment variables.
    #[arg(long)]
    pub indicators: bool,
    /// Every section.
    #[arg(long)]
    pub all: bool,
}

/// crit's `x` views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CritView {
    /// The process tree with pgid, sid and comm.
    Ps,
    /// Open files, cwd and root of each process.
    Fds,
    /// Memory mappings of each process.
    Mems,
    /// Resident pages of each process against its mappings.
    Rss,
}

impl SectionArgs {
    fn any(&self) -> bool {
        self.stats
            || self.ps_tree
            || self.cmdline
            || self.env
            || self.files
            || self.sockets
            || self.mounts
            || self.metadata
            || self.rootfs_diff
            || self.indicators
            || self.all
    }

    /// The sections to build: `--all`, or every section for JSON/YAML without section flags;
    /// without section flags, the summary of a `single` checkpoint (several get the overview
    /// table alone), or the process tree of `--pid`'s subtree. `pid` limits the process views
    /// to that process and its descendants.
    pub fn resolve(&self, format: Format, pid: Option<u32>, single: bool) -> Sections {
        let machine = matches!(format, Format::Json | Format::Yaml);
        if self.all || (machine && !self.any()) {
            return Sections {
                pid,
                ..Sections::all()
            };
        }
        if !self.any() {
            return Sections {
                pid,
                summary: single && pid.is_none(),
                ps_tree: pid.is_some(),
                ..Sections::default()
            };
        }
        Sections {
            pid,
            summary: false,
            stats: self.stats,
            metadata: self.metadata,
            ps_tree: self.ps_tree || self.cmdline || self.env,
            cmdline: self.cmdline,
            env: self.env,
            files: self.files,
            sockets: self.sockets,
            mounts: self.mounts,
            rootfs_diff: self.rootfs_diff,
            indicators: self.indicators,
        }
    }
}

fn output_format(format: OutputFormat) -> Format {
    format.render_format()
}

fn explore_view(view: CritView) -> ExploreView {
    match view {
        CritView::Ps => ExploreView::Ps,
        CritView::Fds => ExploreView::Fds,
        CritView::Mems => ExploreView::Mems,
        CritView::Rss => ExploreView::Rss,
    }
}

/// What `analyze` was asked, validated before anything is read or any request is sent (the
/// flags parse first, then this plan; ripgrep's low-level and high-level arguments).
struct Plan<'a> {
    /// Where the checkpoints come from.
    source: PlanSource<'a>,
    /// What to show of them.
    view: View,
}

/// Where `analyze`'s checkpoints come from.
enum PlanSource<'a> {
    /// Archives or image directories on this machine, each with the name to report it under.
    Local(Vec<(&'a Path, String)>),
    /// A TARGET to checkpoint and fetch first (`None`: picked on the terminal).
    Target(Option<String>),
    /// A checkpoint to analyse on its node (`--remote`).
    Remote(super::remote_analysis::RemoteSource),
}

/// What `analyze` shows.
pub(super) enum View {
    /// The memory views and search (`--memory`, `--dump-memory`, `--hexdump`, `--search`).
    Memory,
    /// `--secrets`.
    Secrets,
    /// One of crit's `x` views.
    Crit(ExploreView),
    /// The reports: the summary, the overview, the sections asked for.
    Reports,
}

impl View {
    fn of(args: &AnalyzeArgs) -> View {
        if args.memory.is_requested() {
            View::Memory
        } else if args.secrets.secrets {
            View::Secrets
        } else if let Some(view) = args.crit_x {
            View::Crit(explore_view(view))
        } else {
            View::Reports
        }
    }
}

/// The plan of `args` (see [`Plan`]), or what to change on the command line.
fn plan(args: &AnalyzeArgs) -> Result<Plan<'_>, Error> {
    let view = View::of(args);
    if args.agent.on_node {
        let source = match args.inputs.as_slice() {
            [one] => {
                let text = one.to_str().ok_or_else(|| {
                    Error::Usage(format!("TARGET {} is not UTF-8", one.display()))
                })?;
                super::remote_analysis::RemoteSource::of(text)?
            }
            [] if interactive() => super::remote_analysis::RemoteSource::Target(None),
            _ => {
                return Err(Error::Usage(
                    "analyze --remote takes one TARGET (pod/NAME) or NODE:PATH".into(),
                ))
            }
        };
        return Ok(Plan {
            source: PlanSource::Remote(source),
            view,
        });
    }
    if args.local {
        if args.inputs.is_empty() {
            return Err(Error::Usage(
                "analyze --local needs one or more checkpoint archives or CRIU image directories"
                    .into(),
            ));
        }
        let inputs = args
            .inputs
            .iter()
            .map(|input| {
                let name = match &args.report_name {
                    Some(name) => name.clone(),
                    None => input.display().to_string(),
                };
                (input.as_path(), name)
            })
            .collect();
        return Ok(Plan {
            source: PlanSource::Local(inputs),
            view,
        });
    }
    let target = match args.inputs.as_slice() {
        // `analyze pod NAME`, as kubectl takes TYPE NAME.
        [kind, name] if !kind.exists() => {
            let word = super::checkpoint::build_target_word(
                kind.to_str(),
                name.to_str(),
                false,
            )?;
            return Ok(Plan {
                source: PlanSource::Target(word),
                view,
            });
        }
        [one] if one.exists() => {
            let path = one.display();
            return Err(Error::Usage(format!(
                "{path} is a file on this machine, and analyze without --local checkpoints a pod: did you mean `kubectl checkpoint analyze --local {path}`?"
            )));
        }
        [one] => Some(
            one.to_str()
                .ok_or_else(|| Error::Usage(format!("TARGET {} is not UTF-8", one.display())))?
                .to_string(),
        ),
        [] if interactive() => None,
        [] => {
            return Err(Error::Usage(
                "analyze needs a TARGET to checkpoint (pod/NAME or NAME), or --local with archives or image directories".into(),
            ))
        }
        _ => {
            return Err(Error::Usage(
                "analyze takes one TARGET; give --local to analyse several archives".into(),
            ))
        }
    };
    Ok(Plan {
        source: PlanSource::Target(target),
        view,
    })
}

/// Runs `analyze`: plans it, checkpoints and fetches a TARGET into a private temp directory
/// (analysed as `--local` would, named `NODE:PATH`, then removed), and shows the view.
pub fn run(args: AnalyzeArgs) -> Result<Outcome, Error> {
    let plan = plan(&args)?;
    let fetched;
    let inputs = match plan.source {
        PlanSource::Local(inputs) => inputs,
        PlanSource::Target(target) => {
            fetched = checkpoint_to_temp(&args.remote, target.as_deref())?;
            let outcome = run_view(
                &args,
                plan.view,
                &[(fetched.path.as_path(), fetched.source.clone())],
            );
            return finish_remote(
                &args.remote,
                &fetched.record,
                &fetched.source,
                fetched.deleted,
                outcome,
            );
        }
        PlanSource::Remote(source) => {
            return super::remote_analysis::run(&args, plan.view, source);
        }
    };
    run_view(&args, plan.view, &inputs)
}

/// After `analyze TARGET`: the archive is deleted from the node once the analysis succeeded
/// (unless `--keep-on-node`), else named with the command that deletes it; a checkpoint that
/// ended its container makes the verb exit 1 unless `--allow-restart`.
pub(super) fn finish_remote(
    remote: &RemoteArgs,
    record: &CheckpointRecord,
    source: &str,
    deleted: bool,
    outcome: Result<Outcome, Error>,
) -> Result<Outcome, Error> {
    let ended = report_restarts(std::slice::from_ref(record), remote.restart.allow_restart);
    let delete_command = format!("kubectl checkpoint delete {source}");
    match (&outcome, remote.keep_on_node, deleted) {
        (_, _, true) => crate::messages::note(format_args!(
            "deleted {source} from the node after fetching it (--delete-after-fetch)"
        )),
        (Ok(_), false, false) => match delete_remote(remote, source) {
            Ok(()) => crate::messages::note(format_args!(
                "deleted {source} from the node: the analysis is done and its copy was temporary (--keep-on-node keeps it)"
            )),
            Err(err) => crate::messages::error_in(
                format_args!(
                    "the archive stays on the node; delete it with `{delete_command}`"
                ),
                &err,
            ),
        },
        (Ok(_), true, false) => crate::messages::note(format_args!(
            "the archive stays on the node (--keep-on-node); delete it with: {delete_command}"
        )),
        (Err(_), _, false) => crate::messages::note(format_args!(
            "the analysis failed, so the archive stays on the node for another try; delete it with: {delete_command}"
        )),
    }
    let outcome = outcome?;
    Ok(if ended {
        Outcome::PartialFailure
    } else {
        outcome
    })
}

/// Deletes the archive `analyze TARGET` analysed from its node.
fn delete_remote(remote: &RemoteArgs, source: &str) -> Result<(), Error> {
    let rt = super::session::runtime()?;
    let conn = rt.block_on(checkpoint_cluster::connect(
        &remote.kube.connect_params(None),
    ))?;
    let source = checkpoint_cluster::parse_node_path(source)?;
    let params = remote.fetch_flags.fetch_params(&conn.namespace);
    let activity = super::progress::Activity::new(std::io::stderr().is_terminal());
    rt.block_on(checkpoint_cluster::delete_archive(
        &conn,
        &source,
        true,
        &params.helper,
        &activity,
        super::session::ctrl_c(),
    ))?;
    Ok(())
}

/// Shows the view the plan asked for of `inputs`.
pub(super) fn run_view(
    args: &AnalyzeArgs,
    view: View,
    inputs: &[(&Path, String)],
) -> Result<Outcome, Error> {
    let format = output_format(args.output);
    match view {
        View::Memory => {
            let paths: Vec<PathBuf> = inputs.iter().map(|(path, _)| path.to_path_buf()).collect();
            super::memory_args::run(&args.memory, &paths, args.output, &args.archive)
        }
        View::Secrets => secrets_args::run(
            &args.secrets,
            args.memory.pid,
            inputs,
            format,
            &args.archive,
        ),
        View::Crit(view) => run_crit(args, view, inputs),
        View::Reports => run_reports(args, inputs),
    }
}

/// One of crit's `x` views of each input.
fn run_crit(
    args: &AnalyzeArgs,
    view: ExploreView,
    inputs: &[(&Path, String)],
) -> Result<Outcome, Error> {
    let format = output_format(args.output);
    let mut failed = 0usize;
    for (input, _) in inputs {
        let explored = open_input(input, &args.archive, true)
            .and_then(|checkpoint| Ok(analyze::collect_explore(checkpoint, view)?));
        match explored {
            Ok(explored) => {
                crate::stdout::with(|out| output::render_explore(&explored.report, format, out))?;
                for fact in &explored.unreadable {
                    crate::messages::error(format_args!("{}: {fact}", input.display()));
                }
                if !explored.unreadable.is_empty() {
                    failed += 1;
                }
            }
            Err(err) => failed += report_failure(err, inputs.len())?,
        }
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    })
}

/// Opens each input (a path and the name to report it under), builds its report, renders all
/// of them.
fn run_reports(args: &AnalyzeArgs, inputs: &[(&Path, String)]) -> Result<Outcome, Error> {
    let format = output_format(args.output);
    let style = Style::for_terminal(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let mut failed = 0usize;
    let sections = args
        .sections
        .resolve(format, args.memory.pid, inputs.len() == 1);
    let mut reports = Vec::with_capacity(inputs.len());
    for (input, source) in inputs {
        let report = open_input(input, &args.archive, sections.needs_dump())
            .and_then(|checkpoint| Ok(analyze::collect_report(checkpoint, source, &sections)?));
        match report {
            Ok(mut report) => {
                let unreadable = analyze::unreadable_facts(&report);
                for fact in &unreadable {
                    crate::messages::error(format_args!("{source}: {fact}"));
                }
                if !unreadable.is_empty() {
                    failed += 1;
                }
                report.custody = checkpoint_model::archive::check_custody(input);
                if let Some(problem) = report
                    .custody
                    .as_ref()
                    .filter(|c| !c.matches)
                    .and_then(|c| c.problem.as_deref())
                {
                    crate::messages::warning(format_args!(
                        "{} does not match its custody record: {problem}",
                        input.display()
                    ));
                }
                reports.push(report)
            }
            Err(err) => failed += report_failure(err, inputs.len())?,
        }
    }
    if !reports.is_empty() {
        let wide = args.output == OutputFormat::Wide;
        crate::stdout::with(|out| output::render_reports(&reports, format, style, wide, out))?;
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::PartialFailure
    })
}

/// Opens an input, with its images indexed when the view reads them; a single CRIU image (not
/// a checkpoint) gets pointed to `decode`.
fn open_input(input: &Path, archive: &ArchiveArgs, images: bool) -> Result<Checkpoint, Error> {
    let opened = if images {
        archive_args::open_checkpoint(input, archive)
    } else {
        archive_args::open_checkpoint_without_images(input, archive)
    };
    opened.map_err(|err| match criu_image_magic(input) {
        Some(magic) => {
            let path = input.display();
            Error::Usage(format!(
                "{path} is one CRIU image ({magic}), not a checkpoint: decode it with `kubectl checkpoint decode {path}`; analyze takes checkpoint archives and image directories"
            ))
        }
        None => err,
    })
}

/// The image type of a file that starts like a CRIU image.
fn criu_image_magic(path: &Path) -> Option<checkpoint_images::Magic> {
    use std::io::Read;
    // Only regular files: opening a FIFO would block.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)
        .ok()?
        .take(8)
        .read_to_end(&mut head)
        .ok()?;
    checkpoint_images::read_header(&path.display().to_string(), &head)
        .ok()
        .map(|(magic, _)| magic)
}

/// With one input, its error is the verb's error; with several, it is printed and the
/// others go on (exit code 1). Returns 1 for counting.
fn report_failure(err: Error, inputs: usize) -> Result<usize, Error> {
    if inputs == 1 {
        return Err(err);
    }
    crate::messages::error_of(&err);
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_without_flags_means_every_section() {
        let none = SectionArgs::default();
        assert_eq!(none.resolve(Format::Json, None, true), Sections::all());
        assert_eq!(none.resolve(Format::Yaml, None, false), Sections::all());
        assert_eq!(
            none.resolve(Format::Table, None, false),
            Sections::default()
        );
        assert_eq!(none.resolve(Format::Json, Some(7), true).pid, Some(7));
    }

    #[test]
    fn one_checkpoint_without_flags_gets_the_summary() {
        let none = SectionArgs::default();
        let one = none.resolve(Format::Table, None, true);
        assert!(one.summary && !one.ps_tree);
        let pid = none.resolve(Format::Table, Some(7), true);
        assert!(!pid.summary && pid.ps_tree);
    }

    #[test]
    fn cmdline_and_env_imply_the_process_tree() {
        let args = SectionArgs {
            env: true,
            ..SectionArgs::default()
        };
        let sections = args.resolve(Format::Table, None, true);
        assert!(sections.ps_tree && sections.env && !sections.cmdline);
    }

    #[test]
    fn a_section_flag_limits_json_too() {
        let args = SectionArgs {
            stats: true,
            ..SectionArgs::default()
        };
        assert_eq!(
            args.resolve(Format::Json, None, true),
            Sections {
                stats: true,
                ..Sections::default()
            }
        );
    }
}

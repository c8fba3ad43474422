//! `kubectl checkpoint fetch NODE:PATH [DEST]`, and the fetch step `--fetch` and `analyze
//! TARGET` share: a progress bar, Ctrl-C handling, `--delete-after-fetch`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::kube_args::{HelperArgs, RECORD_FORMATS};
use super::pick::{given_source, pick_archives};
use super::picker::Choose;
use super::progress::Activity;
use super::session::{ctrl_c, render_records, runtime};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster::{self as cluster, FetchParams, FetchRecord, NodePath, Verify};

/// The help heading of the fetch flags.
pub const FETCH: &str = "Fetch";

/// Arguments of `kubectl checkpoint fetch`.
#[derive(Debug, Args)]
#[command(mut_arg("namespace", |arg| arg.help(
    "The namespace of the helper pod that reads the archive on its node; defaults to the context's namespace"
)))]
#[command(after_help = "Examples:
  # Copy an archive here (NODE:PATH, as `kubectl checkpoint` prints it)
  kubectl checkpoint fetch worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar

  # Into a file of your choice, then delete the node's copy
  kubectl checkpoint fetch --delete-after-fetch \\
      worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar counters.tar

  # Run the helper pod in a dedicated namespace, from a mirrored image
  kubectl checkpoint fetch --helper-namespace checkpoint-helpers \\
      --helper-image registry.example.com/busybox:1.36 \\
      worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar")]
pub struct FetchArgs {
    /// The archive on the node, as `NODE:PATH` (as `kubectl checkpoint` prints it); on a
    /// terminal, left out to pick one from a list.
    pub source: Option<String>,
    /// Where to write the archive: a file, or a directory to put it in (an existing one, or a
    /// DEST ending in `/`, made if its parent exists); default: its name in the current
    /// directory.
    pub dest: Option<PathBuf>,
    /// Output format: a json or yaml record instead of the local path.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(RECORD_FORMATS))]
    pub output: Option<OutputFormat>,
    /// Fetch options.
    #[command(flatten)]
    pub flags: FetchFlags,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Options of every fetch.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = FETCH)]
pub struct FetchFlags {
    /// Delete the archive from the node once it is fetched and verified.
    #[arg(long)]
    pub delete_after_fetch: bool,
    /// How to check the copy: `sha256` has the node hash the archive too (in the same pass that
    /// streams it) and compares (chain of custody); `size` compares sizes only, and hashes on
    /// the node only after a resumed stream. The copy's sha256 is reported either way.
    #[arg(long, value_enum, default_value_t = VerifyArg::Sha256, hide_short_help = true)]
    pub verify: VerifyArg,
    /// Replace DEST (and its custody manifest) if it exists; without it an existing file is
    /// never overwritten.
    #[arg(long, hide_short_help = true)]
    pub overwrite: bool,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
}

impl FetchFlags {
    /// The fetch parameters, helpers in `namespace` unless `--helper-namespace`.
    pub(super) fn fetch_params(&self, namespace: &str) -> FetchParams {
        FetchParams {
            verify: match self.verify {
                VerifyArg::Sha256 => Verify::Sha256,
                VerifyArg::Size => Verify::Size,
            },
            overwrite: self.overwrite,
            helper: self.helper.helper_params(namespace),
        }
    }
}

/// `--verify` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyArg {
    /// Compare the node's sha256 with the copy's.
    Sha256,
    /// Compare sizes (and sha256 after a resumed stream).
    Size,
}

/// One line about a finished fetch: where, how big, its sha256 and how it was checked, and
/// where it resumed an earlier run's partial copy.
pub(super) fn render_fetched(record: &FetchRecord) -> String {
    let checked = match record.verified {
        Verify::Sha256 => "matches the node's",
        Verify::Size => "size checked",
    };
    let resumed = if record.resumed_from_partial > 0 {
        format!(
            "; resumed at {} of {}",
            crate::output::human_size(record.resumed_from_partial),
            crate::output::human_size(record.size)
        )
    } else {
        String::new()
    };
    let breaks = match record.resumes {
        0 => String::new(),
        1 => "; the stream broke once and was resumed".to_string(),
        n => format!("; the stream broke {n} times and was resumed"),
    };
    format!(
        "{}  {}  sha256:{} ({checked}{resumed}{breaks})",
        crate::output::escape_text(&record.dest.display().to_string()),
        crate::output::human_size(record.size),
        record.sha256
    )
}

/// Fetches one archive, with a progress bar when `show_progress`, stopping cleanly on Ctrl-C;
/// deletes it from the node afterwards with `--delete-after-fetch`.
pub(super) fn fetch_one(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    source: &NodePath,
    dest: &std::path::Path,
    flags: &FetchFlags,
    show_progress: bool,
) -> Result<FetchRecord, cluster::Error> {
    let params = flags.fetch_params(&conn.namespace);
    let activity = Activity::new(show_progress);
    let fetched = rt.block_on(cluster::collect_archive(
        conn,
        source,
        dest,
        &params,
        &activity,
        ctrl_c(),
    ));
    drop(activity);
    if let Err(cluster::Error::Interrupted(_)) = &fetched {
        let part = cluster::part_path(dest);
        if part.exists() {
            let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
            crate::messages::note(format_args!(
                "the partial copy stays in {} ({}): run the same fetch again to resume",
                part.display(),
                crate::output::human_size(have)
            ));
        }
    }
    let record = fetched?;
    if flags.delete_after_fetch {
        super::checkpoint::delete_fetched(
            rt,
            conn,
            &record,
            &params.helper,
            "--delete-after-fetch",
        )?;
    }
    Ok(record)
}

/// Runs `fetch`.
pub fn run(args: FetchArgs) -> Result<Outcome, Error> {
    let given = args.source.clone().unwrap_or_default();
    let source = given_source(args.source.as_deref(), "fetch")?;
    // The local side first: no helper pod starts for a copy that cannot be written.
    let dest_plan = super::checkpoint::DestPlan::of(args.dest.as_deref(), args.flags.overwrite)?;
    let rt = runtime()?;
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(None)))?;
    let source = match source {
        Some(source) => source,
        None => {
            let helper = args.flags.helper.helper_params(&conn.namespace);
            pick_archives(&rt, &conn, &helper, "fetch", Choose::One)?
                .into_iter()
                .next()
                .ok_or(Error::Cancelled)?
        }
    };
    let dest = dest_plan.dest(&source);
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let record = match fetch_one(&rt, &conn, &source, &dest, &args.flags, show_progress) {
        Err(cluster::Error::NoSuchNode { node }) if std::path::Path::new(&given).exists() => {
            return Err(Error::Usage(format!(
                "node {node} does not exist; {given} is a file here: analyse a local archive with `kubectl checkpoint analyze --local {given}`"
            )))
        }
        other => other?,
    };
    if !render_records(args.output, &record)? {
        crate::stdout::with(|out| writeln!(out, "{}", render_fetched(&record)))
            .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    }
    if !args.flags.delete_after_fetch {
        super::checkpoint::note_left_on_node(&[&record]);
    }
    Ok(Outcome::Success)
}

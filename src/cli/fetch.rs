//! `kubectl checkpoint fetch NODE:PATH [DEST]`, and the fetch step `--fetch` and `analyze
//! TARGET` share: a progress bar, Ctrl-C handling, `--delete-after-fetch`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::{ctrl_c, render_records, runtime};
use super::kube_args::{HelperArgs, RECORD_FORMATS};
use super::pick::{given_source, pick_archives};
use super::picker::Choose;
use super::{KubeArgs, Outcome, OutputFormat};
use crate::cluster::{self, FetchParams, FetchRecord, NodePath, Progress, Verify};
use crate::Error;

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
  kubectl checkpoint fetch -n checkpoint-helpers \\
      --helper-image registry.example.com/busybox:1.36 \\
      worker-1:/var/lib/kubelet/checkpoints/ARCHIVE.tar")]
pub struct FetchArgs {
    /// The archive on the node, as `NODE:PATH` (as `kubectl checkpoint` prints it); on a
    /// terminal, left out to pick one from a list.
    pub source: Option<String>,
    /// Where to write the archive: a file, or a directory to put it in; default: its name in
    /// the current directory.
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
pub struct FetchFlags {
    /// How often to resume a broken stream before giving up.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Delete the archive from the node once it is fetched and verified.
    #[arg(long)]
    pub delete_after_fetch: bool,
    /// How to check the copy: `sha256` has the node hash the archive too and compares (chain
    /// of custody); `size` compares sizes only, and hashes on the node only after a resumed
    /// stream. The copy's sha256 is reported either way.
    #[arg(long, value_enum, default_value_t = VerifyArg::Sha256)]
    pub verify: VerifyArg,
    /// Helper pod options.
    #[command(flatten)]
    pub helper: HelperArgs,
}

/// `--verify` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyArg {
    /// Compare the node's sha256 with the copy's.
    Sha256,
    /// Compare sizes (and sha256 after a resumed stream).
    Size,
}

/// An indicatif bar on stderr, or nothing.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(show: bool, label: &str) -> Bar {
        if !show {
            return Bar(None);
        }
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(label.to_string());
        Bar(Some(bar))
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
        }
    }
    fn position(&self, done: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(done);
        }
    }
    fn resumed(&self, attempt: u32, offset: u64, reason: &str) {
        let text =
            format!("stream broke at byte {offset} ({reason}); resuming (attempt {attempt})");
        match &self.0 {
            Some(bar) => bar.println(text),
            None => eprintln!("warning: {text}"),
        }
    }
    fn verifying(&self) {
        if let Some(bar) = &self.0 {
            let label = bar.message();
            bar.set_message(format!("{label}: waiting for the node's sha256"));
        }
    }
    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
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
    let helper = flags.helper.helper_params(&conn.namespace);
    let params = FetchParams {
        retries: flags.retries,
        verify: match flags.verify {
            VerifyArg::Sha256 => Verify::Sha256,
            VerifyArg::Size => Verify::Size,
        },
        helper: helper.clone(),
    };
    let bar = Bar::new(show_progress, source.basename());
    let record = rt.block_on(cluster::collect_archive(
        &conn.client,
        source,
        dest,
        &params,
        &bar,
        ctrl_c(),
    ))?;
    if flags.delete_after_fetch {
        rt.block_on(cluster::delete_archive(
            &conn.client,
            source,
            &helper,
            ctrl_c(),
        ))?;
    }
    Ok(record)
}

/// Runs `fetch`.
pub fn run(args: FetchArgs) -> Result<Outcome, Error> {
    let source = given_source(args.source.as_deref(), "fetch")?;
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
    let dest_is_dir = args.dest.as_deref().is_some_and(|d| d.is_dir());
    let dest = cluster::build_dest(&source, args.dest.as_deref(), dest_is_dir);
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let record = fetch_one(&rt, &conn, &source, &dest, &args.flags, show_progress)?;
    if !render_records(args.output, &record)? {
        let dest = record.dest.display().to_string();
        writeln!(
            std::io::stdout().lock(),
            "{}",
            crate::output::escape_text(&dest)
        )
        .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    }
    Ok(Outcome::Success)
}

//! `kubectl checkpoint coredump PATH`: ELF core files of checkpointed processes.
//!
//! Writes `DIR/core.PID` per chosen process (default: every process of `pstree.img`), prints each
//! written path on stdout and a one-line account of its contents on stderr. A process that fails
//! is reported on stderr and leaves no core file; the others are still written.

use std::path::PathBuf;

use clap::Args;

use super::archive_args::{open_checkpoint, ArchiveArgs};
use super::Outcome;
use crate::Error;
use checkpoint_forensics::coredump::{self, WrittenCore};
use checkpoint_model::dump::Dump;

/// Arguments of `kubectl checkpoint coredump`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Cores of every process of a checkpoint, into ./cores (core.PID, 0600)
  kubectl checkpoint coredump --dir cores counters.tar

  # Some processes only
  kubectl checkpoint coredump counters.tar --pid 27426,1

  # Then open it with gdb
  gdb -c cores/core.27426")]
pub struct CoredumpArgs {
    /// A checkpoint archive or CRIU image directory.
    pub input: PathBuf,
    /// Write cores of these processes only (default: all); several as `--pid 1,7` or
    /// `--pid 1 --pid 7`.
    #[arg(long = "pid", value_name = "PID", value_delimiter = ',')]
    pub pids: Vec<u32>,
    /// Directory for the core files.
    #[arg(long, default_value = ".", help_heading = "Output")]
    pub dir: PathBuf,
    /// Spool directory and limits of the archive reader.
    #[command(flatten)]
    pub archive: ArchiveArgs,
    /// Replace existing `core.PID` files in --dir; without it they are never overwritten.
    #[arg(long, help_heading = "Output")]
    pub overwrite: bool,
}

/// Runs `coredump`.
pub fn run(args: CoredumpArgs) -> Result<Outcome, Error> {
    if !args.dir.is_dir() {
        return Err(Error::Usage(format!(
            "--dir {}: not a directory",
            args.dir.display()
        )));
    }
    let dump = Dump::load(open_checkpoint(&args.input, &args.archive)?)?;
    let chosen = choose_processes(&dump, &args.pids)?;
    if !args.overwrite {
        let existing: Vec<String> = chosen
            .iter()
            .map(|pid| args.dir.join(format!("core.{pid}")))
            .filter(|path| std::fs::symlink_metadata(path).is_ok())
            .map(|path| path.display().to_string())
            .collect();
        let said = match existing.as_slice() {
            [] => None,
            [one] => Some(format!(
                "{one} already exists; cores are never replaced silently: pass --overwrite to replace it, or choose another --dir"
            )),
            many => Some(format!(
                "{} already exist; cores are never replaced silently: pass --overwrite to replace them, or choose another --dir",
                many.join(", ")
            )),
        };
        if let Some(said) = said {
            return Err(Error::Usage(said));
        }
    }
    // Facts of the whole checkpoint that could not be read (an image broken or of another
    // type): the cores are written without them, and the verb says so and exits 1.
    for fact in dump.unavailable() {
        crate::messages::error(format_args!(
            "{}: {} cannot be read: {}",
            dump.display_name(),
            fact.what,
            fact.reason
        ));
    }
    let mut failed = 0usize;
    for &pid in &chosen {
        let mut warn = |line: String| crate::messages::warning(line);
        match coredump::dump_process(&dump, pid, &args.dir, &mut warn) {
            Ok(written) => {
                crate::stdout::with(|out| writeln!(out, "{}", written.path.display()))
                    .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
                crate::messages::line(render_summary(&written));
            }
            Err(err) => {
                failed += 1;
                crate::messages::error_in(format_args!("core.{pid}"), &Error::from(err));
            }
        }
    }
    match failed {
        0 if dump.unavailable().is_empty() => Ok(Outcome::Success),
        0 => Ok(Outcome::PartialFailure),
        n if n == chosen.len() => Err(Error::Usage(format!(
            "no core file written: {n} of {n} processes failed"
        ))),
        _ => Ok(Outcome::PartialFailure),
    }
}

/// The pids to write cores of, in the order given, or every process of the tree; an unknown
/// pid is an error that lists the known ones.
fn choose_processes(dump: &Dump, pids: &[u32]) -> Result<Vec<u32>, Error> {
    if pids.is_empty() {
        return Ok(dump.tasks().iter().map(|task| task.pid).collect());
    }
    pids.iter()
        .map(|&pid| dump.task(pid).map(|task| task.pid).map_err(Error::from))
        .collect()
}

fn render_summary(written: &WrittenCore) -> String {
    let s = &written.summary;
    let size = crate::output::human_size;
    let mut text = format!(
        "{}: {} core, {} of the checkpoint's data in {} segments ({} on disk: zero pages are holes)",
        written.path.display(),
        size(s.file_len),
        size(s.dumped_bytes),
        s.segments,
        size(s.written.data_bytes),
    );
    if s.stored_file_bytes > 0 {
        text.push_str(&format!(
            ", {} of it the stored contents of deleted files",
            size(s.stored_file_bytes)
        ));
    }
    if s.left_to_files_bytes > 0 {
        text.push_str(&format!(
            ", {} left to their files (NT_FILE)",
            size(s.left_to_files_bytes)
        ));
    }
    if s.missing_bytes > 0 {
        text.push_str(&format!(
            ", {} not in the checkpoint (no byte written; listed in the KUBECTL-CHECKPOINT note)",
            size(s.missing_bytes)
        ));
    }
    if s.stored_files_cut {
        text.push_str(&format!(
            ", some contents of deleted files left out (more than {} pieces)",
            checkpoint_model::dump::MAX_FILE_STRETCHES
        ));
    }
    let (listed, total) = s.file_note;
    if listed < total {
        text.push_str(&format!(
            ", NT_FILE lists {listed} of {total} file mappings (its 4 MiB limit, the kernel's core_file_note_size_limit)"
        ));
    }
    let (listed, total) = s.missing_note;
    if listed < total {
        text.push_str(&format!(
            ", the KUBECTL-CHECKPOINT note lists {listed} of {total} ranges not in the core (its 4 MiB limit)"
        ));
    }
    if s.omitted_threads > 0 {
        text.push_str(&format!(
            ", the registers of {} more threads left out (at most {} per core)",
            s.omitted_threads,
            coredump::build::MAX_CORE_THREADS
        ));
    }
    if s.stray_bytes > 0 {
        text.push_str(&format!(
            ", {} of pages outside every mapping skipped",
            size(s.stray_bytes)
        ));
    }
    text
}

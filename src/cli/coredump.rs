//! `kubectl checkpoint coredump PATH`: ELF core files of checkpointed processes.
//!
//! Writes `DIR/core.PID` per chosen process (default: every process of `pstree.img`), prints each
//! written path on stdout and a one-line account of its contents on stderr. A process that fails
//! is reported on stderr and leaves no core file; the others are still written.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::archive::Checkpoint;
use crate::coredump::{self, build, WrittenCore};
use crate::criu::messages::{FileEntry, PstreeEntry};
use crate::criu::read_entries;
use crate::Error;

/// Arguments of `kubectl checkpoint coredump`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Cores of every process of a checkpoint, into ./cores (core.PID, mode 0600)
  kubectl checkpoint coredump --dir cores tests/fixtures/crio/*.tar

  # One process only
  kubectl checkpoint coredump counters.tar --pid 27426

  # Then open it with gdb
  gdb -c cores/core.27426")]
pub struct CoredumpArgs {
    /// A checkpoint archive or CRIU image directory.
    pub input: PathBuf,
    /// Write cores of these processes only (default: all).
    #[arg(long = "pid")]
    pub pids: Vec<u32>,
    /// Directory for the core files.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// Runs `coredump`.
pub fn run(args: CoredumpArgs) -> Result<Outcome, Error> {
    if !args.dir.is_dir() {
        return Err(Error::Usage(format!(
            "--dir {}: not a directory",
            args.dir.display()
        )));
    }
    let checkpoint = Checkpoint::open(&args.input)?;
    let pstree: Vec<PstreeEntry> =
        read_entries("pstree.img", &checkpoint.read_image("pstree.img")?)?;
    let chosen = choose_processes(&pstree, &args.pids)?;
    let files: Vec<FileEntry> = if checkpoint.has_image("files.img") {
        read_entries("files.img", &checkpoint.read_image("files.img")?)?
    } else {
        Vec::new()
    };
    let file_paths = build::build_file_paths(&files);

    let mut failed = 0usize;
    for entry in &chosen {
        match coredump::dump_process(&checkpoint, entry, &file_paths, &args.dir) {
            Ok(written) => {
                println!("{}", written.path.display());
                eprintln!("{}", render_summary(&written));
            }
            Err(err) => {
                failed += 1;
                eprintln!("error: core.{}: {}", entry.pid, Error::from(err).render());
            }
        }
    }
    match failed {
        0 => Ok(Outcome::Success),
        n if n == chosen.len() => Err(Error::Usage(format!(
            "no core file written: {n} of {n} processes failed"
        ))),
        _ => Ok(Outcome::PartialFailure),
    }
}

/// The pstree entries of `pids` in the order given, or all of them; an unknown pid is an error
/// that lists the known ones.
fn choose_processes(pstree: &[PstreeEntry], pids: &[u32]) -> Result<Vec<PstreeEntry>, Error> {
    if pids.is_empty() {
        return Ok(pstree.to_vec());
    }
    pids.iter()
        .map(|pid| {
            pstree
                .iter()
                .find(|e| e.pid == *pid)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<String> = pstree.iter().map(|e| e.pid.to_string()).collect();
                    Error::Usage(format!(
                        "pid {pid} is not in pstree.img (its processes: {})",
                        known.join(", ")
                    ))
                })
        })
        .collect()
}

fn render_summary(written: &WrittenCore) -> String {
    let s = &written.summary;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let mut text = format!(
        "{}: {} mappings ({} left to their files), {:.1} MiB of pages from the checkpoint",
        written.path.display(),
        s.segments,
        s.omitted_segments,
        mib(s.dumped_bytes)
    );
    if s.zero_filled_bytes > 0 {
        text.push_str(&format!(
            ", {:.1} MiB not in the checkpoint written as zeros (listed in the KUBECTL-CHECKPOINT note)",
            mib(s.zero_filled_bytes)
        ));
    }
    if s.stray_bytes > 0 {
        text.push_str(&format!(
            ", {} bytes of pages outside every mapping skipped",
            s.stray_bytes
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pid: u32) -> PstreeEntry {
        PstreeEntry {
            pid,
            threads: vec![pid],
            ..PstreeEntry::default()
        }
    }

    #[test]
    fn chooses_all_or_the_named_pids() {
        let tree = [entry(1), entry(9)];
        let all: Vec<u32> = choose_processes(&tree, &[])
            .unwrap()
            .iter()
            .map(|e| e.pid)
            .collect();
        assert_eq!(all, [1, 9]);
        let some: Vec<u32> = choose_processes(&tree, &[9])
            .unwrap()
            .iter()
            .map(|e| e.pid)
            .collect();
        assert_eq!(some, [9]);
        let err = choose_processes(&tree, &[5]).unwrap_err().render();
        assert_eq!(err, "pid 5 is not in pstree.img (its processes: 1, 9)");
    }
}

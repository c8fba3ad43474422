//! Flags of the verbs that open checkpoint archives (`analyze`, `coredump`, `decode`): where spool
//! files go and the limits that bound memory on hostile input, and the one function that opens a
//! checkpoint with them.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::Error;
use checkpoint_model::archive::{self, Checkpoint, OpenParams, PagesVisitor};

/// Where compressed archives are spooled, and the limits of the archive reader.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Archive reading")]
pub struct ArchiveArgs {
    /// Directory for the temporary (unnamed, sparse) copies of a compressed archive's page data
    /// and large members; default: TMPDIR, else /tmp. Its file system keeps a margin free.
    #[arg(long, value_name = "DIR", hide_short_help = true)]
    pub spool_dir: Option<PathBuf>,
    /// Most members an archive may hold (its images, metadata, directories).
    #[arg(long, value_name = "N", default_value_t = archive::DEFAULT_MAX_MEMBERS, hide_short_help = true)]
    pub max_members: u64,
    /// Most bytes all member names of an archive may take together (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size, hide_short_help = true)]
    pub max_name_bytes: u64,
    /// Largest image or metadata member read into memory (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size, hide_short_help = true)]
    pub member_limit: u64,
    /// Most bytes of a compressed archive's members kept in memory; the rest is spooled.
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size, hide_short_help = true)]
    pub memory_budget: u64,
    /// Most bytes one pass may decompress from a compressed rootfs-diff.tar (K, M, G, T
    /// suffixes); default: the larger of 1G and 100 times its size.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, hide_short_help = true)]
    pub rootfs_diff_limit: Option<u64>,
}

impl ArchiveArgs {
    /// The archive reader's parameters.
    pub fn open_params(&self) -> OpenParams {
        let mut params = OpenParams::default()
            .member_limit(self.member_limit)
            .memory_budget(self.memory_budget)
            .max_members(self.max_members)
            .max_name_bytes(self.max_name_bytes);
        if let Some(dir) = &self.spool_dir {
            params = params.spool_dir(dir);
        }
        if let Some(bytes) = self.rootfs_diff_limit {
            params = params.rootfs_diff_limit(bytes);
        }
        params
    }
}

/// Opens a checkpoint archive or directory with the flags' parameters, and warns on stderr
/// about data hidden after the end of its tar stream.
pub fn open_checkpoint(path: &Path, args: &ArchiveArgs) -> Result<Checkpoint, Error> {
    open_checkpoint_with(path, &args.open_params())
}

/// Opens like [`open_checkpoint`] without indexing the CRIU images
/// ([`OpenParams::index_images`]), for the views that read none: what it holds does not grow
/// with the number of processes.
pub fn open_checkpoint_without_images(
    path: &Path,
    args: &ArchiveArgs,
) -> Result<Checkpoint, Error> {
    open_checkpoint_with(path, &args.open_params().index_images(false))
}

fn open_checkpoint_with(path: &Path, params: &OpenParams) -> Result<Checkpoint, Error> {
    let checkpoint = Checkpoint::open_with(path, params)?;
    warn_trailing(&checkpoint);
    Ok(checkpoint)
}

/// Opens like [`open_checkpoint`], handing a compressed archive's page data to `visitor` while
/// they stream by instead of spooling them ([`Checkpoint::open_streaming`]).
pub fn open_checkpoint_streaming(
    path: &Path,
    args: &ArchiveArgs,
    visitor: &mut dyn PagesVisitor,
) -> Result<Checkpoint, Error> {
    let checkpoint = Checkpoint::open_streaming(path, &args.open_params(), visitor)?;
    warn_trailing(&checkpoint);
    Ok(checkpoint)
}

/// Warns on stderr about data after the end of the archive's tar stream.
fn warn_trailing(checkpoint: &Checkpoint) {
    if let Some(trailing) = checkpoint.trailing_data() {
        let text = format!("{}: {trailing}", checkpoint.display_name());
        crate::messages::warning(text);
    }
}

/// A byte count: digits with an optional `K`, `M`, `G` or `T` suffix (powers of 1024, an
/// optional `i`/`iB`/`B` after it).
fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let unit_at = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(unit_at);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (like 512, 64M, 2G)"))?;
    let shift = match unit.trim_end_matches("iB").trim_end_matches(['B', 'i']) {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        _ => return Err(format!("`{text}`: unknown unit (use K, M, G or T)")),
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn sizes() {
        let cases = [
            ("512", Ok(512)),
            ("64M", Ok(64 << 20)),
            ("64MiB", Ok(64 << 20)),
            ("2G", Ok(2 << 30)),
            ("1k", Ok(1024)),
            ("3GB", Ok(3 << 30)),
            ("", Err(())),
            ("M", Err(())),
            ("12X", Err(())),
            ("99999999999T", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(parse_size(text).map_err(|_| ()), want, "{text}");
        }
    }

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        archive: ArchiveArgs,
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let args = Harness::try_parse_from(["x"]).unwrap().archive;
        let params = args.open_params();
        let library = OpenParams::default();
        assert_eq!(params.member_limit, library.member_limit);
        assert_eq!(params.memory_budget, library.memory_budget);
        assert_eq!(params.max_members, library.max_members);
        assert_eq!(params.max_name_bytes, library.max_name_bytes);
        assert_eq!(params.spool_dir, None);
        assert_eq!(params.rootfs_diff_limit, library.rootfs_diff_limit);
        let args = Harness::try_parse_from(["x", "--spool-dir", "/var/tmp", "--max-members", "9"])
            .unwrap()
            .archive;
        assert_eq!(
            args.open_params().spool_dir,
            Some(PathBuf::from("/var/tmp"))
        );
        assert_eq!(args.open_params().max_members, 9);
    }
}

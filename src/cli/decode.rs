//! `kubectl checkpoint decode PATH`: one CRIU image as JSON, like `crit decode`.
//!
//! PATH is an image file, or `ARCHIVE:MEMBER` for an image inside a checkpoint archive (plain,
//! gzip or zstd), read in place through [`checkpoint_model::archive`]. Archive names may contain colons
//! (CRI-O's `...-2023-08-24T11:24:18Z.tar`), so PATH is split at the last `:` whose left part
//! is an existing file or directory. A MEMBER without `/` that is not in the archive is looked
//! up under `checkpoint/` too (`ckpt.tar:pstree.img`).
//!
//! Output: `{"magic": NAME, "entries": [...]}` with crit's conventions (see
//! [`checkpoint_images::decode_image_with`]); `--pretty` indents by 4 and shows hex strings and
//! symbolic flags, like `crit decode --pretty`. `--info` prints `{"magic", "count"}` like
//! `crit info`.

use std::io::Write;
use std::path::Path;

use clap::Args;
use serde::Serialize;
use serde_json::Value;

use super::archive_args::{open_checkpoint, ArchiveArgs};
use super::Outcome;
use crate::output::JsonLayout;
use crate::Error;
use checkpoint_images::{self as criu, Style};
use checkpoint_model::archive::{self, Checkpoint};

/// Arguments of `kubectl checkpoint decode`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # An image file, as crit decode --pretty prints it
  kubectl checkpoint decode --pretty checkpoint/pstree.img

  # An image inside a checkpoint archive, without extracting it
  kubectl checkpoint decode ckpt.tar:checkpoint/core-1.img

  # Image type and number of entries, like crit info
  kubectl checkpoint decode --info checkpoint/pagemap-1.img")]
pub struct DecodeArgs {
    /// An image file, or `ARCHIVE:MEMBER` for a member of a checkpoint archive
    /// (e.g. `ckpt.tar:checkpoint/pstree.img`).
    pub path: String,
    /// Indent the JSON and show integers as crit --pretty does (hex, flag names).
    #[arg(long)]
    pub pretty: bool,
    /// Print only the image type and the number of entries.
    #[arg(long)]
    pub info: bool,
    /// Spool directory and limits of the archive reader.
    #[command(flatten)]
    pub archive: ArchiveArgs,
}

/// `crit decode`'s document.
#[derive(Debug, Serialize)]
struct Decoded<'a> {
    magic: &'a str,
    entries: &'a [Value],
}

/// `crit info`'s document.
#[derive(Debug, Serialize)]
struct Info<'a> {
    magic: &'a str,
    count: u64,
}

/// Runs `decode`.
pub fn run(args: DecodeArgs) -> Result<Outcome, Error> {
    let (name, bytes) = read_input(&args.path, &args.archive)?;
    if args.info {
        let (magic, count) = criu::count_entries(&name, &bytes)?;
        let info = Info {
            magic: magic.name(),
            count,
        };
        crate::stdout::with(|out| write_json(out, &info, true))?;
    } else {
        let style = if args.pretty {
            Style::Pretty
        } else {
            Style::Plain
        };
        let image = criu::decode_image_with(&name, &bytes, style)?;
        let doc = Decoded {
            magic: image.magic.name(),
            entries: &image.entries,
        };
        crate::stdout::with(|out| write_json(out, &doc, args.pretty))?;
    }
    Ok(Outcome::Success)
}

/// crit's layout: compact, or indented by four spaces with `--pretty`.
fn write_json<T: Serialize>(
    out: &mut dyn Write,
    value: &T,
    pretty: bool,
) -> Result<(), crate::output::Error> {
    let layout = if pretty {
        JsonLayout::Pretty(4)
    } else {
        JsonLayout::Compact
    };
    crate::output::write_json(value, layout, out)
}

/// Where the image bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input<'a> {
    /// A file on disk.
    File(&'a str),
    /// A member of a checkpoint archive (or extracted archive directory).
    Member {
        /// The archive.
        archive: &'a str,
        /// The member name inside it.
        member: &'a str,
    },
}

/// Splits PATH: an existing file as is, else at the last `:` whose left part exists.
fn resolve_input(path: &str, exists: impl Fn(&str) -> bool) -> Input<'_> {
    if exists(path) {
        return Input::File(path);
    }
    for (at, _) in path.rmatch_indices(':') {
        let (archive, member) = (&path[..at], &path[at + 1..]);
        if !archive.is_empty() && !member.is_empty() && exists(archive) {
            return Input::Member { archive, member };
        }
    }
    Input::File(path)
}

/// The image's name for messages and its bytes.
fn read_input(path: &str, limits: &ArchiveArgs) -> Result<(String, Vec<u8>), Error> {
    match resolve_input(path, |p| Path::new(p).exists()) {
        Input::File(file) => {
            if Path::new(file).is_dir() {
                return Err(Error::Usage(format!(
                    "{file} is a directory: give an image file inside it, or ARCHIVE:MEMBER"
                )));
            }
            criu::check_not_raw(file)?;
            if let Some(images) = archive_images(file) {
                return Err(Error::Usage(format!(
                    "{file} is a checkpoint archive: name one of its images as ARCHIVE:MEMBER, e.g. `kubectl checkpoint decode {file}:pstree.img`; its images: {}",
                    images.join(", ")
                )));
            }
            let bytes = archive::read_image_file(Path::new(file), limits.member_limit)?;
            Ok((file.to_owned(), bytes))
        }
        Input::Member { archive, member } => {
            let name = format!("{archive}:{member}");
            criu::check_not_raw(&name)?;
            let ckpt = open_checkpoint(Path::new(archive), limits)?;
            let mut bytes = ckpt.read_member(member)?;
            let mut name = name;
            if bytes.is_none() && !member.contains('/') {
                let nested = format!("checkpoint/{member}");
                bytes = ckpt.read_member(&nested)?;
                if bytes.is_some() {
                    name = format!("{archive}:{nested}");
                }
            }
            let bytes = bytes.ok_or_else(|| archive::Error::MissingMember {
                archive: archive.to_owned(),
                member: member.to_owned(),
            })?;
            Ok((name, bytes))
        }
    }
}

/// The image names of `file` when it is a checkpoint archive rather than a CRIU image.
fn archive_images(file: &str) -> Option<Vec<String>> {
    use std::io::Read;
    // Only regular files: opening a FIFO would block.
    if !std::fs::metadata(file).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(file)
        .ok()?
        .take(8)
        .read_to_end(&mut head)
        .ok()?;
    if criu::read_header(file, &head).is_ok() {
        return None;
    }
    let ckpt = Checkpoint::open(Path::new(file)).ok()?;
    Some(ckpt.image_names().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_last_colon_whose_left_part_exists() {
        let crio = "checkpoint-counters_demo-counter-2023-08-24T11:24:18Z.tar";
        let exists = |p: &str| p == crio || p == "img/core-1.img" || p == "a:b";
        let table = [
            ("img/core-1.img", Input::File("img/core-1.img")),
            (
                "checkpoint-counters_demo-counter-2023-08-24T11:24:18Z.tar:checkpoint/pstree.img",
                Input::Member {
                    archive: crio,
                    member: "checkpoint/pstree.img",
                },
            ),
            (
                "a:b:c",
                Input::Member {
                    archive: "a:b",
                    member: "c",
                },
            ),
            (
                "missing.tar:pstree.img",
                Input::File("missing.tar:pstree.img"),
            ),
            ("a:b:", Input::File("a:b:")),
        ];
        for (path, want) in table {
            assert_eq!(resolve_input(path, exists), want, "{path}");
        }
    }
}

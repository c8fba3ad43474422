//! docs/cli.md and the man pages under docs/man/ are generated from the clap definition: these
//! tests render them and fail when the files differ; `UPDATE_DOCS=1 cargo test --bin
//! kubectl-checkpoint reference` rewrites them. Every verb's help has examples that parse.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};

use super::{Cli, EXIT_CANCELLED, EXIT_ERROR, EXIT_PARTIAL};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn updating() -> bool {
    std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1")
}

/// Compares a generated file with the checked-in one, or rewrites it under UPDATE_DOCS=1.
fn check_generated(path: &Path, want: &str) {
    if updating() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, want).unwrap();
        return;
    }
    let have = fs::read_to_string(path).unwrap_or_default();
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "{} is out of date (first difference at line {}): run `UPDATE_DOCS=1 cargo test --bin kubectl-checkpoint reference`",
            path.display(),
            line + 1
        );
    }
}

/// The command tree as users see it: built (globals propagated, bin names set), fixed width.
fn cli_command() -> clap::Command {
    let mut command = Cli::command().term_width(100).disable_help_subcommand(true);
    command.build();
    command
}

fn plain(text: Option<&clap::builder::StyledStr>) -> String {
    text.map(|t| t.to_string().trim_end().to_string())
        .unwrap_or_default()
}

/// One line of text ending with a full stop.
fn sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() || text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

fn render_arg(arg: &clap::Arg, out: &mut String) {
    let mut name = String::new();
    if let Some(short) = arg.get_short() {
        write!(name, "-{short}").unwrap();
    }
    if let Some(long) = arg.get_long() {
        if !name.is_empty() {
            name.push_str(", ");
        }
        write!(name, "--{long}").unwrap();
    }
    let takes_value = arg.get_num_args().is_some_and(|range| range.takes_values());
    if arg.is_positional() {
        let value = arg
            .get_value_names()
            .and_then(|names| names.first().map(|n| n.to_string()))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let many = arg.get_num_args().is_some_and(|r| r.max_values() > 1);
        name = format!("<{value}>{}", if many { "..." } else { "" });
    } else if takes_value {
        let value = arg
            .get_value_names()
            .and_then(|names| names.first().map(|n| n.to_string()))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        // `--fetch[=<DEST>]`: a value that may be left out is shown as optional, glued to the
        // flag with `=` when clap wants it written so.
        let optional = arg.get_num_args().is_some_and(|r| r.min_values() == 0);
        if optional && arg.is_require_equals_set() {
            write!(name, "[=<{value}>]").unwrap();
        } else if optional {
            write!(name, " [<{value}>]").unwrap();
        } else {
            write!(name, " <{value}>").unwrap();
        }
    }
    let help = sentence(&plain(arg.get_long_help().or(arg.get_help())));
    write!(out, "- `{name}`").unwrap();
    if !help.is_empty() {
        write!(out, ": {help}").unwrap();
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| match v.get_help() {
            Some(h) => format!(
                "`{}` ({})",
                v.get_name(),
                h.to_string().trim_end_matches('.')
            ),
            None => format!("`{}`", v.get_name()),
        })
        .collect();
    if takes_value && !values.is_empty() {
        write!(out, " Values: {}.", values.join(", ")).unwrap();
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| format!("`{}`", v.to_string_lossy()))
        .collect();
    if takes_value && !defaults.is_empty() {
        write!(out, " Default: {}.", defaults.join(", ")).unwrap();
    }
    if arg.is_required_set() {
        out.push_str(" Required.");
    }
    out.push('\n');
}

fn render_command(command: &clap::Command, out: &mut String) {
    let name = command.get_bin_name().unwrap_or(command.get_name());
    writeln!(out, "## `{name}`\n").unwrap();
    let about = plain(command.get_long_about().or(command.get_about()));
    if !about.is_empty() {
        writeln!(out, "{about}\n").unwrap();
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").trim_end();
    writeln!(out, "```text\n{usage}\n```\n").unwrap();

    let positionals: Vec<&clap::Arg> = command
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .collect();
    if !positionals.is_empty() {
        out.push_str("Arguments:\n\n");
        for arg in positionals {
            render_arg(arg, out);
        }
        out.push('\n');
    }
    let options: Vec<&clap::Arg> = command
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .collect();
    if !options.is_empty() {
        out.push_str("Options:\n\n");
        for arg in options {
            render_arg(arg, out);
        }
        out.push('\n');
    }
    let after = plain(command.get_after_long_help().or(command.get_after_help()));
    if !after.is_empty() {
        writeln!(out, "```text\n{after}\n```\n").unwrap();
    }
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_command(sub, out);
    }
}

/// docs/cli.md: every verb with its usage, arguments, options and examples.
fn render_cli_reference() -> String {
    let command = cli_command();
    let mut out = String::new();
    out.push_str(
        "# CLI reference\n\n\
         <!-- Generated from the clap definition by src/cli/reference.rs; do not edit.\n     \
         Regenerate with: UPDATE_DOCS=1 cargo test --bin kubectl-checkpoint reference -->\n\n",
    );
    out.push_str(
        "The plugin runs as `kubectl checkpoint ...`, `oc checkpoint ...` or `kubectl-checkpoint ...`: \
         all three run the same binary with the same arguments. Man pages with the same content are \
         in [man/](man/).\n\n",
    );
    out.push_str("Verbs:\n\n");
    out.push_str("- `kubectl checkpoint TARGET`: checkpoint a container (the default verb)\n");
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        writeln!(
            out,
            "- [`{}`](#{}): {}",
            sub.get_name(),
            anchor(sub.get_bin_name().unwrap_or(sub.get_name())),
            plain(sub.get_about()).trim_end_matches('.')
        )
        .unwrap();
    }
    writeln!(
        out,
        "\nExit codes: `0` success; `{EXIT_PARTIAL}` some items failed and the others were done \
         (each failure is reported on stderr); `{EXIT_ERROR}` an error stopped the verb, \
         including a command line that does not parse; `{EXIT_CANCELLED}` cancelled (Ctrl-C, \
         or Esc/q at a prompt). `diff` exits as diff(1): `0` no differences, `1` differences, \
         `2` trouble.\n"
    )
    .unwrap();
    render_command(&command, &mut out);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// GitHub's heading anchor for a `## \`text\`` heading.
fn anchor(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[test]
fn cli_reference_is_up_to_date() {
    check_generated(&repo_path("docs/cli.md"), &render_cli_reference());
}

#[test]
fn cli_reference_covers_every_verb_and_flag() {
    let text = render_cli_reference();
    let command = cli_command();
    for sub in command.get_subcommands() {
        let heading = format!("## `kubectl checkpoint {}`", sub.get_name());
        assert!(text.contains(&heading), "{heading} missing");
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                assert!(
                    text.contains(&format!("--{long}")),
                    "--{long} of {} missing",
                    sub.get_name()
                );
            }
        }
    }
    for flag in ["--kubeconfig", "--context", "-n, --namespace"] {
        assert!(text.contains(flag), "{flag} missing");
    }
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// SYNOPSIS with each option's value (`[-o|--output FORMAT]`), which clap_mangen leaves out.
fn render_man_synopsis(command: &clap::Command, out: &mut String) {
    let name = command.get_bin_name().unwrap_or(command.get_name());
    write!(out, ".SH SYNOPSIS\n\\fB{}\\fR", roff_text(name)).unwrap();
    // Options first, then the positional words, as man pages write them.
    let options = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional());
    let positionals = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && a.is_positional());
    for arg in options.chain(positionals) {
        let value = arg
            .get_value_names()
            .and_then(|names| names.first().map(|n| n.to_string()))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let takes_value = arg.get_num_args().is_some_and(|r| r.takes_values());
        let optional_value = arg.get_num_args().is_some_and(|r| r.min_values() == 0);
        if arg.is_positional() {
            let many = arg.get_num_args().is_some_and(|r| r.max_values() > 1);
            let dots = if many { "..." } else { "" };
            if arg.is_required_set() {
                write!(out, " \\fI{}\\fR{dots}", roff_text(&value)).unwrap();
            } else {
                write!(out, " [\\fI{}\\fR]{dots}", roff_text(&value)).unwrap();
            }
            continue;
        }
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("\\fB\\-{short}\\fR"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", roff_text(long)));
        }
        let value = match (takes_value, optional_value, arg.is_require_equals_set()) {
            (false, ..) => String::new(),
            (true, false, _) => format!(" \\fI{}\\fR", roff_text(&value)),
            (true, true, true) => format!("[=\\fI{}\\fR]", roff_text(&value)),
            (true, true, false) => format!(" [\\fI{}\\fR]", roff_text(&value)),
        };
        write!(out, " [{}{value}]", names.join("|")).unwrap();
    }
    if command.get_subcommands().any(|s| !s.is_hide_set()) {
        out.push_str(" [\\fIVERB\\fR]");
    }
    out.push('\n');
}

/// EXAMPLES from the `Examples:` of the verb's help (indented lines, kept as they are), and
/// the help's closing text, if any, as NOTES.
fn render_man_examples(command: &clap::Command, out: &mut String) {
    let after = plain(command.get_after_long_help().or(command.get_after_help()));
    let Some(body) = after.strip_prefix("Examples:\n") else {
        return;
    };
    let lines: Vec<&str> = body.lines().collect();
    let examples_end = lines
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with(' '))
        .unwrap_or(lines.len());
    out.push_str(".SH EXAMPLES\n.nf\n");
    for line in lines.iter().take(examples_end) {
        writeln!(
            out,
            "{}",
            roff_text(line.strip_prefix("  ").unwrap_or(line))
        )
        .unwrap();
    }
    out.push_str(".fi\n");
    let notes: Vec<&str> = lines.iter().skip(examples_end).copied().collect();
    if !notes.is_empty() {
        writeln!(out, ".SH NOTES\n{}", roff_text(&notes.join(" "))).unwrap();
    }
}

/// EXIT STATUS, ENVIRONMENT and SEE ALSO, the same facts as docs/cli.md.
fn render_man_closing(command: &clap::Command, siblings: &[String], out: &mut String) {
    out.push_str(".SH \"EXIT STATUS\"\n");
    let diff_status = [
        (0, "No differences."),
        (EXIT_PARTIAL, "Differences (each is listed on stdout)."),
        (
            EXIT_ERROR,
            "Trouble: a checkpoint could not be read, a part of one could not be compared (named \
             on stderr; the report is still printed), or the command line does not parse.",
        ),
        (EXIT_CANCELLED, "Cancelled: Ctrl-C."),
    ];
    let verb_status = [
        (0, "Success."),
        (
            EXIT_PARTIAL,
            "Some items failed (each is reported on stderr); the others were done.",
        ),
        (
            EXIT_ERROR,
            "An error stopped the verb, including a command line that does not parse.",
        ),
        (
            EXIT_CANCELLED,
            "Cancelled: Ctrl-C, or Esc or q at a prompt; nothing more was done.",
        ),
    ];
    let status = if command.get_name() == "diff" {
        diff_status
    } else {
        verb_status
    };
    for (code, meaning) in status {
        writeln!(out, ".TP\n\\fB{code}\\fR\n{}", roff_text(meaning)).unwrap();
    }
    out.push_str(".SH ENVIRONMENT\n");
    let cluster = command.get_arguments().any(|a| a.get_id() == "kubeconfig");
    let mut variables = Vec::new();
    if cluster {
        variables.push((
            "KUBECONFIG",
            "The kubeconfig files to use, separated by colons (files that do not exist are \
             skipped, as kubectl does); --kubeconfig overrides it. Without either, \
             ~/.kube/config, else the in-cluster service account.",
        ));
    }
    let helper = command
        .get_arguments()
        .any(|a| a.get_id() == "helper_image");
    if helper {
        variables.push((
            "KUBECTL_CHECKPOINT_HELPER_IMAGE",
            "The helper pod's image when --helper-image is not given (default busybox:1.36).",
        ));
        variables.push((
            "KUBECTL_CHECKPOINT_HELPER_NAMESPACE",
            "The helper pod's namespace when --helper-namespace is not given (default: the -n \
             namespace).",
        ));
    }
    if matches!(command.get_name(), "completion" | "list") {
        variables.push((
            "XDG_CACHE_HOME",
            "Where `list` keeps the archives it saw for ten minutes, for the completion of fetch \
             and delete (kubectl-checkpoint/, files 0600; completion never lists archives \
             itself); default ~/.cache.",
        ));
    }
    variables.push((
        "NO_COLOR",
        "When set to any value, tables and trees are never coloured.",
    ));
    for (name, meaning) in variables {
        writeln!(out, ".TP\n\\fB{name}\\fR\n{}", roff_text(meaning)).unwrap();
    }
    out.push_str(".SH \"SEE ALSO\"\n");
    let mut refs: Vec<String> = ["kubectl", "crit", "gdb"]
        .iter()
        .map(|page| format!("\\fB{page}\\fR(1)"))
        .collect();
    let own = command
        .get_bin_name()
        .unwrap_or(command.get_name())
        .replace(' ', "-");
    for page in siblings.iter().filter(|p| **p != own) {
        refs.push(format!("\\fB{}\\fR(1)", roff_text(page)));
    }
    writeln!(out, "{}", refs.join(", ")).unwrap();
}

/// The date in the man pages' footer: the month the command line last changed (bump it with the
/// flags, as the regenerated pages are committed).
const MAN_DATE: &str = "December 2026";

/// docs/man/*.1, one page per verb: clap_mangen's title, name, description, options and verbs,
/// then our synopsis (with option values), examples, exit status, environment and see-also.
fn render_man_pages() -> Vec<(String, String)> {
    fn walk(command: &clap::Command, names: &[String], pages: &mut Vec<(String, String)>) {
        let man = clap_mangen::Man::new(command.clone())
            .date(MAN_DATE)
            .source(format!("kubectl-checkpoint {}", env!("CARGO_PKG_VERSION")))
            .manual("kubectl-checkpoint Manual");
        let mut roff = Vec::new();
        man.render_title(&mut roff).unwrap();
        man.render_name_section(&mut roff).unwrap();
        let mut synopsis = String::new();
        render_man_synopsis(command, &mut synopsis);
        roff.extend_from_slice(synopsis.as_bytes());
        man.render_description_section(&mut roff).unwrap();
        man.render_options_section(&mut roff).unwrap();
        if command.get_subcommands().any(|s| !s.is_hide_set()) {
            man.render_subcommands_section(&mut roff).unwrap();
        }
        let mut closing = String::new();
        render_man_examples(command, &mut closing);
        render_man_closing(command, names, &mut closing);
        roff.extend_from_slice(closing.as_bytes());
        if command.get_version().is_some() {
            man.render_version_section(&mut roff).unwrap();
        }
        // Each clap_mangen section starts with the same two-line preamble: keep the first.
        let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
        let text = String::from_utf8(roff).unwrap();
        let text = match text.split_once(preamble) {
            Some((head, rest)) => format!("{head}{preamble}{}", rest.replace(preamble, "")),
            None => text,
        };
        pages.push((man.get_filename(), text));
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, names, pages);
        }
    }
    let command = cli_command();
    let mut names = vec!["kubectl-checkpoint".to_string()];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        names.push(format!("kubectl-checkpoint-{}", sub.get_name()));
    }
    let mut pages = Vec::new();
    walk(&command, &names, &mut pages);
    pages
}

#[test]
fn man_pages_have_the_usual_sections() {
    for (name, roff) in render_man_pages() {
        for section in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH OPTIONS",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(roff.contains(section), "{name}: no {section}");
        }
        assert!(!roff.contains(".SH EXTRA"), "{name}");
        assert!(
            roff.contains("\\fBcrit\\fR(1)") && roff.contains("\\fBgdb\\fR(1)"),
            "{name}"
        );
        assert!(roff.contains(".SH EXAMPLES\n.nf\n# "), "{name}");
    }
    let pages: std::collections::BTreeMap<String, String> =
        render_man_pages().into_iter().collect();
    let fetch = &pages["kubectl-checkpoint-fetch.1"];
    assert!(
        fetch.contains("[\\fB\\-o\\fR|\\fB\\-\\-output\\fR \\fIFORMAT\\fR]"),
        "{fetch}"
    );
    assert!(fetch.contains("\\fBKUBECONFIG\\fR"));
    let root = &pages["kubectl-checkpoint.1"];
    assert!(
        root.contains("[\\fB\\-\\-fetch\\fR[=\\fIDEST\\fR]]"),
        "{root}"
    );
    assert!(!pages["kubectl-checkpoint-decode.1"].contains("KUBECONFIG"));
    // The footer: the tool and its version, a date, the manual (not the verb's name).
    let analyze = &pages["kubectl-checkpoint-analyze.1"];
    let title = analyze.lines().find(|l| l.starts_with(".TH")).unwrap();
    assert_eq!(
        title,
        format!(
            ".TH kubectl-checkpoint-analyze 1 \"{MAN_DATE}\" \"kubectl-checkpoint {}\" \"kubectl-checkpoint Manual\"",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn short_help_fits_one_screen() {
    let command = cli_command();
    let mut verbs: Vec<clap::Command> = vec![command.clone()];
    verbs.extend(command.get_subcommands().cloned());
    for mut verb in verbs {
        let name = verb.get_name().to_string();
        let short = verb.render_help().to_string();
        let lines = short.lines().count();
        assert!(lines <= 60, "`{name} -h` is {lines} lines:\n{short}");
        let long = verb.render_long_help().to_string();
        assert!(long.lines().count() > lines || name == "version", "{name}");
    }
}

#[test]
fn flags_are_grouped_by_what_they_do() {
    let command = cli_command();
    let analyze = command.find_subcommand("analyze").unwrap();
    let heading = |long: &str| {
        analyze
            .get_arguments()
            .find(|a| a.get_long() == Some(long))
            .and_then(|a| a.get_help_heading())
            .map(str::to_string)
    };
    assert_eq!(heading("container").as_deref(), Some("Checkpoint"));
    assert_eq!(heading("timeout").as_deref(), Some("Checkpoint"));
    assert_eq!(
        heading("helper-namespace").as_deref(),
        Some(crate::cli::kube_args::HELPER)
    );
    assert_eq!(
        heading("kubeconfig").as_deref(),
        Some(crate::cli::kube_args::CONNECTION)
    );
    assert_eq!(
        heading("namespace").as_deref(),
        Some(crate::cli::kube_args::CONNECTION)
    );
    assert_eq!(heading("spool-dir").as_deref(), Some("Archive reading"));
    let coredump = command.find_subcommand("coredump").unwrap();
    let overwrite = coredump
        .get_arguments()
        .find(|a| a.get_long() == Some("overwrite"))
        .unwrap();
    assert_eq!(overwrite.get_help_heading(), Some("Output"));
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = repo_path("docs/man");
    let pages = render_man_pages();
    let want: BTreeSet<String> = pages.iter().map(|(name, _)| name.clone()).collect();
    assert!(want.contains("kubectl-checkpoint.1"), "{want:?}");
    assert!(want.contains("kubectl-checkpoint-analyze.1"), "{want:?}");
    for (name, roff) in &pages {
        check_generated(&dir.join(name), roff);
    }
    let have: BTreeSet<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let stale: Vec<&String> = have.difference(&want).collect();
    if updating() {
        for name in stale {
            fs::remove_file(dir.join(name)).unwrap();
        }
    } else {
        assert!(stale.is_empty(), "stale man pages in docs/man: {stale:?}");
    }
}

/// The example command lines of a help text: `kubectl checkpoint ...` lines after `Examples:`,
/// `\` continuations joined.
fn help_examples(help: &str) -> Vec<String> {
    let mut examples = Vec::new();
    let mut pending = String::new();
    for line in help.lines().skip_while(|l| !l.starts_with("Examples:")) {
        let text = line.trim();
        if pending.is_empty() && !text.starts_with("kubectl checkpoint") {
            continue;
        }
        if let Some(head) = text.strip_suffix('\\') {
            pending.push_str(head.trim_end());
            pending.push(' ');
        } else {
            pending.push_str(text);
            let words: Vec<&str> = pending.split_whitespace().collect();
            examples.push(words.join(" "));
            pending.clear();
        }
    }
    examples
}

#[test]
fn every_verb_has_examples_that_parse_and_fit_80_columns() {
    let command = cli_command();
    let mut verbs: Vec<&clap::Command> = vec![&command];
    verbs.extend(command.get_subcommands().filter(|s| !s.is_hide_set()));
    let mut checked = 0;
    for verb in verbs {
        let name = verb.get_name();
        let after = plain(verb.get_after_long_help().or(verb.get_after_help()));
        assert!(
            after.starts_with("Examples:"),
            "`{}` --help has no examples",
            verb.get_bin_name().unwrap_or(name)
        );
        for line in after.lines() {
            assert!(
                line.chars().count() <= 78,
                "{name}: example line wider than 78 columns (clap would wrap it): {line:?}"
            );
        }
        let examples = help_examples(&after);
        assert!(
            !examples.is_empty(),
            "{name}: no `kubectl checkpoint` example"
        );
        for example in examples {
            // The plugin's own words end at the first shell operator (`> file`, `| less`).
            let words: Vec<&str> = example
                .split_whitespace()
                .take_while(|w| !matches!(*w, ">" | ">>" | "|" | "&&" | ";"))
                .collect();
            let argv = std::iter::once("kubectl-checkpoint").chain(words[2..].iter().copied());
            if let Err(err) = Cli::try_parse_from(argv) {
                panic!("{name}: example `{example}` does not parse:\n{err}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} examples checked");
}

#[test]
fn help_example_scanner_joins_continuations() {
    let help =
        "Usage: x\n\nExamples:\n  # a\n  kubectl checkpoint fetch \\\n      n:/p  d\n  gdb -c x\n";
    assert_eq!(help_examples(help), ["kubectl checkpoint fetch n:/p d"]);
}

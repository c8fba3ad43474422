//! The words kubectl hands the plugin, put in the order clap parses them, and the hint for a
//! mistyped verb.
//!
//! kubectl refuses flags before a plugin's name (`kubectl -n demo checkpoint list` fails), so
//! people write them right after it: `kubectl checkpoint -n demo list`. clap would read `list`
//! there as the default verb's TARGET. [`build_verb_first`] moves the first positional word to
//! the front when it names a verb, skipping the values of flags on the way, so verbs win
//! wherever the flags stand. A pod really named like a verb is `pod/list`, as in kubectl.
//!
//! Invariant: only the first positional word can move, and only when it is a verb's name; every
//! other word keeps its place, so flag values are never reordered.

use std::ffi::{OsStr, OsString};

use clap::CommandFactory;

use super::Cli;

/// The command line with the verb first: `[-n demo, list, -o, json]` becomes
/// `[list, -n, demo, -o, json]` (the program name stays in front).
pub fn build_verb_first(mut args: Vec<OsString>) -> Vec<OsString> {
    // The common case needs no clap definition: the verb, or no flag, comes first.
    let starts_with_flag = args
        .get(1)
        .and_then(|word| word.to_str())
        .is_some_and(|word| word.starts_with('-') && word != "-" && word != "--");
    if !starts_with_flag {
        return args;
    }
    let command = built_command();
    let Some(index) = first_positional(&command, &args) else {
        return args;
    };
    let is_verb = args
        .get(index)
        .and_then(|word| word.to_str())
        .is_some_and(|word| command.find_subcommand(word).is_some());
    if is_verb && index > 1 {
        let verb = args.remove(index);
        args.insert(1, verb);
    }
    args
}

/// The clap definition with every verb built (flags know how many values they take).
fn built_command() -> clap::Command {
    let mut command = Cli::command();
    command.build();
    command
}

/// The index of the first word that is neither a flag nor a flag's value, if any.
fn first_positional(command: &clap::Command, args: &[OsString]) -> Option<usize> {
    let mut index = 1;
    while let Some(word) = args.get(index) {
        let Some(word) = word.to_str() else {
            return Some(index);
        };
        if word == "--" {
            return None;
        }
        if let Some(long) = word.strip_prefix("--") {
            let takes_value = !long.contains('=') && flag_takes_value(command, Flag::Long(long));
            index += if takes_value { 2 } else { 1 };
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-n demo` takes the next word; `-ndemo` and `-A` do not.
            let mut chars = shorts.chars();
            let takes_value = match (chars.next(), chars.next()) {
                (Some(short), None) => flag_takes_value(command, Flag::Short(short)),
                _ => false,
            };
            index += if takes_value { 2 } else { 1 };
        } else {
            return Some(index);
        }
    }
    None
}

/// A flag as typed, without its dashes.
#[derive(Clone, Copy)]
enum Flag<'a> {
    Long(&'a str),
    Short(char),
}

/// True when the flag takes a value on the top level or on any verb (a flag that stands before
/// the verb may be one of the verb's own).
fn flag_takes_value(command: &clap::Command, flag: Flag<'_>) -> bool {
    std::iter::once(command)
        .chain(command.get_subcommands())
        .flat_map(|c| c.get_arguments())
        .filter(|arg| match flag {
            Flag::Long(long) => arg.get_long() == Some(long),
            Flag::Short(short) => arg.get_short() == Some(short),
        })
        .any(|arg| arg.get_num_args().is_some_and(|n| n.takes_values()))
}

/// The verb `word` is probably a typo of (`lst` -> `list`, `fecth` -> `fetch`, `analyse` ->
/// `analyze`), if any. Words with a `/` (`pod/list`) are never verbs.
pub fn build_verb_suggestion(word: &str) -> Option<String> {
    if word.contains('/') || word.starts_with('-') {
        return None;
    }
    // checkpointctl's verbs for what `analyze` does.
    if matches!(word, "show" | "inspect" | "memparse") {
        return Some("analyze".to_string());
    }
    let command = Cli::command();
    if command.find_subcommand(word).is_some() {
        return None;
    }
    command
        .get_subcommands()
        .filter(|verb| !verb.is_hide_set())
        .map(|verb| {
            let name = verb.get_name();
            (strsim::osa_distance(word, name), name)
        })
        .filter(|(distance, name)| *distance <= (name.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.to_string())
}

/// The first positional word of the command line, when it stands where a verb would.
pub fn first_word(args: &[OsString]) -> Option<&OsStr> {
    let command = built_command();
    first_positional(&command, args)
        .and_then(|index| args.get(index))
        .map(OsString::as_os_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<OsString> {
        std::iter::once("kubectl-checkpoint")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn verbs_move_in_front_of_the_flags() {
        let cases = [
            ("-n demo list", "list -n demo"),
            (
                "--context prod fetch n:/a.tar",
                "fetch --context prod n:/a.tar",
            ),
            ("-o json list", "list -o json"),
            (
                "-n demo analyze --local x.tar",
                "analyze -n demo --local x.tar",
            ),
            ("--namespace=demo list -A", "list --namespace=demo -A"),
            ("-ndemo delete n:/a", "delete -ndemo n:/a"),
            ("-n demo ls", "ls -n demo"),
            (
                "--kubeconfig /k --context c -n d list",
                "list --kubeconfig /k --context c -n d",
            ),
            // Not a verb: stays the default verb's TARGET.
            ("-n demo pod/list", "-n demo pod/list"),
            ("-n demo counters -c list", "-n demo counters -c list"),
            // The value of -c is not a verb, even when it is spelled like one.
            ("-c list pod/x", "-c list pod/x"),
            ("-n demo -- list", "-n demo -- list"),
            ("list -n demo", "list -n demo"),
        ];
        for (given, want) in cases {
            assert_eq!(build_verb_first(words(given)), words(want), "{given}");
        }
    }

    #[test]
    fn typos_of_verbs_get_a_suggestion() {
        for (typo, verb) in [
            ("lst", "list"),
            ("fecth", "fetch"),
            ("analyse", "analyze"),
            ("delet", "delete"),
            ("coredupm", "coredump"),
            ("show", "analyze"),
            ("inspect", "analyze"),
        ] {
            assert_eq!(build_verb_suggestion(typo).as_deref(), Some(verb), "{typo}");
        }
        for word in ["list", "pod/lst", "counters-857d7978fd-jnkck", "web", "-n"] {
            assert_eq!(build_verb_suggestion(word), None, "{word}");
        }
    }
}

//! The words before the cursor read against the clap definition: which verb, which flags with
//! which values, which positional words, and where the word under the cursor stands ([`Walk`]).

/// Where the word under the cursor stands, read against the clap definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// The value of the flag with this id (`namespace`, `context`, `container`, `node`, ...).
    FlagValue(String),
    /// A flag's name.
    Flag,
    /// The `index`-th positional word of `verb` (`None`: the default verb).
    Positional {
        /// The verb, if any.
        verb: Option<String>,
        /// 0 for the first positional word.
        index: usize,
    },
}

/// The finished words read against the clap definition: where the cursor stands, and the
/// flag values and positional words given so far (the cluster candidates need `-n`, `--context`,
/// `--kubeconfig` and the TARGET).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// Where the word under the cursor stands.
    pub slot: Slot,
    /// `(flag id, value)` of the flags given with a value.
    pub values: Vec<(String, String)>,
    /// The ids of the flags given without a value (`local`, ...).
    pub flags: Vec<String>,
    /// The positional words given, in order.
    pub positionals: Vec<String>,
    /// The verb, if any.
    pub verb: Option<String>,
}

impl Walk {
    /// The last value given for the flag with id `id`.
    pub fn value(&self, id: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(flag, _)| flag == id)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads the finished words (all but the last of `words`, the words after `kubectl checkpoint`)
/// against `root`, which must be built. Flags before the verb count, as when running.
pub fn build_walk(root: &clap::Command, words: &[String]) -> Walk {
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };
    let mut command = root;
    let mut verb = None;
    let mut pending: Option<&clap::Arg> = None;
    let mut after_double_dash = false;
    let mut values = Vec::new();
    let mut flags = Vec::new();
    let mut positionals: Vec<String> = Vec::new();
    for word in before {
        if let Some(arg) = pending.take() {
            values.push((arg.get_id().to_string(), word.clone()));
            continue;
        }
        if after_double_dash {
            positionals.push(word.clone());
        } else if word == "--" {
            after_double_dash = true;
        } else if let Some((flag, value)) = word.split_once('=').filter(|_| word.starts_with("--"))
        {
            if let Some(arg) = find_flag(command, flag).or_else(|| find_flag(root, flag)) {
                values.push((arg.get_id().to_string(), value.to_string()));
            }
        } else if word.starts_with('-') && word.len() > 1 {
            let arg = find_flag(command, word).or_else(|| find_flag(root, word));
            match arg {
                Some(arg) if takes_value(arg) => pending = Some(arg),
                Some(arg) => flags.push(arg.get_id().to_string()),
                None => {
                    // `-ndemo`: a short flag with its value attached.
                    if let Some(short) = word.strip_prefix('-').and_then(|w| w.chars().next()) {
                        let value: String = word.chars().skip(2).collect();
                        let flag = format!("-{short}");
                        if let Some(arg) = find_flag(command, &flag).filter(|a| takes_value(a)) {
                            if !value.is_empty() && !word.starts_with("--") {
                                values.push((arg.get_id().to_string(), value));
                            }
                        }
                    }
                }
            }
        } else if let Some(sub) = (verb.is_none() && positionals.is_empty())
            .then(|| root.find_subcommand(word))
            .flatten()
        {
            command = sub;
            verb = Some(sub.get_name().to_string());
        } else {
            positionals.push(word.clone());
        }
    }
    let slot = match pending {
        Some(arg) => Slot::FlagValue(arg.get_id().to_string()),
        None if current.starts_with('-') && !after_double_dash => Slot::Flag,
        None => Slot::Positional {
            verb: verb.clone(),
            index: positionals.len(),
        },
    };
    Walk {
        slot,
        values,
        flags,
        positionals,
        verb,
    }
}

fn find_flag<'a>(command: &'a clap::Command, word: &str) -> Option<&'a clap::Arg> {
    if let Some(long) = word.strip_prefix("--") {
        command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long))
    } else {
        let mut chars = word.strip_prefix('-')?.chars();
        let short = chars.next()?;
        // `-nfoo` carries its value already.
        if chars.next().is_some() {
            return None;
        }
        command
            .get_arguments()
            .find(|arg| arg.get_short() == Some(short))
    }
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|range| range.takes_values())
}

//! The process tree section: pids, names, states and threads from the [`Dump`]'s task tree;
//! command lines and environments read from memory by the kernel's rules
//! ([`checkpoint_model::dump::args`]).

use std::collections::BTreeMap;

use super::{ProcessNode, Sections, ThreadNode, Unreadable};
use checkpoint_model::dump::{Dump, Task};

/// The `--ps-tree` section, from the root or from `--pid`'s process, with command lines and
/// environments when `sections` asks. A fact that cannot be read is left out of its node and
/// listed in the node's `unavailable`; the rest of the tree is still built.
pub(crate) fn build_process_tree(dump: &Dump, sections: &Sections) -> Option<ProcessNode> {
    let tree = dump.tree();
    let start = match sections.pid {
        Some(pid) => tree.index_of(pid)?,
        None => tree.root_index(),
    };
    let mut budget = TEXT_BUDGET;
    Some(build_node(dump, start, sections, &mut budget))
}

/// The most bytes of command lines and environments one report holds, all processes together.
/// A process has at most a few MiB of them, but a forged checkpoint can point thousands of
/// processes at the same pages; past this budget the rest are marked unavailable.
pub const TEXT_BUDGET: u64 = 64 << 20;

/// The report node of task `index` and its subtree. Recursion is bounded: the dump refused
/// trees deeper than [`checkpoint_model::dump::tasks::MAX_DEPTH`].
fn build_node(dump: &Dump, index: usize, sections: &Sections, budget: &mut u64) -> ProcessNode {
    let tree = dump.tree();
    let Some(task) = tree.tasks().get(index) else {
        return ProcessNode::default();
    };
    let mut node = ProcessNode {
        pid: task.pid,
        ppid: task.ppid,
        pgid: task.pgid,
        sid: task.sid,
        command: task.comm.clone(),
        task_state: task.state.name().to_owned(),
        exit_code: (!task.state.has_resources()).then_some(task.exit_code),
        threads: threads(task),
        ..ProcessNode::default()
    };
    if let Some(problem) = &task.core_problem {
        node.unavailable.push(Unreadable {
            field: "core".to_owned(),
            reason: problem.reason.clone(),
        });
    }
    if task.state.has_resources() && (sections.cmdline || sections.env) {
        fill_from_memory(dump, task, sections, budget, &mut node);
    }
    for &child in tree.children(index) {
        node.children
            .push(build_node(dump, child, sections, budget));
    }
    node
}

fn threads(task: &Task) -> Vec<ThreadNode> {
    task.threads
        .iter()
        .map(|thread| ThreadNode {
            tid: thread.tid,
            name: thread.comm.clone().unwrap_or_default(),
            state: task.state.name().to_owned(),
        })
        .collect()
}

/// Adds the command line and environment, or says why they are missing.
fn fill_from_memory(
    dump: &Dump,
    task: &Task,
    sections: &Sections,
    budget: &mut u64,
    node: &mut ProcessNode,
) {
    let mut unreadable = |field: &str, reason: String| {
        node.unavailable.push(Unreadable {
            field: field.to_owned(),
            reason,
        })
    };
    if *budget == 0 {
        let reason = format!(
            "the report's budget of {} MiB for command lines and environments is used up",
            TEXT_BUDGET >> 20
        );
        if sections.cmdline {
            unreadable("cmdline", reason.clone());
        }
        if sections.env {
            unreadable("environment", reason);
        }
        return;
    }
    let memory = match dump.memory(task.pid) {
        Ok(memory) => memory,
        Err(err) => {
            let reason = checkpoint_model::error_text(&err);
            if sections.cmdline {
                unreadable("cmdline", reason.clone());
            }
            if sections.env {
                unreadable("environment", reason);
            }
            return;
        }
    };
    let cmdline = dump.cmdline(&memory);
    if sections.env {
        // Without a readable command line, no byte of the environment area is known to be
        // title: read it all.
        let environ = match &cmdline {
            Ok(cmdline) => dump.environ(&memory, cmdline),
            Err(_) => dump.environ(
                &memory,
                &checkpoint_model::dump::Cmdline {
                    args: Vec::new(),
                    retitled: false,
                    end: 0,
                },
            ),
        };
        match environ {
            Ok(strings) => {
                let bytes = strings.iter().map(|s| s.len() as u64 + 1).sum::<u64>();
                *budget = budget.saturating_sub(bytes.saturating_mul(2));
                node.environment_variables = Some(environment_map(&strings));
                node.environment = Some(strings);
            }
            Err(err) => unreadable("environment", checkpoint_model::error_text(&err)),
        }
    }
    if sections.cmdline {
        match cmdline {
            Ok(cmdline) => {
                let joined = cmdline.joined();
                *budget = budget.saturating_sub(joined.len() as u64);
                node.retitled = cmdline.retitled;
                node.cmdline = Some(joined);
            }
            Err(err) => unreadable("cmdline", checkpoint_model::error_text(&err)),
        }
    }
}

/// `NAME=value` strings as a map holding the first value of each name (what `getenv` finds);
/// a string without `=` becomes a name with an empty value.
pub(crate) fn environment_map(strings: &[String]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for entry in strings.iter().filter(|entry| !entry.is_empty()) {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        map.entry(name.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_map_keeps_the_first_of_duplicates() {
        let strings: Vec<String> = [
            "HOSTNAME=counters-857d7978fd-jnkck",
            "EMPTY=",
            "A=b=c",
            "NOEQUALS",
            "PATH=/usr/bin",
            "PATH=/tmp/evil",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let map = environment_map(&strings);
        assert_eq!(map["HOSTNAME"], "counters-857d7978fd-jnkck");
        assert_eq!(map["EMPTY"], "");
        assert_eq!(map["A"], "b=c");
        assert_eq!(map["NOEQUALS"], "");
        assert_eq!(map["PATH"], "/usr/bin");
        assert_eq!(map.len(), 5);
    }
}

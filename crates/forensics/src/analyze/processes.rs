//! The process tree section: pids, names, states and threads from the [`Dump`]'s task tree;
//! command lines and environments read from memory by the kernel's rules
//! ([`checkpoint_model::dump::args`]).

use std::collections::BTreeMap;

use super::{ProcessNode, Sections, ThreadNode, Unreadable};
use checkpoint_model::dump::{Dump, EnvString, Task, Unavailable};

/// The `--ps-tree` section, from the root or from `--pid`'s process, with command lines and
/// environments when `sections` asks. A fact that cannot be read is left out of its node and
/// listed in the node's `unavailable`; the rest of the tree is still built.
pub(crate) fn build_process_tree(dump: &Dump, sections: &Sections) -> Option<ProcessNode> {
    let tree = dump.tree();
    let start = match sections.pid {
        Some(pid) => tree.index_of(pid)?,
        None => tree.root_index(),
    };
    Some(build_node(dump, start, sections))
}

/// The report node of task `index` and its subtree. Recursion is bounded: the dump refused
/// trees deeper than [`checkpoint_model::dump::tasks::MAX_DEPTH`].
fn build_node(dump: &Dump, index: usize, sections: &Sections) -> ProcessNode {
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
    // The main thread's core is the process's (above); another thread's is its own.
    for thread in task.threads.iter().filter(|t| t.tid != task.pid) {
        if let Err(problem) = &thread.comm {
            node.unavailable.push(Unreadable {
                field: format!("thread {}", thread.tid),
                reason: problem.reason.clone(),
            });
        }
    }
    if task.state.has_resources() && (sections.cmdline || sections.env) {
        fill_from_memory(dump, task, sections, &mut node);
    }
    for &child in tree.children(index) {
        node.children.push(build_node(dump, child, sections));
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
fn fill_from_memory(dump: &Dump, task: &Task, sections: &Sections, node: &mut ProcessNode) {
    let mut unreadable = |problem: &Unavailable| {
        node.unavailable.push(Unreadable {
            field: problem.what.to_owned(),
            reason: problem.reason.clone(),
        })
    };
    let strings = match dump.strings(task.pid) {
        Ok(strings) => strings,
        Err(problem) => {
            for (wanted, what) in [(sections.cmdline, "cmdline"), (sections.env, "environment")] {
                if wanted {
                    unreadable(&Unavailable {
                        what,
                        reason: problem.reason.clone(),
                    });
                }
            }
            return;
        }
    };
    if sections.env {
        match &strings.environ {
            Ok(environ) => {
                let texts: Vec<String> = environ.iter().map(EnvString::text).collect();
                node.environment_variables = Some(environment_map(&texts));
                node.environment = Some(texts);
            }
            Err(problem) => unreadable(problem),
        }
    }
    if sections.cmdline {
        match &strings.cmdline {
            Ok(cmdline) => {
                node.retitled = cmdline.retitled;
                node.cmdline = Some(cmdline.joined());
            }
            Err(problem) => unreadable(problem),
        }
    }
}

/// `NAME=value` strings as a map holding the first value of each name (what `getenv` finds);
/// a string without `=` maps to `None` (it is no variable, but the kernel's copy holds it), an
/// empty value to `""`.
pub(crate) fn environment_map(strings: &[String]) -> BTreeMap<String, Option<String>> {
    let mut map = BTreeMap::new();
    for entry in strings.iter().filter(|entry| !entry.is_empty()) {
        let (name, value) = match entry.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (entry.as_str(), None),
        };
        map.entry(name.to_owned()).or_insert(value);
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
        assert_eq!(
            map["HOSTNAME"].as_deref(),
            Some("counters-857d7978fd-jnkck")
        );
        assert_eq!(map["EMPTY"].as_deref(), Some(""));
        assert_eq!(map["A"].as_deref(), Some("b=c"));
        assert_eq!(map["NOEQUALS"], None);
        assert_eq!(map["PATH"].as_deref(), Some("/usr/bin"));
        assert_eq!(map.len(), 5);
    }
}

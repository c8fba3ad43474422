//! The process tree section: pids, names, states and threads from the [`Dump`]'s task tree;
//! command lines and environments read from memory by the kernel's rules
//! ([`checkpoint_model::dump::args`]).

use super::{EnvironmentMap, ProcessNode, Sections, ThreadNode, Unreadable};
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
        task_state: task.state.name(),
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
    node.children = tree
        .children(index)
        .iter()
        .map(|&child| build_node(dump, child, sections))
        .collect();
    node
}

fn threads(task: &Task) -> Vec<ThreadNode> {
    task.threads
        .iter()
        .map(|thread| ThreadNode {
            tid: thread.tid,
            name: thread.comm.clone().unwrap_or_default(),
            state: task.state.name(),
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
                node.environment_variables = Some(EnvironmentMap::from_strings(&texts));
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
        let map = EnvironmentMap::from_strings(&strings);
        assert_eq!(map.get("HOSTNAME"), Some(Some("counters-857d7978fd-jnkck")));
        assert_eq!(map.get("EMPTY"), Some(Some("")));
        assert_eq!(map.get("A"), Some(Some("b=c")));
        assert_eq!(map.get("NOEQUALS"), Some(None));
        assert_eq!(map.get("PATH"), Some(Some("/usr/bin")));
        assert_eq!(map.get("HOME"), None);
        assert_eq!(map.len(), 5);
        let names: Vec<&str> = map.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["A", "EMPTY", "HOSTNAME", "NOEQUALS", "PATH"]);
        assert_eq!(
            serde_json::to_string(&map).expect("JSON"),
            r#"{"A":"b=c","EMPTY":"","HOSTNAME":"counters-857d7978fd-jnkck","NOEQUALS":null,"PATH":"/usr/bin"}"#
        );
    }
}

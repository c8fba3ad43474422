//! The process tree: `pstree.img` for pids and parents, `core-PID.img` for comm and task state.

use std::collections::{BTreeMap, HashMap};

use super::images::{has_resources, task_state_name, Images};
use super::{Error, ProcessNode, Sections};
use crate::criu::messages::PstreeEntry;
use crate::memory::ProcessMemory;

/// Deepest process tree accepted (real trees are a few levels deep; this bounds recursion).
pub(crate) const MAX_DEPTH: usize = 256;

/// One process of `pstree.img` with what `core-PID.img` adds.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    /// The `pstree.img` entry.
    pub entry: PstreeEntry,
    /// `comm`.
    pub comm: String,
    /// `task_state`.
    pub state: u32,
    /// `exit_code`.
    pub exit_code: u32,
}

/// The processes in `pstree.img` order with, for each, the indexes of its children.
#[derive(Debug, Clone)]
pub(crate) struct TaskTree {
    /// Processes, in `pstree.img` order (root first).
    pub tasks: Vec<Task>,
    /// Children of each task (indexes into `tasks`), in `pstree.img` order.
    pub children: Vec<Vec<usize>>,
    /// Index of the root (the process whose ppid is 0).
    pub root: usize,
}

impl TaskTree {
    /// Reads `pstree.img` and every `core-PID.img`, and links children to parents.
    pub(crate) fn collect(images: &Images<'_>) -> Result<TaskTree, Error> {
        let entries = images.pstree()?;
        let mut tasks = Vec::with_capacity(entries.len());
        for entry in entries {
            let core = images.core(entry.pid)?;
            let (comm, state, exit_code) = match core.tc {
                Some(tc) => (tc.comm, tc.task_state, tc.exit_code),
                None => (String::new(), 0, 0),
            };
            tasks.push(Task {
                entry,
                comm,
                state,
                exit_code,
            });
        }
        build_tree(tasks, &images.label("pstree.img"))
    }

    /// Tasks in depth-first order from the root, each with its depth.
    pub(crate) fn depth_first(&self) -> Vec<(usize, usize)> {
        let mut order = Vec::with_capacity(self.tasks.len());
        let mut stack = vec![(self.root, 0usize)];
        while let Some((index, depth)) = stack.pop() {
            order.push((index, depth));
            if let Some(children) = self.children.get(index) {
                for &child in children.iter().rev() {
                    stack.push((child, depth + 1));
                }
            }
        }
        order
    }

    /// The report node of task `index` and its subtree; `fill` adds per-process details.
    /// Recursion is bounded: [`TaskTree::collect`] refused trees deeper than [`MAX_DEPTH`].
    pub(crate) fn build_node(
        &self,
        index: usize,
        fill: &mut dyn FnMut(&Task, &mut ProcessNode) -> Result<(), Error>,
    ) -> Result<ProcessNode, Error> {
        let Some(task) = self.tasks.get(index) else {
            return Ok(ProcessNode::default());
        };
        let mut node = ProcessNode {
            pid: task.entry.pid,
            ppid: task.entry.ppid,
            pgid: task.entry.pgid,
            sid: task.entry.sid,
            command: task.comm.clone(),
            task_state: task_state_name(task.state).to_owned(),
            exit_code: (!has_resources(task.state)).then_some(task.exit_code),
            threads: task.entry.threads.clone(),
            ..ProcessNode::default()
        };
        fill(task, &mut node)?;
        if let Some(children) = self.children.get(index) {
            for &child in children {
                node.children.push(self.build_node(child, fill)?);
            }
        }
        Ok(node)
    }
}

/// Links tasks to their parents; every task must be reachable from the single root.
fn build_tree(tasks: Vec<Task>, label: &str) -> Result<TaskTree, Error> {
    let mut by_pid: HashMap<u32, usize> = HashMap::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        if by_pid.insert(task.entry.pid, index).is_some() {
            return Err(Error::BadProcessTree {
                image: label.to_owned(),
                problem: format!("pid {} appears twice", task.entry.pid),
            });
        }
    }
    let mut children = vec![Vec::new(); tasks.len()];
    let mut root = None;
    for (index, task) in tasks.iter().enumerate() {
        let ppid = task.entry.ppid;
        if ppid == 0 {
            if let Some(first) = root {
                let first_pid = tasks.get(first).map_or(0, |t: &Task| t.entry.pid);
                return Err(Error::BadProcessTree {
                    image: label.to_owned(),
                    problem: format!(
                        "two roots (ppid 0): pid {first_pid} and pid {}",
                        task.entry.pid
                    ),
                });
            }
            root = Some(index);
            continue;
        }
        match by_pid
            .get(&ppid)
            .and_then(|&parent| children.get_mut(parent))
        {
            Some(list) => list.push(index),
            None => {
                return Err(Error::BadProcessTree {
                    image: label.to_owned(),
                    problem: format!(
                        "the parent {ppid} of pid {} is not in the tree",
                        task.entry.pid
                    ),
                })
            }
        }
    }
    let Some(root) = root else {
        return Err(Error::BadProcessTree {
            image: label.to_owned(),
            problem: "no root process (ppid 0)".to_owned(),
        });
    };
    let tree = TaskTree {
        tasks,
        children,
        root,
    };
    check_reachable(&tree, label)?;
    Ok(tree)
}

/// Every task hangs below the root (no cycles), at most [`MAX_DEPTH`] deep.
fn check_reachable(tree: &TaskTree, label: &str) -> Result<(), Error> {
    let mut seen = vec![false; tree.tasks.len()];
    let mut stack = vec![(tree.root, 0usize)];
    while let Some((index, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::BadProcessTree {
                image: label.to_owned(),
                problem: format!("the tree is deeper than {MAX_DEPTH} levels"),
            });
        }
        if let Some(flag) = seen.get_mut(index) {
            *flag = true;
        }
        if let Some(children) = tree.children.get(index) {
            stack.extend(children.iter().map(|&child| (child, depth + 1)));
        }
    }
    if let Some(lost) = seen.iter().position(|&flag| !flag) {
        let pid = tree.tasks.get(lost).map_or(0, |task| task.entry.pid);
        return Err(Error::BadProcessTree {
            image: label.to_owned(),
            problem: format!("pid {pid} is not below the root (its parents form a cycle)"),
        });
    }
    Ok(())
}

/// The `--ps-tree` section, with command lines and environments when `sections` asks.
pub(crate) fn build_process_tree(
    images: &Images<'_>,
    tree: &TaskTree,
    sections: &Sections,
) -> Result<ProcessNode, Error> {
    let wants_memory = sections.cmdline || sections.env;
    tree.build_node(tree.root, &mut |task, node| {
        if !wants_memory || !has_resources(task.state) {
            return Ok(());
        }
        let pid = task.entry.pid;
        let in_memory = |what: &'static str| {
            move |source: crate::memory::Error| Error::ProcessMemory { pid, what, source }
        };
        let mut memory =
            ProcessMemory::open(images.checkpoint(), pid).map_err(in_memory("memory"))?;
        if sections.cmdline {
            let argv = memory.argv().map_err(in_memory("command line"))?;
            node.cmdline = Some(argv.join(" "));
        }
        if sections.env {
            let env = memory.environ().map_err(in_memory("environment"))?;
            node.environment_variables = Some(environment_map(env));
        }
        Ok(())
    })
}

/// Splits `NAME=value` strings into a map; a string without `=` becomes a name with an
/// empty value.
pub(crate) fn environment_map(strings: Vec<String>) -> BTreeMap<String, String> {
    strings
        .into_iter()
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (entry, String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(pid: u32, ppid: u32) -> Task {
        Task {
            entry: PstreeEntry {
                pid,
                ppid,
                pgid: pid,
                sid: pid,
                threads: vec![pid],
            },
            comm: format!("p{pid}"),
            state: 1,
            exit_code: 0,
        }
    }

    #[test]
    fn children_follow_pstree_order() {
        let tree = build_tree(
            vec![task(1, 0), task(2, 1), task(3, 2), task(4, 1)],
            "pstree.img",
        )
        .expect("valid tree");
        let order: Vec<(u32, usize)> = tree
            .depth_first()
            .into_iter()
            .map(|(index, depth)| (tree.tasks[index].entry.pid, depth))
            .collect();
        assert_eq!(order, vec![(1, 0), (2, 1), (3, 2), (4, 1)]);
    }

    #[test]
    fn broken_trees_are_errors() {
        for (tasks, problem) in [
            (vec![task(1, 0), task(1, 0)], "appears twice"),
            (vec![task(1, 0), task(2, 0)], "two roots"),
            (vec![task(1, 0), task(2, 7)], "not in the tree"),
            (vec![task(2, 3), task(3, 2)], "no root"),
            (vec![task(1, 0), task(2, 3), task(3, 2)], "cycle"),
        ] {
            let err = build_tree(tasks, "pstree.img").expect_err(problem);
            let text = err.to_string();
            assert!(text.contains(problem), "{text}");
            assert!(text.starts_with("pstree.img: "), "{text}");
        }
    }

    #[test]
    fn deep_chains_are_refused() {
        let tasks: Vec<Task> = (1..=(MAX_DEPTH as u32 + 2))
            .map(|pid| task(pid, pid - 1))
            .collect();
        let err = build_tree(tasks, "pstree.img").expect_err("too deep");
        assert!(err.to_string().contains("deeper than"));
    }

    #[test]
    fn environment_strings_become_a_map() {
        let map = environment_map(vec![
            "HOSTNAME=counters-857d7978fd-jnkck".into(),
            "EMPTY=".into(),
            "A=b=c".into(),
            "NOEQUALS".into(),
            String::new(),
        ]);
        assert_eq!(map["HOSTNAME"], "counters-857d7978fd-jnkck");
        assert_eq!(map["EMPTY"], "");
        assert_eq!(map["A"], "b=c");
        assert_eq!(map["NOEQUALS"], "");
        assert_eq!(map.len(), 4);
    }
}

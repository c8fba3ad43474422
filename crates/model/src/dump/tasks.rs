//! The task tree: `pstree.img` for pids, parents and thread ids, `core-TID.img` for each task's
//! name, state and exit code and for each thread's own name.
//!
//! # Validation
//! The tree is refused as a whole (every verb sees the same error) when a pid appears twice,
//! when there is no root (ppid 0) or two, when a parent is missing, when the parents form a
//! cycle, when it is deeper than [`MAX_DEPTH`], or when it holds more than [`MAX_TASKS`]
//! processes or [`MAX_THREADS`] threads in all. A missing or broken `core-PID.img` does not
//! refuse the tree: the task keeps its pids with state `Unknown` and the reason.

use std::collections::HashMap;

use serde::Serialize;

use super::{Error, Unavailable};
use checkpoint_images::messages::{CoreEntry, PstreeEntry};

/// Deepest process tree accepted (real trees are a few levels deep; this bounds recursion in
/// the renderers).
pub const MAX_DEPTH: usize = 256;

/// Most processes one checkpoint may hold.
pub const MAX_TASKS: usize = 1 << 20;

/// Most threads (of all processes together) one checkpoint may hold.
pub const MAX_THREADS: usize = 1 << 21;

/// `task_core_entry.task_state` values (compel's `__compel_task_state`).
const TASK_ALIVE: u32 = 0x01;
const TASK_DEAD: u32 = 0x02;
const TASK_STOPPED: u32 = 0x03;
const TASK_ZOMBIE: u32 = 0x06;

/// The state of a task when it was dumped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Running or sleeping.
    Alive,
    /// Exited and reaped (a dead thread group leader).
    Dead,
    /// Stopped by a signal (SIGSTOP and friends).
    Stopped,
    /// Exited, not reaped.
    Zombie,
    /// A value CRIU does not write, or no `core-PID.img` to read it from.
    Unknown(u32),
}

impl TaskState {
    /// Reads `task_core_entry.task_state`.
    pub fn from_raw(state: u32) -> TaskState {
        match state {
            TASK_ALIVE => TaskState::Alive,
            TASK_DEAD => TaskState::Dead,
            TASK_STOPPED => TaskState::Stopped,
            TASK_ZOMBIE => TaskState::Zombie,
            other => TaskState::Unknown(other),
        }
    }

    /// The name checkpointctl and go-criu give the state.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Alive => "Alive",
            TaskState::Dead => "Dead",
            TaskState::Stopped => "Stopped",
            TaskState::Zombie => "Zombie",
            TaskState::Unknown(_) => "Unknown",
        }
    }

    /// Whether CRIU dumped the task's memory, files and the rest (alive or stopped tasks).
    pub fn has_resources(self) -> bool {
        matches!(self, TaskState::Alive | TaskState::Stopped)
    }
}

impl Serialize for TaskState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// One thread of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// Thread id.
    pub tid: u32,
    /// Its name (`thread_core_entry.comm` of its `core-TID.img`; the process's `comm` for the
    /// main thread when CRIU did not store one), or the reason it could not be read.
    pub comm: Result<String, Unavailable>,
}

/// One process of the checkpoint.
#[derive(Debug, Clone)]
pub struct Task {
    /// Process id.
    pub pid: u32,
    /// Parent process id; 0 for the root.
    pub ppid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Session id.
    pub sid: u32,
    /// `comm`: the kernel's short name of the process (empty when `core-PID.img` is unusable).
    pub comm: String,
    /// State when dumped.
    pub state: TaskState,
    /// Exit code (meaningful for zombies).
    pub exit_code: u32,
    /// Threads, main thread first, in `pstree.img` order.
    pub threads: Vec<Thread>,
    /// Why `core-PID.img` could not be read, when it could not.
    pub core_problem: Option<Unavailable>,
}

/// The processes in `pstree.img` order, with the links between them.
#[derive(Debug, Clone, Default)]
pub struct TaskTree {
    tasks: Vec<Task>,
    children: Vec<Vec<usize>>,
    root: usize,
    by_pid: HashMap<u32, usize>,
}

impl TaskTree {
    /// Links tasks to their parents and checks the tree (see the module docs); `label` names
    /// `pstree.img` in errors.
    pub fn build(tasks: Vec<Task>, label: &str) -> Result<TaskTree, Error> {
        let bad = |problem: String| Error::BadProcessTree {
            image: label.to_owned(),
            problem,
        };
        let mut by_pid: HashMap<u32, usize> = HashMap::new();
        for (index, task) in tasks.iter().enumerate() {
            if by_pid.insert(task.pid, index).is_some() {
                return Err(bad(format!("pid {} appears twice", task.pid)));
            }
        }
        let mut children = vec![Vec::new(); tasks.len()];
        let mut root = None;
        for (index, task) in tasks.iter().enumerate() {
            if task.ppid == 0 {
                if let Some(first) = root {
                    let first_pid = tasks.get(first).map_or(0, |t: &Task| t.pid);
                    return Err(bad(format!(
                        "two roots (ppid 0): pid {first_pid} and pid {}",
                        task.pid
                    )));
                }
                root = Some(index);
                continue;
            }
            match by_pid
                .get(&task.ppid)
                .and_then(|&parent| children.get_mut(parent))
            {
                Some(list) => list.push(index),
                None => {
                    return Err(bad(format!(
                        "the parent {} of pid {} is not in the tree",
                        task.ppid, task.pid
                    )))
                }
            }
        }
        let root = root.ok_or_else(|| bad("no root process (ppid 0)".to_owned()))?;
        let tree = TaskTree {
            tasks,
            children,
            root,
            by_pid,
        };
        tree.check_reachable().map_err(bad)?;
        Ok(tree)
    }

    /// Every task hangs below the root (no cycles), at most [`MAX_DEPTH`] deep.
    fn check_reachable(&self) -> Result<(), String> {
        let mut seen = vec![false; self.tasks.len()];
        let mut stack = vec![(self.root, 0usize)];
        while let Some((index, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(format!("the tree is deeper than {MAX_DEPTH} levels"));
            }
            if let Some(flag) = seen.get_mut(index) {
                *flag = true;
            }
            if let Some(children) = self.children.get(index) {
                stack.extend(children.iter().map(|&child| (child, depth + 1)));
            }
        }
        if let Some(lost) = seen.iter().position(|&flag| !flag) {
            let pid = self.tasks.get(lost).map_or(0, |task| task.pid);
            return Err(format!(
                "pid {pid} is not below the root (its parents form a cycle)"
            ));
        }
        Ok(())
    }

    /// The tasks, in `pstree.img` order (root first in real dumps).
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The root task.
    pub fn root(&self) -> Option<&Task> {
        self.tasks.get(self.root)
    }

    /// Index of the root task in [`TaskTree::tasks`].
    pub fn root_index(&self) -> usize {
        self.root
    }

    /// The task with this pid.
    pub fn task(&self, pid: u32) -> Option<&Task> {
        self.index_of(pid).and_then(|index| self.tasks.get(index))
    }

    /// Index of the task with this pid.
    pub fn index_of(&self, pid: u32) -> Option<usize> {
        self.by_pid.get(&pid).copied()
    }

    /// Indexes of the children of task `index`, in `pstree.img` order.
    pub fn children(&self, index: usize) -> &[usize] {
        self.children.get(index).map_or(&[], Vec::as_slice)
    }

    /// Tasks in depth-first order from `start` (the root when `None`), each with its depth
    /// below `start`.
    pub fn depth_first(&self, start: Option<usize>) -> Vec<(usize, usize)> {
        let mut order = Vec::new();
        let mut stack = vec![(start.unwrap_or(self.root), 0usize)];
        while let Some((index, depth)) = stack.pop() {
            if index >= self.tasks.len() {
                continue;
            }
            order.push((index, depth));
            for &child in self.children(index).iter().rev() {
                stack.push((child, depth + 1));
            }
        }
        order
    }
}

/// A pstree entry checked against the caps, before its core images are read.
pub(crate) fn check_counts(entries: &[PstreeEntry], label: &str) -> Result<(), Error> {
    let too_many = |what: &str, limit: usize| Error::TooMany {
        image: label.to_owned(),
        what: what.to_owned(),
        limit: limit as u64,
    };
    if entries.len() > MAX_TASKS {
        return Err(too_many("processes", MAX_TASKS));
    }
    let threads: usize = entries.iter().map(|e| e.threads.len().max(1)).sum();
    if threads > MAX_THREADS {
        return Err(too_many("threads", MAX_THREADS));
    }
    Ok(())
}

/// The facts one `core-TID.img` gives: `(comm, state, exit code)` of a task's main thread, and
/// the thread's own name.
pub(crate) struct CoreFacts {
    /// `tc.comm` (main thread only).
    pub task_comm: Option<String>,
    /// `tc.task_state`.
    pub state: Option<u32>,
    /// `tc.exit_code`.
    pub exit_code: u32,
    /// `thread_core.comm`.
    pub thread_comm: Option<String>,
}

impl CoreFacts {
    pub(crate) fn of(core: CoreEntry) -> CoreFacts {
        let comm = |name: String| super::text::bounded(name, super::text::TASK_COMM_LEN - 1);
        let (task_comm, state, exit_code) = match core.tc {
            Some(tc) => (Some(comm(tc.comm)), Some(tc.task_state), tc.exit_code),
            None => (None, None, 0),
        };
        CoreFacts {
            task_comm,
            state,
            exit_code,
            thread_comm: core.thread_core.and_then(|t| t.comm).map(comm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(pid: u32, ppid: u32) -> Task {
        Task {
            pid,
            ppid,
            pgid: pid,
            sid: pid,
            comm: format!("p{pid}"),
            state: TaskState::Alive,
            exit_code: 0,
            threads: vec![Thread {
                tid: pid,
                comm: Ok(format!("p{pid}")),
            }],
            core_problem: None,
        }
    }

    #[test]
    fn children_follow_pstree_order() {
        let tree = TaskTree::build(
            vec![task(1, 0), task(2, 1), task(3, 2), task(4, 1)],
            "pstree.img",
        )
        .expect("valid tree");
        let order: Vec<(u32, usize)> = tree
            .depth_first(None)
            .into_iter()
            .map(|(index, depth)| (tree.tasks()[index].pid, depth))
            .collect();
        assert_eq!(order, vec![(1, 0), (2, 1), (3, 2), (4, 1)]);
        let sub: Vec<u32> = tree
            .depth_first(tree.index_of(2))
            .into_iter()
            .map(|(index, _)| tree.tasks()[index].pid)
            .collect();
        assert_eq!(sub, vec![2, 3]);
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
            let err = TaskTree::build(tasks, "x: pstree.img").expect_err(problem);
            let text = err.to_string();
            assert!(text.contains(problem), "{text}");
            assert!(text.starts_with("x: pstree.img: "), "{text}");
        }
    }

    #[test]
    fn deep_chains_are_refused() {
        let tasks: Vec<Task> = (1..=(MAX_DEPTH as u32 + 2))
            .map(|pid| task(pid, pid - 1))
            .collect();
        let err = TaskTree::build(tasks, "pstree.img").expect_err("too deep");
        assert!(err.to_string().contains("deeper than"));
    }

    #[test]
    fn states() {
        assert_eq!(TaskState::from_raw(1), TaskState::Alive);
        assert_eq!(TaskState::from_raw(3).name(), "Stopped");
        assert_eq!(TaskState::from_raw(6).name(), "Zombie");
        assert_eq!(TaskState::from_raw(9), TaskState::Unknown(9));
        assert!(TaskState::Stopped.has_resources());
        assert!(!TaskState::Zombie.has_resources());
    }
}

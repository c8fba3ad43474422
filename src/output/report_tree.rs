//! Checkpoint reports as trees, one per checkpoint, in the spirit of `checkpointctl inspect`.

use std::io::Write;

use super::{human_size, Error, Style, TreeNode};
use checkpoint_forensics::analyze::{CheckpointReport, ProcessNode};

pub(super) fn render(
    reports: &[CheckpointReport],
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Error> {
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        // The summary is a describe-like block in every human format; the tree holds the rest.
        if let (Some(summary), 1) = (&report.summary, reports.len()) {
            super::summary::render(report, Some(summary), style, out)?;
            if !has_sections(report) {
                continue;
            }
            writeln!(out)?;
        }
        build_tree(report).render(style, out)?;
    }
    Ok(())
}

/// True when a report holds a section besides the overview and the summary.
fn has_sections(report: &CheckpointReport) -> bool {
    report.statistics.is_some()
        || report.metadata.is_some()
        || report.process_tree.is_some()
        || report.file_descriptors.is_some()
        || report.sockets.is_some()
        || report.mounts.is_some()
        || report.rootfs_diff.is_some()
}

fn field(children: &mut Vec<TreeNode>, name: &str, value: &str) {
    if !value.is_empty() {
        children.push(TreeNode::leaf(format!("{name}: {value}")));
    }
}

fn build_tree(report: &CheckpointReport) -> TreeNode {
    let mut children = Vec::new();
    field(&mut children, "Container", &report.container_name);
    field(&mut children, "Image", &report.image);
    field(&mut children, "ID", &report.id);
    field(&mut children, "Runtime", &report.runtime);
    field(&mut children, "Created", &report.created);
    field(&mut children, "Checkpointed", &report.checkpointed);
    field(&mut children, "Engine", &report.engine);
    field(&mut children, "IP", &report.ip);
    field(&mut children, "Pod", &report.pod);
    field(&mut children, "Namespace", &report.namespace);
    let size = report.checkpoint_size;
    children.push(TreeNode::branch(
        format!("Checkpoint size: {}", human_size(size.total_size)),
        vec![
            TreeNode::leaf(format!(
                "Memory pages size: {}",
                human_size(size.memory_pages_size)
            )),
            TreeNode::leaf(format!(
                "Root FS diff size: {}",
                human_size(size.root_fs_diff_size)
            )),
        ],
    ));
    if let Some(stats) = &report.statistics {
        children.push(TreeNode::branch(
            "CRIU dump statistics",
            vec![
                TreeNode::leaf(format!("Freezing time: {} us", stats.freezing_time)),
                TreeNode::leaf(format!("Frozen time: {} us", stats.frozen_time)),
                TreeNode::leaf(format!("Memdump time: {} us", stats.memdump_time)),
                TreeNode::leaf(format!("Memwrite time: {} us", stats.memwrite_time)),
                TreeNode::leaf(format!("Pages scanned: {}", stats.pages_scanned)),
                TreeNode::leaf(format!("Pages written: {}", stats.pages_written)),
            ],
        ));
    }
    if let Some(metadata) = &report.metadata {
        let mut items = Vec::new();
        field(&mut items, "Pod name", &metadata.pod_name);
        field(
            &mut items,
            "Kubernetes namespace",
            &metadata.kubernetes_namespace,
        );
        if !metadata.annotations.is_empty() {
            items.push(TreeNode::branch(
                "Annotations",
                metadata
                    .annotations
                    .iter()
                    .map(|(key, value)| TreeNode::leaf(format!("{key}: {value}")))
                    .collect(),
            ));
        }
        children.push(TreeNode::branch("Metadata", items));
    }
    if let Some(root) = &report.process_tree {
        children.push(TreeNode::branch("Process tree", vec![process_node(root)]));
    }
    if let Some(processes) = &report.file_descriptors {
        children.push(TreeNode::branch(
            "Open files",
            processes
                .iter()
                .map(|process| {
                    TreeNode::branch(
                        format!("[{}]", process.pid),
                        process
                            .open_files
                            .iter()
                            .map(|file| {
                                let mut text =
                                    format!("[{} {}] {}", file.file_type, file.fd, file.path);
                                if !file.detail.is_empty() {
                                    text.push_str(&format!(" ({})", file.detail));
                                }
                                TreeNode::leaf(text)
                            })
                            .chain(
                                process.unavailable.iter().map(|reason| {
                                    TreeNode::leaf(format!("cannot be read: {reason}"))
                                }),
                            )
                            .collect(),
                    )
                })
                .collect(),
        ));
    }
    if let Some(segments) = report.sysv_shm.as_ref().filter(|s| !s.is_empty()) {
        children.push(TreeNode::branch(
            "SysV shared memory",
            segments
                .iter()
                .map(|segment| {
                    TreeNode::leaf(format!(
                        "key {} id {} ({}, mode {}) attached at {}",
                        segment.key,
                        segment.id,
                        human_size(segment.size),
                        segment.mode,
                        if segment.attached.is_empty() {
                            "none".to_owned()
                        } else {
                            segment.attached.join(", ")
                        }
                    ))
                })
                .collect(),
        ));
    }
    if let Some(processes) = &report.sockets {
        children.push(TreeNode::branch(
            "Sockets",
            processes
                .iter()
                .map(|process| {
                    TreeNode::branch(
                        format!("[{}]", process.pid),
                        process
                            .open_sockets
                            .iter()
                            .map(|socket| {
                                let data = &socket.data;
                                let mut text = format!("[{} fd {}]", socket.protocol, socket.fd);
                                if !data.state.is_empty() {
                                    text.push_str(&format!(" {}", data.state));
                                }
                                if let Some(port) = data.src_port {
                                    text.push_str(&format!(" {}:{port}", data.src));
                                } else if !data.address.is_empty() {
                                    text.push_str(&format!(" {}", data.address));
                                }
                                if let Some(port) = data.dst_port {
                                    text.push_str(&format!(" -> {}:{port}", data.dst));
                                }
                                TreeNode::leaf(text)
                            })
                            .collect(),
                    )
                })
                .collect(),
        ));
    }
    if let Some(mounts) = &report.mounts {
        children.push(TreeNode::branch(
            "Mounts",
            mounts
                .iter()
                .map(|mount| {
                    TreeNode::leaf(format!(
                        "{} ({}) from {}",
                        mount.destination, mount.fs_type, mount.source
                    ))
                })
                .collect(),
        ));
    }
    if let Some(diff) = &report.rootfs_diff {
        let mut items: Vec<TreeNode> = diff
            .changed
            .iter()
            .map(|file| TreeNode::leaf(format!("{} ({}, {} B)", file.path, file.kind, file.size)))
            .collect();
        items.extend(
            diff.deleted
                .iter()
                .map(|path| TreeNode::leaf(format!("{path} (deleted)"))),
        );
        if let Some(reason) = &diff.incomplete {
            items.push(TreeNode::leaf(format!("listing stopped: {reason}")));
        }
        children.push(TreeNode::branch("Root FS changes", items));
    }
    if let Some(indicators) = &report.indicators {
        children.push(super::indicators::build_tree(indicators));
    }
    let title = if report.container_name.is_empty() {
        report.checkpoint.clone()
    } else {
        format!("{} ({})", report.container_name, report.checkpoint)
    };
    TreeNode::branch(title, children)
}

fn process_node(process: &ProcessNode) -> TreeNode {
    let mut items = Vec::new();
    if let Some(cmdline) = &process.cmdline {
        let retitled = if process.retitled { " (retitled)" } else { "" };
        items.push(TreeNode::leaf(format!("Cmdline{retitled}: {cmdline}")));
    }
    if process.threads.len() > 1 {
        items.push(TreeNode::branch(
            "Threads",
            process
                .threads
                .iter()
                .map(|thread| TreeNode::leaf(format!("[{}] {}", thread.tid, thread.name)))
                .collect(),
        ));
    }
    if let Some(environment) = &process.environment {
        items.push(TreeNode::branch(
            "Environment variables",
            environment.iter().map(TreeNode::leaf).collect(),
        ));
    }
    for fact in &process.unavailable {
        items.push(TreeNode::leaf(format!(
            "{} cannot be read: {}",
            fact.field, fact.reason
        )));
    }
    items.extend(process.children.iter().map(process_node));
    let threads = match process.threads.len() {
        0 | 1 => String::new(),
        count => format!(", {count} threads"),
    };
    TreeNode::branch(
        format!(
            "[{}]  {} ({}{threads})",
            process.pid, process.command, process.task_state
        ),
        items,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_forensics::analyze::EnvironmentMap;
    use checkpoint_forensics::analyze::ThreadNode;

    fn thread(tid: u32) -> ThreadNode {
        ThreadNode {
            tid,
            name: format!("t{tid}"),
            state: "Alive",
        }
    }

    #[test]
    fn process_tree_nests_children_under_parents() {
        let report = CheckpointReport {
            checkpoint: "x.tar".into(),
            container_name: "counter".into(),
            process_tree: Some(ProcessNode {
                pid: 1,
                command: "sh".into(),
                task_state: "Alive",
                threads: vec![thread(1)],
                cmdline: Some("sh -c loop".into()),
                environment: Some(vec!["A=1".into()]),
                environment_variables: Some(EnvironmentMap::from_strings(&["A=1".into()])),
                children: vec![ProcessNode {
                    pid: 9,
                    command: "sleep".into(),
                    task_state: "Alive",
                    threads: vec![thread(9), thread(10)],
                    ..ProcessNode::default()
                }],
                ..ProcessNode::default()
            }),
            ..CheckpointReport::default()
        };
        let mut out = Vec::new();
        render(&[report], Style::default(), &mut out).expect("writing to a Vec cannot fail");
        let text = String::from_utf8(out).expect("trees are UTF-8");
        assert!(
            text.starts_with("counter (x.tar)\n    Container: counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "    Process tree\n        [1]  sh (Alive)\n            Cmdline: sh -c loop\n\
                 \x20           Environment variables\n                A=1\n\
                 \x20           [9]  sleep (Alive, 2 threads)\n"
            ),
            "{text}"
        );
    }
}

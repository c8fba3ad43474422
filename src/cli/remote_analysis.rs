//! `analyze --remote`: the analysis runs on the checkpoint's node, in the helper pod, as this
//! program's `analyze --local` (the node agent, see `checkpoint_cluster`'s `agent`); only the
//! report travels back. Its stdout is printed as the report (each line through
//! `escape_once`: honest output is already escaped and passes unchanged), its stderr line by
//! line, escaped and named by the node.
//!
//! The agent's arguments are the view flags the user typed (sections, memory search, secrets,
//! crit's views, archive limits, `-o`), taken from the parsed command line, never the cluster
//! flags. When the agent cannot be used (the node's OS or architecture is not ours and no
//! `--agent-binary` was given, or the agent does not run there) the archive is fetched and
//! analysed here, as without `--remote`, after a warning; an agent changed on the node is
//! refused and nothing else is tried on that node.

use std::io::IsTerminal;
use std::time::Instant;

use clap::parser::ValueSource;
use clap::{ArgAction, Args, CommandFactory};

use super::analyze::{finish_remote, run_view, AnalyzeArgs, View};
use super::archive_args::ArchiveArgs;
use super::checkpoint::{checkpoint_one, connect_for_one};
use super::fetch::private_temp_dir;
use super::memory_args::MemoryArgs;
use super::progress::Activity;
use super::secrets_args::SecretsArgs;
use super::session::ctrl_c;
use super::Outcome;
use crate::Error;
use checkpoint_cluster::{self as cluster, AgentBinary, AgentRefusal, NodePath};

/// What `analyze --remote` analyses.
pub enum RemoteSource {
    /// An archive already on a node.
    Node(NodePath),
    /// A TARGET to checkpoint first (`None`: picked on the terminal).
    Target(Option<String>),
}

impl RemoteSource {
    /// `NODE:PATH` is an archive on a node (no Kubernetes name holds a `:`); anything else a
    /// TARGET.
    pub fn of(text: &str) -> Result<RemoteSource, Error> {
        if text.contains(':') {
            return Ok(RemoteSource::Node(cluster::parse_node_path(text)?));
        }
        Ok(RemoteSource::Target(Some(text.to_string())))
    }
}

/// The view flags given on the command line, as arguments for the agent's `analyze --local`.
fn build_view_args() -> Result<Vec<String>, Error> {
    let argv = super::argv::build_verb_first(std::env::args_os().collect());
    let command = super::Cli::command();
    let matches = command
        .clone()
        .try_get_matches_from(&argv)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let (Some(("analyze", sub)), Some(analyze)) =
        (matches.subcommand(), command.find_subcommand("analyze"))
    else {
        return Err(Error::Usage("--remote is a flag of analyze".into()));
    };
    let mut allowed: Vec<String> = ["crit_x", "output"].map(String::from).to_vec();
    for group in [
        super::analyze::SectionArgs::augment_args(clap::Command::new("x")),
        MemoryArgs::augment_args(clap::Command::new("x")),
        SecretsArgs::augment_args(clap::Command::new("x")),
        ArchiveArgs::augment_args(clap::Command::new("x")),
    ] {
        allowed.extend(group.get_arguments().map(|a| a.get_id().to_string()));
    }
    let mut args = Vec::new();
    for arg in analyze.get_arguments() {
        let id = arg.get_id().as_str();
        if !allowed.iter().any(|a| a == id)
            || sub.value_source(id) != Some(ValueSource::CommandLine)
        {
            continue;
        }
        let name = match (arg.get_long(), arg.get_short()) {
            (Some(long), _) => format!("--{long}"),
            (None, Some(short)) => format!("-{short}"),
            (None, None) => continue,
        };
        match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse => args.push(name),
            ArgAction::Count => {
                for _ in 0..sub.get_count(id) {
                    args.push(name.clone());
                }
            }
            _ => {
                for value in sub.get_raw(id).into_iter().flatten() {
                    let value = value.to_str().ok_or_else(|| {
                        Error::Usage(format!("{name}: only UTF-8 values go to the node agent"))
                    })?;
                    args.push(format!("{name}={value}"));
                }
            }
        }
    }
    Ok(args)
}

/// Runs `analyze --remote` of `source` with `view`'s flags.
pub fn run(args: &AnalyzeArgs, view: View, source: RemoteSource) -> Result<Outcome, Error> {
    let view_args = build_view_args()?;
    let given = match &args.agent.agent_binary {
        Some(path) => Some(
            AgentBinary::read(path)
                .map_err(|e| Error::Usage(format!("--agent-binary {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let session = connect_for_one(&args.remote.capture_flags())?;
    let (archive, record) = match source {
        RemoteSource::Node(path) => (path, None),
        RemoteSource::Target(target) => {
            let one = checkpoint_one(
                &session,
                &args.remote.capture_flags(),
                target.as_deref(),
                None,
            )?;
            let record = one.checkpoint?;
            let path = NodePath {
                node: record.node.clone(),
                path: record.path.clone(),
            };
            (path, Some(record))
        }
    };
    let name = format!("{}:{}", archive.node, archive.path);
    let outcome = analyze_on_node(args, view, &session, &archive, &name, given, &view_args);
    match record {
        Some(record) => finish_remote(&args.remote, &record, &name, false, outcome),
        None => outcome,
    }
}

/// The agent's run on `archive`'s node, or the fallback (fetch and analyse here).
fn analyze_on_node(
    args: &AnalyzeArgs,
    view: View,
    session: &super::checkpoint::OneSession,
    archive: &NodePath,
    name: &str,
    given: Option<AgentBinary>,
    view_args: &[String],
) -> Result<Outcome, Error> {
    let (rt, conn) = (&session.rt, &session.conn);
    let node = &archive.node;
    let agent = match given {
        Some(agent) => agent,
        None => {
            let (os, arch) = rt.block_on(cluster::collect_node_platform(conn, node))?;
            let ours = cluster::our_architecture();
            if os != std::env::consts::OS || arch != ours {
                crate::messages::warning(format_args!(
                    "node {node} is {os}/{arch}, this program {}/{ours}: give --agent-binary with a kubectl-checkpoint for {os}/{arch} to analyse there; fetching the archive and analysing it here instead",
                    std::env::consts::OS
                ));
                return fetch_and_analyze(args, view, session, archive, name);
            }
            AgentBinary::ours().map_err(|e| {
                Error::Usage(format!("reading this program to copy it to the node: {e}"))
            })?
        }
    };
    let mut agent_args: Vec<String> = [
        "analyze",
        "--local",
        archive.path.as_str(),
        "--report-name",
        name,
    ]
    .map(String::from)
    .to_vec();
    agent_args.extend(view_args.iter().cloned());
    let timeout = std::time::Duration::from_secs(args.agent.agent_timeout);
    let activity = Activity::new(std::io::stderr().is_terminal());
    let started = Instant::now();
    let ran = rt.block_on(cluster::with_helper(
        conn,
        node,
        &session.params.helper,
        &activity,
        ctrl_c(),
        async |helper| {
            helper
                .run_agent(&agent, &agent_args, timeout, &activity)
                .await
        },
    ));
    drop(activity);
    let run = match ran {
        Ok(run) => run,
        Err(cluster::Error::Agent {
            refusal: refusal @ (AgentRefusal::CannotRun { .. } | AgentRefusal::CopyFailed { .. }),
            ..
        }) => {
            crate::messages::warning(format_args!(
                "node {node}: {refusal}; fetching the archive and analysing it here instead"
            ));
            return fetch_and_analyze(args, view, session, archive, name);
        }
        Err(err) => return Err(err.into()),
    };
    crate::stdout::with(|out| {
        for line in String::from_utf8_lossy(&run.stdout).split_inclusive('\n') {
            let (text, end) = match line.strip_suffix('\n') {
                Some(text) => (text, "\n"),
                None => (line, ""),
            };
            write!(out, "{}{end}", crate::output::escape_once(text))?;
        }
        Ok::<(), std::io::Error>(())
    })
    .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    crate::messages::from_node(node, &run.stderr);
    let read = run
        .read_on_node
        .map_or("an unknown number of bytes".to_string(), |n| {
            crate::output::human_size(n)
        });
    crate::messages::note(format_args!(
        "analysed on node {node} by the agent ({}, sha256 {}) in {:.1} s: it read {read} there; {} travelled ({} of agent out, {} of report back). The result is as trustworthy as node {node}",
        agent.path.display(),
        agent.sha256,
        started.elapsed().as_secs_f64(),
        crate::output::human_size(run.sent + run.received),
        crate::output::human_size(run.sent),
        crate::output::human_size(run.received),
    ));
    match run.exit_code {
        0 => Ok(Outcome::Success),
        1 => Ok(Outcome::PartialFailure),
        130 => Err(Error::Cancelled),
        code => Err(Error::Usage(format!(
            "the analysis on node {node} failed (exit {code}); its errors are above"
        ))),
    }
}

/// The fallback: the archive fetched into a private temp directory, analysed here under
/// `name`, removed.
fn fetch_and_analyze(
    args: &AnalyzeArgs,
    view: View,
    session: &super::checkpoint::OneSession,
    archive: &NodePath,
    name: &str,
) -> Result<Outcome, Error> {
    let dir = private_temp_dir()?;
    let dest = dir.path().join(archive.basename());
    let activity = Activity::new(std::io::stderr().is_terminal());
    let fetched = session.rt.block_on(cluster::collect_archive(
        &session.conn,
        archive,
        &dest,
        &session.params,
        &activity,
        ctrl_c(),
    ))?;
    drop(activity);
    run_view(args, view, &[(fetched.dest.as_path(), name.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colon_makes_an_archive_on_a_node() {
        for (text, node) in [
            ("n1:/var/lib/kubelet/checkpoints/c.tar", Some("n1")),
            ("n1:c.tar", Some("n1")),
            ("pod/app", None),
            ("app", None),
        ] {
            match RemoteSource::of(text).unwrap() {
                RemoteSource::Node(path) => assert_eq!(Some(path.node.as_str()), node, "{text}"),
                RemoteSource::Target(target) => {
                    assert_eq!(node, None, "{text}");
                    assert_eq!(target.as_deref(), Some(text));
                }
            }
        }
        assert!(RemoteSource::of("n1:/etc/passwd").is_err());
    }
}

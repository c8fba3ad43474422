//! The default verb: checkpoint containers through the kubelet checkpoint API, watch that they
//! still run afterwards, and optionally fetch the archives (`--fetch`). Also the
//! checkpoint-and-fetch step of `analyze TARGET`, and what both say about a checkpoint that
//! ended its container and about the archives left on the nodes.
//!
//! Flags, then a [`Plan`] (what to checkpoint, where `--fetch` writes: checked here before any
//! request is sent, so that a wrong local path never starts a helper pod), then the run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::fetch::{delete_fetched, note_left_on_node, private_temp_dir, DestPlan, FetchFlags};
use super::kube_args::RECORD_FORMATS;
use super::pick::{interactive, pick_containers, pick_pod};
use super::progress::Activity;
use super::session::{ctrl_c, finish, render_records, runtime};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster::{
    self as cluster, CaptureParams, CheckpointRecord, ContainerChoice, ContainerRef, Reporter,
    Target,
};

/// The help heading of the checkpoint's own flags.
const CHECKPOINT: &str = "Checkpoint";

/// Arguments of `kubectl checkpoint TARGET`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// What to checkpoint: `pod/NAME`, `NAME`, `pod NAME`, or a workload's pods (`deploy/NAME`).
    ///
    /// `pod/NAME`, `NAME`, or all pods of `deploy/NAME`, `sts/NAME`, `ds/NAME`, `rs/NAME`,
    /// `job/NAME`; `TYPE NAME` works too, as in kubectl (`pod NAME`, `deploy NAME`). Left out on
    /// a terminal: pick one of the namespace's running pods.
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// The NAME of `TYPE NAME` (`kubectl checkpoint pod NAME`).
    #[arg(value_name = "NAME", hide = true)]
    pub name: Option<String>,
    /// Checkpoint all pods matching this label selector instead of TARGET.
    #[arg(short = 'l', long, value_name = "SELECTOR", help_heading = CHECKPOINT)]
    pub selector: Option<String>,
    /// The container to checkpoint (default: the pod's default or only container).
    ///
    /// Else the pod's default-container annotation, else its only container, else a prompt on a
    /// terminal.
    #[arg(short = 'c', long, help_heading = CHECKPOINT)]
    pub container: Option<String>,
    /// Checkpoint every container of each pod.
    #[arg(long, conflicts_with = "container", help_heading = CHECKPOINT)]
    pub all_containers: bool,
    /// Seconds the kubelet may take per checkpoint.
    #[arg(long, value_name = "SECONDS", help_heading = CHECKPOINT)]
    pub timeout: Option<u64>,
    /// Output format: json or yaml records instead of `NODE:PATH` lines.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(RECORD_FORMATS), help_heading = CHECKPOINT)]
    pub output: Option<OutputFormat>,
    /// After the checkpoint: whether the containers still run.
    #[command(flatten)]
    pub restart: RestartArgs,
    /// Also copy each archive here (`--fetch=DEST`; alone: the current directory).
    ///
    /// `--fetch` alone writes to the current directory, `--fetch=DEST` to a file, or to a
    /// directory (a DEST ending in `/`, an existing directory, or several archives). The `=` is
    /// required: `--fetch NAME` checkpoints NAME.
    #[arg(long, value_name = "DEST", num_args = 0..=1, require_equals = true, help_heading = super::fetch::FETCH)]
    pub fetch: Option<Option<PathBuf>>,
    /// Fetch options (with --fetch).
    #[command(flatten)]
    pub fetch_flags: FetchFlags,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// What the containers must do after their checkpoint: keep running.
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = CHECKPOINT)]
pub struct RestartArgs {
    /// Exit 0 even when a checkpoint ended its container.
    ///
    /// The checkpoint of a container whose main process does not survive CRIU's interruption
    /// ends it, and the kubelet restarts it; that is reported either way, and exits 1 without
    /// this flag.
    #[arg(long)]
    pub allow_restart: bool,
    /// Seconds to watch each container's status after its checkpoint for an exit or a restart
    /// (0: do not watch).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3,
        hide_short_help = true
    )]
    pub restart_check: u64,
}

/// Flags of `analyze TARGET` (without `--local`): which container to checkpoint, and how to
/// fetch its archive.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// The container to checkpoint (as for the default verb).
    #[arg(short = 'c', long, conflicts_with = "local", help_heading = CHECKPOINT)]
    pub container: Option<String>,
    /// Seconds the kubelet may take for the checkpoint.
    #[arg(long, value_name = "SECONDS", conflicts_with = "local", help_heading = CHECKPOINT)]
    pub timeout: Option<u64>,
    /// Keep the archive on the node after the analysis.
    ///
    /// By default it is deleted once the analysis succeeded: the copy analysed is gone with its
    /// temp directory.
    #[arg(long, conflicts_with = "delete_after_fetch", help_heading = CHECKPOINT)]
    pub keep_on_node: bool,
    /// After the checkpoint: whether the container still runs.
    #[command(flatten)]
    pub restart: RestartArgs,
    /// Fetch options.
    #[command(flatten)]
    pub fetch_flags: FetchFlags,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// A checkpoint archive fetched into a private (0700) temp directory, removed on drop.
pub(super) struct TempCheckpoint {
    /// The temp directory holding the archive.
    _dir: tempfile::TempDir,
    /// The archive (0600).
    pub path: PathBuf,
    /// Where it came from, `NODE:PATH`.
    pub source: String,
    /// The checkpoint (with what the restart check found).
    pub record: CheckpointRecord,
    /// Whether `--delete-after-fetch` already deleted it from the node.
    pub deleted: bool,
}

/// `TARGET NAME` as kubectl takes it (`pod NAME`, `deploy NAME`) becomes `KIND/NAME`; one word
/// stays as it is. checkpointctl's verbs get pointed to `analyze`.
pub(super) fn build_target_word(
    target: Option<&str>,
    name: Option<&str>,
    fetch_without_dest: bool,
) -> Result<Option<String>, Error> {
    if let (Some(verb @ ("show" | "inspect")), Some(_)) = (target, name) {
        return Err(Error::Usage(format!(
            "`{verb}` is checkpointctl's verb; here it is `analyze`: `kubectl checkpoint analyze --local ARCHIVE` analyses an archive, `kubectl checkpoint analyze POD` checkpoints a pod and analyses it"
        )));
    }
    match (target, name) {
        (None, _) => Ok(None),
        (Some(target), None) => Ok(Some(target.to_string())),
        (Some(kind), Some(name)) => {
            let joined = format!("{kind}/{name}");
            let is_kind = !kind.contains('/') && cluster::parse_target(Some(&joined), None).is_ok();
            if is_kind {
                return Ok(Some(joined));
            }
            let dest_hint = if fetch_without_dest {
                format!("; to copy the archive to {name}, write --fetch={name}")
            } else {
                String::new()
            };
            Err(Error::Usage(format!(
                "TARGET is one word (`pod/NAME`, `NAME`, `deploy/NAME`), or TYPE NAME with a kind kubectl knows (`pod NAME`, `deploy NAME`); `{kind} {name}` is neither{dest_hint}"
            )))
        }
    }
}

/// What the default verb was asked, validated before any request is sent.
struct Plan {
    /// What to checkpoint; `None`: pick a pod on the terminal.
    target: Option<Target>,
    /// Where `--fetch` writes, if it fetches.
    fetch: Option<DestPlan>,
    /// The kubelet's timeout per checkpoint.
    timeout: Option<Duration>,
}

fn plan(args: &CheckpointArgs) -> Result<Plan, Error> {
    let fetch_without_dest = matches!(args.fetch, Some(None));
    let word = build_target_word(
        args.target.as_deref(),
        args.name.as_deref(),
        fetch_without_dest,
    )?;
    // Nothing named on a terminal: offer the namespace's running pods once connected.
    let pick = word.is_none() && args.selector.is_none() && interactive();
    let target = if pick {
        None
    } else {
        Some(cluster::parse_target(
            word.as_deref(),
            args.selector.as_deref(),
        )?)
    };
    let fetch = match &args.fetch {
        Some(dest) => Some(DestPlan::of(dest.as_deref(), args.fetch_flags.overwrite)?),
        None => None,
    };
    if args.fetch.is_none() && args.fetch_flags.delete_after_fetch {
        return Err(Error::Usage(
            "--delete-after-fetch deletes an archive once it is fetched: add --fetch".into(),
        ));
    }
    Ok(Plan {
        target,
        fetch,
        timeout: args.timeout.map(Duration::from_secs),
    })
}

/// Checkpoints TARGET's one container and fetches the archive into a private temp directory.
/// Without TARGET (on a terminal), asks for one of the namespace's running pods.
pub(super) fn checkpoint_to_temp(
    remote: &RemoteArgs,
    target: Option<&str>,
) -> Result<TempCheckpoint, Error> {
    checkpoint_to_temp_with(&remote.capture_flags(), target)
}

impl RemoteArgs {
    /// What checkpointing one container takes of these flags.
    pub(super) fn capture_flags(&self) -> CaptureFlags<'_> {
        CaptureFlags {
            kube: &self.kube,
            container: self.container.as_deref(),
            timeout: self.timeout,
            restart: self.restart,
            fetch_flags: &self.fetch_flags,
        }
    }
}

/// What [`checkpoint_to_temp_with`] needs of a verb's flags.
pub(super) struct CaptureFlags<'a> {
    /// Connection flags.
    pub kube: &'a KubeArgs,
    /// `-c`.
    pub container: Option<&'a str>,
    /// `--timeout`.
    pub timeout: Option<u64>,
    /// `--allow-restart`, `--restart-check`.
    pub restart: RestartArgs,
    /// Fetch options.
    pub fetch_flags: &'a FetchFlags,
}

/// [`checkpoint_to_temp`] for any verb that checkpoints one container and works on its copy
/// (`analyze`, `image`, `migrate`).
pub(super) fn checkpoint_to_temp_with(
    remote: &CaptureFlags<'_>,
    target: Option<&str>,
) -> Result<TempCheckpoint, Error> {
    let dir = private_temp_dir()?;
    let session = connect_for_one(remote)?;
    let into = dir.path().to_path_buf();
    let dest = move |source: &cluster::NodePath| into.join(source.basename());
    let (rt, conn, params) = (&session.rt, &session.conn, &session.params);
    let one = checkpoint_one(
        &session,
        remote,
        target,
        Some(cluster::FetchPlan {
            params,
            dest: &dest,
        }),
    )?;
    let mut record = one.checkpoint?;
    let source_text = format!("{}:{}", record.node, record.path);
    let fetched = match one.fetched {
        Some(Ok(fetched)) => fetched,
        Some(Err(err)) => return Err(fetch_failed(&record, err).into()),
        None => return Err(Error::Usage("the archive was not fetched".into())),
    };
    let mut deleted = false;
    if remote.fetch_flags.delete_after_fetch {
        delete_fetched(rt, conn, &fetched, &params.helper, "--delete-after-fetch")?;
        record.deleted_from_node = true;
        deleted = true;
    }
    Ok(TempCheckpoint {
        _dir: dir,
        path: fetched.dest,
        source: source_text,
        record,
        deleted,
    })
}

/// The runtime, the connection and the fetch parameters of a verb that checkpoints one
/// container (`analyze TARGET`).
pub(super) struct OneSession {
    /// The runtime.
    pub rt: tokio::runtime::Runtime,
    /// The connection.
    pub conn: cluster::Connection,
    /// Fetch and helper parameters from the flags.
    pub params: cluster::FetchParams,
}

/// Connects for [`checkpoint_one`] (the read timeout leaves the kubelet its `--timeout`).
pub(super) fn connect_for_one(remote: &CaptureFlags<'_>) -> Result<OneSession, Error> {
    let rt = runtime()?;
    let read_timeout = remote
        .timeout
        .map(|t| Duration::from_secs(t) + Duration::from_secs(60));
    let conn = rt.block_on(cluster::connect(&remote.kube.connect_params(read_timeout)))?;
    let params = remote.fetch_flags.fetch_params(&conn.namespace);
    Ok(OneSession { rt, conn, params })
}

/// Checkpoints the one container of `target` (picked on the terminal when `None`), fetching
/// it with `fetch` when given (`analyze TARGET`).
pub(super) fn checkpoint_one(
    session: &OneSession,
    remote: &CaptureFlags<'_>,
    target: Option<&str>,
    fetch: Option<cluster::FetchPlan<'_>>,
) -> Result<cluster::Captured, Error> {
    let (rt, conn) = (&session.rt, &session.conn);
    let target = target
        .map(|t| cluster::parse_target(Some(t), None))
        .transpose()?;
    let target = match target {
        Some(target) => target,
        None => Target::Pod(pick_pod(rt, conn)?),
    };
    let activity = Activity::new(std::io::stderr().is_terminal());
    activity.waiting(&format!("the API server {}", conn.server));
    let (mut refs, mut failures) =
        resolve_containers(rt, conn, &target, remote.container, false, &activity)?;
    if let Some(err) = failures.pop() {
        return Err(err.into());
    }
    let container = match (refs.pop(), refs.is_empty()) {
        (Some(one), true) => one,
        _ => {
            return Err(Error::Usage(
                "analyze TARGET takes one pod: name a pod, or checkpoint a workload with `kubectl checkpoint TARGET --fetch=DIR/` and analyse the archives with --local".into(),
            ))
        }
    };
    let mut captured = rt.block_on(cluster::collect_checkpoints(
        conn,
        std::slice::from_ref(&container),
        CaptureParams {
            timeout: remote.timeout.map(Duration::from_secs),
            retries: session.params.helper.retries,
            restart_window: Duration::from_secs(remote.restart.restart_check),
        },
        fetch,
        &activity,
        ctrl_c(),
    ))?;
    drop(activity);
    captured
        .pop()
        .ok_or_else(|| Error::Usage("nothing was checkpointed".into()))
}

/// The error of a fetch that failed after its checkpoint succeeded: it names the archive on
/// the node, so the evidence is not lost.
fn fetch_failed(record: &CheckpointRecord, err: cluster::Error) -> cluster::Error {
    cluster::Error::Transfer {
        node: record.node.clone(),
        path: record.path.clone(),
        reason: format!(
            "the checkpoint was taken but could not be copied here; it stays on the node (fetch it later with `kubectl checkpoint fetch {}:{}`): {}",
            record.node,
            record.path,
            crate::Error::from(err).render()
        ),
    }
}

/// `containerd://0123456789abcdef...` as its first 12 hex digits, as `docker ps` shows IDs.
fn short_id(id: Option<&str>) -> String {
    match id {
        Some(id) => {
            let hex = id.rsplit("://").next().unwrap_or(id);
            hex.chars().take(12).collect()
        }
        None => "unknown".to_string(),
    }
}

/// Says, loudly, which checkpoints ended their container; true when one did and that is not
/// allowed (the verb then exits 1).
pub(super) fn report_restarts(records: &[CheckpointRecord], allow: bool) -> bool {
    let mut ended = false;
    for record in records.iter().filter(|r| r.workload_restarted) {
        ended = true;
        let text = build_restart_message(record, allow);
        if allow {
            crate::messages::warning(text);
        } else {
            crate::messages::error(text);
        }
    }
    ended && !allow
}

/// What to say of a checkpoint that ended its container: how, with the restart count and
/// container ID before and after (or that the kubelet has not restarted it yet).
fn build_restart_message(record: &CheckpointRecord, allow: bool) -> String {
    let (id_before, id_after) = (
        short_id(record.container_id_before.as_deref()),
        short_id(record.container_id_after.as_deref()),
    );
    let facts = match (record.restart_count_before, record.restart_count_after) {
        (Some(before), Some(after)) if before == after && id_before == id_after => format!(
            "restartCount {before}, container {id_before}: the kubelet has not started it again yet"
        ),
        (Some(before), Some(after)) => {
            format!("restartCount {before} -> {after}, container {id_before} -> {id_after}")
        }
        _ => format!("container {id_before} -> {id_after}"),
    };
    format!(
        "the checkpoint ended container {} of pod {}/{} on node {}: {} ({facts}). Its main process did not survive CRIU's interruption (busybox's `sleep` does this; see docs/enabling-checkpointing.md); the archive holds the container as it was before{}",
        record.container,
        record.namespace,
        record.pod,
        record.node,
        record.restart_reason.as_deref().unwrap_or("it restarted"),
        if allow {
            " (--allow-restart: not an error)"
        } else {
            "; --allow-restart accepts this"
        }
    )
}

/// Lists TARGET's pods and picks the containers; per-pod problems are returned next to the
/// containers so that the others still run. The spinner of `activity` (waiting for the API
/// server) is cleared before a container is asked for.
pub(super) fn resolve_containers(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    target: &Target,
    container: Option<&str>,
    all_containers: bool,
    activity: &Activity,
) -> Result<(Vec<ContainerRef>, Vec<cluster::Error>), Error> {
    let pods = rt.block_on(cluster::collect_pods(&conn.client, &conn.namespace, target))?;
    cluster::Progress::finish(activity);
    let single = pods.len() == 1;
    let mut refs = Vec::new();
    let mut failures = Vec::new();
    for pod in &pods {
        let names: Result<Vec<String>, cluster::Error> = if all_containers {
            Ok(pod
                .spec
                .iter()
                .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
                .collect())
        } else {
            match cluster::choose_container(pod, container) {
                Ok(ContainerChoice::One(name)) => {
                    note_defaulted_container(pod, &name, container);
                    Ok(vec![name])
                }
                Ok(ContainerChoice::Ambiguous(names)) if single && interactive() => {
                    Ok(pick_containers(pod, &names)?)
                }
                Ok(ContainerChoice::Ambiguous(names)) => Err(cluster::Error::ChooseContainer {
                    namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                    pod: pod.metadata.name.clone().unwrap_or_default(),
                    containers: names,
                }),
                Err(err) => Err(err),
            }
        };
        match names {
            Ok(names) => {
                for name in names {
                    match cluster::pod_ref(pod, &name) {
                        Ok(r) => refs.push(r),
                        Err(err) => failures.push(err),
                    }
                }
            }
            Err(err) => failures.push(err),
        }
    }
    Ok((refs, failures))
}

/// Says on stderr which container was taken when the user named none and the pod has several
/// (its default-container annotation chose), in kubectl's words.
fn note_defaulted_container(
    pod: &k8s_openapi::api::core::v1::Pod,
    name: &str,
    given: Option<&str>,
) {
    let names: Vec<&str> = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.as_str()))
        .collect();
    if given.is_none() && names.len() > 1 {
        crate::messages::line(format_args!(
            "Defaulted container {name:?} out of: {}",
            names.join(", ")
        ));
    }
}

/// Runs the default verb.
pub fn run(args: CheckpointArgs) -> Result<Outcome, Error> {
    let plan = plan(&args)?;
    let rt = runtime()?;
    // Checkpointing a large container takes a while: let one answer take the timeout and more.
    let read_timeout = plan.timeout.map(|t| t + Duration::from_secs(60));
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(read_timeout)))?;
    let target = match plan.target {
        Some(target) => target,
        None => Target::Pod(pick_pod(&rt, &conn)?),
    };
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let activity = Activity::new(show_progress);
    activity.waiting(&format!("the API server {}", conn.server));
    let (refs, mut failures) = resolve_containers(
        &rt,
        &conn,
        &target,
        args.container.as_deref(),
        args.all_containers,
        &activity,
    )?;
    let mut partial = 0usize;
    let total = refs.len() + failures.len();
    let params = args.fetch_flags.fetch_params(&conn.namespace);
    let dest_plan = plan.fetch.map(|p| p.for_count(refs.len())).transpose()?;
    let dest = |source: &cluster::NodePath| match &dest_plan {
        Some(plan) => plan.dest(source),
        None => PathBuf::from(source.basename()),
    };
    let captured = rt.block_on(cluster::collect_checkpoints(
        &conn,
        &refs,
        CaptureParams {
            timeout: plan.timeout,
            retries: params.helper.retries,
            restart_window: Duration::from_secs(args.restart.restart_check),
        },
        dest_plan.as_ref().map(|_| cluster::FetchPlan {
            params: &params,
            dest: &dest,
        }),
        &activity,
        ctrl_c(),
    ))?;
    drop(activity);
    let mut records = Vec::new();
    let mut fetched = Vec::new();
    for one in captured {
        match (one.checkpoint, one.fetched) {
            (Err(err), _) => failures.push(err),
            (Ok(record), None) => records.push(record),
            (Ok(mut record), Some(Ok(done))) => {
                record.fetched = Some(done.dest.clone());
                fetched.push(done);
                records.push(record);
            }
            (Ok(mut record), Some(Err(err))) => {
                let err = crate::Error::from(fetch_failed(&record, err));
                record.fetch_error = Some(err.render());
                crate::messages::error_of(&err);
                partial += 1;
                records.push(record);
            }
        }
    }
    if records.is_empty() && !failures.is_empty() {
        // Nothing was taken: the error goes to stderr, and nothing (not even `[]`) to stdout.
        return finish(total, failures);
    }
    if args.fetch_flags.delete_after_fetch {
        for done in &fetched {
            match delete_fetched(&rt, &conn, done, &params.helper, "--delete-after-fetch") {
                Ok(()) => {
                    if let Some(record) = records
                        .iter_mut()
                        .find(|r| r.fetched.as_ref() == Some(&done.dest))
                    {
                        record.deleted_from_node = true;
                    }
                }
                Err(err) => failures.push(err),
            }
        }
    }
    if !render_records(args.output, &records)? {
        crate::stdout::with(|out| {
            records.iter().try_for_each(|record| {
                let line = match fetched
                    .iter()
                    .find(|f| Some(&f.dest) == record.fetched.as_ref())
                {
                    Some(done) => super::fetch::render_fetched(done),
                    None => crate::output::escape_text(&format!("{}:{}", record.node, record.path))
                        .into_owned(),
                };
                writeln!(out, "{line}")
            })
        })
        .map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
    }
    if !args.fetch_flags.delete_after_fetch {
        for done in &fetched {
            note_left_on_node(&done.node, &done.path);
        }
    }
    if report_restarts(&records, args.restart.allow_restart) {
        partial += 1;
    }
    if partial > 0 && failures.is_empty() {
        return Ok(Outcome::PartialFailure);
    }
    let outcome = finish(total, failures)?;
    Ok(if partial > 0 {
        Outcome::PartialFailure
    } else {
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_name_becomes_kind_slash_name() {
        assert_eq!(
            build_target_word(Some("pod"), Some("web-1"), false).unwrap(),
            Some("pod/web-1".to_string())
        );
        assert_eq!(
            build_target_word(Some("deploy"), Some("web"), false).unwrap(),
            Some("deploy/web".to_string())
        );
        assert_eq!(
            build_target_word(Some("web-1"), None, false).unwrap(),
            Some("web-1".to_string())
        );
        let err = build_target_word(Some("pod/web-1"), Some("out.tar"), true).unwrap_err();
        assert!(err.to_string().contains("write --fetch=out.tar"), "{err}");
        let err = build_target_word(Some("frobs"), Some("x"), false).unwrap_err();
        assert!(err.to_string().contains("`frobs x` is neither"), "{err}");
        let err = build_target_word(Some("show"), Some("a.tar"), false).unwrap_err();
        assert!(
            err.to_string()
                .contains("kubectl checkpoint analyze --local ARCHIVE"),
            "{err}"
        );
    }

    #[test]
    fn a_restart_is_said_with_its_counts_and_ids() {
        let mut record = CheckpointRecord {
            node: "n".into(),
            namespace: "ns".into(),
            pod: "p".into(),
            container: "main".into(),
            path: "/x.tar".into(),
            duration_seconds: 1.0,
            fetched: None,
            fetch_error: None,
            workload_restarted: true,
            restart_reason: Some(
                "it exited (Completed, exit code 0) and the kubelet started it again".into(),
            ),
            container_id_before: Some("containerd://aaaaaaaaaaaa1111".into()),
            container_id_after: Some("containerd://bbbbbbbbbbbb2222".into()),
            restart_count_before: Some(0),
            restart_count_after: Some(1),
            deleted_from_node: false,
        };
        let said = build_restart_message(&record, false);
        assert!(
            said.contains("(restartCount 0 -> 1, container aaaaaaaaaaaa -> bbbbbbbbbbbb)")
                && said.ends_with("; --allow-restart accepts this"),
            "{said}"
        );
        // Exited, and not restarted yet (the kubelet's back-off): said so, not `1 -> 1`.
        record.restart_count_before = Some(1);
        record.restart_count_after = Some(1);
        record.container_id_after = record.container_id_before.clone();
        record.restart_reason = Some("it is not running any more (Completed, exit code 0)".into());
        let said = build_restart_message(&record, true);
        assert!(
            said.contains("(restartCount 1, container aaaaaaaaaaaa: the kubelet has not started it again yet)")
                && said.ends_with("(--allow-restart: not an error)"),
            "{said}"
        );
    }

    #[test]
    fn short_ids_are_twelve_hex_digits() {
        assert_eq!(
            short_id(Some("containerd://0123456789abcdef0123")),
            "0123456789ab"
        );
        assert_eq!(short_id(None), "unknown");
    }
}

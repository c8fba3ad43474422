//! The default verb: checkpoint containers through the kubelet checkpoint API, and optionally
//! fetch the archives (`--fetch`). Also the pieces the other cluster verbs share: the runtime,
//! resolving TARGET to containers, writing records as JSON or YAML, and the checkpoint-and-fetch
//! step of `analyze TARGET`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::fetch::FetchFlags;
use super::kube_args::RECORD_FORMATS;
use super::pick::{interactive, pick_containers, pick_pod};
use super::progress::Activity;
use super::session::{ctrl_c, finish, render_records, runtime};
use super::{KubeArgs, Outcome, OutputFormat};
use crate::Error;
use checkpoint_cluster::{
    self as cluster, CheckpointRecord, ContainerChoice, ContainerRef, Target,
};

/// Arguments of `kubectl checkpoint TARGET`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// What to checkpoint: `pod/NAME`, `NAME`, or all pods of `deploy/NAME`, `sts/NAME`,
    /// `ds/NAME`, `rs/NAME`, `job/NAME`. Left out on a terminal: pick one of the namespace's
    /// running pods.
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// Checkpoint all pods matching this label selector instead of TARGET.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// The container to checkpoint (else the pod's default-container annotation, else its only
    /// container, else a prompt on a terminal).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Checkpoint every container of each pod.
    #[arg(long, conflicts_with = "container")]
    pub all_containers: bool,
    /// Seconds the kubelet may take per checkpoint.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Output format: json or yaml records instead of one `NODE:PATH` line per archive.
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormat::parser(RECORD_FORMATS))]
    pub output: Option<OutputFormat>,
    /// Also copy each archive here (a file, or a directory for several); default: the current
    /// directory. Put TARGET before it or write `--fetch=DEST`.
    #[arg(long, value_name = "DEST", num_args = 0..=1)]
    pub fetch: Option<Option<PathBuf>>,
    /// Fetch options (with --fetch).
    #[command(flatten)]
    pub fetch_flags: FetchFlags,
    /// Connection flags.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Flags of `analyze TARGET` (without `--local`): which container to checkpoint, and how to
/// fetch its archive.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// The container to checkpoint (as for the default verb).
    #[arg(short = 'c', long, conflicts_with = "local")]
    pub container: Option<String>,
    /// Seconds the kubelet may take for the checkpoint.
    #[arg(long, value_name = "SECONDS", conflicts_with = "local")]
    pub timeout: Option<u64>,
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
}

/// Checkpoints TARGET's one container and fetches the archive into a private temp directory.
/// Without TARGET (on a terminal), asks for one of the namespace's running pods.
pub(super) fn checkpoint_to_temp(
    remote: &RemoteArgs,
    target: Option<&str>,
) -> Result<TempCheckpoint, Error> {
    let target = target
        .map(|t| cluster::parse_target(Some(t), None))
        .transpose()?;
    let timeout = remote.timeout.map(Duration::from_secs);
    let rt = runtime()?;
    let read_timeout = timeout.map(|t| t + Duration::from_secs(60));
    let conn = rt.block_on(cluster::connect(&remote.kube.connect_params(read_timeout)))?;
    let target = match target {
        Some(target) => target,
        None => Target::Pod(pick_pod(&rt, &conn)?),
    };
    let (mut refs, mut failures) =
        resolve_containers(&rt, &conn, &target, remote.container.as_deref(), false)?;
    if let Some(err) = failures.pop() {
        return Err(err.into());
    }
    let container = match (refs.pop(), refs.is_empty()) {
        (Some(one), true) => one,
        _ => {
            return Err(Error::Usage(
                "analyze TARGET takes one pod: name a pod, or checkpoint a workload with `kubectl checkpoint TARGET --fetch DIR` and analyse the archives with --local".into(),
            ))
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("kubectl-checkpoint-")
        .tempdir()
        .map_err(|source| cluster::Error::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let params = remote.fetch_flags.fetch_params(&conn.namespace);
    let into = dir.path().to_path_buf();
    let dest = move |source: &cluster::NodePath| into.join(source.basename());
    let activity = Activity::new(std::io::stderr().is_terminal());
    let mut captured = rt.block_on(cluster::collect_checkpoints(
        &conn,
        std::slice::from_ref(&container),
        timeout,
        params.helper.retries,
        Some(cluster::FetchPlan {
            params: &params,
            dest: &dest,
        }),
        &activity,
        ctrl_c(),
    ))?;
    drop(activity);
    let Some(one) = captured.pop() else {
        return Err(Error::Usage("nothing was checkpointed".into()));
    };
    let record = one.checkpoint?;
    let source_text = format!("{}:{}", record.node, record.path);
    let fetched = match one.fetched {
        Some(Ok(fetched)) => fetched,
        Some(Err(err)) => return Err(fetch_failed(&record, err).into()),
        None => return Err(Error::Usage("the archive was not fetched".into())),
    };
    if remote.fetch_flags.delete_after_fetch {
        let source = cluster::parse_node_path(&source_text)?;
        let activity = Activity::new(std::io::stderr().is_terminal());
        rt.block_on(cluster::delete_archive(
            &conn,
            &source,
            &params.helper,
            &activity,
            ctrl_c(),
        ))?;
    }
    Ok(TempCheckpoint {
        _dir: dir,
        path: fetched.dest,
        source: source_text,
    })
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

/// Lists TARGET's pods and picks the containers; per-pod problems are returned next to the
/// containers so that the others still run.
pub(super) fn resolve_containers(
    rt: &tokio::runtime::Runtime,
    conn: &cluster::Connection,
    target: &Target,
    container: Option<&str>,
    all_containers: bool,
) -> Result<(Vec<ContainerRef>, Vec<cluster::Error>), Error> {
    let pods = rt.block_on(cluster::collect_pods(&conn.client, &conn.namespace, target))?;
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

/// `kubectl checkpoint --fetch pod/multi`: clap gives `pod/multi` to --fetch as its DEST and
/// leaves no TARGET. Says so instead of checkpointing something else or prompting.
fn check_fetch_dest(args: &CheckpointArgs) -> Result<(), Error> {
    let (None, None, Some(Some(dest))) = (&args.target, &args.selector, &args.fetch) else {
        return Ok(());
    };
    let looks_like_target = dest.to_str().is_some_and(|text| {
        // `KIND/NAME` with a kind kubectl knows; `out/dir` is a path.
        text.contains('/') && cluster::parse_target(Some(text), None).is_ok()
    });
    if looks_like_target && !dest.exists() {
        let dest = dest.display();
        return Err(Error::Usage(format!(
            "`{dest}` was taken as the destination of --fetch, so no TARGET was given; put TARGET before --fetch (`kubectl checkpoint {dest} --fetch`) or write --fetch=DEST"
        )));
    }
    Ok(())
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
    check_fetch_dest(&args)?;
    // Nothing named on a terminal: offer the namespace's running pods once connected.
    let pick = args.target.is_none() && args.selector.is_none() && interactive();
    let target = if pick {
        None
    } else {
        Some(cluster::parse_target(
            args.target.as_deref(),
            args.selector.as_deref(),
        )?)
    };
    let timeout = args.timeout.map(Duration::from_secs);
    let rt = runtime()?;
    // Checkpointing a large container takes a while: let one answer take the timeout and more.
    let read_timeout = timeout.map(|t| t + Duration::from_secs(60));
    let conn = rt.block_on(cluster::connect(&args.kube.connect_params(read_timeout)))?;
    let target = match target {
        Some(target) => target,
        None => Target::Pod(pick_pod(&rt, &conn)?),
    };
    let (refs, mut failures) = resolve_containers(
        &rt,
        &conn,
        &target,
        args.container.as_deref(),
        args.all_containers,
    )?;
    let mut partial = 0usize;
    let total = refs.len() + failures.len();
    let show_progress = args.output.is_none() && std::io::stderr().is_terminal();
    let activity = Activity::new(show_progress);
    let params = args.fetch_flags.fetch_params(&conn.namespace);
    // With several containers DEST is a directory; with one, a file unless it is a directory.
    let dest_dir = args.fetch.as_ref().map(|dest| {
        let is_dir = refs.len() > 1
            || dest
                .as_deref()
                .is_some_and(|d| d.is_dir() || d.as_os_str().to_string_lossy().ends_with('/'));
        (dest.clone(), is_dir)
    });
    if let Some((Some(dir), true)) = &dest_dir {
        std::fs::create_dir_all(dir).map_err(|source| cluster::Error::Write {
            path: dir.clone(),
            source,
        })?;
    }
    let dest = |source: &cluster::NodePath| match &dest_dir {
        Some((dest, is_dir)) => cluster::build_dest(source, dest.as_deref(), *is_dir),
        None => PathBuf::from(source.basename()),
    };
    let captured = rt.block_on(cluster::collect_checkpoints(
        &conn,
        &refs,
        timeout,
        params.helper.retries,
        args.fetch.as_ref().map(|_| cluster::FetchPlan {
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
    if !render_records(args.output, &records)? {
        let mut out = std::io::stdout().lock();
        for record in &records {
            let line = match fetched
                .iter()
                .find(|f| Some(&f.dest) == record.fetched.as_ref())
            {
                Some(done) => super::fetch::render_fetched(done),
                None => format!("{}:{}", record.node, record.path),
            };
            let line = crate::output::escape_text(&line);
            writeln!(out, "{line}").map_err(|e| Error::Output(crate::output::Error::Io(e)))?;
        }
    }
    if args.fetch_flags.delete_after_fetch {
        for done in &fetched {
            let source = cluster::parse_node_path(&format!("{}:{}", done.node, done.path))?;
            let activity = Activity::new(show_progress);
            if let Err(err) = rt.block_on(cluster::delete_archive(
                &conn,
                &source,
                &params.helper,
                &activity,
                ctrl_c(),
            )) {
                failures.push(err);
            }
        }
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

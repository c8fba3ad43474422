//! Compromise indicators: what an incident responder checks first in a checkpoint, each found
//! in the [`Dump`] model and explained in one line.
//!
//! [`collect`] walks every live task (alive or stopped; zombies have nothing to look at) and
//! reports one [`Indicator`] per process and kind, with the facts that show it as `evidence`.
//! The kinds, how each is found, and where each stops seeing:
//!
//! | kind | found from | blind to |
//! |---|---|---|
//! | `deleted-exe` | the file of `mm.exe_file_id` was unlinked (a ghost or linked remap) | an executable replaced in place (same path, new inode) |
//! | `exe-in-tmp` | the executable, or an executable file mapping, lies under `/tmp`, `/dev/shm` or `/var/tmp` | other writable places (`/run`, a volume, the app's own directory) |
//! | `fileless-memfd-exe` | the executable is a memfd, or a memfd is mapped executable | code copied into anonymous memory (see `wx-anonymous-memory`) |
//! | `wx-anonymous-memory` | a mapping that is not a file, is writable and executable (`rwx`) | code written, then `mprotect`ed to `r-x`; JIT compilers (JVM, V8) are true `rwx` users |
//! | `ld-preload`, `ld-library-path` | the variable is set in the environment the kernel shows (`/proc/PID/environ`) | variables set after start with `setenv` (the kernel's copy does not change), `/etc/ld.so.preload` |
//! | `reverse-shell` | a shell (`sh`, `bash`, `dash`, ...) whose fd 0 or fd 1 is a TCP or unix socket | shells fed through pipes or a pty by a helper (`mkfifo` + `nc`, `socat pty`, python `pty.spawn`) |
//! | `listen-all-addresses` | a TCP socket in `LISTEN` bound to `0.0.0.0` or `::` | UDP sockets |
//! | `comm-differs-from-exe` | a name that looks like a disguise: `comm` (or a thread's name) imitates a kernel thread (`kworker/1:1`, or `argv[0]` in brackets as `ps` shows kernel threads), or `comm` is a well-known program's name (`sshd`, `systemd`, `bash`, ...) that is none of the executable's, `argv[0]`'s or `argv[1]`'s names (cut to 15 bytes, as the kernel cuts it), or the executable is deleted, in a temporary directory or a memfd and `comm` is none of those names. Workers renamed with `prctl(PR_SET_NAME)`, `pthread_setname_np` or setproctitle to names of their own (`loop-child`, `pyt-client`) are ordinary | a disguise under a name of its own that is no known program's, run from an ordinary place |
//! | `stopped` | `core-PID.img` records the task as stopped by a signal | ptrace-stopped tasks: CRIU cannot dump them at all (`Unseizable non-zombie PID found, state t`), so no checkpoint holds one |
//! | `duplicate-env` | one name set twice in the environment | nothing: the kernel's copy keeps every string |
//!
//! A process whose memory or descriptors cannot be read is listed in
//! [`IndicatorReport::not_checked`] with the checks that could not run and why; the other
//! checks still run.

use serde::Serialize;

use super::sockets::{ip_address, state_name};
use checkpoint_model::dump::files::{Deleted, FileKind, FileTable};
use checkpoint_model::dump::{
    Dump, EnvString, MemoryMap, ProcessMemory, ProcessStrings, Task, TaskState, Vma,
};

/// Longest `comm` (`TASK_COMM_LEN` less the NUL).
const COMM_LEN: usize = 15;
/// Longest value quoted in evidence, in bytes; longer values are cut with their length.
const QUOTE_LEN: usize = 200;
/// Directories where droppers put what they run.
const TEMP_DIRS: [&str; 3] = ["/tmp", "/dev/shm", "/var/tmp"];
/// Names of shells.
const SHELLS: [&str; 15] = [
    "sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "ash", "busybox", "fish", "tcsh",
    "csh", "rbash", "yash",
];
/// Name prefixes of kernel threads, which never run inside a container.
const KERNEL_THREADS: [&str; 24] = [
    "kworker/",
    "ksoftirqd/",
    "kthreadd",
    "migration/",
    "rcu_",
    "kswapd",
    "watchdog/",
    "cpuhp/",
    "idle_inject/",
    "irq/",
    "jbd2/",
    "kblockd",
    "kcompactd",
    "khugepaged",
    "ksmd",
    "kauditd",
    "khungtaskd",
    "kdevtmpfs",
    "kthrotld",
    "oom_reaper",
    "writeback",
    "mm_percpu_wq",
    "scsi_eh_",
    "kintegrityd",
];
/// Names of programs that run on every system (daemons, shells, servers): a process named like
/// one of them while its executable is another program hides among them.
const WELL_KNOWN: [&str; 40] = [
    "init",
    "systemd",
    "systemd-journal",
    "systemd-logind",
    "systemd-udevd",
    "systemd-network",
    "systemd-resolve",
    "sshd",
    "cron",
    "crond",
    "atd",
    "rsyslogd",
    "syslogd",
    "syslog-ng",
    "dbus-daemon",
    "agetty",
    "login",
    "udevd",
    "NetworkManager",
    "containerd",
    "containerd-shim",
    "dockerd",
    "kubelet",
    "kube-proxy",
    "pause",
    "nginx",
    "httpd",
    "apache2",
    "postgres",
    "mysqld",
    "mariadbd",
    "redis-server",
    "java",
    "python3",
    "node",
    "sh",
    "bash",
    "dash",
    "ash",
    "busybox",
];
/// `TCP_LISTEN`.
const TCP_LISTEN: u32 = 10;
/// `IPPROTO_TCP`.
const IPPROTO_TCP: u32 = 6;

/// What an indicator is about. The names are those of the fixtures' truth files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// The executable was deleted after the process started.
    DeletedExe,
    /// Code runs from `/tmp`, `/dev/shm` or `/var/tmp`.
    ExeInTmp,
    /// Code runs from a memfd (fileless).
    FilelessMemfdExe,
    /// Anonymous memory that is writable and executable.
    WxAnonymousMemory,
    /// `LD_PRELOAD` is set.
    LdPreload,
    /// `LD_LIBRARY_PATH` is set.
    LdLibraryPath,
    /// A shell whose stdin or stdout is a socket.
    ReverseShell,
    /// A TCP socket listening on all addresses.
    ListenAllAddresses,
    /// A name that looks like a disguise: a kernel thread's or a well-known program's that is
    /// not the executable's, or any other name when the executable is deleted, in a temporary
    /// directory or a memfd.
    CommDiffersFromExe,
    /// The task was stopped by a signal.
    Stopped,
    /// An environment variable set twice.
    DuplicateEnv,
}

impl IndicatorKind {
    /// Every kind, in report order.
    pub const ALL: [IndicatorKind; 11] = [
        IndicatorKind::DeletedExe,
        IndicatorKind::ExeInTmp,
        IndicatorKind::FilelessMemfdExe,
        IndicatorKind::WxAnonymousMemory,
        IndicatorKind::LdPreload,
        IndicatorKind::LdLibraryPath,
        IndicatorKind::ReverseShell,
        IndicatorKind::ListenAllAddresses,
        IndicatorKind::CommDiffersFromExe,
        IndicatorKind::Stopped,
        IndicatorKind::DuplicateEnv,
    ];

    /// The kind's name (`deleted-exe`, ...), as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            IndicatorKind::DeletedExe => "deleted-exe",
            IndicatorKind::ExeInTmp => "exe-in-tmp",
            IndicatorKind::FilelessMemfdExe => "fileless-memfd-exe",
            IndicatorKind::WxAnonymousMemory => "wx-anonymous-memory",
            IndicatorKind::LdPreload => "ld-preload",
            IndicatorKind::LdLibraryPath => "ld-library-path",
            IndicatorKind::ReverseShell => "reverse-shell",
            IndicatorKind::ListenAllAddresses => "listen-all-addresses",
            IndicatorKind::CommDiffersFromExe => "comm-differs-from-exe",
            IndicatorKind::Stopped => "stopped",
            IndicatorKind::DuplicateEnv => "duplicate-env",
        }
    }

    /// What the indicator means, in one line.
    pub fn explanation(self) -> &'static str {
        match self {
            IndicatorKind::DeletedExe => {
                "its executable was deleted after it started: malware often removes itself from disk"
            }
            IndicatorKind::ExeInTmp => {
                "runs code from a temporary directory (/tmp, /dev/shm, /var/tmp), where droppers put payloads"
            }
            IndicatorKind::FilelessMemfdExe => {
                "runs code from a memfd, a file that exists only in memory (fileless malware)"
            }
            IndicatorKind::WxAnonymousMemory => {
                "has anonymous memory that is writable and executable: injected or unpacked code (or a JIT compiler)"
            }
            IndicatorKind::LdPreload => {
                "LD_PRELOAD is set: the dynamic loader injects this library into every program it starts"
            }
            IndicatorKind::LdLibraryPath => {
                "LD_LIBRARY_PATH is set: libraries are looked up in these directories before the system's"
            }
            IndicatorKind::ReverseShell => {
                "a shell whose standard input or output is a socket: a reverse or bind shell"
            }
            IndicatorKind::ListenAllAddresses => {
                "listens on all addresses, so it is reachable from every network the container is on"
            }
            IndicatorKind::CommDiffersFromExe => {
                "its name imitates a kernel thread or another program, not its executable's: a disguised process"
            }
            IndicatorKind::Stopped => {
                "was stopped by a signal (SIGSTOP, SIGTSTP) when checkpointed: paused by a debugger, a person or job control"
            }
            IndicatorKind::DuplicateEnv => {
                "sets an environment variable twice: getenv() finds the first value, a shell keeps the last"
            }
        }
    }
}

/// One indicator found in one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// What it is.
    pub kind: IndicatorKind,
    /// The process.
    pub pid: u32,
    /// The process's `comm`.
    pub command: String,
    /// What it means, in one line.
    pub explanation: String,
    /// The facts that show it, one per line (paths, addresses, sockets, variables).
    pub evidence: Vec<String>,
}

/// Checks that could not run on a process, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// The process.
    pub pid: u32,
    /// The checks that did not run.
    pub kinds: Vec<IndicatorKind>,
    /// Why.
    pub reason: String,
}

/// Every indicator found in a checkpoint, and the checks that could not run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndicatorReport {
    /// The indicators, by process (`pstree.img` order), then kind.
    pub found: Vec<Indicator>,
    /// Checks that could not run (memory or descriptors unreadable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
}

impl IndicatorReport {
    /// How many indicators were found of `kind`.
    pub fn count(&self, kind: IndicatorKind) -> usize {
        self.found.iter().filter(|i| i.kind == kind).count()
    }
}

/// The indicators of every process of the checkpoint.
pub fn collect(dump: &Dump) -> IndicatorReport {
    collect_for(dump, dump.tasks().iter())
}

/// The indicators of the given tasks.
pub(crate) fn collect_for<'d>(
    dump: &'d Dump,
    tasks: impl IntoIterator<Item = &'d Task>,
) -> IndicatorReport {
    let mut report = IndicatorReport::default();
    for task in tasks {
        if !task.state.has_resources() {
            continue;
        }
        let mut found = Findings::new(task);
        if task.state == TaskState::Stopped {
            found.add(
                IndicatorKind::Stopped,
                vec!["core image: task state Stopped".to_owned()],
            );
        }
        match dump.open_files(task.pid) {
            Ok(open) => {
                let fds: Vec<(u32, &FileKind)> = open
                    .fds
                    .iter()
                    .filter_map(|fd| Some((fd.fd, &dump.files().get(fd.id)?.kind)))
                    .collect();
                check_listening(&fds, &mut found);
                found.socket_stdio = socket_stdio(&fds);
            }
            Err(err) => report.not_checked.push(NotChecked {
                pid: task.pid,
                kinds: vec![
                    IndicatorKind::ReverseShell,
                    IndicatorKind::ListenAllAddresses,
                ],
                reason: checkpoint_model::error_text(&err),
            }),
        }
        match dump.memory_map(task.pid) {
            Ok(map) => {
                let exe = Exe::of(dump.files(), map);
                check_exe(dump, &exe, map, &mut found);
                check_wx(map, &mut found);
                let argv = match dump.memory(task.pid) {
                    Ok(memory) => {
                        let facts = match dump.strings(task.pid) {
                            Ok(strings) => read_strings(strings),
                            Err(problem) => Strings {
                                argv: Vec::new(),
                                environ: None,
                                problem: Some(problem.reason),
                                unchecked: vec![
                                    IndicatorKind::CommDiffersFromExe,
                                    IndicatorKind::LdPreload,
                                    IndicatorKind::LdLibraryPath,
                                    IndicatorKind::DuplicateEnv,
                                ],
                            },
                        };
                        if let Some(environ) = &facts.environ {
                            check_environment(environ, &mut found);
                        }
                        found.add_wx_stored(&memory);
                        if let Some(reason) = facts.problem {
                            report.not_checked.push(NotChecked {
                                pid: task.pid,
                                kinds: facts.unchecked,
                                reason,
                            });
                        }
                        facts.argv
                    }
                    Err(err) => {
                        report.not_checked.push(NotChecked {
                            pid: task.pid,
                            kinds: vec![
                                IndicatorKind::LdPreload,
                                IndicatorKind::LdLibraryPath,
                                IndicatorKind::DuplicateEnv,
                            ],
                            reason: checkpoint_model::error_text(&err),
                        });
                        Vec::new()
                    }
                };
                check_comm(task, &exe, &argv, &mut found);
                check_reverse_shell(&task.comm, &exe, &mut found);
            }
            Err(err) => report.not_checked.push(NotChecked {
                pid: task.pid,
                kinds: vec![
                    IndicatorKind::DeletedExe,
                    IndicatorKind::ExeInTmp,
                    IndicatorKind::FilelessMemfdExe,
                    IndicatorKind::WxAnonymousMemory,
                    IndicatorKind::LdPreload,
                    IndicatorKind::LdLibraryPath,
                    IndicatorKind::ReverseShell,
                    IndicatorKind::CommDiffersFromExe,
                    IndicatorKind::DuplicateEnv,
                ],
                reason: checkpoint_model::error_text(&err),
            }),
        }
        report.found.extend(found.finish());
    }
    report
}

/// The indicators of one task as they are found.
struct Findings<'t> {
    task: &'t Task,
    found: Vec<Indicator>,
    /// Descriptors 0 and 1 that are sockets, described (for the reverse-shell check, which
    /// needs the executable too).
    socket_stdio: Vec<String>,
    /// The writable and executable anonymous mappings, for counting their stored pages.
    wx: Vec<(u64, u64)>,
}

impl<'t> Findings<'t> {
    fn new(task: &'t Task) -> Self {
        Findings {
            task,
            found: Vec::new(),
            socket_stdio: Vec::new(),
            wx: Vec::new(),
        }
    }

    fn add(&mut self, kind: IndicatorKind, evidence: Vec<String>) {
        self.found.push(Indicator {
            kind,
            pid: self.task.pid,
            command: self.task.comm.clone(),
            explanation: kind.explanation().to_owned(),
            evidence,
        });
    }

    /// Adds to the `wx-anonymous-memory` evidence how many bytes of each mapping the
    /// checkpoint holds.
    fn add_wx_stored(&mut self, memory: &ProcessMemory<'_>) {
        let wx = std::mem::take(&mut self.wx);
        let Some(indicator) = self
            .found
            .iter_mut()
            .find(|i| i.kind == IndicatorKind::WxAnonymousMemory)
        else {
            return;
        };
        for (line, (start, end)) in indicator.evidence.iter_mut().zip(wx) {
            let stored = memory.present_bytes_in(start, end);
            line.push_str(&format!(
                ", {} of {} bytes stored in the checkpoint",
                stored,
                end - start
            ));
        }
    }

    fn finish(mut self) -> Vec<Indicator> {
        self.found.sort_by_key(|i| i.kind);
        self.found
    }
}

/// The executable of a process: its path as `/proc/PID/exe` shows it, and what kind of file.
struct Exe {
    /// The path (`/memfd:NAME (deleted)` for a memfd; without ` (deleted)` otherwise).
    path: Option<String>,
    /// How it was kept, when it had been deleted.
    deleted: Option<Deleted>,
    /// The memfd's name, when the executable is a memfd.
    memfd: Option<(String, u64, u64)>,
}

impl Exe {
    fn of(files: &FileTable, map: &MemoryMap) -> Exe {
        let id = map.exe_file_id;
        match files.get(id).map(|f| &f.kind) {
            Some(FileKind::Regular(reg)) => Exe {
                path: Some(reg.path.to_string()),
                deleted: reg.deleted.clone(),
                memfd: None,
            },
            Some(FileKind::Memfd { .. }) => Exe {
                path: files.path(id).map(|p| p.to_string()),
                deleted: None,
                memfd: files
                    .memfd(id)
                    .map(|inode| (inode.name.to_string(), inode.size, inode.shmid)),
            },
            _ => Exe {
                path: None,
                deleted: None,
                memfd: None,
            },
        }
    }

    /// The file name the kernel would make `comm` from.
    fn name(&self) -> Option<&str> {
        let path = self.path.as_deref()?;
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        Some(basename(path))
    }
}

/// What the checkpoint says about the process's command line and environment.
struct Strings {
    argv: Vec<String>,
    environ: Option<Vec<String>>,
    problem: Option<String>,
    unchecked: Vec<IndicatorKind>,
}

fn read_strings(strings: &ProcessStrings) -> Strings {
    let mut problems = Vec::new();
    let mut unchecked = Vec::new();
    let argv = match &strings.cmdline {
        Ok(cmdline) => cmdline.args.clone(),
        Err(problem) => {
            problems.push(format!("cmdline: {}", problem.reason));
            unchecked.push(IndicatorKind::CommDiffersFromExe);
            Vec::new()
        }
    };
    let environ = match &strings.environ {
        Ok(environ) => Some(environ.iter().map(EnvString::text).collect()),
        Err(problem) => {
            problems.push(format!("environment: {}", problem.reason));
            unchecked.extend([
                IndicatorKind::LdPreload,
                IndicatorKind::LdLibraryPath,
                IndicatorKind::DuplicateEnv,
            ]);
            None
        }
    };
    Strings {
        argv,
        environ,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        unchecked,
    }
}

/// `deleted-exe`, `exe-in-tmp`, `fileless-memfd-exe`.
fn check_exe(dump: &Dump, exe: &Exe, map: &MemoryMap, found: &mut Findings<'_>) {
    if let (Some(path), Some(deleted)) = (&exe.path, &exe.deleted) {
        let kept = match deleted {
            Deleted::Ghost { remap_id, size, .. } => format!(
                "its contents are stored in the checkpoint as ghost-file-{remap_id}.img{}",
                size.map_or_else(String::new, |s| format!(" ({s} bytes)"))
            ),
            Deleted::Linked { .. } => "CRIU kept it under a temporary link".to_owned(),
        };
        found.add(
            IndicatorKind::DeletedExe,
            vec![format!("exe {path} (deleted): {kept}")],
        );
    }
    let executable = |vma: &&Vma| vma.is_executable();
    let mut in_tmp = Vec::new();
    if let Some(path) = exe.path.as_deref().filter(|p| is_temp_path(p)) {
        in_tmp.push(format!("exe {path}"));
    }
    for vma in map.layout.vmas().iter().filter(executable) {
        if vma.maps_regular_file() && is_temp_path(&vma.name) {
            in_tmp.push(mapping_text(vma));
        }
    }
    if !in_tmp.is_empty() {
        found.add(IndicatorKind::ExeInTmp, in_tmp);
    }
    let mut memfd = Vec::new();
    if let (Some(path), Some((name, size, shmid))) = (&exe.path, &exe.memfd) {
        let stored = dump
            .shared()
            .get(*shmid)
            .filter(|object| object.pages_id.is_some())
            .map_or_else(String::new, |_| {
                format!(", its contents are stored in pagemap-shmem-{shmid}.img")
            });
        memfd.push(format!(
            "exe {path}: memfd {} of {size} bytes{stored}",
            quote(name)
        ));
    }
    for vma in map.layout.vmas().iter().filter(executable) {
        let anonymous_shared =
            vma.shared
                .and_then(|id| dump.shared().get(id))
                .is_some_and(|object| {
                    matches!(object.kind, checkpoint_model::dump::SharedKind::Anonymous)
                });
        if vma.is_memfd() && !anonymous_shared {
            memfd.push(mapping_text(vma));
        }
    }
    if !memfd.is_empty() {
        found.add(IndicatorKind::FilelessMemfdExe, memfd);
    }
}

/// `wx-anonymous-memory`.
fn check_wx(map: &MemoryMap, found: &mut Findings<'_>) {
    let mut evidence = Vec::new();
    for vma in map.layout.vmas() {
        if vma.is_writable() && vma.is_executable() && vma.is_anonymous() {
            evidence.push(mapping_text(vma));
            found.wx.push((vma.start, vma.end));
        }
    }
    if !evidence.is_empty() {
        found.add(IndicatorKind::WxAnonymousMemory, evidence);
    }
}

/// `ld-preload`, `ld-library-path`, `duplicate-env`.
fn check_environment(environ: &[String], found: &mut Findings<'_>) {
    let split = |entry: &str| -> (String, String) {
        match entry.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (entry.to_owned(), String::new()),
        }
    };
    let entries: Vec<(String, String)> = environ.iter().map(|e| split(e)).collect();
    for (kind, variable) in [
        (IndicatorKind::LdPreload, "LD_PRELOAD"),
        (IndicatorKind::LdLibraryPath, "LD_LIBRARY_PATH"),
    ] {
        let evidence: Vec<String> = entries
            .iter()
            .filter(|(name, _)| name == variable)
            .map(|(name, value)| format!("{name}={}", quote(value)))
            .collect();
        if !evidence.is_empty() {
            found.add(kind, evidence);
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in &entries {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut evidence = Vec::new();
    for name in names {
        let positions: Vec<(usize, &str)> = entries
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| n == name)
            .map(|(index, (_, value))| (index + 1, value.as_str()))
            .collect();
        if positions.len() > 1 {
            let values: Vec<String> = positions
                .iter()
                .map(|(index, value)| format!("#{index} {name}={}", quote(value)))
                .collect();
            evidence.push(format!(
                "{name} set {} times: {}",
                positions.len(),
                values.join(", ")
            ));
        }
    }
    if !evidence.is_empty() {
        found.add(IndicatorKind::DuplicateEnv, evidence);
    }
}

/// `listen-all-addresses`.
fn check_listening(fds: &[(u32, &FileKind)], found: &mut Findings<'_>) {
    let mut evidence = Vec::new();
    for (fd, kind) in fds {
        let FileKind::Inet(sk) = kind else {
            continue;
        };
        if sk.proto == IPPROTO_TCP
            && sk.state == TCP_LISTEN
            && sk.src_addr.iter().all(|&word| word == 0)
        {
            evidence.push(format!(
                "fd {fd}: TCP {} LISTEN",
                endpoint(&sk.src_addr, sk.src_port)
            ));
        }
    }
    if !evidence.is_empty() {
        found.add(IndicatorKind::ListenAllAddresses, evidence);
    }
}

/// Descriptors 0 and 1 that are sockets, described.
fn socket_stdio(fds: &[(u32, &FileKind)]) -> Vec<String> {
    let mut out = Vec::new();
    for (fd, kind) in fds.iter().filter(|(fd, _)| *fd <= 1) {
        match kind {
            FileKind::Inet(sk) => out.push(format!(
                "fd {fd}: {} {} -> {} {}",
                if sk.proto == IPPROTO_TCP { "TCP" } else { "IP" },
                endpoint(&sk.src_addr, sk.src_port),
                endpoint(&sk.dst_addr, sk.dst_port),
                state_name(sk.state)
            )),
            FileKind::Unix(sk) => out.push(format!(
                "fd {fd}: unix socket:[{}]{}",
                sk.ino,
                if sk.peer == 0 {
                    String::new()
                } else {
                    format!(" connected to socket:[{}]", sk.peer)
                }
            )),
            _ => {}
        }
    }
    out
}

/// `reverse-shell`: a shell whose fd 0 or 1 is a socket.
fn check_reverse_shell(comm: &str, exe: &Exe, found: &mut Findings<'_>) {
    if found.socket_stdio.is_empty() {
        return;
    }
    let shell = SHELLS.contains(&comm) || exe.name().is_some_and(|name| SHELLS.contains(&name));
    if shell {
        let mut evidence = vec![format!(
            "shell {} (exe {})",
            quote(comm),
            exe.path.as_deref().unwrap_or("unknown")
        )];
        evidence.append(&mut found.socket_stdio);
        found.add(IndicatorKind::ReverseShell, evidence);
    }
}

/// `comm-differs-from-exe`: a name that looks like a disguise (see the module docs). Names a
/// worker gives itself (`prctl(PR_SET_NAME)`, `pthread_setname_np`) are ordinary: only a name
/// imitating a kernel thread or a well-known program, or any other name on an executable that
/// is deleted, in a temporary directory or a memfd, is reported.
fn check_comm(task: &Task, exe: &Exe, argv: &[String], found: &mut Findings<'_>) {
    let comm = task.comm.as_str();
    let Some(exe_name) = exe.name() else {
        return;
    };
    let mut names = vec![exe_name];
    names.extend(argv.iter().take(2).map(|arg| basename(arg)));
    if let Some(word) = argv.first().and_then(|a| a.split_whitespace().next()) {
        names.push(basename(word));
    }
    let own_name = names.iter().any(|name| comm_matches(comm, name));
    let kernel_like = is_kernel_thread_name(comm);
    let bracketed = argv
        .first()
        .is_some_and(|a| a.starts_with('[') && a.trim_end().ends_with(']'));
    let well_known = !own_name && WELL_KNOWN.contains(&comm);
    let odd_exe = !own_name && exe_is_odd(exe);
    let mut evidence = Vec::new();
    if kernel_like || bracketed || well_known || odd_exe {
        evidence.push(format!(
            "comm {}, exe {}",
            quote(comm),
            exe.path.as_deref().unwrap_or("unknown")
        ));
        if let Some(first) = argv.first() {
            evidence.push(format!("argv[0] {}", quote(first)));
        }
    }
    if kernel_like {
        evidence.push(
            "the name is a kernel thread's, and kernel threads never run in a container".to_owned(),
        );
    }
    if bracketed {
        evidence.push(
            "the command line is in brackets, as ps shows kernel threads (which have none)"
                .to_owned(),
        );
    }
    if well_known {
        evidence.push(format!(
            "the name is the program {}'s, but the executable is {exe_name}",
            quote(comm)
        ));
    }
    if odd_exe {
        evidence.push(
            "the executable is deleted, in a temporary directory or a memfd, and the name is not its"
                .to_owned(),
        );
    }
    for thread in task.threads.iter().filter(|t| t.tid != task.pid) {
        if let Ok(name) = &thread.comm {
            if is_kernel_thread_name(name) {
                evidence.push(format!(
                    "thread {} is named {}, a kernel thread's name",
                    thread.tid,
                    quote(name)
                ));
            }
        }
    }
    if !evidence.is_empty() {
        found.add(IndicatorKind::CommDiffersFromExe, evidence);
    }
}

/// True for names kernel threads have (`kworker/1:1`, `kthreadd`, ...), or a name in brackets
/// as `ps` shows them.
fn is_kernel_thread_name(name: &str) -> bool {
    KERNEL_THREADS.iter().any(|prefix| name.starts_with(prefix))
        || (name.starts_with('[') && name.ends_with(']'))
}

/// An executable no ordinary program runs from: deleted, in a temporary directory, a memfd.
fn exe_is_odd(exe: &Exe) -> bool {
    exe.deleted.is_some() || exe.memfd.is_some() || exe.path.as_deref().is_some_and(is_temp_path)
}

/// True when `comm` is what the kernel makes of file name `name` (its first 15 bytes).
fn comm_matches(comm: &str, name: &str) -> bool {
    let name = name.as_bytes();
    let cut = name.get(..COMM_LEN).unwrap_or(name);
    !comm.is_empty() && comm.as_bytes() == cut
}

/// The last component of a path.
fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// True for paths inside one of [`TEMP_DIRS`].
fn is_temp_path(path: &str) -> bool {
    TEMP_DIRS.iter().any(|dir| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// `START-END PERMS NAME` of a mapping.
fn mapping_text(vma: &Vma) -> String {
    format!(
        "mapping {:#x}-{:#x} {} {}",
        vma.start,
        vma.end,
        vma.perms(),
        vma.name
    )
}

/// `addr:port`, `[addr]:port` for IPv6.
fn endpoint(words: &[u32], port: u32) -> String {
    let address = ip_address(words);
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// A value for evidence: as is up to [`QUOTE_LEN`] bytes, else cut with its length.
fn quote(value: &str) -> String {
    if value.len() <= QUOTE_LEN {
        return value.to_owned();
    }
    let mut cut = QUOTE_LEN;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}... ({} bytes)",
        value.get(..cut).unwrap_or(""),
        value.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_thread_names() {
        for (name, want) in [
            ("kworker/1:1", true),
            ("kworker/u8:0-events", true),
            ("[kworker/1:1]", true),
            ("kthreadd", true),
            ("loop-child", false),
            ("pyt-client", false),
            ("worker", false),
            ("[", false),
        ] {
            assert_eq!(is_kernel_thread_name(name), want, "{name}");
        }
    }

    #[test]
    fn comm_is_the_first_fifteen_bytes_of_a_name() {
        for (comm, name, want) in [
            ("sh", "sh", true),
            ("updater", "updater", true),
            ("memfd:payload", "memfd:payload", true),
            ("very-long-progr", "very-long-program-name", true),
            ("very-long-prog", "very-long-program-name", false),
            ("kworker/0:2", "indicators", false),
            ("", "", false),
        ] {
            assert_eq!(comm_matches(comm, name), want, "{comm} {name}");
        }
    }

    #[test]
    fn temp_paths_are_inside_the_directories() {
        for (path, want) in [
            ("/tmp/.ice-unix/dbus-helper", true),
            ("/dev/shm/x", true),
            ("/var/tmp/a/b", true),
            ("/tmp", false),
            ("/tmpfs/x", false),
            ("/srv/app/tmp/x", false),
            ("/memfd:payload (deleted)", false),
        ] {
            assert_eq!(is_temp_path(path), want, "{path}");
        }
    }

    #[test]
    fn basenames_and_quotes() {
        assert_eq!(basename("/usr/bin/dash"), "dash");
        assert_eq!(basename("sh"), "sh");
        assert_eq!(basename("kworker/0:2"), "0:2");
        assert_eq!(quote("short"), "short");
        let long = "é".repeat(150);
        let quoted = quote(&long);
        assert!(quoted.ends_with("... (300 bytes)"), "{quoted}");
    }

    #[test]
    fn every_kind_has_its_truth_name_and_one_line() {
        for kind in IndicatorKind::ALL {
            let json = serde_json::to_value(kind).expect("a kind serializes");
            assert_eq!(json, kind.name());
            assert!(!kind.explanation().contains('\n'));
        }
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(endpoint(&[0], 18081), "0.0.0.0:18081");
        assert_eq!(endpoint(&[0, 0, 0, 0], 18082), "[::]:18082");
    }
}

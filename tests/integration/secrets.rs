//! End-to-end tests of `analyze --secrets` through the binary, against the truth of the secrets
//! fixture (tests/fixtures/truth/secrets.json, read from /proc at the dump).
//!
//! Every stored copy of every needle is worked out from the truth alone: memory copies from its
//! `memory_hits` (pid and address), command-line and environment copies by finding the needle's
//! text in the recorded `/proc/PID/cmdline` and `/proc/PID/environ`, queue and ghost-file copies
//! from the recorded contents' needle offsets, rootfs-diff copies from `rootfs_diff_hits`, and
//! copies in the engine's files by finding the text in the archive's members (read with the
//! `tar` crate). Then: every planted copy is reported with its kind; no reported copy touches a
//! decoy; every reported copy lies inside a planted copy and its revealed value is the truth's
//! bytes there; without `--reveal` no output shows more than the masked form.

use crate::support;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use std::time::{Duration, Instant};

use checkpoint_forensics::analyze::{
    collect_secrets, ScanBudget, SecretLocation, SecretsParams, SecretsReport,
};
use checkpoint_forensics::secrets::Rules;
use checkpoint_model::archive::Checkpoint;
use checkpoint_model::dump::Dump;
use serde_json::Value;
use support::fake_apiserver::FakeCluster;
use support::measure::run_measured;
use support::memgen;
use support::plugin::{stderr, Plugin};
use support::truth;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kubectl-checkpoint")
}

fn secrets_dir() -> PathBuf {
    truth::dump_dir("secrets")
}

fn secrets_archive() -> PathBuf {
    let truth = truth::load("secrets");
    truth::fixtures()
        .join("crio-secrets")
        .join(truth["archive"]["file"].as_str().expect("archive name"))
}

/// `analyze --local INPUT --secrets -o json EXTRA...`: exit 0, one report.
fn scan(input: &Path, extra: &[&str]) -> SecretsReport {
    let input = input.to_str().expect("utf-8 path");
    let mut args = vec!["analyze", "--local", input, "--secrets", "-o", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reports: Vec<SecretsReport> =
        serde_json::from_slice(&out.stdout).expect("the secrets JSON");
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

/// Where a copy is: the same vocabulary for the truth and the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Place {
    /// Address space of a process.
    Memory(u32),
    /// `/proc/PID/cmdline`.
    Cmdline(u32),
    /// `/proc/PID/environ`.
    Environ(u32),
    /// Stored data of a kind (`ghost-file`, `pipe-data`, `unix-queue`).
    Stored(String),
    /// A file of rootfs-diff.tar.
    Rootfs(String),
    /// An engine file of the archive.
    Member(String),
}

/// One stored copy of a needle.
#[derive(Debug, Clone)]
struct Copy {
    needle: String,
    kind: String,
    decoy: bool,
    place: Place,
    start: u64,
    text: Vec<u8>,
}

impl Copy {
    fn end(&self) -> u64 {
        self.start + self.text.len() as u64
    }
}

/// Every offset of `needle` in `haystack`.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<u64> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i as u64)
        .collect()
}

/// The copies of every needle the truth records (see the module docs); with `archive`, also
/// the rootfs-diff files and the engine's files of the CRI-O archive.
fn truth_copies(archive: Option<&Path>) -> Vec<Copy> {
    let truth = truth::load("secrets");
    let needles = truth["needles"].as_array().expect("needles");
    let text_of = |id: &str| {
        truth::needle(&truth, id)["text"]
            .as_str()
            .unwrap()
            .as_bytes()
    };
    let mut copies = Vec::new();
    let mut add = |needle: &Value, place: Place, start: u64| {
        copies.push(Copy {
            needle: needle["id"].as_str().unwrap().to_owned(),
            kind: needle["kind"].as_str().unwrap().to_owned(),
            decoy: needle["decoy"].as_bool().unwrap(),
            place,
            start,
            text: needle["text"].as_str().unwrap().as_bytes().to_vec(),
        })
    };
    for needle in needles {
        for hit in needle["memory_hits"].as_array().unwrap() {
            let pid = hit["pid"].as_u64().unwrap() as u32;
            add(needle, Place::Memory(pid), truth::hex(&hit["address"]));
        }
    }
    let mut stored_seen = BTreeSet::new();
    for process in truth["processes"].as_array().unwrap() {
        let pid = process["pid"].as_u64().unwrap() as u32;
        let joined = |key: &str| -> Vec<u8> {
            let strings: Vec<&str> = process[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            strings.join("\0").into_bytes()
        };
        let (cmdline, environ) = (joined("cmdline"), joined("environ"));
        for needle in needles {
            let text = needle["text"].as_str().unwrap().as_bytes();
            for at in find_all(&cmdline, text) {
                add(needle, Place::Cmdline(pid), at);
            }
            for at in find_all(&environ, text) {
                add(needle, Place::Environ(pid), at);
            }
        }
        for fd in process["fds"].as_array().unwrap() {
            let (kind, contents) = match fd["kind"].as_str().unwrap() {
                "deleted-file" => ("ghost-file", &fd["content"]),
                "pipe" => ("pipe-data", &fd["unread"]),
                "socket" if fd["socket"]["family"] == "AF_UNIX" => {
                    ("unix-queue", &fd["socket"]["inq"])
                }
                _ => continue,
            };
            for hit in contents["needles"].as_array().into_iter().flatten() {
                let id = hit["needle"].as_str().unwrap();
                let at = hit["offset"].as_u64().unwrap();
                if stored_seen.insert((kind, id.to_owned(), at)) {
                    add(
                        truth::needle(&truth, id),
                        Place::Stored(kind.to_owned()),
                        at,
                    );
                }
            }
        }
    }
    let Some(archive) = archive else {
        return copies;
    };
    for hit in truth["archive"]["rootfs_diff_hits"].as_array().unwrap() {
        let id = hit["needle"].as_str().unwrap();
        add(
            truth::needle(&truth, id),
            Place::Rootfs(hit["path"].as_str().unwrap().to_owned()),
            hit["offset"].as_u64().unwrap(),
        );
    }
    let mut tar = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if !entry.header().entry_type().is_file()
            || name.starts_with("checkpoint/")
            || name == "rootfs-diff.tar"
        {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        for needle in needles {
            let id = needle["id"].as_str().unwrap();
            for at in find_all(&bytes, text_of(id)) {
                add(needle, Place::Member(name.clone()), at);
            }
        }
    }
    copies
}

/// The truth's kinds in the report's words.
fn kind_for(truth_kind: &str) -> &str {
    match truth_kind {
        "gcp-service-account" => "gcp-service-account-key",
        "azure-storage-connection-string" => "azure-storage-key",
        "private-key-pem" | "kubeconfig-client-key" => "private-key",
        "password-in-url" | "password-in-dsn" => "password",
        "env-password" | "env-secret" | "env-token" | "env-key" => "env-secret",
        "docker-config-auth" => "registry-auth",
        other => other,
    }
}

/// A reported copy: its places (an environment copy is also a memory copy at its address),
/// start, length, kind and value (with --reveal).
#[derive(Debug)]
struct Reported {
    places: Vec<(Place, u64)>,
    len: u64,
    kind: String,
    value: Option<Vec<u8>>,
    low_confidence: bool,
}

fn reported(report: &SecretsReport) -> Vec<Reported> {
    let hex = |text: &str| u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap();
    let mut out = Vec::new();
    for secret in &report.secrets {
        assert_eq!(
            secret.copies,
            secret.locations.len() as u64,
            "every copy listed"
        );
        for location in &secret.locations {
            let places = match location {
                SecretLocation::Memory { pid, address, .. } => {
                    vec![(Place::Memory(*pid), hex(address))]
                }
                SecretLocation::Cmdline {
                    pid,
                    offset,
                    address,
                    ..
                } => vec![
                    (Place::Cmdline(*pid), *offset),
                    (Place::Memory(*pid), hex(address)),
                ],
                SecretLocation::Environ {
                    pid,
                    offset,
                    address,
                    ..
                } => vec![
                    (Place::Environ(*pid), *offset),
                    (Place::Memory(*pid), hex(address)),
                ],
                SecretLocation::Stored { kind, offset, .. } => {
                    vec![(Place::Stored(kind.clone()), *offset)]
                }
                SecretLocation::RootfsDiff { path, offset, .. } => {
                    vec![(Place::Rootfs(path.to_string()), *offset)]
                }
                SecretLocation::Member { source, offset } => {
                    vec![(Place::Member(source.to_string()), *offset)]
                }
                SecretLocation::Tmpfs { source, offset, .. } => {
                    vec![(Place::Member(source.to_string()), *offset)]
                }
            };
            out.push(Reported {
                places,
                len: secret.length as u64,
                kind: secret.kind.clone(),
                value: secret.value.as_ref().map(|v| v.as_bytes().to_vec()),
                low_confidence: secret.low_confidence.is_some(),
            });
        }
    }
    out
}

/// The masked form, computed here: at most 4 leading characters and at most a quarter of the
/// value, `...`, the length.
fn masked(value: &[u8]) -> String {
    let shown = 4.min(value.len() / 4);
    format!(
        "{}...({})",
        String::from_utf8_lossy(&value[..shown]),
        value.len()
    )
}

/// A decoy with a GitHub token's shape (`ghp_` and 36 letters and digits): its checksum is
/// wrong (the truth says so), so it is reported with low confidence, not left out.
fn token_shaped(copy: &Copy) -> bool {
    copy.text
        .strip_prefix(b"ghp_")
        .is_some_and(|rest| rest.len() == 36 && rest.iter().all(u8::is_ascii_alphanumeric))
}

/// Checks one report against the truth's copies: recall, no decoy (but the token-shaped one,
/// with low confidence), precision with values.
fn check_against_truth(report: &SecretsReport, copies: &[Copy]) {
    let found = reported(report);
    let low: Vec<&Copy> = copies
        .iter()
        .filter(|c| c.decoy && token_shaped(c))
        .collect();
    assert!(
        !low.is_empty(),
        "the fixture's ghp_ token with a wrong checksum"
    );
    for copy in &low {
        let hits: Vec<&Reported> = found
            .iter()
            .filter(|r| {
                r.places.iter().any(|(place, start)| {
                    *place == copy.place && *start == copy.start && r.len == copy.text.len() as u64
                })
            })
            .collect();
        assert_eq!(hits.len(), 1, "{} at {:?}", copy.needle, copy.place);
        assert!(hits[0].low_confidence && hits[0].kind == "github-token");
    }
    let within = |r: &Reported, c: &Copy| {
        r.places.iter().any(|(place, start)| {
            *place == c.place && *start >= c.start && start + r.len <= c.end()
        })
    };
    let mut missed = Vec::new();
    for copy in copies.iter().filter(|c| !c.decoy) {
        if !found
            .iter()
            .any(|r| within(r, copy) && r.kind == kind_for(&copy.kind))
        {
            missed.push(format!(
                "{} ({}) at {:?} {:#x}",
                copy.needle, copy.kind, copy.place, copy.start
            ));
        }
    }
    let mut decoys = Vec::new();
    let mut unexplained = Vec::new();
    for r in &found {
        for (place, start) in &r.places {
            let end = start + r.len;
            for copy in copies
                .iter()
                .filter(|c| c.decoy && !token_shaped(c) && c.place == *place)
            {
                if *start < copy.end() && copy.start < end {
                    decoys.push(format!("{} at {place:?} {start:#x}", copy.needle));
                }
            }
            if r.low_confidence {
                continue;
            }
            let planted = copies
                .iter()
                .find(|c| !c.decoy && c.place == *place && *start >= c.start && end <= c.end());
            match (planted, &r.value) {
                (None, _) => unexplained.push(format!("{} at {place:?} {start:#x}", r.kind)),
                (Some(copy), Some(value)) => {
                    let from = (start - copy.start) as usize;
                    assert_eq!(
                        value.as_slice(),
                        &copy.text[from..from + value.len()],
                        "{} at {place:?} {start:#x}: the revealed value is the truth's bytes",
                        copy.needle
                    );
                }
                (Some(_), None) => {}
            }
        }
    }
    assert!(
        missed.is_empty(),
        "planted copies not reported: {missed:#?}"
    );
    assert!(decoys.is_empty(), "decoys reported: {decoys:#?}");
    assert!(
        unexplained.is_empty(),
        "reported outside every planted copy: {unexplained:#?}"
    );
    let copies_found: u64 = report.secrets.iter().map(|s| s.copies).sum();
    assert_eq!(report.findings, copies_found);
    assert_eq!(report.not_itemised, 0);
    assert!(report.incomplete.is_empty(), "{:?}", report.incomplete);
    let by_kind: u64 = report.kinds.iter().map(|k| k.copies).sum();
    assert_eq!(by_kind, copies_found);
}

#[test]
fn the_secrets_dump_gives_every_planted_copy_and_no_decoy() {
    let copies = truth_copies(None);
    let planted = copies.iter().filter(|c| !c.decoy).count();
    assert!(planted >= 60, "the truth holds {planted} planted copies");
    let report = scan(&secrets_dir(), &["--reveal"]);
    check_against_truth(&report, &copies);
    // Details decoded from the planted values.
    let jwt = report
        .secrets
        .iter()
        .find(|s| s.kind == "jwt" && s.locations.iter().any(|l| l.pid().is_some()))
        .expect("the service-account token");
    let Some(checkpoint_forensics::secrets::Details::Jwt(claims)) = &jwt.details else {
        panic!("JWT details: {:?}", jwt.details);
    };
    assert_eq!(
        (
            claims.namespace.as_deref(),
            claims.service_account.as_deref()
        ),
        (Some("shop"), Some("orders-api"))
    );
    let names: BTreeSet<&str> = report
        .secrets
        .iter()
        .filter_map(|s| s.name.as_deref())
        .collect();
    for variable in [
        "AWS_ACCESS_KEY_ID",
        "DB_PASSWORD",
        "SLACK_BOT_TOKEN",
        "ENCRYPTION_KEY",
    ] {
        assert!(names.contains(variable), "{variable}: {names:?}");
    }
}

#[test]
fn the_crio_archive_adds_its_rootfs_diff_and_engine_files() {
    let archive = secrets_archive();
    let copies = truth_copies(Some(&archive));
    assert!(copies
        .iter()
        .any(|c| matches!(c.place, Place::Rootfs(_)) && !c.decoy));
    let report = scan(&archive, &["--reveal"]);
    check_against_truth(&report, &copies);
    let rootfs: Vec<_> = report
        .secrets
        .iter()
        .flat_map(|s| s.locations.iter().map(move |l| (s, l)))
        .filter(|(_, l)| matches!(l, SecretLocation::RootfsDiff { .. }))
        .collect();
    assert_eq!(rootfs.len(), 2, "{rootfs:#?}");
    assert!(report.checkpoint.ends_with(".tar"));
}

#[test]
fn values_stay_masked_without_reveal_in_every_format() {
    let input = secrets_archive();
    let revealed = scan(&input, &["--reveal"]);
    let plain = scan(&input, &[]);
    assert_eq!(plain.secrets.len(), revealed.secrets.len());
    for (masked_one, revealed_one) in plain.secrets.iter().zip(&revealed.secrets) {
        let value = revealed_one
            .value
            .as_ref()
            .expect("--reveal gives the value");
        assert_eq!(masked_one.value, None);
        assert_eq!(masked_one.masked, masked(value.as_bytes()), "{value}");
        assert_eq!(revealed_one.masked, masked_one.masked);
        assert_eq!(revealed_one.length, value.len());
    }
    let path = input.to_str().unwrap();
    for format in ["table", "json", "yaml"] {
        let out = run(&["analyze", "--local", path, "--secrets", "-o", format]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(
            !text.bytes().any(|b| b.is_ascii_control() && b != b'\n'),
            "{format}"
        );
        for secret in &revealed.secrets {
            let value = secret.value.as_ref().unwrap();
            let shown = 4.min(value.len() / 4);
            let probe = &value[..(shown + 1).max(5).min(value.len())];
            assert!(
                !text.contains(probe),
                "{format} shows more than {} of a {} value",
                secret.masked,
                secret.kind
            );
        }
    }
    let table = run(&["analyze", "--local", path, "--secrets", "--reveal"]);
    let text = String::from_utf8(table.stdout).unwrap();
    for secret in revealed.secrets.iter().filter(|s| s.length < 100) {
        assert!(
            text.contains(secret.value.as_deref().unwrap()),
            "{}",
            secret.kind
        );
    }
}

#[test]
fn pid_limits_the_scan_to_one_process() {
    let report = scan(&secrets_dir(), &["--pid", "10676"]);
    assert!(!report.secrets.is_empty());
    for secret in &report.secrets {
        for location in &secret.locations {
            assert_eq!(location.pid(), Some(10676), "{location:?}");
        }
    }
    // The worker's own secret: the Redis URL's password in its heap (truth: url.redis).
    let truth = truth::load("secrets");
    let redis = &truth::needle(&truth, "url.redis")["memory_hits"][0];
    let start = truth::hex(&redis["address"]);
    let text_len = truth::needle(&truth, "url.redis")["text"]
        .as_str()
        .unwrap()
        .len() as u64;
    assert!(report.secrets.iter().any(|s| s.kind == "password"
        && s.locations.iter().any(|l| l.address().is_some_and(|a| {
            let a = u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap();
            a >= start && a + s.length as u64 <= start + text_len
        }))));
    let out = run(&[
        "analyze",
        "--local",
        secrets_dir().to_str().unwrap(),
        "--secrets",
        "--pid",
        "4242",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4242"));
}

/// The archives (`*.tar`, `*.tar.gz`) of a fixture directory.
fn archives(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.to_string_lossy();
            name.ends_with(".tar") || name.ends_with(".tar.gz")
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "{}", dir.display());
    found
}

/// Every other fixture: no secret, except the Podman container's `SECRET` variable.
#[test]
fn other_fixtures_hold_no_secret_but_podmans_secret_variable() {
    let fixtures = truth::fixtures();
    let mut inputs: Vec<PathBuf> = [
        "model",
        "indicators",
        "clean",
        "py",
        "tree",
        "diff-1",
        "diff-2",
    ]
    .iter()
    .map(|name| truth::dump_dir(name))
    .collect();
    inputs.push(fixtures.join("criu-4.1/tree"));
    inputs.extend(archives(&fixtures.join("crio")));
    for input in &inputs {
        let report = scan(input, &[]);
        assert!(
            report.secrets.is_empty(),
            "{}: {:#?}",
            input.display(),
            report.secrets
        );
        assert_eq!(report.findings, 0);
        assert!(report.scanned_bytes > 0, "{}", input.display());
        let out = run(&["analyze", "--local", input.to_str().unwrap(), "--secrets"]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(": no secrets found ("), "{text}");
    }
    // Podman: the container was run with SECRET=CONTAINER_SECRET_5150 (tests/fixtures/README.md):
    // in both processes' environments and in the engine's config.dump and spec.dump.
    for input in archives(&fixtures.join("podman")) {
        let report = scan(&input, &["--reveal"]);
        assert_eq!(
            report.secrets.len(),
            1,
            "{}: {:#?}",
            input.display(),
            report.secrets
        );
        let secret = &report.secrets[0];
        assert_eq!(
            (
                secret.kind.as_str(),
                secret.name.as_deref(),
                secret.value.as_deref()
            ),
            ("env-secret", Some("SECRET"), Some("CONTAINER_SECRET_5150"))
        );
        let environments = secret
            .locations
            .iter()
            .filter(|l| matches!(l, SecretLocation::Environ { variable, .. } if &**variable == "SECRET"))
            .count();
        assert_eq!(
            environments,
            2,
            "{}: {:#?}",
            input.display(),
            secret.locations
        );
        let members: BTreeSet<String> = secret
            .locations
            .iter()
            .filter_map(|l| match l {
                SecretLocation::Member { source, .. } => Some(source.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            members,
            BTreeSet::from(["config.dump".to_owned(), "spec.dump".to_owned()])
        );
    }
}

/// `analyze pod/x --secrets`: checkpointed through the (fake) kubelet, fetched, scanned.
#[test]
fn a_target_is_checkpointed_fetched_and_scanned() {
    let archive = secrets_archive();
    let cluster = FakeCluster::builder()
        .node("node-a")
        .pod(
            "shop",
            "orders-api-5d8f7c9b6d-x2x7q",
            "node-a",
            &["orders-api"],
        )
        .checkpoint_fixture(&archive)
        .start();
    let plugin = Plugin::new(&cluster);
    let out = plugin.run(&[
        "analyze",
        "pod/orders-api-5d8f7c9b6d-x2x7q",
        "-n",
        "shop",
        "--secrets",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports: Vec<SecretsReport> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].checkpoint.starts_with("node-a:"),
        "{}",
        reports[0].checkpoint
    );
    let local = scan(&archive, &[]);
    assert_eq!(reports[0].secrets, local.secrets);
}

/// Writes a checkpoint of two processes whose memory is `pattern` repeated (`size` bytes in
/// all), as an image directory under `dir`.
fn checkpoint_of(dir: &Path, pattern: &[u8], size: usize) -> PathBuf {
    let pages = dir.join("pages.bin");
    let mut data = Vec::with_capacity(size);
    while data.len() < size {
        data.extend_from_slice(pattern);
    }
    data.truncate(size);
    std::fs::write(&pages, &data).unwrap();
    let images = dir.join("checkpoint");
    let spec = memgen::GenSpec {
        processes: 2,
        bytes_per_process: size as u64 / 2,
        markers_per_process: 0,
        pages_from: Some(pages),
        ..Default::default()
    };
    memgen::write_dir(&images, &spec).unwrap();
    images
}

/// Memory made only of the rules' anchors is the slowest input for the engine (every rule's
/// regex runs everywhere): the time budget ends the scan, and the report says what it cut.
#[test]
fn the_time_budget_cuts_a_hostile_checkpoint_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let mut anchors = Vec::new();
    for rule in Rules::builtin().unwrap().rules() {
        for anchor in rule.anchors() {
            anchors.extend_from_slice(anchor.as_bytes());
        }
    }
    let images = checkpoint_of(tmp.path(), &anchors, 16 << 20);
    let dump = Dump::load(Checkpoint::open(&images).unwrap()).unwrap();
    let params = SecretsParams {
        budget: Some(ScanBudget {
            base: Duration::from_millis(300),
            bytes_per_second: u64::MAX,
        }),
        ..SecretsParams::default()
    };
    let started = Instant::now();
    let mut read = 0u64;
    let report = collect_secrets(&dump, &params, &mut |event| {
        if let checkpoint_forensics::analyze::ScanEvent::Bytes(n) = event {
            read += n;
        }
    })
    .unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "the budget was 0.3 s; took {took:?}"
    );
    let cut: Vec<_> = report
        .incomplete
        .iter()
        .filter(|part| part.reason.contains("time budget"))
        .collect();
    assert!(!cut.is_empty(), "{:?}", report.incomplete);
    assert!(
        cut[0].what == "pid 4000 memory (pages-1.img)" && cut[0].reason.contains(" of "),
        "{cut:?}"
    );
    assert!(read < 16 << 20, "read {read} bytes of 16 MiB");
    assert_eq!(report.scanned_bytes, read);
}

/// Values past the report's limits are counted, not itemised: a checkpoint packed with about
/// 30,000 distinct `NAME_TOKEN=value` pairs keeps 10,000 values, counts the rest, warns, exits
/// 0, and stays within a small memory budget.
#[test]
fn distinct_secrets_past_the_limits_are_counted_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pattern = Vec::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..40_000u32 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        pattern.extend_from_slice(format!("\0APP{n:06}_TOKEN=Tk{state:016x}q\0").as_bytes());
    }
    let images = checkpoint_of(tmp.path(), &pattern, 1 << 20);
    let measured = run_measured(
        &[
            "analyze",
            "--local",
            images.to_str().unwrap(),
            "--secrets",
            "-o",
            "json",
        ],
        300,
    );
    measured.within(64, 60.0, "30,000 distinct secrets");
    assert_eq!(
        measured.output.status.code(),
        Some(0),
        "{}",
        measured.stderr()
    );
    assert!(
        measured.stderr().contains("were counted but not listed"),
        "{}",
        measured.stderr()
    );
    let reports: Vec<SecretsReport> = serde_json::from_slice(&measured.output.stdout).unwrap();
    let report = &reports[0];
    assert_eq!(report.secrets.len(), 10_000);
    let listed: u64 = report.secrets.iter().map(|s| s.copies).sum();
    assert!(report.findings > 25_000, "{}", report.findings);
    assert_eq!(report.findings, listed + report.not_itemised);
    assert!(report.secrets.iter().all(|s| s.kind == "env-secret"));
}

/// Every member that is not an image the model is made of is scanned: a file put under
/// `checkpoint/` (not an image: it was skipped as one before), and the files of a tmpfs mount CRIU
/// saved (`tmpfs-dev-N.tar.gz.img`, a gzip tar), each located by name; the search covers the same
/// bytes.
#[test]
fn files_under_checkpoint_and_tmpfs_mounts_are_scanned() {
    let rules = Rules::builtin().unwrap();
    let example = |rule: &str| {
        let found = &rules.rule(rule).unwrap().examples().found[0];
        (found.text.clone(), found.value.clone())
    };
    let (env_text, env_value) = example("env-secret");
    let (aws_text, aws_value) = example("aws-access-key-id");
    let tmp = tempfile::tempdir().unwrap();
    let mut tmpfs_tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(aws_text.len() as u64);
    header.set_mode(0o600);
    tmpfs_tar
        .append_data(&mut header, "run/creds/aws.ini", aws_text.as_bytes())
        .unwrap();
    let tmpfs_tar = tmpfs_tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tmpfs_tar).unwrap();
    let tmpfs_gz = gz.finish().unwrap();
    let mut archive = tar::Builder::new(Vec::new());
    // Plain members (the fixture's pages files may have holes on disk).
    archive.sparse(false);
    for entry in std::fs::read_dir(secrets_dir()).unwrap() {
        let entry = entry.unwrap();
        let name = format!("checkpoint/{}", entry.file_name().to_string_lossy());
        archive.append_path_with_name(entry.path(), name).unwrap();
    }
    for (name, data) in [
        ("checkpoint/app.env", env_text.as_bytes()),
        ("checkpoint/tmpfs-dev-99.tar.gz.img", &tmpfs_gz[..]),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o600);
        archive.append_data(&mut header, name, data).unwrap();
    }
    let path = tmp.path().join("extra-members.tar");
    std::fs::write(&path, archive.into_inner().unwrap()).unwrap();

    let report = scan(&path, &["--reveal"]);
    let located = |value: &str| -> Vec<Value> {
        report
            .secrets
            .iter()
            .filter(|s| s.value.as_deref() == Some(value))
            .flat_map(|s| s.locations.iter().map(|l| serde_json::to_value(l).unwrap()))
            .collect()
    };
    let env = located(&env_value);
    assert!(
        env.iter()
            .any(|l| l["place"] == "member" && l["source"] == "checkpoint/app.env"),
        "{env:?}"
    );
    let aws = located(&aws_value);
    assert!(
        aws.iter().any(|l| l["place"] == "tmpfs"
            && l["image"] == "tmpfs-dev-99.tar.gz.img"
            && l["path"] == "run/creds/aws.ini"),
        "{aws:?}"
    );
    // The search finds the same bytes where the scan did.
    let out = run(&[
        "analyze",
        "--local",
        path.to_str().unwrap(),
        "--search",
        &aws_value,
        "-o",
        "json",
    ]);
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored = reports[0]["stored_matches"].as_array().unwrap();
    assert!(
        stored.iter().any(|hit| hit["kind"] == "tmpfs"
            && hit["source"] == "tmpfs tmpfs-dev-99.tar.gz.img run/creds/aws.ini"),
        "{stored:?}"
    );
}

//! Scans a file for secrets with the `secrets` engine, and generates memory-like test data for
//! `scripts/bench-secrets.sh`; also a short tour of the `secrets` API.
//!
//! Usage:
//!   secrets_scan scan FILE                 findings per rule, masked values, scan time
//!   secrets_scan gen FILE SIZE_MIB [--hostile]
//!
//! `gen` writes SIZE_MIB MiB of pages that look like process memory, in runs of 1-64 pages like
//! mappings: 35 % zero pages, 30 % pages of this machine's shared libraries (code and read-only
//! data), 20 % pages of real process memory and text (the repository's CRIU fixtures' pages
//! files, the CA bundle, license texts), 15 % random pages; an environment block (with the
//! python image's `GPG_KEY`, a decoy) every 16 MiB, and the marker `KCP_BENCH_MARKER_7731` with
//! one of 12 credentials planted every 64 MiB (the credentials are generated, valid nowhere). With `--hostile` every page is filled with the rules' anchors
//! instead, the worst case for the confirming regexes.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use checkpoint_forensics::secrets::{Finding, Rules, Scanner};

const PAGE: usize = 4096;
const MARKER: &[u8] = b"KCP_BENCH_MARKER_7731";

/// Credentials planted by `gen`, one per 64 MiB in turn (the second holds two secrets).
const PLANTED: [&str; 12] = [
    "\0GITHUB_TOKEN=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\0",
    "\0AWS_ACCESS_KEY_ID=AKIAC25R6UEXDGE3HDKE\0AWS_SECRET_ACCESS_KEY=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\0",
    "\0DB_PASSWORD=Zt9vQ2mW-kcp\0",
    "postgres://app:Hh7Lk2Pq9Zx@db.internal:5432/app\0",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGgua2NwLmludmFsaWQiLCJzdWIiOiJ1c2VyLTQ3MTEiLCJleHAiOjE3MzU2ODk2MDB9.elIcO2r6K-VncgftkbvNuN-o7sFA28zDW5u3T3huvvVmRvVDd9PMZS5LusQ1dGi7Yf-qjpNyRi_u5Qrhekkh-A\r\n",
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDoU5rMtZpunYo3QVZ3vQWAcsicDE0UbFCT6+isbwydToAoGCCqGSM49\nAwEHoUQDQgAEPDN3+vQ3bVY6OyCO000cJ9gVygMXw8fRNPOW0mmZgxvNSFG7rcIp\nPx4knVQJKlg7T477wtU78BtEFPC9qjEtBg==\n-----END EC PRIVATE KEY-----\n",
    "SLACK_BOT_TOKEN=xoxb-9856315328-4566439335811-FY6MWioxxAwHR3Bmz4ReLUqC\0",
    "{\"auths\":{\"registry.kcp.invalid\":{\"auth\":\"Y2ktcm9ib3Q6WnQ5dlEybVcta2NwLWZpeHR1cmU=\"}}}",
    "STRIPE_API_KEY=sk_live_TngKBFIzHqyzUQCuVhloDWBo\0",
    "PRIVATE-TOKEN: glpat-yiMiVjgtE15dYLcPPESn\r\n",
    "host=db.internal port=5432 user=app password=Zt9vQ2mW dbname=app\0",
    "//registry.npmjs.org/:_authToken=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\n",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["scan", file] => scan(Path::new(file)),
        ["gen", file, mib] => generate(Path::new(file), mib.parse()?, false),
        ["gen", file, mib, "--hostile"] => generate(Path::new(file), mib.parse()?, true),
        _ => {
            Err("usage: secrets_scan scan FILE | secrets_scan gen FILE SIZE_MIB [--hostile]".into())
        }
    }
}

fn scan(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let rules = Rules::builtin()?;
    let mut file = File::open(path).map_err(|err| format!("opening {}: {err}", path.display()))?;
    let started = Instant::now();
    let mut per_rule = vec![0u64; rules.rules().len()];
    let mut shown = 0;
    let mut sink = |finding: Finding<'_>| {
        if let Some(count) = per_rule.get_mut(
            rules
                .rules()
                .iter()
                .position(|r| std::ptr::eq(r, finding.rule))
                .unwrap_or(0),
        ) {
            *count += 1;
        }
        if shown < 40 {
            shown += 1;
            println!(
                "{:#014x}  {:28} {}{}",
                finding.offset,
                finding.rule.name(),
                finding
                    .name
                    .as_deref()
                    .map(|n| format!("{n} "))
                    .unwrap_or_default(),
                finding.masked()
            );
        }
        true
    };
    let mut scanner = Scanner::new(rules);
    scanner
        .scan_reader(0, &mut file, &mut sink)
        .map_err(|err| format!("reading {}: {err}", path.display()))?;
    scanner.finish(&mut sink);
    let elapsed = started.elapsed();
    for (rule, count) in rules.rules().iter().zip(&per_rule) {
        if *count > 0 {
            println!("{:32} {count}", rule.name());
        }
    }
    println!("findings: {}", per_rule.iter().sum::<u64>());
    let size = file.metadata()?.len();
    println!(
        "scanned {} MiB in {:.3} s ({:.0} MiB/s)",
        size >> 20,
        elapsed.as_secs_f64(),
        (size >> 20) as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

/// xorshift64: deterministic choices and random pages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Concatenated files, read as consecutive pages (wrapping around).
struct Pool {
    bytes: Vec<u8>,
    cursor: usize,
}

impl Pool {
    fn load(paths: &[PathBuf], budget: usize) -> Pool {
        let mut bytes = Vec::new();
        for path in paths {
            if bytes.len() >= budget {
                break;
            }
            if let Ok(mut file) = File::open(path) {
                let _ =
                    Read::take(&mut file, (budget - bytes.len()) as u64).read_to_end(&mut bytes);
            }
        }
        bytes.resize(bytes.len().next_multiple_of(PAGE).max(PAGE), 0);
        Pool { bytes, cursor: 0 }
    }

    fn page(&mut self) -> &[u8] {
        if self.cursor + PAGE > self.bytes.len() {
            self.cursor = 0;
        }
        let page = &self.bytes[self.cursor..self.cursor + PAGE];
        self.cursor += PAGE;
        page
    }
}

fn files_in(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && keep(&p.to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

fn generate(path: &Path, mib: usize, hostile: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let total = mib << 20;
    if hostile {
        let mut rules_anchors: Vec<u8> = Vec::new();
        for rule in Rules::builtin()?.rules() {
            for anchor in rule.anchors() {
                rules_anchors.extend_from_slice(anchor.as_bytes());
            }
        }
        let mut page = Vec::with_capacity(PAGE);
        while page.len() < PAGE {
            page.extend_from_slice(&rules_anchors);
        }
        page.truncate(PAGE);
        for _ in 0..total / PAGE {
            out.write_all(&page)?;
        }
        out.flush()?;
        println!("wrote {mib} MiB of anchors to {}", path.display());
        return Ok(());
    }

    let root = env!("CARGO_MANIFEST_DIR");
    let libraries = files_in("/usr/lib/x86_64-linux-gnu", |p| p.contains(".so"));
    let mut code = Pool::load(&libraries, 96 << 20);
    let mut text_sources = Vec::new();
    for dir in ["criu-4.2/py", "criu-4.2/tree", "criu-4.1/tree"] {
        text_sources.extend(files_in(&format!("{root}/tests/fixtures/{dir}"), |p| {
            p.contains("pages-")
        }));
    }
    text_sources.push(PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
    text_sources.extend(files_in("/usr/share/common-licenses", |_| true));
    let mut text = Pool::load(&text_sources, 32 << 20);
    let environ = b"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0HOSTNAME=api-7d9f8c6b5-x2x4q\0KUBERNETES_SERVICE_HOST=10.96.0.1\0PYTHON_SHA256=8fb5f9fbc7609fa822cb31549884575db7fd9657cbffb89510b5d7975963a83a\0GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\0HOME=/root\0LANG=C.UTF-8\0";

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut page = vec![0u8; PAGE];
    let mut written = 0usize;
    let mut planted = 0usize;
    let mut secrets = 0usize;
    let mut run_left = 0usize;
    let mut kind = 0u64;
    while written < total {
        if run_left == 0 {
            kind = rng.next() % 100;
            run_left = 1 + (rng.next() % 64) as usize; // runs of pages, like mappings
        }
        run_left -= 1;
        match kind {
            0..=34 => page.fill(0),
            35..=64 => page.copy_from_slice(code.page()),
            65..=84 => page.copy_from_slice(text.page()),
            _ => {
                for chunk in page.chunks_mut(8) {
                    let value = rng.next().to_le_bytes();
                    chunk.copy_from_slice(&value[..chunk.len()]);
                }
            }
        }
        if written % (16 << 20) == (8 << 20) {
            // One process's environment block per 16 MiB (stack top), after the page's data.
            page[PAGE - environ.len()..].copy_from_slice(environ);
        }
        if written % (64 << 20) == (32 << 20) {
            let index = planted % PLANTED.len();
            let secret = PLANTED[index].as_bytes();
            secrets += if index == 1 { 2 } else { 1 };
            page[100..100 + MARKER.len()].copy_from_slice(MARKER);
            page[199] = 0;
            page[200..200 + secret.len()].copy_from_slice(secret);
            page[200 + secret.len()] = 0;
            planted += 1;
        }
        out.write_all(&page)?;
        written += PAGE;
    }
    out.flush()?;
    println!(
        "wrote {mib} MiB to {}: {planted} planted credentials holding {secrets} secrets",
        path.display()
    );
    println!("planted: {secrets}");
    Ok(())
}

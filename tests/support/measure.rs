//! Runs of the binary with their wall time and peak memory, for the tests of bounds: a run that
//! blocks is killed and fails the test.

use std::process::{Command, Output};

/// How a bounded run went: its output, wall time and peak RSS.
pub struct Measured {
    /// The run's output.
    pub output: Output,
    /// Wall time.
    pub seconds: f64,
    /// Peak RSS of the binary.
    pub peak_kib: u64,
}

impl Measured {
    /// Its stderr, lossily decoded.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts the run stayed within `peak_mib` of memory and `seconds` of wall time.
    pub fn within(&self, peak_mib: u64, seconds: f64, what: &str) -> &Self {
        assert!(
            self.peak_kib <= peak_mib * 1024,
            "{what}: peak RSS {} KiB is over the {peak_mib} MiB budget; stderr: {}",
            self.peak_kib,
            self.stderr()
        );
        assert!(
            self.seconds <= seconds,
            "{what}: took {:.2} s (budget {seconds} s); stderr: {}",
            self.seconds,
            self.stderr()
        );
        self
    }
}

/// Runs the binary under `/usr/bin/time` (peak RSS of the binary itself, through `timeout`, which
/// waits for it) and `timeout -s KILL` (a run that blocks is killed after `kill_after` seconds,
/// and the test fails).
pub fn run_measured(args: &[&str], kill_after: u32) -> Measured {
    let report = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "-o"])
        .arg(report.path())
        .args(["timeout", "-s", "KILL", &kill_after.to_string()])
        .arg(env!("CARGO_BIN_EXE_kubectl-checkpoint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("/usr/bin/time runs (apt-get install time)");
    let text = std::fs::read_to_string(report.path()).unwrap();
    let last = text.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let seconds: f64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0.0);
    let peak_kib: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
    assert_ne!(
        output.status.code(),
        Some(137),
        "{args:?} ran longer than {kill_after} s and was killed"
    );
    Measured {
        output,
        seconds,
        peak_kib,
    }
}

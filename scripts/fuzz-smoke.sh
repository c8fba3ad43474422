#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a short time (default 30 s each) on the nightly toolchain
# with cargo-fuzz (libFuzzer), from the corpora scripts/fuzz-corpus.sh seeds. Fails on the first
# crash, timeout (an input taking over 10 s) or out-of-memory (over 2 GiB); libFuzzer writes the
# input to fuzz/artifacts/<target>/. docs/fuzzing.md says how to reproduce and minimise one.
#
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs: rustup's nightly toolchain, cargo-fuzz (installed here if missing), tar, gzip, zstd.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(criu_image tar_walker archive_open checkpoint_model checkpoint_views)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
"$here/scripts/fuzz-corpus.sh" >/dev/null

max_len() {
    case $1 in
        criu_image) echo 65536 ;;
        tar_walker) echo 262144 ;;
        checkpoint_views) echo 65536 ;;
        *) echo 600000 ;;
    esac
}

cd "$here/fuzz"
# No sanitizer: the crate forbids unsafe code, and without one the targets run several times
# faster; libFuzzer still catches panics, aborts, timeouts and memory use.
cargo +nightly fuzz build -s none -O
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s"
    status=0
    cargo +nightly fuzz run -s none -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|DONE' "$log" || true
    if [ "$status" -ne 0 ] || ls "artifacts/$target"/* >/dev/null 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz target $target failed (exit $status); inputs in fuzz/artifacts/$target" >&2
        exit 1
    fi
done

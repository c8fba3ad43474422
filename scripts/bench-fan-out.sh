#!/usr/bin/env bash
# Fan-out at cluster scale (docs/performance.md, "Fan-out at cluster scale").
#
#   scripts/bench-fan-out.sh [ROUNDS] [OLD_BIN]
#
# Builds the release binary and examples/bench_fan_out, which starts the fake API server of the
# tests with a 10 ms round trip on every request, a 500 ms helper pod start, 200 ms per
# checkpoint on each node and 1.5 s on one slow node, and runs `checkpoint -l` (5 pods a node,
# 5 and 20 nodes), `list -A` (5 and 20 nodes) and `checkpoint -l --fetch` (20 nodes) with
# --parallel 1 (the same work one by one), 8 (the default) and 32, alternated, ROUNDS rounds
# (default 3). Prints a markdown table: median wall time, speed-up over --parallel 1, the peak
# requests and checkpoints the server had in flight, and when the fast nodes' and the slow
# node's last checkpoints ended. The load average before and after is printed with it. With
# OLD_BIN (a build from before --parallel existed), the same cases run with it too, at its own
# fixed bounds, in a table of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin kubectl-checkpoint --example bench_fan_out
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
target/release/examples/bench_fan_out target/release/kubectl-checkpoint "${1:-3}"
if [ -n "${2:-}" ]; then
    echo
    echo "$2:"
    target/release/examples/bench_fan_out "$2" "${1:-3}" -
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

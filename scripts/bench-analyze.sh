#!/usr/bin/env bash
# Benchmark of `kubectl checkpoint analyze --local` (docs/performance.md, "Analyze").
#
# Whole-process wall time (date +%s%N around /usr/bin/time) and peak RSS (/usr/bin/time), best time of $RUNS runs, largest RSS)
# of our crit `x` views against crit's own (`crit x DIR ps|fds|mems|rss`, the crit on PATH:
# Debian's CRIU 3.17 one by default), and of our full report (`--all -o json`, which also reads
# argv and environments from process memory) against the four crit views run one after the
# other. Inputs: the fixture image directories and the CRI-O archive (crit needs a directory,
# so it gets the archive's checkpoint/ extracted to a temp dir; ours reads the tar in place).
#
# BIN=path/to/kubectl-checkpoint to measure another build (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bin kubectl-checkpoint
    BIN=$PWD/target/release/kubectl-checkpoint
fi
CRIT=${CRIT:-crit}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CRIO=tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar
mkdir -p "$WORK/crio"
tar -xf "$CRIO" --force-local -C "$WORK/crio" checkpoint

# measure LABEL COMMAND...: best wall time (s) and largest peak RSS (MB) over $RUNS runs,
# printed as "LABEL TIME RSS" and kept in $LAST_TIME for ratios.
LAST_TIME=0
measure() {
    local label=$1 best="" rss=0
    shift
    for _ in $(seq "$RUNS"); do
        local start end t m
        start=$(date +%s%N)
        /usr/bin/time -f '%M' -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" ||
            { cat "$WORK/err.txt" "$WORK/time.txt"; exit 1; }
        end=$(date +%s%N)
        t=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
        read -r m <"$WORK/time.txt"
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
        if [ "$m" -gt "$rss" ]; then rss=$m; fi
    done
    LAST_TIME=$best
    printf '%-62s %7.3f s %7.1f MB\n' "$label" "$best" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
}

# all_crit_views DIR: the four crit views one after the other (one shell process).
all_crit_views() {
    for view in ps fds mems rss; do "$CRIT" x "$1" "$view"; done
}
export -f all_crit_views
export CRIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx\n", (b > 0 ? a / b : 0)}'; }

for input in tests/fixtures/criu-4.2/py tests/fixtures/criu-4.1/tree "$CRIO"; do
    crit_dir=$input
    [ "$input" = "$CRIO" ] && crit_dir=$WORK/crio/checkpoint
    echo "== $input"
    for view in ps fds mems rss; do
        measure "crit x $view" "$CRIT" x "$crit_dir" "$view"
        theirs=$LAST_TIME
        measure "ours --crit-x $view" "$BIN" analyze --local "$input" --crit-x "$view"
        echo "   ratio crit/ours: $(ratio "$theirs" "$LAST_TIME")"
    done
    measure "crit x ps; fds; mems; rss" bash -c 'all_crit_views "$0"' "$crit_dir"
    theirs=$LAST_TIME
    measure "ours --all -o json (overview, stats, tree+argv+env, files, sockets, mounts)" \
        "$BIN" analyze --local "$input" --all -o json
    echo "   ratio crit/ours: $(ratio "$theirs" "$LAST_TIME")"
    measure "ours overview (default table)" "$BIN" analyze --local "$input"
done

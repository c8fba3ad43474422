#!/usr/bin/env bash
# Benchmarks the secrets scanner (crates/forensics/src/secrets) against one `grep -c -a LITERAL` over the same bytes.
#
#   scripts/bench-secrets.sh [SIZE_MIB=1024] [ROUNDS=5] [HOSTILE_MIB=256]
#
# 1. Generates SIZE_MIB of memory-like pages with `examples/secrets_scan gen` (zero pages, shared
#    libraries of this machine, real process memory from the fixtures, CA bundle and license
#    text, random pages; an environment block with a decoy every 16 MiB, 16 planted credentials
#    holding 18 secrets, and the marker KCP_BENCH_MARKER_7731 beside each).
# 2. Checks the scan finds exactly the 18 planted secrets (no false positive on the rest).
# 3. Times, alternating, ROUNDS runs of each (warm page cache, everything under nice -n 10):
#      secrets_scan scan FILE                     (every rule, one pass, through a 256 KiB buffer)
#      grep -c -a KCP_BENCH_MARKER_7731 FILE      (one literal; output to a pipe, since GNU grep
#                                                  stops at the first match when stdout is /dev/null)
#    and prints the best wall time, the best user+system CPU time and peak RSS of each, and the
#    ratios ours/grep (the goal is at most 1.5x with a peak RSS under 64 MiB).
# 4. End to end: packs the same SIZE_MIB of pages into a plain tar checkpoint of 2 processes
#    (`examples/gen_checkpoint --pages-from`), checks that `analyze --secrets` reports exactly
#    the planted copies, then times, alternating, ROUNDS runs of
#      kubectl-checkpoint analyze --local ARCHIVE --secrets -o json   (memory, command lines,
#                                   environments, stored data, the engine's files; one pass)
#      grep -c -a KCP_BENCH_MARKER_7731 ARCHIVE
#    with best wall, best CPU, peak RSS and the ratios (goal: at most 1.5x, under 64 MiB).
# 5. Scans HOSTILE_MIB of pages filled with every rule's anchors (the worst case for the
#    confirming regexes) and prints its time and peak RSS: time stays linear, memory flat; then
#    the same pages as a checkpoint through `analyze --secrets`, whose time budget (10 s plus
#    1 s per 128 MiB) ends the scan and says so (exit 1).
# Needs a release build (the script builds it); writes only under a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
rounds=${2:-5}
hostile=${3:-256}
marker=KCP_BENCH_MARKER_7731

nice -n 10 cargo build --release --quiet --example secrets_scan --example gen_checkpoint --bin kubectl-checkpoint
scan=target/release/examples/secrets_scan
gen=target/release/examples/gen_checkpoint
bin=target/release/kubectl-checkpoint
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-secrets.XXXXXX")
trap 'rm -rf "$work"' EXIT

planted=$(nice -n 10 "$scan" gen "$work/mem.bin" "$size" | awk '/^planted:/ {print $2}')
cat "$work/mem.bin" >/dev/null # warm the page cache

findings=$(nice -n 10 "$scan" scan "$work/mem.bin" | awk '/^findings:/ {print $2}')
echo "findings: $findings (planted secrets: $planted)"
if [ "$findings" != "$planted" ]; then
    echo "the scan did not find exactly the planted secrets" >&2
    exit 1
fi

# run NAME CMD...: one timed run; appends "wall cpu rss" to $work/NAME
run() {
    local name=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" nice -n 10 "$@" | cat >/dev/null
    awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/t" >>"$work/$name"
}
for _ in $(seq "$rounds"); do
    run ours "$scan" scan "$work/mem.bin"
    run grep grep -c -a "$marker" "$work/mem.bin"
done
best() { # best wall, best cpu, max rss of NAME
    awk 'NR == 1 || $1 < w {w = $1} NR == 1 || $2 < c {c = $2} $3 > r {r = $3} END {printf "%.2f %.2f %d", w, c, r}' "$work/$1"
}
read -r ours_wall ours_cpu ours_rss <<<"$(best ours)"
read -r grep_wall grep_cpu grep_rss <<<"$(best grep)"
echo "secrets scan, ${size} MiB:  best wall ${ours_wall} s, best cpu ${ours_cpu} s, peak RSS $((ours_rss / 1024)) MiB"
echo "grep -c -a, ${size} MiB:    best wall ${grep_wall} s, best cpu ${grep_cpu} s, peak RSS $((grep_rss / 1024)) MiB"
awk -v ow="$ours_wall" -v gw="$grep_wall" -v oc="$ours_cpu" -v gc="$grep_cpu" \
    'BEGIN {printf "ratio ours/grep: wall %.2fx, cpu %.2fx\n", ow / gw, (gc > 0 ? oc / gc : 0)}'
echo "load average during the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# End to end: the same pages in a checkpoint archive.
nice -n 10 "$gen" "$work/ckpt.tar" --size "${size}M" --pages-from "$work/mem.bin" >/dev/null
rm -f "$work/mem.bin"
cat "$work/ckpt.tar" >/dev/null
copies=$(nice -n 10 "$bin" analyze --local "$work/ckpt.tar" --secrets -o json |
    awk -F': ' '/"findings"/ {gsub(/,/, "", $2); print $2}')
echo "analyze --secrets: $copies copies found (planted: $planted)"
if [ "$copies" != "$planted" ]; then
    echo "analyze --secrets did not report exactly the planted secrets" >&2
    exit 1
fi
for _ in $(seq "$rounds"); do
    run e2e "$bin" analyze --local "$work/ckpt.tar" --secrets -o json
    run e2e_grep grep -c -a "$marker" "$work/ckpt.tar"
done
read -r e_wall e_cpu e_rss <<<"$(best e2e)"
read -r eg_wall eg_cpu eg_rss <<<"$(best e2e_grep)"
echo "analyze --secrets, ${size} MiB archive:  best wall ${e_wall} s, best cpu ${e_cpu} s, peak RSS $((e_rss / 1024)) MiB"
echo "grep -c -a, same archive:          best wall ${eg_wall} s, best cpu ${eg_cpu} s, peak RSS $((eg_rss / 1024)) MiB"
awk -v ow="$e_wall" -v gw="$eg_wall" -v oc="$e_cpu" -v gc="$eg_cpu" \
    'BEGIN {printf "ratio analyze --secrets / grep: wall %.2fx, cpu %.2fx\n", ow / gw, (gc > 0 ? oc / gc : 0)}'
echo "load average during the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work/ckpt.tar"

nice -n 10 "$scan" gen "$work/hostile.bin" "$hostile" --hostile >/dev/null
cat "$work/hostile.bin" >/dev/null
run hostile "$scan" scan "$work/hostile.bin"
read -r h_wall h_cpu h_rss <<<"$(best hostile)"
echo "hostile (anchors only), ${hostile} MiB: wall ${h_wall} s, cpu ${h_cpu} s, peak RSS $((h_rss / 1024)) MiB"

nice -n 10 "$gen" "$work/hostile.tar" --size "${hostile}M" --pages-from "$work/hostile.bin" >/dev/null
rm -f "$work/hostile.bin"
status=0
/usr/bin/time -f "%e %U %S %M" -o "$work/t" nice -n 10 "$bin" analyze --local "$work/hostile.tar" \
    --secrets -o json 2>"$work/hostile.err" >/dev/null || status=$?
read -r hw hu hs hm < <(tail -1 "$work/t") # the last line: time prefixes a failure's status
echo "hostile checkpoint, ${hostile} MiB, analyze --secrets: exit $status, wall ${hw} s, cpu $(awk -v u="$hu" -v s="$hs" 'BEGIN {print u + s}') s, peak RSS $((hm / 1024)) MiB"
sed 's/^/  /' "$work/hostile.err"

#!/usr/bin/env bash
# Writing large reports (docs/performance.md, "Output"): write calls and time of two builds
# rendering the same many-process report.
#
#   scripts/bench-output.sh OLD_BIN NEW_BIN [PROCESSES=50000] [ROUNDS=5]
#
# Generates a plain tar checkpoint of PROCESSES processes (examples/gen_checkpoint, sparse:
# see scripts/benchlib.sh), then for JSON, YAML and the wide table of the per-process sections
# (`--ps-tree --cmdline --env --files --sockets`: no memory is scanned, so the output is the
# work): the write calls each build makes (`strace -c -f -e trace=write`, one run each) and the
# bytes written, then ROUNDS paired runs alternated between the builds (medians). Both builds
# must be release builds. BENCH_DIR=DIR keeps the generated archive there for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "$2")
processes=${3:-50000}
rounds=${4:-5}
. scripts/benchlib.sh
bench_workdir
data=${BENCH_DIR:-$BENCH_WORK}
mkdir -p "$data"
cargo build --release --quiet --example gen_checkpoint
archive=$data/processes-$processes.tar
gen_processes "$PWD/target/release/examples/gen_checkpoint" "$archive" "$processes"
sections="--ps-tree --cmdline --env --files --sockets"

echo "$processes processes; $(load_note)"
echo
echo "| output | write calls old / new | bytes |"
echo "|---|---|---|"
for format in json yaml wide; do
    for bin in "$old" "$new"; do
        # shellcheck disable=SC2086
        strace -f -c -e trace=write -o "$BENCH_WORK/strace.txt" \
            "$bin" analyze --local "$archive" $sections -o "$format" >"$BENCH_WORK/out.$format"
        awk '$NF == "write" {print $4}' "$BENCH_WORK/strace.txt" >>"$BENCH_WORK/calls.$format"
    done
    printf '| -o %s | %s / %s | %s |\n' "$format" "$(sed -n 1p "$BENCH_WORK/calls.$format")" \
        "$(sed -n 2p "$BENCH_WORK/calls.$format")" "$(stat -c %s "$BENCH_WORK/out.$format")"
done
echo
echo "$rounds paired runs each, alternated, medians; $(load_note)"
paired_header old new
for format in json yaml wide; do
    paired "$rounds" "-o $format" \
        "\"$old\" analyze --local \"$archive\" $sections -o $format" \
        "\"$new\" analyze --local \"$archive\" $sections -o $format"
done

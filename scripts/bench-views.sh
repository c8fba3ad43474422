#!/usr/bin/env bash
# Compares two builds of kubectl-checkpoint view by view, on the real fixtures and on a generated
# 1 GiB checkpoint (docs/performance.md, "Views before and after the checkpoint model").
#
#   scripts/bench-views.sh OLD_BIN NEW_BIN
#
# For each view it prints the instructions each build executes (valgrind's callgrind: the same
# count for the same binary and input whatever else the machine is doing, so two builds can be
# compared on a loaded machine) and their ratio; for the 1 GiB views, which callgrind would take
# too long on, the best wall time of 3 runs (hyperfine) instead. Both builds must be release
# builds. Writes only under a temporary directory, removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1
new=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-views.XXXXXX")
trap 'rm -rf "$work"' EXIT
sample=tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar
py=tests/fixtures/criu-4.2/py
tree=tests/fixtures/criu-4.2/tree

# instructions BIN ARGS...: instructions executed, user space, whole process.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>"$work/vg.txt" >/dev/null ||
        { cat "$work/vg.txt" >&2; return 1; }
    awk '/Collected :/ {print $4}' "$work/vg.txt"
}

# compare LABEL ARGS...: one table row, old and new instruction counts and new/old.
compare() {
    local label=$1 a b
    shift
    mkdir -p "$work/cores"
    a=$(instructions "$old" "$@")
    rm -rf "$work/cores" && mkdir -p "$work/cores"
    b=$(instructions "$new" "$@")
    rm -rf "$work/cores"
    awk -v l="$label" -v a="$a" -v b="$b" \
        'BEGIN {printf "| %s | %.1f M | %.1f M | %.2fx |\n", l, a / 1e6, b / 1e6, b / a}'
}

echo "| view | old | new | new / old |"
echo "|---|---|---|---|"
compare "analyze sample --ps-tree --cmdline --env" analyze --local "$sample" --ps-tree --cmdline --env
compare "analyze sample --files --sockets" analyze --local "$sample" --files --sockets
compare "analyze sample --all -o json" analyze --local "$sample" --all -o json
compare "analyze py --all -o json" analyze --local "$py" --all -o json
for view in ps fds mems rss; do
    compare "analyze tree --crit-x $view" analyze --local "$tree" --crit-x "$view"
done
compare "analyze sample --memory" analyze --local "$sample" --memory
compare "analyze sample --search RANDOM_1432_KEY" analyze --local "$sample" --search RANDOM_1432_KEY -o json
compare "coredump sample" coredump "$sample" --dir "$work/cores"
compare "decode py/pstree.img" decode "$py/pstree.img"
echo
echo "Default view of one checkpoint (old: the overview row; new: the forensic summary):"
compare "analyze sample" analyze --local "$sample"

"$new" --version >/dev/null
cargo build --release --quiet --example gen_checkpoint
target/release/examples/gen_checkpoint "$work/big.tar" --size 1G >/dev/null
cat "$work/big.tar" >/dev/null
echo
echo "1 GiB generated checkpoint, best wall time of 3 runs:"
for args in "--memory" "--search KCP_GEN_MARKER_7731 -o json" "--ps-tree --cmdline --env -o json"; do
    # shellcheck disable=SC2086
    hyperfine -N --runs 3 --style none --export-json "$work/h.json" \
        "$old analyze --local $work/big.tar $args" "$new analyze --local $work/big.tar $args" >/dev/null
    awk -v a="$args" '
        /"command"/ {n++}
        /"min"/ {gsub(/[",]/, "", $2); t[n] = $2}
        END {printf "| analyze 1 GiB %s | %.3f s | %.3f s | %.2fx |\n", a, t[1], t[2], t[2] / t[1]}' "$work/h.json"
done
# shellcheck disable=SC2086
hyperfine -N --runs 3 --style none --export-json "$work/h.json" "$new analyze --local $work/big.tar" >/dev/null
awk '/"min"/ {gsub(/[",]/, "", $2); printf "| new default view (summary) of 1 GiB | | %.3f s | |\n", $2}' "$work/h.json"

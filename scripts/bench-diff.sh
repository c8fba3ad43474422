#!/usr/bin/env bash
# Benchmarks `kubectl checkpoint diff` on a generated pair of checkpoints.
#
#   scripts/bench-diff.sh [SIZE=1G]
#
# 1. Generates two plain tar checkpoints of SIZE present pages each (2 processes, the same
#    processes and mappings, from examples/gen_checkpoint.rs): OLD with the marker
#    KCP_GEN_MARKER_7731, NEW with a marker of the same length (the marker pages differ), and
#    ALL, whose every filler page differs from OLD's (--fill-salt).
# 2. Times (wall, best of 3, warm page cache) and peak RSS (/usr/bin/time) of
#      kubectl-checkpoint diff OLD NEW -o json             (a few pages differ)
#      kubectl-checkpoint diff OLD NEW --memory -o json    (with the changed ranges)
#      kubectl-checkpoint diff OLD ALL -o json             (every page differs)
#      kubectl-checkpoint diff OLD OLD -o json             (no difference)
#    beside the floor of reading both archives (cat OLD NEW >/dev/null), then the same diff of
#    zstd-compressed copies (Podman's default compression: decompressed once, pages spooled).
# Needs a release build; writes only under a temporary directory, removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}

cargo build --release --quiet --bin kubectl-checkpoint --example gen_checkpoint
bin=target/release/kubectl-checkpoint
gen=target/release/examples/gen_checkpoint
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-diff.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$gen" "$work/old.tar" --size "$size"
"$gen" "$work/new.tar" --size "$size" --marker KCP_GEN_OTHER__7731
"$gen" "$work/all.tar" --size "$size" --fill-salt 6148914691236517205

measure() { # best wall time of 3 runs and the peak RSS of the last, as "WALL s, RSS MiB"
    local best="" t rss
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 || true
        read -r t rss < <(tail -1 "$work/time")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    done
    echo "$best s, $(awk "BEGIN{printf \"%.1f\", $rss/1024}") MiB"
}
cat "$work"/old.tar "$work"/new.tar "$work"/all.tar >/dev/null # warm the page cache

set +e
"$bin" diff "$work/old.tar" "$work/new.tar" >"$work/table"
echo "exit status OLD NEW: $? ($(head -1 "$work/table"))"
"$bin" diff "$work/old.tar" "$work/all.tar" >"$work/table"
echo "exit status OLD ALL: $? ($(head -1 "$work/table"))"
set -e
echo "diff OLD NEW -o json:           $(measure "$bin" diff "$work/old.tar" "$work/new.tar" -o json)"
echo "diff OLD NEW --memory -o json:  $(measure "$bin" diff "$work/old.tar" "$work/new.tar" --memory -o json)"
echo "diff OLD ALL -o json:           $(measure "$bin" diff "$work/old.tar" "$work/all.tar" -o json)"
echo "diff OLD OLD -o json:           $(measure "$bin" diff "$work/old.tar" "$work/old.tar" -o json)"
echo "cat OLD NEW >/dev/null:         $(measure sh -c "cat '$work/old.tar' '$work/new.tar'")"
rm -f "$work/all.tar"
zstd -q -T2 "$work/old.tar" -o "$work/old.tar.zst"
zstd -q -T2 "$work/new.tar" -o "$work/new.tar.zst"
rm -f "$work/old.tar" "$work/new.tar"
echo "diff OLD.zst NEW.zst -o json:   $(measure "$bin" diff "$work/old.tar.zst" "$work/new.tar.zst" -o json)"
echo "zstd -dc OLD.zst NEW.zst:       $(measure sh -c "zstd -qdc '$work/old.tar.zst' '$work/new.tar.zst' >/dev/null")"

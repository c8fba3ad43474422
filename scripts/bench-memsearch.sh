#!/usr/bin/env bash
# Benchmarks `analyze --search` on generated checkpoints against GNU grep over the same pages.
#
#   scripts/bench-memsearch.sh [SIZE_FOR_SPEED=1G] [SIZE_FOR_MEMORY=2G]
#
# 1. Generates a plain tar checkpoint with SIZE_FOR_SPEED of present pages (2 processes) and the
#    same checkpoint as an image directory, with the marker KCP_GEN_MARKER_7731 at known places;
#    the tar is also compressed with zstd and gzip (searched as they decompress, no spool file).
# 2. Times (wall, best of 3, warm page cache):
#      kubectl-checkpoint analyze --local ARCHIVE --search MARKER -o json   (all processes)
#      grep -c -a MARKER DIR/pages-*.img                                    (same bytes)
# 3. Peak RSS (/usr/bin/time -v) of the search on a SIZE_FOR_MEMORY archive.
# Needs a release build (or BIN=binary GEN=gen_checkpoint); writes only under a temporary
# directory, removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
speed_size=${1:-1G}
memory_size=${2:-2G}
marker=KCP_GEN_MARKER_7731

if [ -z "${BIN:-}" ] || [ -z "${GEN:-}" ]; then
    cargo build --release --quiet --bin kubectl-checkpoint --example gen_checkpoint
fi
bin=${BIN:-target/release/kubectl-checkpoint}
gen=${GEN:-target/release/examples/gen_checkpoint}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-memsearch.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$gen" "$work/speed.tar" --size "$speed_size"
"$gen" "$work/speed-dir" --size "$speed_size" --dir

best_of_3() { # prints the best wall time in seconds of a command (output discarded)
    local best="" t
    for _ in 1 2 3; do
        /usr/bin/time -f %e -o "$work/time" "$@" >/dev/null 2>&1
        t=$(tail -1 "$work/time")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    done
    echo "$best"
}
cat "$work"/speed.tar "$work"/speed-dir/pages-*.img >/dev/null # warm the page cache

hits=$("$bin" analyze --local "$work/speed.tar" --search "$marker" -o json | grep -c '"vaddr"')
grep_lines=$(cat "$work"/speed-dir/pages-*.img | grep -c -a "$marker" || true)
echo "search hits: $hits (grep -c -a lines over the pages files: $grep_lines, includes 1 decoy per process)"
echo "search, tar archive:   $(best_of_3 "$bin" analyze --local "$work/speed.tar" --search "$marker" -o json) s"
echo "search, image dir:     $(best_of_3 "$bin" analyze --local "$work/speed-dir" --search "$marker" -o json) s"
echo "regex, tar archive:    $(best_of_3 "$bin" analyze --local "$work/speed.tar" --search-regex "KCP_GEN_MARKER_[0-9]+" -o json) s"
echo "grep -c -a, pages:     $(best_of_3 grep -c -a "$marker" "$work"/speed-dir/pages-1.img "$work"/speed-dir/pages-2.img) s"
# Compressed archives: the search reads the pages while they decompress (no spool file).
zstd -q -3 -T0 -c "$work/speed.tar" >"$work/speed.tar.zst"
gzip -1 -c "$work/speed.tar" >"$work/speed.tar.gz"
echo "search, zstd archive:  $(best_of_3 "$bin" analyze --local "$work/speed.tar.zst" --search "$marker" -o json) s (zstd -dc alone: $(best_of_3 zstd -dc "$work/speed.tar.zst") s)"
echo "search, gzip archive:  $(best_of_3 "$bin" analyze --local "$work/speed.tar.gz" --search "$marker" -o json) s (gzip -dc alone: $(best_of_3 gzip -dc "$work/speed.tar.gz") s)"
/usr/bin/time -v "$bin" analyze --local "$work/speed.tar.zst" --search "$marker" -o json 2>"$work/time.txt" >/dev/null
echo "peak RSS, search over the zstd archive: $(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.txt") KiB; written: $(awk -F': ' '/File system outputs/ {print $2 * 512 / 1048576}' "$work/time.txt") MiB"
rm -f "$work/speed.tar.zst" "$work/speed.tar.gz"
rm -rf "$work/speed.tar" "$work/speed-dir"

"$gen" "$work/memory.tar" --size "$memory_size"
/usr/bin/time -v "$bin" analyze --local "$work/memory.tar" --search "$marker" -o json 2>"$work/time.txt" >/dev/null
echo "peak RSS, search over $memory_size archive: $(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.txt") KiB"
/usr/bin/time -v "$bin" analyze --local "$work/memory.tar" --memory 2>"$work/time.txt" >/dev/null
echo "peak RSS, --memory over $memory_size archive: $(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.txt") KiB"

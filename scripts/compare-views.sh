#!/usr/bin/env bash
# Runs every verb and view of the binary on every fixture and writes what it printed into OUTDIR,
# one file per command (stdout, stderr and exit status; core files and memory dumps as sha256 sums),
# so two builds can be compared with `diff -r`:
#
#   scripts/compare-views.sh target/release/kubectl-checkpoint /tmp/views-new
#   diff -r /tmp/views-old /tmp/views-new && echo "no behaviour change"
#
# usage: compare-views.sh BIN OUTDIR
set -euo pipefail
BIN=$(realpath "$1"); OUT=$2
cd "$(dirname "$0")/.."
F=tests/fixtures
rm -rf "$OUT"; mkdir -p "$OUT"
SCRATCH=$(mktemp -d); trap 'rm -rf "$SCRATCH"' EXIT

# run NAME ARGS...: one command, its stdout, stderr and exit status in OUT/NAME.
run() {
    local name=$1; shift
    local status=0
    (cd "$SCRATCH" && "$BIN" "$@") >"$OUT/$name.out" 2>"$OUT/$name.err" </dev/null || status=$?
    echo "$status" >"$OUT/$name.status"
}

inputs=(
    "$F"/crio/*.tar "$F"/crio-secrets/*.tar "$F"/podman/* "$F"/criu-4.1/tree
    "$F"/criu-4.2/clean "$F"/criu-4.2/diff-1 "$F"/criu-4.2/diff-2 "$F"/criu-4.2/indicators
    "$F"/criu-4.2/model "$F"/criu-4.2/py "$F"/criu-4.2/secrets "$F"/criu-4.2/tree
    "$F"/criu-4.2/wholetruth "$F"/criu-4.2/wholetruth-2
)
sections=(--stats --ps-tree --cmdline --env --files --sockets --mounts --metadata --rootfs-diff --indicators --all --memory --secrets)
for input in "${inputs[@]}"; do
    input=$(realpath "$input")
    key=$(basename "$input" | tr -c 'A-Za-z0-9.\n-' '_')
    for format in table wide tree json yaml; do
        run "$key.default.$format" analyze --local "$input" -o "$format"
        for section in "${sections[@]}"; do
            run "$key$section.$format" analyze --local "$input" "$section" -o "$format"
        done
    done
    run "$key.secrets-reveal" analyze --local "$input" --secrets --reveal
    for view in ps fds mems rss; do
        run "$key.crit-x-$view" analyze --local "$input" --crit-x "$view"
    done
    for needle in KCPT_ SECRET RANDOM_1432_KEY MARKER; do
        run "$key.search-$needle" analyze --local "$input" --search "$needle"
        run "$key.search-$needle.json" analyze --local "$input" --search "$needle" -o json -C 8
    done
    run "$key.search-regex" analyze --local "$input" --search-regex '[A-Z]{4,}_[A-Z0-9_]{3,}' --max-matches 50
    # Per process: the memory views of each pid of the tree.
    pids=$(cd "$SCRATCH" && "$BIN" analyze --local "$input" --ps-tree -o json 2>/dev/null \
        | jq -r '[.. | objects | select(has("pid") and has("children")) | .pid] | unique | .[]' || true)
    for pid in $pids; do
        run "$key.pid-$pid.memory" analyze --local "$input" --memory --pid "$pid"
        run "$key.pid-$pid.ps-files" analyze --local "$input" --ps-tree --files --sockets --pid "$pid" -o wide
        run "$key.pid-$pid.secrets" analyze --local "$input" --secrets --pid "$pid" -o json
        addr=$(cd "$SCRATCH" && "$BIN" analyze --local "$input" --memory --pid "$pid" -o json 2>/dev/null \
            | jq -r '[.. | objects | select(has("start")) | .start] | first // empty' || true)
        if [ -n "$addr" ]; then
            run "$key.pid-$pid.hexdump" analyze --local "$input" --pid "$pid" --hexdump "$addr:512"
        fi
        rm -f "$SCRATCH/mem.bin"
        run "$key.pid-$pid.dump-memory" analyze --local "$input" --pid "$pid" --dump-memory mem.bin
        [ -f "$SCRATCH/mem.bin" ] && sha256sum <"$SCRATCH/mem.bin" >"$OUT/$key.pid-$pid.dump-memory.sha256"
    done
    rm -rf "$SCRATCH/cores"; mkdir "$SCRATCH/cores"
    run "$key.coredump" coredump "$input" --dir cores
    (cd "$SCRATCH/cores" && sha256sum -- * 2>/dev/null || true) >"$OUT/$key.coredump.sha256"
done

# Several checkpoints at once: the overview.
run "several.default" analyze --local "$(realpath "$F"/crio/*.tar)" "$(realpath "$F"/podman/ckpt-image-plain.tar)"
run "several.wide" analyze --local "$(realpath "$F"/crio/*.tar)" "$(realpath "$F"/podman/ckpt-image-plain.tar)" -o wide

# diff: the real pair and a checkpoint against itself.
for format in table tree json yaml; do
    run "diff.pair.$format" diff "$(realpath $F/criu-4.2/diff-1)" "$(realpath $F/criu-4.2/diff-2)" -o "$format"
    run "diff.pair-memory.$format" diff "$(realpath $F/criu-4.2/diff-1)" "$(realpath $F/criu-4.2/diff-2)" --memory -o "$format"
    run "diff.wholetruth.$format" diff "$(realpath $F/criu-4.2/wholetruth)" "$(realpath $F/criu-4.2/wholetruth-2)" -o "$format"
    run "diff.archives.$format" diff "$(realpath $F/podman/ckpt-image-plain.tar)" "$(realpath $F/podman/ckpt-image-gzip.tar.gz)" -o "$format"
done
run "diff.same" diff "$(realpath $F/criu-4.2/model)" "$(realpath $F/criu-4.2/model)"

# decode: every image of every directory, plain, --pretty and --info; members of an archive.
for dir in "$F"/criu-4.1/tree "$F"/criu-4.2/*; do
    dkey=$(basename "$(dirname "$dir")")-$(basename "$dir")
    for image in "$dir"/*.img; do
        ikey=$dkey.$(basename "$image")
        run "decode.$ikey" decode "$(realpath "$image")"
        run "decode.$ikey.pretty" decode "$(realpath "$image")" --pretty
        run "decode.$ikey.info" decode "$(realpath "$image")" --info
    done
done
for archive in "$F"/crio/*.tar "$F"/podman/ckpt-rootfs-zstd.tar; do
    for member in checkpoint/pstree.img checkpoint/inventory.img checkpoint/stats-dump stats-dump checkpoint/nosuch.img; do
        run "decode.$(basename "$archive").${member//\//_}" decode "$(realpath "$archive"):$member" --pretty
    done
done

# Errors: a missing path, a file that is no checkpoint, a directory without pstree.img.
run "error.missing" analyze --local /nonexistent/ckpt.tar
run "error.not-a-checkpoint" analyze --local "$(realpath README.md)"
run "error.no-pstree" analyze --local "$(realpath docs)"
run "error.decode-not-image" decode "$(realpath README.md)"
find "$OUT" -type f | wc -l | xargs echo "files written:"

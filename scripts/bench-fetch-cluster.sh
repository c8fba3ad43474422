#!/usr/bin/env bash
# Benchmark of fetching a large archive on a REAL cluster (docs/performance.md, "Fetching on a
# real cluster"): `kubectl checkpoint fetch` (default --verify sha256, and --verify size) against
# `kubectl cp` from a pod that mounts the node's checkpoint directory, alternated ROUNDS times,
# each copy's sha256 checked; ours' own breakdown from `-o json` (helper start, stream, verify).
# Then checkpoint + fetch in one step (`--fetch`, the helper starting while the kubelet dumps)
# against checkpoint + `kubectl cp`.
#
# usage: KUBECONFIG=... NAMESPACE=ns POD=pod CONTAINER=c CP_POD=ns/pod scripts/bench-fetch-cluster.sh
#   POD/CONTAINER: the (large) container to checkpoint; CP_POD: a running pod on the same node
#   that mounts /var/lib/kubelet/checkpoints (read-only is enough) and has tar.
#   BIN: the binary to measure (default target/release/kubectl-checkpoint); ROUNDS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NAMESPACE:?}" "${POD:?}" "${CONTAINER:?}" "${CP_POD:?}"
BIN=${BIN:-$PWD/target/release/kubectl-checkpoint}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export HOME=$WORK

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# The archive to copy.
SOURCE=$("$BIN" -n "$NAMESPACE" "pod/$POD" -c "$CONTAINER")
NODE_PATH=${SOURCE#*:}
echo "archive: $SOURCE"

declare -A total
run() { # run LABEL OUT COMMAND...
    local label=$1 out=$2 t0 t1
    shift 2
    rm -f "$out" "$out".custody.json
    t0=$(now)
    "$@" >"$WORK/last.json" 2>"$WORK/last.err"
    t1=$(now)
    local t
    t=$(secs "$t0" "$t1")
    total[$label]=$(echo "${total[$label]:-0} + $t" | bc)
    printf '%-28s %6.2f s  %s bytes  sha256 %s' "$label" "$t" "$(stat -c %s "$out")" "$(sha256sum "$out" | cut -c1-16)"
    if [ "${label#ours}" != "$label" ]; then
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r=r[0] if isinstance(r,list) else r; t=r.get("timing",{}); print("  helper %.2f s, stream %.2f s, verify %.2f s" % (t.get("helper_start_seconds",0), t.get("stream_seconds",0), t.get("verify_seconds",0)))' "$WORK/last.json" 2>/dev/null || echo
    else
        echo
    fi
    rm -f "$out" "$out".custody.json
}
for round in $(seq 1 "$ROUNDS"); do
    run "ours (sha256)" a.tar "$BIN" fetch "$SOURCE" a.tar -o json
    run "ours (--verify size)" b.tar "$BIN" fetch "$SOURCE" b.tar --verify size -o json
    run "kubectl cp" c.tar kubectl cp "$CP_POD:$NODE_PATH" c.tar
done
for label in "ours (sha256)" "ours (--verify size)" "kubectl cp"; do
    printf 'mean %-23s %6.2f s\n' "$label" "$(echo "scale=3; ${total[$label]} / $ROUNDS" | bc)"
done
"$BIN" delete "$SOURCE" >/dev/null

# Checkpoint and fetch in one step, against checkpoint then kubectl cp.
for round in $(seq 1 "$ROUNDS"); do
    sleep 1.1
    t0=$(now)
    "$BIN" -n "$NAMESPACE" "pod/$POD" -c "$CONTAINER" --fetch f.tar -o json >"$WORK/f.json"
    t1=$(now)
    echo "ours: checkpoint --fetch      $(secs "$t0" "$t1") s  $(python3 -c 'import json; r=json.load(open("f.json"))[0]; print("checkpoint %.2f s" % r["duration_seconds"])')"
    rm -f f.tar f.tar.custody.json
    "$BIN" delete "$(python3 -c 'import json; r=json.load(open("f.json"))[0]; print(r["node"] + ":" + r["path"])')" >/dev/null
    sleep 1.1
    t0=$(now)
    src=$("$BIN" -n "$NAMESPACE" "pod/$POD" -c "$CONTAINER")
    kubectl cp "$CP_POD:${src#*:}" g.tar >/dev/null
    t1=$(now)
    echo "checkpoint, then kubectl cp   $(secs "$t0" "$t1") s"
    rm -f g.tar
    "$BIN" delete "$src" >/dev/null
done

#!/usr/bin/env bash
# Benchmark of fetching an archive off a node (docs/performance.md, "Fetching").
#
# Serves the fake API server of the integration tests (`serve_for_benchmark` in
# tests/integration/fetch.rs: TLS, websocket exec running real commands) with a SIZE_MIB archive
# of random bytes on node-a, then copies it with ours (`kubectl checkpoint fetch`, through its own
# helper pod) and with the real `kubectl cp` (from a pod mounting the same directory), measuring
# wall time and peak RSS with /usr/bin/time -v, and checking each copy's sha256. Then again with
# every exec stream cut after CUT_MIB: kubectl cp (with and without --retries) against ours
# (resumes, --retries 20).
#
# The fake runs the helper's commands with this machine's tools, on the same cores as both
# clients. The node-side `sha256sum` is measured two ways: this machine's coreutils (no SHA
# instructions, ~5 s/GiB) and a stand-in with the CPU's SHA instructions (OpenSSL), the speed of
# the default helper image's busybox 1.36 sha256sum where the CPU has them.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
CUT_MIB=${CUT_MIB:-300}
# ROUNDS: how often each uncut fetch runs (alternating, so drift hits all alike).
ROUNDS=${ROUNDS:-2}
# SERVER_PROFILE=debug serves from the debug test build (quicker to build, slower to serve).
SERVER_PROFILE=${SERVER_PROFILE:-release}
# OURS=path/to/kubectl-checkpoint measures that binary instead of building a release one.
[ -n "${OURS:-}" ] || cargo build --release --quiet
if [ "$SERVER_PROFILE" = release ]; then
    cargo test --release --quiet --test integration --no-run 2>/dev/null
else
    cargo test --quiet --test integration --no-run 2>/dev/null
fi
BIN=${OURS:-$PWD/target/release/kubectl-checkpoint}
TEST=$(ls -t target/"$SERVER_PROFILE"/deps/integration-* | grep -v '\.d$' | head -1)
WORK=$(mktemp -d)
SERVER=
cleanup() {
    touch "$WORK/srv/stop" 2>/dev/null || true
    [ -n "$SERVER" ] && wait "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
NAME=checkpoint-big_demo-c-2026-01-01T00:00:00Z.tar
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/$NAME"
WANT=$(sha256sum "$WORK/$NAME" | cut -d' ' -f1)

# The node's sha256sum: coreutils, or OpenSSL's SHA-NI code while $WORK/bin/sha256sum.fast exists.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/sha256sum" <<'WRAPPER'
#!/bin/sh
if [ -e "$0.fast" ]; then exec openssl dgst -sha256 -r "$@"; fi
exec /usr/bin/sha256sum "$@"
WRAPPER
chmod +x "$WORK/bin/sha256sum"
node_hash() { if [ "$1" = fast ]; then touch "$WORK/bin/sha256sum.fast"; else rm -f "$WORK/bin/sha256sum.fast"; fi; }

serve() { # serve [DROP_AFTER_BYTES]
    rm -rf "$WORK/srv" && mkdir -p "$WORK/srv"
    PATH=$WORK/bin:$PATH BENCH_DIR=$WORK/srv BENCH_ARCHIVE=$WORK/$NAME BENCH_DROP_AFTER=${1:-} \
        "$TEST" --ignored --exact fetch::serve_for_benchmark --nocapture >/dev/null 2>&1 &
    SERVER=$!
    while [ ! -e "$WORK/srv/ready" ]; do sleep 0.1; done
}
stop() { touch "$WORK/srv/stop"; wait "$SERVER" || true; SERVER=; }

# measure LABEL OUTFILE COMMAND...: one run; prints wall time, peak RSS, exit code, sha check.
measure() {
    local label=$1 out=$2
    shift 2
    rm -f "$out"
    local rc=0
    HOME=$WORK/srv KUBECONFIG=$WORK/srv/kubeconfig /usr/bin/time -v "$@" >/dev/null 2>"$WORK/time.txt" || rc=$?
    local t m ok
    t=$(awk -F': ' '/Elapsed/ {n=split($2, a, ":"); s=a[n]; if (n > 1) s += 60 * a[n-1]; print s}' "$WORK/time.txt")
    m=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2 / 1024}' "$WORK/time.txt")
    if [ -f "$out" ] && [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$WANT" ]; then ok=identical; else ok="NOT identical ($(stat -c %s "$out" 2>/dev/null || echo 0) bytes)"; fi
    printf '%-44s %8.2f s %8s MiB  exit %d  %s\n' "$label" "$t" "$m" "$rc" "$ok"
    rm -f "$out"
}

SRC=/var/lib/kubelet/checkpoints/$NAME
echo "archive: $SIZE_MIB MiB of random bytes; server: $SERVER_PROFILE build; $(nproc) cores; load $(cut -d' ' -f1 /proc/loadavg)"
serve
for round in $(seq "$ROUNDS"); do
    node_hash coreutils
    measure "ours: fetch (node sha256sum: coreutils)" "$WORK/ours.tar" "$BIN" fetch "node-a:$SRC" "$WORK/ours.tar"
    node_hash fast
    measure "ours: fetch (node sha256sum: SHA-NI)" "$WORK/ours.tar" "$BIN" fetch "node-a:$SRC" "$WORK/ours.tar"
    measure "ours: fetch --verify size" "$WORK/ours.tar" "$BIN" fetch --verify size "node-a:$SRC" "$WORK/ours.tar"
    measure "kubectl cp" "$WORK/kcp.tar" kubectl cp "demo/reader:$SRC" "$WORK/kcp.tar"
done
stop
node_hash fast
serve $((CUT_MIB << 20))
measure "cut every ${CUT_MIB} MiB: ours (--retries 20)" "$WORK/ours.tar" "$BIN" fetch "node-a:$SRC" "$WORK/ours.tar" --retries 20
measure "cut every ${CUT_MIB} MiB: kubectl cp" "$WORK/kcp.tar" kubectl cp "demo/reader:$SRC" "$WORK/kcp.tar"
measure "cut every ${CUT_MIB} MiB: kubectl cp --retries 20" "$WORK/kcp.tar" kubectl cp --retries 20 "demo/reader:$SRC" "$WORK/kcp.tar"
stop

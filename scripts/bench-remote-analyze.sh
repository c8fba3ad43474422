#!/usr/bin/env bash
# Benchmark of `analyze --remote --search` on a REAL cluster (docs/performance.md, "Analysis on
# the node"): a pod holding MIB MiB of random text and a needle in its shell's memory is
# checkpointed once; then, ROUNDS times, `analyze --remote NODE:PATH --search NEEDLE` (the agent
# runs on the node, only the report travels) against `fetch` + `analyze --local --search` of the
# same archive. Prints both times, the archive's size, the hits of each (they must agree), and
# the agent's note (what it read on the node, what travelled).
#
# usage: KUBECONFIG=... NODE=node BIN=static-kubectl-checkpoint scripts/bench-remote-analyze.sh
#   BIN: a static build (scripts/build-release.sh linux-amd64), used here and as the agent;
#   MIB (default 200), ROUNDS (default 3), IMAGE (default busybox:1.36). Makes and deletes the
#   namespace kc-bench-remote and the archive.
set -euo pipefail
: "${KUBECONFIG:?}" "${NODE:?}" "${BIN:?}"
MIB=${MIB:-200}
ROUNDS=${ROUNDS:-3}
IMAGE=${IMAGE:-busybox:1.36}
ns=kc-bench-remote
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export HOME=$WORK

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

kubectl delete namespace "$ns" --wait=true >/dev/null 2>&1 || true
kubectl create namespace "$ns" >/dev/null
kubectl create serviceaccount default -n "$ns" >/dev/null 2>&1 || true
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: $ns}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $IMAGE
    command: ["sh", "-c", "S=BENCH_NEEDLE_\$((4700+11)); F=\$(head -c $((MIB << 20)) /dev/urandom | base64); touch /tmp/ready; while true; do sleep 1; done"]
    readinessProbe: {exec: {command: ["test", "-e", "/tmp/ready"]}, periodSeconds: 1}
YAML
kubectl wait -n "$ns" pod/big --for=condition=Ready --timeout=300s >/dev/null
SOURCE=$("$BIN" -n "$ns" pod/big -c app)
echo "archive: $SOURCE"
for round in $(seq "$ROUNDS"); do
    rm -f f.tar f.tar.custody.json
    start=$(now)
    "$BIN" -n "$ns" analyze --remote "$SOURCE" --agent-binary "$BIN" \
        --search BENCH_NEEDLE_4711 >remote.out 2>remote.err
    middle=$(now)
    "$BIN" -n "$ns" fetch "$SOURCE" f.tar >/dev/null 2>&1
    "$BIN" analyze --local f.tar --search BENCH_NEEDLE_4711 >local.out 2>/dev/null
    end=$(now)
    echo "round $round: remote $(secs "$start" "$middle") s, fetch + local $(secs "$middle" "$end") s," \
        "archive $(stat -c %s f.tar) bytes, hits remote $(($(wc -l <remote.out) - 1)) local $(($(wc -l <local.out) - 1))"
    grep "note: analysed" remote.err || cat remote.err
done
"$BIN" -n "$ns" delete -y "$SOURCE" >/dev/null
kubectl delete namespace "$ns" --wait=false >/dev/null

#!/usr/bin/env bash
# `kubectl checkpoint image ARCHIVE REF` against buildah's from + add + config + commit + push, for
# the same archive and registry (docs/performance.md, "Checkpoint images").
#
#   scripts/bench-image-push.sh [MIB] [RUNS]
#
# Makes RUNS archives of about MIB MiB each (the CRI-O fixture plus a random pages file: each run's
# layer is new to the registry, so neither side skips the upload), then times both on each.
# REGISTRY (default 127.0.0.1:5000) must take plain-HTTP pushes; BIN is our binary (default
# target/release/kubectl-checkpoint). buildah stores under a temp root with the vfs driver.
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-477}
RUNS=${2:-3}
REGISTRY=${REGISTRY:-127.0.0.1:5000}
BIN=${BIN:-target/release/kubectl-checkpoint}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FIXTURE=$(ls tests/fixtures/crio/*.tar)
B="buildah --root $WORK/root --runroot $WORK/run --storage-driver vfs"
POLICY=$WORK/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$POLICY"
for run in $(seq "$RUNS"); do
    mkdir -p "$WORK/src/checkpoint"
    (cd "$WORK/src" && tar -xf "$OLDPWD/$FIXTURE" && head -c $((MIB << 20)) /dev/urandom > checkpoint/pages-2.img \
        && tar --format=gnu -cf "$WORK/a.tar" --force-local ./*)
    rm -rf "$WORK/src"
    /usr/bin/time -f "ours    run $run: wall %e s, cpu %U+%S s, max RSS %M KiB" \
        "$BIN" image "$WORK/a.tar" "$REGISTRY/bench/ours:r$run-$$" >/dev/null 2>"$WORK/ours.err" || { cat "$WORK/ours.err"; exit 1; }
    tail -1 "$WORK/ours.err"
    start=$(date +%s.%N)
    w=$($B from scratch)
    /usr/bin/time -f "  add    wall %e s, cpu %U+%S s, max RSS %M KiB" $B add "$w" "$WORK/a.tar" / >/dev/null
    $B config --annotation io.kubernetes.cri-o.annotations.checkpoint.name=app "$w"
    /usr/bin/time -f "  commit wall %e s, cpu %U+%S s, max RSS %M KiB" \
        $B commit -q --format oci --signature-policy "$POLICY" "$w" "$REGISTRY/bench/buildah:r$run-$$" >/dev/null
    /usr/bin/time -f "  push   wall %e s, cpu %U+%S s, max RSS %M KiB" \
        $B push -q --tls-verify=false --signature-policy "$POLICY" "$REGISTRY/bench/buildah:r$run-$$" >/dev/null
    echo "buildah run $run: wall $(echo "$(date +%s.%N) - $start" | bc) s in all; its storage: $(du -sh "$WORK/root" | cut -f1)"
    $B rm "$w" >/dev/null
done

#!/usr/bin/env bash
# Benchmark of `kubectl checkpoint coredump` (docs/performance.md, "Core dumps").
#
# Measures wall time and peak RSS (/usr/bin/time -v, best time of $RUNS runs, largest RSS) of:
#   1. the largest fixture process: pid 27426 of the CRI-O archive (2218 pages, 8.7 MiB);
#   2. every process of tests/fixtures/criu-4.1/tree, with ours and with CRIU's coredump tool;
#   3. a generated large process: criu-4.1/tree's pid 24393 with an extra anonymous mapping of
#      $BIG_MIB MiB (default 1024) whose pages are all present, added with crit encode (Debian's
#      crit 3.17 writes the page count in field 2, as CRIU 4.1 does).
# CRIU's tool is not packaged: set CRIU_SRC to a checkout of checkpoint-restore/criu to include
# it. It needs pycriu; Debian's (CRIU 3.17) lacks the pagemap field `compat_nr_pages` the tool
# reads, so a temporary copy gets a one-line fallback to `nr_pages` (field 2, which is where
# CRIU 4.1 images keep the count). It cannot read CRIU 4.2 images with that pycriu at all.
# Each core is then loaded by gdb and its warnings are counted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --release --quiet
BIN=$PWD/target/release/kubectl-checkpoint
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CRIO=tests/fixtures/crio/checkpoint-counters-857d7978fd-jnkck_demo-counter-2023-08-24T11:24:18Z.tar
TREE=tests/fixtures/criu-4.1/tree

# measure LABEL OUTDIR COMMAND...: prints best wall time and peak RSS over $RUNS runs.
measure() {
    local label=$1 out=$2 best="" rss=0
    shift 2
    for _ in $(seq "$RUNS"); do
        rm -rf "$out" && mkdir -p "$out"
        /usr/bin/time -v "$@" >/dev/null 2>"$WORK/time.txt" || { cat "$WORK/time.txt"; exit 1; }
        local t m
        t=$(awk -F': ' '/Elapsed/ {n=split($2, a, ":"); s=a[n]; if (n > 1) s += 60 * a[n-1]; print s}' "$WORK/time.txt")
        m=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt")
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
        if [ "$m" -gt "$rss" ]; then rss=$m; fi
    done
    printf '%-58s %6.2f s %7.1f MB\n' "$label" "$best" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
}

# gdb_warnings DIR: warnings gdb prints while loading each core of DIR.
gdb_warnings() {
    for core in "$1"/core.*; do
        local n
        n=$(gdb --batch -nx -ex 'info registers rip' --core "$core" 2>&1 | grep -c -i 'warning' || true)
        printf '  %s: %s gdb warnings, mode %s, %s bytes\n' "$(basename "$core")" "$n" \
            "$(stat -c %a "$core")" "$(stat -c %s "$core")"
    done
}

measure "ours: CRI-O archive, pid 27426" "$WORK/crio" \
    "$BIN" coredump "$CRIO" --pid 27426 --dir "$WORK/crio"
gdb_warnings "$WORK/crio"
measure "ours: criu-4.1/tree, all 4 processes" "$WORK/tree" \
    "$BIN" coredump "$TREE" --dir "$WORK/tree"
gdb_warnings "$WORK/tree"

# A copy of criu-4.1/tree where pid 24393 has $BIG_MIB MiB more present anonymous memory.
BIG_MIB=${BIG_MIB:-1024}
BIG=$WORK/big
cp -r "$TREE" "$BIG"
/usr/bin/python3 - "$BIG" "$BIG_MIB" <<'PY'
import json, subprocess, sys
big, mib = sys.argv[1], int(sys.argv[2])
def decode(name):
    return json.loads(subprocess.check_output(["crit", "decode", "-i", f"{big}/{name}"]))
def encode(name, image):
    subprocess.run(["crit", "encode", "-o", f"{big}/{name}"], input=json.dumps(image).encode(), check=True)
start, size = 0x7FFFA0000000, mib << 20
mm = decode("mm-24393.img")
vmas = mm["entries"][0]["vmas"]
vmas.insert(len(vmas) - 1, {"start": start, "end": start + size, "pgoff": 0, "shmid": 0,
                            "prot": 3, "flags": 0x22, "status": 0x201, "fd": -1})
encode("mm-24393.img", mm)
pagemap = decode("pagemap-24393.img")
pagemap["entries"].append({"vaddr": start, "nr_pages": size // 4096, "flags": 4})
encode("pagemap-24393.img", pagemap)
block = (b"BIG_PROCESS_PAGE_" * (1 << 16))[: 1 << 20]
with open(f"{big}/pages-{pagemap['entries'][0]['pages_id']}.img", "ab") as pages:
    for _ in range(mib):
        pages.write(block)
PY
measure "ours: criu-4.1/tree pid 24393 + ${BIG_MIB} MiB present" "$WORK/bigcore" \
    "$BIN" coredump "$BIG" --pid 24393 --dir "$WORK/bigcore"
gdb_warnings "$WORK/bigcore"

if [ -n "${CRIU_SRC:-}" ]; then
    cp -r "$CRIU_SRC/coredump" "$WORK/criu-coredump"
    rm -f "$WORK/criu-coredump/pycriu"
    sed -i 's/m.get("nr_pages", m\["compat_nr_pages"\])/m.get("nr_pages", m.get("compat_nr_pages"))/' \
        "$WORK/criu-coredump/criu_coredump/coredump.py"
    measure "CRIU coredump (Debian pycriu 3.17): criu-4.1/tree, all 4" "$WORK/criu" \
        /usr/bin/python3 "$WORK/criu-coredump/coredump" -i "$TREE" -o "$WORK/criu"
    gdb_warnings "$WORK/criu"
    measure "CRIU coredump: criu-4.1/tree + ${BIG_MIB} MiB present, pid 24393" "$WORK/criubig" \
        /usr/bin/python3 "$WORK/criu-coredump/coredump" -i "$BIG" -p 24393 -o "$WORK/criubig"
    gdb_warnings "$WORK/criubig"
else
    echo "CRIU's coredump tool: skipped (set CRIU_SRC to a checkout of checkpoint-restore/criu)"
fi

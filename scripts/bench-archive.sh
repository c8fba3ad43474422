#!/usr/bin/env bash
# Benchmark of archive reading (docs/performance.md, "Archive reading").
#
# Builds a ~1 GiB CRI-O-style checkpoint (the criu-4.2/py fixture's images with a synthetic
# pages-1.img: a mix of zero pages, pages of the real process and random pages, so that it
# compresses about as well as real memory), packs it as plain tar, gzip and zstd, and compares
# whole-process wall time and peak RSS of
#   - ours: `examples/archive_read` (open in place + stream every pages image, count a needle);
#   - the extract-then-read way (what checkpointctl does): `tar -x` into a temp dir, then grep;
#   - lower bounds: decompressing to /dev/null, and `grep -c` over the bare pages file.
#
# Usage: scripts/bench-archive.sh [SIZE_MIB]   (default 1024; needs ~4x that in $TMPDIR)
# Build first: cargo build --release --example archive_read (or set ARCHIVE_READ to a binary).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
size_mib=${1:-1024}
bin=${ARCHIVE_READ:-}
[ -n "$bin" ] || bin="$here/target/release/examples/archive_read"
[ -x "$bin" ] || { echo "build first: cargo build --release --example archive_read" >&2; exit 1; }
needle=RANDOM_1432_KEY
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077

mkdir -p "$work/src/checkpoint"
cp "$here"/tests/fixtures/criu-4.2/py/*.img "$work/src/checkpoint/"
cp "$here"/tests/fixtures/crio/checkpoint-*.tar "$work/crio.tar"
tar -xf "$work/crio.tar" --force-local -C "$work/src" config.dump spec.dump bind.mounts stats-dump dump.log
python3 - "$work/src/checkpoint/pages-1.img" "$here/tests/fixtures/criu-4.2/py/pages-1.img" "$size_mib" <<'EOF'
import os, random, sys
out, real, size_mib = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
pages = [real[i:i + 4096] for i in range(0, len(real), 4096)]
rng = random.Random(1432)
zero = bytes(4096)
with open(out, "wb") as f:
    for _ in range(size_mib * 256 // 64):
        block = []
        for _ in range(64):
            r = rng.random()
            block.append(zero if r < 0.3 else os.urandom(4096) if r < 0.55 else rng.choice(pages))
        f.write(b"".join(block))
EOF
(cd "$work/src" && tar -cf "$work/ckpt.tar" stats-dump dump.log checkpoint config.dump spec.dump bind.mounts)
gzip -1 -c "$work/ckpt.tar" > "$work/ckpt.tar.gz"
zstd -q -3 -T0 -c "$work/ckpt.tar" > "$work/ckpt.tar.zst"
ls -l "$work"/ckpt.tar* | awk '{print $5, $9}'
sync

# Runs a shell command; prints wall time, peak RSS, and bytes read and written through system
# calls (rchar/wchar of /proc/PID/io, which include the waited-for children).
run() { # label, command
    local label=$1 cmd=$2
    /usr/bin/time -f "%e %M" -o "$work/time" \
        bash -c "{ $cmd; } > '$work/out' 2>&1; cat /proc/\$\$/io > '$work/io'"
    local hits rchar wchar
    hits=$(grep -aEo '[0-9]+ hits|^[0-9]+$' "$work/out" | grep -Eo '^[0-9]+' | paste -sd+ | bc || true)
    rchar=$(awk '/^rchar/ {printf "%.0f", $2 / 1048576}' "$work/io")
    wchar=$(awk '/^wchar/ {printf "%.0f", $2 / 1048576}' "$work/io")
    printf '%-40s %7s s %8s KiB RSS %7s MiB read %7s MiB written  %s\n' \
        "$label" $(cat "$work/time") "$rchar" "$wchar" "${hits:+hits $hits}"
}

x="$work/x"
extract_grep() { # tar flags, archive
    echo "rm -rf '$x' && mkdir '$x' && tar $1 '$2' -C '$x' && grep -c -ao $needle '$x/checkpoint/pages-1.img'"
}

for i in 1 2; do
    echo "--- round $i"
    run "ours, plain tar" "'$bin' '$work/ckpt.tar' $needle"
    run "ours, gzip" "'$bin' '$work/ckpt.tar.gz' $needle"
    run "ours, zstd" "'$bin' '$work/ckpt.tar.zst' $needle"
    run "ours, extracted directory" "'$bin' '$work/src' $needle"
    run "ours, open only, plain tar" "'$bin' '$work/ckpt.tar' --open-only"
    run "ours, open only, zstd" "'$bin' '$work/ckpt.tar.zst' --open-only"
    run "tar -tf (list), plain tar" "tar -tf '$work/ckpt.tar'"
    run "extract + grep, plain tar" "$(extract_grep -xf "$work/ckpt.tar")"
    run "extract + grep, gzip" "$(extract_grep -xzf "$work/ckpt.tar.gz")"
    run "extract + grep, zstd" "$(extract_grep '--zstd -xf' "$work/ckpt.tar.zst")"
    run "gzip -dc > /dev/null" "gzip -dc '$work/ckpt.tar.gz' > /dev/null"
    run "zstd -dc > /dev/null" "zstd -dc '$work/ckpt.tar.zst' > /dev/null"
    run "grep -c -ao, bare pages file" "grep -c -ao $needle '$work/src/checkpoint/pages-1.img'"
done

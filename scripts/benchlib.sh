# Helpers the benchmark scripts source (scripts/bench-output.sh, bench-processes.sh,
# bench-default-view.sh): paired runs alternated between two commands with medians, the load
# average noted beside every table, and the generated many-process checkpoints.
#
# Every measurement is a whole process: wall time (date around /usr/bin/time, so about a
# millisecond of fork and exec is included), CPU time (user + system, from /usr/bin/time) and
# peak RSS. On a shared machine wall times move with the load; the CPU times and the ratios of
# runs alternated in one session are the steadier figures.

# A scratch directory for the calling script, removed at exit; BENCH_KEEP=1 keeps it.
bench_workdir() {
    BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
    if [ -z "${BENCH_KEEP:-}" ]; then
        trap 'rm -rf "$BENCH_WORK"' EXIT
    fi
}

# load_note: the machine's load average and cores, for the line above a table.
load_note() {
    printf 'load average %s on %s cores\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
}

# run_once CMD...: one run, stdout to /dev/null; prints "WALL_S CPU_S RSS_KIB". A failing
# command stops the script with its stderr.
run_once() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$BENCH_WORK/time.txt" "$@" >/dev/null 2>"$BENCH_WORK/err.txt" ||
        { echo "failed: $*" >&2; cat "$BENCH_WORK/err.txt" "$BENCH_WORK/time.txt" >&2; exit 1; }
    end=$(date +%s%N)
    awk -v a="$start" -v b="$end" '{printf "%.4f %.4f %d\n", (b - a) / 1e9, $1 + $2, $3}' \
        "$BENCH_WORK/time.txt"
}

# median FILE COLUMN: the median of one column of a file of numbers.
median() {
    sort -g -k"$2","$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# paired ROUNDS LABEL "CMD_A" "CMD_B": ROUNDS runs of each command, alternated (A, B, A, B, ...;
# the first round of each is a warm-up and not counted), then one table row: medians of wall
# and CPU time, largest peak RSS, and the ratios B / A. Commands are shell words (eval).
paired() {
    local rounds=$1 label=$2 a=$3 b=$4 i
    : >"$BENCH_WORK/a.txt"
    : >"$BENCH_WORK/b.txt"
    for i in $(seq 0 "$rounds"); do
        local ra rb
        ra=$(eval "run_once $a")
        rb=$(eval "run_once $b")
        if [ "$i" -gt 0 ]; then
            echo "$ra" >>"$BENCH_WORK/a.txt"
            echo "$rb" >>"$BENCH_WORK/b.txt"
        fi
    done
    local wa wb ca cb ma mb
    wa=$(median "$BENCH_WORK/a.txt" 1)
    wb=$(median "$BENCH_WORK/b.txt" 1)
    ca=$(median "$BENCH_WORK/a.txt" 2)
    cb=$(median "$BENCH_WORK/b.txt" 2)
    ma=$(sort -n -k3,3 "$BENCH_WORK/a.txt" | tail -1 | cut -d' ' -f3)
    mb=$(sort -n -k3,3 "$BENCH_WORK/b.txt" | tail -1 | cut -d' ' -f3)
    awk -v l="$label" -v wa="$wa" -v wb="$wb" -v ca="$ca" -v cb="$cb" -v ma="$ma" -v mb="$mb" 'BEGIN {
        printf "| %s | %.3f s / %.3f s | %.2fx | %.3f s / %.3f s | %.2fx | %.1f / %.1f MiB |\n",
            l, wa, wb, (wa > 0 ? wb / wa : 0), ca, cb, (ca > 0 ? cb / ca : 0), ma / 1024, mb / 1024 }'
}

# paired_header NAME_A NAME_B: the header of the rows `paired` prints.
paired_header() {
    echo "| command | wall $1 / $2 | ratio | CPU $1 / $2 | ratio | peak RSS $1 / $2 |"
    echo "|---|---|---|---|---|---|"
}

# single ROUNDS LABEL "CMD": like `paired` for one command: median wall and CPU, largest RSS.
single() {
    local rounds=$1 label=$2 a=$3 i
    : >"$BENCH_WORK/a.txt"
    for i in $(seq 0 "$rounds"); do
        local ra
        ra=$(eval "run_once $a")
        [ "$i" -gt 0 ] && echo "$ra" >>"$BENCH_WORK/a.txt"
    done
    awk -v l="$label" -v w="$(median "$BENCH_WORK/a.txt" 1)" -v c="$(median "$BENCH_WORK/a.txt" 2)" \
        -v m="$(sort -n -k3,3 "$BENCH_WORK/a.txt" | tail -1 | cut -d' ' -f3)" \
        'BEGIN {printf "| %s | %.3f s | %.3f s | %.1f MiB |\n", l, w, c, m / 1024}'
}

# gen_processes GEN ARCHIVE N: a plain tar checkpoint of N processes of 64 pages each
# (examples/gen_checkpoint, binary GEN), their pages zero but for the command line and one
# marker, written through a sparse copy: the zero pages are holes, so 50,000 processes
# (13 GB of pages) take about 1.5 GB of disk. Reused when ARCHIVE exists.
gen_processes() {
    local gen=$1 archive=$2 n=$3
    [ -f "$archive" ] && return 0
    local zero="$BENCH_WORK/zero.page" fifo="$BENCH_WORK/gen.fifo"
    head -c 4096 /dev/zero >"$zero"
    rm -f "$fifo" && mkfifo "$fifo"
    cp --sparse=always "$fifo" "$archive" &
    "$gen" "$fifo" --processes "$n" --size "$((n * 256))K" --pages-from "$zero" --markers 0 >/dev/null
    wait
    rm -f "$fifo"
}

# extract_sparse ARCHIVE DIR: the archive's checkpoint/ as an image directory for crit, its
# zero pages left as holes (tar would write them out).
extract_sparse() {
    [ -d "$2" ] && return 0
    python3 - "$1" "$2" <<'EOF'
import os, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
zero = bytes(4096)
with tarfile.open(src) as archive:
    for member in archive:
        if not member.isfile() or not member.name.startswith("checkpoint/"):
            continue
        data = archive.extractfile(member)
        with open(os.path.join(dst, member.name[len("checkpoint/"):]), "wb") as out:
            while block := data.read(4096):
                if block == zero:
                    out.seek(len(block), 1)
                else:
                    out.write(block)
            out.truncate()
EOF
}

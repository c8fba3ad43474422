#!/usr/bin/env bash
# Whole-process benchmark of `kubectl checkpoint decode --pretty` against `crit decode --pretty`
# on every decodable image of the raw fixture directories (criu-4.2/py, criu-4.2/tree,
# criu-4.1/tree): one process per image, as a user or script would run them.
#
# Usage: scripts/bench-decode.sh [ROUNDS]     (default 5 rounds of the whole image set)
# Needs: crit (apt-get install criu); hyperfine if installed, else a timed shell loop.
# Set BIN to use an existing binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${1:-5}"
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bin kubectl-checkpoint
    BIN="$PWD/target/release/kubectl-checkpoint"
fi
command -v crit >/dev/null || { echo "crit not found: apt-get install criu" >&2; exit 1; }

images=()
for dir in tests/fixtures/criu-4.2/py tests/fixtures/criu-4.2/tree tests/fixtures/criu-4.1/tree; do
    for f in "$dir"/*; do
        case "$(basename "$f")" in pages-*|*.log) continue ;; esac
        images+=("$f")
    done
done
list="$(mktemp)"
trap 'rm -f "$list"' EXIT
printf '%s\n' "${images[@]}" >"$list"
echo "${#images[@]} images, $rounds rounds; ours: $BIN; crit: $(command -v crit)"

# xargs starts one process per image directly (no shell in between), the same for both tools.
ours="xargs -d '\\n' -n 1 -a '$list' '$BIN' decode --pretty"
theirs="xargs -d '\\n' -n 1 -a '$list' crit decode --pretty -i"

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$rounds" \
        -n ours "$ours >/dev/null" \
        -n crit "$theirs >/dev/null"
else
    time_it() {
        local start end
        start=$(date +%s.%N)
        for _ in $(seq "$rounds"); do bash -c "$1 >/dev/null"; done
        end=$(date +%s.%N)
        echo "$end - $start" | bc
    }
    t_ours=$(time_it "$ours")
    t_crit=$(time_it "$theirs")
    echo "ours: ${t_ours}s, crit: ${t_crit}s for $rounds rounds"
    echo "ratio (crit / ours): $(echo "scale=1; $t_crit / $t_ours" | bc)"
fi

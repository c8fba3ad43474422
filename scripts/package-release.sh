#!/usr/bin/env bash
# Packs one built kubectl-checkpoint binary into the release tarball krew downloads.
#
#   scripts/package-release.sh OS-ARCH BINARY [DIST_DIR]
#
# OS-ARCH is one of linux-amd64, linux-arm64, darwin-amd64, darwin-arm64 (krew's os/arch names);
# BINARY is the built executable, e.g. target/x86_64-unknown-linux-musl/dist/kubectl-checkpoint
# (scripts/build-release.sh builds it with the `dist` profile and calls this script).
# Writes DIST_DIR/kubectl-checkpoint-vVERSION-OS-ARCH.tar.gz (DIST_DIR defaults to dist/) holding
# `kubectl-checkpoint` and `LICENSE` at its top level, the layout plugin.yaml's `files` expects.
# The version comes from Cargo.toml. Then run scripts/release-manifest.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
    echo "usage: $0 OS-ARCH BINARY [DIST_DIR]" >&2
    exit 2
fi
platform="$1"
binary="$2"
dist="${3:-$root/dist}"

case "$platform" in
    linux-amd64 | linux-arm64 | darwin-amd64 | darwin-arm64) ;;
    *)
        echo "error: unknown platform '$platform' (linux-amd64, linux-arm64, darwin-amd64, darwin-arm64)" >&2
        exit 2
        ;;
esac
if [ ! -f "$binary" ]; then
    echo "error: $binary: no such file" >&2
    exit 2
fi

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
if [ -z "$version" ]; then
    echo "error: no version in $root/Cargo.toml" >&2
    exit 2
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$binary" "$stage/kubectl-checkpoint"
install -m 0644 "$root/LICENSE" "$stage/LICENSE"

mkdir -p "$dist"
out="$dist/kubectl-checkpoint-v$version-$platform.tar.gz"
tar -czf "$out" -C "$stage" --owner=0 --group=0 kubectl-checkpoint LICENSE
echo "$out"

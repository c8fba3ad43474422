#!/usr/bin/env bash
# Builds the release binary of one platform with the `dist` profile and packs its tarball.
#
#   scripts/build-release.sh OS-ARCH [DIST_DIR]
#
# OS-ARCH is one of linux-amd64, linux-arm64, darwin-amd64, darwin-arm64 (krew's os/arch names).
# Runs `cargo build --profile dist --locked --target TRIPLE` (Cargo.toml's `dist` profile: no
# debug info, stripped, fat LTO, one codegen unit: the binary users download), then
# scripts/package-release.sh with target/TRIPLE/dist/kubectl-checkpoint (CARGO_TARGET_DIR is
# honoured). Prints the tarball's path. Then run scripts/release-manifest.sh.
#
# Linux binaries are static glibc (the gnu target with `-C target-feature=+crt-static`, given
# through CARGO_TARGET_<TRIPLE>_RUSTFLAGS, so build scripts and proc macros, which run here,
# stay dynamic): no program interpreter, no shared library, so the same file runs on any Linux
# and in the helper pod's busybox image as the node agent. package-release.sh refuses a Linux
# binary that names a program interpreter. docs/releasing.md says what static glibc gives up
# (NSS modules) and why the binary does not need them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
    echo "usage: $0 OS-ARCH [DIST_DIR]" >&2
    exit 2
fi
platform="$1"
dist="${2:-$root/dist}"

case "$platform" in
    linux-amd64) triple=x86_64-unknown-linux-gnu ;;
    linux-arm64) triple=aarch64-unknown-linux-gnu ;;
    darwin-amd64) triple=x86_64-apple-darwin ;;
    darwin-arm64) triple=aarch64-apple-darwin ;;
    *)
        echo "error: unknown platform '$platform' (linux-amd64, linux-arm64, darwin-amd64, darwin-arm64)" >&2
        exit 2
        ;;
esac

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$triple" in
    *-linux-gnu)
        # CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS and the like: only what runs on the
        # target is linked statically.
        flags_var="CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
        export "$flags_var=${!flags_var:-} -C target-feature=+crt-static"
        ;;
esac
(cd "$root" && cargo build --profile dist --locked --target "$triple" >&2)
"$root/scripts/package-release.sh" "$platform" "$target_dir/$triple/dist/kubectl-checkpoint" "$dist"

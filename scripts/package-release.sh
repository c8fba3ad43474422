#!/usr/bin/env bash
# Packs one built kubectl-checkpoint binary into the release tarball krew downloads.
#
#   scripts/package-release.sh OS-ARCH BINARY [DIST_DIR]
#
# OS-ARCH is one of linux-amd64, linux-arm64, darwin-amd64, darwin-arm64 (krew's os/arch names);
# BINARY is the built executable, e.g. target/x86_64-unknown-linux-gnu/dist/kubectl-checkpoint
# (scripts/build-release.sh builds it with the `dist` profile and calls this script).
# Writes DIST_DIR/kubectl-checkpoint-vVERSION-OS-ARCH.tar.gz (DIST_DIR defaults to dist/) holding
# `kubectl-checkpoint` and `LICENSE` at its top level, the layout plugin.yaml's `files` expects.
# The version comes from Cargo.toml. Then run scripts/release-manifest.sh.
#
# BINARY must be an executable of OS-ARCH: its header is read (ELF: 64-bit, little-endian,
# x86-64 or AArch64; Mach-O: 64-bit, x86-64 or arm64) and anything else is refused, so that a
# tarball never carries another platform's binary under its name. A Linux binary must also be
# static: one whose program headers name an interpreter (PT_INTERP, a dynamic loader such as
# /lib64/ld-linux-x86-64.so.2) is refused, since the krew archive and the node agent must run
# on any Linux, in images without a libc (scripts/build-release.sh builds static glibc).
#
# The tarball is reproducible: the same BINARY and LICENSE give the same bytes, whenever and
# wherever it is packed. Members are sorted by name, owned by 0:0 with fixed modes, and dated
# SOURCE_DATE_EPOCH (default: the time of the last commit; 0 outside a git checkout); gzip is run
# with -n (no name, no time in its header).
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

# The first 20 bytes of BINARY as hex, two digits per byte.
head_hex="$(od -An -v -tx1 -N20 "$binary" | tr -d ' \n')"
byte() { echo "${head_hex:$(($1 * 2)):2}"; }
case "$platform" in
    linux-*)
        # ELF: magic, EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian), e_machine at byte 18.
        want_machine="$([ "$platform" = linux-amd64 ] && echo 3e00 || echo b700)"
        if [ "${head_hex:0:8}" != 7f454c46 ]; then
            found="not an ELF executable"
        elif [ "$(byte 4)" != 02 ] || [ "$(byte 5)" != 01 ]; then
            found="an ELF file that is not 64-bit little-endian"
        elif [ "$(byte 18)$(byte 19)" != "$want_machine" ]; then
            case "$(byte 18)$(byte 19)" in
                3e00) found="an x86-64 (amd64) ELF executable" ;;
                b700) found="an AArch64 (arm64) ELF executable" ;;
                *) found="an ELF executable for machine 0x$(byte 19)$(byte 18)" ;;
            esac
        else
            found=""
        fi
        ;;
    darwin-*)
        # Mach-O 64: magic 0xfeedfacf (little-endian on disk), then the CPU type.
        want_cpu="$([ "$platform" = darwin-amd64 ] && echo 07000001 || echo 0c000001)"
        if [ "${head_hex:0:8}" = cafebabe ]; then
            found="a universal (fat) Mach-O: pack one binary per platform"
        elif [ "${head_hex:0:8}" != cffaedfe ]; then
            found="not a 64-bit Mach-O executable"
        elif [ "${head_hex:8:8}" != "$want_cpu" ]; then
            case "${head_hex:8:8}" in
                07000001) found="an x86-64 (amd64) Mach-O executable" ;;
                0c000001) found="an arm64 Mach-O executable" ;;
                *) found="a Mach-O executable for CPU type ${head_hex:8:8}" ;;
            esac
        else
            found=""
        fi
        ;;
esac
if [ -n "$found" ]; then
    echo "error: $binary is $found, not a $platform binary" >&2
    exit 2
fi

# A little-endian unsigned integer of $2 bytes at offset $1 of BINARY.
le_uint() {
    local hex value=0 i
    hex="$(od -An -v -tx1 -j "$1" -N "$2" "$binary" | tr -d ' \n')"
    for ((i = ${#hex} - 2; i >= 0; i -= 2)); do
        value=$((value * 256 + 16#${hex:i:2}))
    done
    echo "$value"
}
case "$platform" in
    linux-*)
        # ELF64: e_phoff at 32 (8 bytes), e_phentsize at 54 and e_phnum at 56 (2 bytes each);
        # p_type is each program header's first 4 bytes, PT_INTERP is 3.
        phoff="$(le_uint 32 8)"
        phentsize="$(le_uint 54 2)"
        phnum="$(le_uint 56 2)"
        for ((i = 0; i < phnum; i++)); do
            if [ "$(le_uint $((phoff + i * phentsize)) 4)" = 3 ]; then
                echo "error: $binary is dynamically linked (it names a program interpreter): build it static, as scripts/build-release.sh does" >&2
                exit 2
            fi
        done
        ;;
esac

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
if [ -z "$version" ]; then
    echo "error: no version in $root/Cargo.toml" >&2
    exit 2
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$binary" "$stage/kubectl-checkpoint"
install -m 0644 "$root/LICENSE" "$stage/LICENSE"

epoch="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
case "$epoch" in
    '' | *[!0-9]*)
        echo "error: SOURCE_DATE_EPOCH must be seconds since 1970 (got '$epoch')" >&2
        exit 2
        ;;
esac

mkdir -p "$dist"
out="$dist/kubectl-checkpoint-v$version-$platform.tar.gz"
# Named members keep the order they are given in (--sort orders what tar finds in directories).
members="$(printf '%s\n' kubectl-checkpoint LICENSE | LC_ALL=C sort)"
# shellcheck disable=SC2086 # the two names hold no spaces
tar -cf - -C "$stage" --format=gnu --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$epoch" $members | gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"

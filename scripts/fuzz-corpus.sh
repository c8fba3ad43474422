#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from tests/fixtures: small files
# only, so that mutations stay fast.
#   criu_image        every CRIU image of the fixture directories up to 64 KiB (not raw pages)
#   tar_walker        small tars: rootfs-diff.tar of the CRI-O fixture, tars of a few images,
#                     and their gzip and zstd forms
#   archive_open      a selector byte (0 plain, 1 gzip, 2 zstd, 3 as is) + the tar of the smallest
#                     fixture checkpoints; the Podman gzip and zstd archives as is
#   checkpoint_model  plain tars of the smallest fixture checkpoints (pages included)
#   checkpoint_views  the minimised corpus kept in fuzz/seeds/checkpoint_views/ (its inputs are
#                     edit lists for the generated checkpoint, not files of the fixtures)
# Usage: scripts/fuzz-corpus.sh   (idempotent; needs tar, gzip, zstd)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$here/tests/fixtures"
corpus="$here/fuzz/corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$corpus"/{criu_image,tar_walker,archive_open,checkpoint_model,checkpoint_views}

seed() { # target, file: copies under its sha256 name (deduplicated)
    local sum
    sum=$(sha256sum "$2" | cut -c1-40)
    cp "$2" "$corpus/$1/$sum"
}

# CRIU images up to 64 KiB.
find "$fixtures"/criu-4.2 "$fixtures"/criu-4.1 -type f -size -65k \
    ! -name 'pages-*.img' ! -name '*.log' | while read -r img; do
    seed criu_image "$img"
done

# Tars for the walker.
crio=$(ls "$fixtures"/crio/*.tar | head -1)
tar -xf "$crio" --force-local -C "$work" rootfs-diff.tar
seed tar_walker "$work/rootfs-diff.tar"
tar -cf "$work/images.tar" -C "$fixtures/criu-4.2/py" pstree.img core-24390.img fdinfo-2.img
tar --format=posix -cf "$work/pax.tar" -C "$fixtures/criu-4.2/py" inventory.img files.img
for t in images pax; do
    seed tar_walker "$work/$t.tar"
    gzip -1 -c "$work/$t.tar" > "$work/$t.tar.gz" && seed tar_walker "$work/$t.tar.gz"
    zstd -q -1 -c "$work/$t.tar" > "$work/$t.tar.zst" && seed tar_walker "$work/$t.tar.zst"
done

# Whole checkpoints: the smallest fixture directories as archives.
for dir in diff-1 secrets model; do
    src="$fixtures/criu-4.2/$dir"
    [ -d "$src" ] || continue
    mkdir -p "$work/$dir/checkpoint"
    cp "$src"/* "$work/$dir/checkpoint/"
    tar -cf "$work/$dir.tar" -C "$work/$dir" checkpoint
    seed checkpoint_model "$work/$dir.tar"
    for mode in 0 1 2; do
        { printf "\\x0$mode"; cat "$work/$dir.tar"; } > "$work/$dir.$mode"
        seed archive_open "$work/$dir.$mode"
    done
done
for archive in "$fixtures"/podman/ckpt-image-gzip.tar.gz "$fixtures"/podman/ckpt-rootfs-zstd.tar; do
    { printf '\x03'; cat "$archive"; } > "$work/podman"
    seed archive_open "$work/podman"
done
# What earlier runs found, minimised: CI starts from there.
cp "$here"/fuzz/seeds/checkpoint_views/* "$corpus/checkpoint_views/"
for t in criu_image tar_walker archive_open checkpoint_model checkpoint_views; do
    printf '%-18s %4d files %8d KiB\n' "$t" "$(ls "$corpus/$t" | wc -l)" "$(du -sk "$corpus/$t" | cut -f1)"
done

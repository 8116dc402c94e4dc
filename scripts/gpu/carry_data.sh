#!/usr/bin/env bash
# Copies the part of ../shared/data the GPU check's tests read into ./gpu-data (git-ignored), for a GPU
# machine that only receives what is carried to it (64 MiB in all, with the kit's 13 MiB archive):
# benchmarks/ (Set5, Set14: 20 MiB) and weights/ (LPIPS, NIQE: 6 MiB). interop/ (27 MiB) and train/
# (59 MiB) stay behind; the tests that need them skip or fail there and run here. Then:
#   bash scripts/gpu/run.sh RESULTS --kit gpu-kit.tar.xz --data gpu-data
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
SRC="${SRLAB_DATA:-$REPO/../shared/data}"
OUT="${1:-$REPO/gpu-data}"
[ -d "$SRC/benchmarks" ] || { echo "carry_data: no benchmarks in $SRC (set SRLAB_DATA)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"
cp -r "$SRC/benchmarks" "$SRC/weights" "$OUT/"
[ -f "$SRC/README.md" ] && cp "$SRC/README.md" "$OUT/"
echo "carry_data: $OUT: $(du -sh "$OUT" | cut -f1)"

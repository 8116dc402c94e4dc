#!/usr/bin/env bash
# Issue 29's training check of the nine zoo architectures: each trains 300 iterations x4 on the 291 images
# (T91 + BSD200, configs/span_x4.yaml's data and schedule) at a small size (batch 8, LR patch 16 or the
# window multiple, EMA off, no final evaluation), is checked for non-finite steps (the trainer stops on
# them), and its best.pt is exported with `srlab export --format pth`. Prints one line per architecture:
# wall time, Set5 x4 validation PSNR of the last validation, parameters.
#   bash scripts/zoo_train_check.sh [build/bin/srlab] [RUNS_DIR]
#   ZOO_ARCHS="hat drct" bash scripts/zoo_train_check.sh      # a subset
set -euo pipefail
cd "$(dirname "$0")/.."
SRLAB="${1:-build/bin/srlab}"
RUNS="${2:-${TMPDIR:-/tmp}/srlab_zoo_train_check}"
mkdir -p "$RUNS"
declare -A MODEL=(
  [dat]="{type: dat, embed_dim: 32, split_size: [4, 8], depth: [2, 2], num_heads: [2, 2], expansion_factor: 2, upsampler: pixelshuffledirect, img_size: 16}"
  [omnisr]="{type: omnisr, num_feat: 32, block_num: 1, res_num: 2, window_size: 8}"
  [hat]="{type: hat, embed_dim: 24, depths: [2], num_heads: [2], window_size: 8, img_size: 16, mlp_ratio: 2, compress_ratio: 3, squeeze_factor: 4}"
  [drct]="{type: drct, embed_dim: 24, depths: [2], num_heads: [2], window_size: 8, img_size: 16, mlp_ratio: 2, gc: 8}"
  [atd]="{type: atd, embed_dim: 24, depths: [2], num_heads: [2], window_size: 8, num_tokens: 16, reducted_dim: 4, category_size: 64, convffn_kernel_size: 5, upsampler: pixelshuffledirect}"
  [rgt]="{type: rgt, embed_dim: 24, depth: [2], num_heads: [2], split_size: [4, 8], img_size: 16, mlp_ratio: 2}"
  [mosr]="{type: mosr, n_block: 4, dim: 32}"
  [rcan]="{type: rcan, n_resgroups: 2, n_resblocks: 4, n_feats: 32, reduction: 8}"
  [realcugan]="{type: realcugan}"
)
status=0
for arch in ${ZOO_ARCHS:-${!MODEL[@]}}; do
  scale=4; [ "$arch" = realcugan ] && scale=2  # UpCunet2x (the x4 variant is far larger)
  val="\${data}/benchmarks/Set5/x$scale"
  t0=$(date +%s)
  if ! "$SRLAB" train --config configs/span_x4.yaml --runs-dir "$RUNS" --no-eval --set "name=zoo_$arch" \
        --set "scale=$scale" --set "model=${MODEL[$arch]}" --set train.iters=300 --set train.ema_decay=0 \
        --set data.train.batch_size=8 --set data.train.lr_patch=16 --set "data.val.dir=$val" --set data.val.every=300 \
        --set train.save_every=300 --set train.log_every=100 > "$RUNS/zoo_$arch.log" 2>&1; then
    echo "zoo_train_check: $arch FAILED (see $RUNS/zoo_$arch.log)"; tail -3 "$RUNS/zoo_$arch.log"; status=1; continue
  fi
  t1=$(date +%s)
  psnr=$(grep -o 'val [^|]* dB' "$RUNS/zoo_$arch.log" | tail -1)
  params=$(grep -o 'generator [a-z_]* x[0-9]*: [0-9]* parameters' "$RUNS/zoo_$arch.log" | head -1)
  "$SRLAB" export -c "$RUNS/zoo_$arch/checkpoints/best.pt" -o "$RUNS/zoo_$arch.pth" --overwrite > /dev/null 2>&1 &&
    exported=yes || { exported=FAILED; status=1; }
  echo "zoo_train_check: $arch x$scale: 300 iterations in $((t1 - t0)) s, $psnr, $params, export pth $exported"
done
exit $status

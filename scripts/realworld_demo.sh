#!/usr/bin/env bash
# The README's "your own photos" figure: a Set14 test image (default img_012, peppers, 512x512) made into a
# 179x179 web-style JPEG thumbnail (ImageMagick: resize, quality 40), upscaled x4 three ways -- bicubic
# (ImageMagick's Catmull-Rom filter: cubic a = -0.5, MATLAB's kernel), the quickstart model (clean bicubic
# LR) and a degradation-trained model (configs/realworld_x4.yaml) -- and one 128x128 crop of each shown
# side by side at 2x (nearest neighbour): bicubic | quickstart | degradation-trained.
#   bash scripts/realworld_demo.sh QUICKSTART.pt DEGRADATION_TRAINED.pt [OUT_DIR] [HR_IMAGE] [CROP]
# CROP is WxH+X+Y in output (x4) pixels, default 128x128+300+250. Needs ImageMagick (apt install imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,8p' "$0"; exit 2; }
QUICK="$1"; REAL="$2"; OUT="${3:-experiments/realworld_jpeg}"; HR="${4:-../shared/data/benchmarks/Set14/x4/HR/img_012.png}"
CROP="${5:-128x128+300+250}"
command -v convert >/dev/null && convert -version 2>/dev/null | grep ImageMagick >/dev/null ||
  { echo "realworld_demo: needs ImageMagick (apt install imagemagick)" >&2; exit 1; }
mkdir -p "$OUT"
convert "$HR" -resize 179x179 -quality 40 "$OUT/thumb.jpg"
convert "$OUT/thumb.jpg" -filter Catrom -resize 400% "$OUT/bicubic.png"
build/bin/srlab upscale -m "$QUICK" -i "$OUT/thumb.jpg" -o "$OUT/quickstart.png" --overwrite > /dev/null
build/bin/srlab upscale -m "$REAL" -i "$OUT/thumb.jpg" -o "$OUT/degradation_trained.png" --overwrite > /dev/null
crops=()
for m in bicubic quickstart degradation_trained; do
  convert "$OUT/$m.png" -crop "$CROP" +repage -filter point -resize 200% "$OUT/crop_$m.png"
  crops+=("$OUT/crop_$m.png")
done
convert "${crops[@]}" -bordercolor white -border 4 +append "$OUT/compare.png"
rm -f "${crops[@]}" "$OUT/bicubic.png" "$OUT/quickstart.png" "$OUT/degradation_trained.png"
echo "realworld_demo: wrote $OUT/compare.png (bicubic | quickstart | degradation-trained) and $OUT/thumb.jpg"

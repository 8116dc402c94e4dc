#!/usr/bin/env bash
# Screenshots of a report.html in headless Chromium at 1280x800 (the flags of the CI browser test):
#   bash scripts/report_screenshots.sh experiments/runs/<run>/report.html [OUT_DIR]
# writes OUT_DIR/report_top.png (tables and plot), report_slider_30.png and report_slider_70.png (the
# first before/after slider with the divider at 30 % / 70 %). OUT_DIR defaults to the report's folder.
set -euo pipefail
html=$(realpath "$1")
out=${2:-$(dirname "$html")}
mkdir -p "$out"
browser=${SRLAB_CHROMIUM:-chromium}
shot() {  # shot <file> <fragment>
  local profile
  profile=$(mktemp -d)
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --force-device-scale-factor=1 --window-size=1280,800 --virtual-time-budget=5000 \
    --user-data-dir="$profile" --screenshot="$out/$1" "file://$html#$2" >/dev/null 2>&1
  rm -rf "$profile"
  echo "wrote $out/$1"
}
shot report_top.png "slider=50"
shot report_slider_30.png "slider=30&view=slider"
shot report_slider_70.png "slider=70&view=slider"

#!/usr/bin/env bash
# Builds scripts/gpu/placeholder_check.cpp against the kit with EVERY placeholder in front of any real
# library (DT_RPATH: kit, then kit/placeholders) and runs it: the kit's OpenCV, HDF5, libzip and ONNX load
# with GDAL, GDCM, OpenEXR, OpenGL, LAPACK/BLAS, libcurl and libcrypto replaced, and SRLab's uses of them work.
#   bash scripts/gpu/placeholder_check.sh [KIT_DIR=gpu-kit]     (scripts/gpu/check_kit.sh runs it)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
KIT="$(cd "${1:-$REPO/gpu-kit}" && pwd -P)"
MA="$(cat "$KIT/MULTIARCH")"
L="$KIT/usr/lib/$MA" I="$KIT/usr/include"
OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT
rp="$L:$L/hdf5/serial:$L/placeholders"
g++ -std=c++17 -O1 -o "$OUT/placeholder_check" "$REPO/scripts/gpu/placeholder_check.cpp" \
  -I"$I" -I"$I/opencv4" -I"$I/hdf5/serial" -DONNX_ML=1 -DONNX_NAMESPACE=onnx \
  -L"$L" -L"$L/hdf5/serial" -lopencv_imgcodecs -lopencv_imgproc -lopencv_core -lhdf5_cpp -lhdf5 -lzip \
  -lonnx_proto -lprotobuf -Wl,--disable-new-dtags -Wl,-rpath,"$rp" -Wl,-rpath-link,"$rp"
echo "placeholder_check: placeholders loaded: $(ldd "$OUT/placeholder_check" | awk '/\/placeholders\// { printf "%s ", $1 }')"
echo "placeholder_check: loaded from outside the kit: $(ldd "$OUT/placeholder_check" | awk '/=>/ && $3 !~ /gpu-kit/ { printf "%s ", $1 }')"
"$OUT/placeholder_check" "$OUT"

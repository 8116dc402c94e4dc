#!/usr/bin/env bash
# Installs SRLab's build dependencies from Debian packages (only those missing), builds SRLab in
# Release mode into ./build, and installs ONNX Runtime (npm package onnxruntime-node) into
# tools/onnxruntime when npm is available. Idempotent: a second run only rebuilds what changed.
#   bash scripts/setup.sh            # install + build
#   BUILD_DIR=out bash scripts/setup.sh
#   SRLAB_CMAKE_ARGS="-DCMAKE_PREFIX_PATH=/opt/libtorch" bash scripts/setup.sh   # e.g. a CUDA LibTorch
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"

PACKAGES=(build-essential cmake git pkg-config libtorch-dev libopencv-dev libyaml-cpp-dev
          libboost-program-options-dev libboost-dev libfmt-dev nlohmann-json3-dev libgtest-dev
          libbenchmark-dev libhdf5-dev libonnx-dev libprotobuf-dev protobuf-compiler gnuplot-nox ccache
          chromium libpng-dev libgloo-dev python3-torch libopenblas0-openmp)
# chromium: the report browser test; libpng-dev: gray+alpha PNG reading; libgloo-dev: c10d Gloo headers
# (distributed training); python3-torch: the .pth export round-trip test (torch.load weights_only=True);
# protobuf-compiler: protoc for the TensorBoard event protobufs (cli/tensorboard/*.proto);
# libopenblas0-openmp: Debian's LibTorch calls the system BLAS (libblas.so.3), which is the unoptimised
# reference BLAS unless an optimised one is installed; OpenBLAS (OpenMP build, sharing LibTorch's thread
# pool) makes every matmul 13-25x faster (SwinIR's attention and MLPs, the tensor degradations' resizes and DCT).
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js + npm run ONNX Runtime (below); Debian's packages unless a node/npm is already installed
# (e.g. NodeSource's nodejs, which bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ccache makes rebuilds (a second checkout, CI after a session) take seconds per unchanged file.
CCACHE_ARGS=""
if command -v ccache >/dev/null; then
  CCACHE_ARGS="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
fi
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${CCACHE_ARGS} ${SRLAB_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/bin/srlab"

# ONNX Runtime, for `srlab export --verify` and the test_onnx_runtime tests (which fail without it).
# Debian has no package; npm's onnxruntime-node ships libonnxruntime (CPU) with its Node.js binding.
# --ignore-scripts skips its postinstall, which only downloads optional CUDA binaries.
ORT_VERSION=1.20.1
ORT_DIR=tools/onnxruntime
ort_installed() {
  [ "$(node -p "require('./$ORT_DIR/node_modules/onnxruntime-node/package.json').version" 2>/dev/null)" = "$ORT_VERSION" ]
}
if command -v node >/dev/null && ort_installed; then
  :
elif command -v npm >/dev/null && command -v node >/dev/null; then
  echo "setup: installing onnxruntime-node@$ORT_VERSION into $ORT_DIR"
  if npm install --ignore-scripts --no-audit --no-fund --prefix "$ORT_DIR" "onnxruntime-node@$ORT_VERSION" >/dev/null &&
     node -e "require('./$ORT_DIR/node_modules/onnxruntime-node')"; then
    echo "setup: ONNX Runtime $ORT_VERSION installed in $ORT_DIR"
  else
    echo "setup: warning: installing onnxruntime-node failed; srlab export --verify will skip ONNX Runtime" \
         "and the test_onnx_runtime tests will fail" >&2
  fi
else
  echo "setup: warning: node/npm not found; ONNX Runtime not installed (install Node.js >= 18 with npm and" \
       "re-run; srlab export --verify skips it and the test_onnx_runtime tests fail without it)" >&2
fi

#!/usr/bin/env bash
# Installs SRLab's dependencies from Debian packages (only those missing; Debian 12 and 13) and builds
# SRLab in Release mode into ./build. Two purposes:
#   bash scripts/setup.sh           # the srlab binary: its packages, then the `srlab` target only
#                                   # (the README's main command: first trained model soonest)
#   bash scripts/setup.sh --tests   # everything: + test-only packages (GoogleTest, Google Benchmark,
#                                   # chromium, python3-torch, Node.js + onnxruntime-node where there is
#                                   # no libonnxruntime-dev), every target
#                                   # (the README's test command and CI)
#   BUILD_DIR=out bash scripts/setup.sh
#   SRLAB_CMAKE_ARGS="-DCMAKE_PREFIX_PATH=/opt/libtorch" bash scripts/setup.sh   # e.g. a CUDA LibTorch
#   SRLAB_TORCH_PACKAGE=libtorch-cuda-dev bash scripts/setup.sh --tests   # Debian 13 contrib's CUDA LibTorch
#                                   # (scripts/check_cuda_build.sh; the CPU python3-torch is then left out)
# Idempotent: a second run only rebuilds what changed (ccache makes a fresh checkout's build fast too).
# Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
MODE=main
for arg in "$@"; do
  case "$arg" in
    --tests) MODE=tests ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (use --tests or nothing)" >&2; exit 2 ;;
  esac
done
t_start=$(date +%s)

# What the srlab binary needs.
# libgloo-dev: c10d Gloo headers (distributed training); libpng-dev: gray+alpha PNG reading; libzip-dev:
# torch.save archives with CRC-checked records; protobuf-compiler: protoc for the TensorBoard event
# protobufs (cli/tensorboard/*.proto); libopenblas0-openmp: Debian's LibTorch calls the system BLAS
# (libblas.so.3), the unoptimised reference BLAS unless an optimised one is installed; OpenBLAS (OpenMP
# build, sharing LibTorch's thread pool) makes every matmul 13-25x faster.
TORCH_PACKAGE="${SRLAB_TORCH_PACKAGE:-libtorch-dev}"
# Debian's CUDA LibTorch depends on the CUDA build of Gloo, whose -dev package conflicts with libgloo-dev.
GLOO_PACKAGE=libgloo-dev
[ "$TORCH_PACKAGE" = libtorch-cuda-dev ] && GLOO_PACKAGE=libgloo-cuda-dev
PACKAGES=(build-essential cmake ccache git pkg-config "$TORCH_PACKAGE" libopencv-dev libyaml-cpp-dev
          libboost-program-options-dev libboost-dev libfmt-dev nlohmann-json3-dev libhdf5-dev libonnx-dev
          libprotobuf-dev protobuf-compiler libpng-dev "$GLOO_PACKAGE" libzip-dev gnuplot-nox libopenblas0-openmp)
# The CUDA LibTorch's CMake config (Caffe2's cuda.cmake) looks for the CUDA toolkit (nvcc, headers; non-free);
# its c10d NCCL header (ProcessGroupNCCL.hpp, used by train/distributed.cpp) includes nccl.h (libnccl-dev).
[ "$TORCH_PACKAGE" = libtorch-cuda-dev ] && PACKAGES+=(nvidia-cuda-toolkit libnccl-dev)
# What only the tests and benchmarks use.
# chromium: the report browser test; python3-torch: the .pth export round-trip test (torch.load
# weights_only=True); Node.js + npm: ONNX Runtime (onnxruntime-node) for the export parity tests.
TEST_PACKAGES=(libgtest-dev libbenchmark-dev chromium)
# python3-torch pulls in the CPU LibTorch, which conflicts with libtorch-cuda-dev.
[ "$TORCH_PACKAGE" = libtorch-dev ] && TEST_PACKAGES+=(python3-torch)

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
# ONNX Runtime in-process where Debian packages it (Debian 13: libonnxruntime-dev, linked by CMake when
# found): `srlab upscale/eval MODEL.onnx` and `export --verify` then need no Node.js. Elsewhere (Debian 12)
# the tests use Node.js + npm's onnxruntime-node (below). Decided by what apt offers, not by the release.
# grep without -q: under pipefail, grep -q quitting early can kill apt-cache with SIGPIPE (status 141),
# which made a fresh Debian 13 system take the Node.js route.
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; }
if ! has_candidate libonnxruntime-dev && ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then $SUDO apt-get update -qq; fi  # a fresh system: no package lists yet
fi
ORT_IN_PROCESS=0
if has_candidate libonnxruntime-dev; then
  ORT_IN_PROCESS=1
  PACKAGES+=(libonnxruntime-dev)
fi

missing=()
wanted=("${PACKAGES[@]}")
[ "$MODE" = tests ] && wanted+=("${TEST_PACKAGES[@]}")
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
# Node.js + npm: Debian's packages unless a node/npm is already installed (e.g. NodeSource's nodejs,
# which bundles npm and conflicts with Debian's npm package).
if [ "$MODE" = tests ] && [ "$ORT_IN_PROCESS" = 0 ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
t_apt=$(date +%s)

# ccache makes rebuilds (a second checkout, CI after a session) take seconds per unchanged file.
CCACHE_ARGS=()
if command -v ccache >/dev/null; then
  CCACHE_ARGS=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
fi
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${CCACHE_ARGS[@]}" ${SRLAB_CMAKE_ARGS:-} >/dev/null
if [ "$MODE" = tests ]; then
  cmake --build "$BUILD_DIR" -j"$(nproc)"
else
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target srlab
fi
t_build=$(date +%s)
echo "setup: built $BUILD_DIR/bin/srlab$([ "$MODE" = tests ] && echo ", the tests and the benchmarks")"

# ONNX Runtime for the test_onnx_runtime tests and `srlab export --verify` on systems without an
# in-process ONNX Runtime (Debian 12). Debian 12 has no package; npm's onnxruntime-node ships
# libonnxruntime (CPU) with its Node.js binding. --ignore-scripts skips its postinstall, which only
# downloads optional CUDA binaries.
ORT_VERSION=1.20.1
ORT_DIR=tools/onnxruntime
ort_installed() {
  [ "$(node -p "require('./$ORT_DIR/node_modules/onnxruntime-node/package.json').version" 2>/dev/null)" = "$ORT_VERSION" ]
}
if [ "$MODE" = tests ] && [ "$ORT_IN_PROCESS" = 1 ]; then
  echo "setup: ONNX Runtime in-process (libonnxruntime-dev); no Node.js needed"
elif [ "$MODE" = tests ]; then
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
fi
t_end=$(date +%s)
summary="setup: done in $((t_end - t_start)) s (packages $((t_apt - t_start)) s, configure + build $((t_build - t_apt)) s"
if [ "$MODE" = tests ]; then
  echo "$summary, ONNX Runtime $((t_end - t_build)) s)"
else
  echo "$summary); the tests: bash scripts/setup.sh --tests"
fi

#!/usr/bin/env bash
# Installs SRLab's build dependencies from Debian packages (only those missing) and builds SRLab in
# Release mode into ./build. Idempotent: a second run only rebuilds what changed.
#   bash scripts/setup.sh            # install + build
#   BUILD_DIR=out bash scripts/setup.sh
#   SRLAB_CMAKE_ARGS="-DCMAKE_PREFIX_PATH=/opt/libtorch" bash scripts/setup.sh   # e.g. a CUDA LibTorch
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"

PACKAGES=(build-essential cmake git pkg-config libtorch-dev libopencv-dev libyaml-cpp-dev
          libboost-program-options-dev libboost-dev libfmt-dev nlohmann-json3-dev libgtest-dev
          libbenchmark-dev libhdf5-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
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

# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${SRLAB_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/bin/srlab"

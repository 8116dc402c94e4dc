#!/usr/bin/env bash
# Compiles and links every SRLab target (library, CLI, tests, benchmarks) against Debian 13's CUDA LibTorch
# (contrib: libtorch-cuda-dev 2.6, CUDA 12) on a machine without a GPU, and prints a one-line verdict:
#   sudo bash scripts/check_cuda_build.sh
#   sudo bash scripts/check_cuda_build.sh --prepare   # only the chroot and the packages (downloads), no build
#   sudo bash scripts/check_cuda_build.sh --no-tests  # build only, no CPU test run
# This proves that the CUDA-only code (NCCL data-parallel, CUDA autocast, torch::kCUDA paths, device-side
# degradations, the GPU speed settings) compiles against a CUDA build; it does not run anything on a GPU.
#
# How (in a Debian 13 chroot of its own, default /var/tmp/srlab-debian13-cuda: 6.1 GB with the packages, measured,
# plus the build folder):
#  - the chroot is a copy of scripts/check_debian13.sh's one when that exists (no second download), else
#    check_debian13.sh creates it; mounts and the environment are check_debian13.sh's (`--` mode);
#  - nvidia-cudnn, which libtorch-cuda-2.6 depends on, is a downloader package whose installation fetches
#    cuDNN from NVIDIA (no internet here). A local placeholder package of that name (epoch 99, held) stands
#    in for it, so apt installs libtorch-cuda-dev and its CUDA runtime libraries from Debian's mirror;
#  - libcudnn.so.9 is therefore absent: binaries are linked with -Wl,--allow-shlib-undefined (the
#    unresolved symbols are libtorch_cuda.so's own, resolved at run time on a machine with cuDNN). To run
#    the CPU tests of this build (CUDA LibTorch without a GPU runs on the CPU), scripts/import_placeholder.sh
#    makes a placeholder libcudnn.so.9 defining the functions libtorch_cuda.so imports (it is linked with
#    BIND_NOW, so they must resolve at load time); each aborts if called, and ctest runs with it on
#    LD_LIBRARY_PATH (--no-tests skips this);
#  - scripts/setup.sh --tests with SRLAB_TORCH_PACKAGE=libtorch-cuda-dev (python3-torch, which would bring
#    back the CPU LibTorch, is left out) builds every target into BUILD_DIR (default build-cuda).
# Environment: SRLAB_CUDA_ROOT, BUILD_DIR, SRLAB_NICE (default 15), MAKEFLAGS.
set -euo pipefail
{
REPO="$(cd "$(dirname "$0")/.." && pwd -P)"
ROOT="${SRLAB_CUDA_ROOT:-/var/tmp/srlab-debian13-cuda}"
BASE=/var/tmp/srlab-debian13
BUILD_DIR="${BUILD_DIR:-build-cuda}"
log() { echo "check_cuda_build: $*"; }
die() { echo "check_cuda_build: error: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (chroot, mounts, apt)"
t0=$SECONDS
PREPARE=0 RUN_TESTS=1
[ "${1:-}" = --prepare ] && PREPARE=1
[ "${1:-}" = --no-tests ] && RUN_TESTS=0

if [ ! -f "$ROOT/etc/srlab-debian13" ] && [ -f "$BASE/etc/srlab-debian13" ] && [ "$ROOT" != "$BASE" ]; then
  log "copying the Debian 13 chroot $BASE to $ROOT (once)"
  rm -rf --one-file-system "$ROOT.partial"
  cp -ax "$BASE" "$ROOT.partial"
  rm -rf --one-file-system "$ROOT.partial/var/cache/srlab-ccache"
  mv "$ROOT.partial" "$ROOT"
fi

# In the chroot (check_debian13.sh's `--` mode: the checkout and ../shared mounted at their paths).
# shellcheck disable=SC2016
INNER='set -euo pipefail
if ! dpkg-query -W -f="\${Version}" nvidia-cudnn 2>/dev/null | grep srlab >/dev/null; then
  d=$(mktemp -d); mkdir -p "$d/DEBIAN"
  printf "%s\n" "Package: nvidia-cudnn" "Version: 99:9-srlab.placeholder" "Architecture: amd64" \
    "Maintainer: SRLab check_cuda_build.sh <root@localhost>" "Section: contrib/libs" "Priority: optional" \
    "Description: placeholder for the nvidia-cudnn downloader (SRLab CUDA build check)" \
    " The real package downloads cuDNN from NVIDIA when installed. This one provides no library:" \
    " it only lets apt install libtorch-cuda-dev on a machine without internet access." > "$d/DEBIAN/control"
  dpkg-deb --build "$d" /tmp/nvidia-cudnn-placeholder.deb >/dev/null
  dpkg -i /tmp/nvidia-cudnn-placeholder.deb >/dev/null
  apt-mark hold nvidia-cudnn >/dev/null
  echo "check_cuda_build: installed the nvidia-cudnn placeholder"
fi
if ! dpkg-query -W -f="\${Status}" libtorch-cuda-dev 2>/dev/null | grep "install ok installed" >/dev/null; then
  apt-get update -qq
  t=$(date +%s)
  apt-get install -y -qq --no-install-recommends libtorch-cuda-dev >/dev/null
  echo "check_cuda_build: installed libtorch-cuda-dev $(dpkg-query -W -f="\${Version}" libtorch-cuda-dev) in $(( $(date +%s) - t )) s"
fi
[ "__PREPARE__" = 1 ] && exit 0
export SRLAB_TORCH_PACKAGE=libtorch-cuda-dev
# PRE_TEST: GoogleTest discovery lists the tests of a binary when ctest runs, not after linking (the binaries
# cannot start here without libcudnn.so.9).
export SRLAB_CMAKE_ARGS="-DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined -DCMAKE_SHARED_LINKER_FLAGS=-Wl,--allow-shlib-undefined -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST"
bash scripts/setup.sh --tests
[ "__RUN_TESTS__" = 1 ] || exit 0
bash scripts/import_placeholder.sh libcudnn.so.9 libtorch_cuda.so /var/tmp/srlab-cudnn-placeholder
LD_LIBRARY_PATH=/var/tmp/srlab-cudnn-placeholder ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 $CTEST_ARGS
'
INNER="${INNER/__PREPARE__/$PREPARE}"
INNER="${INNER/__RUN_TESTS__/$RUN_TESTS}"
set +e
SRLAB_DEBIAN13_ROOT="$ROOT" BUILD_DIR="$BUILD_DIR" bash "$REPO/scripts/check_debian13.sh" -- bash -c "$INNER" 2>&1 |
  tee "$ROOT/var/tmp/srlab-cuda-build.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$PREPARE" = 1 ]; then
  log "prepared $ROOT in $((SECONDS - t0)) s (exit $rc; $(du -shx "$ROOT" 2>/dev/null | cut -f1))"
  exit "$rc"
fi

# The executables the CMake files declare (tests/CMakeLists.txt's test_${lib} loop expanded; the optional ASan
# fuzz target left out).
expected_executables() {
  local libs
  libs=$(grep -o 'foreach(lib [^)]*)' "$REPO/tests/CMakeLists.txt" | head -n1 | sed 's/foreach(lib //; s/)//')
  { grep -ho 'add_executable([A-Za-z0-9_]*' "$REPO"/CMakeLists.txt "$REPO"/*/CMakeLists.txt "$REPO"/tests/CMakeLists.txt "$REPO"/tests/*/CMakeLists.txt 2>/dev/null |
      sed 's/add_executable(//' | grep -v -e '_asan$' -e '^test_$'
    for l in $libs; do [ -n "$(ls "$REPO/tests/$l"/*.cpp 2>/dev/null)" ] && echo "test_$l"; done; } | sort -u
}

# The verdict: which targets exist and link LibTorch's CUDA libraries.
targets=0 cuda_linked=0 missing=()
while read -r name; do
  f=$(find "$REPO/$BUILD_DIR" -type f -name "$name" -perm -u+x 2>/dev/null | head -n1)
  if [ -z "$f" ]; then missing+=("$name"); continue; fi
  targets=$((targets + 1))
  readelf -d "$f" 2>/dev/null | grep 'libtorch_cuda.so\|libc10_cuda.so' >/dev/null && cuda_linked=$((cuda_linked + 1))
done < <(expected_executables)
torch_version=$(chroot "$ROOT" dpkg-query -W -f='${Version}' libtorch-cuda-dev 2>/dev/null || echo none)
if [ "$rc" -eq 0 ] && [ "${#missing[@]}" -eq 0 ] && [ "$cuda_linked" -gt 0 ]; then
  tests="CPU tests not run (--no-tests)"
  if [ "$RUN_TESTS" = 1 ]; then
    tests="CPU tests with a placeholder libcudnn.so.9: $(grep -E 'tests passed, [0-9]+ tests failed out of' "$ROOT/var/tmp/srlab-cuda-build.log" | tail -n1)"
  fi
  echo "check_cuda_build: OK: $targets of $targets executables compiled and linked against CUDA LibTorch $torch_version" \
       "($cuda_linked link libtorch_cuda/libc10_cuda) in $((SECONDS - t0)) s; $tests"
else
  echo "check_cuda_build: FAILED (exit $rc): $targets executables built, missing: ${missing[*]:-none}," \
       "$cuda_linked linking libtorch_cuda; log: $ROOT/var/tmp/srlab-cuda-build.log"
  exit 1
fi
}

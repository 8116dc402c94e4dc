#!/usr/bin/env bash
# Proves the GPU kit without a GPU: in a clean Debian 12 system that has only the compiler, CMake and
# Debian's LibTorch (libtorch-dev, standing in for the GPU machine's PyTorch LibTorch), the kit alone
# (scripts/gpu/pack.sh's gpu-kit/) builds SRLab and passes the CPU tests, through the very script the GPU
# machine runs (scripts/gpu/run.sh --cpu). Ends with ctest's summary line.
#   sudo bash scripts/gpu/check_kit.sh          # packs the kit first if ./gpu-kit is missing
# The system is made once with mmdebstrap (default /var/tmp/srlab-kitcheck, ~1.5 GB; SRLAB_KIT_CHECK_ROOT)
# by scripts/check_debian13.sh's machinery (suite bookworm; the checkout and ../shared bind-mounted).
# Debian's LibTorch links OpenCV itself and so pulls in the runtime libraries the kit holds (OpenCV, HDF5,
# GDAL, ...; of the -dev packages only libprotobuf-dev): headers, CMake files and link-time libraries all
# come from the kit and the binaries load the kit's copies first (DT_RPATH), but LibTorch needs the real
# GDAL & co, so no placeholder is in use in SRLab's binaries here. scripts/gpu/placeholder_check.sh runs
# first: the kit's libraries with every placeholder in front, doing what SRLab does with them.
# Results (run.sh's logs and summary.md): build-kit-results/.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
ROOT="${SRLAB_KIT_CHECK_ROOT:-/var/tmp/srlab-kitcheck}"
[ "$(id -u)" -eq 0 ] || { echo "check_kit: must run as root (chroot)" >&2; exit 1; }
[ -f "$REPO/gpu-kit/MANIFEST" ] || bash "$REPO/scripts/gpu/pack.sh"
rm -rf "$REPO/build-kit-results"
t0=$SECONDS
# shellcheck disable=SC2016
SRLAB_NICE="${SRLAB_NICE:-15}" SRLAB_DEBIAN_SUITE=bookworm SRLAB_CHROOT_INCLUDE=build-essential,cmake,libtorch-dev \
  SRLAB_DEBIAN13_ROOT="$ROOT" bash "$REPO/scripts/check_debian13.sh" -- bash -c '
    echo "check_kit: $(. /etc/os-release; echo "$PRETTY_NAME"), $(dpkg-query -W -f="\${db:Status-Abbrev}\n" | grep -c "^ii") packages;" \
         "of the kit'"'"'s -dev packages installed: $(dpkg-query -W -f="\${Package} \${db:Status-Abbrev}\n" libopencv-dev libopencv-core-dev \
         libyaml-cpp-dev libboost-program-options-dev libboost-dev libfmt-dev nlohmann-json3-dev libhdf5-dev libonnx-dev \
         libprotobuf-dev protobuf-compiler libpng-dev libzip-dev libgtest-dev libbenchmark-dev libgloo-dev pkg-config 2>/dev/null |
         awk "\$2 ~ /^ii/ { printf \"%s \", \$1 }")"
    bash scripts/gpu/placeholder_check.sh gpu-kit
    bash scripts/gpu/run.sh build-kit-results --cpu --kit gpu-kit
    echo "check_kit: libraries build-kit/bin/srlab loads from outside the C library, LibTorch and the kit:" \
         "$(ldd build-kit/bin/srlab | awk "/=>/ { print \$3 }" | grep -v -e "/gpu-kit/" -e "libtorch" -e "libc10" \
            -e "/libc\.so" -e "/libm\.so" -e "libstdc++" -e "libgcc_s" -e "ld-linux" | tr "\n" " ")"'
rc=$?
echo "check_kit: finished in $((SECONDS - t0)) s (exit $rc); kit $(du -sh "$REPO/gpu-kit" | cut -f1), archive $(du -sh "$REPO/gpu-kit.tar.xz" 2>/dev/null | cut -f1)"
grep -E 'tests passed, [0-9]+ tests failed out of' "$REPO/build-kit-results/tests.log" | tail -n1 || echo "check_kit: no ctest summary (see build-kit-results/build.log)"
exit "$rc"

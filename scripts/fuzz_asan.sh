#!/usr/bin/env bash
# The weight-file readers (restricted unpickler, torch.save zip and legacy containers, safetensors) fuzzed
# under AddressSanitizer + UndefinedBehaviorSanitizer: builds only the target fuzz_weight_readers_asan
# (tests/fuzz/fuzz_weight_readers.cpp with the reader sources compiled with -fsanitize=address,undefined)
# in its own build folder and runs N mutated inputs per reader (default 100000). Any sanitizer report
# stops the run with a non-zero exit.
#   bash scripts/fuzz_asan.sh [N]          # BUILD_DIR=build-asan by default
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD_DIR:-build-asan}"
N="${1:-100000}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSRLAB_FUZZ_ASAN=ON -DSRLAB_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target fuzz_weight_readers_asan
# LibTorch keeps global allocations alive at exit: leak checking is off, every other check is on.
SRLAB_FUZZ_ITERATIONS="$N" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$BUILD/tests/fuzz_weight_readers_asan"

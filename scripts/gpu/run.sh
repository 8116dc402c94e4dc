#!/usr/bin/env bash
# The one-command GPU check (issue 27), run on the GPU machine from the repository root:
#   bash scripts/gpu/run.sh RESULTS_DIR [--kit gpu-kit|gpu-kit.tar.xz] [--data DIR] [--cpu] [--quick]
# It probes the machine, builds SRLab against that machine's PyTorch LibTorch (python3 -c 'import torch;
# print(torch.utils.cmake_prefix_path)') and the libraries of scripts/gpu/pack.sh's kit, then runs:
#   tests      ctest with SRLAB_TEST_DEVICE=cuda (the tests that take a device run on the GPU);
#   train      `srlab bench-train` samples/s of the models of scripts/gpu/train_matrix.txt at batch 16,
#              LR patch 64, x4, in fp32 / tf32 / bf16, without and with on-the-fly `second_order`
#              degradation on the GPU, and the same steps in PyTorch (scripts/gpu/torch_train_step.py),
#              same run, same machine: the ratio is the figure;
#   degrade    `srlab bench-degrade` pairs/s of the batched second_order degradation, 256², batch 32;
#   upscale    `srlab upscale` of a 1024² image x4 with each model (weights saved by bench-train).
# Every part writes its log to RESULTS_DIR/<part>.log; RESULTS_DIR/summary.md collects the figures and
# RESULTS_DIR/status.tsv each part's exit status and seconds. A failing part does not stop the others.
# --cpu runs the same on the CPU with few steps (the check of this script without a GPU: check_kit.sh);
# --quick shortens the timed parts. --data sets SRLAB_DATA (the benchmark images the tests read).
# --build-dir DIR (default build-gpu, with --cpu build-kit); --no-build uses what DIR holds; --only LIST runs
# only those parts (comma-separated: probe,build,tests,train,degrade,upscale), e.g. the build in one call of
# the device tool and the rest in the next (the build folder stays on the warm machine; each call <= 10 min).
# Budget: build <= 8 min on 16 cores, then tests <= 200 s, timings <= 6 min (two calls of <= 10 min).
set -uo pipefail
set -a  # every variable reaches the parts (each runs in its own bash under `timeout`)
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
RESULTS="" KIT="" DEVICE=cuda QUICK=0 BUILD="" NO_BUILD=0 ONLY="probe,build,tests,train,degrade,upscale"
while (($#)); do
  case "$1" in
    --kit) KIT="$2"; shift ;;
    --data) export SRLAB_DATA="$(cd "$2" && pwd -P)"; shift ;;
    --cpu) DEVICE=cpu ;;
    --quick) QUICK=1 ;;
    --build-dir) BUILD="$(mkdir -p "$2" && cd "$2" && pwd -P)"; shift ;;
    --no-build) NO_BUILD=1 ;;
    --only) ONLY="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) RESULTS="$1" ;;
  esac
  shift
done
[ -n "$RESULTS" ] || { echo "usage: bash scripts/gpu/run.sh RESULTS_DIR [--kit DIR|ARCHIVE] [--data DIR] [--cpu] [--quick]" >&2; exit 2; }
mkdir -p "$RESULTS"; RESULTS="$(cd "$RESULTS" && pwd -P)"
[ -n "$BUILD" ] || { BUILD="$REPO/build-gpu"; [ "$DEVICE" = cpu ] && BUILD="$REPO/build-kit"; }
NPROC="$(nproc)"
T0=$SECONDS
printf 'part\texit\tseconds\n' > "$RESULTS/status.tsv"
# part NAME TIMEOUT_S COMMAND...: runs COMMAND with its output in NAME.log, records exit status and time.
part() {
  local name="$1" limit="$2" t=$SECONDS rc; shift 2
  [[ ",$ONLY," == *",$name,"* ]] || return 0
  echo "run.sh: [$((SECONDS - T0)) s] $name ..."
  timeout --kill-after=10 "$limit" bash -c "set -o pipefail
$(declare -f)
$(declare -p KIT_CMAKE_ARGS 2>/dev/null)
$*" \
    > "$RESULTS/$name.log" 2>&1; rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t))" >> "$RESULTS/status.tsv"
  echo "run.sh: [$((SECONDS - T0)) s] $name: exit $rc ($((SECONDS - t)) s)"
  return 0
}
PY="$(command -v python3 || true)"
torch_py() { [ -n "$PY" ] && "$PY" -c "import torch; $1" 2>/dev/null; }
# Build tools the machine may only have inside Python (pip's cmake/ninja wheels) or in CUDA's usual folder.
for d in /usr/local/cuda/bin \
         "$([ -n "$PY" ] && "$PY" -c 'import cmake; print(cmake.CMAKE_BIN_DIR)' 2>/dev/null)" \
         "$([ -n "$PY" ] && "$PY" -c 'import ninja; print(ninja.BIN_DIR)' 2>/dev/null)"; do
  [ -n "$d" ] && [ -d "$d" ] && case ":$PATH:" in *":$d:"*) ;; *) PATH="$PATH:$d" ;; esac
done

# --- probe -----------------------------------------------------------------------------------------------
probe() {
  echo "== os";       cat /etc/os-release 2>/dev/null | grep -E '^(PRETTY_NAME|ID|VERSION_ID)='; uname -a
  echo "== cpu";      echo "nproc $NPROC"; grep -m1 'model name' /proc/cpuinfo; free -g | head -2
  echo "== glibc";    ldd --version 2>&1 | head -1
  echo "== libstdc++"; for f in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6; do
                        [ -f "$f" ] && { echo "$f"; strings "$f" | grep -E '^GLIBCXX_3\.4\.[0-9]+$' | sort -V | tail -1; }; done
  echo "== compiler"; for c in c++ g++ gcc clang++; do command -v "$c" >/dev/null && "$c" --version | head -1; done
  echo "== cmake";    command -v cmake && cmake --version | head -1; command -v ninja && ninja --version
  echo "== cuda";     command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
                      command -v nvcc >/dev/null && nvcc --version | tail -2; ls -d /usr/local/cuda* 2>/dev/null
  echo "== python";   echo "${PY:-no python3}"; [ -n "$PY" ] && "$PY" --version
  echo "== torch";    torch_py 'print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
                               "cxx11_abi", torch._C._GLIBCXX_USE_CXX11_ABI, "gpus", torch.cuda.device_count());
                               print("cmake_prefix_path", torch.utils.cmake_prefix_path)' || echo "no importable torch"
  local inc; inc="$(torch_py 'import os; print(os.path.join(os.path.dirname(torch.__file__), "include"))')"
  [ -n "$inc" ] && { echo "torch include: $inc"; ls "$inc" | tr '\n' ' '; echo; }
  echo "== python packages"; [ -n "$PY" ] && "$PY" -m pip list 2>/dev/null | grep -i -E '^(torch|nvidia|cmake|ninja|numpy)' | head -30
  echo "== kit";      [ -n "$KIT" ] && head -3 "$KIT/MANIFEST"
}

# --- the kit ---------------------------------------------------------------------------------------------
find_kit() {
  local k="${KIT:-}"
  if [ -z "$k" ]; then for c in "$REPO/gpu-kit" "$REPO/gpu-kit.tar.xz"; do [ -e "$c" ] && { k="$c"; break; }; done; fi
  [ -n "$k" ] || { echo "run.sh: no kit (scripts/gpu/pack.sh makes gpu-kit/ and gpu-kit.tar.xz)" >&2; return 1; }
  if [ -f "$k" ]; then
    [ -f "$REPO/gpu-kit/MANIFEST" ] || tar -C "$REPO" -xJf "$k" || return 1
    k="$REPO/gpu-kit"
  fi
  KIT="$(cd "$k" && pwd -P)"
}
find_kit || true
part probe 60 probe

TORCH_PREFIX="$(torch_py 'print(torch.utils.cmake_prefix_path)' || true)"
if [ -n "$KIT" ]; then
  # shellcheck source=scripts/gpu/kit_env.sh
  source "$REPO/scripts/gpu/kit_env.sh" "$KIT" "$TORCH_PREFIX"
  # PyTorch's wheel keeps its libraries beside libtorch.so; the binaries find them through the rpath
  # LibTorch's CMake config sets; LD_LIBRARY_PATH adds the kit's.
else
  KIT_CMAKE_ARGS=()
fi

# --- build -----------------------------------------------------------------------------------------------
build() {
  local gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  # No Google Benchmark targets on the GPU machine (the timings are srlab bench-train/bench-degrade).
  local bench=ON; [ "$DEVICE" = cuda ] && bench=OFF
  cmake -S "$REPO" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "${KIT_CMAKE_ARGS[@]}" -DSRLAB_ONNXRUNTIME=OFF \
    -DSRLAB_BUILD_BENCHMARKS=$bench &&
    cmake --build "$BUILD" -j"$NPROC"
}
[ "$NO_BUILD" = 1 ] || part build "$([ "$DEVICE" = cuda ] && echo 480 || echo 5400)" build
SRLAB="$BUILD/bin/srlab"

# --- tests -----------------------------------------------------------------------------------------------
# Tests that need a program the kit does not carry (it carries libraries) are left out when the machine
# lacks it, and named in the log: gnuplot (plots), headless chromium (report.html), ONNX Runtime (parity
# tests and export --verify: Node.js + onnxruntime-node or libonnxruntime-dev, neither on a bare machine).
tests() {
  if [ "$DEVICE" = cuda ]; then export SRLAB_TEST_DEVICE=cuda; fi
  local skip=()
  command -v "${SRLAB_GNUPLOT:-gnuplot}" >/dev/null ||
    skip+=('Curves\.Gnuplot' 'Compare\.WritesReportsForEveryMethodAndDataset' 'Compare\.RefusesBadInputsBeforeEvaluating' 'Trainer\.RunFolderHoldsEverything')
  command -v "${SRLAB_CHROMIUM:-chromium}" >/dev/null || skip+=('Browser\.')
  "$SRLAB" --version 2>/dev/null | grep 'in-process' >/dev/null ||
    [ -d "$REPO/tools/onnxruntime/node_modules/onnxruntime-node" ] || skip+=('OnnxRuntime' 'cli\.end_to_end')
  local exclude=(); ((${#skip[@]})) && exclude=(-E "$(IFS='|'; echo "${skip[*]}")")
  echo "tests left out (program missing here): ${skip[*]:-none}"
  ctest --test-dir "$BUILD" -j"$([ "$DEVICE" = cuda ] && echo 8 || echo "$NPROC")" --timeout 600 --output-on-failure "${exclude[@]}"
}
[ -x "$SRLAB" ] && [ "${SRLAB_GPU_SKIP_TESTS:-0}" != 1 ] && part tests "$([ "$DEVICE" = cuda ] && echo 200 || echo 1800)" tests

# --- training throughput: SRLab vs PyTorch, same steps ----------------------------------------------------
if [ "$DEVICE" = cuda ]; then BATCH=16 PATCH=64 PRECISIONS="fp32 tf32 bf16"; else BATCH=2 PATCH=16 PRECISIONS="fp32 bf16"; fi
steps_for() {  # name -> "steps warmup"
  if [ "$DEVICE" = cpu ] || [ "$QUICK" = 1 ]; then echo "2 1"; return; fi
  case "$1" in rrdbnet) echo "10 3" ;; *) echo "30 5" ;; esac
}
train() {
  local name yaml p deg s w
  grep -v '^#' "$REPO/scripts/gpu/train_matrix.txt" | while read -r name yaml; do
    [ -n "$name" ] || continue
    read -r s w <<< "$(steps_for "$name")"
    for p in $PRECISIONS; do
      for deg in none second_order; do
        local extra=(); [ "$deg" = none ] || extra=(--degradation "$deg")
        local save=(); [ "$p" = fp32 ] && [ "$deg" = none ] && save=(--save "$RESULTS/$name.pt")
        "$SRLAB" bench-train --arch "$yaml" --batch "$BATCH" --patch "$PATCH" --scale 4 --device "$DEVICE" \
          --precision "$p" --steps "$s" --warmup "$w" "${extra[@]}" "${save[@]}" --json | sed "s/^{/{\"program\":\"srlab\",\"name\":\"$name\",/" ||
          echo "{\"program\":\"srlab\",\"name\":\"$name\",\"precision\":\"$p\",\"degradation\":\"$deg\",\"failed\":true}"
      done
      if torch_py 'pass'; then
        "$PY" "$REPO/scripts/gpu/torch_train_step.py" --arch "$name" --batch "$BATCH" --patch "$PATCH" --scale 4 \
          --device "$DEVICE" --precision "$p" --steps "$s" --warmup "$w" --json | sed "s/^{/{\"program\":\"pytorch\",\"name\":\"$name\",/" ||
          echo "{\"program\":\"pytorch\",\"name\":\"$name\",\"precision\":\"$p\",\"failed\":true}"
      fi
    done
  done | tee "$RESULTS/train.jsonl"
}
[ -x "$SRLAB" ] && part train 220 train

# --- degradation pairs/s ---------------------------------------------------------------------------------
degrade() {
  local b=32 sz=256 st=10; [ "$DEVICE" = cpu ] && { b=4; sz=64; st=2; }
  "$SRLAB" bench-degrade --type second_order --batch "$b" --size "$sz" --device "$DEVICE" --steps "$st" --json | tee "$RESULTS/degrade.jsonl"
}
[ -x "$SRLAB" ] && part degrade 60 degrade

# --- upscale a 1024² image x4 with each model --------------------------------------------------------------
upscale() {
  local side=1024 name yaml t; [ "$DEVICE" = cpu ] && side=64
  # The input: random 8-bit RGB (a binary PPM); the content does not change the time of a CNN.
  { printf 'P6\n%d %d\n255\n' "$side" "$side"; head -c $((side * side * 3)) /dev/urandom; } > "$RESULTS/upscale_input.ppm"
  grep -v '^#' "$REPO/scripts/gpu/train_matrix.txt" | while read -r name yaml; do
    [ -f "$RESULTS/$name.pt" ] || { echo "$name: no weights (bench-train --save failed)"; continue; }
    t=$(date +%s.%N)
    if "$SRLAB" upscale -m "$RESULTS/$name.pt" -i "$RESULTS/upscale_input.ppm" -o "$RESULTS/upscale_$name.png" \
         --device "$DEVICE" --overwrite > "$RESULTS/upscale_$name.log" 2>&1; then
      echo "$name ${side}x${side} x4 $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s (whole command, model load included)"
    else
      echo "$name failed: $(tail -1 "$RESULTS/upscale_$name.log")"
    fi
    rm -f "$RESULTS/upscale_$name.png"
  done | tee "$RESULTS/upscale.txt"
}
[ -x "$SRLAB" ] && part upscale 90 upscale

# --- summary ---------------------------------------------------------------------------------------------
{
  echo "# SRLab GPU check ($DEVICE), $(date -u +%FT%TZ), $((SECONDS - T0)) s"
  echo; echo '```'; cat "$RESULTS/probe.log" 2>/dev/null | head -40; echo '```'
  echo; echo "## Parts"; echo; column -t "$RESULTS/status.tsv" 2>/dev/null || cat "$RESULTS/status.tsv"
  echo; echo "## Tests"; echo; grep -E '^tests left out|tests passed|tests failed out of' "$RESULTS/tests.log" 2>/dev/null | tail -2
  grep -A200 'The following tests' "$RESULTS/tests.log" 2>/dev/null | head -60
  if [ -s "$RESULTS/train.jsonl" ] && [ -n "$PY" ]; then
    echo; echo "## Training steps (samples/s)"; echo
    "$PY" - "$RESULTS/train.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def get(prog, name, prec, deg):
    for r in rows:
        if r.get("program") == prog and r.get("name") == name and r.get("precision") == prec and \
           (prog == "pytorch" or (r.get("degradation") or "none") == deg):
            return r.get("samples_per_s")
    return None
names = list(dict.fromkeys(r["name"] for r in rows))
precs = list(dict.fromkeys(r["precision"] for r in rows if "precision" in r))
print("| model | precision | SRLab | SRLab + second_order on device | PyTorch | SRLab / PyTorch |")
print("|---|---|---:|---:|---:|---:|")
for n in names:
    for p in precs:
        a, d, t = get("srlab", n, p, "none"), get("srlab", n, p, "second_order"), get("pytorch", n, p, None)
        f = lambda v: "-" if v is None else f"{v:.1f}"
        print(f"| {n} | {p} | {f(a)} | {f(d)} | {f(t)} | {'-' if not a or not t else f'{a / t:.2f}'} |")
EOF
  fi
  echo; echo "## Degradation"; echo; cat "$RESULTS/degrade.jsonl" 2>/dev/null
  echo; echo "## Upscale"; echo; cat "$RESULTS/upscale.txt" 2>/dev/null
} > "$RESULTS/summary.md"
rm -f "$RESULTS"/*.pt "$RESULTS/upscale_input.ppm"
echo "run.sh: done in $((SECONDS - T0)) s: $RESULTS/summary.md"

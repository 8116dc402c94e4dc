#!/usr/bin/env bash
# Issue 27: scripts/gpu/torch_train_step.py (plain PyTorch) builds every architecture of
# scripts/gpu/train_matrix.txt with the parameter count of `srlab bench-train` for that line's yaml, so that
# the GPU timings of the two compare the same networks, and the same first-step loss from the same seed (same
# initial weights and forward). One tiny CPU step each. The interpreter is the first of
# $PYTHON, python3 (PATH) and /usr/bin/python3 (Debian's python3-torch) that imports torch; exits 77 (skipped)
# when none does.
# usage: bench_torch_params_test.sh /path/to/srlab
set -euo pipefail
SRLAB="$(realpath "$1")"
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
source tests/cli/common.sh
candidates="${PYTHON:-} python3 /usr/bin/python3"
PYTHON=""
for p in $candidates; do
  if "$p" -c "import torch" 2> /dev/null; then PYTHON="$p"; break; fi
done
if [ -z "$PYTHON" ]; then
  echo "SKIPPED: no Python with torch (\$PYTHON, python3, /usr/bin/python3; Debian: apt-get install python3-torch)"
  exit 77
fi
echo "using $PYTHON (torch $("$PYTHON" -c 'import torch; print(torch.__version__)'))"

TINY=(--batch 1 --patch 8 --steps 1 --warmup 0 --device cpu --threads 1 --json)
param_count() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["params"])' "$1"; }
n=0
while read -r name yaml; do
  case "$name" in ''|'#'*) continue ;; esac
  "$SRLAB" bench-train --arch "$yaml" "${TINY[@]}" > "$WORK/srlab.json" 2> "$WORK/err.txt" || fail "srlab $name: $(tail -2 "$WORK/err.txt")"
  "$PYTHON" scripts/gpu/torch_train_step.py --arch "$name" "${TINY[@]}" > "$WORK/torch.json" 2> "$WORK/err.txt" \
    || fail "torch_train_step.py $name: $(tail -2 "$WORK/err.txt")"
  a="$(param_count "$WORK/srlab.json")"; b="$(param_count "$WORK/torch.json")"
  [ "$a" = "$b" ] || fail "$name: srlab has $a parameters, torch_train_step.py $b"
  # Same seed, same module construction order, same initialisers and the same random batch: the first
  # step's L1 loss is the same network's output, so it agrees (to float32 summation order).
  la="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["loss"])' "$WORK/srlab.json")"
  lb="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["loss"])' "$WORK/torch.json")"
  python3 -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= 1e-4 * max(1.0, abs(b)) else 1)' "$la" "$lb" ||
    fail "$name: first-step L1 loss srlab $la, torch_train_step.py $lb (same seed): the networks differ"
  echo "ok: $name $a parameters, first-step loss $la / $lb"
  n=$((n + 1))
done < scripts/gpu/train_matrix.txt
[ "$n" -eq 4 ] || fail "expected 4 architectures in scripts/gpu/train_matrix.txt, read $n"

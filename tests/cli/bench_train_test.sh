#!/usr/bin/env bash
# Issue 27: the timing commands `srlab bench-train` and `srlab bench-degrade` on the CPU with tiny sizes:
# the JSON line carries every documented field with positive throughput, and bad requests (CUDA on a machine
# without it, fp16 on the CPU, an unknown precision or generator) fail with an error naming the problem.
# usage: bench_train_test.sh /path/to/srlab
set -euo pipefail
SRLAB="$(realpath "$1")"
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
source tests/cli/common.sh

# check_json FILE KEY... : FILE holds exactly one JSON line with these keys; samples_per_s / pairs_per_s > 0.
check_json() {
  python3 - "$@" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
assert len(lines) == 1, f"expected one JSON line, got {lines}"
r = json.loads(lines[0])
missing = [k for k in sys.argv[2:] if k not in r]
assert not missing, f"missing fields {missing} in {r}"
rate = r.get("samples_per_s", r.get("pairs_per_s"))
assert rate > 0 and r["seconds"] > 0 and r["ms_per_step"] > 0, r
PY
}
TRAIN_KEYS="arch params device precision channels_last degradation batch patch scale steps seconds samples_per_s ms_per_step loss"
TINY=(--arch "{type: espcn, num_feat: 8}" --batch 2 --patch 8 --steps 2 --warmup 1 --device cpu --threads 1)

# 1. bench-train: fp32, bf16 + channels_last, and the on-device degradation of every step.
"$SRLAB" bench-train "${TINY[@]}" --json > "$WORK/fp32.json" 2> "$WORK/err.txt" || fail "bench-train fp32: $(tail -2 "$WORK/err.txt")"
check_json "$WORK/fp32.json" $TRAIN_KEYS
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["params"] == 2676 and r["device"] == "cpu" and r["precision"] == "fp32" and r["channels_last"] is False and r["degradation"] == "none", r' "$WORK/fp32.json"
"$SRLAB" bench-train "${TINY[@]}" --precision bf16 --channels-last --json > "$WORK/bf16.json" 2> "$WORK/err.txt" || fail "bench-train bf16: $(tail -2 "$WORK/err.txt")"
check_json "$WORK/bf16.json" $TRAIN_KEYS
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["precision"] == "bf16" and r["channels_last"] is True, r' "$WORK/bf16.json"
"$SRLAB" bench-train "${TINY[@]}" --degradation second_order --json > "$WORK/deg.json" 2> "$WORK/err.txt" || fail "bench-train --degradation: $(tail -2 "$WORK/err.txt")"
check_json "$WORK/deg.json" $TRAIN_KEYS
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["degradation"] == "second_order", r' "$WORK/deg.json"
"$SRLAB" bench-train "${TINY[@]}" > "$WORK/text.txt" 2> "$WORK/err.txt" || fail "bench-train text: $(tail -2 "$WORK/err.txt")"
grep -q "samples/s" "$WORK/text.txt" || fail "bench-train text summary: $(cat "$WORK/text.txt")"
echo "ok: bench-train json"

# 2. bench-degrade
"$SRLAB" bench-degrade --type second_order --batch 2 --size 64 --steps 1 --warmup 0 --device cpu --threads 1 --json \
  > "$WORK/degrade.json" 2> "$WORK/err.txt" || fail "bench-degrade: $(tail -2 "$WORK/err.txt")"
check_json "$WORK/degrade.json" type device batch size scale steps seconds pairs_per_s ms_per_step
echo "ok: bench-degrade json"

# 3. errors
"$SRLAB" bench-train "${TINY[@]/cpu/auto}" --json > "$WORK/auto.json" 2> /dev/null || fail "bench-train --device auto"
if grep -q '"device":"cuda' "$WORK/auto.json"; then
  echo "skip: CUDA is available here, so the no-CUDA error is not checked"
else
  expect_error "CUDA is not available" "$SRLAB" bench-train --arch "{type: espcn}" --device cuda
  expect_error "CUDA is not available" "$SRLAB" bench-degrade --device cuda
fi
expect_error "--precision fp16 needs a CUDA device" "$SRLAB" bench-train "${TINY[@]}" --precision fp16
expect_error "--precision must be fp32, tf32, bf16 or fp16, got 'fp8'" "$SRLAB" bench-train "${TINY[@]}" --precision fp8
expect_error "unknown generator type 'no_such_net'" "$SRLAB" bench-train --arch "{type: no_such_net}" --device cpu
expect_error "exclude each other" "$SRLAB" bench-train "${TINY[@]}" --channels-last --no-channels-last
expect_error "must be a multiple of --scale" "$SRLAB" bench-degrade --size 30 --device cpu
expect_error "unknown" "$SRLAB" bench-degrade --type no_such_degradation --device cpu
echo "ok: bench errors"

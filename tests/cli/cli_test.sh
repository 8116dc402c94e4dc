#!/usr/bin/env bash
# End-to-end checks of the srlab binary: eval JSON against the protocol's reference value, clear
# errors with non-zero exit codes, and Ctrl-C during training (latest.pt saved, exit 130, resume; the
# TensorBoard event files of both sessions checked by tests/cli/tfevents_check.py).
# usage: cli_test.sh /path/to/srlab
set -euo pipefail
SRLAB="$(realpath "$1")"
cd "$(dirname "$0")/../.."  # repository root: the shipped configs/ are used by relative path
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
source tests/cli/common.sh

# 1. eval: bicubic on Set5 x4 reproduces the reference 28.43 dB / 0.8113; JSON has the documented fields.
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m bicubic --json "$WORK/r.json" > "$WORK/eval.txt"
python3 - "$WORK/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r) == {"dataset", "scale", "method", "mean", "images"}, r.keys()
assert r["dataset"] == "Set5" and r["scale"] == 4 and r["method"] == "bicubic", r
assert abs(r["mean"]["psnr"] - 28.43) <= 0.01 and abs(r["mean"]["ssim"] - 0.8113) <= 0.0005, r["mean"]
assert len(r["images"]) == 5 and set(r["images"][0]) == {"name", "psnr", "ssim"}, r["images"][0]
assert r["images"][0]["name"] == "img_001", r["images"][0]
PY
grep -q "bicubic" "$WORK/eval.txt" || fail "eval table missing"
echo "ok: eval json"

# 2. errors: one clear line, non-zero exit.
set +e
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m no_such_method > /dev/null 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "unknown method exited 0"
grep -q "unknown method 'no_such_method'" "$WORK/err.txt" || fail "unclear error: $(cat "$WORK/err.txt")"
set +e
"$SRLAB" train --config /no/such/config.yaml 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "/no/such/config.yaml" "$WORK/err.txt" || fail "missing config: $(cat "$WORK/err.txt")"
echo "ok: errors"

# 3. Ctrl-C saves latest.pt and exits 130; --resume continues from it.
tiny_config "$WORK/tiny.yaml" sigint 2 100000000 100000000 10
"$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" > "$WORK/train.txt" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ -f "$WORK/runs/sigint/metrics.csv" ] && [ "$(wc -l < "$WORK/runs/sigint/metrics.csv")" -ge 2 ] && break
  sleep 0.5
done
kill -INT "$pid"
set +e
wait "$pid"; rc=$?
set -e
[ "$rc" -eq 130 ] || fail "Ctrl-C exit code $rc, expected 130: $(tail -3 "$WORK/train.txt")"
[ -f "$WORK/runs/sigint/checkpoints/latest.pt" ] || fail "no latest.pt after Ctrl-C"
iter=$(grep -o "interrupted at iteration [0-9]*" "$WORK/train.txt" | grep -o "[0-9]*$")
[ -n "$iter" ] || fail "no interruption message: $(tail -3 "$WORK/train.txt")"
"$SRLAB" train --resume "$WORK/runs/sigint" --set train.iters=$((iter + 5)) --no-eval > "$WORK/resume.txt" 2>&1 \
  || fail "resume failed: $(tail -3 "$WORK/resume.txt")"
grep -q "resumed from .* at iteration $iter" "$WORK/resume.txt" || fail "resume did not start at $iter"
grep -q "training done: $((iter + 5)) iterations" "$WORK/resume.txt" || fail "resume did not finish"
echo "ok: ctrl-c + resume at iteration $iter"
# 3a. TensorBoard event files of both sessions, read by an independent decoder (own CRC-32C and protobuf
#     wire decoding, protoc --decode_raw): tags and values equal metrics.csv after TensorBoard's resume purge.
python3 tests/cli/tfevents_check.py "$WORK/runs/sigint" 2 || fail "TensorBoard event files"

# 3b. export the resumed run's checkpoint to ONNX and verify it in ONNX Runtime (and OpenCV DNN: static size).
"$SRLAB" export --checkpoint "$WORK/runs/sigint/checkpoints/latest.pt" --output "$WORK/m.onnx" --verify \
  > "$WORK/export.txt" 2>&1 || fail "export --verify: $(tail -5 "$WORK/export.txt")"
grep -q "ONNX Runtime  1x3x17x23" "$WORK/export.txt" && grep -q "PASSED" "$WORK/export.txt" \
  || fail "export --verify output: $(cat "$WORK/export.txt")"
"$SRLAB" export --checkpoint "$WORK/runs/sigint/checkpoints/latest.pt" --output "$WORK/s.onnx" --static 16x16 \
  --batch 1 --verify > "$WORK/export_static.txt" 2>&1 || fail "static export: $(tail -5 "$WORK/export_static.txt")"
grep -q "^OpenCV DNN  *1x3x16x16" "$WORK/export_static.txt" || fail "OpenCV DNN did not run: $(cat "$WORK/export_static.txt")"
# An opset above the newest one the installed ONNX library knows (its ceiling: 17 in ONNX 1.12, 22 in 1.17,
# as `srlab export --help` reports it) is refused with a clear error and writes no file.
opset_max="$("$SRLAB" export --help 2>&1 | sed -n 's/.*ONNX opset, [0-9]*\.\.\([0-9][0-9]*\).*/\1/p' | head -n1)"
[ -n "$opset_max" ] || fail "export --help does not state the opset range: $("$SRLAB" export --help 2>&1)"
set +e
"$SRLAB" export --checkpoint "$WORK/runs/sigint/checkpoints/latest.pt" --output "$WORK/x.onnx" \
  --opset "$((opset_max + 1))" 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "opset $((opset_max + 1)) is not supported" "$WORK/err.txt" \
  || fail "opset $((opset_max + 1)) (ceiling $opset_max): rc $rc, $(cat "$WORK/err.txt")"
[ ! -e "$WORK/x.onnx" ] || fail "a refused export wrote a file"
echo "ok: export + verify"

# 3b2. export --format pth|safetensors (format from the extension); Python's torch.load(weights_only=True)
#      reads the BasicSR layout {'params_ema', 'params'}; eval --method model.onnx scores like the checkpoint.
"$SRLAB" export --checkpoint "$WORK/runs/sigint/checkpoints/latest.pt" --output "$WORK/m.pth" > "$WORK/pth.txt" 2>&1 \
  || fail "export .pth: $(cat "$WORK/pth.txt")"
"$SRLAB" export --checkpoint "$WORK/runs/sigint/checkpoints/latest.pt" --output "$WORK/m.bin" --format safetensors \
  > "$WORK/st.txt" 2>&1 || fail "export safetensors: $(cat "$WORK/st.txt")"
python3 - "$WORK/m.bin" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
m = h["__metadata__"]
assert m["architecture"] == "espcn" and m["scale"] == "2" and "num_feat: 8" in m["model_yaml"], m
assert h["conv1.weight"]["dtype"] == "F32" and h["conv1.weight"]["shape"] == [8, 3, 5, 5], h["conv1.weight"]
PY
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  /usr/bin/python3 - "$WORK/m.pth" <<'PY' || fail "torch.load(weights_only=True) of the exported .pth"
import sys, torch
sd = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
assert list(sd) == ["params_ema", "params"], list(sd)
assert sd["params"]["conv1.weight"].shape == (8, 3, 5, 5), sd["params"]["conv1.weight"].shape
assert all(torch.equal(sd["params"][k], v) for k, v in sd["params_ema"].items())  # no EMA: both raw
PY
  echo "ok: python torch.load(weights_only=True) of the exported .pth"
else
  echo "skip: /usr/bin/python3 has no torch (scripts/setup.sh installs python3-torch)"
fi
set +e
"$SRLAB" export --checkpoint "$WORK/runs/sigint/checkpoints/latest.pt" --output "$WORK/m.tflite" 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q -- "--format" "$WORK/err.txt" || fail "unknown extension: rc $rc, $(cat "$WORK/err.txt")"
"$SRLAB" eval -d '${data}/benchmarks/Set5/x2' -m "$WORK/runs/sigint/checkpoints/latest.pt" -m "$WORK/m.onnx" \
  --json "$WORK/onnx_eval.json" > /dev/null || fail "eval --method model.onnx"
python3 - "$WORK/onnx_eval.json" <<'PY'
import json, sys
ckpt, onnx = json.load(open(sys.argv[1]))
assert onnx["method"] == "m", onnx["method"]
for a, b in zip(ckpt["images"], onnx["images"]):  # OpenCV DNN vs LibTorch: float rounding only
    assert abs(a["psnr"] - b["psnr"]) <= 0.01, (a, b)
PY
echo "ok: export pth/safetensors, eval --method model.onnx"

# 3b3. eval --method DIR: the saved outputs of -m bicubic reproduce the bicubic row exactly; a missing or
#      wrong-size SR image is an error naming it.
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m bicubic --save-images "$WORK/sr" --json "$WORK/bic.json" > /dev/null
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m "$WORK/sr/Set5/bicubic" --json "$WORK/dir.json" > /dev/null \
  || fail "eval --method DIR"
python3 - "$WORK/bic.json" "$WORK/dir.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["images"] == b["images"] and a["mean"] == b["mean"], (a, b)
assert round(b["mean"]["psnr"], 2) == 28.43 and round(b["mean"]["ssim"], 4) == 0.8113, b["mean"]
PY
python3 -c "import shutil,sys; shutil.copy(sys.argv[1], sys.argv[2])" "$WORK/sr/Set5/bicubic/img_001.png" \
  "$WORK/sr/Set5/bicubic/img_002.png"
set +e
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m "$WORK/sr/Set5/bicubic" 2> "$WORK/err.txt" > /dev/null; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "img_002.png' is .* but the HR image 'img_002'" "$WORK/err.txt" \
  || fail "wrong-size SR image: rc $rc, $(cat "$WORK/err.txt")"
rm "$WORK/sr/Set5/bicubic/img_002.png"
set +e
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m "$WORK/sr/Set5/bicubic" 2> "$WORK/err.txt" > /dev/null; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "no SR image for 'img_002'" "$WORK/err.txt" || fail "missing SR image: $(cat "$WORK/err.txt")"
echo "ok: eval --method DIR reproduces bicubic exactly"

# 3c. upscale: a checkpoint (LibTorch) and its ONNX export (OpenCV DNN), 16-bit RGBA and gray inputs, a
#     folder, --outscale, per-file errors, no silent overwrite.
python3 - "$WORK/up_in" <<'PY'
import os, struct, sys, zlib
def png(path, w, h, depth, ctype, sample):
    ch = {0: 1, 2: 3, 6: 4}[ctype]
    rows = b"".join(b"\0" + b"".join(struct.pack(">H" if depth == 16 else "B", sample(x, y, c))
                                     for x in range(w) for c in range(ch)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
os.makedirs(sys.argv[1])
png(sys.argv[1] + "/rgba16.png", 23, 17, 16, 6, lambda x, y, c: (x * 2801 + y * 3701 + c * 9001) % 65536)
png(sys.argv[1] + "/gray.png", 20, 11, 8, 0, lambda x, y, c: (x * 11 + y * 7) % 256)
PY
ihdr() { python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(29); print(*struct.unpack('>IIBB', d[16:26]))" "$1"; }
CKPT="$WORK/runs/sigint/checkpoints/latest.pt"
"$SRLAB" upscale --model "$CKPT" --input "$WORK/up_in/rgba16.png" --output "$WORK/up/a.png" --tile 8 --tile-pad 4 \
  > "$WORK/up.txt" 2>&1 || fail "upscale (checkpoint): $(tail -3 "$WORK/up.txt")"
[ "$(ihdr "$WORK/up/a.png")" = "46 34 16 6" ] || fail "16-bit RGBA x2 output: $(ihdr "$WORK/up/a.png")"
grep -q "peak memory" "$WORK/up.txt" || fail "no summary: $(cat "$WORK/up.txt")"
"$SRLAB" upscale --model "$WORK/m.onnx" --input "$WORK/up_in" --output "$WORK/up_dir" --outscale 3 --sharpen 0.5,1 \
  > "$WORK/up2.txt" 2>&1 || fail "upscale (ONNX, folder): $(tail -3 "$WORK/up2.txt")"
# The .onnx runtime: ONNX Runtime in-process where the build links it (srlab --version says), else OpenCV DNN.
onnx_runtime="OpenCV DNN"
"$SRLAB" --version | grep -q "in-process" && onnx_runtime="ONNX Runtime (in-process)"
grep -qF "$onnx_runtime" "$WORK/up2.txt" || fail "ONNX model not run by $onnx_runtime: $(cat "$WORK/up2.txt")"
! grep -q "Schema error" "$WORK/up2.txt" || fail "ONNX schema registration noise in the output: $(head -3 "$WORK/up2.txt")"
[ "$(ihdr "$WORK/up_dir/gray.png")" = "60 33 8 0" ] || fail "gray x3 output: $(ihdr "$WORK/up_dir/gray.png")"
[ "$(ihdr "$WORK/up_dir/rgba16.png")" = "69 51 16 6" ] || fail "RGBA x3 output: $(ihdr "$WORK/up_dir/rgba16.png")"
grep -q "2 passes + bicubic" "$WORK/up2.txt" || fail "x3 with a x2 model should take 2 passes: $(cat "$WORK/up2.txt")"
set +e
"$SRLAB" upscale --model "$CKPT" --input "$WORK/up_in" --output "$WORK/up_jpg" --format jpg > /dev/null 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "rgba16.png' has an alpha channel" "$WORK/err.txt" && [ -s "$WORK/up_jpg/gray.jpg" ] \
  || fail "alpha to JPEG: rc $rc, $(cat "$WORK/err.txt")"
set +e
"$SRLAB" upscale --model "$CKPT" --input "$WORK/up_in/gray.png" --output "$WORK/up/a.png" 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "overwrite" "$WORK/err.txt" || fail "overwrite: rc $rc, $(cat "$WORK/err.txt")"
echo "ok: upscale"

# 4. degradations: preview grid, HDF5 prepare (bicubic LR == the benchmark protocol), eval on the file and
#    on LR re-made by a degradation config, training from HDF5 + on-the-fly degradation, clear errors.
"$SRLAB" degrade --config configs/degradations/second_order.yaml --input '${data}/benchmarks/Set5/x4/HR/img_003.png' \
  --out "$WORK/preview" --n 4 --crop 64 > /dev/null
[ -s "$WORK/preview/grid.png" ] && [ -s "$WORK/preview/lr_003.png" ] || fail "degrade wrote no grid/LR"
python3 - "$WORK/preview/params.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["samples"]) == 4 and d["samples"][0]["type"] == "second_order", d["samples"][0]
assert [s["index"] for s in d["samples"]] == [0, 1, 2, 3]
assert all(len(s["steps"]) >= 5 for s in d["samples"]), [len(s["steps"]) for s in d["samples"]]
PY
cat > "$WORK/prep.yaml" <<YAML
input: "\${data}/benchmarks/Set5/x4/HR"
output: $WORK/set5.h5
scale: 4
layout: images
YAML
"$SRLAB" prepare --config "$WORK/prep.yaml" > "$WORK/prep.txt" 2>&1 || fail "prepare: $(tail -3 "$WORK/prep.txt")"
grep -q "5 samples from 5 images" "$WORK/prep.txt" || fail "prepare summary: $(tail -1 "$WORK/prep.txt")"
ls "$WORK" | grep -q "\.tmp[.-]" && fail "prepare left a temporary file"
"$SRLAB" eval -d "$WORK/set5.h5" --scale 4 -m bicubic --json "$WORK/h5.json" > /dev/null
python3 - "$WORK/h5.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
# Regenerated MATLAB-bicubic LR scores like the provided LR files (28.43 dB / 0.8113).
assert r["dataset"] == "set5" and abs(r["mean"]["psnr"] - 28.43) <= 0.02, r["mean"]
PY
"$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m bicubic --degradation configs/degradations/blur1.6_jpeg40.yaml \
  --json "$WORK/deg.json" > /dev/null
python3 - "$WORK/deg.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["dataset"] == "Set5_blur1.6_jpeg40", r["dataset"]
assert r["mean"]["psnr"] < 28.0, r["mean"]  # blur + JPEG cost more than a dB against the clean 28.43
PY
"$SRLAB" prepare --config "$WORK/prep.yaml" --set layout=patches --set patch_size=64 --set stride=64 \
  --set degradation.type=first_order --set output="$WORK/p.h5" > /dev/null 2>&1 || fail "prepare patches"
cat > "$WORK/h5train.yaml" <<YAML
name: h5train
seed: 1
device: cpu
threads: 1
scale: 4
model: {type: espcn, num_feat: 8}
data:
  train: {hdf5: ["$WORK/p.h5"], batch_size: 2, lr_patch: 8, workers: 1, degradation: {type: second_order}}
losses: [{type: l1}]
optimizer: {lr: 1.0e-3}
scheduler: {type: constant}
train: {iters: 3, log_every: 1, save_every: 100, ema_decay: 0}
YAML
"$SRLAB" train --config "$WORK/h5train.yaml" --runs-dir "$WORK/runs" --no-eval > "$WORK/h5train.txt" 2>&1 \
  || fail "train from HDF5: $(tail -3 "$WORK/h5train.txt")"
grep -q "degradation 'second_order'" "$WORK/h5train.txt" || fail "on-the-fly degradation not announced"
head -c 3000 "$WORK/p.h5" > "$WORK/cut.h5"
set +e
"$SRLAB" eval -d "$WORK/cut.h5" --scale 4 -m bicubic 2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "cut.h5" "$WORK/err.txt" || fail "truncated HDF5: rc $rc, $(cat "$WORK/err.txt")"
set +e
"$SRLAB" prepare --config "$WORK/prep.yaml" --set degradation.jpeg.qualty=5 --set degradation.type=first_order \
  2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "degradation.jpeg.qualty" "$WORK/err.txt" || fail "bad degradation key: $(cat "$WORK/err.txt")"
echo "ok: degrade, prepare, eval on HDF5 / degraded LR, train from HDF5"

# 5. GAN mode through the CLI: a tiny pixel run, a GAN run initialised from it (discriminator logged),
#    network interpolation (and its refusal of another architecture), and `srlab compare` on Set5 x2.
cat > "$WORK/crisp.yaml" <<'YAML'
name: crisp
seed: 1
device: cpu
threads: 1
scale: 2
model: {type: srvgg_compact, num_feat: 8, num_conv: 2}
data:
  train: {hr_dirs: ["${data}/benchmarks/Set5/x2/HR"], batch_size: 2, lr_patch: 16, workers: 1}
losses: [{type: l1}]
optimizer: {lr: 1.0e-3}
scheduler: {type: constant}
train: {iters: 4, log_every: 2, save_every: 100, ema_decay: 0}
YAML
"$SRLAB" train --config "$WORK/crisp.yaml" --runs-dir "$WORK/runs" --no-eval > "$WORK/crisp.txt" 2>&1 \
  || fail "crisp run: $(tail -3 "$WORK/crisp.txt")"
sed -e 's/^name: crisp/name: creative/' "$WORK/crisp.yaml" > "$WORK/creative.yaml"
cat >> "$WORK/creative.yaml" <<YAML
discriminator: {type: unet_sn, num_feat: 8}
gan: {init_from: "$WORK/runs/crisp/checkpoints/latest.pt"}
YAML
"$SRLAB" train --config "$WORK/creative.yaml" --runs-dir "$WORK/runs" --no-eval \
  --set 'losses=[{type: l1, weight: 0.1}, {type: gan, gan_type: vanilla, weight: 0.1}]' > "$WORK/creative.txt" 2>&1 \
  || fail "creative run: $(tail -3 "$WORK/creative.txt")"
grep -q "discriminator unet_sn" "$WORK/creative.txt" || fail "no discriminator line: $(head -20 "$WORK/creative.txt")"
grep -q "D loss" "$WORK/creative.txt" || fail "D loss not logged"
"$SRLAB" interpolate --a "$WORK/runs/crisp/checkpoints/best.pt" --b "$WORK/runs/creative/checkpoints/best.pt" \
  --alpha 0.3 --out "$WORK/interp.pt" > /dev/null || fail "interpolate"
[ -f "$WORK/interp.pt" ] || fail "no interpolated checkpoint"
set +e
"$SRLAB" interpolate --a "$CKPT" --b "$WORK/runs/creative/checkpoints/best.pt" --alpha 0.3 --out "$WORK/bad.pt" \
  2> "$WORK/err.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "espcn" "$WORK/err.txt" && grep -q "srvgg_compact" "$WORK/err.txt" && [ ! -e "$WORK/bad.pt" ] \
  || fail "interpolating espcn with srvgg_compact: rc $rc, $(cat "$WORK/err.txt")"
cat > "$WORK/compare.yaml" <<YAML
name: cmp
scale: 2
datasets: ["\${data}/benchmarks/Set5/x2"]
crisp: $WORK/runs/crisp/checkpoints/best.pt
creative: $WORK/runs/creative/checkpoints/best.pt
interpolation_alphas: [0.5]
crops: {count: 1, size: 32}
device: cpu
YAML
"$SRLAB" compare --config "$WORK/compare.yaml" --out "$WORK/cmp" --threads 2 > "$WORK/cmp.txt" 2>&1 \
  || fail "compare: $(tail -3 "$WORK/cmp.txt")"
for f in compare.md compare.json pd_plot_Set5.png crops_Set5.png report.html; do
  [ -s "$WORK/cmp/$f" ] || fail "compare wrote no $f: $(ls "$WORK/cmp")"
done
grep -q "Sweep crisp → creative" "$WORK/cmp/compare.md" || fail "no sweep lines in compare.md"
python3 - "$WORK/cmp/compare.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = [m["name"] for m in r["methods"]]
assert names[:5] == ["bicubic", "sharpened", "crisp", "interp_a0.5", "creative"], names
bic = [x for x in r["results"] if x["method"] == "bicubic"][0]
assert abs(bic["mean"]["psnr"] - 33.68) <= 0.02, bic["mean"]  # Set5 x2 bicubic, the reference 33.68 dB
PY
echo "ok: gan train, interpolate, compare"

# 7. data-parallel: srlab train --nproc 2 (Gloo over loopback), Ctrl-C of the launcher stops both ranks
#    after a checkpoint, --resume with --nproc 2 continues; only rank 0 logs.
sed -e 's/^name: sigint/name: dp/' -e 's/batch_size: 2/batch_size: 4/' "$WORK/tiny.yaml" > "$WORK/dp.yaml"
"$SRLAB" train --nproc 2 --config "$WORK/dp.yaml" --runs-dir "$WORK/runs" > "$WORK/dp.txt" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ -f "$WORK/runs/dp/metrics.csv" ] && [ "$(wc -l < "$WORK/runs/dp/metrics.csv")" -ge 2 ] && break
  sleep 0.5
done
kill -INT "$pid"
set +e
timeout 60 tail --pid="$pid" -f /dev/null; wait "$pid"; rc=$?
set -e
[ "$rc" -eq 130 ] || fail "--nproc 2 Ctrl-C exit code $rc, expected 130: $(tail -5 "$WORK/dp.txt")"
grep -q "data-parallel: 2 processes (gloo backend" "$WORK/dp.txt" || fail "no data-parallel line: $(tail -5 "$WORK/dp.txt")"
[ "$(grep -c "interrupted at iteration" "$WORK/dp.txt")" -eq 1 ] || fail "expected one interruption message (rank 0)"
iter=$(grep -o "interrupted at iteration [0-9]*" "$WORK/dp.txt" | grep -o "[0-9]*$")
"$SRLAB" train --nproc 2 --resume "$WORK/runs/dp" --set train.iters=$((iter + 4)) --no-eval > "$WORK/dp2.txt" 2>&1 \
  || fail "--nproc 2 resume failed: $(tail -5 "$WORK/dp2.txt")"
grep -q "training done: $((iter + 4)) iterations" "$WORK/dp2.txt" || fail "--nproc 2 resume did not finish"
set +e
"$SRLAB" train --resume "$WORK/runs/dp" --set train.iters=$((iter + 8)) --no-eval > "$WORK/dp3.txt" 2>&1; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "written by a run with 2" "$WORK/dp3.txt" || fail "resume with 1 process not refused"
echo "ok: train --nproc 2, Ctrl-C, resume at iteration $iter; other world size refused"

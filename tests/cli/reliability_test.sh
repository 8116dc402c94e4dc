#!/usr/bin/env bash
# Issue 16 end-to-end regressions of the srlab binary: bad numeric values, unknown output formats, FIFO
# configs, concurrent runs (run-folder lock), diverged runs, the overwrite policy, stale temporary
# files, disk-full writes (a small tmpfs; skipped unless root), unclear errors.
# usage: reliability_test.sh /path/to/srlab
set -euo pipefail
SRLAB="$(realpath "$1")"
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d)"
MOUNTS=()
cleanup() {
  for m in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source tests/cli/common.sh
# small_tmpfs SIZE: mounts a tmpfs of SIZE on a new folder and prints it; prints nothing when not allowed.
small_tmpfs() {
  local d; d="$(mktemp -d "$WORK/disk.XXXX")"
  if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o "size=$1" tmpfs "$d" 2>/dev/null; then echo "$d"; fi
}
SET5='${data}/benchmarks/Set5/x4'

# 1. Numeric options are validated in one place: range and finiteness, naming the option (item 9).
expect_error "--scale must be an integer in 1..16, got -1" "$SRLAB" eval -d "$SET5" -m bicubic --scale=-1
expect_error "--scale must be an integer in 1..16, got 0" "$SRLAB" eval -d "$SET5" -m bicubic --scale 0
expect_error "--crop-border must be an integer >= 0, got -3" "$SRLAB" eval -d "$SET5" -m bicubic --crop-border=-3
expect_error "--threads must be an integer in 0..4096, got -2" "$SRLAB" eval -d "$SET5" -m bicubic --threads=-2
expect_error "--outscale must be a finite number in 0..64, got nan" "$SRLAB" upscale -m x.pt -i x.png -o y.png --outscale nan
expect_error "--crop must be an integer >= 0, got -5" "$SRLAB" degrade -c configs/degradations/first_order.yaml -i x.png -o "$WORK/d" --crop=-5
echo "ok: numeric options"

# A tiny run gives the checkpoints used below.
tiny_config "$WORK/tiny.yaml" tiny 2 3 3 1
"$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --no-eval > "$WORK/t.txt" 2>&1 || fail "tiny train: $(tail -3 "$WORK/t.txt")"
CKPT="$WORK/runs/tiny/checkpoints/best.pt"
expect_error "at 'threads': must be >= 0" "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set threads=-4
expect_error "at 'data.train.hr_dirs': expected a list of paths (strings)" \
  "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set name=t2 --set data.train.hr_dirs=5
expect_error "at 'eval.datasets': '/no/such/set' does not exist" \
  "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set name=t3 --set 'eval.datasets=[/no/such/set]'
[ ! -e "$WORK/runs/t3" ] || fail "a config with a missing eval dataset started a run"
echo "ok: config values and paths checked before the run"

# 2. Output formats, tiles, FIFOs, huge images, memory estimates (items 10, 13, 14, 19).
python3 - "$WORK/in" <<'PY'
import os, struct, sys, zlib
def png(path, w, h, depth, ctype, sample, declared=None):
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    rows = b"".join(b"\0" + b"".join(struct.pack(">H" if depth == 16 else "B", sample(x, y, c))
                                     for x in range(w) for c in range(ch)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    dw, dh = declared or (w, h)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", dw, dh, depth, ctype, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
os.makedirs(sys.argv[1])
png(sys.argv[1] + "/ga.png", 9, 7, 8, 4, lambda x, y, c: (x * 20 + y * 9 + c * 100) % 256)
png(sys.argv[1] + "/huge.png", 1, 1, 8, 0, lambda x, y, c: 0, declared=(100000, 100000))
png(sys.argv[1] + "/big.png", 1500, 1500, 8, 0, lambda x, y, c: 0)
PY
ihdr() { python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(29); print(*struct.unpack('>IIBB', d[16:26]))" "$1"; }
expect_error "unknown image extension '.xyz'; use .png, .jpg" "$SRLAB" upscale -m "$CKPT" -i "$WORK/in/ga.png" -o "$WORK/o/x.xyz"
[ ! -e "$WORK/o/x.xyz" ] || fail "upscale -o x.xyz created something"
expect_error "--tile 1 is smaller than --tile-pad 32" "$SRLAB" upscale -m "$CKPT" -i "$WORK/in/ga.png" -o "$WORK/o/a.png" --tile 1
expect_error "is too large to decode: 100000x100000 = 10000000000 pixels exceeds OpenCV's limit" \
  "$SRLAB" upscale -m "$CKPT" -i "$WORK/in/huge.png" -o "$WORK/o/h.png"
expect_error "of memory but only" "$SRLAB" upscale -m "$CKPT" -i "$WORK/in/big.png" -o "$WORK/o/b.png" --outscale 64
expect_error "of memory but only" "$SRLAB" export -c "$CKPT" -o "$WORK/o/big.onnx" --static 100000x100000 --verify
[ ! -e "$WORK/o/big.onnx" ] || fail "a refused static export wrote its file"
mkfifo "$WORK/fifo.yaml"
expect_error "is a FIFO (named pipe), not a regular file" "$SRLAB" train --config "$WORK/fifo.yaml"
"$SRLAB" upscale -m "$CKPT" -i "$WORK/in/ga.png" -o "$WORK/o/ga.png" > /dev/null 2>&1 || fail "gray+alpha upscale"
[ "$(ihdr "$WORK/o/ga.png")" = "18 14 8 4" ] || fail "gray+alpha must stay gray+alpha (colour type 4): $(ihdr "$WORK/o/ga.png")"
echo "ok: formats, tiles, FIFO, huge image, memory estimate, gray+alpha"

# 3. Unclear errors: ONNX and checkpoint messages name the file and the real problem (items 15, 16).
echo "not onnx" > "$WORK/bad.onnx"
expect_error "ONNX model '$WORK/bad.onnx': onnx_metadata: not a valid ONNX model" "$SRLAB" upscale -m "$WORK/bad.onnx" -i "$WORK/in/ga.png" -o "$WORK/o/z.png"
expect_error "is a folder; expected a file; pass the .pt file inside it" "$SRLAB" export -c "$WORK/runs/tiny" -o "$WORK/m.onnx"
LPIPS_PT="${SRLAB_DATA:-../shared/data}/weights/lpips/lpips_squeeze_v0.1.pt"  # a torch.save file of no generator
if [ -f "$LPIPS_PT" ]; then
  expect_error "cannot detect the architecture of '$LPIPS_PT'" "$SRLAB" export -c "$LPIPS_PT" -o "$WORK/m.onnx"
fi
echo "ok: file-naming errors"

# 4. Overwrite policy: keep existing outputs unless --overwrite (item 6); upscale per-file claims (item 5).
"$SRLAB" export -c "$CKPT" -o "$WORK/m.onnx" > /dev/null
expect_error "'$WORK/m.onnx' already exists; pass --overwrite" "$SRLAB" export -c "$CKPT" -o "$WORK/m.onnx"
"$SRLAB" export -c "$CKPT" -o "$WORK/m.onnx" --overwrite > /dev/null || fail "export --overwrite"
"$SRLAB" interpolate --a "$CKPT" --b "$WORK/runs/tiny/checkpoints/latest.pt" --alpha 0.5 --out "$WORK/i.pt" > /dev/null
expect_error "already exists; pass --overwrite" "$SRLAB" interpolate --a "$CKPT" --b "$CKPT" --alpha 0.5 --out "$WORK/i.pt"
cat > "$WORK/prep.yaml" <<YAML
input: "\${data}/benchmarks/Set5/x4/HR"
output: $WORK/p/set5.h5
scale: 4
layout: images
YAML
mkdir -p "$WORK/p"
sleep 0 & wait $!; dead=$!  # a PID that no longer runs
head -c 1000 /dev/zero > "$WORK/p/set5.h5.tmp.$dead.0"
"$SRLAB" prepare --config "$WORK/prep.yaml" > "$WORK/prep.txt" 2>&1 || fail "prepare: $(tail -2 "$WORK/prep.txt")"
grep -q "removed stale temporary file .*set5.h5.tmp.$dead.0 (1000 bytes)" "$WORK/prep.txt" \
  || fail "stale temp not reported: $(cat "$WORK/prep.txt")"
[ ! -e "$WORK/p/set5.h5.tmp.$dead.0" ] || fail "stale temp kept (item 7)"
expect_error "already exists; pass --overwrite" "$SRLAB" prepare --config "$WORK/prep.yaml"
"$SRLAB" prepare --config "$WORK/prep.yaml" --overwrite > /dev/null 2>&1 || fail "prepare --overwrite"
# Two upscale runs into one folder at once: every output is written whole by exactly one of them.
mkdir -p "$WORK/many"
for i in $(seq 1 12); do cp "$WORK/in/ga.png" "$WORK/many/im$i.png"; done
"$SRLAB" upscale -m "$CKPT" -i "$WORK/many" -o "$WORK/race" > "$WORK/r1.txt" 2>&1 & p1=$!
"$SRLAB" upscale -m "$WORK/runs/tiny/checkpoints/latest.pt" -i "$WORK/many" -o "$WORK/race" > "$WORK/r2.txt" 2>&1 & p2=$!
set +e; wait $p1; wait $p2; set -e
[ "$(ls "$WORK/race" | grep -c '\.png$')" -eq 12 ] && ! ls "$WORK/race" | grep -q tmp || fail "race: $(ls "$WORK/race")"
ok1=$(grep -c " -> " "$WORK/r1.txt" || true); ok2=$(grep -c " -> " "$WORK/r2.txt" || true)
[ $((ok1 + ok2)) -eq 12 ] || fail "race: $ok1 + $ok2 outputs reported written, expected 12 in all"
echo "ok: overwrite policy, stale temps, concurrent upscale"

# 5. Run-folder lock (item 4) and diverged runs (item 8).
"$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set name=lock --set train.iters=100000000 \
  --set train.save_every=100000000 > "$WORK/l1.txt" 2>&1 & lp=$!
for _ in $(seq 1 120); do grep -q "iter 1/" "$WORK/l1.txt" 2>/dev/null && break; sleep 0.5; done
expect_error "is in use by another srlab process (PID $lp)" \
  "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set name=lock
expect_error "is in use by another srlab process (PID $lp)" "$SRLAB" train --resume "$WORK/runs/lock"
kill -INT "$lp"; set +e; wait "$lp"; rc=$?; set -e
[ "$rc" -eq 130 ] || fail "locked run did not stop cleanly: rc $rc"
[ -d "$WORK/runs/lock/checkpoints" ] && ! ls "$WORK/runs" | grep -q lock_archived || fail "the live run's folder was archived"
it=$(grep -o "interrupted at iteration [0-9]*" "$WORK/l1.txt" | grep -o "[0-9]*$")
"$SRLAB" train --resume "$WORK/runs/lock" --set train.iters=$((it + 1)) --no-eval > "$WORK/l3.txt" 2>&1 \
  || fail "resume after the lock holder exited: $(tail -2 "$WORK/l3.txt")"
expect_error "training diverged" "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set name=div \
  --set optimizer.lr=1.0e+37 --set scheduler.warmup_iters=0 --set train.iters=10
[ ! -e "$WORK/runs/div/checkpoints/best.pt" ] || fail "a diverged run wrote best.pt"
echo "ok: run lock, diverged run"

# 6. Disk full (items 1-3): a clear error, no crash, no temporary file left.
if D="$(small_tmpfs 3m)" && [ -n "$D" ]; then
  MOUNTS+=("$D")
  cat > "$WORK/prep_full.yaml" <<YAML
input: "\${data}/train/T91"
output: $D/t91.h5
scale: 4
layout: patches
patch_size: 128
stride: 32
compression: 0
YAML
  expect_error "failed writing '$D/t91.h5' (disk full?)" "$SRLAB" prepare --config "$WORK/prep_full.yaml"
  [ -z "$(ls -A "$D")" ] || fail "prepare on a full disk left: $(ls "$D")"
  expect_error "(disk full?)" "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$D/runs" --set name=full \
    --set model.num_feat=256 --set train.save_every=1
  ls -R "$D" | grep -q "\.tmp\." && fail "train on a full disk left a temporary file: $(ls -R "$D")"
  rm -rf "$D/runs"
  "$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --set name=wide --set model.num_feat=256 \
    --no-eval > /dev/null 2>&1 || fail "wide train"
  head -c 2500000 /dev/zero > "$D/filler"
  expect_error "failed writing '$D/w.pt' (disk full?)" "$SRLAB" interpolate --a "$WORK/runs/wide/checkpoints/best.pt" \
    --b "$WORK/runs/wide/checkpoints/latest.pt" --alpha 0.5 --out "$D/w.pt"
  [ "$(ls "$D")" = "filler" ] || fail "interpolate on a full disk left: $(ls "$D")"
  echo "ok: disk full"
else
  echo "skip: disk-full checks need root (mount -t tmpfs)"
fi
echo "reliability: all passed"

#!/usr/bin/env bash
# Issue 28 end-to-end regressions of the srlab binary: hostile and damaged weight files, silently merged
# outputs, runaway launches and misleading errors. Every case must exit non-zero without a signal, say
# what is wrong naming the file or key, and write nothing. Hostile files are made here with Python's
# standard library (zipfile, struct, json: byte writers only; nothing is unpickled).
# usage: hostile_test.sh /path/to/srlab
set -euo pipefail
SRLAB="$(realpath "$1")"
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
source tests/cli/common.sh
SET5_LR="$(ls ../shared/data/benchmarks/Set5/x4/LR/*.png 2>/dev/null | head -1 || true)"
[ -n "$SET5_LR" ] || SET5_LR="$(ls "${SRLAB_DATA:-/nonexistent}"/benchmarks/Set5/x4/LR/*.png | head -1)"

# A tiny trained model and its community-format export give real weight files to damage.
tiny_config "$WORK/tiny.yaml" tiny 4 2 2 1 8
"$SRLAB" train --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs" --no-eval > "$WORK/t.txt" 2>&1 || fail "tiny train: $(tail -3 "$WORK/t.txt")"
CKPT="$WORK/runs/tiny/checkpoints/best.pt"
"$SRLAB" export -c "$CKPT" --format pth -o "$WORK/w.pth" > /dev/null 2>&1 || fail "export --format pth"
"$SRLAB" upscale -m "$WORK/w.pth" -i "$SET5_LR" -o "$WORK/good.png" > /dev/null 2>&1 || fail "upscale of the good export"

# 1. Hostile pickles and damaged containers: clean errors, no crash, nothing written.
python3 - "$WORK" <<'PY'
import json, struct, sys, zipfile
w = sys.argv[1]
with zipfile.ZipFile(f"{w}/deep_tuples.pth", "w") as z:   # a million nested tuples
    z.writestr("archive/data.pkl", b"\x80\x02)" + b"\x85" * 1_000_000 + b".")
with zipfile.ZipFile(f"{w}/deep_lists.pth", "w") as z:    # a million nested lists
    z.writestr("archive/data.pkl", b"\x80\x02" + b"]" * 1_000_000 + b"a" * 999_999 + b".")
# One flipped byte in a tensor record of the good export: its CRC-32 no longer matches.
src = zipfile.ZipFile(f"{w}/w.pth")
info = next(i for i in src.infolist() if "/data/" in i.filename and i.file_size >= 16)
raw = bytearray(open(f"{w}/w.pth", "rb").read())
name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
raw[info.header_offset + 30 + name_len + extra_len + 5] ^= 0x10
open(f"{w}/crc.pth", "wb").write(bytes(raw))
def st(path, header, data):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
f = lambda *v: struct.pack(f"<{len(v)}f", *v)
st(f"{w}/overlap.safetensors", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f(1, 2, 3, 4))
st(f"{w}/dup.safetensors", b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                           b'"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},'
                           b'"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', f(1, 2, 3, 4))
st(f"{w}/overflow.safetensors", {"a": {"dtype": "F32", "shape": [2**32, 2**32, 16], "data_offsets": [0, 0]}}, b"")
st(f"{w}/list.safetensors", [{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}], f(1))
st(f"{w}/nan.safetensors", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, f(float("nan"), 1))
open(f"{w}/noinput.onnx", "wb").write(bytes([0x08, 0x07, 0x3a, 0x03, 0x12, 0x01, 0x67, 0x42, 0x02, 0x10, 0x0d]))
PY
for f in deep_tuples deep_lists; do
  expect_error "nested deeper than 100 levels" "$SRLAB" models inspect "$WORK/$f.pth"
  grep -qF "$WORK/$f.pth" "$WORK/err.txt" || fail "$f: the file is not named"
  expect_error "nested deeper than 100 levels" "$SRLAB" upscale -m "$WORK/$f.pth" -i "$SET5_LR" -o "$WORK/$f.png"
  [ ! -e "$WORK/$f.png" ] || fail "$f: an output was written"
done
expect_error "is damaged" "$SRLAB" upscale -m "$WORK/crc.pth" -i "$SET5_LR" -o "$WORK/crc.png"
grep -qF "$WORK/crc.pth" "$WORK/err.txt" || fail "crc: the file is not named"
[ ! -e "$WORK/crc.png" ] || fail "crc: an output was written"
expect_error "share bytes" "$SRLAB" models inspect "$WORK/overlap.safetensors"
expect_error "names 'a' twice" "$SRLAB" models inspect "$WORK/dup.safetensors"
expect_error "overflows 64 bits" "$SRLAB" models inspect "$WORK/overflow.safetensors"
grep -qF "$WORK/overflow.safetensors" "$WORK/err.txt" || fail "overflow: the file is not named"
expect_error "header is a JSON array" "$SRLAB" models inspect "$WORK/list.safetensors"
expect_error "tensor 'w' holds 1 NaN/Inf value" "$SRLAB" upscale -m "$WORK/nan.safetensors" -i "$SET5_LR" -o "$WORK/nan.png"
[ ! -e "$WORK/nan.png" ] || fail "nan: an output was written"
expect_error "$WORK/noinput.onnx" "$SRLAB" upscale -m "$WORK/noinput.onnx" -i "$SET5_LR" -o "$WORK/noinput.png"
echo "ok: hostile weight files"

# 2. Model options: the option itself is the error, not the architecture.
expect_error "invalid model option" "$SRLAB" upscale -m "$WORK/w.pth" --model-option foo=1 -i "$SET5_LR" -o "$WORK/o.png"
grep -qF "unknown key 'foo'" "$WORK/err.txt" || fail "foo=1: the key is not named"
! grep -qF "cannot detect the architecture" "$WORK/err.txt" || fail "foo=1 is reported as an undetected architecture"
expect_error "invalid model option" "$SRLAB" upscale -m "$WORK/w.pth" --model-option num_feat=abc -i "$SET5_LR" -o "$WORK/o.png"
expect_error "expected key=value" "$SRLAB" upscale -m "$WORK/w.pth" --model-option num_feat -i "$SET5_LR" -o "$WORK/o.png"
[ ! -e "$WORK/o.png" ] || fail "model options: an output was written"
echo "ok: model options"

# 3. Path kinds: a folder where a file is expected and the reverse, in every command.
mkdir -p "$WORK/dir.onnx"
expect_error "is a folder; expected a file" "$SRLAB" export -c "$CKPT" -o "$WORK/dir.onnx"
expect_error "is a folder; expected a file" "$SRLAB" export -c "$CKPT" -o "$WORK/dir.onnx" --overwrite
expect_error "is a folder; expected a file" "$SRLAB" interpolate --a "$CKPT" --b "$CKPT" --alpha 0.5 -o "$WORK/dir.onnx" --overwrite
expect_error "is a file; expected a folder" "$SRLAB" eval -d "$SET5_LR" -m bicubic --scale 4
touch "$WORK/afile"
expect_error "is a file; expected a folder" "$SRLAB" compare --config configs/gan/compare_x4.yaml --out "$WORK/afile"
expect_error "is a file; expected a folder" "$SRLAB" eval -d '${data}/benchmarks/Set5/x4' -m bicubic --save-images "$WORK/afile"
echo "ok: path kinds"

# 4. An image smaller than the scale names the file.
python3 -c "import zlib,struct,sys
def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))
png=b'\x89PNG\r\n\x1a\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',2,2,8,2,0,0,0))+chunk(b'IDAT',zlib.compress(b'\x00'+b'\x80'*6+b'\x00'+b'\x80'*6))+chunk(b'IEND',b'')
open(sys.argv[1],'wb').write(png)" "$WORK/tiny.png"
expect_error "$WORK/tiny.png' (2x2 pixels) is smaller than the scale 4" "$SRLAB" degrade -c configs/degradations/first_order.yaml -i "$WORK/tiny.png" -o "$WORK/deg" --scale 4
[ ! -e "$WORK/deg" ] || fail "degrade: an output folder was written"
echo "ok: small image"

# 5. Names that differ only in characters a file name cannot hold stay distinct.
mkdir -p "$WORK/names"
HR1="$(ls ../shared/data/benchmarks/Set5/x4/HR/*.png | head -1)"
HR2="$(ls ../shared/data/benchmarks/Set5/x4/HR/*.png | sed -n 2p)"
cp "$HR1" "$WORK/names/a<b.png"
cp "$HR2" "$WORK/names/a>b.png"
"$SRLAB" eval -d "$WORK/names" -m bicubic --scale 4 --save-images "$WORK/saved" --html "$WORK/report/report.html" \
  > "$WORK/e.txt" 2>&1 || fail "eval of a<b/a>b: $(tail -3 "$WORK/e.txt")"
n="$(find "$WORK/saved" -name '*.png' -path '*bicubic*' | wc -l)"
[ "$n" -eq 2 ] || fail "a<b.png and a>b.png saved as $n files: $(find "$WORK/saved" -name '*.png')"
echo "ok: distinct saved names"

# 6. Launches: --nproc is bounded, the config is checked before any worker starts.
expect_error "is more than this machine can run" "$SRLAB" train --nproc 1000 --config "$WORK/tiny.yaml" --runs-dir "$WORK/runs2"
sed 's/batch_size: 2/batch_size: 3/' "$WORK/tiny.yaml" > "$WORK/odd.yaml"
expect_error "must be divisible by the number of processes (2)" "$SRLAB" train --nproc 2 --config "$WORK/odd.yaml" --runs-dir "$WORK/runs2"
[ "$(grep -c "must be divisible" "$WORK/err.txt")" -eq 1 ] || fail "the config error was printed by more than one process"
! grep -q "started 2 workers" "$WORK/out.txt" "$WORK/err.txt" || fail "workers were started for an invalid config"
[ ! -e "$WORK/runs2" ] || fail "a run folder was made for an invalid config"
echo "ok: launches"
echo "hostile: all passed"

#pragma once
// The Python side of tests/models/test_weight_export.cpp, run with Debian's /usr/bin/python3 (python3-torch).
// Independent of SRLab's writers: PyTorch's own torch.load(weights_only=True) for .pth, and a plain
// struct/json/numpy parse of the safetensors format for .safetensors.
//   check_pth OURS.pth REF.json      REF.json: {"<entry>": {"bin": file, "tensors": [{"key","shape","offset"}]}}
//                                    (raw float32 reference values in file at byte offset); exact key set,
//                                    shapes, dtype float32 and values of every entry, no other entries
//   check_safetensors OURS.safetensors REF.json ENTRY  the format rules and exact values of ENTRY; prints metadata
//   check_fixture OURS.pth FIXTURE      our params_ema and params vs the fixture's generator weights (its
//                                    params_ema, else params, else the bare dict; 'module.' stripped);
//                                    FIXTURE .pth (torch.load) or .safetensors (plain struct/json/numpy parse)
namespace srlab::testing {
inline const char* kExportCheckPy = R"PY(
import json, struct, sys, collections
import numpy as np
import torch

def reference(ref_json, entry):
    spec = json.load(open(ref_json))[entry]
    raw = open(spec["bin"], "rb").read()
    out = collections.OrderedDict()
    for t in spec["tensors"]:
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        a = np.frombuffer(raw, dtype="<f4", count=n, offset=t["offset"]).reshape(t["shape"])
        out[t["key"]] = torch.from_numpy(a.copy())
    return out

def same(ours, ref, what):
    if set(ours) != set(ref):
        sys.exit("%s: key sets differ: only ours %s, only reference %s" % (what, sorted(set(ours) - set(ref))[:5], sorted(set(ref) - set(ours))[:5]))
    for k, v in ref.items():
        o = ours[k]
        if o.dtype != torch.float32: sys.exit("%s: %s is %s" % (what, k, o.dtype))
        if tuple(o.shape) != tuple(v.shape): sys.exit("%s: %s shape %s vs %s" % (what, k, tuple(o.shape), tuple(v.shape)))
        if not torch.equal(o, v.to(torch.float32)): sys.exit("%s: %s values differ (max %g)" % (what, k, (o - v).abs().max()))

def check_pth(path, ref_json):
    sd = torch.load(path, map_location="cpu", weights_only=True)
    entries = json.load(open(ref_json))
    if not isinstance(sd, dict) or set(sd) != set(entries): sys.exit("top-level keys %s, expected %s" % (list(sd) if isinstance(sd, dict) else type(sd), list(entries)))
    for e in entries:
        if not isinstance(sd[e], collections.OrderedDict): sys.exit("%s is a %s, not an OrderedDict" % (e, type(sd[e])))
        same(sd[e], reference(ref_json, e), e)
    print("OK pth", path, {e: len(sd[e]) for e in entries})

def check_safetensors(path, ref_json, entry):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    if 8 + n > len(raw): sys.exit("header length %d beyond the file" % n)
    if (8 + n) % 8: sys.exit("data start %d not 8-byte aligned" % (8 + n))
    text = raw[8:8 + n].decode("utf-8")
    if not text.startswith("{"): sys.exit("header does not start with {")
    header = json.loads(text)
    meta = header.pop("__metadata__", {})
    if not all(isinstance(v, str) for v in meta.values()): sys.exit("metadata values must be strings")
    data = raw[8 + n:]
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    pos = 0
    for b, e in spans:
        if b != pos: sys.exit("hole or overlap at %d" % b)
        pos = e
    if pos != len(data): sys.exit("data is %d bytes, offsets cover %d" % (len(data), pos))
    ours = collections.OrderedDict()
    for k, v in header.items():
        if v["dtype"] != "F32": sys.exit("%s dtype %s" % (k, v["dtype"]))
        b, e = v["data_offsets"]
        a = np.frombuffer(data[b:e], dtype="<f4")
        if a.size != (int(np.prod(v["shape"])) if v["shape"] else 1): sys.exit("%s: %d values for shape %s" % (k, a.size, v["shape"]))
        ours[k] = torch.from_numpy(a.copy()).reshape(v["shape"])
    same(ours, reference(ref_json, entry), "safetensors")
    print("OK safetensors", json.dumps(meta, sort_keys=True))

def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    dtypes = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
    out = collections.OrderedDict()
    for k, v in header.items():
        b, e = v["data_offsets"]
        a = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dtypes[v["dtype"]])
        out[k] = torch.from_numpy(a.copy()).reshape(v["shape"])
    return out

def check_fixture(path, fixture):
    ours = torch.load(path, map_location="cpu", weights_only=True)
    if fixture.endswith(".safetensors"):
        ref = read_safetensors(fixture)
    else:
        ref = torch.load(fixture, map_location="cpu", weights_only=True)
    for k in ("params_ema", "params"):
        if isinstance(ref, dict) and k in ref:
            ref = ref[k]
            break
    ref = collections.OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in ref.items())
    if set(ours) != {"params_ema", "params"}: sys.exit("top-level keys %s" % list(ours))
    same(ours["params_ema"], ref, "params_ema")
    same(ours["params"], ref, "params")
    print("OK fixture", fixture, len(ref), "tensors")

{"check_pth": check_pth, "check_safetensors": check_safetensors, "check_fixture": check_fixture}[sys.argv[1]](*sys.argv[2:])
)PY";
}  // namespace srlab::testing

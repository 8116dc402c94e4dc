#!/usr/bin/env python3
"""Independent check of the TensorBoard event files of an SRLab run folder (no SRLab code involved).

usage: tfevents_check.py RUN_DIR [EXPECTED_FILES]

Reads every events.out.tfevents.* file of RUN_DIR in name order with its own TFRecord reader (CRC-32C
written here, bit by bit, from the Castagnoli polynomial; TFRecord masking) and its own protobuf wire
decoder (field numbers of TensorFlow's event.proto / summary.proto), decodes the first records with
Google's `protoc --decode_raw` too, applies TensorBoard's SessionLog START rule (the first START is
ignored, a later START at step s drops the points with step >= s), and checks that the points left are
exactly the rows of RUN_DIR/metrics.csv (same tags, numbers equal up to the CSV's printed digits).
Exits non-zero with a message on the first mismatch.
"""
import csv
import glob
import os
import struct
import subprocess
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)  # 0x1EDC6F41 reflected
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    raw = open(path, "rb").read()
    pos = 0
    while pos < len(raw):
        assert len(raw) - pos >= 12, f"{path}: truncated header at {pos}"
        (n,) = struct.unpack("<Q", raw[pos:pos + 8])
        (lcrc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        assert lcrc == masked(raw[pos:pos + 8]), f"{path}: length CRC at {pos}"
        data = raw[pos + 12:pos + 12 + n]
        (dcrc,) = struct.unpack("<I", raw[pos + 12 + n:pos + 16 + n])
        assert len(data) == n and dcrc == masked(data), f"{path}: data CRC at {pos}"
        yield data
        pos += 16 + n


def fields(buf):
    """(field number, wire type, value) of a protobuf message."""
    pos = 0

    def varint():
        nonlocal pos
        v, shift = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    while pos < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            yield num, wt, varint()
        elif wt == 1:
            yield num, wt, buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            n = varint()
            yield num, wt, buf[pos:pos + n]
            pos += n
        elif wt == 5:
            yield num, wt, buf[pos:pos + 4]
            pos += 4
        else:
            raise AssertionError(f"wire type {wt}")


def decode_event(buf):
    """Event: 1 wall_time (double), 2 step, 3 file_version, 5 summary {1 value {1 tag, 2 simple_value}},
    7 session_log {1 status}."""
    ev = {"step": 0, "values": {}}
    for num, wt, v in fields(buf):
        if num == 1 and wt == 1:
            ev["wall_time"] = struct.unpack("<d", v)[0]
        elif num == 2 and wt == 0:
            ev["step"] = v
        elif num == 3 and wt == 2:
            ev["file_version"] = v.decode()
        elif num == 5 and wt == 2:
            for n1, _, value in fields(v):
                assert n1 == 1
                val = {n2: x for n2, _, x in fields(value)}
                ev["values"][val[1].decode()] = struct.unpack("<f", val[2])[0]
        elif num == 7 and wt == 2:
            ev["session_status"] = {n2: x for n2, _, x in fields(v)}.get(1, 0)
    return ev


def decode_raw(data):
    return subprocess.run(["protoc", "--decode_raw"], input=data, capture_output=True, check=True).stdout.decode()


def main():
    run_dir = sys.argv[1]
    files = sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))
    if len(sys.argv) > 2:
        assert len(files) == int(sys.argv[2]), f"{len(files)} event files, expected {sys.argv[2]}: {files}"
    assert files, f"no event file in {run_dir}"
    points, seen_start = {}, False
    for path in files:
        recs = list(records(path))
        first, second = decode_event(recs[0]), decode_event(recs[1])
        assert first.get("file_version") == "brain.Event:2" and 1e9 < first["wall_time"] < 1e10, first
        assert second.get("session_status") == 1, second
        text = decode_raw(recs[0]) + decode_raw(recs[1]) + (decode_raw(recs[2]) if len(recs) > 2 else "")
        assert '3: "brain.Event:2"' in text and "7 {\n  1: 1\n}" in text, text
        if len(recs) > 2:
            assert "5 {\n  1 {\n    1: \"train/" in text, text
        for data in recs:
            ev = decode_event(data)
            if ev.get("session_status") == 1:
                if seen_start:
                    points = {s: v for s, v in points.items() if s < ev["step"]}
                seen_start = True
            for tag, value in ev["values"].items():
                assert tag not in points.setdefault(ev["step"], {}), f"{tag} twice at step {ev['step']}"
                points[ev["step"]][tag] = value
    points = {s: v for s, v in points.items() if v}
    rows = list(csv.DictReader(open(os.path.join(run_dir, "metrics.csv"))))
    assert sorted(points) == [int(r["iteration"]) for r in rows], (sorted(points), [r["iteration"] for r in rows])
    for r in rows:
        got = points[int(r["iteration"])]
        want = {("val/" + k[4:] if k.startswith("val_") else "train/" + k): v for k, v in r.items()
                if k != "iteration" and v != ""}
        assert set(got) == set(want), (r["iteration"], sorted(got), sorted(want))
        for tag, text in want.items():
            digits = 0 if "e" in text or "." not in text else len(text.split(".")[1])
            tol = 1e-6 * abs(float(text)) + (0.51 * 10 ** -digits if digits else 0)
            assert abs(got[tag] - float(text)) <= tol, (r["iteration"], tag, got[tag], text)
    print(f"ok: {len(files)} event file(s), {len(rows)} metrics.csv rows match "
          f"({sum(len(v) for v in points.values())} points; CRCs, protoc --decode_raw)")


if __name__ == "__main__":
    main()

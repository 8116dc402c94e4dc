#!/usr/bin/env bash
# README's configuration tables against the registries (`srlab models --names`), so the two cannot drift:
# - "Configuration keys": the `model` row's type list equals the generator registry; every registered
#   discriminator and loss type is named in its row;
# - the degradation table ("Degradations and HDF5 datasets") lists exactly the registered degradations;
# - "ONNX export": the "Exportable generator types" list equals the exporter registry.
# usage: readme_registry_test.sh /path/to/srlab
set -euo pipefail
SRLAB="$(realpath "$1")"
cd "$(dirname "$0")/../.."  # repository root
"$SRLAB" models --names > "${TMPDIR:-/tmp}/srlab_models_$$.txt"
trap 'rm -f "${TMPDIR:-/tmp}/srlab_models_$$.txt"' EXIT
python3 - README.md "${TMPDIR:-/tmp}/srlab_models_$$.txt" <<'PY'
import re, sys
readme = open(sys.argv[1], encoding="utf-8").read()
reg = {}
for line in open(sys.argv[2]):
    kind, name = line.rstrip("\n").split("\t")
    reg.setdefault(kind, set()).add(name)
for kind in ("generator", "discriminator", "loss", "degradation", "exporter"):
    assert reg.get(kind), f"`srlab models --names` listed no {kind}"

def section(title):
    m = re.search(r"^#+ " + re.escape(title) + r".*?$(.*?)(?=^#+ )", readme, re.S | re.M)
    assert m, f"README has no section '{title}'"
    return m.group(1)

def row(text, first_cell):
    for line in text.splitlines():
        if line.startswith(f"| `{first_cell}` |"):
            return line
    raise AssertionError(f"README 'Configuration keys' has no `{first_cell}` row")

ticks = lambda text: set(re.findall(r"`([A-Za-z0-9_]+)`", text))
errors = []
def same(what, documented, registered):
    if documented != registered:
        errors.append(f"{what}: README lacks {sorted(registered - documented)}, "
                      f"README lists unregistered {sorted(documented - registered)}")
def covered(what, documented, registered):
    if not registered <= documented:
        errors.append(f"{what}: README lacks {sorted(registered - documented)}")

keys = section("Configuration keys")
model = row(keys, "model")
m = re.search(r"`type` \(([^)]*)\)", model)
assert m, "the `model` row has no `type` (...) list"
same("model.type (Configuration keys)", ticks(m.group(1)), reg["generator"])
covered("discriminator.type (Configuration keys)", ticks(row(keys, "discriminator")), reg["discriminator"])
covered("losses[].type (Configuration keys)", ticks(row(keys, "losses")), reg["loss"])

degr = section("Degradations and HDF5 datasets")
first_cells = set()
for line in degr.splitlines():
    if line.startswith("| `"):
        first_cells |= ticks(line.split("|")[1])
same("degradation.type (the degradation table)", first_cells, reg["degradation"])

onnx = section("ONNX export")
m = re.search(r"Exportable generator types[^:]*:(.*?)\.\s*$", onnx, re.S | re.M)
assert m, "'ONNX export' has no 'Exportable generator types ...: `a`, `b`.' list"
same("ONNX exporters (ONNX export)", ticks(m.group(1)), reg["exporter"])

if errors:
    sys.exit("README and the registries differ:\n  " + "\n  ".join(errors))
print("ok: README tables match the registries:", {k: len(v) for k, v in reg.items()})
PY

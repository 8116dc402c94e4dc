#!/usr/bin/env bash
# Builds a placeholder shared library SONAME for a library that is not installed, from what IMPORTER needs
# of it: every undefined dynamic symbol of IMPORTER bound to the version node named SONAME (how
# libtorch_cuda.so imports cuDNN: cudnnCreate@libcudnn.so.9). Each function prints its name and aborts.
#   bash scripts/import_placeholder.sh libcudnn.so.9 libtorch_cuda.so OUT_DIR    (a name: found by ldconfig)
# Used by scripts/check_cuda_build.sh: libtorch_cuda.so is linked with BIND_NOW, so without cuDNN (a
# downloader package, no internet here) no binary of the CUDA build can start, not even on the CPU.
set -euo pipefail
soname="$1" importer="$2" out="$3"
mkdir -p "$out"
case "$importer" in
  /*) ;;
  *) importer="$(ldconfig -p | awk -v n="$importer" '$1 == n && !found { print $NF; found = 1 }')" ;;
esac
[ -f "$importer" ] || { echo "import_placeholder: importer $2 not found" >&2; exit 1; }
readelf --dyn-syms -W "$importer" |
  awk -v v="@$soname" '$7 == "UND" && index($8, v) { sub(/@.*/, "", $8); print $4, $8 }' | sort -u > "$out/$soname.symbols"
[ -s "$out/$soname.symbols" ] || { echo "import_placeholder: $importer imports nothing versioned $soname" >&2; exit 1; }
grep -v '^FUNC ' "$out/$soname.symbols" >&2 && { echo "import_placeholder: non-function imports above" >&2; exit 1; }
{
  echo "/* Placeholder $soname (SRLab scripts/import_placeholder.sh) for $importer. */"
  echo '#include <stdio.h>'; echo '#include <stdlib.h>'
  echo "static void called(const char* f) { fprintf(stderr, \"$soname is a placeholder (no such library here): %s was called\\n\", f); abort(); }"
  awk '{ printf "void ph_%d(void) __asm__(\"%s\");\nvoid ph_%d(void) { called(\"%s\"); }\n", NR, $2, NR, $2 }' "$out/$soname.symbols"
} > "$out/$soname.c"
echo "$soname { global: *; };" > "$out/$soname.map"
gcc -shared -fPIC -O1 -o "$out/$soname" -Wl,-soname,"$soname" -Wl,--version-script="$out/$soname.map" "$out/$soname.c"
echo "import_placeholder: $out/$soname with $(wc -l < "$out/$soname.symbols") functions imported by $(basename "$importer")"

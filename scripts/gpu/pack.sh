#!/usr/bin/env bash
# Packs what a GPU machine may lack to build SRLab against *its own* LibTorch (PyTorch's): the non-torch
# libraries SRLab links (OpenCV core/imgproc/imgcodecs/dnn, yaml-cpp, Boost.Program_options, HDF5, fmt,
# libpng, protobuf + ONNX, libzip, zlib; GoogleTest + Google Benchmark for the tests) with the headers and
# CMake/pkg-config files of this Debian machine, into one folder (default ./gpu-kit, git-ignored):
#   bash scripts/gpu/pack.sh [KIT_DIR]        # needs a built ./build (its dependency files list the headers)
# Used by scripts/gpu/run.sh (on the GPU machine) and proved by scripts/gpu/check_kit.sh (clean chroot).
#
# Why not a copy of the dependency closure: Debian's OpenCV pulls in GDAL, GDCM, OpenEXR, OpenGL, LAPACK
# (OpenBLAS), and HDF5 pulls in libcurl (TLS, LDAP, Kerberos, ...): 290 libraries, ~500 MiB with LibTorch,
# far over the 64 MiB a GPU run may carry (the figures are printed below for this machine). Those libraries
# serve code paths SRLab never calls (GDAL/DICOM/EXR/JPEG 2000-in-DICOM readers, OpenGL interop, LAPACK
# solvers, HDF5's S3 driver, libzip's encryption). Debian links them with BIND_NOW, so they must still load:
# each is replaced by a *placeholder* library of the same SONAME that defines exactly the symbols the kept
# libraries import from it (read from the real library's dynamic symbol table, with its symbol versions);
# every placeholder function prints its name and aborts, so a call can never go unnoticed; on the target,
# a placeholder is used only where the machine has no library of that SONAME (kit_env.sh). Headers are only
# those SRLab's build includes (from ./build's compiler dependency files), not whole -dev packages (Boost
# alone is 162 MiB). The C library, libstdc++, libgcc_s and everything LibTorch brings are not packed
# (libstdc++ is kept aside in compat/ for machines whose own is older than this one's).
set -euo pipefail
trap 'echo "pack: error: failed at line $LINENO (exit $?)" >&2' ERR
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
KIT="${1:-$REPO/gpu-kit}"
BUILD="${SRLAB_PACK_BUILD:-$REPO/build}"
MA="$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
LIBDIR=/usr/lib/$MA
log() { echo "pack: $*"; }
die() { echo "pack: error: $*" >&2; exit 1; }
[ -f "$BUILD/CMakeCache.txt" ] || die "no configured build in $BUILD (run: bash scripts/setup.sh --tests)"
command -v readelf >/dev/null || die "readelf missing (binutils)"

# --- which libraries -------------------------------------------------------------------------------------
# Not packed: provided by any glibc system, or by the GPU machine's LibTorch (PyTorch wheel).
is_system() { [[ "$1" =~ ^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s|libgomp|libutil|libresolv)\.so ]]; }
is_torch() { [[ "$1" =~ ^(libtorch|libc10|libcaffe2|libshm) ]]; }
# Placeholders (see the file comment): what SRLab's code paths never call. One regex per reason.
PLACEHOLDER_RE='^(libgdal|libgdcm'                                          # imgcodecs' GDAL/DICOM readers
PLACEHOLDER_RE+='|libGLX|libGL\.|libGLdispatch|libOpenGL'                    # core's OpenGL interop
PLACEHOLDER_RE+='|liblapack|libblas|libopenblas'                            # core's LAPACK solvers (cv::solve, SVD)
PLACEHOLDER_RE+='|libcurl|libssl|libgnutls|libnettle|libhogweed)'  # HDF5's S3 driver (libcrypto stays: libzip draws its temporary names with RAND_bytes)
is_placeholder() { [[ "$1" =~ $PLACEHOLDER_RE ]]; }
# Placeholder functions that return instead of aborting: OpenCV calls them when it builds its codec list,
# whether or not an image ever goes through that codec (found by scripts/gpu/placeholder_check.sh).
#   GDALAllRegister: GdalDecoder's constructor registers GDAL's drivers (none, with the placeholder).
INERT_SYMBOLS=" GDALAllRegister " 

needed() { readelf -d "$1" 2>/dev/null | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }'; }
resolve() {  # SONAME -> path on this machine
  local p
  for p in "$LIBDIR/$1" "/lib/$MA/$1" "$LIBDIR/hdf5/serial/$1"; do [ -e "$p" ] && { readlink -f "$p"; return; }; done
  ldconfig -p | awk -v n="$1" '$1 == n && !found { print $NF; found = 1 }'
}

# Roots: the NEEDED entries of every executable of the build (srlab, tests, benchmarks).
mapfile -t EXES < <(find "$BUILD/bin" "$BUILD/tests" -maxdepth 2 -type f -perm -u+x -name '*' ! -name '*.sh' 2>/dev/null |
                    while read -r f; do [ "$(head -c4 "$f" | tr -d '\0' | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$f"; done)
[ "${#EXES[@]}" -gt 0 ] || die "no executables in $BUILD"
# protoc generates the TensorBoard event protobufs at build time (cli/CMakeLists.txt): packed with its libraries.
PROTOC="$(command -v protoc)" || die "protoc missing (protobuf-compiler)"
declare -A KEEP=() PH=() SEEN=() NAIVE=()
queue=()
for e in "${EXES[@]}" "$PROTOC"; do while read -r n; do queue+=("$n"); done < <(needed "$e"); done
while ((${#queue[@]})); do
  n="${queue[0]}"; queue=("${queue[@]:1}")
  [ -n "${SEEN[$n]:-}" ] && continue
  SEEN[$n]=1
  is_system "$n" && continue
  is_torch "$n" && continue
  p="$(resolve "$n")"
  [ -n "$p" ] || die "cannot find $n on this machine"
  if is_placeholder "$n"; then PH[$n]="$p"; continue; fi
  KEEP[$n]="$p"
  while read -r m; do queue+=("$m"); done < <(needed "$p")
done

# The naive closure for comparison (everything but the C library, with LibTorch's own dependencies).
naive_queue=()
for e in "${EXES[@]}"; do while read -r n; do naive_queue+=("$n"); done < <(needed "$e"); done
while ((${#naive_queue[@]})); do
  n="${naive_queue[0]}"; naive_queue=("${naive_queue[@]:1}")
  [ -n "${NAIVE[$n]:-}" ] && continue
  p="$(resolve "$n")"; NAIVE[$n]="${p:-none}"
  [[ "$n" =~ ^(libc|libm|ld-linux-x86-64)\.so ]] && continue
  [ -n "$p" ] && while read -r m; do naive_queue+=("$m"); done < <(needed "$p")
done
size_of() { local t=0 f; for f in "$@"; do [ -f "$f" ] && t=$((t + $(stat -L -c %s "$f"))); done; echo "$t"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
naive_all=(); naive_notorch=()
for n in "${!NAIVE[@]}"; do
  naive_all+=("${NAIVE[$n]}")
  is_torch "$n" || is_system "$n" || naive_notorch+=("${NAIVE[$n]}")
done
log "naive dependency closure: ${#naive_all[@]} libraries, $(mib "$(size_of "${naive_all[@]}")") (without LibTorch and libc: $(mib "$(size_of "${naive_notorch[@]}")"))"

rm -rf "$KIT.partial"
U="$KIT.partial/usr"
mkdir -p "$U/lib/$MA" "$U/include" "$KIT.partial/compat" "$KIT.partial/placeholder-src"

# --- kept libraries: the file under its SONAME, plus the -dev symlink (lib*.so) where one exists ----------
# (the real file name as well: CMake's export files name it, e.g. libopencv_core.so.4.6.0 beside .so.406)
for n in "${!KEEP[@]}"; do
  p="${KEEP[$n]}"
  cp -Lp "$p" "$U/lib/$MA/$(basename "$p")"
  [ "$(basename "$p")" = "$n" ] || ln -sf "$(basename "$p")" "$U/lib/$MA/$n"
done
# -dev links and static libraries SRLab's CMake files link by name.
for f in "$LIBDIR"/lib*.so "$LIBDIR"/hdf5/serial/lib*.so; do
  [ -L "$f" ] || continue
  t="$(basename "$(readlink -f "$f")")"
  for n in "${!KEEP[@]}"; do
    if [ "$(basename "${KEEP[$n]}")" = "$t" ]; then
      rel="${f#"$LIBDIR"/}"; mkdir -p "$(dirname "$U/lib/$MA/$rel")"
      ln -sf "$([[ "$rel" == hdf5/serial/* ]] && echo ../../)$n" "$U/lib/$MA/$rel"
    fi
  done
done
for a in libgtest.a libgtest_main.a libgmock.a libgmock_main.a libbenchmark_main.a; do
  [ -f "$LIBDIR/$a" ] && cp "$LIBDIR/$a" "$U/lib/$MA/"
done
# protoc runs at build time: a wrapper gives it the kit's libprotoc/libprotobuf (nothing else of the kit's
# is on any library path: SRLab's binaries find the kit through their rpath, see kit_env.sh).
mkdir -p "$U/bin"; cp -L "$PROTOC" "$U/bin/protoc.bin"
printf '%s\n' '#!/bin/sh' 'd="$(dirname "$(readlink -f "$0")")"' \
  "LD_LIBRARY_PATH=\"\$d/../lib/$MA\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\" exec \"\$d/protoc.bin\" \"\$@\"" > "$U/bin/protoc"
chmod +x "$U/bin/protoc"
[ -f "$LIBDIR/libstdc++.so.6" ] && cp -L "$LIBDIR/libstdc++.so.6" "$KIT.partial/compat/"

# --- placeholders ----------------------------------------------------------------------------------------
# Symbols exported by kept libraries: a placeholder must not shadow one of them.
kept_exports="$KIT.partial/placeholder-src/kept-exports.txt"
# readelf --dyn-syms -W columns: Num Value Size Type Bind Vis Ndx Name[@[@]VERSION] [(n)].
defined_syms() { readelf --dyn-syms -W "$1" | awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && ($4 == "FUNC" || $4 == "IFUNC" || $4 == "OBJECT") { print $4, $3, $8 }'; }
undefined_syms() { readelf --dyn-syms -W "$1" | awk '$7 == "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }'; }
for n in "${!KEEP[@]}"; do defined_syms "${KEEP[$n]}" | awk '{ sub(/@.*/, "", $3); print $3 }'; done | sort -u > "$kept_exports"
make_placeholder() {  # SONAME path
  local n="$1" p="$2" src="$KIT.partial/placeholder-src/$1" k
  mkdir -p "$src"
  # What the kept libraries that need $n import, minus what a kept library defines.
  for k in "${!KEEP[@]}"; do
    if needed "${KEEP[$k]}" | grep -x "$n" >/dev/null; then undefined_syms "${KEEP[$k]}"; fi
  done | sort -u | comm -23 - "$kept_exports" > "$src/imported.txt"
  # The real library's default-version definitions of those: TYPE SIZE NAME VERSION.
  defined_syms "$p" | awk '$3 !~ /[^@]@[^@]/ { v = ""; if (index($3, "@@")) { v = substr($3, index($3, "@@") + 2); $3 = substr($3, 1, index($3, "@@") - 1) } print $1, $2, $3, v }' |
    sort -k3,3 -u | awk 'NR == FNR { want[$1] = 1; next } ($3 in want)' "$src/imported.txt" - > "$src/symbols.txt"
  {
    echo "/* Placeholder for $n (SRLab scripts/gpu/pack.sh), generated from $p: defines the $(wc -l < "$src/symbols.txt")"
    echo "   symbols the packed libraries import from it, so they load (BIND_NOW). Every function aborts. */"
    echo '#include <stdio.h>'; echo '#include <stdlib.h>'
    echo "static void srlab_placeholder_called(const char* f) { fprintf(stderr, \"$n is a placeholder in SRLab's GPU kit (scripts/gpu/pack.sh): %s was called; install the real library\\n\", f); abort(); }"
    awk -v inert="$INERT_SYMBOLS" '{
           if ($1 == "OBJECT") printf "__attribute__((aligned(16))) char srlab_ph_%d[%d] __asm__(\"%s\");\n", NR, ($2 > 0 ? $2 : 1), $3;
           else if (index(inert, " " $3 " ")) printf "void srlab_ph_%d(void) __asm__(\"%s\");\nvoid srlab_ph_%d(void) {}  /* inert (pack.sh INERT_SYMBOLS) */\n", NR, $3, NR;
           else printf "void srlab_ph_%d(void) __asm__(\"%s\");\nvoid srlab_ph_%d(void) { srlab_placeholder_called(\"%s\"); }\n", NR, $3, NR, $3 }' "$src/symbols.txt"
  } > "$src/placeholder.c"
  # Version nodes as the real library names them (the importers bind to name@VERSION).
  awk '$4 != "" { v[$4] = v[$4] "  " $3 ";\n" } END { for (k in v) printf "%s {\n global:\n%s};\n", k, v[k] }' "$src/symbols.txt" > "$src/version.map"
  local vflag=(); [ -s "$src/version.map" ] && vflag=(-Wl,--version-script="$src/version.map")
  gcc -shared -fPIC -O1 -w -o "$U/lib/$MA/placeholders/$n" -Wl,-soname,"$n" "${vflag[@]}" "$src/placeholder.c"
}
# In a folder of their own: kit_env.sh links only those whose SONAME the target machine lacks (a real
# library, where there is one, always wins; LibTorch's own dependencies may need it, e.g. libcrypto).
mkdir -p "$U/lib/$MA/placeholders"
for n in "${!PH[@]}"; do make_placeholder "$n" "${PH[$n]}"; done

# --- headers (timestamps kept: a repacked kit does not make a build folder recompile): those the build included (compiler dependency files), minus LibTorch's and the C/C++ runtime's
excluded="$KIT.partial/placeholder-src/excluded-headers.txt"
dpkg -L libtorch-dev libc6-dev linux-libc-dev "libstdc++-$(gcc -dumpversion | cut -d. -f1)-dev" \
     "libgcc-$(gcc -dumpversion | cut -d. -f1)-dev" 2>/dev/null | grep '^/usr/include/' | sort -u > "$excluded"
find "$BUILD" -name '*.d' -path '*CMakeFiles*' -print0 | xargs -0 cat | tr ' \\' '\n\n' | grep '^/usr/include/' |
  sort -u | comm -23 - "$excluded" | grep -v -E '^/usr/include/(torch|ATen|c10|caffe2|c\+\+|x86_64-linux-gnu/(bits|sys|gnu|asm|c\+\+))/' |
  while read -r h; do mkdir -p "$U/$(dirname "${h#/usr/}")"; cp -Lp "$h" "$U/${h#/usr/}"; done
# gloo (LibTorch's c10d headers include it; PyTorch's wheel may lack it): the whole folder, 352 KiB.
[ -d /usr/include/gloo ] && cp -rLp /usr/include/gloo "$U/include/"

# --- CMake and pkg-config files of the packed libraries (their paths are relative to their own folder) ---
for d in opencv4 yaml-cpp fmt GTest benchmark ONNX Boost-* boost_headers-* boost_program_options-* BoostDetectToolset-*; do
  for f in "$LIBDIR"/cmake/$d; do [ -e "$f" ] && mkdir -p "$U/lib/$MA/cmake" && cp -rL "$f" "$U/lib/$MA/cmake/"; done
done
for d in /usr/share/cmake/nlohmann_json /usr/lib/cmake/nlohmann_json; do
  [ -d "$d" ] && mkdir -p "$U/${d#/usr/}/.." && cp -rL "$d" "$U/$(dirname "${d#/usr/}")/"
done
# Export files check that every library of the package exists (OpenCV: ~50 modules, SRLab links 4): the
# ones not packed become empty libraries of the same name and SONAME (linking one fails at link time).
: > "$KIT.partial/placeholder-src/unpacked-modules.txt"
grep -rhoE 'IMPORTED_LOCATION_[A-Z]+ "\$\{_IMPORT_PREFIX\}/[^"]+"' "$U/lib/$MA/cmake" | sed -E 's/.*\}\/(.*)"$/\1/' | sort -u |
  while read -r rel; do
    [ -e "$U/$rel" ] && continue
    mkdir -p "$(dirname "$U/$rel")"
    case "$rel" in
      *.a) ar rc "$U/$rel" ;;
      *.so*) soname="$(readelf -d "/usr/$rel" 2>/dev/null | awk '/\(SONAME\)/ { gsub(/[][]/, "", $NF); print $NF }')"
             echo 'void srlab_kit_unpacked_module(void) {}' | gcc -shared -fPIC -x c -o "$U/$rel" -Wl,-soname,"${soname:-$(basename "$rel")}" - ;;
      *) continue ;;
    esac
    echo "$rel" >> "$KIT.partial/placeholder-src/unpacked-modules.txt"
  done
mkdir -p "$U/lib/$MA/pkgconfig"
for pc in libzip hdf5-serial hdf5 libpng16 libpng zlib; do
  [ -f "$LIBDIR/pkgconfig/$pc.pc" ] && cp -L "$LIBDIR/pkgconfig/$pc.pc" "$U/lib/$MA/pkgconfig/"
done
# Absolute /usr paths would point at the packing machine (the "/lib -> /usr/lib" lines of CMake's export
# files only compare paths and are harmless).
abs="$(grep -rIn --include='*.cmake' -e '"/usr/' -e ' /usr/lib' "$U" | grep -v -e '_realOrig' -e '_IMPORT_PREFIX "/usr/lib/' -e ':[0-9]*:#' || true)"
[ -z "$abs" ] || log "warning: CMake files with absolute /usr paths: $abs"
echo "$MA" > "$KIT.partial/MULTIARCH"

# --- manifest --------------------------------------------------------------------------------------------
{
  echo "SRLab GPU kit, packed $(date -u +%FT%TZ) on $(. /etc/os-release; echo "$PRETTY_NAME"), GCC $(gcc -dumpfullversion), multiarch $MA"
  echo "git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "kept libraries (${#KEEP[@]}):"; for n in $(printf '%s\n' "${!KEEP[@]}" | sort); do echo "  $n $(stat -L -c %s "${KEEP[$n]}")"; done
  echo "empty stand-ins for unpacked modules named by CMake export files: $(wc -l < "$KIT.partial/placeholder-src/unpacked-modules.txt")"
  echo "placeholders (${#PH[@]}):"; for n in $(printf '%s\n' "${!PH[@]}" | sort); do echo "  $n ($(wc -l < "$KIT.partial/placeholder-src/$n/symbols.txt") symbols, real $(stat -L -c %s "${PH[$n]}") bytes)"; done
} > "$KIT.partial/MANIFEST"
rm -f "$excluded" "$kept_exports"
rm -rf "$KIT"; mv "$KIT.partial" "$KIT"
# One compressed file to carry to the GPU machine (scripts/gpu/run.sh unpacks it next to itself).
tar -C "$(dirname "$KIT")" -cJf "$KIT.tar.xz.partial" "$(basename "$KIT")" && mv "$KIT.tar.xz.partial" "$KIT.tar.xz"
log "kept ${#KEEP[@]} libraries ($(mib "$(size_of "${KEEP[@]}")")), ${#PH[@]} placeholders for $(mib "$(size_of "${PH[@]}")") of real ones," \
    "$(find "$KIT/usr/include" -type f | wc -l) headers ($(du -sb "$KIT/usr/include" | awk '{ printf "%.1f MiB", $1 / 1048576 }'))"
log "$KIT: $(du -sb "$KIT" | awk '{ printf "%.1f MiB", $1 / 1048576 }') on disk; $KIT.tar.xz: $(mib "$(stat -c %s "$KIT.tar.xz")")"

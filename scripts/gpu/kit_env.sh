# Sourced (bash): `source scripts/gpu/kit_env.sh KIT_DIR [TORCH_CMAKE_PREFIX]` sets up a build of SRLab
# against the libraries of scripts/gpu/pack.sh's kit and a LibTorch of the machine's own (PyTorch's
# torch.utils.cmake_prefix_path, or the system's when the second argument is empty):
#   KIT_CMAKE_ARGS  CMake arguments (array): prefix path (LibTorch first, then the kit), the kit's multiarch
#                   folder, HDF5's files, protoc, and the kit's libraries as rpath (below);
#   PATH            the kit's bin/ (protoc, a wrapper that finds the kit's libprotoc).
# With compat=1 in the environment the kit's libstdc++ (from the packing machine) goes first too, for a
# machine whose own libstdc++ is older than the kit's libraries need.
kit_env_dir="$(cd "${1:?usage: source kit_env.sh KIT_DIR [TORCH_CMAKE_PREFIX]}" && pwd -P)"
kit_env_torch="${2:-}"
[ -f "$kit_env_dir/MANIFEST" ] || { echo "kit_env: $kit_env_dir is no SRLab GPU kit (no MANIFEST; run scripts/gpu/pack.sh)" >&2; return 1; }
kit_env_ma="$(cat "$kit_env_dir/MULTIARCH")"
kit_env_lib="$kit_env_dir/usr/lib/$kit_env_ma"
# DT_RPATH (--disable-new-dtags), not RUNPATH and not LD_LIBRARY_PATH: it applies to the dependencies of
# dependencies too (OpenCV -> libgdal placeholder), and only inside SRLab's binaries, so the system's own
# programs (cmake links libcurl) never meet a placeholder.
# Placeholders (pack.sh) only for the libraries this machine lacks: a real one, where ldconfig knows it,
# always wins (LibTorch's own dependencies may need it: Debian's LibTorch loads libssl, which needs the
# real libcrypto). The active ones are linked into placeholders-active/, rebuilt on every source.
kit_env_active="$kit_env_dir/placeholders-active"
rm -rf "$kit_env_active"; mkdir -p "$kit_env_active"
kit_env_known="$(ldconfig -p 2>/dev/null | awk '/x86-64/ { print $1 }')"
for kit_env_f in "$kit_env_lib"/placeholders/*.so*; do
  [ -e "$kit_env_f" ] || continue
  case $'\n'"$kit_env_known"$'\n' in
    *$'\n'"$(basename "$kit_env_f")"$'\n'*) ;;
    *) ln -s "$kit_env_f" "$kit_env_active/" ;;
  esac
done
echo "kit_env: placeholders in use (libraries this machine lacks): $(ls "$kit_env_active" | tr '\n' ' ')" >&2
kit_env_rpath="${compat:+$kit_env_dir/compat:}$kit_env_lib:$kit_env_lib/hdf5/serial:$kit_env_active"
KIT_CMAKE_ARGS=(
  "-DCMAKE_PREFIX_PATH=${kit_env_torch:+$kit_env_torch;}$kit_env_dir/usr"
  "-DCMAKE_LIBRARY_ARCHITECTURE=$kit_env_ma"
  "-DHDF5_ROOT=$kit_env_dir/usr"
  "-DHDF5_C_INCLUDE_DIR=$kit_env_dir/usr/include/hdf5/serial"
  "-DHDF5_CXX_INCLUDE_DIR=$kit_env_dir/usr/include/hdf5/serial"
  "-DHDF5_hdf5_LIBRARY_RELEASE=$kit_env_lib/hdf5/serial/libhdf5.so"
  "-DHDF5_hdf5_cpp_LIBRARY_RELEASE=$kit_env_lib/hdf5/serial/libhdf5_cpp.so"
  "-DProtobuf_PROTOC_EXECUTABLE=$kit_env_dir/usr/bin/protoc"
  "-DProtobuf_INCLUDE_DIR=$kit_env_dir/usr/include"
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags -Wl,-rpath,$kit_env_rpath -Wl,-rpath-link,$kit_env_rpath"
  "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,$kit_env_rpath"
)
export PATH="$kit_env_dir/usr/bin:$PATH"
unset kit_env_torch kit_env_ma kit_env_lib kit_env_rpath kit_env_active kit_env_known kit_env_f

// The one place where SRLab branches on the LibTorch version (Debian 12: LibTorch 1.13, Debian 13: 2.6;
// CUDA builds: whatever -DCMAKE_PREFIX_PATH names). Everything else uses these names and compiles unchanged
// on all of them.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

#include <type_traits>
#include <utility>

#define SRLAB_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// LibTorch 2.1 replaced c10::variant (c10::get_if, c10::holds_alternative) with std::variant in the module
// options (e.g. Conv2dOptions::padding(), padding_mode()).
#if SRLAB_TORCH_AT_LEAST(2, 1)
#include <variant>
#else
#include <c10/util/variant.h>
#endif

// LibTorch 2.0 split the c10d backends (ProcessGroupGloo/NCCL derive from c10d::Backend) from the
// ProcessGroup front end; before, they derived from c10d::ProcessGroup.
namespace c10d {
class Backend;
class ProcessGroup;
}  // namespace c10d

namespace srlab::torch_compat {

#if SRLAB_TORCH_AT_LEAST(2, 1)
using std::get_if;
using std::holds_alternative;
#else
using c10::get_if;
using c10::holds_alternative;
#endif

/// Makes a c10d::TCPStoreOptions use the classic TCPStore backend. LibTorch 2.4 made libuv the default
/// backend, but a LibTorch built without libuv (Debian's 2.6) then refuses to start the store ("use_libuv
/// was requested but PyTorch was build without libuv support"); releases before the option (1.13) have only
/// the classic backend. Written as a member test, so any LibTorch with or without `useLibUV` compiles.
template <class StoreOptions, class = void>
struct has_use_libuv : std::false_type {};
template <class StoreOptions>
struct has_use_libuv<StoreOptions, std::void_t<decltype(std::declval<StoreOptions&>().useLibUV)>> : std::true_type {};
template <class StoreOptions>
void use_classic_tcp_store(StoreOptions& options) {
  if constexpr (has_use_libuv<StoreOptions>::value) options.useLibUV = false;
}

/// The base class of c10d::ProcessGroupGloo / ProcessGroupNCCL.
#if SRLAB_TORCH_AT_LEAST(2, 0)
using C10dBackend = ::c10d::Backend;
#else
using C10dBackend = ::c10d::ProcessGroup;
#endif

// Autocast state of one device type (kCPU or kCUDA). LibTorch 2.4 replaced the per-device setters and
// getters by ones taking the device type.
inline bool autocast_enabled(c10::DeviceType device) {
#if SRLAB_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline c10::ScalarType autocast_dtype(c10::DeviceType device) {
#if SRLAB_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                         : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void set_autocast(c10::DeviceType device, bool enabled, c10::ScalarType dtype) {
#if SRLAB_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace srlab::torch_compat

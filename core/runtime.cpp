#include "core/runtime.h"

#include <thread>

#include "core/error.h"

namespace srlab::core {

torch::Device select_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error("device '" + spec + "' requested but CUDA is not available in this LibTorch build/machine; "
                  "use device: cpu (or auto)");
    try {
      return torch::Device(spec);
    } catch (const std::exception&) {
      throw Error("bad device '" + spec + "': use cpu, cuda, cuda:N or auto");
    }
  }
  throw Error("bad device '" + spec + "': use cpu, cuda, cuda:N or auto");
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int configure_threads(int n) {
  const int threads = n > 0 ? n : hardware_threads();
  torch::set_num_threads(threads);
  return threads;
}

}  // namespace srlab::core

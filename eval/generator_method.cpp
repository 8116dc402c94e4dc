#include "eval/generator_method.h"

namespace srlab::eval {

Method generator_method(models::Generator generator, const std::string& name, torch::Device device) {
  Method m;
  m.name = name;
  m.upscale = [generator, device](const torch::Tensor& lr) {
    torch::NoGradGuard no_grad;
    const bool gray = lr.size(0) == 1;
    torch::Tensor x = (gray ? lr.expand({3, lr.size(1), lr.size(2)}) : lr).unsqueeze(0).to(device, torch::kFloat32);
    const bool was_training = generator->is_training();
    generator->eval();
    torch::Tensor y = generator->forward(x).squeeze(0).to(torch::kCPU).clamp(0.0, 1.0);
    if (was_training) generator->train();
    return gray ? y.mean(0, /*keepdim=*/true) : y;
  };
  return m;
}

}  // namespace srlab::eval

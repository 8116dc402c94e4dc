#include "train/speed_settings.h"

#include <ATen/Context.h>

#include "core/log.h"

namespace srlab::train {

SpeedSettings read_speed_settings(const core::Config& tc) {
  SpeedSettings s;
  if (tc.has("channels_last")) s.channels_last = tc.req<bool>("channels_last");
  s.tf32 = tc.get<bool>("tf32", false);
  s.cudnn_tf32 = tc.get<bool>("cudnn_tf32", true);
  s.cudnn_benchmark = tc.get<bool>("cudnn_benchmark", true);
  return s;
}

bool resolve_channels_last(const SpeedSettings& s, AmpMode amp, torch::Device device) {
  return s.channels_last.value_or(device.is_cuda() && amp != AmpMode::off);
}

void apply_speed_settings(const SpeedSettings& s, AmpMode amp, torch::Device device) {
  const bool cl = resolve_channels_last(s, amp, device);
  if (!device.is_cuda()) {
    core::log("speed settings: channels_last {}{}; tf32, cudnn_tf32 and cudnn_benchmark have no effect on {}", cl ? "on" : "off",
              s.channels_last ? "" : " (default off on the CPU)", device.str());
    return;
  }
  at::globalContext().setBenchmarkCuDNN(s.cudnn_benchmark);
  at::globalContext().setAllowTF32CuBLAS(s.tf32);
  at::globalContext().setAllowTF32CuDNN(s.cudnn_tf32);
  core::log("speed settings on {}: channels_last {}, tf32 matmul {}, tf32 cuDNN convolutions {}, cudnn_benchmark {}", device.str(),
            cl ? "on" : "off", s.tf32 ? "on" : "off", s.cudnn_tf32 ? "on" : "off", s.cudnn_benchmark ? "on" : "off");
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace srlab::train

#include "train/device_degradation.h"

#include "data/degrade/tensor_pipeline.h"

namespace srlab::train {

DegradationDevice resolve_degradation_device(const std::string& value, const torch::Device& device) {
  if (value == "train") return DegradationDevice::train;
  if (value == "loader") return DegradationDevice::loader;
  return device.is_cuda() ? DegradationDevice::train : DegradationDevice::loader;  // auto
}

const char* degradation_device_name(DegradationDevice d) { return d == DegradationDevice::train ? "train" : "loader"; }

void degrade_on_device(data::Batch& batch, const torch::Device& device) {
  if (!batch.degradation_plan) return;
  torch::NoGradGuard no_grad;
  batch.hr = batch.hr.to(device);
  batch.lr = data::apply_degradation_plan(batch.hr, *batch.degradation_plan).contiguous();
  batch.degradation_plan.reset();
}

}  // namespace srlab::train

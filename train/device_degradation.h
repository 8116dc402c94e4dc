#pragma once
// data.train.degradation_device: where the on-the-fly degradation of the training LR runs.
//   loader: per sample, in OpenCV on the loader threads (data::Degradation::apply; the reference path);
//   train:  the loader draws the parameters only (data::DegradationBatchPlan) and the train step degrades
//           the whole HR batch with the tensor ops on the training device (data/degrade/tensor_pipeline.h),
//           as Real-ESRGAN does (Wang et al., ICCVW 2021; xinntao/Real-ESRGAN, realesrgan/models/
//           realesrgan_model.py feed_data). Both paths draw the same parameters for the same (seed, sample
//           id); their LR agree to >= 40 dB PSNR (JPEG) and >= 45 dB (blur, resize, noise), not bit for bit.
//   auto:   train when the model is on CUDA, loader otherwise (on a CPU the OpenCV path is faster).
#include <torch/torch.h>

#include <string>

#include "data/datasets/loader.h"

namespace srlab::train {

enum class DegradationDevice { loader, train };

/// Resolves the config value ("auto", "loader" or "train"; checked by TrainConfig) for `device`.
DegradationDevice resolve_degradation_device(const std::string& value, const torch::Device& device);

/// The name used in logs and configs ("loader" / "train").
const char* degradation_device_name(DegradationDevice d);

/// When `batch` carries a degradation plan (LoaderOptions::defer_degradation): moves batch.hr to `device`
/// and sets batch.lr (N,C,p,p) float32 [0,1] on the 8-bit grid, made on `device` from batch.hr by
/// data::apply_degradation_plan(); the plan is then dropped. A batch without a plan is left unchanged.
/// Throws srlab::Error when the HR batch does not match its plan.
void degrade_on_device(data::Batch& batch, const torch::Device& device);

}  // namespace srlab::train

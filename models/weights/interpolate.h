#pragma once
// Network interpolation between two checkpoints of the same architecture (Wang, Yu, Wu, Gu, Liu,
// Dong, Qiao, Loy, "Deep Network Interpolation for Continuous Imagery Effect Transition", CVPR 2019,
// Sec. 3, Eq. 1): every parameter and every floating-point buffer is blended element-wise,
//
//   theta = (1 - alpha) * theta_A + alpha * theta_B,
//
// with alpha the weight of B (the convention of ESRGAN's network interpolation, Wang et al., ECCVW 2018,
// Sec. 3.4), e.g. A = a PSNR-oriented ("crisp") model and B = a GAN fine-tuned ("creative") model, so
// that alpha trades distortion against perceptual quality without retraining. Non-floating buffers
// (counters) are copied from A.
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "core/fs.h"
#include "models/weights/checkpoint.h"
#include "models/arch/generator.h"

namespace srlab::models {

/// One end of an interpolation: a checkpoint's header and the generator weights taken from it.
struct InterpolationEnd {
  std::filesystem::path path;  ///< the checkpoint file
  CheckpointInfo info;         ///< its header (model_yaml, scale, run_id, iteration, has_ema)
  bool used_ema = false;       ///< true: the EMA weights ("generator_ema") were loaded, else "generator"
  Generator generator;         ///< the loaded generator, on the CPU, eval mode
};

/// Loads checkpoint `path` as an interpolation end: its EMA weights when it has them, else the raw
/// weights (InterpolationEnd::used_ema says which), on the CPU. A community weight file (.pth,
/// .safetensors; models/weights/community_generator.h) works too: info gets the detected model_yaml and
/// scale, run_id = the file stem, iteration 0, has_ema = the params_ema wrapper was used.
/// @throws srlab::Error naming the file when it is missing, truncated, not an SRLab checkpoint or does
///         not match its own architecture (models/weights/checkpoint.h).
InterpolationEnd load_interpolation_end(const std::filesystem::path& path);

/// Checks that `a` and `b` can be blended, in this order: same architecture type, same scale, the same
/// set of parameter and buffer names (state-dict keys, e.g. "conv1.weight"), the same shape for every
/// key, and the same `model:` section (YAML compared with mapping keys sorted, so key order and
/// formatting do not matter; a default written out in one file and omitted in the other counts as a
/// difference).
/// @throws srlab::Error naming both files and the first difference found (types, scales, the missing
///         key, both shapes, or both model_yaml texts).
void check_interpolation_compatible(const InterpolationEnd& a, const InterpolationEnd& b);

/// Checks that `alpha` is finite and, unless `extrapolate`, in [0,1]; the message names both files.
/// @throws srlab::Error otherwise.
void check_interpolation_alpha(double alpha, bool extrapolate, const std::filesystem::path& a,
                               const std::filesystem::path& b);

/// Low-level blend of any three modules with the same parameter/buffer names and shapes (recursively,
/// keys as in a state dict): every floating parameter and buffer of `out` is set to
/// (1 - alpha) * a + alpha * b, computed in float64 and cast to `out`'s dtype; non-floating tensors are
/// copied from `a`. `a` and `b` are not modified; runs under NoGradGuard; tensors may live on any device.
/// @param label_a, label_b  how `a` and `b` are named in error messages (e.g. "A 'crisp.pt'").
/// @return the number of tensors blended (floating parameters + floating buffers).
/// @throws srlab::Error when alpha is not finite, or a key is missing in one module or has another shape
///         or dtype (naming the key, both labels and both shapes).
int64_t interpolate_module_tensors(const torch::nn::Module& a, const torch::nn::Module& b, double alpha,
                                   torch::nn::Module& out, const std::string& label_a = "A",
                                   const std::string& label_b = "B");

/// The blended generator theta = (1 - alpha) theta_A + alpha theta_B (Wang et al. 2019, Eq. 1) for every
/// parameter and floating buffer (computed in float64, stored in the tensor's own dtype, so alpha = 0
/// and alpha = 1 reproduce A and B bit for bit and alpha = 0.5 gives the correctly rounded mean);
/// non-floating buffers are copied from A. The generator is built from A's model_yaml and scale via the
/// registry (models/arch/registry.h), on the CPU, in eval mode; `a` and `b` are not modified.
/// @param alpha  blend factor: 0 = A, 1 = B; outside [0,1] (extrapolation) only with `extrapolate`.
/// @throws srlab::Error from check_interpolation_compatible() and check_interpolation_alpha().
Generator interpolate_generators(const InterpolationEnd& a, const InterpolationEnd& b, double alpha,
                                 bool extrapolate = false);

/// The run_id of an interpolated checkpoint: "interp(<A run>,<B run>,<alpha>)", with each run the
/// checkpoint's run_id (its file stem when the run_id is empty) and alpha in the shortest decimal form
/// that reads back exactly (e.g. "interp(crisp_x4,creative_x4,0.3)").
std::string interpolation_run_id(const InterpolationEnd& a, const InterpolationEnd& b, double alpha);

/// What write_interpolated_checkpoint() did.
struct InterpolationSummary {
  std::filesystem::path path_a, path_b;  ///< the input checkpoints
  bool ema_a = false, ema_b = false;     ///< whether the EMA weights of A / B were used
  CheckpointInfo result;                 ///< header written to the output (has_ema false)
  int64_t blended_tensors = 0;           ///< parameters + floating buffers blended
};

/// Loads checkpoints `a` and `b` (EMA weights when present), blends them with interpolate_generators()
/// and writes a new SRLab checkpoint to `out` atomically (temporary sibling + rename, core/fs.h): header
/// model_yaml and scale of A, run_id interpolation_run_id(), iteration 0, the blend as "generator" (no
/// EMA entry), plus provenance entries "interp_a", "interp_b" (paths), "interp_alpha" (double) and
/// "interp_weights" ("<ema|raw>,<ema|raw>" for A,B), which load_generator ignores. Parent folders of
/// `out` are created.
/// @throws srlab::Error naming both inputs on any incompatibility or a bad alpha (see above), when `out`
///         is one of the inputs, or naming `out` when it cannot be written ("failed writing 'out' (disk
///         full?)", core/torch_io.h; then `out` is untouched), or when `out` exists and `existing` is
///         kKeep (checked before loading anything).
InterpolationSummary write_interpolated_checkpoint(const std::filesystem::path& a, const std::filesystem::path& b,
                                                   double alpha, const std::filesystem::path& out,
                                                   bool extrapolate = false,
                                                   core::Existing existing = core::Existing::kReplace);

}  // namespace srlab::models

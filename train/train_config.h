#pragma once
// The training experiment configuration (YAML), parsed and validated up front so that a typo fails in
// the first second, not after an hour of training. See configs/quickstart.yaml for an annotated example.
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/degradation.h"
#include "data/transforms.h"
#include "eval/sharpen.h"
#include "train/lr_schedule.h"

namespace srlab::train {

struct TrainConfig {
  std::string name;          ///< run name -> <runs_dir>/<name>
  uint64_t seed = 0;
  std::string device = "auto";
  int threads = 0;           ///< 0 = all hardware threads
  int scale = 4;
  core::Config model;        ///< `model:` section, handed to models::make_generator

  // data.train
  std::vector<std::filesystem::path> train_hr_dirs, train_lr_dirs;
  std::vector<std::filesystem::path> train_hdf5;  ///< prepared HDF5 pairs files (srlab prepare)
  /// On-the-fly degradation of the HR patches (data.train.degradation); null: use the stored LR.
  std::shared_ptr<const data::Degradation> train_degradation;
  int batch_size = 16, lr_patch = 32, workers = 2, prefetch = 4;
  data::AugmentOptions augment;
  // data.val
  std::filesystem::path val_dir;  ///< empty: no validation
  int val_every = 1000;
  /// data.val.degradation: validation LR re-made from the HR by this pipeline (seed 0), e.g. the
  /// training degradation, so that best.pt is chosen on the inputs the model is trained for.
  std::shared_ptr<const data::Degradation> val_degradation;

  core::Config losses;       ///< `losses:` list, handed to losses::WeightedLoss

  // optimizer
  std::string optimizer = "adam";  ///< adam | adamw
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, weight_decay = 0.0, grad_clip = 0.0;
  LrSchedule schedule;

  // train
  int64_t iters = 1000;
  double ema_decay = 0.999;  ///< 0 disables EMA
  int log_every = 100, save_every = 1000;
  int max_bad_steps = 10;    ///< consecutive non-finite losses before the run stops

  // final evaluation
  std::vector<std::filesystem::path> eval_datasets;
  /// eval.degradations: each eval dataset is also scored with LR re-made by each of these (label, pipeline).
  std::vector<std::pair<std::string, data::Degradation>> eval_degradations;
  std::vector<std::string> eval_methods;  ///< bicubic, sharpened (the trained model is always added)
  eval::UnsharpOptions sharpen;
  std::string eval_metrics = "psnr,ssim";  ///< comma list for eval::parse_metrics (psnr, ssim, lpips)
  std::filesystem::path lpips_weights;     ///< resolved LPIPS weight file (when lpips is selected)
  std::string lpips_net = "squeeze";

  core::Config raw;          ///< the whole resolved config (for the run directory)

  /// Parses and validates `cfg` (after --set overrides). "${data}" in paths is expanded. Throws
  /// srlab::Error naming the file and key for unknown keys, wrong types and invalid values.
  static TrainConfig from_config(const core::Config& cfg);
};

}  // namespace srlab::train

#pragma once
// The training experiment configuration (YAML), parsed and validated up front so that a typo fails in
// the first second, not after an hour of training. See configs/quickstart.yaml for an annotated example.
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/degrade/degradation.h"
#include "data/datasets/transforms.h"
#include "eval/sharpen.h"
#include "losses/weighted_loss.h"
#include "models/arch/generator.h"
#include "models/disc/discriminator.h"
#include "train/amp.h"
#include "train/lr_schedule.h"
#include "train/speed_settings.h"

namespace srlab::train {

/// An optimizer section (`optimizer:` for the generator, `d_optimizer:` for the discriminator).
/// Keys: type (adam | adamw), lr (> 0), betas (two numbers in [0,1)), weight_decay (>= 0; default 0
/// for adam, 1e-2 for adamw), grad_clip (max global gradient L2 norm, 0 = off).
/// Adam: Kingma & Ba, ICLR 2015; AdamW (decoupled weight decay): Loshchilov & Hutter, ICLR 2019.
struct OptimizerConfig {
  std::string type = "adam";  ///< adam | adamw
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, weight_decay = 0.0, grad_clip = 0.0;

  /// Reads `opt` (a mapping; a null node gives `defaults`). `lr_required`: the `lr` key must be given
  /// (the generator's optimizer), else defaults.lr is used. Throws srlab::Error naming the key for bad
  /// values and wrong types (unknown keys are reported by the caller's check_known).
  static OptimizerConfig from_config(const core::Config& opt, const OptimizerConfig& defaults, bool lr_required);
};

/// The adversarial part of a GAN run (ESRGAN, Wang et al. ECCVW 2018, Sec. 3-4; Real-ESRGAN, Wang et
/// al. ICCVW 2021, Sec. 4.1: a PSNR-oriented generator first, then fine-tuned with pixel + perceptual +
/// adversarial losses against a discriminator trained alternately). Enabled iff the top-level
/// `discriminator:` section is present; then `losses:` holds exactly one `type: gan` term (weight > 0).
///
///   discriminator: {type: unet_sn, num_feat: 64}   # models/disc/discriminator_registry.h (vgg128 | unet_sn)
///   d_optimizer: {type: adam, lr: 1.0e-4, betas: [0.9, 0.99]}   # keys as optimizer:; these defaults
///   d_scheduler: {type: multistep, milestones: [...]}          # keys as scheduler:; default: scheduler:
///   gan:
///     init_from: experiments/runs/x/checkpoints/best.pt  # SRLab checkpoint initialising G (EMA weights
///                                                        # if stored); same architecture and scale;
///                                                        # checked at start-up (resume too), not
///                                                        # loaded on resume
///     d_steps: 1      # discriminator updates per iteration (on the same batch)
///     d_start: 0      # iteration from which the generator gets the adversarial term; D trains from 0
struct GanConfig {
  core::Config discriminator;        ///< `discriminator:` section, handed to models::make_discriminator
  OptimizerConfig d_optimizer;       ///< `d_optimizer:`
  LrSchedule d_schedule;             ///< `d_scheduler:` (or `scheduler:`) with d_optimizer.lr as base
  std::filesystem::path init_from;   ///< empty: G starts from its random initialisation
  int d_steps = 1;                   ///< >= 1
  int64_t d_start = 0;               ///< in [0, train.iters)

  /// True for a GAN run (a `discriminator:` section is present).
  bool enabled() const { return !discriminator.is_null(); }
};

/// The networks and the loss of a run, built once by TrainConfig::from_config (building them is how their
/// sections are validated) and handed to the trainer by build_training_models (train/train_state.h).
/// Built on the CPU right after torch::manual_seed(seed), in this order: generator, its EMA copy, the
/// loss terms, the discriminator, so that a run's initialisation depends only on the seed; `rng_state`
/// is torch's CPU generator right after that, where the run's random stream continues. The generator
/// holds the model.init_from / gan.init_from weights when one is given.
struct BuiltModels {
  models::Generator generator;                ///< (N,3,H,W) [0,1] LR -> (N,3,sH,sW)
  models::Generator ema;                      ///< EMA copy (its weights are set by the trainer); null when ema_decay is 0
  std::shared_ptr<losses::WeightedLoss> loss; ///< the `losses:` list
  models::Discriminator discriminator;        ///< GAN runs only; null otherwise
  std::vector<std::string> init_log;          ///< "generator initialised from ..." lines, logged by new runs
  torch::Tensor rng_state;                    ///< torch's CPU generator state after building
};

struct TrainConfig {
  std::string name;          ///< run name -> <runs_dir>/<name>
  std::string about;         ///< `about:` what the run does and how long it takes; logged when it starts
  uint64_t seed = 0;
  std::string device = "auto";
  int threads = 0;           ///< 0 = all hardware threads
  int scale = 4;
  core::Config model;        ///< `model:` section, handed to models::make_generator (init_from removed)
  /// `model.init_from`: SRLab checkpoint or community weight file (.pth/.safetensors) whose generator
  /// (same type and scale, checked at start-up) initialises G before training, any loss list; not
  /// loaded on resume. Empty: random initialisation. See train/init_from.h.
  std::filesystem::path init_from;

  // data.train
  std::vector<std::filesystem::path> train_hr_dirs, train_lr_dirs;
  std::vector<std::filesystem::path> train_hdf5;  ///< prepared HDF5 pairs files (srlab prepare)
  /// On-the-fly degradation of the HR patches (data.train.degradation); null: use the stored LR.
  std::shared_ptr<const data::Degradation> train_degradation;
  /// data.train.degradation_device: auto | loader | train (train/device_degradation.h); needs `degradation`.
  std::string degradation_device = "auto";
  int batch_size = 16, lr_patch = 32, workers = 2, prefetch = 4;
  data::AugmentOptions augment;
  // data.val
  std::filesystem::path val_dir;  ///< empty: no validation
  int val_every = 1000;
  /// data.val.degradation: validation LR re-made from the HR by this pipeline (seed 0), e.g. the
  /// training degradation, so that best.pt is chosen on the inputs the model is trained for.
  std::shared_ptr<const data::Degradation> val_degradation;

  core::Config losses;       ///< `losses:` list, handed to losses::WeightedLoss

  OptimizerConfig optimizer;  ///< `optimizer:` (generator)
  LrSchedule schedule;        ///< `scheduler:` with optimizer.lr as base

  GanConfig gan;              ///< discriminator / d_optimizer / d_scheduler / gan sections (GAN runs)

  // train
  int64_t iters = 1000;
  double ema_decay = 0.999;  ///< 0 disables EMA
  int log_every = 100, save_every = 1000;
  int max_bad_steps = 10;    ///< consecutive iterations with a non-finite (G or D) loss before the run stops
  /// train.best_by: which weights best.pt holds. "psnr" (default of pixel runs): the best validation
  /// Y-PSNR; "last" (default of GAN runs, whose PSNR falls as they gain texture): the weights of the
  /// latest validation (and of the end of training).
  std::string best_by = "psnr";
  /// train.accum_steps: gradient accumulation. data.train.batch_size stays the number of samples per
  /// optimizer step (over all ranks); each step runs accum_steps micro-batches of batch_size /
  /// (accum_steps * world size) samples per rank, so changing accum_steps or the number of processes
  /// does not change what is trained (up to float summation order). batch_size must divide evenly.
  int accum_steps = 1;
  /// train.amp: off | fp16 (CUDA only; dynamic loss scaling, train/amp.h) | bf16 (CUDA, or CPU with a
  /// warning: slower than fp32 in Debian's LibTorch 1.13). Not combined with GAN runs or accumulation
  /// in GAN runs (refused).
  AmpMode amp = AmpMode::off;
  /// train.channels_last, train.tf32, train.cudnn_tf32, train.cudnn_benchmark (train/speed_settings.h).
  SpeedSettings speed;
  /// train.dist_timeout_s: timeout of the data-parallel rendezvous and of every collective (seconds);
  /// a dead rank is usually noticed at once (closed connection), a hung one after this long. It must
  /// exceed the longest time rank 0 spends alone (validation, checkpoint writing).
  int dist_timeout_s = 1800;
  /// train.tensorboard: also send each metrics.csv row to TrainerOptions::scalar_sink (srlab train: TensorBoard
  /// event files events.out.tfevents.* in the run folder). Default true.
  bool tensorboard = true;

  // final evaluation
  std::vector<std::filesystem::path> eval_datasets;
  /// eval.degradations: each eval dataset is also scored with LR re-made by each of these (label, pipeline).
  std::vector<std::pair<std::string, data::Degradation>> eval_degradations;
  std::vector<std::string> eval_methods;  ///< bicubic, sharpened (the trained model is always added)
  eval::UnsharpOptions sharpen;
  std::string eval_metrics = "psnr,ssim";  ///< comma list for eval::parse_metrics (psnr, ssim, lpips)
  std::filesystem::path lpips_weights;     ///< resolved LPIPS weight file (when lpips is selected)
  std::string lpips_net = "squeeze";
  std::filesystem::path niqe_model;       ///< resolved NIQE model file (eval/niqe.h; when niqe is selected)

  core::Config raw;          ///< the whole resolved config (for the run directory)

  /// The run's generator, EMA copy, loss and discriminator, built once (see BuiltModels); shared by
  /// copies of this config, so one TrainConfig feeds one run.
  std::shared_ptr<BuiltModels> built;

  /// Parses and validates `cfg` (after --set overrides). "${data}" in paths is expanded. Throws
  /// srlab::Error naming the file and key for unknown keys, wrong types and invalid values; for GAN
  /// runs also for: a `type: gan` term without `discriminator:` (and the reverse), d_optimizer /
  /// d_scheduler / gan without `discriminator:`, HR patches (data.train.lr_patch * scale) that the
  /// discriminator cannot take (vgg128: must equal discriminator.input_size; unet_sn: a multiple of 8),
  /// and a gan.init_from checkpoint that is missing or of another architecture or scale. Builds `built`
  /// (torch's global CPU generator is left as it was).
  static TrainConfig from_config(const core::Config& cfg);
};

/// Checks, before a run starts, that every path of the config exists: data.train.hr_dirs / lr_dirs
/// (folders), data.train.hdf5 (files), data.val.dir and eval.datasets (folders or HDF5 files). Throws
/// srlab::Error "config error in <file> at '<key>': '<path>' does not exist ..." for the first missing one,
/// so that a typo in eval.datasets fails at once, not after training.
void check_config_paths(const TrainConfig& t);

}  // namespace srlab::train

// srlab bench-train --arch YAML [--scale 4] [--batch 16] [--patch 64] [--steps 20] [--warmup 3]
//                   [--device auto] [--precision fp32] [--channels-last | --no-channels-last]
//                   [--degradation TYPE] [--threads 0] [--json]
//
// Training-step throughput of one generator (issue 27): each timed step is the trainer's generator
// update (train/generator_update.h: zero_grad, forward and L1 loss under the run's autocast, backward
// (x loss scale for fp16), unscale + inf check, Adam step), on a fixed random LR/HR batch that already
// lies on the device (the loader and host-to-device copies are not timed). With --degradation every step
// first makes the LR batch from the HR batch on the device with the trainer's degrade_on_device()
// (data.train.degradation_device: train); the parameter draws (the loader's job) are made before timing.
// scripts/gpu/torch_train_step.py times the same step in PyTorch with the same JSON fields.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <optional>

#include "cli/bench_steps.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "core/config.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/torch_io.h"
#include "data/degrade/tensor_pipeline.h"
#include "losses/weighted_loss.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "train/amp.h"
#include "train/device_degradation.h"
#include "train/generator_update.h"
#include "train/objective.h"
#include "train/optimizer.h"
#include "train/speed_settings.h"

namespace po = boost::program_options;

namespace srlab::cli {

namespace {

// --precision: the trainer's train.amp and speed settings it stands for.
struct TrainPrecision {
  train::AmpMode amp = train::AmpMode::off;
  train::SpeedSettings speed;
};

// fp32: full float32 (train.tf32 and train.cudnn_tf32 off); tf32: float32 with both on; bf16 / fp16:
// train.amp with the trainer's default speed settings (tf32 off, cudnn_tf32 on). Throws srlab::Error
// for other names, and for fp16 off CUDA (the CPU autocast supports bfloat16 only).
TrainPrecision train_precision(const std::string& name, const torch::Device& device) {
  TrainPrecision p;
  if (name == "fp32") {
    p.speed.cudnn_tf32 = false;
  } else if (name == "tf32") {
    p.speed.tf32 = true;
    p.speed.cudnn_tf32 = true;
  } else if (name == "bf16" || name == "fp16") {
    p.amp = *train::parse_amp_mode(name);
  } else {
    throw Error("--precision must be fp32, tf32, bf16 or fp16, got '" + name + "'");
  }
  if (p.amp == train::AmpMode::fp16 && !device.is_cuda())
    throw Error("--precision fp16 needs a CUDA device (autocast on " + device.str() +
                " supports bf16 only); use --device cuda, or --precision bf16 or fp32");
  return p;
}

}  // namespace

int cmd_bench_train(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab bench-train --arch YAML [--scale 4] [--batch 16] [--patch 64] [--steps 20] [--warmup 3]\n"
      "                  [--device auto] [--precision fp32|tf32|bf16|fp16] [--channels-last | --no-channels-last]\n"
      "                  [--degradation TYPE] [--threads 0] [--json]\n\n"
      "Times training steps of one generator: each step is the trainer's generator update (forward + L1 loss\n"
      "under the run's autocast, backward, Adam lr 1e-4 step; fp16 with the dynamic loss scaler) on a random\n"
      "batch of --batch LR patches (--patch side) and their HR targets, already on the device. --warmup steps\n"
      "run first, untimed; on CUDA the device is synchronised before the clock is read. Prints samples/s and\n"
      "ms/step (--json: one JSON line with arch, params, device, precision, channels_last, degradation, batch,\n"
      "patch, scale, steps, seconds, samples_per_s, ms_per_step, loss). scripts/gpu/torch_train_step.py times\n"
      "the same step in PyTorch.\n\n"
      "precision: fp32 = float32 without TF32 (train.tf32 and train.cudnn_tf32 off); tf32 = float32 with both\n"
      "on; bf16 / fp16 = train.amp (CUDA; bf16 also on the CPU), TF32 settings as the trainer's defaults.\n\noptions");
  std::string arch, device_spec = "auto", precision = "fp32", degradation, save;
  int scale = 4, batch = 16, patch = 64, steps = 20, warmup = 3, threads = 0;
  bool channels_last = false, no_channels_last = false, json = false;
  opts.add_options()("help,h", "show this help")
      ("arch", po::value(&arch)->required(), "the generator as a `model:` YAML mapping, e.g. '{type: espcn, num_feat: 64}'")
      ("scale", ranged(&scale, "scale", 1, 16)->default_value(scale), "upscaling factor")
      ("batch", ranged(&batch, "batch", 1, 65536)->default_value(batch), "samples per step")
      ("patch", ranged(&patch, "patch", 1, 4096)->default_value(patch), "LR patch side (HR side = patch * scale)")
      ("steps", ranged(&steps, "steps", 1, 1000000)->default_value(steps), "timed steps")
      ("warmup", ranged(&warmup, "warmup", 0, 1000000)->default_value(warmup), "untimed steps before them")
      ("device", po::value(&device_spec)->default_value(device_spec), "cpu, cuda, cuda:N or auto")
      ("precision", po::value(&precision)->default_value(precision), "fp32, tf32, bf16 or fp16 (see above)")
      ("channels-last", po::bool_switch(&channels_last), "NHWC weights and LR batches (default: on iff CUDA with bf16/fp16, as the trainer)")
      ("no-channels-last", po::bool_switch(&no_channels_last), "NCHW weights and LR batches")
      ("degradation", po::value(&degradation), "make the LR batch of every step from the HR batch on the device with this degradation "
                                               "(a type such as second_order, or a YAML mapping), as degradation_device: train")
      ("threads", threads_option(&threads), "CPU threads (0 = all cores)")
      ("save", po::value(&save), "afterwards write the generator as an SRLab checkpoint (atomically), e.g. for srlab upscale -m")
      ("json", po::bool_switch(&json), "print one JSON line instead of the text summary");
  if (!parse_args(opts, args)) return 0;
  if (channels_last && no_channels_last) throw Error("--channels-last and --no-channels-last exclude each other");

  const torch::Device device = core::select_device(device_spec);
  TrainPrecision prec = train_precision(precision, device);
  if (channels_last || no_channels_last) prec.speed.channels_last = channels_last;
  const int n_threads = core::configure_threads(threads);
  std::optional<data::Degradation> degrade;
  if (!degradation.empty()) degrade = bench_degradation(degradation);

  // The trainer's pieces (train/train_state.cpp build_training_models, train/trainer.cpp run_training).
  torch::manual_seed(0);
  const models::Generator g = models::make_generator(core::Config::parse(arch, "--arch"), scale);
  g->to(device);
  g->train();
  train::apply_speed_settings(prec.speed, prec.amp, device);
  const bool cl = train::resolve_channels_last(prec.speed, prec.amp, device);
  if (cl) train::to_channels_last(*g);
  train::OptimizerConfig oc;
  oc.lr = 1e-4;
  const auto opt = train::make_optimizer(oc, g->parameters());
  auto loss = std::make_shared<losses::WeightedLoss>(losses::WeightedLoss::from_config(core::Config::parse("losses: [{type: l1}]").child("losses")));
  loss->to(device);
  const auto objective = train::make_objective(train::TrainConfig{}, loss, nullptr, device);  // pixel objective
  train::LossScaler scaler;

  train::GeneratorUpdate u;
  u.g = g;
  u.opt = opt.get();
  u.loss_fn = loss.get();
  u.objective = objective.get();
  u.scaler = prec.amp == train::AmpMode::fp16 ? &scaler : nullptr;
  u.amp = prec.amp;
  u.device = device;
  u.channels_last = cl;

  const int64_t hr_side = static_cast<int64_t>(patch) * scale;
  const torch::Tensor hr = torch::rand({batch, 3, hr_side, hr_side}, torch::TensorOptions().device(device));
  const torch::Tensor lr = torch::rand({batch, 3, patch, patch}, torch::TensorOptions().device(device));
  // The loader's part of degradation_device: train, drawn before the clock starts.
  std::vector<std::shared_ptr<const data::DegradationBatchPlan>> plans;
  if (degrade) {
    for (int k = 0; k < warmup + steps; ++k) {
      std::vector<int64_t> ids(batch);
      for (int j = 0; j < batch; ++j) ids[j] = static_cast<int64_t>(k) * batch + j;
      plans.push_back(std::make_shared<const data::DegradationBatchPlan>(
          data::plan_degradation_batch(*degrade, 3, static_cast<int>(hr_side), static_cast<int>(hr_side), scale, 0, ids)));
    }
  }

  double last_loss = 0.0;
  const double seconds = time_steps(device, warmup, steps, [&](int k) {
    data::Batch b;
    b.hr = hr;
    b.lr = lr;
    b.index = k;
    if (degrade) {
      b.degradation_plan = plans[k];
      train::degrade_on_device(b, device);
    }
    const train::GeneratorUpdateResult r = train::generator_update(u, b, k, false);
    if (!r.finite) throw Error(fmt::format("the loss became non-finite at step {} ({})", k, r.bad_terms));
    last_loss = r.loss;
  });

  if (!save.empty()) {  // the weights as trained, on the CPU (load_generator builds there and moves them)
    g->to(torch::kCPU);
    models::CheckpointInfo info;
    info.model_yaml = arch;
    info.scale = scale;
    info.run_id = "bench-train";
    info.iteration = warmup + steps;
    torch::serialize::OutputArchive ar;
    models::write_generator_entries(ar, info, g);
    core::save_archive_atomic(ar, save);
  }

  const double samples_per_s = static_cast<double>(batch) * steps / seconds;
  const double ms_per_step = 1000.0 * seconds / steps;
  const int64_t params = models::count_parameters(*g);
  if (json) {
    nlohmann::json j = {{"framework", "srlab"}, {"arch", arch}, {"type", g->type()}, {"params", params},
                        {"device", device.str()}, {"precision", precision}, {"channels_last", cl},
                        {"degradation", degradation.empty() ? "none" : degradation}, {"batch", batch}, {"patch", patch},
                        {"scale", scale}, {"warmup", warmup}, {"steps", steps}, {"threads", n_threads},
                        {"seconds", seconds}, {"samples_per_s", samples_per_s}, {"ms_per_step", ms_per_step},
                        {"loss", last_loss}};
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << fmt::format("{} x{} ({} parameters) on {}, {}{}, batch {} of {}x{} LR{}: {} steps in {:.3f} s = "
                             "{:.2f} samples/s ({:.2f} ms/step), final L1 {:.5f}\n",
                             arch, scale, params, device.str(), precision, cl ? ", channels_last" : "", batch, patch, patch,
                             degradation.empty() ? "" : ", degradation " + degradation, steps, seconds, samples_per_s,
                             ms_per_step, last_loss);
  }
  return 0;
}

}  // namespace srlab::cli

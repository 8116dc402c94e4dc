#include "train/train_config.h"

#include "core/paths.h"
#include "core/error.h"
#include "eval/evaluate.h"
#include "losses/weighted_loss.h"
#include "models/lpips.h"
#include "models/registry.h"

namespace srlab::train {

namespace {
std::vector<std::filesystem::path> paths_of(const core::Config& c, const std::string& key) {
  std::vector<std::filesystem::path> out;
  for (const auto& s : c.get<std::vector<std::string>>(key, {})) out.emplace_back(core::expand_data_path(s));
  return out;
}
}  // namespace

TrainConfig TrainConfig::from_config(const core::Config& cfg) {
  TrainConfig t;
  t.raw = cfg;
  t.name = cfg.req<std::string>("name");
  if (t.name.empty() || t.name.find('/') != std::string::npos || t.name == "." || t.name == "..")
    cfg.fail("name", "must be a plain folder name");
  t.seed = static_cast<uint64_t>(cfg.get<int64_t>("seed", 0));
  t.device = cfg.get<std::string>("device", "auto");
  t.threads = cfg.get<int>("threads", 0);
  t.scale = cfg.req<int>("scale");
  if (t.scale < 1 || t.scale > 8) cfg.fail("scale", "must be an integer in 1..8");
  t.model = cfg.at("model");
  if (!t.model.is_map()) cfg.fail("model", "must be a mapping with a 'type' key");

  const core::Config data = cfg.at("data");
  const core::Config tr = data.at("train");
  t.train_hr_dirs = paths_of(tr, "hr_dirs");
  t.train_hdf5 = paths_of(tr, "hdf5");
  if (t.train_hr_dirs.empty() && t.train_hdf5.empty())
    tr.fail("hr_dirs", "needs at least one folder of HR training images (hr_dirs) or a prepared HDF5 file (hdf5)");
  if (tr.has("degradation"))
    t.train_degradation = std::make_shared<const data::Degradation>(data::Degradation::from_config_or_file(tr.at("degradation")));
  t.train_lr_dirs = paths_of(tr, "lr_dirs");
  if (t.train_degradation && !t.train_lr_dirs.empty())
    tr.fail("lr_dirs", "cannot be combined with degradation (LR is made on the fly from HR); remove one");
  if (!t.train_lr_dirs.empty() && t.train_lr_dirs.size() != t.train_hr_dirs.size())
    tr.fail("lr_dirs", "must list one LR folder per HR folder (or be omitted to generate LR by bicubic)");
  t.batch_size = tr.get<int>("batch_size", 16);
  t.lr_patch = tr.get<int>("lr_patch", 32);
  t.workers = tr.get<int>("workers", 2);
  t.prefetch = tr.get<int>("prefetch", 4);
  if (t.batch_size < 1) tr.fail("batch_size", "must be >= 1");
  if (t.lr_patch < 4) tr.fail("lr_patch", "must be >= 4");
  if (t.workers < 1) tr.fail("workers", "must be >= 1");
  if (t.prefetch < 1) tr.fail("prefetch", "must be >= 1");
  const core::Config aug = tr.child("augment");
  t.augment.hflip = aug.get<bool>("hflip", true);
  t.augment.vflip = aug.get<bool>("vflip", true);
  t.augment.rot90 = aug.get<bool>("rot90", true);
  const core::Config val = data.child("val");
  if (!val.is_null()) {
    t.val_dir = core::expand_data_path(val.req<std::string>("dir"));
    t.val_every = val.get<int>("every", 1000);
    if (t.val_every < 1) val.fail("every", "must be >= 1");
    if (val.has("degradation"))
      t.val_degradation = std::make_shared<const data::Degradation>(data::Degradation::from_config_or_file(val.at("degradation")));
  }

  t.losses = cfg.at("losses");
  losses::WeightedLoss::from_config(t.losses);  // validate now

  const core::Config opt = cfg.at("optimizer");
  t.optimizer = opt.get<std::string>("type", "adam");
  if (t.optimizer != "adam" && t.optimizer != "adamw") opt.fail("type", "use adam or adamw");
  t.lr = opt.req<double>("lr");
  if (t.lr <= 0) opt.fail("lr", "must be > 0");
  const auto betas = opt.get<std::vector<double>>("betas", {0.9, 0.999});
  if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1)
    opt.fail("betas", "must be two numbers in [0,1)");
  t.beta1 = betas[0];
  t.beta2 = betas[1];
  t.weight_decay = opt.get<double>("weight_decay", t.optimizer == "adamw" ? 1e-2 : 0.0);
  t.grad_clip = opt.get<double>("grad_clip", 0.0);
  if (t.weight_decay < 0) opt.fail("weight_decay", "must be >= 0");
  if (t.grad_clip < 0) opt.fail("grad_clip", "must be >= 0 (0 disables clipping)");

  const core::Config tc = cfg.at("train");
  t.iters = tc.req<int64_t>("iters");
  if (t.iters < 1) tc.fail("iters", "must be >= 1");
  t.ema_decay = tc.get<double>("ema_decay", 0.999);
  if (t.ema_decay < 0 || t.ema_decay >= 1) tc.fail("ema_decay", "must be in [0,1) (0 disables EMA)");
  t.log_every = tc.get<int>("log_every", 100);
  t.save_every = tc.get<int>("save_every", 1000);
  t.max_bad_steps = tc.get<int>("max_bad_steps", 10);
  if (t.log_every < 1) tc.fail("log_every", "must be >= 1");
  if (t.save_every < 1) tc.fail("save_every", "must be >= 1");
  if (t.max_bad_steps < 1) tc.fail("max_bad_steps", "must be >= 1");

  t.schedule = LrSchedule::from_config(cfg.child("scheduler"), t.lr, t.iters);

  const core::Config ev = cfg.child("eval");
  if (!ev.is_null()) {
    t.eval_datasets = paths_of(ev, "datasets");
    t.eval_methods = ev.get<std::vector<std::string>>("methods", {"bicubic", "sharpened"});
    for (const auto& m : t.eval_methods)
      if (m != "bicubic" && m != "sharpened") ev.fail("methods", "baseline '" + m + "' unknown; use bicubic and/or sharpened");
    std::string metrics;
    for (const auto& m : ev.get<std::vector<std::string>>("metrics", {"psnr", "ssim"})) metrics += (metrics.empty() ? "" : ",") + m;
    t.eval_metrics = metrics;
    try {
      if (eval::parse_metrics(metrics).lpips) {
        t.lpips_net = ev.get<std::string>("lpips_net", "squeeze");
        // Resolved now so that missing weights fail before training, not after it.
        t.lpips_weights = models::resolve_lpips_weights(ev.get<std::string>("lpips_weights", ""), t.lpips_net);
      }
    } catch (const Error& e) {
      ev.fail("metrics", e.what());
    }
    for (const auto& d : ev.child("degradations").items()) {
      // A file path (label: its stem) or an inline mapping (label: its type).
      const std::string label =
          d.is_scalar() ? std::filesystem::path(d.as<std::string>()).stem().string() : d.get<std::string>("type", "degraded");
      t.eval_degradations.emplace_back(label, data::Degradation::from_config_or_file(d));
    }
    const core::Config sh = ev.child("sharpen");
    t.sharpen.amount = sh.get<double>("amount", t.sharpen.amount);
    t.sharpen.sigma = sh.get<double>("sigma", t.sharpen.sigma);
    t.sharpen.threshold = sh.get<double>("threshold", t.sharpen.threshold);
  }

  // The generator factory reads (and validates) the model section; check everything else afterwards.
  models::make_generator(t.model, t.scale);
  cfg.check_known();
  return t;
}

}  // namespace srlab::train

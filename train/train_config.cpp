#include "train/train_config.h"

#include <fmt/format.h>

#include "core/paths.h"
#include "core/error.h"
#include "eval/evaluate.h"
#include "losses/weighted_loss.h"
#include "models/weights/checkpoint.h"
#include "train/init_from.h"
#include "models/disc/discriminator_registry.h"
#include "models/features/lpips.h"
#include "models/arch/registry.h"

namespace srlab::train {

namespace {
// A list of paths (one string is accepted as a one-element list). An unquoted number (`hr_dirs: 5`) or a
// mapping is a type error naming the key, not a folder called "5".
std::vector<std::filesystem::path> paths_of(const core::Config& c, const std::string& key) {
  std::vector<std::filesystem::path> out;
  const core::Config node = c.child(key);
  if (node.is_null()) return out;
  if (node.is_map()) c.fail(key, "expected a list of paths, e.g. [\"${data}/train/T91\"], got a mapping");
  const std::vector<core::Config> items = node.is_sequence() ? node.items() : std::vector<core::Config>{node};
  for (const auto& item : items) {
    if (!item.is_scalar()) item.fail("", "expected a path (a string), got " + std::string(item.is_map() ? "a mapping" : "a list"));
    const YAML::Node& n = item.node();
    bool number = false;
    if (n.Tag() == "?") {
      try {
        (void)n.as<double>();
        number = true;
      } catch (const YAML::Exception&) {
      }
    }
    if (number)
      c.fail(key, "expected a list of paths (strings), e.g. [\"${data}/train/T91\"], got the number " + n.Scalar() +
                      " (quote it if it really is a folder name)");
    out.emplace_back(core::expand_data_path(n.Scalar()));
  }
  return out;
}

void require_path(const core::Config& section, const std::string& key, const std::filesystem::path& p, bool folder_only) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec))
    section.fail(key, "'" + p.string() + "' does not exist; check the path (\"${data}\" expands to the shared data folder)");
  if (folder_only && !std::filesystem::is_directory(p, ec)) section.fail(key, "'" + p.string() + "' is not a folder");
}

// The GAN sections (see GanConfig); `t` already holds scale, data, losses, iters and the G schedule, and
// `loss` is the built `losses:` list. Returns the discriminator (built here, so that a bad section fails
// now); null for a pixel-loss run.
models::Discriminator read_gan_config(const core::Config& cfg, TrainConfig& t, const losses::WeightedLoss& loss) {
  const std::vector<core::Config> items = t.losses.items();
  const auto& terms = loss.terms();
  size_t adv = terms.size();
  for (size_t i = 0; i < terms.size(); ++i)
    if (terms[i].loss->needs_discriminator()) adv = i;

  if (!cfg.has("discriminator")) {
    if (adv < terms.size())
      items[adv].fail("type", "an adversarial term (type: gan) needs a discriminator: add a top-level `discriminator:` "
                              "section, e.g. discriminator: {type: unet_sn, num_feat: 64}, or remove this term");
    for (const char* key : {"d_optimizer", "d_scheduler", "gan"})
      if (cfg.has(key))
        cfg.fail(key, "only used by GAN runs; add a `discriminator:` section (and a `type: gan` loss term) or remove it");
    return nullptr;
  }
  GanConfig& g = t.gan;
  g.discriminator = cfg.at("discriminator");
  if (!g.discriminator.is_map()) cfg.fail("discriminator", "must be a mapping with a 'type' key, e.g. {type: unet_sn}");
  if (adv == terms.size())
    t.losses.fail("", "a GAN run (`discriminator:` is given) needs exactly one adversarial term in losses:, e.g. "
                      "{type: gan, gan_type: vanilla, weight: 0.1}");
  if (terms[adv].weight <= 0) items[adv].fail("weight", "must be > 0 in a GAN run (the discriminator would train for nothing)");

  // The discriminator (its input is the HR patch).
  models::Discriminator d = models::make_discriminator(g.discriminator);
  const int64_t hr_patch = static_cast<int64_t>(t.lr_patch) * t.scale;
  const core::Config tr = cfg.at("data").at("train");
  if (d->input_size() > 0 && hr_patch != d->input_size())
    tr.fail("lr_patch", fmt::format("the {} discriminator takes HR patches of exactly discriminator.input_size = {} "
                                    "pixels, but data.train.lr_patch {} x scale {} = {}; set data.train.lr_patch to {} "
                                    "or discriminator.input_size to match",
                                    d->type(), d->input_size(), t.lr_patch, t.scale, hr_patch,
                                    d->input_size() % t.scale == 0 ? std::to_string(d->input_size() / t.scale) : "?"));
  if (hr_patch % d->input_multiple() != 0)
    tr.fail("lr_patch", fmt::format("the {} discriminator needs HR patches whose size is a multiple of {}, but "
                                    "data.train.lr_patch {} x scale {} = {}",
                                    d->type(), d->input_multiple(), t.lr_patch, t.scale, hr_patch));

  OptimizerConfig d_defaults;
  d_defaults.lr = 1e-4;
  d_defaults.beta1 = 0.9;
  d_defaults.beta2 = 0.99;
  g.d_optimizer = OptimizerConfig::from_config(cfg.child("d_optimizer"), d_defaults, false);
  g.d_schedule = LrSchedule::from_config(cfg.has("d_scheduler") ? cfg.child("d_scheduler") : cfg.child("scheduler"),
                                         g.d_optimizer.lr, t.iters);

  const core::Config gc = cfg.child("gan");
  g.d_steps = gc.get<int>("d_steps", 1);
  if (g.d_steps < 1) gc.fail("d_steps", "must be >= 1");
  g.d_start = gc.get<int64_t>("d_start", 0);
  if (g.d_start < 0 || g.d_start >= t.iters) gc.fail("d_start", "must be in [0, train.iters)");
  if (g.d_start > 0) {
    bool other = false;
    for (size_t i = 0; i < terms.size(); ++i) other = other || (i != adv && terms[i].weight > 0);
    if (!other)
      gc.fail("d_start", "> 0 needs a non-adversarial loss term with weight > 0 for the iterations before it");
  }
  const std::string init = gc.get<std::string>("init_from", "");
  if (!init.empty()) g.init_from = core::expand_data_path(init);  // loaded by build_models
  return d;
}

// Loads `file` into `gen` (same architecture: type and scale first, then every tensor name and shape);
// a failure is a config error at `section`.`key`. Returns the line logged by a new run.
std::string apply_init_from(const core::Config& section, const std::string& key, const std::filesystem::path& file,
                            const TrainConfig& t, models::Generator& gen, const std::string& hint) {
  try {
    return fmt::format("generator initialised from {} ({})", file.string(), init_generator_from(file, t.model, t.scale, gen));
  } catch (const Error& e) {
    section.fail(key, fmt::format("cannot initialise the generator from '{}': {}{}", file.string(), e.what(),
                                  std::filesystem::exists(file) ? "" : hint));
  }
}

// Restores torch's global CPU generator when building is done (or fails).
class RngRestore {
 public:
  RngRestore() : gen_(at::detail::getDefaultCPUGenerator()), saved_(gen_.get_state()) {}
  ~RngRestore() { gen_.set_state(saved_); }
  RngRestore(const RngRestore&) = delete;
  RngRestore& operator=(const RngRestore&) = delete;

 private:
  at::Generator gen_;
  torch::Tensor saved_;
};

// The run's models, once (see BuiltModels): seeded, in the documented order, then init_from.
std::shared_ptr<BuiltModels> build_models(const core::Config& cfg, TrainConfig& t) {
  RngRestore restore;
  torch::manual_seed(t.seed);
  auto b = std::make_shared<BuiltModels>();
  b->generator = models::make_generator(t.model, t.scale);  // reads (and validates) the model section
  if (t.ema_decay > 0) b->ema = models::make_generator(t.model, t.scale);
  b->loss = std::make_shared<losses::WeightedLoss>(losses::WeightedLoss::from_config(t.losses));
  b->discriminator = read_gan_config(cfg, t, *b->loss);
  b->rng_state = at::detail::getDefaultCPUGenerator().get_state();
  // PSNR-then-GAN (gan.init_from: a pixel-trained generator, its EMA weights when it has them), then
  // fine-tuning (model.init_from).
  if (!t.gan.init_from.empty())
    b->init_log.push_back(apply_init_from(cfg.child("gan"), "init_from", t.gan.init_from, t, b->generator,
                                          " (run the pixel-loss training that writes it first, e.g. "
                                          "configs/gan/crisp_x4.yaml for configs/gan/creative_x4.yaml)"));
  if (!t.init_from.empty())
    b->init_log.push_back(apply_init_from(t.model, "init_from", t.init_from, t, b->generator, ""));
  return b;
}

// train.accum_steps, train.amp, train.dist_timeout_s (see TrainConfig).
void read_parallel_keys(const core::Config& cfg, const core::Config& tc, TrainConfig& t) {
  t.accum_steps = tc.get<int>("accum_steps", 1);
  if (t.accum_steps < 1) tc.fail("accum_steps", "must be >= 1");
  if (t.batch_size % t.accum_steps != 0)
    tc.fail("accum_steps", fmt::format("must divide data.train.batch_size ({}): batch_size is the number of samples per "
                                       "optimizer step, split into accum_steps micro-batches", t.batch_size));
  const std::string amp = tc.get<std::string>("amp", "off");
  const auto mode = parse_amp_mode(amp);
  if (!mode) tc.fail("amp", "use off, fp16 or bf16");
  t.amp = *mode;
  if (t.amp == AmpMode::fp16 && t.device != "auto" && t.device.rfind("cuda", 0) != 0)
    tc.fail("amp", "fp16 needs device: cuda (CPU autocast supports only bf16); use bf16 or off");
  if (cfg.has("discriminator") && (t.amp != AmpMode::off || t.accum_steps > 1))
    tc.fail(t.amp != AmpMode::off ? "amp" : "accum_steps",
            "is not supported in GAN runs yet (the discriminator step has neither); remove it");
  t.speed = read_speed_settings(tc);
  t.dist_timeout_s = tc.get<int>("dist_timeout_s", 1800);
  if (t.dist_timeout_s < 1) tc.fail("dist_timeout_s", "must be >= 1 (seconds)");
}

// data.train and data.val (see TrainConfig).
void read_data_sections(const core::Config& cfg, TrainConfig& t) {
  const core::Config data = cfg.at("data");
  const core::Config tr = data.at("train");
  t.train_hr_dirs = paths_of(tr, "hr_dirs");
  t.train_hdf5 = paths_of(tr, "hdf5");
  if (t.train_hr_dirs.empty() && t.train_hdf5.empty())
    tr.fail("hr_dirs", "needs at least one folder of HR training images (hr_dirs) or a prepared HDF5 file (hdf5)");
  if (tr.has("degradation"))
    t.train_degradation = std::make_shared<const data::Degradation>(data::Degradation::from_config_or_file(tr.at("degradation")));
  if (tr.has("degradation_device")) {
    t.degradation_device = tr.req<std::string>("degradation_device");
    if (t.degradation_device != "auto" && t.degradation_device != "loader" && t.degradation_device != "train")
      tr.fail("degradation_device", "must be auto, loader (OpenCV on the loader threads) or train (tensor ops on the "
                                    "training device), got '" + t.degradation_device + "'");
    if (!t.train_degradation)
      tr.fail("degradation_device", "only applies to on-the-fly LR: add data.train.degradation or remove this key");
  }
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
}

}  // namespace

OptimizerConfig OptimizerConfig::from_config(const core::Config& opt, const OptimizerConfig& defaults, bool lr_required) {
  OptimizerConfig o = defaults;
  o.type = opt.get<std::string>("type", defaults.type);
  if (o.type != "adam" && o.type != "adamw") opt.fail("type", "use adam or adamw");
  o.lr = lr_required ? opt.req<double>("lr") : opt.get<double>("lr", defaults.lr);
  if (o.lr <= 0) opt.fail("lr", "must be > 0");
  const auto betas = opt.get<std::vector<double>>("betas", {defaults.beta1, defaults.beta2});
  if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1)
    opt.fail("betas", "must be two numbers in [0,1)");
  o.beta1 = betas[0];
  o.beta2 = betas[1];
  o.weight_decay = opt.get<double>("weight_decay", o.type == "adamw" ? 1e-2 : 0.0);
  o.grad_clip = opt.get<double>("grad_clip", 0.0);
  if (o.weight_decay < 0) opt.fail("weight_decay", "must be >= 0");
  if (o.grad_clip < 0) opt.fail("grad_clip", "must be >= 0 (0 disables clipping)");
  return o;
}

void check_config_paths(const TrainConfig& t) {
  const core::Config& cfg = t.raw;
  const core::Config tr = cfg.child("data").child("train");
  for (const auto& p : t.train_hr_dirs) require_path(tr, "hr_dirs", p, true);
  for (const auto& p : t.train_lr_dirs) require_path(tr, "lr_dirs", p, true);
  for (const auto& p : t.train_hdf5) require_path(tr, "hdf5", p, false);
  if (!t.val_dir.empty()) require_path(cfg.child("data").child("val"), "dir", t.val_dir, false);
  for (const auto& p : t.eval_datasets) require_path(cfg.child("eval"), "datasets", p, false);
}

TrainConfig TrainConfig::from_config(const core::Config& cfg) {
  TrainConfig t;
  t.raw = cfg;
  t.name = cfg.req<std::string>("name");
  if (t.name.empty() || t.name.find('/') != std::string::npos || t.name == "." || t.name == "..")
    cfg.fail("name", "must be a plain folder name");
  t.about = cfg.get<std::string>("about", "");
  t.seed = static_cast<uint64_t>(cfg.get<int64_t>("seed", 0));
  t.device = cfg.get<std::string>("device", "auto");
  t.threads = cfg.get<int>("threads", 0);
  if (t.threads < 0) cfg.fail("threads", "must be >= 0 (0 = all cores)");
  t.scale = cfg.req<int>("scale");
  if (t.scale < 1 || t.scale > 8) cfg.fail("scale", "must be an integer in 1..8");
  t.model = cfg.at("model");
  if (!t.model.is_map()) cfg.fail("model", "must be a mapping with a 'type' key");
  if (t.model.has("init_from")) {  // not a generator hyperparameter: taken out of the model section
    t.init_from = core::expand_data_path(t.model.req<std::string>("init_from"));
    YAML::Node(t.model.node()).remove("init_from");  // loaded by build_models
  }

  read_data_sections(cfg, t);

  t.losses = cfg.at("losses");  // built (and validated) by build_models

  t.optimizer = OptimizerConfig::from_config(cfg.at("optimizer"), OptimizerConfig{}, true);

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
  t.best_by = tc.get<std::string>("best_by", cfg.has("discriminator") ? "last" : "psnr");
  if (t.best_by != "psnr" && t.best_by != "last") tc.fail("best_by", "use psnr (best validation PSNR) or last");
  read_parallel_keys(cfg, tc, t);
  t.tensorboard = tc.get<bool>("tensorboard", true);

  t.schedule = LrSchedule::from_config(cfg.child("scheduler"), t.optimizer.lr, t.iters);

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
      if (eval::parse_metrics(metrics).niqe) t.niqe_model = eval::resolve_niqe_model("");
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

  // The generator, loss and discriminator factories read (and validate) their sections; then the rest.
  t.built = build_models(cfg, t);
  cfg.check_known();
  return t;
}

}  // namespace srlab::train

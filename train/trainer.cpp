#include "train/trainer.h"
#include "core/version.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/runtime.h"
#include "data/datasets/degraded_dataset.h"
#include "data/datasets/hdf5_pairs.h"
#include "data/datasets/loader.h"
#include "data/datasets/paired_dataset.h"
#include "eval/evaluate.h"
#include "eval/generator_method.h"
#include "eval/gnuplot.h"
#include "eval/naming.h"
#include "train/curves.h"
#include "train/device_degradation.h"
#include "train/speed_settings.h"
#include "train/final_report.h"
#include "train/generator_update.h"
#include "train/optimizer.h"
#include "train/parallel_setup.h"
#include "train/run_dir.h"
#include "train/scalar_sink.h"
#include "train/train_config.h"
#include "train/train_log.h"
#include "train/train_state.h"

namespace srlab::train {
namespace fs = std::filesystem;

core::Config load_run_config(const fs::path& run_dir) {
  const fs::path file = run_dir / "config.yaml";
  if (!fs::exists(file))
    throw Error("cannot resume: '" + file.string() + "' not found (is '" + run_dir.string() + "' a run folder made by srlab train?)");
  return core::Config::load_file(file);
}

namespace {

// The training pairs: HR folders (LR from lr_dirs or bicubic) and/or prepared HDF5 files, as one set.
data::PairedImageDataset load_training_set(const TrainConfig& c) {
  std::vector<data::PairedImageDataset> parts;
  if (!c.train_hr_dirs.empty()) {
    data::PairedFolderOptions dopt;
    dopt.hr_dirs = c.train_hr_dirs;
    dopt.lr_dirs = c.train_lr_dirs;
    dopt.scale = c.scale;
    dopt.to_rgb = true;
    parts.emplace_back(dopt);
  }
  for (const auto& f : c.train_hdf5) {
    parts.push_back(data::open_hdf5_pairs(f, true));
    if (parts.back().scale() != c.scale)
      throw Error("training HDF5 file '" + f.string() + "' holds x" + std::to_string(parts.back().scale()) +
                  " pairs but the config's scale is " + std::to_string(c.scale));
  }
  if (parts.size() == 1) return std::move(parts.front());
  std::vector<const data::PairedImageDataset*> ptrs;
  for (const auto& p : parts) ptrs.push_back(&p);
  return data::concat_datasets(ptrs);
}

// The validation set (data.val.dir, re-degraded by data.val.degradation); null without validation.
std::unique_ptr<data::PairedImageDataset> load_validation_set(const TrainConfig& c) {
  if (c.val_dir.empty()) return nullptr;
  auto val = std::make_unique<data::PairedImageDataset>(data::open_benchmark(c.val_dir, c.scale, false));
  if (c.val_degradation) {
    val = std::make_unique<data::PairedImageDataset>(data::degrade_dataset(*val, *c.val_degradation));
    core::log("validation LR re-made by degradation '{}' (seed 0)", c.val_degradation->type());
  }
  return val;
}

// The training set, logged with its load time.
std::shared_ptr<const data::PairedImageDataset> load_training_set_timed(const TrainConfig& c) {
  const auto t_load = std::chrono::steady_clock::now();
  auto train_set = std::make_shared<const data::PairedImageDataset>(load_training_set(c));
  core::log("training set: {} image pairs loaded in {:.1f} s", train_set->size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
  return train_set;
}

// The patch loader of this rank, starting at batch `start` (the resumed iteration).
std::unique_ptr<data::PatchLoader> make_training_loader(const TrainConfig& c, std::shared_ptr<const data::PairedImageDataset> train_set,
                                                        const DataParallel* dp, const torch::Device& device, int64_t start) {
  data::LoaderOptions lopt;
  lopt.batch_size = c.batch_size;
  lopt.lr_patch = c.lr_patch;
  lopt.num_workers = c.workers;
  lopt.prefetch = c.prefetch;
  lopt.seed = c.seed;
  lopt.augment = c.augment;
  lopt.degradation = c.train_degradation;
  lopt.defer_degradation = resolve_degradation_device(c.degradation_device, device) == DegradationDevice::train;
  if (c.train_degradation)
    core::log("training LR made on the fly by degradation '{}' ({})", c.train_degradation->type(),
              lopt.defer_degradation ? "tensor ops on " + device.str() + " in the train step" : "OpenCV on the loader threads");
  shard_loader(lopt, dp);
  return std::make_unique<data::PatchLoader>(std::move(train_set), lopt, start);
}

// The run folder (train/run_dir.h): created or, on resume, locked by rank 0, which also writes
// config.yaml, meta.json (new runs) and train.log; the other ranks write nothing.
struct RunFolder {
  std::optional<LockedRunDir> locked;
  fs::path dir, latest, best;
};

RunFolder open_run_folder(const TrainConfig& c, const TrainerOptions& options, bool main_rank, const torch::Device& device,
                          int threads, int world_size) {
  const bool resume = !options.resume_dir.empty();
  RunFolder r;
  if (main_rank) r.locked = resume ? lock_run_dir(options.resume_dir) : create_run_dir(options.runs_dir, c.name);
  r.dir = r.locked ? r.locked->path : resume ? options.resume_dir : options.runs_dir / c.name;
  r.latest = r.dir / "checkpoints" / "latest.pt";
  r.best = r.dir / "checkpoints" / "best.pt";
  if (resume && !fs::exists(r.latest))
    throw Error("cannot resume: '" + r.latest.string() + "' not found (the run saved no checkpoint yet)");
  if (!main_rank) return r;
  core::set_log_file(r.dir / "train.log");
  core::write_file_atomic(r.dir / "config.yaml", c.raw.dump());
  if (!resume) {
    nlohmann::json meta = {{"name", c.name},           {"git_revision", git_revision()}, {"seed", c.seed},
                           {"srlab_version", SRLAB_VERSION}, {"torch_version", TORCH_VERSION},
                           {"device", device.str()},    {"threads", threads},             {"world_size", world_size},
                           {"command_line", options.command_line}};
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    meta["started"] = stamp;
    core::write_file_atomic(r.dir / "meta.json", meta.dump(2) + "\n");
  }
  return r;
}

// curves.png at every validation (train/curves.h); a missing gnuplot costs the plot, not the run.
std::optional<eval::Gnuplot> find_curves_gnuplot(bool main_rank) {
  if (!main_rank) return std::nullopt;
  try {
    return eval::find_gnuplot("training curves");
  } catch (const Error& e) {
    core::log_line(std::string("warning: curves.png will not be written: ") + e.what());
    return std::nullopt;
  }
}

// The loop of a run: one generator update (and in GAN runs the discriminator's) per iteration, the
// non-finite guard, logging, validation and checkpoints; then the end-of-run decisions.
class TrainingLoop {
 public:
  TrainingLoop(const TrainConfig& c, const TrainerOptions& o, const RunFolder& run, TrainingModels& m, TrainState& st,
               DataParallel* dp, const torch::Device& device, bool main_rank)
      : c_(c), o_(o), run_(run), m_(m), st_(st), device_(device), main_rank_(main_rank),
        train_set_(load_training_set_timed(c)), val_set_(load_validation_set(c)),
        loader_(make_training_loader(c, train_set_, dp, device, st.iteration)),
        window_(m.loss_fn->term_names(), m.objective->has_discriminator()), gnuplot_(find_curves_gnuplot(main_rank)),
        start_iter_(st.iteration) {
    if (main_rank)
      csv_.emplace(run.dir / "metrics.csv", m.loss_fn->term_names(),
                   m.objective->has_discriminator() ? std::vector<std::string>{"d_lr", "d_loss", "d_real", "d_fake"}
                                                  : std::vector<std::string>{},
                   st.iteration, !o.resume_dir.empty());
    // The same numbers to the scalar sink (srlab train: TensorBoard event files); a failure costs it, not the run.
    if (main_rank && c.tensorboard)
      scalars_ = ScalarLog(o.scalar_sink, run.dir, st.iteration, !o.resume_dir.empty(),
                           "TensorBoard scalars (train.tensorboard)");
    sigint_.emplace();
    m.g->train();
    gu_.g = m.g;
    gu_.ema = m.ema;
    gu_.opt = m.opt.get();
    gu_.loss_fn = m.loss_fn.get();
    gu_.objective = m.objective.get();
    gu_.dp = dp;
    gu_.scaler = c.amp == AmpMode::fp16 ? &st.scaler : nullptr;
    gu_.amp = c.amp;
    gu_.accum_steps = c.accum_steps;
    gu_.grad_clip = c.optimizer.grad_clip;
    gu_.ema_decay = c.ema_decay;
    gu_.device = device;
    gu_.channels_last = resolve_channels_last(c.speed, c.amp, device);
  }

  /// Iterates until train.iters, Ctrl-C or TrainerOptions::stop_after.
  void run() {
    while (st_.iteration < c_.iters)
      if (!iteration()) break;
  }

  /// Saves/decides after the loop: the summary, or srlab::Error when the run diverged.
  TrainSummary finish();

 private:
  bool stop_requested() const {
    return core::interrupted() || (o_.stop_after > 0 && st_.iteration - start_iter_ >= o_.stop_after);
  }
  bool iteration();  // false: stop (interrupted)
  bool count_bad_step(bool g_ok, const DiscriminatorStats& d);  // true: the step was skipped
  void log_and_validate(double lr);
  void send_scalars(double lr, double sps, const ValidationScore& v);
  ValidationScore validate();

  const TrainConfig& c_;
  const TrainerOptions& o_;
  const RunFolder& run_;
  TrainingModels& m_;
  TrainState& st_;
  torch::Device device_;
  bool main_rank_;
  std::shared_ptr<const data::PairedImageDataset> train_set_;  // members are built in this order
  std::unique_ptr<data::PairedImageDataset> val_set_;
  std::unique_ptr<data::PatchLoader> loader_;
  LogWindow window_;
  std::optional<CsvLog> csv_;
  ScalarLog scalars_;
  std::optional<eval::Gnuplot> gnuplot_;
  std::optional<core::InterruptScope> sigint_;
  GeneratorUpdate gu_;
  const int64_t start_iter_;
  const std::chrono::steady_clock::time_point run_start_ = std::chrono::steady_clock::now();
  int bad_steps_ = 0;
  int64_t skipped_g_ = 0, skipped_d_ = 0;  // this session's skipped updates (logged at the end)
  std::string bad_what_;                   // what was non-finite last, for the stop message
  double d_lr_ = 0.0;
  bool interrupted_ = false;
  bool last_g_ok_ = true;  // whether the last generator loss was finite (a run ending in NaN diverged)
};

bool TrainingLoop::iteration() {
  const bool stop_wanted = stop_requested();
  const double lr = c_.schedule.at(st_.iteration);
  set_lr(*m_.opt, lr);
  data::Batch batch = loader_->next();
  degrade_on_device(batch, device_);  // data.train.degradation_device: train
  // Generator step (the objective's loss, train/objective.h; accumulation, AMP and the data-parallel
  // gradient average and stop/skip agreement in train/generator_update.h).
  const GeneratorUpdateResult res = generator_update(gu_, batch, st_.iteration, stop_wanted);
  if (res.stop) {
    interrupted_ = true;
    return false;
  }
  last_g_ok_ = res.finite;
  if (!res.finite) {
    ++skipped_g_;
    bad_what_ = "generator loss";
    if (!res.bad_terms.empty()) bad_what_ += " (term " + res.bad_terms + ")";
    core::log("iteration {}: non-finite generator loss ({}); this iteration's updates skipped ({} in a row)", st_.iteration + 1, res.loss,
              bad_steps_ + 1);
  }
  // The objective's work after the generator step (GAN: the discriminator step(s)), on a finite sr only
  // (a NaN batch would corrupt BatchNorm statistics).
  DiscriminatorStats d;
  if (res.finite) {
    d = m_.objective->after_generator_step(res.sr, res.hr, st_.iteration);
    d_lr_ = d.lr;
  }
  if (d.skipped > 0) {
    skipped_d_ += d.skipped;
    bad_what_ = "discriminator loss";
    core::log("iteration {}: non-finite discriminator loss; {} of {} discriminator step(s) skipped", st_.iteration + 1,
              d.skipped, d.skipped + d.steps);
  }
  ++st_.iteration;  // the batch is consumed either way, so resume stays aligned with the loader
  if (count_bad_step(res.finite, d)) return true;
  window_.add(res.loss, res.terms, d, batch.lr.size(0) * st_.world_size);
  log_and_validate(lr);
  if (st_.iteration % c_.save_every == 0 || st_.iteration == c_.iters) save_checkpoint(run_.latest, c_, st_, m_);
  return true;
}

bool TrainingLoop::count_bad_step(bool g_ok, const DiscriminatorStats& d) {
  if (g_ok && d.skipped == 0) {
    bad_steps_ = 0;
    return false;
  }
  if (++bad_steps_ >= c_.max_bad_steps)
    throw Error(fmt::format("training stopped: {} iterations in a row with a non-finite loss (last: {}) at "
                            "iteration {}. {}. Lower {}, enable {}, or check the data.",
                            bad_steps_, bad_what_, st_.iteration,
                            fs::exists(run_.latest) ? "The last good checkpoint is " + run_.latest.string()
                                                    : std::string("No checkpoint was saved"),
                            m_.objective->tuning_keys().lr, m_.objective->tuning_keys().grad_clip));
  return true;
}

ValidationScore TrainingLoop::validate() {
  models::Generator net = m_.ema ? m_.ema : m_.g;
  eval::EvalOptions eo;
  eo.crop_border = c_.scale;
  const eval::EvalResult r = eval::evaluate(*val_set_, eval::dataset_display_name(c_.val_dir),
                                            eval::generator_method(net, c_.name, device_), eo);
  ValidationScore v{true, r.mean_psnr, r.mean_ssim};
  // best_by psnr: keep the best-scoring weights; best_by last: the latest validated ones.
  if (std::isfinite(v.psnr) && (c_.best_by == "last" || v.psnr > st_.best_psnr)) {
    st_.best_psnr = v.psnr;
    st_.best_iter = st_.iteration;
    save_checkpoint(run_.best, c_, st_, m_);
  }
  return v;
}

// A stop (Ctrl-C, stop_after) logs its partial window now, so that the resumed run starts a fresh one.
void TrainingLoop::log_and_validate(double lr) {
  const bool do_log = st_.iteration % c_.log_every == 0 || st_.iteration == c_.iters || stop_requested();
  const bool do_val = main_rank_ && val_set_ && (st_.iteration % c_.val_every == 0 || st_.iteration == c_.iters);
  if (!do_log && !do_val) return;
  const double sps = window_.samples_per_s();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  const double per_iter = elapsed / static_cast<double>(st_.iteration - start_iter_);
  const ValidationScore v = do_val ? validate() : ValidationScore{};
  const std::string best = fmt::format("{} {:.3f} @ {}", c_.best_by == "last" ? "best.pt = latest," : "best",
                                       st_.best_psnr, st_.best_iter);
  core::log_line(window_.line(st_.iteration, c_.iters, lr, sps, format_duration(per_iter * (c_.iters - st_.iteration)),
                              v, eval::dataset_display_name(c_.val_dir), best));
  if (csv_) csv_->row(window_.csv_row(st_.iteration, lr, d_lr_, sps, v));
  send_scalars(lr, sps, v);
  if (do_val && gnuplot_) {
    try {
      write_curves(run_.dir, *gnuplot_);
    } catch (const Error& e) {
      core::log_line(std::string("warning: curves.png not updated: ") + e.what());
    }
  }
  window_.reset();
}

// The metrics.csv row's numbers as train/<column> and val/psnr, val/ssim (NaN ones are dropped by ScalarLog).
void TrainingLoop::send_scalars(double lr, double sps, const ValidationScore& v) {
  if (!scalars_.active()) return;
  std::vector<std::pair<std::string, double>> values;
  for (const auto& [tag, value] : window_.means()) values.emplace_back("train/" + tag, value);
  values.insert(values.end(), {{"train/lr", lr}, {"train/samples_per_s", sps}, {"val/psnr", v.psnr}, {"val/ssim", v.ssim}});
  if (m_.objective->has_discriminator()) values.emplace_back("train/d_lr", d_lr_);
  scalars_.write(st_.iteration, values);
}

TrainSummary TrainingLoop::finish() {
  if (skipped_g_ > 0 || skipped_d_ > 0)
    core::log("non-finite losses in this session: {} generator step(s) and {} discriminator step(s) skipped", skipped_g_,
              skipped_d_);
  TrainSummary summary{run_.dir, st_.iteration, st_.best_psnr, st_.best_iter, interrupted_};
  if (interrupted_) {
    const bool saved = save_checkpoint(run_.latest, c_, st_, m_);
    core::log("interrupted at iteration {}: {} {}; continue with: srlab train --resume {}", st_.iteration,
              saved ? "saved" : "kept the previous", run_.latest.string(), run_.dir.string());
    return summary;
  }
  // A run that ends in non-finite losses (or whose every step was skipped) diverged: its final weights are
  // unusable, so it fails instead of reporting success; best.pt is never written from such weights.
  const bool all_skipped = skipped_g_ > 0 && skipped_g_ == st_.iteration - start_iter_;
  const bool need_best = !fs::exists(run_.best) || c_.best_by == "last";  // no validation: the final weights are "best"
  if (!last_g_ok_ || all_skipped || (need_best && !save_checkpoint(run_.best, c_, st_, m_)))
    throw Error(fmt::format(
        "training diverged: {} of the {} iteration(s) of this session had a non-finite loss (last: {}), the last {} in "
        "a row; {}. Lower optimizer.lr, enable optimizer.grad_clip, or check the data",
        skipped_g_, st_.iteration - start_iter_, bad_what_.empty() ? "non-finite weights" : bad_what_, bad_steps_,
        fs::exists(run_.best) ? "best.pt keeps the weights of iteration " + std::to_string(st_.best_iter)
                              : std::string("no usable model was saved")));
  core::log("training done: {} iterations{}", st_.iteration,
            st_.best_iter >= 0 ? fmt::format(", best validation {:.3f} dB at iteration {}", st_.best_psnr, st_.best_iter) : "");
  return summary;
}

}  // namespace

TrainSummary run_training(const core::Config& input_cfg, const TrainerOptions& options) {
  const bool resume = !options.resume_dir.empty();
  const TrainConfig c = TrainConfig::from_config(input_cfg);
  check_config_paths(c);  // every data/eval path, before the run folder or any step
  const int threads = core::configure_threads(c.threads);
  torch::Device device = core::select_device(c.device);
  const std::unique_ptr<DataParallel> dp = join_data_parallel(c, device);  // null: one process
  const bool main_rank = !dp || dp->is_main();                             // only rank 0 writes files
  const RunFolder run = open_run_folder(c, options, main_rank, device, threads, dp ? dp->world_size() : 1);
  core::log("run {} in {} | device {} | {} threads | git {}", c.name, run.dir.string(), device.str(), threads, git_revision());
  if (!c.about.empty()) core::log("about this run: {}", c.about);
  core::log("plan: {} iterations, batches of {} LR patches of {}x{} pixels (x{}, {}){}{}", c.iters, c.batch_size,
            c.lr_patch, c.lr_patch, c.scale, c.train_degradation ? "LR degraded on the fly" : "clean bicubic LR",
            c.val_dir.empty() ? "" : fmt::format(", validation every {} iterations", c.val_every),
            c.eval_datasets.empty() || !options.final_eval
                ? ""
                : fmt::format(", then the final evaluation on {} dataset{}", c.eval_datasets.size(),
                              c.eval_datasets.size() == 1 ? "" : "s"));

  // Model, EMA, optimizer, losses (and, in GAN runs, the discriminator), then the resumed state.
  TrainingModels m = build_training_models(c, device, resume);
  TrainState st;
  st.world_size = dp ? dp->world_size() : 1;
  if (resume) {
    load_checkpoint(run.latest, st, m);
    core::log("resumed from {} at iteration {}", run.latest.string(), st.iteration);
  }
  if (dp) {  // identical start on every rank (rank 0's weights)
    dp->broadcast_module(*m.g);
    if (m.ema) dp->broadcast_module(*m.ema);
    m.objective->set_data_parallel(dp.get());
  }
  announce_precision(c, device);
  apply_speed_settings(c.speed, c.amp, device);
  if (resolve_channels_last(c.speed, c.amp, device)) {  // after resume: the checkpoint's weights are converted too
    to_channels_last(*m.g);
    if (m.ema) to_channels_last(*m.ema);
  }

  TrainingLoop loop(c, options, run, m, st, dp.get(), device, main_rank);
  loop.run();
  TrainSummary summary = loop.finish();
  summary.scale = c.scale;
  summary.clean_lr = c.train_degradation == nullptr;
  if (!summary.interrupted && options.final_eval && main_rank && !c.eval_datasets.empty())
    write_final_report(c, run.dir, run.best, m.g, m.ema != nullptr, device);
  core::set_log_file({});
  return summary;
}

}  // namespace srlab::train

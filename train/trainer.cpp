#include "train/trainer.h"
#include "core/version.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/torch_io.h"
#include "data/datasets/degraded_dataset.h"
#include "data/datasets/hdf5_pairs.h"
#include "data/datasets/loader.h"
#include "data/datasets/paired_dataset.h"
#include "eval/evaluate.h"
#include "eval/generator_method.h"
#include "eval/methods.h"
#include "eval/naming.h"
#include "losses/weighted_loss.h"
#include "models/weights/checkpoint.h"
#include "models/features/lpips.h"
#include "models/arch/registry.h"
#include "train/curves.h"
#include "train/ema.h"
#include "train/finite_check.h"
#include "train/gan_step.h"
#include "train/generator_update.h"
#include "train/optimizer.h"
#include "train/parallel_setup.h"
#include "train/run_dir.h"
#include "train/scalar_sink.h"
#include "train/init_from.h"
#include "train/train_config.h"

namespace srlab::train {
namespace fs = std::filesystem;

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

std::string format_duration(double seconds) {
  const int s = static_cast<int>(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

struct TrainState {
  int64_t iteration = 0;  ///< iterations completed
  double best_psnr = 0.0;
  int64_t best_iter = -1;
  int world_size = 1;   ///< data-parallel processes (resume needs the same number)
  LossScaler scaler;    ///< train.amp fp16 loss scale
};

// Writes a checkpoint unless the weights diverged: returns false (and logs) when the generator or its EMA
// holds a NaN/inf, so that best.pt and latest.pt only ever hold finite weights.
bool save_checkpoint(const fs::path& path, const TrainConfig& c, const TrainState& st, const models::Generator& g,
                     const models::Generator& ema, torch::optim::Optimizer& opt, const GanStep* gan) {
  if (process_rank() != 0) return true;  // data-parallel runs: rank 0 writes
  std::string bad = first_non_finite(*g);
  if (bad.empty() && ema) bad = first_non_finite(*ema);
  if (!bad.empty()) {
    core::log("not saving {} at iteration {}: weight '{}' is non-finite (the run diverged)", path.string(), st.iteration,
              bad);
    return false;
  }
  torch::serialize::OutputArchive ar;
  {
    models::CheckpointInfo info;
    info.model_yaml = c.model.dump();
    info.scale = c.scale;
    info.run_id = c.name;
    info.iteration = st.iteration;
    models::write_generator_entries(ar, info, g, ema);
    torch::serialize::OutputArchive o;
    opt.save(o);
    ar.write("optimizer", o);
    if (gan) gan->save(ar);
    ar.write("best_psnr", c10::IValue(st.best_psnr));
    ar.write("best_iter", c10::IValue(st.best_iter));
    ar.write("rng_state", at::detail::getDefaultCPUGenerator().get_state());
    write_parallel_state(ar, st.world_size, c.amp == AmpMode::fp16 ? &st.scaler : nullptr);
  }
  core::save_archive_atomic(ar, path);
  return true;
}

}  // namespace

core::Config load_run_config(const fs::path& run_dir) {
  const fs::path file = run_dir / "config.yaml";
  if (!fs::exists(file))
    throw Error("cannot resume: '" + file.string() + "' not found (is '" + run_dir.string() + "' a run folder made by srlab train?)");
  return core::Config::load_file(file);
}

namespace {

void load_checkpoint(const fs::path& path, TrainState& st, models::Generator& g, models::Generator& ema,
                     torch::optim::Optimizer& opt, GanStep* gan) {
  torch::serialize::InputArchive ar;
  models::open_checkpoint(path, ar);
  const models::CheckpointInfo info = models::read_checkpoint_info(ar, path);
  models::load_generator_weights(ar, "generator", g, path);
  if (ema) {
    if (!info.has_ema) throw Error("checkpoint '" + path.string() + "' has no EMA weights but the config enables EMA");
    models::load_generator_weights(ar, "generator_ema", ema, path);
  }
  torch::serialize::InputArchive o;
  if (!ar.try_read("optimizer", o)) throw Error("checkpoint '" + path.string() + "' has no optimizer state; cannot resume exactly");
  opt.load(o);
  if (gan) gan->load(ar, path);
  read_parallel_state(ar, path, st.world_size, &st.scaler);
  c10::IValue v;
  st.iteration = info.iteration;
  if (ar.try_read("best_psnr", v)) st.best_psnr = v.toDouble();
  if (ar.try_read("best_iter", v)) st.best_iter = v.toInt();
  torch::Tensor rng;
  if (ar.try_read("rng_state", rng)) {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng);
  }
}

// metrics.csv: rows are appended; on resume, rows after the checkpoint's iteration are dropped so the
// log matches the resumed trajectory.
class CsvLog {
 public:
  /// `extra`: more columns after the loss terms (the discriminator's, in GAN runs).
  CsvLog(const fs::path& path, const std::vector<std::string>& loss_terms, const std::vector<std::string>& extra,
         int64_t resume_iter, bool resume)
      : path_(path) {
    std::string header = "iteration,lr,loss";
    for (const auto& t : loss_terms) header += ",loss_" + t;
    for (const auto& e : extra) header += "," + e;
    header += ",samples_per_s,val_psnr,val_ssim\n";
    if (resume && fs::exists(path)) {
      std::ifstream in(path);
      std::string line, kept;
      bool first = true;
      while (std::getline(in, line)) {
        if (first) {
          kept += line + "\n";
          first = false;
          continue;
        }
        const auto comma = line.find(',');
        if (comma != std::string::npos && std::stoll(line.substr(0, comma)) <= resume_iter) kept += line + "\n";
      }
      core::write_file_atomic(path, kept);
    } else {
      core::write_file_atomic(path, header);
    }
    out_.open(path, std::ios::app);
  }
  void row(const std::string& r) { out_ << r << '\n' << std::flush; }

 private:
  fs::path path_;
  std::ofstream out_;
};

std::string opt_num(double v, const char* f = "{:.4f}") { return std::isnan(v) ? "" : fmt::format(fmt::runtime(f), v); }

}  // namespace

TrainSummary run_training(const core::Config& input_cfg, const TrainerOptions& options) {
  const bool resume = !options.resume_dir.empty();
  const TrainConfig c = TrainConfig::from_config(input_cfg);
  check_config_paths(c);  // every data/eval path, before the run folder or any step
  const int threads = core::configure_threads(c.threads);
  torch::Device device = core::select_device(c.device);
  const std::unique_ptr<DataParallel> dp = join_data_parallel(c, device);  // null: one process
  const bool main_rank = !dp || dp->is_main();  // only rank 0 writes files

  // Only rank 0 creates and locks the run folder; the other ranks write nothing.
  std::optional<LockedRunDir> locked;
  if (main_rank) locked = resume ? lock_run_dir(options.resume_dir) : create_run_dir(options.runs_dir, c.name);
  const fs::path run_dir = locked ? locked->path : resume ? options.resume_dir : options.runs_dir / c.name;
  const fs::path latest = run_dir / "checkpoints" / "latest.pt";
  const fs::path best = run_dir / "checkpoints" / "best.pt";
  if (resume && !fs::exists(latest))
    throw Error("cannot resume: '" + latest.string() + "' not found (the run saved no checkpoint yet)");
  if (main_rank) core::set_log_file(run_dir / "train.log");
  if (main_rank) core::write_file_atomic(run_dir / "config.yaml", c.raw.dump());
  if (!resume && main_rank) {
    nlohmann::json meta = {{"name", c.name},
                           {"git_revision", git_revision()},
                           {"seed", c.seed},
                           {"srlab_version", SRLAB_VERSION},
                           {"torch_version", TORCH_VERSION},
                           {"device", device.str()},
                           {"threads", threads},
                           {"world_size", dp ? dp->world_size() : 1},
                           {"command_line", options.command_line}};
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    meta["started"] = stamp;
    core::write_file_atomic(run_dir / "meta.json", meta.dump(2) + "\n");
  }
  core::log("run {} in {} | device {} | {} threads | git {}", c.name, run_dir.string(), device.str(), threads, git_revision());

  // Model, EMA, optimizer (and, in GAN runs, the discriminator). The networks are built on the CPU
  // right after seeding so that their initialisation depends only on the seed.
  torch::manual_seed(c.seed);
  models::Generator g = models::make_generator(c.model, c.scale);
  models::Generator ema = c.ema_decay > 0 ? models::make_generator(c.model, c.scale) : nullptr;
  if (!c.gan.init_from.empty() && !resume) {
    // PSNR-then-GAN: start from a pixel-trained generator (its EMA weights when it has them).
    core::log("generator initialised from {} ({})", c.gan.init_from.string(),
              init_generator_from(c.gan.init_from, c.model, c.scale, g));
  }
  if (!c.init_from.empty() && !resume)  // fine-tuning (model.init_from)
    core::log("generator initialised from {} ({})", c.init_from.string(), init_generator_from(c.init_from, c.model, c.scale, g));
  if (ema) copy_weights(*ema, *g);
  g->to(device);
  if (ema) {
    ema->to(device);
    ema->eval();
    for (auto& p : ema->parameters()) p.set_requires_grad(false);
  }
  auto opt = make_optimizer(c.optimizer, g->parameters());
  losses::WeightedLoss loss_fn = losses::WeightedLoss::from_config(c.losses);
  loss_fn.to(device);
  core::log("generator {} x{}: {} parameters", g->type(), c.scale, models::count_parameters(*g));
  std::unique_ptr<GanStep> gan;
  if (c.gan.enabled()) {
    gan = std::make_unique<GanStep>(c, loss_fn, device);
    core::log("discriminator {}: {} parameters | gan_type {} | d_steps {} | adversarial term from iteration {}",
              gan->discriminator()->type(), models::count_parameters(*gan->discriminator()),
              losses::gan_type_name(gan->gan_loss().type()), c.gan.d_steps, c.gan.d_start);
  }

  TrainState st;
  st.world_size = dp ? dp->world_size() : 1;
  if (resume) {
    load_checkpoint(latest, st, g, ema, *opt, gan.get());
    core::log("resumed from {} at iteration {}", latest.string(), st.iteration);
  }
  if (dp) {  // identical start on every rank (rank 0's weights)
    dp->broadcast_module(*g);
    if (ema) dp->broadcast_module(*ema);
    if (gan) gan->set_data_parallel(dp.get());
  }
  announce_precision(c, device);

  // Data.
  auto t_load = std::chrono::steady_clock::now();
  auto train_set = std::make_shared<const data::PairedImageDataset>(load_training_set(c));
  core::log("training set: {} image pairs loaded in {:.1f} s", train_set->size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
  std::unique_ptr<data::PairedImageDataset> val_set;
  if (!c.val_dir.empty()) {
    val_set = std::make_unique<data::PairedImageDataset>(data::open_benchmark(c.val_dir, c.scale, false));
    if (c.val_degradation) {
      val_set = std::make_unique<data::PairedImageDataset>(data::degrade_dataset(*val_set, *c.val_degradation));
      core::log("validation LR re-made by degradation '{}' (seed 0)", c.val_degradation->type());
    }
  }
  data::LoaderOptions lopt;
  lopt.batch_size = c.batch_size;
  lopt.lr_patch = c.lr_patch;
  lopt.num_workers = c.workers;
  lopt.prefetch = c.prefetch;
  lopt.seed = c.seed;
  lopt.augment = c.augment;
  lopt.degradation = c.train_degradation;
  if (c.train_degradation) core::log("training LR made on the fly by degradation '{}'", c.train_degradation->type());
  shard_loader(lopt, dp.get());
  data::PatchLoader loader(train_set, lopt, st.iteration);

  const std::vector<std::string> d_columns = gan ? std::vector<std::string>{"d_lr", "d_loss", "d_real", "d_fake"}
                                                : std::vector<std::string>{};
  std::optional<CsvLog> csv;
  if (main_rank) csv.emplace(run_dir / "metrics.csv", loss_fn.term_names(), d_columns, st.iteration, resume);
  // The same numbers to the scalar sink (srlab train: TensorBoard event files); a failure costs it, not the run.
  ScalarLog scalar_log;
  if (main_rank && c.tensorboard)
    scalar_log = ScalarLog(options.scalar_sink, run_dir, st.iteration, resume, "TensorBoard scalars (train.tensorboard)");
  // curves.png at every validation (train/curves.h); a missing gnuplot costs the plot, not the run.
  std::optional<eval::Gnuplot> gnuplot;
  if (main_rank) {
    try {
      gnuplot = eval::find_gnuplot("training curves");
    } catch (const Error& e) {
      core::log_line(std::string("warning: curves.png will not be written: ") + e.what());
    }
  }
  core::InterruptScope sigint;

  auto validate = [&]() -> std::pair<double, double> {
    models::Generator net = ema ? ema : g;
    eval::EvalOptions eo;
    eo.crop_border = c.scale;
    const eval::EvalResult r = eval::evaluate(*val_set, eval::dataset_display_name(c.val_dir),
                                              eval::generator_method(net, c.name, device), eo);
    return {r.mean_psnr, r.mean_ssim};
  };

  g->train();
  GeneratorUpdate gu;
  gu.g = g;
  gu.ema = ema;
  gu.opt = opt.get();
  gu.loss_fn = &loss_fn;
  gu.gan = gan.get();
  gu.dp = dp.get();
  gu.scaler = c.amp == AmpMode::fp16 ? &st.scaler : nullptr;
  gu.amp = c.amp;
  gu.accum_steps = c.accum_steps;
  gu.grad_clip = c.optimizer.grad_clip;
  gu.ema_decay = c.ema_decay;
  gu.device = device;
  int bad_steps = 0;
  int64_t skipped_g = 0, skipped_d = 0;  // this session's skipped updates (logged at the end)
  std::string bad_what;                  // what was non-finite last, for the stop message
  double window_loss = 0.0;
  std::vector<double> window_terms(loss_fn.term_names().size(), 0.0);
  int window_n = 0;
  double window_d_loss = 0.0, window_d_real = 0.0, window_d_fake = 0.0, d_lr = 0.0;
  int window_d_n = 0;
  int64_t window_samples = 0;
  auto window_start = std::chrono::steady_clock::now();
  const auto run_start = window_start;
  const int64_t start_iter = st.iteration;
  bool interrupted = false;
  bool last_g_ok = true;  // whether the last generator loss was finite (a run ending in NaN diverged)

  while (st.iteration < c.iters) {
    const bool stop_wanted = core::interrupted() || (options.stop_after > 0 && st.iteration - start_iter >= options.stop_after);
    const double lr = c.schedule.at(st.iteration);
    set_lr(*opt, lr);
    data::Batch batch = loader.next();
    // Generator step (with D frozen in GAN runs, see train/gan_step.h; accumulation, AMP and the
    // data-parallel gradient average and stop/skip agreement in train/generator_update.h).
    const GeneratorUpdateResult res = generator_update(gu, batch, st.iteration, stop_wanted);
    if (res.stop) {
      interrupted = true;
      break;
    }
    const double loss_value = res.loss;
    const bool g_ok = res.finite;
    last_g_ok = g_ok;
    if (!g_ok) {
      ++skipped_g;
      bad_what = "generator loss";
      if (!res.bad_terms.empty()) bad_what += " (term " + res.bad_terms + ")";
      core::log("iteration {}: non-finite {}loss ({}); step skipped{} ({} in a row)", st.iteration + 1,
                gan ? "generator " : "", loss_value, gan ? " (discriminator step too)" : "", bad_steps + 1);
    }
    // Discriminator step(s), on a finite sr only (a NaN batch would corrupt BatchNorm statistics).
    DiscriminatorStats d;
    if (gan && g_ok) {
      d = gan->discriminator_step(res.sr, res.hr, st.iteration);
      d_lr = d.lr;
      if (d.skipped > 0) {
        skipped_d += d.skipped;
        bad_what = "discriminator loss";
        core::log("iteration {}: non-finite discriminator loss; {} of {} discriminator step(s) skipped", st.iteration + 1,
                  d.skipped, d.skipped + d.steps);
      }
    }
    ++st.iteration;  // the batch is consumed either way, so resume stays aligned with the loader
    if (!g_ok || d.skipped > 0) {
      ++bad_steps;
      if (bad_steps >= c.max_bad_steps)
        throw Error(fmt::format("training stopped: {} iterations in a row with a non-finite loss (last: {}) at "
                                "iteration {}. {}. Lower {}, enable {}, or check the data.",
                                bad_steps, bad_what, st.iteration,
                                fs::exists(latest) ? "The last good checkpoint is " + latest.string()
                                                   : std::string("No checkpoint was saved"),
                                gan ? "optimizer.lr / d_optimizer.lr" : "optimizer.lr",
                                gan ? "optimizer.grad_clip / d_optimizer.grad_clip" : "optimizer.grad_clip"));
      continue;
    }
    bad_steps = 0;

    window_loss += loss_value;
    for (size_t i = 0; i < res.terms.size() && i < window_terms.size(); ++i) window_terms[i] += res.terms[i].second;
    ++window_n;
    if (d.steps > 0) {
      window_d_loss += d.loss;
      window_d_real += d.real;
      window_d_fake += d.fake;
      ++window_d_n;
    }
    window_samples += batch.lr.size(0) * st.world_size;

    // A stop (Ctrl-C, stop_after) logs its partial window now, so that the resumed run starts a fresh one.
    const bool stopping = core::interrupted() || (options.stop_after > 0 && st.iteration - start_iter >= options.stop_after);
    const bool do_log = st.iteration % c.log_every == 0 || st.iteration == c.iters || stopping;
    const bool do_val = main_rank && val_set && (st.iteration % c.val_every == 0 || st.iteration == c.iters);
    if (do_log || do_val) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      const double sps = secs > 0 ? window_samples / secs : 0.0;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
      const double per_iter = elapsed / static_cast<double>(st.iteration - start_iter);
      double vpsnr = NAN, vssim = NAN;
      if (do_val) {
        std::tie(vpsnr, vssim) = validate();
        // best_by psnr: keep the best-scoring weights; best_by last: the latest validated ones.
        if (std::isfinite(vpsnr) && (c.best_by == "last" || vpsnr > st.best_psnr)) {
          st.best_psnr = vpsnr;
          st.best_iter = st.iteration;
          save_checkpoint(best, c, st, g, ema, *opt, gan.get());
        }
      }
      const double mean_loss = window_n ? window_loss / window_n : NAN;
      const auto names = loss_fn.term_names();
      std::string terms_text;
      if (names.size() > 1 || gan) {
        for (size_t i = 0; i < names.size(); ++i)
          terms_text += fmt::format("{}{} {:.5f}", i ? ", " : " (", names[i], window_n ? window_terms[i] / window_n : NAN);
        terms_text += ")";
      }
      const double md_loss = window_d_n ? window_d_loss / window_d_n : NAN;
      const double md_real = window_d_n ? window_d_real / window_d_n : NAN;
      const double md_fake = window_d_n ? window_d_fake / window_d_n : NAN;
      std::string line = fmt::format("iter {}/{} | loss {:.5f}{}", st.iteration, c.iters, mean_loss, terms_text);
      if (gan)
        line += fmt::format(" | D loss {:.5f} (real logit {:.3f}, fake logit {:.3f})", md_loss, md_real, md_fake);
      line += fmt::format(" | lr {:.2e} | {:.0f} samples/s | ETA {}", lr, sps, format_duration(per_iter * (c.iters - st.iteration)));
      if (do_val)
        line += fmt::format(" | val {} {:.3f} dB / {:.4f} ({} {:.3f} @ {})", eval::dataset_display_name(c.val_dir), vpsnr,
                            vssim, c.best_by == "last" ? "best.pt = latest," : "best", st.best_psnr, st.best_iter);
      core::log_line(line);
      std::string row = fmt::format("{},{:.6e},{}", st.iteration, lr, opt_num(mean_loss, "{:.6f}"));
      for (double t : window_terms) row += "," + opt_num(window_n ? t / window_n : NAN, "{:.6f}");
      if (gan)
        row += fmt::format(",{:.6e},{},{},{}", d_lr, opt_num(md_loss, "{:.6f}"), opt_num(md_real, "{:.6f}"),
                           opt_num(md_fake, "{:.6f}"));
      row += fmt::format(",{:.1f},{},{}", sps, opt_num(vpsnr), opt_num(vssim, "{:.5f}"));
      if (csv) csv->row(row);
      if (scalar_log.active()) {
        std::vector<std::pair<std::string, double>> sv{{"train/loss", mean_loss}};
        for (size_t i = 0; i < names.size(); ++i)
          sv.emplace_back("train/loss_" + names[i], window_n ? window_terms[i] / window_n : NAN);
        sv.insert(sv.end(), {{"train/lr", lr}, {"train/samples_per_s", sps}, {"val/psnr", vpsnr}, {"val/ssim", vssim}});
        if (gan)
          sv.insert(sv.end(), {{"train/d_loss", md_loss}, {"train/d_real", md_real}, {"train/d_fake", md_fake}, {"train/d_lr", d_lr}});
        scalar_log.write(st.iteration, sv);
      }
      if (do_val && gnuplot) {
        try {
          write_curves(run_dir, *gnuplot);
        } catch (const Error& e) {
          core::log_line(std::string("warning: curves.png not updated: ") + e.what());
        }
      }
      window_loss = 0;
      std::fill(window_terms.begin(), window_terms.end(), 0.0);
      window_n = 0;
      window_d_loss = window_d_real = window_d_fake = 0.0;
      window_d_n = 0;
      window_samples = 0;
      window_start = std::chrono::steady_clock::now();
    }
    if (st.iteration % c.save_every == 0 || st.iteration == c.iters) save_checkpoint(latest, c, st, g, ema, *opt, gan.get());
  }
  if (skipped_g > 0 || skipped_d > 0)
    core::log("non-finite losses in this session: {} generator step(s) and {} discriminator step(s) skipped", skipped_g,
              skipped_d);

  TrainSummary summary;
  summary.run_dir = run_dir;
  summary.iterations = st.iteration;
  summary.best_psnr = st.best_psnr;
  summary.best_iter = st.best_iter;
  summary.interrupted = interrupted;
  if (interrupted) {
    const bool saved = save_checkpoint(latest, c, st, g, ema, *opt, gan.get());
    core::log("interrupted at iteration {}: {} {}; continue with: srlab train --resume {}", st.iteration,
              saved ? "saved" : "kept the previous", latest.string(), run_dir.string());
    core::set_log_file({});
    return summary;
  }
  // A run that ends in non-finite losses (or whose every step was skipped) diverged: its final weights are
  // unusable, so it fails instead of reporting success; best.pt is never written from such weights.
  const bool all_skipped = skipped_g > 0 && skipped_g == st.iteration - start_iter;
  const bool need_best = !fs::exists(best) || c.best_by == "last";  // no validation: the final weights are "best"
  if (!last_g_ok || all_skipped || (need_best && !save_checkpoint(best, c, st, g, ema, *opt, gan.get())))
    throw Error(fmt::format(
        "training diverged: {} of the {} iteration(s) of this session had a non-finite loss (last: {}), the last {} in "
        "a row; {}. Lower optimizer.lr, enable optimizer.grad_clip, or check the data",
        skipped_g, st.iteration - start_iter, bad_what.empty() ? "non-finite weights" : bad_what, bad_steps,
        fs::exists(best) ? "best.pt keeps the weights of iteration " + std::to_string(st.best_iter)
                         : std::string("no usable model was saved")));
  core::log("training done: {} iterations{}", st.iteration,
            st.best_iter >= 0 ? fmt::format(", best validation {:.3f} dB at iteration {}", st.best_psnr, st.best_iter) : "");

  if (options.final_eval && main_rank && !c.eval_datasets.empty()) {
    std::vector<eval::EvalResult> results;
    nlohmann::json js = nlohmann::json::array();
    const eval::MetricSelection metrics = eval::parse_metrics(c.eval_metrics);
    models::Lpips lpips{nullptr};
    if (metrics.lpips) lpips = models::load_lpips(c.lpips_weights, c.lpips_net);
    std::shared_ptr<const eval::NiqeModel> niqe;
    if (metrics.niqe) niqe = std::make_shared<eval::NiqeModel>(eval::load_niqe_model(c.niqe_model));
    std::vector<eval::Method> methods;
    for (const auto& m : c.eval_methods) methods.push_back(eval::make_method(m, c.scale, device, c.sharpen));
    methods.push_back(eval::make_method(best.string(), c.scale, device, c.sharpen));
    methods.back().name = c.name;
    auto score = [&](const data::PairedImageDataset& ds, const std::string& ds_name) {
      for (const auto& m : methods) {
        eval::EvalOptions eo;
        eo.crop_border = c.scale;
        eo.metrics = metrics;
        eo.lpips = lpips;
        eo.niqe_model = niqe;
        results.push_back(eval::evaluate(ds, ds_name, m, eo));
        js.push_back(eval::to_json(results.back()));
      }
    };
    for (const auto& ds_dir : c.eval_datasets) {
      const data::PairedImageDataset ds = data::open_benchmark(ds_dir, c.scale, false);
      const std::string ds_name = eval::dataset_display_name(ds_dir);
      score(ds, ds_name);
      for (const auto& [label, deg] : c.eval_degradations) score(data::degrade_dataset(ds, deg), ds_name + "_" + label);
    }
    std::string md = "# " + c.name + " — final evaluation\n\n";
    md += fmt::format("Y-PSNR (dB) / SSIM, border crop = scale ({}), x{}; LPIPS (when listed) on the full RGB image, NIQE (when listed) of the SR image, lower is better. Model: {} ({}), checkpoint {}{}.\n\n", c.scale,
                      c.scale, g->type(), fmt::format("{} parameters", models::count_parameters(*g)), best.string(),
                      ema ? " (EMA weights)" : "");
    md += eval::comparison_table_markdown(results);
    core::write_file_atomic(run_dir / "report.md", md);
    core::write_file_atomic(run_dir / "report.json", js.dump(2) + "\n");
    core::log_line("final evaluation (report.md / report.json in " + run_dir.string() + "):\n" +
                   eval::comparison_table_text(results));
  }
  core::set_log_file({});
  return summary;
}

}  // namespace srlab::train

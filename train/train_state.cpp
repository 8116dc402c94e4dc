#include "train/train_state.h"

#include "core/error.h"
#include "core/log.h"
#include "core/torch_io.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "train/ema.h"
#include "train/finite_check.h"
#include "train/optimizer.h"
#include "train/parallel_setup.h"

namespace srlab::train {
namespace fs = std::filesystem;

TrainingModels build_training_models(const TrainConfig& c, const torch::Device& device, bool resume) {
  if (!c.built) throw Error("build_training_models: the config's models were not built (use TrainConfig::from_config)");
  const BuiltModels& b = *c.built;
  TrainingModels m;
  m.g = b.generator;
  m.ema = b.ema;
  at::Generator rng = at::detail::getDefaultCPUGenerator();
  rng.set_state(b.rng_state);  // as if the models had been built just now
  if (!resume)  // a resumed run's weights come from its checkpoint
    for (const auto& line : b.init_log) core::log_line(line);
  if (m.ema) copy_weights(*m.ema, *m.g);
  m.g->to(device);
  if (m.ema) {
    m.ema->to(device);
    m.ema->eval();
    for (auto& p : m.ema->parameters()) p.set_requires_grad(false);
  }
  m.opt = make_optimizer(c.optimizer, m.g->parameters());
  m.loss_fn = b.loss;
  m.loss_fn->to(device);
  core::log("generator {} x{}: {} parameters", m.g->type(), c.scale, models::count_parameters(*m.g));
  m.objective = make_objective(c, m.loss_fn, b.discriminator, device);
  return m;
}

bool save_checkpoint(const fs::path& path, const TrainConfig& c, const TrainState& st, const TrainingModels& m) {
  if (process_rank() != 0) return true;  // data-parallel runs: rank 0 writes
  std::string bad = first_non_finite(*m.g);
  if (bad.empty() && m.ema) bad = first_non_finite(*m.ema);
  if (!bad.empty()) {
    core::log("not saving {} at iteration {}: weight '{}' is non-finite (the run diverged)", path.string(), st.iteration,
              bad);
    return false;
  }
  torch::serialize::OutputArchive ar;
  models::CheckpointInfo info;
  info.model_yaml = c.model.dump();
  info.scale = c.scale;
  info.run_id = c.name;
  info.iteration = st.iteration;
  models::write_generator_entries(ar, info, m.g, m.ema);
  torch::serialize::OutputArchive o;
  m.opt->save(o);
  ar.write("optimizer", o);
  m.objective->save(ar);
  ar.write("best_psnr", c10::IValue(st.best_psnr));
  ar.write("best_iter", c10::IValue(st.best_iter));
  ar.write("rng_state", at::detail::getDefaultCPUGenerator().get_state());
  write_parallel_state(ar, st.world_size, c.amp == AmpMode::fp16 ? &st.scaler : nullptr);
  core::save_archive_atomic(ar, path);
  return true;
}

void load_checkpoint(const fs::path& path, TrainState& st, TrainingModels& m) {
  torch::serialize::InputArchive ar;
  models::open_checkpoint(path, ar);
  const models::CheckpointInfo info = models::read_checkpoint_info(ar, path);
  models::load_generator_weights(ar, "generator", m.g, path);
  if (m.ema) {
    if (!info.has_ema) throw Error("checkpoint '" + path.string() + "' has no EMA weights but the config enables EMA");
    models::load_generator_weights(ar, "generator_ema", m.ema, path);
  }
  torch::serialize::InputArchive o;
  if (!ar.try_read("optimizer", o)) throw Error("checkpoint '" + path.string() + "' has no optimizer state; cannot resume exactly");
  m.opt->load(o);
  m.objective->load(ar, path);
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

}  // namespace srlab::train

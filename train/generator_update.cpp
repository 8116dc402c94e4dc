#include "train/generator_update.h"

#include <cmath>

#include "train/ema.h"

namespace srlab::train {

namespace {

// Forward + loss of one micro-batch under autocast.
losses::WeightedLoss::Result micro_loss(GeneratorUpdate& u, const torch::Tensor& lr_in, const torch::Tensor& hr,
                                        int64_t it, torch::Tensor& sr) {
  AutocastScope autocast(u.amp, u.device);
  sr = u.g->forward(lr_in);
  losses::LossInputs in;
  in.sr = sr;
  in.hr = hr;
  in.lr = lr_in;
  return u.objective->generator_loss(in, it);
}

// Forward/backward of every micro-batch; returns [stop, non-finite, loss sum, term sums...] / accum.
std::vector<double> accumulate(GeneratorUpdate& u, const data::Batch& batch, int64_t it, bool stop_requested,
                               GeneratorUpdateResult& r) {
  const size_t n_terms = u.loss_fn->term_names().size();
  std::vector<double> v(3 + n_terms, 0.0);
  if (stop_requested) {
    v[0] = 1.0;
    return v;
  }
  const auto lr_parts = batch.lr.chunk(u.accum_steps, 0), hr_parts = batch.hr.chunk(u.accum_steps, 0);
  for (int a = 0; a < u.accum_steps; ++a) {
    torch::Tensor lr_in = lr_parts[a].to(u.device);
    const torch::Tensor hr = hr_parts[a].to(u.device);
    if (u.channels_last) lr_in = lr_in.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor sr;
    losses::WeightedLoss::Result res = micro_loss(u, lr_in, hr, it, sr);
    const double value = res.total.item<double>();
    if (!std::isfinite(value)) {
      v[1] = 1.0;
      for (const auto& [name, t] : res.terms)
        if (!std::isfinite(t)) r.bad_terms += (r.bad_terms.empty() ? "" : ", ") + name;
      return v;
    }
    v[2] += value / u.accum_steps;
    for (size_t i = 0; i < n_terms && i < res.terms.size(); ++i) v[3 + i] += res.terms[i].second / u.accum_steps;
    torch::Tensor objective = res.total.to(torch::kFloat32);
    if (u.accum_steps > 1) objective = objective / static_cast<double>(u.accum_steps);
    if (u.scaler) objective = u.scaler->scale_loss(objective);
    objective.backward();
    r.sr = sr;
    r.hr = hr;
  }
  return v;
}

}  // namespace

GeneratorUpdateResult generator_update(GeneratorUpdate& u, const data::Batch& batch, int64_t it, bool stop_requested) {
  GeneratorUpdateResult r;
  u.opt->zero_grad();
  std::vector<double> v = accumulate(u, batch, it, stop_requested, r);
  const double world = u.dp ? u.dp->world_size() : 1.0;
  if (u.dp) v = u.dp->sum_scalars(v);
  r.stop = v[0] > 0;
  r.finite = v[1] == 0 && std::isfinite(v[2]);
  r.loss = r.finite ? v[2] / world : NAN;
  const auto names = u.loss_fn->term_names();
  for (size_t i = 0; i < names.size(); ++i) r.terms.emplace_back(names[i], v[3 + i] / world);
  if (r.stop || !r.finite) {
    u.opt->zero_grad();
    return r;
  }
  const std::vector<torch::Tensor> params = u.g->parameters();
  if (u.dp) u.dp->average_gradients(params);
  if (u.scaler) {
    r.overflow = u.scaler->unscale_and_check(params);  // identical on every rank: the grads are
    u.scaler->update(r.overflow);                      // already averaged
    if (r.overflow) {
      u.opt->zero_grad();
      return r;
    }
  }
  if (u.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, u.grad_clip);
  u.opt->step();
  if (u.ema) ema_update(*u.ema, *u.g, u.ema_decay);
  return r;
}

}  // namespace srlab::train

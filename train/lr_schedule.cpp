#include "train/lr_schedule.h"

#include <cmath>

namespace srlab::train {

double LrSchedule::at(int64_t it) const {
  if (warmup_iters > 0 && it < warmup_iters) return base_lr * static_cast<double>(it + 1) / static_cast<double>(warmup_iters);
  if (type == "constant") return base_lr;
  if (type == "multistep") {
    int n = 0;
    for (int m : milestones) n += (it >= m) ? 1 : 0;
    return base_lr * std::pow(gamma, n);
  }
  // cosine
  const double span = static_cast<double>(std::max<int64_t>(1, total_iters - warmup_iters));
  const double t = std::min(1.0, std::max(0.0, static_cast<double>(it - warmup_iters) / span));
  return eta_min + (base_lr - eta_min) * 0.5 * (1.0 + std::cos(M_PI * t));
}

LrSchedule LrSchedule::from_config(const core::Config& cfg, double base_lr, int64_t total_iters) {
  LrSchedule s;
  s.base_lr = base_lr;
  s.total_iters = total_iters;
  s.type = cfg.get<std::string>("type", "cosine");
  if (s.type != "constant" && s.type != "multistep" && s.type != "cosine")
    cfg.fail("type", "unknown scheduler '" + s.type + "'; use constant, multistep or cosine");
  s.warmup_iters = cfg.get<int>("warmup_iters", 0);
  if (s.warmup_iters < 0) cfg.fail("warmup_iters", "must be >= 0");
  if (s.type == "multistep") {
    s.milestones = cfg.get<std::vector<int>>("milestones", {});
    s.gamma = cfg.get<double>("gamma", 0.5);
    if (s.gamma <= 0) cfg.fail("gamma", "must be > 0");
  }
  if (s.type == "cosine") {
    s.eta_min = cfg.get<double>("eta_min", 1e-7);
    if (s.eta_min < 0 || s.eta_min > base_lr) cfg.fail("eta_min", "must be in [0, optimizer.lr]");
  }
  return s;
}

}  // namespace srlab::train

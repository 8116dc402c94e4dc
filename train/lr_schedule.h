#pragma once
// Learning-rate schedules with linear warm-up, as functions of the iteration (stateless, so resuming
// from a checkpoint only needs the iteration number).
//   constant:  lr
//   multistep: lr * gamma^(number of milestones <= it)            (BasicSR MultiStepLR)
//   cosine:    eta_min + (lr - eta_min) * (1 + cos(pi * t)) / 2,   t = (it - warmup) / (total - warmup)
//              (Loshchilov & Hutter, "SGDR", ICLR 2017, Eq. 5, single cycle without restarts)
// Warm-up (Goyal et al. 2017): lr * (it + 1) / warmup_iters for it < warmup_iters.
#include <string>
#include <vector>

#include "core/config.h"

namespace srlab::train {

struct LrSchedule {
  std::string type = "cosine";  ///< constant | multistep | cosine
  double base_lr = 1e-3;
  int64_t total_iters = 1;
  int64_t warmup_iters = 0;
  std::vector<int> milestones;  ///< multistep
  double gamma = 0.5;           ///< multistep
  double eta_min = 1e-6;        ///< cosine floor

  /// Learning rate for 0-based iteration `it`.
  double at(int64_t it) const;

  /// Reads `scheduler:` (type, warmup_iters, milestones, gamma, eta_min); base_lr and total_iters are
  /// given by the caller. Throws srlab::Error naming the key on bad values.
  static LrSchedule from_config(const core::Config& cfg, double base_lr, int64_t total_iters);
};

}  // namespace srlab::train

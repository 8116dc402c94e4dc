#pragma once
// Registry from YAML `type:` names to loss-term factories (same pattern as models/arch/registry.h).
//
// Adding a loss = one file (the Loss subclass + a `register_<name>()` function calling register_loss)
// plus one line in builtin_losses.cpp. Registration is explicit so static linking drops nothing.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "losses/loss.h"

namespace srlab::losses {

/// Builds a loss term from its config mapping (one list item minus `type`/`weight`/`name`, which the
/// caller reads). Factories read every parameter through `params` (so unknown keys are detected) and
/// throw srlab::Error via params.fail for invalid values.
using LossFactory = std::function<LossPtr(const core::Config& params)>;

void register_loss(const std::string& type, LossFactory factory, const std::string& summary);

/// Builds the loss term described by `cfg` (a mapping with `type:`). Does not call check_known (the
/// caller may read more keys from the same mapping, e.g. `weight`). Throws srlab::Error naming the key
/// for an unknown type (listing the known ones) or bad parameters.
LossPtr make_loss(const core::Config& cfg);

/// Registered loss types with a one-line summary each, sorted by name.
std::vector<std::pair<std::string, std::string>> loss_types();

}  // namespace srlab::losses

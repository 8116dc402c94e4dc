#pragma once
// Registry from YAML `type:` names to discriminator factories (same pattern as models/arch/registry.h).
//
// Adding a discriminator = one file (the module + a `register_<name>()` function that calls
// register_discriminator) plus one line in builtin_discriminators.cpp. The built-ins are registered on
// first use of the registry (core::Registry), not by static initialisers.
//
// Built-in types:
//   vgg128   ESRGAN's VGG-style discriminator (models/disc/vgg_discriminator.h); params num_in_ch, num_feat, input_size
//   unet_sn  Real-ESRGAN's U-Net discriminator with spectral norm (models/disc/unet_discriminator.h); params
//            num_in_ch, num_feat, skip_connection
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "models/disc/discriminator.h"

namespace srlab::models {

/// Builds a discriminator from its config section (`type` already read). Factories read every
/// parameter through `params` (so unknown keys are detected) and throw srlab::Error (via params.fail,
/// naming the key) for invalid values.
using DiscriminatorFactory = std::function<Discriminator(const core::Config& params)>;

/// Registers (or replaces) `type`; `summary` is the one-line description listed by discriminator_types().
void register_discriminator(const std::string& type, DiscriminatorFactory factory, const std::string& summary);

/// Builds the discriminator described by `cfg` (a mapping with `type:` and parameters), in training
/// mode, on the CPU. Throws srlab::Error naming the config key for an unknown type (listing the known
/// ones), unknown parameter keys or bad values.
Discriminator make_discriminator(const core::Config& cfg);

/// Registered type names with a one-line summary each, sorted by name.
std::vector<std::pair<std::string, std::string>> discriminator_types();

}  // namespace srlab::models

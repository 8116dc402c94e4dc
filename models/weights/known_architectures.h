#pragma once
// State-dict signatures of architectures that SRLab recognises but does not implement (yet), so that a
// community weight file of one gets "architecture SPAN is not implemented in this SRLab" instead of an
// unknown-architecture error. One table entry per architecture (known_architectures.cpp); an entry is
// skipped as soon as a generator of its `types` is registered with a detector (that detector then
// decides), so implementing an architecture needs no change here, and its entry can be deleted.
// Also: discriminator weights (SRLab's discriminator registry, spectral-norm keys) given as a generator.
#include <optional>
#include <string>
#include <vector>

#include "models/arch/registry.h"

namespace srlab::models {

struct KnownArchitecture {
  std::vector<std::string> types;  ///< SRLab type names it would be registered under
  std::string name;                ///< the field's name, for messages
  std::string reference;           ///< reference code
  std::vector<std::string> keys;   ///< keys every state dict of it holds (BasicSR / reference names)
};

/// The table of recognised but unimplemented architectures.
const std::vector<KnownArchitecture>& known_unimplemented_architectures();

/// The entry whose keys `state_dict` all holds, skipping entries of registered detectors; nullopt if none.
std::optional<KnownArchitecture> match_unimplemented_architecture(const StateDict& state_dict);

/// A description ("the VGG-style discriminator (type vgg)", "a spectral-norm discriminator") when
/// `state_dict` looks like discriminator weights: its key names equal those of one of SRLab's registered
/// discriminators built with default parameters, or it holds spectral-norm keys (weight_orig, weight_u).
/// nullopt otherwise.
std::optional<std::string> match_discriminator(const StateDict& state_dict);

}  // namespace srlab::models

// The list of built-in discriminators: one registration line per discriminator file. Called once, on
// first use of the discriminator registry (models/disc/discriminator_registry.cpp).
#include "models/disc/unet_discriminator.h"
#include "models/disc/vgg_discriminator.h"

namespace srlab::models {

void register_builtin_discriminators() {
  register_vgg_discriminator();
  register_unet_discriminator();
}

}  // namespace srlab::models

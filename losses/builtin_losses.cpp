// The list of built-in loss terms: one registration line per loss file.
#include "losses/gan_loss.h"
#include "losses/perceptual_loss.h"
#include "losses/pixel_losses.h"
#include "losses/vgg_perceptual_loss.h"

namespace srlab::losses {

void register_builtin_losses() {
  register_pixel_losses();
  register_gan_loss();
  register_perceptual_loss();
  register_vgg_perceptual_loss();
}

}  // namespace srlab::losses

// The list of built-in loss terms: one registration line per loss file.
#include "losses/pixel_losses.h"

namespace srlab::losses {

void register_builtin_losses() {
  register_pixel_losses();
}

}  // namespace srlab::losses

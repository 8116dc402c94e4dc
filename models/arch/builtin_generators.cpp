// The list of built-in architectures: one registration line per architecture file.
#include "models/arch/drct.h"
#include "models/arch/edsr.h"
#include "models/arch/espcn.h"
#include "models/arch/hat.h"
#include "models/arch/plksr.h"
#include "models/arch/rrdbnet.h"
#include "models/arch/span.h"
#include "models/arch/srvgg.h"
#include "models/arch/swinir.h"

namespace srlab::models {

void register_builtin_generators() {
  register_espcn();
  register_edsr();
  register_rrdbnet();
  register_srvgg();
  register_span();
  register_plksr();
  register_swinir();
  register_hat();
  register_drct();
}

}  // namespace srlab::models

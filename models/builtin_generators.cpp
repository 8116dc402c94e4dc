// The list of built-in architectures: one registration line per architecture file.
#include "models/edsr.h"
#include "models/espcn.h"
#include "models/rrdbnet.h"
#include "models/srvgg.h"

namespace srlab::models {

void register_builtin_generators() {
  register_espcn();
  register_edsr();
  register_rrdbnet();
  register_srvgg();
}

}  // namespace srlab::models

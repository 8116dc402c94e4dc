// The list of built-in architectures: one registration line per architecture file.
#include "models/arch/atd.h"
#include "models/arch/dat.h"
#include "models/arch/drct.h"
#include "models/arch/edsr.h"
#include "models/arch/espcn.h"
#include "models/arch/hat.h"
#include "models/arch/mosr.h"
#include "models/arch/omnisr.h"
#include "models/arch/plksr.h"
#include "models/arch/rcan.h"
#include "models/arch/realcugan.h"
#include "models/arch/rgt.h"
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
  register_mosr();
  register_omnisr();
  register_rcan();
  register_realcugan();
  register_dat();
  register_atd();
  register_rgt();
  register_hat();
  register_drct();
}

}  // namespace srlab::models

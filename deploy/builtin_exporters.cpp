// The built-in ONNX exporters: one registration function per architecture, each defined next to its
// exporter (deploy/onnx_<arch>.cpp), called once on the registry's first use (deploy/onnx_export.cpp).
namespace srlab::models {

void register_espcn_onnx();    // deploy/onnx_espcn.cpp
void register_edsr_onnx();     // deploy/onnx_edsr.cpp
void register_rrdbnet_onnx();  // deploy/onnx_rrdbnet.cpp
void register_srvgg_onnx();    // deploy/onnx_srvgg.cpp
void register_span_onnx();     // deploy/onnx_span.cpp
void register_plksr_onnx();    // deploy/onnx_plksr.cpp
void register_swinir_onnx();   // deploy/onnx_swinir.cpp
void register_mosr_onnx();     // deploy/onnx_mosr.cpp
void register_rcan_onnx();     // deploy/onnx_rcan.cpp
void register_realcugan_onnx();  // deploy/onnx_realcugan.cpp
void register_omnisr_onnx();   // deploy/onnx_omnisr.cpp
void register_dat_onnx();      // deploy/onnx_dat.cpp
void register_rgt_onnx();      // deploy/onnx_rgt.cpp
void register_atd_onnx();      // deploy/onnx_atd.cpp
void register_hat_onnx();      // deploy/onnx_hat.cpp
void register_drct_onnx();     // deploy/onnx_drct.cpp

void register_builtin_onnx_exporters() {
  register_espcn_onnx();
  register_edsr_onnx();
  register_rrdbnet_onnx();
  register_srvgg_onnx();
  register_span_onnx();
  register_plksr_onnx();
  register_swinir_onnx();
  register_mosr_onnx();
  register_rcan_onnx();
  register_realcugan_onnx();
  register_omnisr_onnx();
  register_dat_onnx();
  register_rgt_onnx();
  register_atd_onnx();
  register_hat_onnx();
  register_drct_onnx();
}

}  // namespace srlab::models

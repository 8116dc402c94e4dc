// The runtime of `.onnx` files (deploy/onnx_ort.h): ONNX Runtime in-process where the build links
// libonnxruntime-dev (Debian 13), else OpenCV DNN for upscaling and Node.js for verification (Debian 12).
// Whichever this build has, `srlab upscale MODEL.onnx` (eval::load_onnx_model + upscale_image, tiled) must
// give the checkpoint's output within 1/255, and `srlab --version`'s line names the route.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_method.h"
#include "deploy/onnx_ort.h"
#include "deploy/upscale.h"
#include "models/arch/registry.h"
#include "tests/deploy/onnx_runtime/ort_check.h"
#include "tests/test_util.h"

namespace test_ort_in_process {

namespace sm = srlab::models;
namespace fs = std::filesystem;
using namespace srlab::testing::ort;

TEST(OnnxRuntimeInProcess, OnnxFileUpscalesLikeTheCheckpointWithinOneLevel) {
  // RRDBNet (nearest-upsampling convs, DepthToSpace-free) and SRVGG (PReLU + pixel shuffle), both of
  // which OpenCV DNN also runs, so the test holds on either route; the real Set5 LR image, tiled.
  const std::string runtime = sm::onnxruntime_in_process() ? "ONNX Runtime" : "OpenCV DNN";
  for (const auto& [yaml, scale] : std::vector<std::pair<std::string, int>>{
           {"{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}", 4}, {"{type: srvgg_compact, num_feat: 8, num_conv: 2}", 2}}) {
    torch::manual_seed(5);
    const sm::Generator g = build({yaml, scale, false});
    const fs::path file = fs::temp_directory_path() / ("srlab_in_process_" + std::to_string(::getpid()) + ".onnx");
    std::ofstream(file, std::ios::binary) << sm::export_onnx(g, {});
    const srlab::eval::UpscaleModel onnx = srlab::eval::load_onnx_model(file);
    fs::remove(file);
    EXPECT_EQ(onnx.scale, scale);
    EXPECT_NE(onnx.runtime.find(runtime), std::string::npos) << onnx.runtime;
    srlab::data::Image img;
    img.pixels = set5_lr().squeeze(0);
    srlab::eval::UpscaleOptions o;
    o.tiles = {48, 8};
    const torch::Tensor a = srlab::eval::upscale_image(img, srlab::eval::libtorch_model(g, torch::kCPU), o).pixels;
    const torch::Tensor b = srlab::eval::upscale_image(img, onnx, o).pixels;
    ASSERT_EQ(a.sizes(), b.sizes());
    const double diff = (a - b).abs().max().item<double>();
    std::cout << "[" << runtime << "] " << yaml << " x" << scale << " Set5 img_001 tiled: max abs diff " << diff << "\n";
    EXPECT_LE(diff, 1.0 / 255) << yaml;
  }
}

TEST(OnnxRuntimeInProcess, VersionLineNamesTheRoute) {
  const std::string d = sm::onnxruntime_description();
  if (sm::onnxruntime_in_process()) {
    EXPECT_NE(d.find("in-process"), std::string::npos) << d;
    // A model ONNX Runtime rejects is an error naming the source, not a crash.
    const std::string e = srlab::testing::error_of([] { sm::OrtInProcessModel("not a model", "junk.onnx"); });
    EXPECT_NE(e.find("junk.onnx"), std::string::npos) << e;
  } else {
    EXPECT_NE(d.find("OpenCV DNN"), std::string::npos) << d;
    const std::string e = srlab::testing::error_of([] { sm::OrtInProcessModel("", "m.onnx"); });
    EXPECT_NE(e.find("libonnxruntime-dev"), std::string::npos) << e;
  }
}

}  // namespace test_ort_in_process

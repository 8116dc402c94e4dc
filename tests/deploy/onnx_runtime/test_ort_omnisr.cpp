// OmniSR ONNX export (deploy/onnx_omnisr.cpp) checked in ONNX Runtime against LibTorch: fp32 <= 1e-4, fp16
// <= 1e-2 on 1x3x17x23 (zero padding to the window size, then the crop) and 2x3x32x32, for small configs
// covering the options: window sizes 8 (17x23 padded to 24x24) and 4 / 5 (grid groups of other strides),
// pe on / off (relative position bias), bias on / off, scales 1, 2, 3, 4, 8, several OSA blocks and OSAGs, the
// Set5 LR image (x4); and a static export.
#include <gtest/gtest.h>

#include "tests/deploy/onnx_runtime/ort_check.h"

using namespace srlab::testing::ort;

namespace test_ort_omnisr {

TEST(OnnxRuntime, OmnisrDynamicSizesMatchLibTorch) {
  check_architectures({{"{type: omnisr, num_feat: 8, window_size: 8}", 4, true},
                       {"{type: omnisr, num_feat: 4, window_size: 8, pe: false}", 8, false},
                       {"{type: omnisr, num_feat: 8, window_size: 4, block_num: 2, pe: false}", 2, false},
                       {"{type: omnisr, num_feat: 12, window_size: 5, res_num: 2, bias: false}", 3, false},
                       {"{type: omnisr, num_feat: 8, window_size: 4}", 1, false}},
                      "omnisr");
}

TEST(OnnxRuntime, OmnisrStaticExportMatchesLibTorch) {
  check_static_export("{type: omnisr, num_feat: 8, window_size: 4}", 2, 13, 18, "omnisr");
}

}  // namespace test_ort_omnisr

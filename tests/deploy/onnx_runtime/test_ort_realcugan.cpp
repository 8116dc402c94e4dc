// Real-CUGAN ONNX Runtime parity (deploy/onnx_realcugan.cpp): UpCunet2x, 3x (pro), 4x (pro: the nearest
// upscale of the mapped input), 2x_fast, on inputs smaller than the reflect margin (1x3x17x23: the padding reflects again) and on
// 2x3x32x32, plus a static-size export.
#include <gtest/gtest.h>

#include "tests/deploy/onnx_runtime/ort_check.h"

namespace test_ort_realcugan {

using namespace srlab::testing::ort;

TEST(OnnxRuntime, RealCuganMatchesLibTorch) {
  check_architectures({{"{type: realcugan}", 2, false},
                       {"{type: realcugan, pro: true}", 3, false},
                       {"{type: realcugan, pro: true}", 4, false},
                       {"{type: realcugan, fast: true}", 2, false}},
                      "realcugan");
}

TEST(OnnxRuntime, RealCuganStaticExportMatchesLibTorch) {
  check_static_export("{type: realcugan, pro: true}", 2, 9, 14, "realcugan");
}

}  // namespace test_ort_realcugan

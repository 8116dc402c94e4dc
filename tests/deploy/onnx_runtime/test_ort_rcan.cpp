// RCAN ONNX Runtime parity (deploy/onnx_rcan.cpp): mean shifts with rgb_range 255 and without, the
// pixel-unshuffle stem at x1 and x2 (runtime reflect padding of odd sizes + crop), x3 / x4 / x8 tails, the
// non-ReLU activations, and a static-size export.
#include <gtest/gtest.h>

#include "tests/deploy/onnx_runtime/ort_check.h"

namespace test_ort_rcan {

using namespace srlab::testing::ort;

TEST(OnnxRuntime, RcanMatchesLibTorch) {
  check_architectures({{"{type: rcan, n_resgroups: 2, n_resblocks: 2, n_feats: 8, reduction: 4}", 4, true},
                       {"{type: rcan, n_resgroups: 1, n_resblocks: 2, n_feats: 8, reduction: 2, norm: false, act_mode: gelu}", 3, false},
                       {"{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 8, reduction: 4, unshuffle_mod: true}", 2, false},
                       {"{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 4, reduction: 2, norm: false, unshuffle_mod: true, "
                        "act_mode: silu}", 1, false},
                       {"{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 4, reduction: 1, norm: false, act_mode: elu, "
                        "kernel_size: 5}", 8, false},
                       {"{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 4, reduction: 1, norm: false, act_mode: leaky_relu}", 1,
                        false}},
                      "rcan");
}

TEST(OnnxRuntime, RcanStaticExportMatchesLibTorch) {
  check_static_export("{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 8, reduction: 2, unshuffle_mod: true}", 1, 7, 10,
                      "rcan");
  // 1x2: the stem pads a single row (repeated) and two columns (period 2) to 4x4.
  check_static_export("{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 4, reduction: 2, norm: false, unshuffle_mod: true}", 1,
                      1, 2, "rcan_tiny");
}

}  // namespace test_ort_rcan

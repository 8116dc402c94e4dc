// NIQE (eval/niqe.h): the MATLAB R2021a reference value on baboon.png, the model file checks, the
// NaN/too-small cases, and NIQE's response to blur on a real image.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <cmath>

#include "tests/test_util.h"

#include "core/fs.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "eval/niqe.h"

namespace test_niqe {
namespace fs = std::filesystem;
using namespace srlab;
using srlab::testing::error_of;

const eval::NiqeModel& model() {
  static const eval::NiqeModel m = eval::load_niqe_model(eval::resolve_niqe_model(""));
  return m;
}

torch::Tensor baboon() {
  return data::read_image(core::shared_data_dir() / "weights" / "niqe" / "baboon.png").pixels;
}

TEST(Niqe, BaboonMatchesMatlabReference) {
  // ../shared/data/README.md: MATLAB R2021a niqe on the rgb2ycbcr Y channel, crop 0 -> 5.72957338.
  const double q = eval::niqe(baboon(), model(), 0);
  EXPECT_NEAR(q, 5.72957338, 1e-3);
}

TEST(Niqe, ModelFileShapes) {
  EXPECT_EQ(model().mu.sizes(), (std::vector<int64_t>{36}));
  EXPECT_EQ(model().cov.sizes(), (std::vector<int64_t>{36, 36}));
  EXPECT_NEAR(model().window.sum().item<double>(), 1.0, 1e-9);
  // The window is fspecial('gaussian', 7, 7/6): the centre over the corner is exp(18 / (2 (7/6)^2)).
  const double ratio = model().window[3][3].item<double>() / model().window[0][0].item<double>();
  EXPECT_NEAR(ratio, std::exp(18.0 / (2.0 * (7.0 / 6.0) * (7.0 / 6.0))), 1e-6 * ratio);
}

TEST(Niqe, FeaturesPerBlockAndScale) {
  // 480x492 -> 5 x 5 blocks of 96 px (the last 12 columns dropped), 36 features each.
  torch::Tensor y = eval::niqe_features(baboon()[1] * 255.0, model());
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{25, 36}));
  // GGD shape of natural MSCN coefficients lies in the grid (0.2, 10) and the scale is positive.
  EXPECT_GT(y.select(1, 0).min().item<double>(), 0.2);
  EXPECT_LT(y.select(1, 0).max().item<double>(), 10.0);
  EXPECT_GT(y.select(1, 1).min().item<double>(), 0.0);
}

TEST(Niqe, BlurIsLessNatural) {
  const torch::Tensor img = baboon();
  namespace F = torch::nn::functional;
  const torch::Tensor k = torch::ones({3, 1, 5, 5}) / 25.0;
  const torch::Tensor blurred =
      F::conv2d(F::pad(img.unsqueeze(0), F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate)), k,
                F::Conv2dFuncOptions().groups(3)).squeeze(0);
  EXPECT_GT(eval::niqe(blurred, model()), eval::niqe(img, model()) + 0.1);  // measured 5.881 vs 5.730
}

TEST(Niqe, GrayImageIsItsIntensity) {
  const torch::Tensor g = baboon()[1].unsqueeze(0);
  EXPECT_NEAR(eval::niqe(g, model()), eval::niqe_luma((g * 255.0).round(), model()), 1e-9);
}

TEST(Niqe, ErrorsNameTheProblem) {
  EXPECT_NE(error_of([] { eval::niqe(torch::rand({3, 90, 200}), model()); }).find("at least one 96x96 block"),
            std::string::npos);
  // A flat image has no negative MSCN values: every block's fit is undefined.
  EXPECT_NE(error_of([] { eval::niqe(torch::full({1, 192, 192}, 0.5), model()); }).find("at least 2 are needed"),
            std::string::npos);
  const fs::path bad = fs::temp_directory_path() / ("srlab_niqe_bad_" + std::to_string(::getpid()) + ".json");
  core::write_file_atomic(bad, R"({"mu_pris_param": [1, 2], "cov_pris_param": [], "gaussian_window": []})");
  const std::string msg = error_of([&] { eval::load_niqe_model(bad); });
  EXPECT_NE(msg.find("mu_pris_param"), std::string::npos) << msg;
  EXPECT_NE(msg.find(bad.string()), std::string::npos) << msg;
  core::write_file_atomic(bad, "{not json");
  EXPECT_NE(error_of([&] { eval::load_niqe_model(bad); }).find("not valid JSON"), std::string::npos);
  fs::remove(bad);
}

}  // namespace test_niqe

// LPIPS v0.1 / SqueezeNet (models/features/lpips.h, models/features/squeezenet.h): the torchmetrics reference values quoted in
// ../shared/data/README.md (independent numbers), metric properties, weight-file validation, errors.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "tests/test_util.h"

#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"
#include "models/features/lpips.h"
#include "models/features/squeezenet.h"

namespace test_lpips {
namespace fs = std::filesystem;
namespace sm = srlab::models;
using srlab::testing::error_of;

fs::path weights_path() { return srlab::core::shared_data_dir() / "weights" / "lpips" / "lpips_squeeze_v0.1.pt"; }

// Loaded once for the whole binary (loading takes a few ms, but keep tests independent of each other's order).
sm::Lpips& model() {
  static sm::Lpips m = sm::load_lpips(weights_path());
  return m;
}

// The weight file's tensors, for writing corrupted copies.
c10::Dict<c10::IValue, c10::IValue> file_dict() {
  const std::string bytes = srlab::core::read_file(weights_path());
  return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
}

fs::path write_dict(const c10::Dict<c10::IValue, c10::IValue>& d, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("srlab_lpips_test_" + std::to_string(::getpid()) + "_" + name);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  srlab::core::write_file_atomic(p, std::string_view(bytes.data(), bytes.size()));
  return p;
}

// ---- reference values (README "weights/lpips/": torchmetrics docs, squeeze, v0.1, inputs in [-1,1]) ----
TEST(LpipsReference, MeanOverTenRandomPairs) {
  torch::manual_seed(42);
  const torch::Tensor a = torch::rand({10, 3, 100, 100}) * 2 - 1;
  const torch::Tensor b = torch::rand({10, 3, 100, 100}) * 2 - 1;
  torch::NoGradGuard ng;
  const torch::Tensor d = model()->forward_raw(a, b);
  ASSERT_EQ(d.sizes(), torch::IntArrayRef({10}));
  EXPECT_NEAR(d.mean().item<double>(), 0.1005, 5e-4);
}

TEST(LpipsReference, PerPairWithSeededGenerator) {
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const torch::Tensor a = torch::rand({2, 3, 100, 100}, gen) * 2 - 1;
  const torch::Tensor b = torch::rand({2, 3, 100, 100}, gen) * 2 - 1;
  torch::NoGradGuard ng;
  const torch::Tensor d = model()->forward_raw(a, b);
  ASSERT_EQ(d.numel(), 2);
  EXPECT_NEAR(d[0].item<double>(), 0.1024, 5e-4);
  EXPECT_NEAR(d[1].item<double>(), 0.0938, 5e-4);
  // forward() on [0,1] inputs is forward_raw() on 2x-1.
  EXPECT_TRUE(torch::allclose(model()->forward((a + 1) / 2, (b + 1) / 2), d, 1e-5, 1e-6));
}

// ---- properties -------------------------------------------------------------------------------------
TEST(Lpips, IdenticalImagesGiveZeroAndDistanceIsSymmetric) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::rand({3, 3, 40, 56});
  const torch::Tensor y = (x + 0.1 * torch::randn_like(x)).clamp(0, 1);
  torch::NoGradGuard ng;
  const torch::Tensor same = model()->forward(x, x);
  EXPECT_EQ(same.abs().max().item<float>(), 0.0f);
  const torch::Tensor dxy = model()->forward(x, y), dyx = model()->forward(y, x);
  EXPECT_GT(dxy.min().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(dxy, dyx, 1e-6, 1e-7)) << dxy << dyx;
  // Each pair is scored independently of the rest of the batch.
  EXPECT_NEAR(model()->forward(x.narrow(0, 1, 1), y.narrow(0, 1, 1)).item<float>(), dxy[1].item<float>(), 1e-6);
}

TEST(Lpips, FrozenButDifferentiableWithRespectToInputs) {
  for (const auto& p : model()->parameters()) EXPECT_FALSE(p.requires_grad());
  torch::manual_seed(2);
  const torch::Tensor x = torch::rand({1, 3, 32, 32}).requires_grad_(true);
  const torch::Tensor y = torch::rand({1, 3, 32, 32});
  const torch::Tensor d = model()->forward(x, y).sum();
  d.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<float>(), 0.0f);
  // A small step against the gradient lowers the distance.
  torch::NoGradGuard ng;
  const torch::Tensor x2 = x - 1e-2 * x.grad() / x.grad().norm();
  EXPECT_LT(model()->forward(x2, y).item<float>(), d.item<float>());
}

TEST(Lpips, ParameterNamesMatchTorchvisionAndTheWeightFile) {
  sm::SqueezeNetFeatures net;
  std::set<std::string> names;
  for (const auto& p : net->named_parameters()) names.insert(p.key());
  EXPECT_EQ(names.size(), 2u + 8u * 6u);
  for (const char* n : {"features.0.weight", "features.0.bias", "features.3.squeeze.weight",
                        "features.12.expand3x3.bias", "features.9.expand1x1.weight"})
    EXPECT_TRUE(names.count(n)) << n;
  // Tap shapes for a 100x100 input: 49, then ceil-mode pools 24, 12, 6.
  torch::NoGradGuard ng;
  const auto taps = net->forward(torch::zeros({1, 3, 100, 100}));
  ASSERT_EQ(taps.size(), 7u);
  const int64_t sizes[7] = {49, 24, 12, 6, 6, 6, 6};
  for (size_t k = 0; k < 7; ++k) {
    EXPECT_EQ(taps[k].size(1), sm::SqueezeNetFeaturesImpl::kTapChannels[k]) << k;
    EXPECT_EQ(taps[k].size(2), sizes[k]) << k;
  }
  // Every tensor of the file is used and every parameter is in the file (load_lpips checks both).
  const auto d = file_dict();
  EXPECT_EQ(d.size(), names.size() + 7u);
  EXPECT_TRUE(d.contains(std::string("lin6.model.1.weight")));
}

// ---- errors -----------------------------------------------------------------------------------------
TEST(LpipsErrors, SmallOrMismatchedInputs) {
  // 16 px leave a single pixel before the third max-pool, which LibTorch rejects: 17 px is the minimum.
  for (const auto& x : {torch::rand({1, 3, 16, 64}), torch::rand({1, 3, 64, 16}), torch::rand({1, 3, 8, 8})}) {
    const std::string msg = error_of([&] { model()->forward(x, x); });
    EXPECT_NE(msg.find(">= 17"), std::string::npos) << msg;
  }
  EXPECT_FALSE(error_of([&] { model()->forward(torch::rand({1, 3, 32, 32}), torch::rand({1, 3, 32, 33})); }).empty());
  EXPECT_FALSE(error_of([&] { model()->forward(torch::rand({3, 32, 32}), torch::rand({3, 32, 32})); }).empty());
  EXPECT_FALSE(error_of([&] { model()->forward(torch::rand({1, 1, 32, 32}), torch::rand({1, 1, 32, 32})); }).empty());
  torch::Tensor nan = torch::rand({1, 3, 32, 32});
  nan[0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(error_of([&] { model()->forward(nan, nan); }).empty());
  // 17 px is accepted.
  EXPECT_NO_THROW(model()->forward(torch::rand({1, 3, 17, 17}), torch::rand({1, 3, 17, 17})));
}

TEST(LpipsErrors, SqueezeWeightsAreRejectedForAlexNet) {
  const std::string msg = error_of([] { sm::load_lpips(weights_path(), "alex"); });
  EXPECT_NE(msg.find("alex"), std::string::npos) << msg;
  EXPECT_NE(msg.find("squeeze"), std::string::npos) << msg;
}

TEST(LpipsErrors, MissingFileNamesItAndTheConverter) {
  const std::string msg = error_of([] { sm::load_lpips("/nonexistent/lpips.pt"); });
  EXPECT_NE(msg.find("/nonexistent/lpips.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("convert_lpips_weights.py"), std::string::npos) << msg;
}

TEST(LpipsErrors, MissingWrongShapeAndUnexpectedTensorsAreNamed) {
  {
    auto d = file_dict().copy();
    ASSERT_EQ(d.erase(std::string("features.7.expand3x3.weight")), 1u);  // the key exists
    const fs::path p = write_dict(d, "missing.pt");
    const std::string msg = error_of([&] { sm::load_lpips(p); });
    fs::remove(p);
    EXPECT_NE(msg.find("features.7.expand3x3.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  }
  {
    auto d = file_dict().copy();
    d.insert_or_assign(std::string("lin3.model.1.weight"), torch::zeros({1, 256, 1, 1}));
    const fs::path p = write_dict(d, "shape.pt");
    const std::string msg = error_of([&] { sm::load_lpips(p); });
    fs::remove(p);
    EXPECT_NE(msg.find("lin3.model.1.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[1, 384, 1, 1]"), std::string::npos) << msg;
  }
  {
    auto d = file_dict().copy();
    d.insert(std::string("lin7.model.1.weight"), torch::zeros({1, 8, 1, 1}));
    const fs::path p = write_dict(d, "extra.pt");
    const std::string msg = error_of([&] { sm::load_lpips(p); });
    fs::remove(p);
    EXPECT_NE(msg.find("lin7.model.1.weight"), std::string::npos) << msg;
  }
  {
    const fs::path p = fs::temp_directory_path() / ("srlab_lpips_test_" + std::to_string(::getpid()) + "_junk.pt");
    srlab::core::write_file_atomic(p, "not a torch file");
    const std::string msg = error_of([&] { sm::load_lpips(p); });
    fs::remove(p);
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  }
}

TEST(LpipsWeights, ResolutionOrder) {
  ::unsetenv("SRLAB_LPIPS_WEIGHTS");
  EXPECT_EQ(sm::resolve_lpips_weights(""), weights_path());
  EXPECT_EQ(sm::resolve_lpips_weights(weights_path().string()), weights_path());
  std::string msg = error_of([] { sm::resolve_lpips_weights("/nonexistent/x.pt"); });
  EXPECT_NE(msg.find("/nonexistent/x.pt"), std::string::npos) << msg;
  ::setenv("SRLAB_LPIPS_WEIGHTS", "/nonexistent/env.pt", 1);
  msg = error_of([] { sm::resolve_lpips_weights(""); });
  EXPECT_NE(msg.find("/nonexistent/env.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SRLAB_LPIPS_WEIGHTS"), std::string::npos) << msg;
  // The explicit path wins over the environment.
  EXPECT_EQ(sm::resolve_lpips_weights(weights_path().string()), weights_path());
  ::unsetenv("SRLAB_LPIPS_WEIGHTS");
}

}  // namespace test_lpips

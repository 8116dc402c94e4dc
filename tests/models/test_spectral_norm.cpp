// Spectral normalisation (models/disc/spectral_norm.h): power-iteration convergence against an SVD, unit
// spectral norm of the normalised weight, train/eval buffer semantics, gradients, PyTorch key names.
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include "core/error.h"
#include "models/disc/spectral_norm.h"

namespace sm = srlab::models;
namespace F = torch::nn::functional;

using srlab::testing::error_of;

namespace test_spectral_norm {

std::vector<std::string> keys(const torch::OrderedDict<std::string, torch::Tensor>& d) {
  std::vector<std::string> out;
  for (const auto& kv : d) out.push_back(kv.key());
  return out;
}

double largest_singular_value(const torch::Tensor& w) {
  return torch::linalg_svdvals(w.detach().reshape({w.size(0), -1}).to(torch::kDouble))[0].item<double>();
}

TEST(SpectralNorm, SigmaConvergesToLargestSingularValueConv) {
  torch::manual_seed(1);
  sm::SpectralNormConv2d conv(torch::nn::Conv2dOptions(4, 8, 3).padding(1));
  conv->train();
  const auto x = torch::rand({1, 4, 6, 6});
  const double truth = largest_singular_value(conv->sn.weight_orig());
  torch::NoGradGuard ng;
  for (int i = 0; i < 50; ++i) conv->forward(x);
  const double sigma = conv->sn.sigma().item<double>();
  EXPECT_NEAR(sigma, truth, 1e-3 * truth);
  // The weight the layer uses has spectral norm 1 ...
  EXPECT_NEAR(largest_singular_value(conv->normalized_weight()), 1.0, 1e-3);
  // ... and forward is exactly the convolution with it.
  conv->eval();
  const auto expect = F::conv2d(x, conv->normalized_weight(), F::Conv2dFuncOptions().bias(conv->bias).padding(1));
  EXPECT_TRUE(torch::allclose(conv->forward(x), expect, 1e-5, 1e-6));
  // u and v stay unit vectors.
  EXPECT_NEAR(conv->sn.u().norm().item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(conv->sn.v().norm().item<double>(), 1.0, 1e-6);
}

TEST(SpectralNorm, LinearKnownSingularValues) {
  // W = diag(3, 2, 1) (singular values 3, 2, 1, computed by hand): after convergence sigma = 3 and
  // the layer computes y = x * diag(1, 2/3, 1/3) + b.
  torch::manual_seed(2);
  sm::SpectralNormLinear lin(torch::nn::LinearOptions(3, 3));
  {
    torch::NoGradGuard ng;
    lin->sn.weight_orig().copy_(torch::diag(torch::tensor({3.0f, 2.0f, 1.0f})));
    lin->bias.copy_(torch::tensor({0.5f, -1.0f, 2.0f}));
  }
  lin->train();
  const auto x = torch::tensor({{1.0f, 1.0f, 1.0f}, {3.0f, -6.0f, 9.0f}});
  torch::Tensor y;
  for (int i = 0; i < 50; ++i) y = lin->forward(x);
  EXPECT_NEAR(lin->sn.sigma().item<double>(), 3.0, 3e-4);
  const auto expect = torch::tensor({{1.0f + 0.5f, 2.0f / 3 - 1.0f, 1.0f / 3 + 2.0f}, {3.0f + 0.5f, -4.0f - 1.0f, 3.0f + 2.0f}});
  EXPECT_TRUE(torch::allclose(y.detach(), expect, 1e-4, 1e-4)) << y;
  // Top singular vectors of diag(3,2,1) are +-e1.
  EXPECT_NEAR(lin->sn.u()[0].abs().item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(lin->sn.v()[0].abs().item<double>(), 1.0, 1e-6);
}

TEST(SpectralNorm, LinearSigmaMatchesSvdRandomWeight) {
  torch::manual_seed(3);
  sm::SpectralNormLinear lin(torch::nn::LinearOptions(20, 12), sm::SpectralNormOptions{5, 1e-12});
  lin->train();
  const auto x = torch::rand({4, 20});
  for (int i = 0; i < 20; ++i) lin->forward(x);  // 100 power-iteration steps
  const double truth = largest_singular_value(lin->sn.weight_orig());
  EXPECT_NEAR(lin->sn.sigma().item<double>(), truth, 1e-3 * truth);
  EXPECT_NEAR(largest_singular_value(lin->normalized_weight()), 1.0, 1e-3);
}

TEST(SpectralNorm, EvalModeLeavesBuffersUnchangedTrainModeUpdates) {
  torch::manual_seed(4);
  sm::SpectralNormConv2d conv(torch::nn::Conv2dOptions(3, 5, 3));
  const auto x = torch::rand({2, 3, 8, 8});
  const auto u0 = conv->sn.u().clone(), v0 = conv->sn.v().clone();
  conv->eval();
  torch::Tensor y1, y2;
  {
    torch::NoGradGuard ng;
    y1 = conv->forward(x);
    y2 = conv->forward(x);
  }
  EXPECT_TRUE(torch::equal(conv->sn.u(), u0));
  EXPECT_TRUE(torch::equal(conv->sn.v(), v0));
  EXPECT_TRUE(torch::equal(y1, y2));
  // Eval uses sigma = u0^T W v0 with the stored vectors (computed here independently).
  const auto w = conv->sn.weight_orig().detach();
  const auto sigma0 = torch::dot(u0, torch::mv(w.reshape({5, -1}), v0));
  const auto expect = F::conv2d(x, w / sigma0, F::Conv2dFuncOptions().bias(conv->bias.detach()));
  EXPECT_TRUE(torch::allclose(y1, expect, 1e-5, 1e-6));
  // One training-mode forward performs one power-iteration step: v = W^T u0 / |.|, u = W v / |.|.
  conv->train();
  conv->forward(x);
  const auto v1 = torch::mv(w.reshape({5, -1}).t(), u0);
  const auto u1 = torch::mv(w.reshape({5, -1}), v1 / v1.norm());
  EXPECT_TRUE(torch::allclose(conv->sn.v(), v1 / v1.norm(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(conv->sn.u(), u1 / u1.norm(), 1e-5, 1e-6));
  EXPECT_FALSE(torch::equal(conv->sn.u(), u0));
}

TEST(SpectralNorm, GradientsFlowToWeightOrigAndMatchFiniteDifferences) {
  torch::manual_seed(5);
  sm::SpectralNormConv2d conv(torch::nn::Conv2dOptions(2, 3, 3).padding(1));
  conv->to(torch::kDouble);
  const auto x = torch::rand({1, 2, 5, 5}, torch::kDouble);
  // Training mode: two forwards (real and fake batch) before one backward must work even though the
  // second forward updates u, v in place.
  conv->train();
  auto loss = conv->forward(x).pow(2).sum() + conv->forward(x * 0.5).sum();
  loss.backward();
  const auto g = conv->sn.weight_orig().grad();
  ASSERT_TRUE(g.defined());
  EXPECT_GT(g.abs().sum().item<double>(), 0.0);
  ASSERT_TRUE(conv->bias.grad().defined());
  EXPECT_EQ(conv->sn.u().grad().defined(), false);  // buffers get no gradient

  // Eval mode (u, v fixed): autograd gradient vs central differences, including the 1/sigma(W) term.
  conv->eval();
  conv->zero_grad();
  auto f = [&] { return (conv->forward(x) * torch::linspace(-1, 1, 75, torch::kDouble).reshape({1, 3, 5, 5})).sum(); };
  f().backward();
  const auto grad = conv->sn.weight_orig().grad().clone();
  const double h = 1e-6;
  torch::NoGradGuard ng;
  for (int64_t idx : {0, 7, 20, 53}) {
    auto flat = conv->sn.weight_orig().view({-1});
    const double w0 = flat[idx].item<double>();
    flat[idx] = w0 + h;
    const double lp = f().item<double>();
    flat[idx] = w0 - h;
    const double lm = f().item<double>();
    flat[idx] = w0;
    EXPECT_NEAR(grad.view({-1})[idx].item<double>(), (lp - lm) / (2 * h), 1e-6) << "element " << idx;
  }
}

TEST(SpectralNorm, KeyNamesAndShapesMatchPyTorch) {
  sm::SpectralNormConv2d conv(torch::nn::Conv2dOptions(4, 6, {3, 2}));
  // PyTorch's spectral_norm(nn.Conv2d(4, 6, (3, 2))).state_dict(): bias, weight_orig, weight_u, weight_v.
  EXPECT_EQ(keys(conv->named_parameters()), (std::vector<std::string>{"bias", "weight_orig"}));
  EXPECT_EQ(keys(conv->named_buffers()), (std::vector<std::string>{"weight_u", "weight_v"}));
  EXPECT_EQ(conv->sn.weight_orig().sizes(), (std::vector<int64_t>{6, 4, 3, 2}));
  EXPECT_EQ(conv->sn.u().sizes(), (std::vector<int64_t>{6}));
  EXPECT_EQ(conv->sn.v().sizes(), (std::vector<int64_t>{24}));
  EXPECT_TRUE(conv->sn.weight_orig().requires_grad());
  EXPECT_FALSE(conv->sn.u().requires_grad());
  EXPECT_NEAR(conv->sn.u().norm().item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(conv->sn.v().norm().item<double>(), 1.0, 1e-6);

  sm::SpectralNormConv2d nobias(torch::nn::Conv2dOptions(4, 6, 3).bias(false));
  EXPECT_EQ(keys(nobias->named_parameters()), (std::vector<std::string>{"weight_orig"}));
  EXPECT_FALSE(nobias->bias.defined());
  // Grouped conv: v has C_in/groups * kh * kw entries.
  sm::SpectralNormConv2d grouped(torch::nn::Conv2dOptions(4, 6, 3).groups(2));
  EXPECT_EQ(grouped->sn.v().sizes(), (std::vector<int64_t>{18}));
  EXPECT_EQ(grouped->forward(torch::rand({1, 4, 5, 5})).sizes(), (std::vector<int64_t>{1, 6, 3, 3}));

  sm::SpectralNormLinear lin(torch::nn::LinearOptions(7, 5));
  EXPECT_EQ(keys(lin->named_parameters()), (std::vector<std::string>{"bias", "weight_orig"}));
  EXPECT_EQ(keys(lin->named_buffers()), (std::vector<std::string>{"weight_u", "weight_v"}));
  EXPECT_EQ(lin->sn.u().sizes(), (std::vector<int64_t>{5}));
  EXPECT_EQ(lin->sn.v().sizes(), (std::vector<int64_t>{7}));
}

TEST(SpectralNorm, BuffersRoundTripThroughSerialization) {
  torch::manual_seed(6);
  sm::SpectralNormConv2d a(torch::nn::Conv2dOptions(3, 4, 3));
  a->train();
  for (int i = 0; i < 3; ++i) a->forward(torch::rand({1, 3, 5, 5}));
  torch::serialize::OutputArchive out;
  a->save(out);
  std::ostringstream os;
  out.save_to(os);
  torch::manual_seed(7);
  sm::SpectralNormConv2d b(torch::nn::Conv2dOptions(3, 4, 3));
  ASSERT_FALSE(torch::equal(a->sn.u(), b->sn.u()));
  torch::serialize::InputArchive in;
  std::istringstream is(os.str());
  in.load_from(is);
  b->load(in);
  EXPECT_TRUE(torch::equal(a->sn.u(), b->sn.u()));
  EXPECT_TRUE(torch::equal(a->sn.v(), b->sn.v()));
  EXPECT_TRUE(torch::equal(a->sn.weight_orig(), b->sn.weight_orig()));
  a->eval();
  b->eval();
  const auto x = torch::rand({1, 3, 5, 5});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

TEST(SpectralNorm, Errors) {
  using torch::nn::Conv2dOptions;
  EXPECT_NE(error_of([] { sm::SpectralNormConv2d(Conv2dOptions(3, 4, 3).padding_mode(torch::kReflect)); })
                .find("padding_mode zeros"),
            std::string::npos);
  EXPECT_NE(error_of([] { sm::SpectralNormConv2d(Conv2dOptions(3, 4, 3), sm::SpectralNormOptions{0, 1e-12}); })
                .find("n_power_iterations must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_of([] { sm::SpectralNormLinear(torch::nn::LinearOptions(3, 4), sm::SpectralNormOptions{1, 0.0}); })
                .find("eps must be > 0"),
            std::string::npos);
  torch::nn::Module owner;
  EXPECT_NE(error_of([&] { sm::SpectralNorm(owner, "weight", torch::zeros({4})); }).find(">= 2 dimensions"),
            std::string::npos);
  auto w = torch::zeros({3, 4}), u = torch::zeros({4}), v = torch::zeros({4});
  EXPECT_NE(error_of([&] { sm::spectral_power_iteration(w, u, v, 1, 1e-12); }).find("power iteration needs"),
            std::string::npos);
}

}  // namespace test_spectral_norm

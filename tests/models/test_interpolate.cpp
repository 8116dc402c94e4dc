// Network interpolation (models/weights/interpolate.h, Wang et al. CVPR 2019 Eq. 1): endpoints reproduce the
// inputs exactly, alpha 0.5 is the parameter mean, floating buffers are blended, incompatible inputs
// and bad alphas are refused with both file names, the output is a loadable checkpoint written atomically.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "tests/test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "models/weights/checkpoint.h"
#include "models/weights/interpolate.h"
#include "models/arch/registry.h"

namespace test_interpolate {
namespace fs = std::filesystem;
namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("srlab_interp_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

sm::Generator build(const std::string& model_yaml, int scale) {
  return sm::make_generator(Config::parse(model_yaml, "test_interpolate.yaml"), scale);
}

// Writes a checkpoint with random weights (seeded); with_ema adds EMA weights that differ from the raw ones.
fs::path write_ckpt(const fs::path& file, const std::string& model_yaml, int scale, uint64_t seed,
                    const std::string& run_id, bool with_ema = false) {
  torch::manual_seed(seed);
  sm::Generator g = build(model_yaml, scale);
  sm::Generator ema = with_ema ? build(model_yaml, scale) : nullptr;
  sm::CheckpointInfo info;
  info.model_yaml = model_yaml;
  info.scale = scale;
  info.run_id = run_id;
  info.iteration = 123;
  torch::serialize::OutputArchive ar;
  sm::write_generator_entries(ar, info, g, ema);
  ar.save_to(file.string());
  return file;
}

torch::Tensor run(const sm::Generator& g, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return g->forward(x);
}

const char* kEspcn = "{type: espcn, num_feat: 4, activation: relu}";

TEST(Interpolate, EndpointsReproduceAAndBExactly) {
  TempDir tmp;
  const fs::path a = write_ckpt(tmp.path / "crisp.pt", kEspcn, 4, 1, "crisp_x4", /*with_ema=*/true);
  const fs::path b = write_ckpt(tmp.path / "creative.pt", kEspcn, 4, 2, "creative_x4");
  torch::manual_seed(9);
  const torch::Tensor x = torch::rand({1, 3, 11, 13});
  const torch::Tensor ya = run(sm::load_generator(a), x);  // A's EMA weights
  const torch::Tensor yb = run(sm::load_generator(b), x);  // B has raw weights only
  ASSERT_FALSE(torch::equal(ya, yb));

  const sm::InterpolationSummary s0 = sm::write_interpolated_checkpoint(a, b, 0.0, tmp.path / "out" / "a0.pt");
  EXPECT_TRUE(s0.ema_a);
  EXPECT_FALSE(s0.ema_b);
  EXPECT_EQ(s0.result.run_id, "interp(crisp_x4,creative_x4,0)");
  EXPECT_EQ(s0.blended_tensors, 6);  // 3 convs x (weight, bias)
  EXPECT_TRUE(torch::equal(run(sm::load_generator(tmp.path / "out" / "a0.pt"), x), ya));

  sm::write_interpolated_checkpoint(a, b, 1.0, tmp.path / "a1.pt");
  EXPECT_TRUE(torch::equal(run(sm::load_generator(tmp.path / "a1.pt"), x), yb));

  // The header of the result: A's model and scale, the interpolation run id, no EMA entry.
  torch::serialize::InputArchive ar;
  sm::open_checkpoint(tmp.path / "a1.pt", ar);
  const sm::CheckpointInfo info = sm::read_checkpoint_info(ar, tmp.path / "a1.pt");
  EXPECT_EQ(info.run_id, "interp(crisp_x4,creative_x4,1)");
  EXPECT_EQ(info.scale, 4);
  EXPECT_EQ(info.model_yaml, kEspcn);
  EXPECT_FALSE(info.has_ema);
  c10::IValue v;
  ASSERT_TRUE(ar.try_read("interp_weights", v));
  EXPECT_EQ(v.toStringRef(), "ema,raw");
  ASSERT_TRUE(ar.try_read("interp_alpha", v));
  EXPECT_EQ(v.toDouble(), 1.0);

  // Atomic write: only the finished files are in the folder.
  for (const auto& e : fs::directory_iterator(tmp.path))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(Interpolate, NewArchitecturesReproduceTheirEndpoints) {
  // SPAN (its folded eval_conv is re-made from the blended branches), RealPLKSR (GroupNorm, DySample)
  // and SwinIR (relative position bias tables; the index buffers are integers, copied from A).
  for (const char* yaml : {"{type: span, feature_channels: 6}", "{type: realplksr, dim: 8, n_blocks: 1, kernel_size: 5, dysample: true}",
                           "{type: swinir, upsampler: pixelshuffle, num_feat: 8, embed_dim: 8, depths: [2], num_heads: [2], "
                           "window_size: 4, img_size: 8, mlp_ratio: 2}"}) {
    TempDir tmp;
    const fs::path a = write_ckpt(tmp.path / "a.pt", yaml, 2, 1, "a");
    const fs::path b = write_ckpt(tmp.path / "b.pt", yaml, 2, 2, "b");
    torch::manual_seed(9);
    const torch::Tensor x = torch::rand({1, 3, 12, 16});
    const torch::Tensor ya = run(sm::load_generator(a), x), yb = run(sm::load_generator(b), x);
    ASSERT_FALSE(torch::equal(ya, yb)) << yaml;
    sm::write_interpolated_checkpoint(a, b, 0.0, tmp.path / "i0.pt");
    sm::write_interpolated_checkpoint(a, b, 1.0, tmp.path / "i1.pt");
    const sm::InterpolationSummary half = sm::write_interpolated_checkpoint(a, b, 0.5, tmp.path / "i5.pt");
    EXPECT_GT(half.blended_tensors, 0) << yaml;
    EXPECT_TRUE(torch::allclose(run(sm::load_generator(tmp.path / "i0.pt"), x), ya, 0, 1e-6)) << yaml;
    EXPECT_TRUE(torch::allclose(run(sm::load_generator(tmp.path / "i1.pt"), x), yb, 0, 1e-6)) << yaml;
    const torch::Tensor y5 = run(sm::load_generator(tmp.path / "i5.pt"), x);
    EXPECT_TRUE(torch::isfinite(y5).all().item<bool>()) << yaml;
    EXPECT_FALSE(torch::allclose(y5, ya)) << yaml;
  }
}

TEST(Interpolate, HalfIsTheMeanOfEveryParameterAndOtherAlphasAreLinear) {
  TempDir tmp;
  const fs::path a = write_ckpt(tmp.path / "a.pt", kEspcn, 3, 3, "a");
  const fs::path b = write_ckpt(tmp.path / "b.pt", kEspcn, 3, 4, "b");
  const sm::Generator ga = sm::load_generator(a), gb = sm::load_generator(b);
  sm::write_interpolated_checkpoint(a, b, 0.5, tmp.path / "mid.pt");
  sm::write_interpolated_checkpoint(a, b, 0.3, tmp.path / "p3.pt");
  const sm::Generator mid = sm::load_generator(tmp.path / "mid.pt");
  const sm::Generator p3 = sm::load_generator(tmp.path / "p3.pt");
  const auto pa = ga->named_parameters(), pb = gb->named_parameters();
  int n = 0;
  for (const auto& p : mid->named_parameters()) {
    const torch::Tensor ref = (pa[p.key()] + pb[p.key()]) / 2;
    EXPECT_LE((p.value() - ref).abs().max().item<double>(), 1e-7) << p.key();
    EXPECT_FALSE(torch::equal(pa[p.key()], pb[p.key()])) << p.key();
    ++n;
  }
  EXPECT_EQ(n, 6);
  for (const auto& p : p3->named_parameters()) {
    const torch::Tensor ref = pa[p.key()] * 0.7 + pb[p.key()] * 0.3;
    EXPECT_LE((p.value() - ref).abs().max().item<double>(), 1e-6) << p.key();
  }
}

// A module with a floating buffer, an integer buffer and a nested child, to check what is blended.
struct Buffered : torch::nn::Module {
  torch::Tensor w, mean, count;
  torch::nn::Linear lin{nullptr};
  explicit Buffered(float base, int64_t w_cols = 3) {
    w = register_parameter("w", torch::full({2, w_cols}, base));
    mean = register_buffer("mean", torch::full({3}, 2 * base));
    count = register_buffer("count", torch::full({1}, static_cast<int64_t>(base), torch::kInt64));
    lin = register_module("lin", torch::nn::Linear(2, 2));
    torch::NoGradGuard ng;
    lin->weight.fill_(base);
    lin->bias.fill_(-base);
  }
};

TEST(Interpolate, FloatingBuffersAreBlendedIntegerBuffersCopiedFromA) {
  Buffered a(1.0f), b(5.0f), out(0.0f);
  EXPECT_EQ(sm::interpolate_module_tensors(a, b, 0.25, out), 4);  // w, lin.weight, lin.bias, mean (count copied)
  EXPECT_TRUE(torch::allclose(out.w, torch::full({2, 3}, 2.0f)));          // 0.75 * 1 + 0.25 * 5
  EXPECT_TRUE(torch::allclose(out.mean, torch::full({3}, 4.0f)));          // 0.75 * 2 + 0.25 * 10
  EXPECT_TRUE(torch::allclose(out.lin->weight, torch::full({2, 2}, 2.0f)));
  EXPECT_TRUE(torch::allclose(out.lin->bias, torch::full({2}, -2.0f)));
  EXPECT_EQ(out.count.item<int64_t>(), 1);
  // Inputs untouched.
  EXPECT_TRUE(torch::allclose(a.w, torch::full({2, 3}, 1.0f)));
  EXPECT_TRUE(torch::allclose(b.mean, torch::full({3}, 10.0f)));
  // Shape mismatch names the key and both labels.
  Buffered other(1.0f, /*w_cols=*/4);
  const std::string msg = error_of([&] { sm::interpolate_module_tensors(a, other, 0.5, out, "A 'x.pt'", "B 'y.pt'"); });
  EXPECT_NE(msg.find("x.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("y.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w' has shape [2, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 4]"), std::string::npos) << msg;
}

TEST(Interpolate, RefusesIncompatibleCheckpointsNamingBothFiles) {
  TempDir tmp;
  const fs::path a = write_ckpt(tmp.path / "espcn4_x4.pt", kEspcn, 4, 1, "a");
  auto expect_refused = [&](const fs::path& b, const std::string& what) {
    const std::string msg = error_of([&] { sm::write_interpolated_checkpoint(a, b, 0.5, tmp.path / "out.pt"); });
    EXPECT_NE(msg.find(a.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(b.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(tmp.path / "out.pt"));
  };
  // Another architecture.
  expect_refused(write_ckpt(tmp.path / "edsr_x4.pt", "{type: edsr, num_feat: 4, num_block: 1}", 4, 2, "e"), "edsr");
  // Another scale.
  expect_refused(write_ckpt(tmp.path / "espcn4_x2.pt", kEspcn, 2, 2, "s2"), "x2");
  // Another width: shapes differ.
  expect_refused(write_ckpt(tmp.path / "espcn8_x4.pt", "{type: espcn, num_feat: 8, activation: relu}", 4, 2, "w8"),
                 "shape");
  // PReLU adds parameters: key sets differ.
  expect_refused(write_ckpt(tmp.path / "prelu_x4.pt", "{type: espcn, num_feat: 4, activation: prelu}", 4, 2, "p"),
                 "missing");
  // Same tensors, other activation: the model sections differ.
  expect_refused(write_ckpt(tmp.path / "tanh_x4.pt", "{type: espcn, num_feat: 4, activation: tanh}", 4, 2, "t"),
                 "model sections differ");
  // Key order and formatting of the model section do not matter.
  const fs::path reordered =
      write_ckpt(tmp.path / "reordered.pt", "activation: relu\nnum_feat: 4\ntype: espcn\n", 4, 2, "r");
  EXPECT_NO_THROW(sm::write_interpolated_checkpoint(a, reordered, 0.5, tmp.path / "ok.pt"));
}

TEST(Interpolate, AlphaRangeExtrapolationAndOutputChecks) {
  TempDir tmp;
  const fs::path a = write_ckpt(tmp.path / "a.pt", kEspcn, 2, 1, "a");
  const fs::path b = write_ckpt(tmp.path / "b.pt", kEspcn, 2, 2, "b");
  for (double alpha : {-0.1, 1.5}) {
    const std::string msg = error_of([&] { sm::write_interpolated_checkpoint(a, b, alpha, tmp.path / "x.pt"); });
    EXPECT_NE(msg.find("--extrapolate"), std::string::npos) << msg;
    EXPECT_NE(msg.find(a.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(b.string()), std::string::npos) << msg;
  }
  EXPECT_FALSE(error_of([&] { sm::write_interpolated_checkpoint(a, b, NAN, tmp.path / "x.pt", true); }).empty());
  EXPECT_FALSE(fs::exists(tmp.path / "x.pt"));
  // Extrapolation: theta = -0.5 A + 1.5 B.
  sm::write_interpolated_checkpoint(a, b, 1.5, tmp.path / "x.pt", /*extrapolate=*/true);
  const auto pa = sm::load_generator(a)->named_parameters(), pb = sm::load_generator(b)->named_parameters();
  for (const auto& p : sm::load_generator(tmp.path / "x.pt")->named_parameters())
    EXPECT_LE((p.value() - (pa[p.key()] * -0.5 + pb[p.key()] * 1.5)).abs().max().item<double>(), 1e-6) << p.key();
  // Writing over an input is refused; a missing input is named.
  EXPECT_NE(error_of([&] { sm::write_interpolated_checkpoint(a, b, 0.5, a); }).find("one of the inputs"),
            std::string::npos);
  const fs::path missing = tmp.path / "missing.pt";
  EXPECT_NE(error_of([&] { sm::write_interpolated_checkpoint(a, missing, 0.5, tmp.path / "y.pt"); }).find(missing.string()),
            std::string::npos);
}

}  // namespace test_interpolate

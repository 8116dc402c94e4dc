// Tests of eval/upscale: tile geometry, tiled == untiled, passes/outscale sizes, gray and alpha
// handling, sharpen order, and the OpenCV DNN (ONNX) runtime agreeing with LibTorch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>

#include "tests/test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"
#include "eval/sharpen.h"
#include "deploy/upscale.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_opencv.h"
#include "models/arch/registry.h"

namespace test_upscale {
using namespace srlab;
using srlab::testing::error_of;

models::Generator tiny(const std::string& yaml, int scale, uint64_t seed = 1) {
  torch::manual_seed(seed);
  return models::make_generator(core::Config::parse(yaml), scale);
}

data::Image image_of(const torch::Tensor& px, const torch::Tensor& alpha = {}) {
  data::Image img;
  img.pixels = px;
  img.alpha = alpha;
  img.path = "test.png";
  return img;
}

TEST(Upscale, TileWindowsPartitionTheImageWithEqualSizedWindowsAndRealContext) {
  for (auto [H, W, tile, pad] : std::vector<std::array<int64_t, 4>>{
           {37, 53, 8, 4}, {37, 53, 16, 0}, {10, 10, 4, 10}, {5, 64, 0, 3}, {64, 64, 64, 8}, {1, 1, 1, 1}}) {
    const auto wins = eval::tile_windows(H, W, {tile, pad});
    torch::Tensor covered = torch::zeros({H, W}, torch::kInt32);
    for (const auto& t : wins) {
      EXPECT_EQ(t.h, std::min(H, tile > 0 && tile < H ? tile + 2 * pad : H));
      EXPECT_EQ(t.w, std::min(W, tile > 0 && tile < W ? tile + 2 * pad : W));
      ASSERT_GE(t.y, 0);
      ASSERT_LE(t.y + t.h, H);
      ASSERT_GE(t.x, 0);
      ASSERT_LE(t.x + t.w, W);
      // The core lies inside the window with >= pad context, or the window reaches the image border.
      EXPECT_TRUE(t.core_y0 - t.y >= pad || t.y == 0);
      EXPECT_TRUE(t.y + t.h - t.core_y1 >= pad || t.y + t.h == H);
      EXPECT_TRUE(t.core_x0 - t.x >= pad || t.x == 0);
      EXPECT_TRUE(t.x + t.w - t.core_x1 >= pad || t.x + t.w == W);
      covered.slice(0, t.core_y0, t.core_y1).slice(1, t.core_x0, t.core_x1) += 1;
    }
    EXPECT_TRUE(covered.eq(1).all().item<bool>()) << H << "x" << W << " tile " << tile << " pad " << pad;
  }
  EXPECT_EQ(eval::tile_windows(100, 60, {0, 16}).size(), 1u);
  EXPECT_EQ(eval::tile_windows(100, 60, {32, 16}).size(), 4u * 2u);
  EXPECT_NE(error_of([] { eval::tile_windows(10, 10, {-1, 0}); }).find("tile"), std::string::npos);
}

TEST(Upscale, TiledEqualsUntiledWhenThePadCoversTheReceptiveField) {
  // ESPCN: 5x5, 3x3, 3x3 convs (radius 4 LR pixels) + bicubic residual (radius 2).
  const auto g = tiny("{type: espcn, num_feat: 8, residual: bicubic}", 3);
  const eval::UpscaleModel m = eval::libtorch_model(g, torch::kCPU);
  torch::manual_seed(2);
  const torch::Tensor lr = torch::rand({1, 3, 41, 30});
  const torch::Tensor whole = eval::upscale_tiled(m, lr, {0, 0});
  ASSERT_EQ(whole.sizes(), (std::vector<int64_t>{1, 3, 123, 90}));
  int64_t calls = 0;
  const torch::Tensor tiled = eval::upscale_tiled(m, lr, {8, 6}, [&](int64_t done, int64_t total) {
    ++calls;
    EXPECT_EQ(done, calls);
    EXPECT_EQ(total, 6 * 4);
  });
  EXPECT_EQ(calls, 24);
  EXPECT_LE((tiled - whole).abs().max().item<double>(), 1e-5);
  EXPECT_LE((data::quantize(tiled) - data::quantize(whole)).abs().max().item<double>(), 1.0 / 255 + 1e-6);
  // Without context the seams show (the check above can fail).
  const torch::Tensor seams = eval::upscale_tiled(m, lr, {8, 0});
  EXPECT_GT((seams - whole).abs().max().item<double>(), 1e-3);
}

TEST(Upscale, NewArchitecturesTileExactlyAndSwinIrTilesAnySize) {
  // SPAN (21 stacked 3x3 convs: radius 21 LR pixels), PLKSR and RealPLKSR with LayerNorm (per-pixel ops
  // and a 5x5 partial large kernel) are local, so a pad of 24 makes tiling invisible. RealPLKSR's default
  // GroupNorm and SwinIR's windowed attention see the whole tile, so their tiles differ slightly; SwinIR
  // pads each tile to a window multiple itself.
  torch::manual_seed(4);
  const torch::Tensor lr = torch::rand({1, 3, 80, 72});
  for (const char* yaml : {"{type: span, feature_channels: 6}", "{type: plksr, dim: 8, n_blocks: 1, kernel_size: 5}",
                           "{type: realplksr, dim: 8, n_blocks: 1, kernel_size: 5, layer_norm: true, dysample: true}"}) {
    const auto g = tiny(yaml, 2);
    g->eval();
    const eval::UpscaleModel m = eval::libtorch_model(g, torch::kCPU);
    const torch::Tensor whole = eval::upscale_tiled(m, lr, {0, 0});
    ASSERT_EQ(whole.sizes(), (std::vector<int64_t>{1, 3, 160, 144})) << yaml;
    const torch::Tensor tiled = eval::upscale_tiled(m, lr, {16, 24});
    EXPECT_LE((tiled - whole).abs().max().item<double>(), 1e-5) << yaml;
  }
  const auto swin = tiny("{type: swinir, upsampler: pixelshuffledirect, embed_dim: 8, depths: [2], num_heads: [2], "
                         "window_size: 4, img_size: 8, mlp_ratio: 2}", 2);
  swin->eval();
  const eval::UpscaleModel m = eval::libtorch_model(swin, torch::kCPU);
  const torch::Tensor x = lr.narrow(2, 0, 37).narrow(3, 0, 30);  // not window multiples
  const torch::Tensor whole = eval::upscale_tiled(m, x, {0, 0});
  const torch::Tensor tiled = eval::upscale_tiled(m, x, {13, 6});
  ASSERT_EQ(tiled.sizes(), (std::vector<int64_t>{1, 3, 74, 60}));
  EXPECT_TRUE(torch::isfinite(tiled).all().item<bool>());
  EXPECT_LT((tiled - whole).abs().mean().item<double>(), 0.05);
}

TEST(Upscale, PassesFollowTheLogRuleAndOutscaleGivesTheExactSize) {
  EXPECT_EQ(eval::upscale_passes(4, 4), 1);
  EXPECT_EQ(eval::upscale_passes(2, 4), 1);
  EXPECT_EQ(eval::upscale_passes(7.9, 4), 1);
  EXPECT_EQ(eval::upscale_passes(8, 4), 2);
  EXPECT_EQ(eval::upscale_passes(16, 4), 2);
  EXPECT_EQ(eval::upscale_passes(3, 2), 2);
  EXPECT_EQ(eval::upscale_passes(0.5, 2), 1);
  EXPECT_THROW(eval::upscale_passes(0, 4), Error);

  const auto g = tiny("{type: espcn, num_feat: 4}", 2);
  const eval::UpscaleModel m = eval::libtorch_model(g, torch::kCPU);
  torch::manual_seed(3);
  const data::Image img = image_of(torch::rand({3, 7, 10}));
  eval::UpscaleOptions o;
  o.tiles = {4, 2};
  for (auto [outscale, passes, h, w] : std::vector<std::tuple<double, int, int64_t, int64_t>>{
           {0, 1, 14, 20}, {2, 1, 14, 20}, {3, 2, 21, 30}, {4, 2, 28, 40}, {1.5, 1, 11, 15}, {2.5, 1, 18, 25}}) {
    o.outscale = outscale;
    const eval::UpscaleResult r = eval::upscale_image(img, m, o);
    EXPECT_EQ(r.passes, passes) << outscale;
    EXPECT_EQ(r.pixels.sizes(), (std::vector<int64_t>{3, h, w})) << outscale;
    EXPECT_GE(r.pixels.min().item<double>(), 0.0);
    EXPECT_LE(r.pixels.max().item<double>(), 1.0);
  }
  // Two passes = the model applied to its own clamped output; x3 = that, then MATLAB bicubic to 21x30.
  o.outscale = 4;
  const torch::Tensor two = eval::upscale_image(img, m, o).pixels;
  const torch::Tensor once = eval::upscale_tiled(m, img.pixels.unsqueeze(0), o.tiles);
  EXPECT_LE((two - eval::upscale_tiled(m, once, o.tiles).squeeze(0)).abs().max().item<double>(), 1e-5);
  o.outscale = 3;
  EXPECT_LE((eval::upscale_image(img, m, o).pixels - data::imresize(two, 21, 30).clamp(0, 1)).abs().max().item<double>(),
            1e-5);
}

TEST(Upscale, GrayStaysGrayAlphaIsResizedSeparatelyAndSharpenComesLast) {
  const auto g = tiny("{type: espcn, num_feat: 4}", 2);
  const eval::UpscaleModel m = eval::libtorch_model(g, torch::kCPU);
  torch::manual_seed(4);
  const torch::Tensor gray = torch::rand({1, 9, 8});
  const eval::UpscaleResult rg = eval::upscale_image(image_of(gray), m, {});
  ASSERT_EQ(rg.pixels.sizes(), (std::vector<int64_t>{1, 18, 16}));
  const torch::Tensor rgb = eval::upscale_tiled(m, gray.expand({3, 9, 8}).unsqueeze(0), {0, 0}).squeeze(0);
  EXPECT_LE((rg.pixels - rgb.mean(0, true)).abs().max().item<double>(), 1e-6);
  EXPECT_FALSE(rg.alpha.defined());

  const torch::Tensor px = torch::rand({3, 9, 8}), alpha = torch::rand({1, 9, 8});
  const eval::UpscaleResult ra = eval::upscale_image(image_of(px, alpha), m, {});
  const eval::UpscaleResult rn = eval::upscale_image(image_of(px), m, {});
  EXPECT_TRUE(torch::equal(ra.pixels, rn.pixels));  // alpha never enters the model
  ASSERT_TRUE(ra.alpha.defined());
  EXPECT_LE((ra.alpha - data::imresize(alpha, 18, 16).clamp(0, 1)).abs().max().item<double>(), 1e-6);

  eval::UpscaleOptions o;
  o.sharpen = eval::UnsharpOptions{0.8, 1.5, 0.0};
  const eval::UpscaleResult rs = eval::upscale_image(image_of(px), m, o);
  EXPECT_LE((rs.pixels - eval::unsharp_mask(rn.pixels, *o.sharpen)).abs().max().item<double>(), 1e-6);
  EXPECT_GT((rs.pixels - rn.pixels).abs().max().item<double>(), 1e-3);
}

TEST(Upscale, OnnxModelInOpenCvDnnMatchesTheCheckpointTiled) {
  for (const auto& [yaml, scale] : std::vector<std::pair<std::string, int>>{
           {"{type: espcn, num_feat: 8, residual: bicubic}", 4}, {"{type: edsr, num_feat: 8, num_block: 2}", 2}}) {
    const auto g = tiny(yaml, scale, 7);
    const eval::UpscaleModel lt = eval::libtorch_model(g, torch::kCPU);
    const eval::UpscaleModel cv =
        eval::opencv_model(std::make_shared<models::OpenCvOnnxModel>(models::export_onnx(g, {}), "t.onnx"), scale);
    torch::manual_seed(8);
    const data::Image img = image_of(torch::rand({3, 29, 35}));
    eval::UpscaleOptions o;
    o.tiles = {12, 8};
    const torch::Tensor a = eval::upscale_image(img, lt, o).pixels, b = eval::upscale_image(img, cv, o).pixels;
    ASSERT_EQ(a.sizes(), b.sizes());
    EXPECT_LE((a - b).abs().max().item<double>(), 1e-4) << yaml;
  }
}

TEST(Upscale, AModelReturningTheWrongShapeIsReported) {
  eval::UpscaleModel bad;
  bad.scale = 2;
  bad.runtime = "fake";
  bad.forward = [](const torch::Tensor& x) { return x; };
  const std::string err = error_of([&] { eval::upscale_tiled(bad, torch::rand({1, 3, 8, 8}), {0, 0}); });
  EXPECT_NE(err.find("fake"), std::string::npos) << err;
  EXPECT_NE(err.find("[1, 3, 16, 16]"), std::string::npos) << err;
  EXPECT_NE(error_of([&] { eval::upscale_tiled(bad, torch::rand({3, 8, 8}), {0, 0}); }).find("(1,3,H,W)"),
            std::string::npos);
}

}  // namespace test_upscale

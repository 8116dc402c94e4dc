// Tests of eval/sharpen (unsharp mask) and of the sharpened baseline method.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/paths.h"
#include "data/datasets/paired_dataset.h"
#include "eval/methods.h"
#include "eval/sharpen.h"

namespace test_sharpen {
using srlab::eval::unsharp_mask;
using srlab::eval::UnsharpOptions;

// Energy of the discrete Laplacian (a high-pass filter) of a (C,H,W) image.
double laplacian_energy(const torch::Tensor& x) {
  const auto c = x.slice(1, 1, -1).slice(2, 1, -1);
  const auto lap = x.slice(1, 0, -2).slice(2, 1, -1) + x.slice(1, 2).slice(2, 1, -1) +
                   x.slice(1, 1, -1).slice(2, 0, -2) + x.slice(1, 1, -1).slice(2, 2) - 4 * c;
  return lap.to(torch::kFloat64).square().mean().item<double>();
}

TEST(UnsharpMask, ConstantImageUnchanged) {
  const torch::Tensor img = torch::full({3, 17, 23}, 0.37f);
  EXPECT_TRUE(torch::allclose(unsharp_mask(img, {2.0, 1.5, 0.0}), img, 0, 1e-6));
}

TEST(UnsharpMask, AmountZeroIsIdentityAndShapesKept) {
  torch::manual_seed(1);
  const torch::Tensor img = torch::rand({2, 3, 20, 30});
  const torch::Tensor out = unsharp_mask(img, {0.0, 1.0, 0.0});
  EXPECT_EQ(out.sizes(), img.sizes());
  EXPECT_EQ(out.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(out, img));
  // (C,H,W) and the same image inside a batch give the same result.
  const torch::Tensor single = unsharp_mask(img[1], {});
  EXPECT_TRUE(torch::allclose(single, unsharp_mask(img, {})[1]));
}

TEST(UnsharpMask, StepEdgeOvershootsAndStaysInRange) {
  // Vertical step 0.2 | 0.8: sharpening darkens the dark side and brightens the bright side next to the
  // edge (out = img + amount (img - blur)), far from the edge nothing changes.
  torch::Tensor img = torch::full({1, 16, 32}, 0.2f);
  img.slice(2, 16).fill_(0.8f);
  const torch::Tensor out = unsharp_mask(img, {1.0, 1.0, 0.0});
  EXPECT_LT(out[0][8][15].item<float>(), 0.2f - 0.05f);
  EXPECT_GT(out[0][8][16].item<float>(), 0.8f + 0.05f);
  EXPECT_NEAR(out[0][8][2].item<float>(), 0.2f, 1e-6);
  EXPECT_NEAR(out[0][8][29].item<float>(), 0.8f, 1e-6);
  // Large amount: the overshoot is clamped to [0,1].
  const torch::Tensor strong = unsharp_mask(img, {20.0, 1.0, 0.0});
  EXPECT_EQ(strong.min().item<float>(), 0.0f);
  EXPECT_EQ(strong.max().item<float>(), 1.0f);
}

TEST(UnsharpMask, ThresholdSuppressesSmallEdges) {
  // Two steps: a small one (0.02) and a large one (0.5).
  torch::Tensor img = torch::full({1, 16, 64}, 0.30f);
  img.slice(2, 16, 40).fill_(0.32f);
  img.slice(2, 40).fill_(0.82f);
  const torch::Tensor plain = unsharp_mask(img, {1.0, 1.0, 0.0});
  const torch::Tensor thr = unsharp_mask(img, {1.0, 1.0, 0.05});
  // Without threshold the small edge is sharpened too...
  EXPECT_GT((plain.slice(2, 8, 28) - img.slice(2, 8, 28)).abs().max().item<float>(), 1e-3f);
  // ...with threshold 0.05 the small edge (detail <= 0.01) is untouched, the large one still sharpened.
  EXPECT_TRUE(torch::equal(thr.slice(2, 8, 28), img.slice(2, 8, 28)));
  EXPECT_GT((thr.slice(2, 36, 44) - img.slice(2, 36, 44)).abs().max().item<float>(), 0.05f);
}

TEST(UnsharpMask, RejectsBadInput) {
  const torch::Tensor img = torch::rand({3, 8, 8});
  EXPECT_THROW(unsharp_mask(img, {-0.1, 1.0, 0.0}), srlab::Error);
  EXPECT_THROW(unsharp_mask(img, {0.5, 0.0, 0.0}), srlab::Error);
  EXPECT_THROW(unsharp_mask(img, {0.5, 1.0, -1.0}), srlab::Error);
  EXPECT_THROW(unsharp_mask(torch::rand({8, 8}), {}), srlab::Error);
  EXPECT_THROW(unsharp_mask(torch::zeros({3, 8, 8}, torch::kUInt8), {}), srlab::Error);
  EXPECT_THROW(srlab::eval::sharpened_method(2, {0.5, -1.0, 0.0}), srlab::Error);
}

TEST(SharpenedMethod, MoreHighFrequencyEnergyThanBicubic) {
  const auto dir = srlab::core::shared_data_dir() / "benchmarks" / "Set5" / "x4";
  const auto ds = srlab::data::open_benchmark(dir, 4);
  const auto pair = ds.get(0);
  const torch::Tensor bic = srlab::eval::bicubic_method(4).upscale(pair.lr).clamp(0, 1);
  const torch::Tensor sharp = srlab::eval::sharpened_method(4, {}).upscale(pair.lr);
  ASSERT_EQ(bic.sizes(), pair.hr.sizes());
  ASSERT_EQ(sharp.sizes(), pair.hr.sizes());
  const double e_bic = laplacian_energy(bic), e_sharp = laplacian_energy(sharp);
  // The unsharp mask multiplies frequency f by 1 + amount (1 - G(f)) (G: Gaussian transfer function),
  // up to (1 + 0.5)^2 = 2.25x in energy at Nyquist; weighted by the bicubic spectrum the Laplacian energy
  // rises about 1.25x on this image (measured), so 1.1x is a safe lower bound.
  EXPECT_GT(e_sharp, 1.1 * e_bic) << e_bic << " vs " << e_sharp;
  // Bicubic is blurrier than the ground truth.
  EXPECT_LT(e_bic, laplacian_energy(pair.hr));
}

}  // namespace test_sharpen

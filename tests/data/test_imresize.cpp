#include <gtest/gtest.h>

#include <iostream>

#include "core/error.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"
#include "tests/data/helpers.h"

namespace fs = std::filesystem;
using namespace srlab::data;
using srlab::data::testing::psnr01;

TEST(Imresize, OutputLengthCeilRule) {
  EXPECT_EQ(resize_output_length(10, 0.3), 3);
  EXPECT_EQ(resize_output_length(7, 0.3), 3);    // 2.1 -> 3
  EXPECT_EQ(resize_output_length(10, 1.7), 17);
  EXPECT_EQ(resize_output_length(7, 1.7), 12);   // 11.9 -> 12
  EXPECT_EQ(resize_output_length(255, 1.0 / 3.0), 85);
  EXPECT_EQ(resize_output_length(3, 1.0 / 3.0), 1);
  EXPECT_EQ(resize_output_length(1, 0.01), 1);
  EXPECT_THROW(resize_output_length(5, 0.0), srlab::Error);
  EXPECT_THROW(resize_output_length(5, -1.0), srlab::Error);
  EXPECT_THROW(resize_output_length(0, 2.0), srlab::Error);

  const auto y = imresize(torch::rand({3, 7, 10}), 0.3);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 3, 3}));
  const auto z = imresize(torch::rand({2, 1, 7, 10}), 1.7);
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{2, 1, 12, 17}));
}

TEST(Imresize, ConstantImageStaysConstant) {
  const auto x = torch::full({3, 13, 17}, 0.37f);
  for (auto k : {ResizeKernel::kCubic, ResizeKernel::kLinear, ResizeKernel::kBox, ResizeKernel::kLanczos2,
                 ResizeKernel::kLanczos3}) {
    for (double s : {0.25, 0.3, 0.5, 1.7, 2.0, 3.0}) {
      for (bool aa : {true, false}) {
        const auto y = imresize(x, s, k, aa);
        EXPECT_LT((y - 0.37f).abs().max().item<float>(), 1e-6) << "scale " << s;
      }
    }
  }
}

// Hand-derived: cubic (a = -0.5) x2 upsampling places output pixel x (1-based) at u = x/2 + 1/4, so
// the taps sit at distances 1.75, 0.75, 0.25, 1.25 with weights -0.0234375, 0.2265625, 0.8671875,
// -0.0703125. For the ramp [0 1 2 3] with mirrored borders (... 1 0 | 0 1 2 3 | 3 2 ...):
//   x=1: u=0.75, taps 0,1,1,2 (mirrored)  -> -0.0234375*1 + 0.2265625*0 + 0.8671875*0 - 0.0703125*1 = -0.09375
//   x=2: u=1.25, taps 0,1,2,3             -> 0.2265625*1 - 0.0234375*2 (leading taps are 0)  =  0.1796875
//   x=3: u=1.75, taps 0,0,1,2             -> 0.8671875*1 - 0.0703125*2                        =  0.7265625
//   x=4: u=2.25 (interior, cubic reproduces the ramp)                                         =  1.25
// and the right half follows from the symmetry out[9-x] = 3 - out[x].
TEST(Imresize, CubicRampUpsampleHandValues) {
  const auto x = torch::tensor({0.0, 1.0, 2.0, 3.0}, torch::kFloat64).view({1, 1, 4});
  const auto y = imresize(x, 2.0);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, 2, 8}));
  const double expected[8] = {-0.09375, 0.1796875, 0.7265625, 1.25, 1.75, 2.2734375, 2.8203125, 3.09375};
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(y[0][r][i].item<double>(), expected[i], 1e-12) << i;
  // float32 gives the same within float precision.
  const auto yf = imresize(x.to(torch::kFloat32), 2.0);
  EXPECT_EQ(yf.scalar_type(), torch::kFloat32);
  EXPECT_LT((yf.to(torch::kFloat64) - y).abs().max().item<double>(), 1e-6);
}

TEST(Imresize, LinearAndBoxHandValues) {
  const auto x = torch::tensor({0.0, 1.0, 2.0, 3.0}, torch::kFloat64).view({1, 1, 4});
  // Box x2 up = pixel replication; linear x2 up = ramp u - 1 inside, edge pixels clamp by mirroring.
  const auto b = imresize(x, 2.0, ResizeKernel::kBox);
  const double eb[8] = {0, 0, 1, 1, 2, 2, 3, 3};
  const auto l = imresize(x, 2.0, ResizeKernel::kLinear);
  const double el[8] = {0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3};
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(b[0][0][i].item<double>(), eb[i], 1e-12) << i;
    EXPECT_NEAR(l[0][0][i].item<double>(), el[i], 1e-12) << i;
  }
  // Antialiased box x1/2 down = mean of each 2x2 block.
  const auto img = torch::rand({2, 6, 8}, torch::kFloat64);
  const auto d = imresize(img, 0.5, ResizeKernel::kBox);
  const auto ref = torch::avg_pool2d(img.unsqueeze(0), 2).squeeze(0);
  EXPECT_LT((d - ref).abs().max().item<double>(), 1e-12);
}

// Hand-derived: antialiased cubic x1/2 uses h(t) = cubic(t/2)/2 on the taps at distances
// 0.5, 1.5, 2.5, 3.5 (each side): 0.43359375, 0.11328125, -0.03515625, -0.01171875.
// For the 1-D alternating signal a = [1 0 1 0 ...] the interior output is 0.5 (one of each pair of
// symmetric taps is 1); at the first output (u = 1.5, mirrored taps 1 0 1 | 1 0 1 0 1) it is
// -0.01171875 + 0.11328125 + 0.43359375 + 0.11328125 - 0.01171875 = 0.63671875, and at the second
// (u = 3.5, taps 1 | 1 0 1 0 1 0 1) -0.01171875 - 0.03515625 + 0.43359375 + 0.11328125 - 0.01171875 = 0.48828125.
// The last two outputs see the reversed signal [.. 1 0], i.e. 1 - those values. The 2-D checkerboard
// c = a XOR b = a + b - 2ab is resized separably, so out = Ra + Rb - 2 Ra Rb.
TEST(Imresize, CheckerboardDownscaleHandValues) {
  const int n = 16;
  auto board = torch::zeros({1, n, n}, torch::kFloat64);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) board[0][i][j] = static_cast<double>(((i + 1) + (j + 1)) % 2);
  const auto y = imresize(board, 0.5);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, 8, 8}));
  std::vector<double> ra(8, 0.5);
  ra[0] = 0.63671875;
  ra[1] = 0.48828125;
  ra[6] = 1.0 - 0.48828125;
  ra[7] = 1.0 - 0.63671875;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      const double e = ra[i] + ra[j] - 2.0 * ra[i] * ra[j];
      EXPECT_NEAR(y[0][i][j].item<double>(), e, 1e-12) << i << "," << j;
    }
  // Without antialiasing the x1/2 cubic samples at pixel boundaries with taps +-0.5, +-1.5:
  // interior = 0.5 too, but the kernel is not stretched (4 taps instead of 8).
  EXPECT_EQ(resize_contributions(16, 8, 0.5, ResizeKernel::kCubic, false).taps, 4);
  EXPECT_EQ(resize_contributions(16, 8, 0.5, ResizeKernel::kCubic, true).taps, 8);
}

TEST(Imresize, ContributionsAreNormalisedAndMirrored) {
  for (auto [in, out, s] : {std::tuple<int64_t, int64_t, double>{512, 128, 0.25}, {10, 3, 0.3}, {4, 8, 2.0}, {1, 3, 3.0}}) {
    const auto rw = resize_contributions(in, out, s, ResizeKernel::kCubic, true);
    ASSERT_EQ(rw.weights.size(), static_cast<size_t>(out * rw.taps));
    for (int64_t o = 0; o < out; ++o) {
      double sum = 0;
      for (int64_t t = 0; t < rw.taps; ++t) {
        sum += rw.weights[static_cast<size_t>(o * rw.taps + t)];
        const int64_t ix = rw.indices[static_cast<size_t>(o * rw.taps + t)];
        EXPECT_GE(ix, 0);
        EXPECT_LT(ix, in);
      }
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
  }
  // x1/4 antialiased cubic: width 16, P = 18 taps of which the two outermost are always zero.
  EXPECT_EQ(resize_contributions(512, 128, 0.25, ResizeKernel::kCubic, true).taps, 16);
}

TEST(Imresize, SizeOverloadAndSeparability) {
  torch::manual_seed(5);
  const auto x = torch::rand({3, 20, 30}, torch::kFloat64);
  const auto y = imresize(x, 7, 45);  // height down (0.35), width up (1.5)
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{3, 7, 45}));
  // Same as resizing one dimension at a time (the other one at scale 1 is an identity).
  const auto two_step = imresize(imresize(x, 7, 30), 7, 45);
  EXPECT_LT((y - two_step).abs().max().item<double>(), 1e-12);
  // Batched input gives the per-image results.
  const auto batch = torch::stack({x, x.flip({2})});
  const auto yb = imresize(batch, 7, 45);
  EXPECT_LT((yb[0] - y).abs().max().item<double>(), 1e-12);
  EXPECT_LT((yb[1] - imresize(x.flip({2}), 7, 45)).abs().max().item<double>(), 1e-12);
  // Scale 1 is an exact copy (not an alias).
  const auto same = imresize(x, 1.0);
  EXPECT_TRUE(torch::equal(same, x));
  EXPECT_NE(same.data_ptr(), x.data_ptr());
}

TEST(Imresize, NonContiguousInputAndFloatMatchesDouble) {
  torch::manual_seed(6);
  const auto x = torch::rand({3, 40, 50}, torch::kFloat64);
  const auto t = x.transpose(1, 2);  // non-contiguous (3, 50, 40)
  const auto a = imresize(t, 0.25);
  const auto b = imresize(t.contiguous(), 0.25);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-12);
  const auto f = imresize(x.to(torch::kFloat32), 0.37);
  EXPECT_LT((f.to(torch::kFloat64) - imresize(x, 0.37)).abs().max().item<double>(), 2e-6);
}

TEST(Imresize, BadInputThrows) {
  EXPECT_THROW(imresize(torch::rand({4, 4}), 2.0), srlab::Error);
  EXPECT_THROW(imresize(torch::ones({1, 4, 4}, torch::kUInt8), 2.0), srlab::Error);
  EXPECT_THROW(imresize(torch::rand({1, 4, 4}), 0.0), srlab::Error);
  EXPECT_THROW(imresize(torch::rand({1, 4, 4}), std::nan("")), srlab::Error);
  EXPECT_THROW(imresize(torch::rand({1, 4, 4}), int64_t{0}, int64_t{3}), srlab::Error);
  EXPECT_THROW(imresize(torch::Tensor(), 2.0), srlab::Error);
  EXPECT_THROW(imresize(torch::rand({1, 0, 4}), 2.0), srlab::Error);
  EXPECT_EQ(parse_resize_kernel("Bicubic"), ResizeKernel::kCubic);
  EXPECT_EQ(parse_resize_kernel("triangle"), ResizeKernel::kLinear);
  EXPECT_THROW(parse_resize_kernel("nearest"), srlab::Error);
}

// Acceptance: regenerating the MATLAB-made LR files of Set5/Set14 from their HR files.
// Known data artifact: in Set14 img_008 (x3, x4) the first LR row and column of the provided files are
// ~6 grey levels off what the HR file gives (the HR has a dark frame there); the rest of that image
// matches at ~58 dB. With plain float imresize this one image lands at 49.7 dB (x4); it is held to
// 49.5 dB in the full image and, like every image, to 55 dB once the 1-pixel LR border is excluded.
TEST(Imresize, RegeneratesMatlabBenchmarkLR) {
  const fs::path root = srlab::core::shared_data_dir() / "benchmarks";
  const auto inner = [](const torch::Tensor& t) { return t.slice(1, 1, -1).slice(2, 1, -1); };
  for (const char* set : {"Set5", "Set14"}) {
    for (int s : {2, 3, 4}) {
      const fs::path dir = root / set / ("x" + std::to_string(s));
      double min_f = 1e9, sum_f = 0, min_i = 1e9, sum_i = 0;
      int n = 0;
      for (const auto& hr_file : list_images(dir / "HR")) {
        const auto hr = read_image(hr_file).pixels;
        const auto lr = read_image(dir / "LR" / hr_file.filename()).pixels;
        const auto plain = quantize(imresize(hr, 1.0 / s));
        const auto integer = imresize_integer(hr, 1.0 / s);
        ASSERT_EQ(plain.sizes(), lr.sizes()) << hr_file;
        ASSERT_EQ(integer.sizes(), lr.sizes()) << hr_file;
        const double pf = psnr01(plain, lr), pi = psnr01(integer, lr);
        const bool artifact = std::string(set) == "Set14" && hr_file.stem() == "img_008";
        EXPECT_GE(pf, artifact ? 49.5 : 50.0) << hr_file;
        EXPECT_GE(psnr01(inner(plain), inner(lr)), 55.0) << hr_file;
        EXPECT_GE(pi, 50.0) << hr_file;
        min_f = std::min(min_f, pf);
        min_i = std::min(min_i, pi);
        sum_f += pf;
        sum_i += pi;
        ++n;
      }
      EXPECT_GE(sum_f / n, 55.0) << set << " x" << s;
      EXPECT_GE(sum_i / n, 62.0) << set << " x" << s;
      std::cout << "[ imresize ] " << set << " x" << s << " vs MATLAB LR (" << n << " images): imresize+quantize min "
                << min_f << " / mean " << sum_f / n << " dB; imresize_integer min " << min_i << " / mean " << sum_i / n
                << " dB\n";
    }
  }
}

TEST(Imresize, IntegerVariantRoundsEveryPass) {
  torch::manual_seed(13);
  const auto x = quantize(torch::rand({3, 12, 16}));
  const auto y = imresize_integer(x, 0.5);
  EXPECT_EQ(y.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(y, quantize(y)));  // on the 8-bit grid
  // Equals a float resize of one dimension, rounding, then the other dimension, rounding.
  const auto xd = x.to(torch::kFloat64);
  const auto two = quantize(imresize(quantize(imresize(xd, 6, 16)), 6, 8));
  EXPECT_LT((y.to(torch::kFloat64) - two).abs().max().item<double>(), 1e-7);
  // Rounding the intermediate result moves the output by at most a couple of levels.
  EXPECT_LE((y - quantize(imresize(x, 0.5))).abs().max().item<float>(), 2.0f / 255.0f + 1e-6f);
  const auto y16 = imresize_integer(x, 0.5, 16);
  EXPECT_TRUE(torch::equal(y16, quantize(y16, 16)));
  EXPECT_THROW(imresize_integer(x, 0.5, 12), srlab::Error);
}

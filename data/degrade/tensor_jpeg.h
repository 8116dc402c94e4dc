#pragma once
// JPEG compression on tensor batches, emulating OpenCV's libjpeg(-turbo) round trip (jpeg_roundtrip() in
// degrade_ops.h) step by step, in the manner of Real-ESRGAN's DiffJPEG (xinntao/Real-ESRGAN via BasicSR,
// basicsr/utils/diffjpeg.py): JFIF RGB -> YCbCr with libjpeg's 16-bit fixed-point coefficients (jccolor.c),
// 4:2:0 chroma subsampling by 2x2 averaging with libjpeg's alternating 1,2 rounding bias (jcsample.c),
// edge replication to whole 8x8 blocks as libjpeg pads, the 8x8 DCT-II (ITU-T T.81 A.3.3) in float,
// quantisation by the standard tables of T.81 Annex K scaled by quality as jpeg_set_quality() does
// (jcparam.c), rounding half away from zero (jcdctmgr.c), dequantisation, inverse DCT rounded and
// clamped to 0..255, "fancy" triangular chroma upsampling (jdsample.c h2v2_fancy_upsample) and the
// fixed-point YCbCr -> RGB conversion (jdcolor.c). The only approximation is the float DCT in place
// of libjpeg's integer ISLOW one. Not differentiable (every rounding is hard).
#include <torch/torch.h>

#include <array>
#include <vector>

namespace srlab::data {

/// libjpeg's quantisation table for `quality` (1..100, force_baseline: entries clamped to 1..255), in
/// natural row-major 8x8 order; `chroma` selects the chrominance table. Throws srlab::Error for a
/// quality outside 1..100.
std::array<int, 64> jpeg_quant_table(int quality, bool chroma);

/// JPEG round trip of x (N,C,H,W), C = 1 (grayscale JPEG) or 3 (RGB, 4:2:0), values in [0,1] (clipped
/// and rounded to 8 bits first, as jpeg_roundtrip()), with qualities[n] (1..100) for sample n. Any
/// device and floating dtype; returns the decoded image (N,C,H,W) on the 8-bit grid in [0,1], same
/// dtype and device. Throws srlab::Error for bad shapes, a qualities size != N or a quality outside 1..100.
torch::Tensor jpeg_batch(const torch::Tensor& x, const std::vector<int>& qualities);

}  // namespace srlab::data

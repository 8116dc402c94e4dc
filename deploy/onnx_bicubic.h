#pragma once
// Bicubic upsampling by an integer factor written with the ONNX operators every runtime supports
// (Slice, Concat, grouped Conv, DepthToSpace) instead of Resize(mode=cubic), which OpenCV DNN 4.6
// cannot import. The result equals torch::nn::functional::interpolate(x, size = s*(H,W), bicubic,
// align_corners = false) — Keys' cubic convolution with a = -0.75 (Keys, "Cubic convolution
// interpolation for digital image processing", IEEE TASSP 1981, Eq. 15; PyTorch's coefficient) on
// half-pixel centres, border pixels replicated — up to float rounding (~1e-7).
//
// Derivation: output pixel o = s*i + k (phase k = 0..s-1) samples the input at src = i + (k+0.5)/s - 0.5,
// i.e. at offset d_k = (k+0.5)/s - 0.5 from pixel i, |d_k| < 1/2. Its four taps lie at i + floor(d_k) - 1
// .. i + floor(d_k) + 2, all inside the window i-2..i+2. So each phase is a fixed 5x5 separable filter of
// the input padded by 2 replicated pixels; the s*s phase filters per channel form one grouped Conv with
// C*s*s outputs, and DepthToSpace (CRD) interleaves the phases into the (s*H, s*W) grid.
#include <torch/torch.h>

#include <string>

#include "deploy/onnx_graph.h"

namespace srlab::models {

/// The phase filters of bicubic x`scale` upsampling (see the file comment).
/// @return float32 (channels*scale*scale, 1, 5, 5): filter c*s*s + ky*s + kx produces output pixels
///         (s*i + ky, s*j + kx) of channel c from the 5x5 neighbourhood of input pixel (i, j).
/// @throws srlab::Error for scale < 1 or channels < 1.
torch::Tensor bicubic_phase_filters(int64_t scale, int64_t channels = 3);

/// Emits bicubic upsampling of the (N,3,H,W) value `x` by `scale` (see the file comment) and returns
/// the (N,3,s*H,s*W) value. Node names start with `hint`.
std::string export_bicubic_upsample(OnnxGraph& graph, const std::string& x, int64_t scale,
                                    const std::string& hint = "bicubic");

}  // namespace srlab::models

#include "eval/sharpen.h"

#include <fmt/format.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/error.h"

namespace srlab::eval {

torch::Tensor unsharp_mask(const torch::Tensor& img, const UnsharpOptions& opts) {
  if (!img.defined()) throw Error("unsharp_mask: the input is an undefined tensor");
  if (img.dim() != 3 && img.dim() != 4) {
    std::ostringstream s;
    s << img.sizes();
    throw Error("unsharp_mask: input has shape " + s.str() + "; expected (C,H,W) or (N,C,H,W)");
  }
  if (!img.is_floating_point())
    throw Error("unsharp_mask: input must be a float tensor with values in [0,1] (divide 8-bit data by 255)");
  if (img.numel() == 0) throw Error("unsharp_mask: input image is empty");
  if (!(opts.amount >= 0.0) || !std::isfinite(opts.amount))
    throw Error(fmt::format("unsharp_mask: amount is {}; it must be a finite value >= 0 (0 = no sharpening)",
                            opts.amount));
  if (!(opts.sigma > 0.0) || !std::isfinite(opts.sigma))
    throw Error(fmt::format("unsharp_mask: sigma is {}; it must be a finite blur radius > 0 (pixels)", opts.sigma));
  if (!(opts.threshold >= 0.0) || !std::isfinite(opts.threshold))
    throw Error(fmt::format("unsharp_mask: threshold is {}; it must be >= 0 (intensity, [0,1] scale)",
                            opts.threshold));

  const torch::Device device = img.device();
  const torch::Tensor x = img.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t h = x.size(-2), w = x.size(-1);
  const int64_t planes = x.numel() / (h * w);
  torch::Tensor out = torch::empty_like(x);
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const float amount = static_cast<float>(opts.amount), threshold = static_cast<float>(opts.threshold);
  cv::Mat blur;
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = src + p * h * w;
    float* o = dst + p * h * w;
    const cv::Mat plane(static_cast<int>(h), static_cast<int>(w), CV_32F, const_cast<float*>(in));
    cv::GaussianBlur(plane, blur, cv::Size(0, 0), opts.sigma, opts.sigma, cv::BORDER_REFLECT_101);
    const float* bl = blur.ptr<float>();  // continuous: freshly allocated h x w
    // Fused combine (one pass instead of several whole-tensor temporaries).
    for (int64_t k = 0; k < h * w; ++k) {
      const float detail = in[k] - bl[k];
      float v = std::abs(detail) < threshold ? in[k] : in[k] + amount * detail;
      o[k] = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
    }
  }
  return out.to(device);
}

}  // namespace srlab::eval

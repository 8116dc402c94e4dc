// Tiled, multi-pass image upscaling (see upscale.h).
#include "deploy/upscale.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/shape.h"
#include "data/image/imresize.h"

namespace srlab::eval {

namespace {

struct AxisWindow {
  int64_t start, size, core0, core1;
};

std::vector<AxisWindow> axis_windows(int64_t length, int64_t tile, int64_t pad) {
  if (tile <= 0 || tile >= length) return {{0, length, 0, length}};
  const int64_t window = std::min(length, tile + 2 * pad);
  std::vector<AxisWindow> out;
  for (int64_t c0 = 0; c0 < length; c0 += tile) {
    const int64_t c1 = std::min(c0 + tile, length);
    out.push_back({std::clamp(c0 - pad, int64_t{0}, length - window), window, c0, c1});
  }
  return out;
}

}  // namespace

UpscaleModel libtorch_model(models::Generator generator, torch::Device device) {
  if (!generator) throw Error("libtorch_model: no generator");
  generator->eval();
  generator->to(device);
  UpscaleModel m;
  m.scale = generator->scale();
  m.runtime = "LibTorch (" + device.str() + ")";
  m.forward = [generator, device](const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    return generator->forward(x.to(device, torch::kFloat32)).to(torch::kCPU);
  };
  return m;
}

UpscaleModel opencv_model(std::shared_ptr<models::OpenCvOnnxModel> model, int scale) {
  if (!model) throw Error("opencv_model: no model");
  UpscaleModel m;
  m.scale = scale;
  m.runtime = std::string("OpenCV DNN ") + CV_VERSION;
  m.forward = [model](const torch::Tensor& x) { return model->forward(x); };
  return m;
}

UpscaleModel ort_model(std::shared_ptr<const models::OrtInProcessModel> model, int scale) {
  if (!model) throw Error("ort_model: no model");
  UpscaleModel m;
  m.scale = scale;
  m.runtime = "ONNX Runtime (in-process)";
  m.forward = [model](const torch::Tensor& x) { return model->forward(x); };
  return m;
}

std::vector<TileWindow> tile_windows(int64_t height, int64_t width, const TileOptions& o) {
  if (height < 1 || width < 1)
    throw Error("tile_windows: image size must be >= 1x1, got " + std::to_string(height) + "x" + std::to_string(width));
  if (o.tile < 0 || o.pad < 0)
    throw Error("tile size and tile pad must be >= 0, got tile " + std::to_string(o.tile) + ", pad " +
                std::to_string(o.pad));
  std::vector<TileWindow> out;
  for (const AxisWindow& r : axis_windows(height, o.tile, o.pad))
    for (const AxisWindow& c : axis_windows(width, o.tile, o.pad))
      out.push_back({r.start, c.start, r.size, c.size, r.core0, r.core1, c.core0, c.core1});
  return out;
}

torch::Tensor upscale_tiled(const UpscaleModel& model, const torch::Tensor& lr, const TileOptions& options,
                            const std::function<void(int64_t, int64_t)>& progress) {
  if (!lr.defined() || lr.dim() != 4 || lr.size(0) != 1 || lr.size(1) != 3)
    throw Error("upscale_tiled: expected a (1,3,H,W) image, got " + (lr.defined() ? core::shape_text(lr.sizes()) : "none"));
  const int64_t s = model.scale, H = lr.size(2), W = lr.size(3);
  const std::vector<TileWindow> windows = tile_windows(H, W, options);
  const torch::Tensor in = lr.to(torch::kCPU, torch::kFloat32);
  torch::Tensor out = torch::empty({1, 3, H * s, W * s}, torch::kFloat32);
  for (size_t i = 0; i < windows.size(); ++i) {
    const TileWindow& t = windows[i];
    const torch::Tensor window = in.slice(2, t.y, t.y + t.h).slice(3, t.x, t.x + t.w).contiguous();
    const torch::Tensor y = model.forward(window);
    if (!y.defined() || y.dim() != 4 || y.size(0) != 1 || y.size(1) != 3 || y.size(2) != t.h * s || y.size(3) != t.w * s)
      throw Error("the model (" + model.runtime + ", x" + std::to_string(s) + ") returned " +
                  (y.defined() ? core::shape_text(y.sizes()) : std::string("nothing")) + " for a " + core::shape_text(window.sizes()) +
                  " window; expected [1, 3, " + std::to_string(t.h * s) + ", " + std::to_string(t.w * s) + "]");
    out.slice(2, t.core_y0 * s, t.core_y1 * s)
        .slice(3, t.core_x0 * s, t.core_x1 * s)
        .copy_(y.slice(2, (t.core_y0 - t.y) * s, (t.core_y1 - t.y) * s)
                   .slice(3, (t.core_x0 - t.x) * s, (t.core_x1 - t.x) * s));
    if (progress) progress(static_cast<int64_t>(i) + 1, static_cast<int64_t>(windows.size()));
  }
  return out.clamp_(0.0, 1.0);
}

int upscale_passes(double outscale, int scale) {
  if (!std::isfinite(outscale) || outscale <= 0)
    throw Error("--outscale must be a positive number, got " + std::to_string(outscale));
  if (scale < 2) return 1;
  const double k = std::floor(std::log(outscale) / std::log(static_cast<double>(scale)) + 0.5 + 1e-9);
  return std::max(1, static_cast<int>(k));
}

UpscaleResult upscale_image(const data::Image& image, const UpscaleModel& model, const UpscaleOptions& o) {
  const torch::Tensor& px = image.pixels;
  if (!px.defined() || px.dim() != 3 || (px.size(0) != 1 && px.size(0) != 3))
    throw Error("upscale_image: '" + image.path + "' must be a (C,H,W) image with 1 or 3 channels");
  const int64_t H = px.size(1), W = px.size(2);
  const double outscale = o.outscale > 0 ? o.outscale : model.scale;
  const int passes = upscale_passes(outscale, model.scale);
  const int64_t out_h = std::max<int64_t>(1, std::llround(H * outscale));
  const int64_t out_w = std::max<int64_t>(1, std::llround(W * outscale));

  const bool gray = px.size(0) == 1;
  torch::Tensor x = (gray ? px.expand({3, H, W}) : px).unsqueeze(0).to(torch::kFloat32);
  int64_t total = 0;  // windows over all passes, for progress
  for (int64_t p = 0, h = H, w = W; p < passes; ++p, h *= model.scale, w *= model.scale)
    total += static_cast<int64_t>(tile_windows(h, w, o.tiles).size());
  int64_t done_before = 0;
  for (int p = 0; p < passes; ++p) {
    int64_t windows = 0;
    x = upscale_tiled(model, x, o.tiles, [&](int64_t done, int64_t n) {
      windows = n;
      if (o.progress) o.progress(done_before + done, total);
    });
    done_before += windows;
  }
  torch::Tensor y = x.squeeze(0);
  if (gray) y = y.mean(0, /*keepdim=*/true);
  UpscaleResult r;
  r.passes = passes;
  if (y.size(1) != out_h || y.size(2) != out_w) {
    r.final_resize_h = static_cast<double>(out_h) / y.size(1);
    r.final_resize_w = static_cast<double>(out_w) / y.size(2);
    y = data::imresize(y, out_h, out_w).clamp_(0.0, 1.0);
  }
  if (o.sharpen) y = unsharp_mask(y, *o.sharpen);
  r.pixels = y;
  if (image.alpha.defined()) r.alpha = data::imresize(image.alpha.to(torch::kFloat32), out_h, out_w).clamp_(0.0, 1.0);
  return r;
}

}  // namespace srlab::eval

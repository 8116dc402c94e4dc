#include "data/degrade/degrade_preview.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/image/image_io.h"

namespace srlab::data {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.4;
constexpr int kLine = 14, kPad = 6;

cv::Mat to_bgr8(const torch::Tensor& chw) {
  cv::Mat m = tensor_to_mat(to_rgb(chw), 8);  // BGR uint8
  return m;
}

}  // namespace

cv::Mat render_degradation_grid(const torch::Tensor& hr, const std::vector<DegradedSample>& samples) {
  if (!hr.defined() || hr.dim() != 3) throw Error("render_degradation_grid: expected an HR image (C,H,W)");
  const int H = static_cast<int>(hr.size(1)), W = static_cast<int>(hr.size(2));
  std::vector<cv::Mat> tiles{to_bgr8(hr)};
  std::vector<std::vector<std::string>> captions{{"HR input " + std::to_string(W) + "x" + std::to_string(H)}};
  for (const auto& s : samples) {
    if (!s.lr.defined() || s.lr.dim() != 3) throw Error("render_degradation_grid: a sample has no LR image");
    cv::Mat lr = to_bgr8(s.lr), up;
    cv::resize(lr, up, cv::Size(W, H), 0, 0, cv::INTER_NEAREST);
    tiles.push_back(up);
    std::vector<std::string> lines{"#" + std::to_string(s.params.value("index", 0)) + "  LR " +
                                   std::to_string(lr.cols) + "x" + std::to_string(lr.rows)};
    for (const auto& r : s.params.value("steps", nlohmann::json::array())) lines.push_back(describe_step(r));
    captions.push_back(lines);
  }
  size_t max_lines = 1;
  int text_w = 0;  // widest caption line: cells grow to fit it
  for (const auto& c : captions) {
    max_lines = std::max(max_lines, c.size());
    for (const auto& line : c) text_w = std::max(text_w, cv::getTextSize(line, kFont, kFontScale, 1, nullptr).width);
  }
  const int n = static_cast<int>(tiles.size());
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int rows = (n + cols - 1) / cols;
  const int cell_w = std::max(W, text_w) + kPad, cell_h = H + kPad + static_cast<int>(max_lines) * kLine + kPad;
  cv::Mat grid(rows * cell_h + kPad, cols * cell_w + kPad, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int i = 0; i < n; ++i) {
    const int x = kPad + (i % cols) * cell_w, y = kPad + (i / cols) * cell_h;
    tiles[static_cast<size_t>(i)].copyTo(grid(cv::Rect(x, y, W, H)));
    int ty = y + H + kLine;
    for (const auto& line : captions[static_cast<size_t>(i)]) {
      cv::putText(grid, line, cv::Point(x, ty), kFont, kFontScale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      ty += kLine;
    }
  }
  return grid;
}

}  // namespace srlab::data

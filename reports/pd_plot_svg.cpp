#include "reports/pd_plot_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace srlab::reports {
namespace {

constexpr double kCharW = 6.6, kLabelH = 13, kMarkerR = 4;
constexpr double kLeft = 64, kRight = 16, kTop = 16, kBottom = 48;  // plot-area margins

struct Axis {
  double lo, hi;
  std::vector<double> ticks;
};

// Range padded by 8 % with about 5 ticks at 1/2/5 x 10^k steps.
Axis make_axis(double lo, double hi) {
  if (!(hi > lo)) lo -= 1, hi += 1;
  const double pad = 0.08 * (hi - lo);
  Axis a{lo - pad, hi + pad, {}};
  const double raw = (a.hi - a.lo) / 5, p = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + 1e-12 * step; t += step)
    a.ticks.push_back(std::abs(t) < 1e-12 * step ? 0.0 : t);
  return a;
}

std::string tick_text(double v, double step) {
  const int dec = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", v, dec);
}

}  // namespace

bool overlaps(const Box& a, const Box& b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

SvgPlot pd_plot_svg(const std::vector<PlotPoint>& points, const std::string& x_label, const std::string& y_label,
                    int width, int height) {
  width = std::max(width, 200);
  height = std::max(height, 150);
  SvgPlot out;
  out.label_boxes.resize(points.size());
  out.marker_boxes.resize(points.size());
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const PlotPoint& p : points)
    if (std::isfinite(p.x) && std::isfinite(p.y))
      xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x), ylo = std::min(ylo, p.y), yhi = std::max(yhi, p.y);
  if (!std::isfinite(xlo)) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  const Axis ax = make_axis(xlo, xhi), ay = make_axis(ylo, yhi);
  const Box area{kLeft, kTop, width - kLeft - kRight, height - kTop - kBottom};
  auto px = [&](double v) { return area.x + (v - ax.lo) / (ax.hi - ax.lo) * area.w; };
  auto py = [&](double v) { return area.y + area.h - (v - ay.lo) / (ay.hi - ay.lo) * area.h; };

  std::vector<bool> ok(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    ok[i] = std::isfinite(points[i].x) && std::isfinite(points[i].y);
    if (ok[i]) out.marker_boxes[i] = {px(points[i].x) - kMarkerR, py(points[i].y) - kMarkerR, 2 * kMarkerR, 2 * kMarkerR};
  }
  // Greedy label placement: 8 directions x growing distances, first free spot inside the plot area.
  std::vector<Box> placed;
  static const double kDir[8][2] = {{1, 0}, {-1, 0}, {0, -1}, {0, 1}, {1, -1}, {-1, -1}, {1, 1}, {-1, 1}};
  for (size_t i = 0; i < points.size(); ++i) {
    if (!ok[i]) continue;
    const double cx = px(points[i].x), cy = py(points[i].y);
    const double w = kCharW * points[i].label.size() + 4, h = kLabelH;
    bool done = false;
    for (double d = 6; d <= 60 && !done; d += 6)
      for (const auto& dir : kDir) {
        // The box touches the point's side in direction `dir`, at distance d from the centre.
        const double bx = dir[0] > 0 ? cx + d : dir[0] < 0 ? cx - d - w : cx - w / 2;
        const double by = dir[1] > 0 ? cy + d : dir[1] < 0 ? cy - d - h : cy - h / 2;
        const Box b{bx, by, w, h};
        if (b.x < area.x || b.y < area.y || b.x + b.w > area.x + area.w || b.y + b.h > area.y + area.h) continue;
        bool clash = std::any_of(placed.begin(), placed.end(), [&](const Box& o) { return overlaps(b, o); });
        for (size_t j = 0; j < points.size() && !clash; ++j) clash = ok[j] && overlaps(b, out.marker_boxes[j]);
        if (clash) continue;
        placed.push_back(b);
        out.label_boxes[i] = b;
        done = true;
        break;
      }
    if (!done) out.legend.push_back(points[i].label);
  }

  const int legend_h = out.legend.empty() ? 0 : 18 * static_cast<int>(out.legend.size()) + 8;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"pd-plot\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"monospace\" font-size=\"11\">\n<rect x=\"{2}\" y=\"{3}\" width=\"{4}\" height=\"{5}\" fill=\"#fff\" "
      "stroke=\"#888\"/>\n",
      width, height + legend_h, area.x, area.y, area.w, area.h);
  const double xs = ax.ticks.size() > 1 ? ax.ticks[1] - ax.ticks[0] : 1, ys = ay.ticks.size() > 1 ? ay.ticks[1] - ay.ticks[0] : 1;
  for (double t : ax.ticks)
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{0:.1f}\" y=\"{3}\" "
                     "text-anchor=\"middle\">{4}</text>\n",
                     px(t), area.y, area.y + area.h, area.y + area.h + 14, tick_text(t, xs));
  for (double t : ay.ticks)
    s += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#eee\"/><text x=\"{3}\" y=\"{4:.1f}\" "
                     "text-anchor=\"end\">{5}</text>\n",
                     area.x, py(t), area.x + area.w, area.x - 4, py(t) + 4, tick_text(t, ys));
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", area.x + area.w / 2, area.y + area.h + 34,
                   xml_escape(x_label));
  s += fmt::format("<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                   area.y + area.h / 2, xml_escape(y_label));
  std::string path;
  for (size_t i = 0; i < points.size(); ++i)
    if (ok[i] && points[i].on_path) path += fmt::format("{:.1f},{:.1f} ", px(points[i].x), py(points[i].y));
  if (!path.empty()) s += "<polyline class=\"pd-path\" fill=\"none\" stroke=\"#4a7\" points=\"" + path + "\"/>\n";
  for (size_t i = 0; i < points.size(); ++i) {
    if (!ok[i]) continue;
    const PlotPoint& p = points[i];
    const std::string tip = xml_escape(p.tooltip.empty() ? p.label : p.tooltip);
    s += fmt::format("<g class=\"pd-point\" data-method=\"{}\"><title>{}</title><circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" "
                     "fill=\"{}\"/>",
                     xml_escape(p.label), tip, px(p.x), py(p.y), kMarkerR, p.on_path ? "#2a6" : "#36c");
    const Box& b = out.label_boxes[i];
    if (b.w > 0)
      s += fmt::format("<text class=\"pd-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", b.x + 2, b.y + kLabelH - 3,
                       xml_escape(p.label));
    s += "</g>\n";
  }
  for (size_t k = 0; k < out.legend.size(); ++k)
    s += fmt::format("<text class=\"pd-legend\" x=\"{}\" y=\"{}\">not labelled above (hover the points): {}</text>\n",
                     area.x, height + 14 + 18 * k, xml_escape(out.legend[k]));
  s += "</svg>\n";
  out.svg = s;
  return out;
}

}  // namespace srlab::reports

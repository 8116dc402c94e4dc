#pragma once
// The perception-distortion plot (Blau & Michaeli, "The Perception-Distortion Tradeoff", CVPR 2018,
// Fig. 1: a distortion measure against a perceptual-quality measure) as inline SVG for report.html:
// one point per method with a hover tooltip (SVG <title>) and a text label placed so that no two
// labels overlap each other or another method's marker; the crisp -> interp -> creative path is drawn
// as a polyline.
#include <string>
#include <vector>

namespace srlab::reports {

/// One method in the plot.
struct PlotPoint {
  std::string label;     ///< method name, drawn next to the point
  double x = 0, y = 0;   ///< data coordinates (e.g. x = LPIPS, lower is better; y = PSNR in dB)
  bool on_path = false;  ///< part of the crisp -> creative path (joined in the given order)
  std::string tooltip;   ///< hover text (e.g. "crisp: LPIPS 0.21, PSNR 28.1 dB"); empty = label
};

/// An axis-aligned rectangle in SVG pixels (top-left corner, size).
struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

/// True when the two boxes share interior area (touching edges do not count).
bool overlaps(const Box& a, const Box& b);

/// The rendered plot and where its labels went (for tests).
struct SvgPlot {
  std::string svg;                  ///< a complete <svg> element (width x height px, viewBox to match)
  std::vector<Box> label_boxes;     ///< per point (input order): its label's box; w = 0 when the label went to the legend
  std::vector<Box> marker_boxes;    ///< per point: the marker's bounding box (radius 4 px)
  std::vector<std::string> legend;  ///< labels that found no free spot next to their point, listed under the plot
};

/// Draws the plot: linear axes over the data range padded by 8 % (a flat range is widened by +-1),
/// about 5 "nice" ticks (1, 2, 5 x 10^k) per axis, monospace 11-px labels (width estimated as 6.6 px per
/// character + 4 px), placed by trying 8 directions at distances 6..60 px around the point and taking the
/// first spot inside the plot area that overlaps no earlier label and no marker; labels with no such spot are
/// listed in a legend under the plot instead (its points keep their tooltip). Text is XML-escaped.
/// Non-finite points are left out (their box stays empty and they are not in the legend).
/// @param x_label, y_label  axis titles (e.g. "LPIPS ↓ (lower is better)", "Y-PSNR (dB) ↑").
/// @param width, height     SVG size in px (>= 200 x 150).
SvgPlot pd_plot_svg(const std::vector<PlotPoint>& points, const std::string& x_label, const std::string& y_label,
                    int width = 720, int height = 440);

/// `s` with &, <, >, " and ' written as XML entities.
std::string xml_escape(const std::string& s);

}  // namespace srlab::reports

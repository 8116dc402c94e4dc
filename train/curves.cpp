#include "train/curves.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"

namespace srlab::train {
namespace fs = std::filesystem;

std::string curves_script(const std::vector<std::string>& columns, const std::string& csv_name, const std::string& terminal) {
  auto col = [&](const std::string& name) -> int {
    const auto it = std::find(columns.begin(), columns.end(), name);
    return it == columns.end() ? 0 : static_cast<int>(it - columns.begin()) + 1;  // gnuplot columns are 1-based
  };
  const int it_col = col("iteration");
  if (it_col == 0) throw Error(fmt::format("training curves: {} has no 'iteration' column", csv_name));
  struct Panel {
    std::string title;
    std::vector<std::string> names;
    bool log_y;
  };
  std::vector<std::string> losses;
  for (const auto& c : columns)
    if (c == "loss" || c.rfind("loss_", 0) == 0) losses.push_back(c);
  const std::vector<Panel> all{{"loss (mean over the log window)", losses, true},
                               {"learning rate", {"lr", "d_lr"}, true},
                               {"validation Y-PSNR (dB)", {"val_psnr"}, false},
                               {"validation SSIM", {"val_ssim"}, false},
                               {"discriminator loss", {"d_loss"}, false},
                               {"discriminator logits (mean raw output)", {"d_real", "d_fake"}, false}};
  std::vector<std::string> plots;
  for (const Panel& p : all) {
    std::string cmds;
    for (const auto& n : p.names) {
      const int c = col(n);
      if (c == 0) continue;
      const bool val = n.rfind("val_", 0) == 0;
      cmds += fmt::format("{}'{}' using {}:{} with {} title '{}'", cmds.empty() ? "" : ", ", csv_name, it_col, c,
                          val ? "linespoints pt 7 ps 0.6" : "lines", n);
    }
    if (cmds.empty()) continue;
    plots.push_back(fmt::format("set title '{}'\n{}plot {}\n", p.title, p.log_y ? "set logscale y\n" : "unset logscale y\n", cmds));
  }
  const int h = 300 * static_cast<int>(plots.size());
  std::string s = fmt::format(
      "# Training curves of {csv} (SRLab). Reproduce: gnuplot curves.gp (writes curves.png)\n"
      "if (!exists(\"outfile\")) outfile = 'curves.png'\n"
      "set terminal {term} size 1200,{h}{font}\n"
      "set output outfile\n"
      "set datafile separator ','\n"
      "set key autotitle columnhead\n"
      "set grid\n"
      "set xlabel 'iteration'\n"
      "set multiplot layout {n},1\n",
      fmt::arg("csv", csv_name), fmt::arg("term", terminal), fmt::arg("h", h),
      fmt::arg("font", terminal == "pngcairo" ? " noenhanced font 'sans,10'" : " noenhanced"), fmt::arg("n", plots.size()));
  for (const auto& p : plots) s += p;
  return s + "unset multiplot\n";
}

void write_curves(const fs::path& run_dir, const eval::Gnuplot& gp) {
  const fs::path csv = run_dir / "metrics.csv";
  std::ifstream in(csv);
  std::string header;
  if (!in || !std::getline(in, header)) throw Error(fmt::format("training curves: cannot read the header of {}", csv.string()));
  std::vector<std::string> cols;
  std::stringstream ss(header);
  for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
  const fs::path script = run_dir / "curves.gp";
  core::write_file_atomic(script, curves_script(cols, "metrics.csv", gp.terminal));
  eval::run_gnuplot_script(gp, script, run_dir / "curves.png", "training curves");
}

}  // namespace srlab::train

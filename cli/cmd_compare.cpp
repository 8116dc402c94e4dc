// srlab compare --config FILE [--out DIR] [--set key=value ...] [--threads N]
#include <boost/program_options.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/runtime.h"
#include "reports/compare_report.h"
#include "reports/run_reports.h"
#include "train/run_dir.h"

namespace po = boost::program_options;

namespace srlab::cli {

int cmd_compare(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab compare --config FILE [--out DIR]\n\n"
      "Crisp vs creative report: scores bicubic, sharpened (bicubic + unsharp mask), the crisp and the\n"
      "creative checkpoints, network-interpolation blends (1 - a) crisp + a creative (Wang et al., CVPR 2019)\n"
      "for each of interpolation_alphas, creative_then_sharpen, sharpen_then_upscale and any extra checkpoints\n"
      "on every dataset of the config with Y-PSNR, SSIM (border crop = scale) and LPIPS. Writes to DIR\n"
      "(default experiments/runs/<name>): compare.md, compare.json, pd_plot_<dataset>.png (perception-distortion\n"
      "plot drawn by gnuplot; its .dat and .gp files are kept) and crops_<dataset>.png (captioned crop grid),\n"
      "plus compare.log, images/ (every SR, LR and HR image) and report.html (sortable tables, SVG plot,\n"
      "before/after sliders with zoom, crops, provenance; open it from file://). Needs gnuplot (package gnuplot-nox; $SRLAB_GNUPLOT overrides the binary).\n"
      "Example config: configs/gan/compare_x4.yaml.\n\noptions");
  std::string config, out;
  std::vector<std::string> overrides;
  int threads = 0;
  opts.add_options()("help,h", "show this help")
      ("config,c", po::value(&config), "compare config (YAML)")
      ("out,o", po::value(&out), "output folder (default experiments/runs/<name>)")
      ("set", po::value(&overrides)->composing(), "override a config key, e.g. --set crops.count=2 (repeatable)")
      ("threads", threads_option(&threads), "CPU threads (0 = all)");
  if (!parse_args(opts, args)) return 0;
  if (config.empty()) throw Error("--config FILE is required (e.g. --config configs/gan/compare_x4.yaml)");
  if (!out.empty()) core::require_path_kind(out, core::PathKind::kFolder, "compare output folder (--out)");
  const eval::CompareConfig cfg = eval::load_compare_config(config, overrides);
  core::configure_threads(threads);
  const std::filesystem::path dir = out.empty() ? std::filesystem::path("experiments") / "runs" / cfg.name : std::filesystem::path(out);
  core::create_output_folder(dir, "compare output folder (--out)");
  core::set_log_file(dir / "compare.log");
  eval::CompareReport rep;
  try {
    rep = reports::run_compare(cfg, dir);
  } catch (...) {
    core::set_log_file({});
    throw;
  }
  core::set_log_file({});
  std::string command = "srlab compare";
  for (const auto& a : args) command += " " + a;
  const std::filesystem::path html = reports::write_compare_html(cfg, rep, train::git_revision(), command);
  std::cout << eval::comparison_table_text(rep.results);
  std::cout << "wrote " << (dir / "compare.md").string() << ", " << (dir / "compare.json").string() << " and "
            << rep.files.size() - 2 << " plot/crop files in " << dir.string() << "; open " << html.string() << "\n";
  return 0;
}

}  // namespace srlab::cli

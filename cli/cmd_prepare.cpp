// srlab prepare --config FILE [--set key=value ...] [--threads N]
#include <boost/program_options.hpp>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/runtime.h"
#include "data/datasets/prepare.h"

namespace po = boost::program_options;

namespace srlab::cli {

int cmd_prepare(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab prepare --config FILE [--set key=value ...]\n\n"
      "Builds an HDF5 file of aligned LR/HR pairs (uint8) from folders of HR images: whole images or HR\n"
      "patches with a stride, LR made by the config's degradation pipeline (default: MATLAB bicubic), with\n"
      "per-sample metadata (source file, crop box, drawn degradation parameters) and the resolved config.\n"
      "Uses all cores; writes a temporary file renamed on success (Ctrl-C leaves nothing behind).\n"
      "Example config: configs/prepare/train_x4_first_order.yaml.\n\noptions");
  std::string config;
  std::vector<std::string> overrides;
  bool overwrite = false;
  opts.add_options()("help,h", "show this help")
      ("config,c", po::value(&config), "prepare YAML file")
      ("set", po::value(&overrides)->composing(), "override a config key, e.g. --set layout=images (repeatable)")
      ("overwrite", po::bool_switch(&overwrite), "replace an existing output file");
  if (!parse_args(opts, args)) return 0;
  if (config.empty()) throw Error("--config FILE is required (e.g. configs/prepare/train_x4_first_order.yaml)");
  core::Config cfg = core::Config::load_file(config);
  for (const auto& o : overrides) cfg.set_override(o);
  data::PrepareOptions options = data::PrepareOptions::from_config(cfg);
  options.existing = core::existing_policy(overwrite);
  core::configure_threads(options.threads);
  core::log("prepare: {} -> {} (x{}, {}, degradation '{}')", options.inputs.front().string(), options.output.string(),
            options.scale, options.layout, options.degradation.type());
  core::InterruptScope interrupt;
  auto last = std::chrono::steady_clock::now();
  const auto t0 = last;
  const data::PrepareStats s = data::prepare_pairs(options, [&](int64_t done, int64_t total, int64_t samples) {
    if (core::interrupted()) throw Error("interrupted (Ctrl-C); no dataset was written");
    const auto now = std::chrono::steady_clock::now();
    if (done == total || now - last > std::chrono::seconds(5)) {
      const double el = std::chrono::duration<double>(now - t0).count();
      core::log("prepare: {}/{} images, {} samples, {:.1f} images/s", done, total, samples, done / std::max(el, 1e-9));
      last = now;
    }
  });
  std::cout << fmt::format("wrote {}: {} samples from {} images ({} skipped: smaller than the patch) in {:.1f} s "
                           "({:.1f} images/s, {:.0f} samples/s)\n",
                           options.output.string(), s.samples, s.images, s.skipped, s.seconds,
                           (s.images + s.skipped) / s.seconds, s.samples / s.seconds);
  return 0;
}

}  // namespace srlab::cli

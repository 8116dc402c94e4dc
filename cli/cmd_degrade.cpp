// srlab degrade --config FILE --input IMG --out DIR [--n 16] [--scale 4] [--seed 0] [--crop 256]
#include <boost/program_options.hpp>
#include <opencv2/imgcodecs.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "data/degrade/degradation.h"
#include "data/degrade/degrade_preview.h"
#include "data/image/image_io.h"
#include "data/datasets/transforms.h"

namespace po = boost::program_options;

namespace srlab::cli {

int cmd_degrade(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab degrade --config FILE --input IMG --out DIR [--n 16] [--scale 4] [--seed 0] [--crop 256]\n\n"
      "Previews a degradation config: draws N degradations of one HR image (samples 0..N-1 of --seed, the\n"
      "same draws `srlab prepare` makes) and writes DIR/grid.png (HR and each LR enlarged to the HR size,\n"
      "captioned with the drawn parameters), DIR/lr_<i>.png and DIR/params.json. FILE is a YAML file with a\n"
      "`degradation:` mapping (e.g. configs/degradations/second_order.yaml).\n\noptions");
  std::string config, input, out;
  int n = 16, scale = 4, crop = 256, threads = 0;
  uint64_t seed = 0;
  opts.add_options()("help,h", "show this help")
      ("config,c", po::value(&config), "degradation YAML file")
      ("input,i", po::value(&input), "HR image")
      ("out,o", po::value(&out), "output folder")
      ("n", ranged(&n, "n", 1, 256)->default_value(n), "number of samples")
      ("scale,s", ranged(&scale, "scale", 1, 16)->default_value(scale), "SR factor (LR = HR / scale)")
      ("seed", po::value(&seed)->default_value(seed), "degradation seed")
      ("crop", ranged(&crop, "crop", 0)->default_value(crop), "HR centre crop side in pixels (0 = whole image)")
      ("threads", threads_option(&threads), "CPU threads (0 = all)");
  if (!parse_args(opts, args)) return 0;
  if (config.empty() || input.empty() || out.empty())
    throw Error("--config, --input and --out are required (see srlab degrade --help)");
  if (n < 1 || n > 256) throw Error("--n must be in 1..256, got " + std::to_string(n));
  if (scale < 1) throw Error("--scale must be >= 1");
  core::configure_threads(threads);
  const data::Degradation deg = data::Degradation::load_file(config);
  const std::filesystem::path in_path = core::expand_data_path(input);
  torch::Tensor hr = data::read_image(in_path).pixels;
  const int64_t in_h = hr.size(1), in_w = hr.size(2);
  if (crop > 0) {
    const int64_t side = std::min<int64_t>({crop, hr.size(1), hr.size(2)});
    const int64_t y = (hr.size(1) - side) / 2, x = (hr.size(2) - side) / 2;
    hr = hr.slice(1, y, y + side).slice(2, x, x + side);
  }
  if (hr.size(1) < scale || hr.size(2) < scale)
    throw Error(fmt::format("--input '{}' ({}x{} pixels{}) is smaller than the scale {}: it has no LR pixel; use a larger "
                            "image", in_path.string(), hr.size(2), hr.size(1),
                            hr.size(1) < in_h || hr.size(2) < in_w ? fmt::format(" after --crop {}", crop) : "", scale));
  hr = data::quantize(data::mod_crop(hr, scale).contiguous());
  std::vector<data::DegradedSample> samples;
  nlohmann::json params = nlohmann::json::array();
  const std::filesystem::path dir(out);
  for (int i = 0; i < n; ++i) {
    samples.push_back(deg.apply(hr, scale, seed, i));
    params.push_back(samples.back().params);
    data::write_image(dir / fmt::format("lr_{:03d}.png", i), samples.back().lr);
  }
  const cv::Mat grid = data::render_degradation_grid(hr, samples);
  std::vector<uchar> png;
  if (!cv::imencode(".png", grid, png)) throw Error("could not encode the preview grid as PNG");
  core::write_file_atomic(dir / "grid.png", std::string(png.begin(), png.end()));
  nlohmann::json doc{{"input", in_path.string()}, {"scale", scale}, {"config", deg.yaml()}, {"samples", params}};
  core::write_file_atomic(dir / "params.json", doc.dump(2) + "\n");
  std::cout << "wrote " << (dir / "grid.png").string() << " (" << n << " samples of '" << deg.type() << "')\n";
  return 0;
}

}  // namespace srlab::cli

// srlab interpolate --a CRISP.pt --b CREATIVE.pt --alpha 0.3 --out OUT.pt [--extrapolate]
#include <boost/program_options.hpp>

#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/weights/interpolate.h"

namespace po = boost::program_options;

namespace srlab::cli {

int cmd_interpolate(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab interpolate --a CRISP.pt --b CREATIVE.pt --alpha 0.3 --out OUT.pt [--extrapolate]\n\n"
      "Network interpolation (Wang et al., \"Deep Network Interpolation for Continuous Imagery Effect\n"
      "Transition\", CVPR 2019, Eq. 1): writes a checkpoint whose every parameter and floating buffer is\n"
      "(1 - alpha) * A + alpha * B, e.g. A = a PSNR-trained (crisp) model and B = its GAN fine-tune (creative).\n"
      "Each input contributes its EMA weights when it has them, else its raw weights (printed). Both must be\n"
      "the same architecture, model section and scale. The result (run id \"interp(A run,B run,alpha)\") is\n"
      "written atomically and can be used wherever a checkpoint is: srlab eval -m OUT.pt, srlab export, ...\n"
      "Negative alphas need the '=' form: --alpha=-0.2 --extrapolate.\n\noptions");
  std::string a, b, out;
  double alpha = 0.5;
  bool extrapolate = false, overwrite = false;
  opts.add_options()("help,h", "show this help")
      ("a", po::value(&a), "checkpoint A (alpha 0), e.g. the PSNR-oriented model")
      ("b", po::value(&b), "checkpoint B (alpha 1), e.g. the GAN-trained model")
      ("alpha", ranged(&alpha, "alpha", -10.0, 10.0)->default_value(alpha), "blend factor in [0,1]: 0 = A, 1 = B")
      ("out,o", po::value(&out), "checkpoint file to write (atomically)")
      ("extrapolate", po::bool_switch(&extrapolate), "allow alpha outside [0,1]")
      ("overwrite", po::bool_switch(&overwrite), "replace an existing --out file");
  if (!parse_args(opts, args)) return 0;
  if (a.empty() || b.empty()) throw Error("--a CKPT and --b CKPT are both required (two SRLab checkpoints)");
  if (out.empty()) throw Error("--out FILE is required (e.g. --out interp_0.3.pt)");
  core::remove_stale_temps(std::filesystem::path(out).has_parent_path() ? std::filesystem::path(out).parent_path() : ".");
  const models::InterpolationSummary s = models::write_interpolated_checkpoint(a, b, alpha, out, extrapolate,
                                                                                 core::existing_policy(overwrite));
  std::cout << fmt::format("A: {} ({} weights)\nB: {} ({} weights)\n", s.path_a.string(), s.ema_a ? "EMA" : "raw",
                           s.path_b.string(), s.ema_b ? "EMA" : "raw");
  std::cout << fmt::format("wrote {}: run_id {}, x{}, {} tensors = {:g} * A + {:g} * B\n", out, s.result.run_id,
                           s.result.scale, s.blended_tensors, 1.0 - alpha, alpha);
  return 0;
}

}  // namespace srlab::cli

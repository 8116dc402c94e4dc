// srlab bench-degrade [--type second_order] [--batch 32] [--size 256] [--scale 4] [--steps 10] [--warmup 2]
//                     [--device auto] [--threads 0] [--json]
//
// Throughput of the batched tensor degradation (data/degrade/tensor_pipeline.h degrade_batch: the
// parameter draws of every sample, then the planned ops on the whole HR batch on the device), in
// LR/HR pairs per second (issue 27; tests/benchmarks/bench_degradation.cpp BM_DegradeSecondOrderBatch16
// Arg 1 is the CPU benchmark of the same call).
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/bench_steps.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/runtime.h"
#include "data/degrade/tensor_pipeline.h"

namespace po = boost::program_options;

namespace srlab::cli {

int cmd_bench_degrade(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab bench-degrade [--type second_order] [--batch 32] [--size 256] [--scale 4] [--steps 10] [--warmup 2]\n"
      "                    [--device auto] [--threads 0] [--json]\n\n"
      "Times the batched tensor degradation of training (degradation_device: train): each step draws the\n"
      "parameters of --batch samples and degrades a random --size x --size HR batch on the device into its LR\n"
      "batch. Prints pairs/s (--json: one JSON line with type, device, batch, size, scale, steps, seconds,\n"
      "pairs_per_s, ms_per_step). On CUDA the device is synchronised before the clock is read.\n\noptions");
  std::string type = "second_order", device_spec = "auto";
  int batch = 32, size = 256, scale = 4, steps = 10, warmup = 2, threads = 0;
  bool json = false;
  opts.add_options()("help,h", "show this help")
      ("type", po::value(&type)->default_value(type), "degradation type (or a `degradation:` YAML mapping)")
      ("batch", ranged(&batch, "batch", 1, 65536)->default_value(batch), "HR images per step")
      ("size", ranged(&size, "size", 1, 16384)->default_value(size), "HR side in pixels (a multiple of --scale)")
      ("scale", ranged(&scale, "scale", 1, 16)->default_value(scale), "downscaling factor")
      ("steps", ranged(&steps, "steps", 1, 1000000)->default_value(steps), "timed steps")
      ("warmup", ranged(&warmup, "warmup", 0, 1000000)->default_value(warmup), "untimed steps before them")
      ("device", po::value(&device_spec)->default_value(device_spec), "cpu, cuda, cuda:N or auto")
      ("threads", threads_option(&threads), "CPU threads (0 = all cores)")
      ("json", po::bool_switch(&json), "print one JSON line instead of the text summary");
  if (!parse_args(opts, args)) return 0;
  if (size % scale != 0) throw Error(fmt::format("--size {} must be a multiple of --scale {}", size, scale));
  const torch::Device device = core::select_device(device_spec);
  const int n_threads = core::configure_threads(threads);
  const data::Degradation d = bench_degradation(type);

  torch::manual_seed(0);
  const torch::Tensor hr = torch::rand({batch, 3, size, size}, torch::TensorOptions().device(device));
  torch::NoGradGuard no_grad;
  const double seconds = time_steps(device, warmup, steps, [&](int k) {
    std::vector<int64_t> ids(batch);
    for (int j = 0; j < batch; ++j) ids[j] = static_cast<int64_t>(k) * batch + j;
    data::degrade_batch(d, hr, scale, 0, ids);
  });

  const double pairs_per_s = static_cast<double>(batch) * steps / seconds;
  const double ms_per_step = 1000.0 * seconds / steps;
  if (json) {
    nlohmann::json j = {{"framework", "srlab"}, {"type", type}, {"device", device.str()}, {"batch", batch},
                        {"size", size}, {"scale", scale}, {"warmup", warmup}, {"steps", steps},
                        {"threads", n_threads}, {"seconds", seconds}, {"pairs_per_s", pairs_per_s},
                        {"ms_per_step", ms_per_step}};
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << fmt::format("{} on {}, batch {} of {}x{} HR (x{}): {} steps in {:.3f} s = {:.2f} pairs/s ({:.2f} ms/step)\n",
                             type, device.str(), batch, size, size, scale, steps, seconds, pairs_per_s, ms_per_step);
  }
  return 0;
}

}  // namespace srlab::cli

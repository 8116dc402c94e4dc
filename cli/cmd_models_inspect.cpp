// srlab models inspect FILE [--model-option key=value ...]: what a weight file (SRLab checkpoint,
// .pth/.pt torch.save file, .safetensors) holds and which SRLab architecture it loads as.
#include <boost/program_options.hpp>

#include <iostream>

#include "cli/commands.h"
#include "models/weights/inspect.h"

namespace po = boost::program_options;

namespace srlab::cli {

int cmd_models_inspect(const std::vector<std::string>& args) {
  std::string file;
  std::vector<std::string> model_options;
  po::options_description opts(
      "srlab models inspect FILE\n\nPrints what a weight file holds: container (SRLab checkpoint, torch zip, torch "
      "legacy,\nsafetensors), wrapper key (params_ema, params, ...), EMA or raw weights, the detected\narchitecture, "
      "scale, hyperparameters, parameter count, tensor count and dtypes.\nExit code 1 when the architecture cannot be "
      "detected.\n\noptions");
  opts.add_options()("help,h", "show this help")("file", po::value(&file)->required(), "weight file")(
      "model-option", po::value(&model_options)->composing(),
      "override a detected hyperparameter, key=value (repeatable), e.g. --model-option res_scale=0.1");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  po::notify(vm);
  const models::WeightFileReport r = models::inspect_weight_file(file, {model_options});
  std::cout << "file: " << file << "\n";
  for (const auto& [k, v] : r.fields) std::cout << k << ": " << v << "\n";
  return r.detected ? 0 : 1;
}

}  // namespace srlab::cli

// srlab models: list registered generator architectures and degradation steps.
#include <boost/program_options.hpp>

#include <iostream>

#include "cli/commands.h"
#include "data/degrade/degrade_step.h"
#include "models/arch/registry.h"

namespace srlab::cli {

int cmd_models(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "inspect") return cmd_models_inspect({args.begin() + 1, args.end()});
  boost::program_options::options_description opts(
      "srlab models\n\nLists the generator architectures (YAML `model: {type: ...}` names) and the degradation\n"
      "steps/pipelines (YAML `degradation: {type: ...}` names).\n"
      "`srlab models inspect FILE` describes a weight file (see its --help).\n\noptions");
  opts.add_options()("help,h", "show this help");
  if (!parse_args(opts, args)) return 0;
  std::cout << "generators (model.type):\n";
  for (const auto& [name, summary] : models::generator_types()) std::cout << "  " << name << "\t" << summary << "\n";
  std::cout << "degradations (degradation.type):\n";
  for (const auto& [name, summary] : data::degradation_types()) std::cout << "  " << name << "\t" << summary << "\n";
  return 0;
}

}  // namespace srlab::cli

// srlab models: every registry's YAML `type:` names with their one-line summaries (parameters included):
// generators, discriminators, losses, degradations and ONNX exporters.
#include <boost/program_options.hpp>

#include <iostream>

#include "cli/commands.h"
#include "data/degrade/degrade_step.h"
#include "deploy/onnx_export.h"
#include "losses/registry.h"
#include "models/arch/registry.h"
#include "models/disc/discriminator_registry.h"

namespace srlab::cli {

namespace {

// `key` names the section in --names output (generator, loss, ...); `title` heads it otherwise.
void print_section(const std::string& key, const std::string& title,
                   const std::vector<std::pair<std::string, std::string>>& types, bool names_only) {
  if (names_only) {
    for (const auto& kv : types) std::cout << key << "\t" << kv.first << "\n";
    return;
  }
  std::cout << title << ":\n";
  for (const auto& [name, summary] : types) std::cout << "  " << name << "\t" << summary << "\n";
}

}  // namespace

int cmd_models(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "inspect") return cmd_models_inspect({args.begin() + 1, args.end()});
  boost::program_options::options_description opts(
      "srlab models\n\nLists every registered YAML `type:` name with its parameters: generators (`model:`),\n"
      "discriminators (`discriminator:`), loss terms (`losses:`), degradation steps/pipelines (`degradation:`)\n"
      "and ONNX exporters (`srlab export`, by generator type).\n"
      "`srlab models inspect FILE` describes a weight file (see its --help).\n\noptions");
  bool names = false;
  opts.add_options()("help,h", "show this help")(
      "names", boost::program_options::bool_switch(&names),
      "one 'registry<TAB>type' line per entry (registry: generator, discriminator, loss, degradation, exporter), for scripts (no summaries)");
  if (!parse_args(opts, args)) return 0;
  print_section("generator", "generators (model.type)", models::generator_types(), names);
  print_section("discriminator", "discriminators (discriminator.type)", models::discriminator_types(), names);
  print_section("loss", "losses (losses[].type)", losses::loss_types(), names);
  print_section("degradation", "degradations (degradation.type)", data::degradation_types(), names);
  print_section("exporter", "onnx exporters (srlab export, by model.type)", models::onnx_exporter_types(), names);
  return 0;
}

}  // namespace srlab::cli

// srlab models: list registered generator architectures.
#include <iostream>

#include "cli/commands.h"
#include "models/registry.h"

namespace srlab::cli {

int cmd_models(const std::vector<std::string>&) {
  for (const auto& [name, summary] : models::generator_types()) std::cout << "  " << name << "\t" << summary << "\n";
  return 0;
}

}  // namespace srlab::cli

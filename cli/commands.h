#pragma once
// `srlab` subcommands. Each takes the arguments after the subcommand name and returns an exit code;
// errors are thrown as srlab::Error (or boost::program_options errors) and printed by main().
#include <string>
#include <vector>

namespace srlab::cli {

int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_models(const std::vector<std::string>& args);

}  // namespace srlab::cli

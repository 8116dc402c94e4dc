#pragma once
// `srlab` subcommands. Each takes the arguments after the subcommand name and returns an exit code;
// errors are thrown as srlab::Error (or boost::program_options errors) and printed by main().
#include <string>
#include <vector>

namespace boost::program_options {
class options_description;
}

namespace srlab::models {
enum class ExportFormat;
struct GeneratorLoadOptions;
}

namespace srlab::cli {

/// Parses `args` into the variables bound in `opts` (which must define "help"). Prints the help and
/// returns false when --help was given; throws boost::program_options errors on bad arguments.
bool parse_args(const boost::program_options::options_description& opts, const std::vector<std::string>& args);

int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_models(const std::vector<std::string>& args);
int cmd_models_inspect(const std::vector<std::string>& args);  // srlab models inspect FILE
int cmd_degrade(const std::vector<std::string>& args);
int cmd_prepare(const std::vector<std::string>& args);
int cmd_export(const std::vector<std::string>& args);
int cmd_interpolate(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);
int cmd_upscale(const std::vector<std::string>& args);
int cmd_bench_runtimes(const std::vector<std::string>& args);
int cmd_bench_train(const std::vector<std::string>& args);    // cli/cmd_bench_train.cpp (issue 27)
int cmd_bench_degrade(const std::vector<std::string>& args);  // cli/cmd_bench_degrade.cpp (issue 27)

/// `srlab export --format pth|safetensors` (cli/export_weights.cpp): writes the generator of
/// `checkpoint` (an SRLab .pt, or a community .pth/.safetensors whose architecture is detected, with
/// `load_options` overrides) to `output` (EMA weights unless `raw_weights`), prints what was written and
/// returns 0. Throws srlab::Error naming the file for unreadable/undetectable input.
int export_weight_file(models::ExportFormat format, const std::string& checkpoint, const std::string& output,
                       bool raw_weights, const models::GeneratorLoadOptions& load_options);

}  // namespace srlab::cli

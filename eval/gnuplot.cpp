#include "eval/gnuplot.h"

#include <fmt/format.h>

#include <cstdlib>
#include <regex>

#include "core/error.h"
#include "core/fs.h"
#include "core/process.h"

namespace srlab::eval {
namespace fs = std::filesystem;
using core::run_command;
using core::shell_quote;

Gnuplot find_gnuplot(const std::string& who) {
  const char* env = std::getenv("SRLAB_GNUPLOT");
  Gnuplot g;
  g.binary = env && *env ? env : "gnuplot";
  const auto [rc, out] = run_command(shell_quote(g.binary) + " -e 'set terminal'");
  if (rc == 127 || rc == 126 || rc < 0)
    throw Error(fmt::format("{}: gnuplot ('{}') is not installed or not executable; the plots need it: install "
                            "gnuplot-nox (scripts/setup.sh does), or set SRLAB_GNUPLOT to its path",
                            who, g.binary));
  if (std::regex_search(out, std::regex(R"((^|\n)\s*pngcairo\s)")))
    g.terminal = "pngcairo";
  else if (std::regex_search(out, std::regex(R"((^|\n)\s*png\s)")))
    g.terminal = "png";
  else
    throw Error(fmt::format("{}: gnuplot ('{}') has neither the pngcairo nor the png terminal (`gnuplot -e \"set "
                            "terminal\"` lists them); install gnuplot-nox (scripts/setup.sh does)",
                            who, g.binary));
  return g;
}

void run_gnuplot_script(const Gnuplot& gp, const fs::path& script, const fs::path& png, const std::string& who) {
  const fs::path dir = script.parent_path().empty() ? fs::path(".") : script.parent_path();
  core::write_atomic_with(png, [&](const fs::path& tmp) {
    const std::string cmd = "cd " + shell_quote(dir.string()) + " && " + shell_quote(gp.binary) + " -e " +
                            shell_quote("outfile='" + tmp.filename().string() + "'") + " " +
                            shell_quote(script.filename().string());
    const auto [rc, out] = run_command(cmd);
    std::error_code ec;
    if (rc != 0 || !fs::is_regular_file(tmp, ec) || fs::file_size(tmp, ec) == 0)
      throw Error(fmt::format("{}: gnuplot failed on '{}' (exit status {}): {}", who, script.string(), rc,
                              out.empty() ? std::string("no output") : out));
  });
}

}  // namespace srlab::eval

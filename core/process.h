#pragma once
// Running external programs (node for ONNX Runtime, gnuplot for plots) through the shell.
#include <string>
#include <utility>

namespace srlab::core {

/// `s` as one single-quoted POSIX shell word (embedded ' written as '\'').
std::string shell_quote(const std::string& s);

/// Runs `cmd` with /bin/sh (popen), stderr merged into stdout.
/// @return (exit status, output with trailing whitespace removed); the status is 127 when the shell
///         cannot find the program and -1 when it did not exit normally (e.g. killed by a signal).
/// @throws srlab::Error when the shell cannot be started.
std::pair<int, std::string> run_command(const std::string& cmd);

}  // namespace srlab::core

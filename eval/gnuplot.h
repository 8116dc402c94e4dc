#pragma once
// gnuplot, the plotting program behind the PNG plots of `srlab compare` (perception-distortion plots)
// and `srlab train` (curves.png): locating it and running a script that writes one PNG atomically.
#include <filesystem>
#include <string>

namespace srlab::eval {

/// A usable gnuplot and its PNG terminal.
struct Gnuplot {
  std::string binary;    ///< $SRLAB_GNUPLOT when set, else "gnuplot" (on the PATH)
  std::string terminal;  ///< "pngcairo", or "png" when pngcairo is missing
};

/// Finds gnuplot (see Gnuplot) and its PNG terminal. `who` prefixes the messages (e.g. "compare").
/// @throws srlab::Error when gnuplot is not installed/executable ("install gnuplot-nox (scripts/setup.sh
///         does), or set SRLAB_GNUPLOT") or has neither the pngcairo nor the png terminal.
Gnuplot find_gnuplot(const std::string& who);

/// Runs `gnuplot -e "outfile='<tmp>'" <script>` in the folder of `script`, the script writing its PNG to
/// the variable `outfile`, which is a temporary sibling of `png` renamed onto `png` on success
/// (core::write_atomic_with): an interrupted or failed run leaves the old `png` in place.
/// @throws srlab::Error "<who>: gnuplot failed on '<script>' (exit status N): <its output>" when gnuplot
///         exits non-zero or writes no (or an empty) file; `png` must be in the folder of `script`.
void run_gnuplot_script(const Gnuplot& gp, const std::filesystem::path& script, const std::filesystem::path& png,
                        const std::string& who);

}  // namespace srlab::eval

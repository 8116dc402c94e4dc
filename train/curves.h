#pragma once
// curves.png of a run folder: the training curves drawn by gnuplot from metrics.csv (written by the
// trainer at every validation, so the picture is never older than the last validation).
#include <filesystem>
#include <string>
#include <vector>

#include "eval/gnuplot.h"

namespace srlab::train {

/// The gnuplot script (a multiplot, 1200 px wide, 300 px per panel) that draws the columns of a
/// metrics.csv with header `columns` against "iteration": panel "loss" (loss and every loss_<term>,
/// log y), "learning rate" (lr and, in GAN runs, d_lr; log y), "validation Y-PSNR (dB)" (val_psnr),
/// "validation SSIM" (val_ssim), and when present "discriminator loss" (d_loss) and "discriminator
/// logits" (d_real, d_fake, mean raw logits). Panels whose columns are absent are left out; empty CSV
/// fields are missing points. The script reads `csv_name` and writes the gnuplot variable `outfile`.
/// @throws srlab::Error when `columns` has no "iteration" column.
std::string curves_script(const std::vector<std::string>& columns, const std::string& csv_name,
                          const std::string& terminal);

/// Reads the header of <run_dir>/metrics.csv, writes <run_dir>/curves.gp (curves_script()) and runs it
/// to <run_dir>/curves.png (eval::run_gnuplot_script: atomic).
/// @throws srlab::Error naming the file when metrics.csv cannot be read or gnuplot fails.
void write_curves(const std::filesystem::path& run_dir, const eval::Gnuplot& gp);

}  // namespace srlab::train

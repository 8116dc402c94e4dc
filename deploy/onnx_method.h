#pragma once
// ONNX models as upscalers: loading an .onnx file as an UpscaleModel (ONNX Runtime in-process where the
// build links it, deploy/onnx_ort.h; else OpenCV DNN, deploy/onnx_opencv.h) and scoring it with `srlab eval --method model.onnx`.
#include <filesystem>

#include "deploy/upscale.h"
#include "eval/methods.h"

namespace srlab::eval {

/// The ONNX model in `path` run on the CPU by ONNX Runtime in-process where this build links it
/// (deploy/onnx_ort.h), else by OpenCV DNN. Its upscaling factor is the "scale" entry of
/// the model's metadata_props (SRLab exports write it); without one it is measured on a 16x16 input.
/// Interface as SRLab's exports: input (N,3,h,w) float32 RGB in [0,1], output (N,3,s*h,s*w).
/// @throws srlab::Error naming the file when it does not exist, is no ONNX model, or its factor cannot
///         be told.
UpscaleModel load_onnx_model(const std::filesystem::path& path);

/// The ONNX model in `path` (load_onnx_model) as an evaluation Method named after the file's stem:
/// colour LR (3,h,w) goes in as a batch of one; a gray LR (1,h,w) is replicated to RGB and the output
/// averaged back to one channel; the output is clamped to [0,1].
/// @throws srlab::Error naming the file for the errors of load_onnx_model, or when the model's factor
///         differs from `scale`.
Method onnx_method(const std::filesystem::path& path, int scale);

/// Registers (once; later calls do nothing) the method factory that makes `make_method(spec)` accept
/// an existing file whose name ends in .onnx (any case) as onnx_method(spec, scale).
void register_onnx_method();

}  // namespace srlab::eval

#pragma once
// Internal to the RGT ONNX exporter (deploy/onnx_rgt.cpp, deploy/onnx_rgt_blocks.cpp): the runtime-size
// values shared by every block and the emitters of RGT's modules (models/arch/rgt.h), each mirroring the
// LibTorch forward() of its module in eval mode.
#include <string>

#include "deploy/onnx_swin_blocks.h"
#include "models/arch/rgt.h"

namespace srlab::models {

/// Values computed once per graph from the input's runtime shape (int64 1-D unless noted).
struct RgtOnnxContext {
  std::string type = "rgt";
  SwinOnnxShapes s;           ///< n = [N], hw = [h, w] of the input, padded_hw = [H, W] of the (padded) map, c = C
  std::string trips;          ///< T, the RG-SA reduction count, int64 scalar (Loop trip count)
  std::string lsa_pads;       ///< Pad pads of the (N, H, W, 3, C) q|k|v grid up to [Hq, Wq] = multiples of max(Sh, Sw)
  SwinOnnxRectShapes win[2];  ///< L-SA windows on [Hq, Wq]: Sh x Sw (branch 0) and Sw x Sh (branch 1)
  std::string mask[2];        ///< shift masks of the two branches ("" when no block is shifted)
};

/// The DPB parameters that have no elements when pos_dim = embed_dim / 32 is 0 (all but pos3.2.bias): the
/// exporter does not store them then (OnnxFoldedParameter of "rgt"; with pos_dim > 0 they are stored).
bool rgt_onnx_empty_dpb_parameter(const std::string& key);

/// (N, L, C') tokens -> (N, C', H, W) map of the context's padded size.
std::string rgt_onnx_tokens_to_map(OnnxGraph& g, const std::string& t, const RgtOnnxContext& z, int64_t channels,
                                   const std::string& key);

/// RgtBlockImpl::forward on (N, L, C) tokens; key "layers.<i>.blocks.<j>".
std::string rgt_onnx_block(OnnxGraph& g, const std::string& x, const RgtBlockImpl& b, const RgtOnnxContext& z,
                           const std::string& key);

}  // namespace srlab::models

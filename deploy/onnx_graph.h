#pragma once
// A small builder of ONNX graphs (the protobuf classes of the ONNX C++ library, onnx::ModelProto; ONNX
// 1.12 from Debian's libonnx-dev) used by the generator exporters (deploy/onnx_export.h).
//
// Operator semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/, opsets
// 13-17). Every emitter appends one node (or a few) and returns the name of the value it produces;
// value names are unique (a name hint that is taken gets a "_2", "_3", ... suffix), initializer names
// are used verbatim (the exporters use state-dict keys) and must be unique.
//
// Precision: in OnnxPrecision::kFloat16 graphs, float weights (initializer()) and float constants
// (constant()) are stored as float16, input() casts the float32 graph input to float16 and output()
// casts back, so the model's interface is float32 in both precisions and only the arithmetic inside
// is float16 (runtimes without float16 kernels, e.g. ONNX Runtime's CPU provider for Conv, insert
// casts and compute in float32 with the float16-rounded weights).
#include <onnx/defs/attr_proto_util.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace srlab::models {

/// One dimension of a declared graph input/output: a fixed size (size > 0) or a symbolic one
/// (size == 0, named `symbol`, e.g. "N", "H"; runtimes accept any size there).
struct OnnxDim {
  int64_t size = 0;
  std::string symbol;
  static OnnxDim fixed(int64_t n) { return {n, ""}; }
  static OnnxDim symbolic(std::string name) { return {0, std::move(name)}; }
};

enum class OnnxPrecision { kFloat32, kFloat16 };

/// Attributes of an ONNX Conv node (2-D). pads = {top, left, bottom, right}.
struct OnnxConvAttrs {
  std::vector<int64_t> kernel_shape{3, 3};
  std::vector<int64_t> pads{0, 0, 0, 0};
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> dilations{1, 1};
  int64_t group = 1;
};

/// Resize modes matching torch::nn::functional::interpolate on (N,C,H,W) by an integer factor:
///   kBicubic: mode "bicubic", align_corners=false  -> mode cubic, cubic_coeff_a -0.75,
///             coordinate_transformation_mode half_pixel, exclude_outside 0 (border pixels replicated);
///   kNearest: mode "nearest" (PyTorch's legacy nearest: src = floor(dst / s)) -> mode nearest,
///             coordinate_transformation_mode asymmetric, nearest_mode floor.
enum class OnnxResizeMode { kBicubic, kNearest };

/// Settings of OnnxGraph::finish().
struct OnnxModelOptions {
  int opset = 17;                                ///< default-domain opset, onnx_opset_range()
  std::string producer_version;                  ///< e.g. the SRLab version
  std::map<std::string, std::string> metadata;   ///< written as metadata_props
  std::string doc_string;
};

/// The default-domain opsets finish() accepts: 13 up to the newest opset this ONNX library's checker
/// knows (17 for ONNX 1.12).
std::pair<int, int> onnx_opset_range();

class OnnxGraph {
 public:
  explicit OnnxGraph(std::string name, OnnxPrecision precision = OnnxPrecision::kFloat32);

  OnnxPrecision precision() const { return precision_; }
  /// The element type of float values inside the graph (FLOAT or FLOAT16).
  onnx::TensorProto_DataType compute_type() const;

  /// Declares a float32 graph input `name` with `dims` and returns the value to compute on (`name`
  /// itself, or its float16 cast in a float16 graph).
  std::string input(const std::string& name, const std::vector<OnnxDim>& dims);
  /// Declares `value` as float32 graph output `name` with `dims` (casting it back to float32 in a
  /// float16 graph). The node producing `value` is renamed to produce `name` directly.
  void output(const std::string& value, const std::string& name, const std::vector<OnnxDim>& dims);

  /// Adds `t` (CPU or not; float tensors become compute_type(), int64 stays int64) as initializer `name`,
  /// verbatim; returns `name`. Throws srlab::Error if `name` is taken or the dtype is unsupported.
  std::string initializer(const std::string& name, const torch::Tensor& t);
  /// A Constant node holding `t` (float -> compute_type(), unless keep_float32; int64 stays int64).
  std::string constant(const torch::Tensor& t, const std::string& hint = "const", bool keep_float32 = false);

  /// Appends a node of the default domain with one output, named uniquely after `hint` (also the node's
  /// name), and returns that output's name. Attributes are made with onnx::MakeAttribute.
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& hint,
                   const std::vector<onnx::AttributeProto>& attrs = {});

  /// Conv: x (N,Cin,H,W), w (Cout,Cin/group,kh,kw), b (Cout) or "" for none.
  std::string conv(const std::string& x, const std::string& w, const std::string& b, const OnnxConvAttrs& a,
                   const std::string& hint = "conv");
  std::string relu(const std::string& x, const std::string& hint = "relu");
  std::string leaky_relu(const std::string& x, float alpha, const std::string& hint = "leaky_relu");
  /// PRelu: `slope` must broadcast against x, i.e. shape (C,1,1) for per-channel slopes of (N,C,H,W).
  std::string prelu(const std::string& x, const std::string& slope, const std::string& hint = "prelu");
  std::string tanh(const std::string& x, const std::string& hint = "tanh");
  std::string sigmoid(const std::string& x, const std::string& hint = "sigmoid");
  std::string add(const std::string& a, const std::string& b, const std::string& hint = "add");
  std::string sub(const std::string& a, const std::string& b, const std::string& hint = "sub");
  std::string mul(const std::string& a, const std::string& b, const std::string& hint = "mul");
  std::string div(const std::string& a, const std::string& b, const std::string& hint = "div");
  std::string concat(const std::vector<std::string>& xs, int64_t axis, const std::string& hint = "concat");
  /// DepthToSpace mode "CRD" (= torch::pixel_shuffle): (N,C*b*b,H,W) -> (N,C,H*b,W*b).
  std::string depth_to_space(const std::string& x, int64_t blocksize, const std::string& hint = "pixel_shuffle");
  /// SpaceToDepth: (N,C,H,W) -> (N,C*b*b,H/b,W/b), output channel (i*b + j)*C + c holds pixel
  /// (y*b+i, x*b+j) of channel c (ONNX's DCR-like order; NOT torch::pixel_unshuffle's, see below).
  std::string space_to_depth(const std::string& x, int64_t blocksize, const std::string& hint = "space_to_depth");
  /// torch::pixel_unshuffle (inverse of pixel shuffle): (N,C,H,W) -> (N,C*b*b,H/b,W/b) with output channel
  /// c*b*b + i*b + j = pixel (y*b+i, x*b+j) of channel c; H and W must be multiples of b. Emitted as
  /// SpaceToDepth followed by the channel permutation (i,j,c) -> (c,i,j): Reshape (N,b*b,C,H*W/b^2),
  /// Transpose (0,2,1,3), Reshape back to SpaceToDepth's shape. `channels` = C (fixed, e.g. 3).
  std::string pixel_unshuffle(const std::string& x, int64_t blocksize, int64_t channels,
                              const std::string& hint = "pixel_unshuffle");
  /// Reshape: `shape` is an int64 1-D value (0 copies the input dim, -1 is inferred).
  std::string reshape(const std::string& x, const std::string& shape, const std::string& hint = "reshape");
  /// Transpose with permutation `perm`.
  std::string transpose(const std::string& x, const std::vector<int64_t>& perm, const std::string& hint = "transpose");
  /// Shape: the int64 1-D shape of `x`.
  std::string shape(const std::string& x, const std::string& hint = "shape");
  /// Slice of `x` along `axes` from `starts` to `ends` (int64 1-D values of equal length; ends are
  /// clamped to the dims) with `steps` (empty = all 1).
  std::string slice(const std::string& x, const std::string& starts, const std::string& ends,
                    const std::vector<int64_t>& axes, const std::string& hint = "slice",
                    const std::vector<int64_t>& steps = {});
  /// Pad: `pads` is an int64 1-D value {x1_begin, x2_begin, ..., x1_end, x2_end, ...}; `mode` "constant"
  /// (zeros), "reflect" (= torch's reflect: the edge is not repeated; pad < dim) or "edge" (replicate).
  std::string pad(const std::string& x, const std::string& pads, const std::string& mode,
                  const std::string& hint = "pad");
  /// Resize of (N,C,H,W) by the integer `scale` in H and W (see OnnxResizeMode).
  std::string resize(const std::string& x, int64_t scale, OnnxResizeMode mode, const std::string& hint = "resize");
  /// Clip to [lo, hi].
  std::string clip(const std::string& x, float lo, float hi, const std::string& hint = "clip");
  std::string cast(const std::string& x, onnx::TensorProto_DataType to, const std::string& hint = "cast");

  /// Names of the initializers added so far, in order.
  std::vector<std::string> initializer_names() const;
  /// Records that the graph recomputes the module buffer `key` instead of storing it (e.g. SwinIR's
  /// attn_mask, rebuilt from the runtime size); export_onnx() accepts such buffers as used.
  void mark_reproduced(const std::string& key) { reproduced_.insert(key); }
  const std::set<std::string>& reproduced() const { return reproduced_; }

  /// Sets the opset, producer ("SRLab"), metadata; runs onnx::checker::check_model and
  /// onnx::shape_inference::InferShapes (strict: node-level errors throw); returns the serialized model.
  /// Throws srlab::Error for an opset outside onnx_opset_range() or when ONNX rejects the graph.
  std::string finish(const OnnxModelOptions& options);

  // --- shared with atd ---
  /// The dims declared for graph input `name` (empty when there is none): lets an exporter see whether
  /// the export has a fixed size (OnnxExportOptions height/width) and refuse what only that size allows.
  std::vector<OnnxDim> input_dims(const std::string& name) const;

 private:
  std::string unique(const std::string& hint);
  void declare(onnx::ValueInfoProto* v, const std::string& name, const std::vector<OnnxDim>& dims);

  onnx::ModelProto model_;
  OnnxPrecision precision_;
  std::set<std::string> names_;
  std::set<std::string> reproduced_;
};

}  // namespace srlab::models

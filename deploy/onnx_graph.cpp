#include "deploy/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>


#include "core/error.h"

namespace srlab::models {

namespace {

const char* kWho = "ONNX export";

bool is_float(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat16 ||
         t.scalar_type() == torch::kFloat64;
}

// `t` as a TensorProto of element type `type` (FLOAT, FLOAT16 or INT64), little-endian raw_data as the
// ONNX spec requires (SRLab targets little-endian hosts).
onnx::TensorProto to_proto(const torch::Tensor& t, onnx::TensorProto_DataType type, const std::string& name) {
  torch::Tensor c;
  switch (type) {
    case onnx::TensorProto_DataType_FLOAT: c = t.detach().to(torch::kCPU, torch::kFloat32); break;
    case onnx::TensorProto_DataType_FLOAT16: c = t.detach().to(torch::kCPU, torch::kFloat16); break;
    case onnx::TensorProto_DataType_INT64: c = t.detach().to(torch::kCPU, torch::kInt64); break;
    default: throw Error(std::string(kWho) + ": unsupported tensor element type for '" + name + "'");
  }
  c = c.contiguous();
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(type);
  for (int64_t d : c.sizes()) p.add_dims(d);
  p.set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
  return p;
}

}  // namespace

std::pair<int, int> onnx_opset_range() {
  const auto& ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  return {13, ranges.at(onnx::ONNX_DOMAIN).second};
}

OnnxGraph::OnnxGraph(std::string name, OnnxPrecision precision) : precision_(precision) {
  model_.mutable_graph()->set_name(std::move(name));
}

onnx::TensorProto_DataType OnnxGraph::compute_type() const {
  return precision_ == OnnxPrecision::kFloat16 ? onnx::TensorProto_DataType_FLOAT16
                                                : onnx::TensorProto_DataType_FLOAT;
}

std::string OnnxGraph::unique(const std::string& hint) {
  std::string name = hint.empty() ? "v" : hint;
  for (int i = 2; names_.count(name); ++i) name = (hint.empty() ? "v" : hint) + "_" + std::to_string(i);
  names_.insert(name);
  return name;
}

void OnnxGraph::declare(onnx::ValueInfoProto* v, const std::string& name, const std::vector<OnnxDim>& dims) {
  v->set_name(name);
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  auto* shape = tensor->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (d.size > 0)
      dim->set_dim_value(d.size);
    else
      dim->set_dim_param(d.symbol);
  }
}

std::string OnnxGraph::input(const std::string& name, const std::vector<OnnxDim>& dims) {
  if (names_.count(name)) throw Error(std::string(kWho) + ": graph input name '" + name + "' is already used");
  names_.insert(name);
  declare(model_.mutable_graph()->add_input(), name, dims);
  return precision_ == OnnxPrecision::kFloat16 ? cast(name, onnx::TensorProto_DataType_FLOAT16, name + "_fp16")
                                                : name;
}

void OnnxGraph::output(const std::string& value, const std::string& name, const std::vector<OnnxDim>& dims) {
  std::string v = value;
  if (precision_ == OnnxPrecision::kFloat16) v = cast(value, onnx::TensorProto_DataType_FLOAT, name + "_fp32");
  if (names_.count(name)) throw Error(std::string(kWho) + ": graph output name '" + name + "' is already used");
  auto* graph = model_.mutable_graph();
  bool produced = false;
  for (const auto& n : graph->node())
    for (const auto& out : n.output()) produced = produced || out == v;
  if (produced) {  // rename the value everywhere, so that its producer writes the output directly
    names_.insert(name);
    for (auto& n : *graph->mutable_node()) {
      for (auto& out : *n.mutable_output())
        if (out == v) out = name;
      for (auto& in : *n.mutable_input())
        if (in == v) in = name;
    }
  } else {  // a graph input or initializer: copy it
    node("Identity", {v}, name);
  }
  declare(graph->add_output(), name, dims);
}

std::string OnnxGraph::initializer(const std::string& name, const torch::Tensor& t) {
  if (names_.count(name)) throw Error(std::string(kWho) + ": initializer name '" + name + "' is already used");
  if (!t.defined() || !(is_float(t) || t.scalar_type() == torch::kInt64))
    throw Error(std::string(kWho) + ": initializer '" + name + "' must be a defined float or int64 tensor");
  names_.insert(name);
  *model_.mutable_graph()->add_initializer() =
      to_proto(t, is_float(t) ? compute_type() : onnx::TensorProto_DataType_INT64, name);
  return name;
}

std::string OnnxGraph::constant(const torch::Tensor& t, const std::string& hint, bool keep_float32) {
  if (!t.defined() || !(is_float(t) || t.scalar_type() == torch::kInt64))
    throw Error(std::string(kWho) + ": constant '" + hint + "' must be a defined float or int64 tensor");
  const auto type = !is_float(t) ? onnx::TensorProto_DataType_INT64
                    : keep_float32 ? onnx::TensorProto_DataType_FLOAT
                                   : compute_type();
  return node("Constant", {}, hint, {onnx::MakeAttribute("value", to_proto(t, type, ""))});
}

std::string OnnxGraph::node(const std::string& op_type, const std::vector<std::string>& inputs,
                            const std::string& hint, const std::vector<onnx::AttributeProto>& attrs) {
  const std::string out = unique(hint);
  onnx::NodeProto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op_type);
  n->set_name(out);
  for (const auto& in : inputs) n->add_input(in);
  n->add_output(out);
  for (const auto& a : attrs) *n->add_attribute() = a;
  return out;
}

std::string OnnxGraph::conv(const std::string& x, const std::string& w, const std::string& b,
                            const OnnxConvAttrs& a, const std::string& hint) {
  std::vector<std::string> inputs{x, w};
  if (!b.empty()) inputs.push_back(b);
  return node("Conv", inputs, hint,
              {onnx::MakeAttribute("kernel_shape", a.kernel_shape), onnx::MakeAttribute("pads", a.pads),
               onnx::MakeAttribute("strides", a.strides), onnx::MakeAttribute("dilations", a.dilations),
               onnx::MakeAttribute("group", a.group)});
}

std::string OnnxGraph::relu(const std::string& x, const std::string& hint) { return node("Relu", {x}, hint); }
std::string OnnxGraph::leaky_relu(const std::string& x, float alpha, const std::string& hint) {
  return node("LeakyRelu", {x}, hint, {onnx::MakeAttribute("alpha", alpha)});
}
std::string OnnxGraph::prelu(const std::string& x, const std::string& slope, const std::string& hint) {
  return node("PRelu", {x, slope}, hint);
}
std::string OnnxGraph::tanh(const std::string& x, const std::string& hint) { return node("Tanh", {x}, hint); }
std::string OnnxGraph::sigmoid(const std::string& x, const std::string& hint) { return node("Sigmoid", {x}, hint); }
std::string OnnxGraph::add(const std::string& a, const std::string& b, const std::string& hint) {
  return node("Add", {a, b}, hint);
}
std::string OnnxGraph::sub(const std::string& a, const std::string& b, const std::string& hint) {
  return node("Sub", {a, b}, hint);
}
std::string OnnxGraph::mul(const std::string& a, const std::string& b, const std::string& hint) {
  return node("Mul", {a, b}, hint);
}
std::string OnnxGraph::div(const std::string& a, const std::string& b, const std::string& hint) {
  return node("Div", {a, b}, hint);
}
std::string OnnxGraph::concat(const std::vector<std::string>& xs, int64_t axis, const std::string& hint) {
  return node("Concat", xs, hint, {onnx::MakeAttribute("axis", axis)});
}

std::string OnnxGraph::depth_to_space(const std::string& x, int64_t blocksize, const std::string& hint) {
  return node("DepthToSpace", {x}, hint,
              {onnx::MakeAttribute("blocksize", blocksize), onnx::MakeAttribute("mode", std::string("CRD"))});
}

std::string OnnxGraph::space_to_depth(const std::string& x, int64_t blocksize, const std::string& hint) {
  return node("SpaceToDepth", {x}, hint, {onnx::MakeAttribute("blocksize", blocksize)});
}

std::string OnnxGraph::pixel_unshuffle(const std::string& x, int64_t blocksize, int64_t channels,
                                       const std::string& hint) {
  const int64_t bb = blocksize * blocksize;
  const std::string s2d = space_to_depth(x, blocksize, hint + "_s2d");
  // (N, b*b*C, h, w) = (N, b*b, C, h*w) in memory; swap the (i,j) and c axes, then restore the shape.
  const std::string split = reshape(s2d, constant(torch::tensor({int64_t{0}, bb, channels, int64_t{-1}}),
                                                  hint + "_split_shape"),
                                    hint + "_split");
  const std::string swapped = transpose(split, {0, 2, 1, 3}, hint + "_swap");
  return reshape(swapped, shape(s2d, hint + "_shape"), hint);
}

std::string OnnxGraph::reshape(const std::string& x, const std::string& shape, const std::string& hint) {
  return node("Reshape", {x, shape}, hint);
}

std::string OnnxGraph::transpose(const std::string& x, const std::vector<int64_t>& perm, const std::string& hint) {
  return node("Transpose", {x}, hint, {onnx::MakeAttribute("perm", perm)});
}

std::string OnnxGraph::shape(const std::string& x, const std::string& hint) { return node("Shape", {x}, hint); }

std::string OnnxGraph::slice(const std::string& x, const std::string& starts, const std::string& ends,
                             const std::vector<int64_t>& axes, const std::string& hint,
                             const std::vector<int64_t>& steps) {
  std::vector<std::string> inputs{x, starts, ends, constant(torch::tensor(axes), hint + "_axes")};
  if (!steps.empty()) inputs.push_back(constant(torch::tensor(steps), hint + "_steps"));
  return node("Slice", inputs, hint);
}

std::string OnnxGraph::pad(const std::string& x, const std::string& pads, const std::string& mode,
                           const std::string& hint) {
  return node("Pad", {x, pads}, hint, {onnx::MakeAttribute("mode", mode)});
}

std::string OnnxGraph::resize(const std::string& x, int64_t scale, OnnxResizeMode mode, const std::string& hint) {
  const auto s = static_cast<float>(scale);
  const std::string scales = constant(torch::tensor({1.f, 1.f, s, s}), hint + "_scales", /*keep_float32=*/true);
  std::vector<onnx::AttributeProto> attrs;
  if (mode == OnnxResizeMode::kBicubic) {
    attrs = {onnx::MakeAttribute("mode", std::string("cubic")), onnx::MakeAttribute("cubic_coeff_a", -0.75f),
             onnx::MakeAttribute("coordinate_transformation_mode", std::string("half_pixel")),
             onnx::MakeAttribute("exclude_outside", int64_t{0})};
  } else {
    attrs = {onnx::MakeAttribute("mode", std::string("nearest")),
             onnx::MakeAttribute("coordinate_transformation_mode", std::string("asymmetric")),
             onnx::MakeAttribute("nearest_mode", std::string("floor"))};
  }
  return node("Resize", {x, "", scales}, hint, attrs);  // "": no roi
}

std::string OnnxGraph::clip(const std::string& x, float lo, float hi, const std::string& hint) {
  return node("Clip", {x, constant(torch::tensor(lo), hint + "_min"), constant(torch::tensor(hi), hint + "_max")},
              hint);
}

std::string OnnxGraph::cast(const std::string& x, onnx::TensorProto_DataType to, const std::string& hint) {
  return node("Cast", {x}, hint, {onnx::MakeAttribute("to", static_cast<int64_t>(to))});
}

std::vector<std::string> OnnxGraph::initializer_names() const {
  std::vector<std::string> out;
  for (const auto& t : model_.graph().initializer()) out.push_back(t.name());
  return out;
}

std::string OnnxGraph::finish(const OnnxModelOptions& options) {
  const auto [lo, hi] = onnx_opset_range();
  if (options.opset < lo || options.opset > hi)
    throw Error(std::string(kWho) + ": opset " + std::to_string(options.opset) + " is not supported; use " +
                std::to_string(lo) + ".." + std::to_string(hi) + " (the newest this ONNX library, " +
                "libonnx-dev, can check)");
  onnx::ModelProto model = model_;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("SRLab");
  model.set_producer_version(options.producer_version);
  if (!options.doc_string.empty()) model.set_doc_string(options.doc_string);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  for (const auto& [key, value] : options.metadata) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
  } catch (const std::exception& e) {
    throw Error(std::string(kWho) + ": ONNX rejected the generated graph '" + model.graph().name() +
                "' at opset " + std::to_string(options.opset) + ": " + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error(std::string(kWho) + ": cannot serialize the model (protobuf's 2 GiB limit?)");
  return bytes;
}

// --- shared with atd ---
std::vector<OnnxDim> OnnxGraph::input_dims(const std::string& name) const {
  std::vector<OnnxDim> dims;
  for (const auto& in : model_.graph().input()) {
    if (in.name() != name) continue;
    for (const auto& d : in.type().tensor_type().shape().dim())
      dims.push_back(d.has_dim_value() ? OnnxDim::fixed(d.dim_value()) : OnnxDim::symbolic(d.dim_param()));
  }
  return dims;
}

}  // namespace srlab::models

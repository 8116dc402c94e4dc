#include "models/arch/espcn.h"

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/detect_util.h"
#include "models/arch/registry.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
const std::vector<int> kEspcnScales{2, 3, 4};

void check_num_feat(int num_feat) {
  if (num_feat < 2 || num_feat % 2 != 0)
    throw Error("espcn: num_feat must be an even integer >= 2 (conv2 has num_feat/2 channels), got " +
                std::to_string(num_feat));
}
}  // namespace

EspcnImpl::EspcnImpl(const EspcnOptions& options) : options_(options) {
  check_scale("espcn", options.scale, kEspcnScales);
  check_num_feat(options.num_feat);
  const int64_t f = options.num_feat;
  const int64_t s = options.scale;
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, f, 5).padding(2)));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(f, f / 2, 3).padding(1)));
  conv3 = register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(f / 2, 3 * s * s, 3).padding(1)));
  if (options.activation == EspcnActivation::kPrelu) {
    act1 = register_module("act1", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(f)));
    act2 = register_module("act2", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(f / 2)));
  }
}

torch::Tensor EspcnImpl::activate(const torch::Tensor& x, torch::nn::PReLU& prelu) const {
  switch (options_.activation) {
    case EspcnActivation::kTanh:
      return torch::tanh(x);
    case EspcnActivation::kRelu:
      return torch::relu(x);
    case EspcnActivation::kPrelu:
      return prelu->forward(x);
  }
  return x;  // unreachable
}

torch::Tensor EspcnImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "espcn");
  torch::Tensor x = activate(conv1->forward(lr), act1);
  x = activate(conv2->forward(x), act2);
  x = torch::pixel_shuffle(conv3->forward(x), options_.scale);
  if (options_.residual == UpsampleResidual::kNone) return x;
  const std::vector<int64_t> size{lr.size(2) * options_.scale, lr.size(3) * options_.scale};
  torch::Tensor base;
  if (options_.residual == UpsampleResidual::kBicubic)
    base = F::interpolate(lr, F::InterpolateFuncOptions().size(size).mode(torch::kBicubic).align_corners(false));
  else
    base = F::interpolate(lr, F::InterpolateFuncOptions().size(size).mode(torch::kNearest));
  return x + base;
}

int64_t espcn_parameter_count(const EspcnOptions& o) {
  const int64_t f = o.num_feat, h = o.num_feat / 2, out = 3LL * o.scale * o.scale;
  int64_t n = (3 * 25 * f + f) + (f * 9 * h + h) + (h * 9 * out + out);
  if (o.activation == EspcnActivation::kPrelu) n += f + h;
  return n;
}

Generator make_espcn(const core::Config& params, int scale) {
  check_scale(params, "espcn", scale, kEspcnScales);
  EspcnOptions o;
  o.scale = scale;
  o.num_feat = params.get<int>("num_feat", 64);
  if (o.num_feat < 2 || o.num_feat % 2 != 0)
    params.fail("num_feat", "must be an even integer >= 2 (conv2 has num_feat/2 channels), got " +
                                std::to_string(o.num_feat));
  const std::string act = params.get<std::string>("activation", "tanh");
  if (act == "tanh")
    o.activation = EspcnActivation::kTanh;
  else if (act == "relu")
    o.activation = EspcnActivation::kRelu;
  else if (act == "prelu")
    o.activation = EspcnActivation::kPrelu;
  else
    params.fail("activation", "unknown activation '" + act + "'; use tanh, relu or prelu");
  const std::string res = params.get<std::string>("residual", "none");
  if (res == "none")
    o.residual = UpsampleResidual::kNone;
  else if (res == "bicubic")
    o.residual = UpsampleResidual::kBicubic;
  else if (res == "nearest")
    o.residual = UpsampleResidual::kNearest;
  else
    params.fail("residual", "unknown residual mode '" + res + "'; use none, bicubic or nearest");
  return std::make_shared<EspcnImpl>(o);
}

std::optional<DetectedModel> detect_espcn(const StateDict& sd) {
  const torch::Tensor* c1 = find_tensor(sd, "conv1.weight", 4);
  const torch::Tensor* c2 = find_tensor(sd, "conv2.weight", 4);
  const torch::Tensor* c3 = find_tensor(sd, "conv3.weight", 4);
  if (!c1 || !c2 || !c3 || c1->size(1) != 3 || c1->size(2) != 5) return std::nullopt;
  const int s = subpixel_scale(c3->size(0));
  if (s == 0) throw Error("ESPCN weights: conv3 has " + std::to_string(c3->size(0)) + " outputs, not 3*s*s");
  const bool prelu = sd.count("act1.weight") > 0;
  // tanh (the paper's) and relu leave no trace; residual (SRLab extension) neither: defaults apply
  return DetectedModel{"type: espcn\nnum_feat: " + std::to_string(c1->size(0)) + "\nactivation: " +
                           (prelu ? "prelu" : "tanh") + "\n",
                       s};
}

void register_espcn() {
  register_generator("espcn", make_espcn,
                     "ESPCN (Shi et al. 2016): 3 convs + pixel shuffle; params num_feat, activation, residual",
                     detect_espcn);
}

}  // namespace srlab::models

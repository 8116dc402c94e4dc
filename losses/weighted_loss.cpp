#include "losses/weighted_loss.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "losses/registry.h"

namespace srlab::losses {

WeightedLoss::WeightedLoss(std::vector<Term> terms) : terms_(std::move(terms)) {
  if (terms_.empty()) throw Error("WeightedLoss: no loss terms; give at least one, e.g. {type: l1, weight: 1.0}");
  std::set<std::string> names;
  bool any_positive = false;
  const Term* adversarial = nullptr;
  for (const auto& t : terms_) {
    if (!t.loss) throw Error("WeightedLoss: term '" + t.name + "' has no loss object");
    if (t.loss->needs_discriminator()) {
      if (adversarial)
        throw Error("WeightedLoss: terms '" + adversarial->name + "' and '" + t.name +
                    "' are both adversarial; give at most one `type: gan` term (one discriminator)");
      adversarial = &t;
    }
    if (!(std::isfinite(t.weight) && t.weight >= 0))
      throw Error("WeightedLoss: term '" + t.name + "' has weight " + std::to_string(t.weight) +
                  "; weights must be finite and >= 0");
    if (!names.insert(t.name).second)
      throw Error("WeightedLoss: duplicate term name '" + t.name + "'; give one of them a distinct `name:`");
    any_positive = any_positive || t.weight > 0;
  }
  if (!any_positive) throw Error("WeightedLoss: every weight is 0; at least one term must have weight > 0");
}

WeightedLoss WeightedLoss::from_config(const core::Config& list) {
  if (list.is_null()) list.fail("", "missing or empty loss list; give e.g. [{type: l1, weight: 1.0}]");
  if (!list.is_sequence())
    list.fail("", "expected a list of loss terms such as [{type: l1, weight: 1.0}]");
  const std::vector<core::Config> items = list.items();
  if (items.empty()) list.fail("", "the loss list is empty; give at least one term, e.g. {type: l1, weight: 1.0}");
  std::vector<Term> terms;
  std::set<std::string> names;
  bool any_positive = false;
  std::string adversarial;  // name of the adversarial term seen so far
  for (const auto& item : items) {
    if (!item.is_map()) item.fail("", "expected a mapping such as {type: l1, weight: 1.0}");
    Term t;
    t.loss = make_loss(item);
    t.weight = item.get<double>("weight", 1.0);
    if (t.weight < 0) item.fail("weight", "must be >= 0, got " + std::to_string(t.weight));
    t.name = item.get<std::string>("name", t.loss->type());
    if (t.name.empty()) item.fail("name", "must not be empty");
    if (!names.insert(t.name).second)
      item.fail(item.has("name") ? "name" : "type",
                "duplicate loss term name '" + t.name + "'; give one of the terms a distinct `name:`");
    if (t.loss->needs_discriminator()) {
      if (!adversarial.empty())
        item.fail("type", "a second adversarial term (after '" + adversarial +
                              "'); give at most one `type: gan` term (one discriminator)");
      adversarial = t.name;
    }
    any_positive = any_positive || t.weight > 0;
    item.check_known();
    terms.push_back(std::move(t));
  }
  if (!any_positive) list.fail("", "every loss weight is 0; at least one term must have weight > 0");
  return WeightedLoss(std::move(terms));
}

WeightedLoss::Result WeightedLoss::operator()(const torch::Tensor& sr, const torch::Tensor& hr) const {
  LossInputs in;
  in.sr = sr;
  in.hr = hr;
  return (*this)(in);
}

WeightedLoss::Result WeightedLoss::operator()(const LossInputs& in) const {
  Result r;
  for (const auto& t : terms_) {
    if (t.weight == 0) {
      r.terms.emplace_back(t.name, 0.0);
      continue;
    }
    torch::Tensor v = t.loss->forward(in) * t.weight;
    r.terms.emplace_back(t.name, v.detach().item<double>());
    r.total = r.total.defined() ? r.total + v : v;
  }
  return r;
}

std::vector<std::string> WeightedLoss::term_names() const {
  std::vector<std::string> out;
  for (const auto& t : terms_) out.push_back(t.name);
  return out;
}

void WeightedLoss::to(torch::Device device) {
  for (auto& t : terms_) t.loss->to(device);
}

const WeightedLoss::Term* WeightedLoss::discriminator_term() const {
  for (const auto& t : terms_)
    if (t.loss->needs_discriminator()) return &t;
  return nullptr;
}

bool WeightedLoss::needs_discriminator() const {
  const Term* t = discriminator_term();
  return t != nullptr && t->weight > 0;
}

}  // namespace srlab::losses

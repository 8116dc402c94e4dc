#pragma once
// Wrapping an in-memory generator as an evaluation Method (used by checkpoint evaluation and by the
// trainer's periodic validation).
#include <string>

#include "eval/methods.h"
#include "models/arch/generator.h"

namespace srlab::eval {

/// A Method that runs `generator` on `device` under NoGrad. LR (C,h,w) in [0,1]: RGB goes straight in;
/// a single-channel LR is replicated to RGB and the RGB output averaged back to one channel (so gray
/// images keep being scored on their intensity). Output (C,h*s,w*s), clamped to [0,1].
Method generator_method(models::Generator generator, const std::string& name, torch::Device device);

}  // namespace srlab::eval

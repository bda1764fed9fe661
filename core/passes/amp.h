// Names and constants the amp pass shares with autodiff (which seeds the backward
// pass with the loss scale when the graph has one) and with the optimizer updates
// (core/train/optimizer.cpp, which append the loss-scale update).
#pragma once

namespace nng {

// f32[] buffers of a graph under dynamic loss scaling (f16): the scale the loss is
// multiplied by before the backward pass, and the count of finite steps in a row.
constexpr const char *kLossScaleName = "amp.loss_scale";
constexpr const char *kGoodStepsName = "amp.good_steps";
// PyTorch GradScaler's defaults.
constexpr double kInitialLossScale = 65536.0;
constexpr double kLossScaleGrowth = 2.0;
constexpr double kLossScaleBackoff = 0.5;
constexpr int kLossScaleInterval = 2000;

} // namespace nng

// Neural-network layer ops (the primitives the layer sugar lowers to): conv2d,
// pooling, normalization, dropout and embedding. Images are NCHW.
//
// Fusion kinds: conv2d is MatmulLike (an elementwise epilogue fuses into it);
// pooling is a windowed reduction, so Reduction (producers fuse in, the group ends
// there); batch_norm, layer_norm and dropout are Opaque: each is a dedicated kernel
// that keeps state for its backward pass (batch statistics, the dropout mask) and
// batch_norm also updates its running buffers; embedding is a gather, Injective.
#include <string>

#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

// A square window sliding over the two trailing (spatial) axes of an NCHW tensor.
struct Window {
  int64_t kh, kw, stride, pad;
  std::string str() const { return std::to_string(kh) + "x" + std::to_string(kw); }
};

void checkStridePad(const std::string &op, int64_t stride, int64_t pad) {
  if (stride < 1)
    throw TypeError(op + ": stride must be at least 1, got " + std::to_string(stride));
  // The bound keeps H + 2 * pad far from int64 overflow.
  if (pad < 0 || pad > kMaxElements)
    throw TypeError(op + ": pad must be between 0 and 2^48, got " + std::to_string(pad));
}

// [N, C, H, W] -> [N, C', Ho, Wo] with Ho = (H + 2 pad - kh) / stride + 1.
Shape windowOutput(const std::string &op, const TensorType &x, const Dim &channels,
                   const Window &w) {
  const Dim &h = x.shape[2];
  const Dim &wd = x.shape[3];
  if (h.isSymbolic() || wd.isSymbolic())
    throw TypeError(op + ": the spatial dimensions must be numbers, got " + x.str());
  int64_t ph = h.value + 2 * w.pad;
  int64_t pw = wd.value + 2 * w.pad;
  if (w.kh > ph || w.kw > pw)
    throw TypeError(op + ": kernel " + w.str() + " is larger than the padded input " +
                    std::to_string(ph) + "x" + std::to_string(pw) + " (" + x.str() + ", pad " +
                    std::to_string(w.pad) + ")");
  Shape out{x.shape[0], channels, (ph - w.kh) / w.stride + 1, (pw - w.kw) / w.stride + 1};
  return rules::checkElements(op, out);
}

TensorType conv2dType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  const TensorType &w = c.inputs[1];
  rules::requireRank("conv2d", x, 4, "input x ([N, C, H, W])");
  rules::requireRank("conv2d", w, 4, "weight w ([F, C, kh, kw])");
  rules::requireFloat("conv2d", x, "input x");
  rules::sameDType("conv2d", x, w);
  if (x.shape[1] != w.shape[1])
    throw TypeError("conv2d: channels differ: input " + x.str() + " has " + x.shape[1].str() +
                    ", weight " + w.str() + " expects " + w.shape[1].str());
  if (w.shape[2].isSymbolic() || w.shape[3].isSymbolic())
    throw TypeError("conv2d: the kernel size must be numbers, got weight " + w.str());
  int64_t stride = c.intAttr("stride");
  int64_t pad = c.intAttr("pad");
  checkStridePad("conv2d", stride, pad);
  Window win{w.shape[2].value, w.shape[3].value, stride, pad};
  return TensorType{x.dtype, windowOutput("conv2d", x, w.shape[0], win)};
}

// stride = 0 (the default) means "equal to the kernel": non-overlapping windows.
Window poolWindow(const std::string &op, const OpCall &c) {
  int64_t k = c.intAttr("kernel");
  if (k < 1 || k > kMaxElements)
    throw TypeError(op + ": kernel must be between 1 and 2^48, got " + std::to_string(k));
  int64_t stride = c.intAttr("stride");
  if (stride == 0)
    stride = k;
  int64_t pad = c.intAttr("pad");
  checkStridePad(op, stride, pad);
  // A window lying wholly in the padding would have no input element.
  if (pad > k / 2)
    throw TypeError(op + ": pad " + std::to_string(pad) + " must be at most half the kernel " +
                    std::to_string(k));
  return Window{k, k, stride, pad};
}

TensorType poolType(const std::string &op, const OpCall &c) {
  const TensorType &x = c.inputs[0];
  rules::requireRank(op, x, 4, "input x ([N, C, H, W])");
  rules::requireFloat(op, x, "input x");
  return TensorType{x.dtype, windowOutput(op, x, x.shape[1], poolWindow(op, c))};
}

FlopsFn poolFlops(double extraPerOutput) {
  return [extraPerOutput](const OpCall &c, const TensorType &out, int64_t batch) {
    double k = static_cast<double>(c.intAttr("kernel"));
    return (k * k + extraPerOutput) * rules::elements(out, batch);
  };
}

// gamma, beta (and running statistics) hold one value per normalized channel.
void requirePerChannel(const std::string &op, const TensorType &x, const TensorType &t,
                       const std::string &what, const Dim &channels, const std::string &axis) {
  TensorType want{x.dtype, {channels}};
  if (t != want)
    throw TypeError(op + ": " + what + " must be " + want.str() + " (one value per " + axis +
                    " of " + x.str() + "), got " + t.str());
}

void checkEps(const std::string &op, const OpCall &c) {
  double eps = c.floatAttr("eps");
  if (!(eps > 0))
    throw TypeError(op + ": eps must be positive, got " + c.attrs.at("eps").str());
}

TensorType batchNormType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  if (x.rank() < 2)
    throw TypeError("batch_norm: input x must have rank 2 or more ([N, C, ..]), got " + x.str());
  rules::requireFloat("batch_norm", x, "input x");
  const char *names[] = {"gamma", "beta", "running_mean", "running_var"};
  for (int i = 0; i < 4; ++i)
    requirePerChannel("batch_norm", x, c.inputs[i + 1], names[i], x.shape[1], "channel (axis 1)");
  checkEps("batch_norm", c);
  double m = c.floatAttr("momentum");
  if (!(m >= 0 && m <= 1))
    throw TypeError("batch_norm: momentum must be in [0, 1], got " + c.attrs.at("momentum").str());
  return x;
}

TensorType layerNormType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  if (x.rank() < 1)
    throw TypeError("layer_norm: input x must have rank 1 or more, got " + x.str());
  rules::requireFloat("layer_norm", x, "input x");
  requirePerChannel("layer_norm", x, c.inputs[1], "gamma", x.shape.back(), "feature (last axis)");
  requirePerChannel("layer_norm", x, c.inputs[2], "beta", x.shape.back(), "feature (last axis)");
  checkEps("layer_norm", c);
  return x;
}

TensorType dropoutType(const OpCall &c) {
  rules::requireFloat("dropout", c.inputs[0], "input x");
  double p = c.floatAttr("p");
  if (!(p >= 0 && p < 1))
    throw TypeError("dropout: p must be in [0, 1), got " + c.attrs.at("p").str());
  return c.inputs[0];
}

TensorType embeddingType(const OpCall &c) {
  const TensorType &ids = c.inputs[0];
  const TensorType &w = c.inputs[1];
  if (!isInteger(ids.dtype))
    throw TypeError("embedding: ids must be an integer tensor (i32 or i64), got " + ids.str());
  rules::requireRank("embedding", w, 2, "weight ([vocab, dim])");
  rules::requireFloat("embedding", w, "weight");
  Shape out = ids.shape;
  out.push_back(w.shape[1]);
  return TensorType{w.dtype, rules::checkElements("embedding", out)};
}

} // namespace

void registerNnOps(OpRegistry &r) {
  r.add(OpDef{"conv2d",
              "nn",
              {"x", "w"},
              false,
              {{"stride", AttrType::Int, Attr::ofInt(1), "step of the window, both axes"},
               {"pad", AttrType::Int, Attr::ofInt(0), "zeros added on each side, both axes"}},
              conv2dType,
              [](const OpCall &c, const TensorType &out, int64_t batch) {
                const TensorType &w = c.inputs[1];
                double perOutput = 2 * rules::dimValue(w.shape[1], batch) *
                                   rules::dimValue(w.shape[2], batch) *
                                   rules::dimValue(w.shape[3], batch);
                return perOutput * rules::elements(out, batch);
              },
              FusionKind::MatmulLike,
              "x [N, C, H, W] (*) w [F, C, kh, kw] -> [N, F, (H + 2 pad - kh) / stride + 1, ..]"});

  const std::vector<AttrSpec> poolAttrs = {
      {"kernel", AttrType::Int, std::nullopt, "window size, both axes"},
      {"stride", AttrType::Int, Attr::ofInt(0), "step of the window; 0 means equal to kernel"},
      {"pad", AttrType::Int, Attr::ofInt(0), "padding on each side, at most kernel / 2"},
  };
  r.add(OpDef{"max_pool2d",
              "nn",
              {"x"},
              false,
              poolAttrs,
              [](const OpCall &c) { return poolType("max_pool2d", c); },
              poolFlops(0),
              FusionKind::Reduction,
              "maximum over each window (padding never wins); [N, C, H, W] -> [N, C, Ho, Wo]"});
  r.add(OpDef{"avg_pool2d",
              "nn",
              {"x"},
              false,
              poolAttrs,
              [](const OpCall &c) { return poolType("avg_pool2d", c); },
              poolFlops(1),
              FusionKind::Reduction,
              "mean over each window, padding counted as zeros; [N, C, H, W] -> [N, C, Ho, Wo]"});
  r.add(OpDef{"global_avg_pool",
              "nn",
              {"x"},
              false,
              {},
              [](const OpCall &c) {
                const TensorType &x = c.inputs[0];
                rules::requireRank("global_avg_pool", x, 4, "input x ([N, C, H, W])");
                rules::requireFloat("global_avg_pool", x, "input x");
                return TensorType{x.dtype, {x.shape[0], x.shape[1]}};
              },
              rules::perInputElement(1),
              FusionKind::Reduction,
              "mean over H and W: [N, C, H, W] -> [N, C]"});

  OpDef batchNorm{"batch_norm",
                  "nn",
                  {"x", "gamma", "beta", "running_mean", "running_var"},
                  false,
                  {{"eps", AttrType::Float, Attr::ofFloat(1e-5), "added to the variance"},
                   {"momentum", AttrType::Float, Attr::ofFloat(0.1),
                    "running = (1 - momentum) * running + momentum * batch statistic"}},
                  batchNormType,
                  rules::perInputElement(8),
                  FusionKind::Opaque,
                  "normalizes each channel (axis 1) with batch statistics in training, running "
                  "statistics in eval, then scales by gamma and shifts by beta"};
  batchNorm.stateful = true; // training updates the running statistics
  r.add(std::move(batchNorm));
  r.add(OpDef{"layer_norm",
              "nn",
              {"x", "gamma", "beta"},
              false,
              {{"eps", AttrType::Float, Attr::ofFloat(1e-5), "added to the variance"}},
              layerNormType,
              rules::perInputElement(8),
              FusionKind::Opaque,
              "normalizes over the last axis, then scales by gamma and shifts by beta"});
  OpDef dropout{"dropout",
                "nn",
                {"x"},
                false,
                {{"p", AttrType::Float, Attr::ofFloat(0.5), "probability of zeroing, in [0, 1)"},
                 {"seed", AttrType::Int, Attr::ofInt(0),
                  "which random stream the masks come from; the front end numbers a model's "
                  "dropouts 0, 1, ... in source order, so that passes, which renumber "
                  "values, keep every mask"}},
                dropoutType,
                rules::perOutputElement(2),
                FusionKind::Opaque,
                "zeroes elements with probability p and scales the rest by 1 / (1 - p) in "
                "training; identity in eval"};
  dropout.random = true;
  r.add(std::move(dropout));
  OpDef embedding{"embedding",
                  "nn",
                  {"ids", "weight"},
                  false,
                  {},
                  embeddingType,
                  rules::perOutputElement(0),
                  FusionKind::Injective,
                  "rows of weight [V, D] picked by integer ids [..] -> [.., D]"};
  embedding.indexInput = OpDef::IndexInput{0, 1, 0};
  r.add(std::move(embedding));
  // Mixed precision: convolutions run in half; normalizations keep f32 statistics
  // (and batch_norm's running buffers are updated in place: they must not be cast).
  r.setPrecision("conv2d", OpPrecision::Half);
  r.setPrecision("batch_norm", OpPrecision::Float);
  r.setPrecision("layer_norm", OpPrecision::Float);
}

} // namespace nng

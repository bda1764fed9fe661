// The CPU backend: a table from op name to a function that unpacks the node's
// attributes and tensor shapes and calls the kernel. Backward ops (`<op>_grad`,
// see core/ops/backward.cpp) call the op's `_bwd` kernel asking only for the
// gradient of input `wrt`; what the forward could have kept (pooling argmax,
// normalization statistics, a dropout mask) the kernels recompute from the inputs.
#include "core/cpu/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>

#include "core/cpu/kernels/fused.h"
#include "core/cpu/kernels/half.h"
#include "core/cpu/denormals.h"
#include "core/cpu/kernels/kernels.h"

namespace nng {

namespace {

using cpu::Dims;

// One call of a kernel: the node, its input tensors, its output tensor.
struct Call {
  const Node &node;
  const std::vector<Tensor> &in;
  Tensor &out;
  const KernelContext &ctx;

  int64_t i(const std::string &name) const { return node.attrs.at(name).i; }
  double f(const std::string &name) const { return node.attrs.at(name).asDouble(); }
  const std::string &s(const std::string &name) const { return node.attrs.at(name).s; }
  std::vector<int64_t> ints(const std::string &name) const { return node.attrs.at(name).asInts(); }
  template <typename T> T *o() const { return out.as<T>(); }
  template <typename T> const T *x(size_t k) const { return in.at(k).as<T>(); }
  Dims dims(size_t k) const { return Dims::of(in.at(k).shape); }
  int64_t n(size_t k) const { return in.at(k).elements(); }
  // For `<op>_grad` nodes: dy is input 0, y input 1, forward inputs from 2.
  int64_t wrt() const { return i("wrt"); }
  template <typename T> T *gradFor(int64_t input) const {
    return wrt() == input ? out.as<T>() : nullptr;
  }
};

using Kernel = std::function<void(const Call &)>;

// Kernel workspaces (im2col matrices, normalization statistics, dropout masks). Each
// thread keeps its buffers between calls: a training step asks for the same sizes every
// time, and a fresh allocation of megabytes costs a page fault per 4 KiB on every step.
// `slot` tells apart the buffers one kernel uses at once. The contents are left as the
// last kernel wrote them: kernels write their workspace before reading it.
template <typename T> T *scratch(int64_t n, size_t slot = 0) {
  thread_local std::vector<std::vector<unsigned char>> buffers;
  if (buffers.size() <= slot)
    buffers.resize(slot + 1);
  std::vector<unsigned char> &b = buffers[slot];
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(n, 1)) * sizeof(T);
  if (b.size() < bytes)
    b.resize(bytes);
  return reinterpret_cast<T *>(b.data());
}

// A seed per dropout node: its `seed` attribute (numbered by the front end), mixed
// with the run's seed. The backward node carries the forward's attributes, so it
// regenerates the same mask; passes that renumber values do not change it.
uint64_t dropoutSeed(const KernelContext &ctx, int64_t stream) {
  return cpu::mix64(ctx.seed ^ (static_cast<uint64_t>(stream) + 1) * cpu::kGolden);
}

cpu::Activation activationOf(const std::string &act) {
  if (act == "relu") return cpu::Activation::Relu;
  if (act == "gelu") return cpu::Activation::Gelu;
  if (act == "sigmoid") return cpu::Activation::Sigmoid;
  if (act == "tanh") return cpu::Activation::Tanh;
  return cpu::Activation::None;
}

// ---- the table, for one element type ---------------------------------------------
template <typename T> std::map<std::string, Kernel> kernelTable() {
  std::map<std::string, Kernel> k;

#define NNG_UNARY(op, saved)                                                                       \
  k[#op] = [](const Call &c) { cpu::op##_fwd<T>(c.o<T>(), c.x<T>(0), c.n(0)); };                  \
  k[#op "_grad"] = [](const Call &c) {                                                             \
    cpu::op##_bwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(saved), c.n(0));                                  \
  };
  // `saved` is 1 when the backward kernel reads y, 2 when it reads x.
  NNG_UNARY(relu, 2)
  NNG_UNARY(sigmoid, 1)
  NNG_UNARY(tanh, 1)
  NNG_UNARY(gelu, 2)
  NNG_UNARY(exp, 1)
  NNG_UNARY(log, 2)
  NNG_UNARY(sqrt, 1)
  NNG_UNARY(abs, 2)
#undef NNG_UNARY
  k["neg"] = [](const Call &c) { cpu::neg_fwd<T>(c.o<T>(), c.x<T>(0), c.n(0)); };
  k["leaky_relu"] = [](const Call &c) {
    cpu::leaky_relu_fwd<T>(c.o<T>(), c.x<T>(0), c.n(0), c.f("alpha"));
  };
  k["leaky_relu_grad"] = [](const Call &c) {
    cpu::leaky_relu_bwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(2), c.n(0), c.f("alpha"));
  };

#define NNG_BINARY(op)                                                                             \
  k[#op] = [](const Call &c) {                                                                     \
    cpu::op##_fwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), c.dims(0), c.dims(1));                        \
  };
  NNG_BINARY(add)
  NNG_BINARY(sub)
  NNG_BINARY(mul)
  NNG_BINARY(div)
  NNG_BINARY(maximum)
  NNG_BINARY(minimum)
  NNG_BINARY(pow)
#undef NNG_BINARY
#define NNG_BINARY_GRAD(op)                                                                        \
  k[#op "_grad"] = [](const Call &c) {                                                             \
    cpu::op##_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.x<T>(0), c.x<T>(2), c.x<T>(3), c.dims(2), \
                     c.dims(3));                                                                   \
  };
  NNG_BINARY_GRAD(mul)
  NNG_BINARY_GRAD(div)
  NNG_BINARY_GRAD(maximum)
  NNG_BINARY_GRAD(minimum)
  NNG_BINARY_GRAD(pow)
#undef NNG_BINARY_GRAD
  k["sum_to"] = [](const Call &c) {
    cpu::sum_to_fwd<T>(c.o<T>(), c.x<T>(0), Dims::of(c.out.shape), c.dims(0));
  };
  k["constant"] = [](const Call &c) { *c.o<T>() = static_cast<T>(c.f("value")); };

  k["matmul"] = [](const Call &c) {
    cpu::matmul_fwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), c.dims(0), c.dims(1));
  };
  k["matmul_grad"] = [](const Call &c) {
    cpu::matmul_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.x<T>(0), c.x<T>(2), c.x<T>(3),
                       c.dims(2), c.dims(3));
  };
  auto perm = [](const Call &c, size_t input) {
    std::vector<int64_t> p = c.ints("perm");
    if (p.empty()) // default: reverse the axes
      for (int64_t a = static_cast<int64_t>(c.in.at(input).shape.size()); a-- > 0;)
        p.push_back(a);
    return Dims::of(p);
  };
  k["transpose"] = [perm](const Call &c) {
    cpu::transpose_fwd<T>(c.o<T>(), c.x<T>(0), c.dims(0), perm(c, 0));
  };
  k["transpose_grad"] = [perm](const Call &c) {
    cpu::transpose_bwd<T>(c.o<T>(), c.x<T>(0), c.dims(2), perm(c, 2));
  };
  for (const char *op : {"reshape", "flatten"}) {
    k[op] = [](const Call &c) { cpu::reshape_fwd<T>(c.o<T>(), c.x<T>(0), c.n(0)); };
    k[std::string(op) + "_grad"] = [](const Call &c) {
      cpu::reshape_bwd<T>(c.o<T>(), c.x<T>(0), c.n(0));
    };
  }
  k["concat"] = [](const Call &c) {
    cpu::AxisSplit s = cpu::splitAt(Dims::of(c.out.shape), c.i("axis"));
    std::vector<const T *> xs;
    std::vector<int64_t> sizes;
    int64_t axis = s.axis == 0 ? 0 : c.i("axis");
    for (size_t j = 0; j < c.in.size(); ++j) {
      xs.push_back(c.x<T>(j));
      Dims d = c.dims(j);
      sizes.push_back(d[static_cast<int>(axis < 0 ? axis + d.rank : axis)]);
    }
    cpu::concat_fwd<T>(c.o<T>(), xs.data(), sizes.data(), static_cast<int>(xs.size()), s.outer,
                       s.inner);
  };
  k["concat_grad"] = [](const Call &c) {
    cpu::AxisSplit s = cpu::splitAt(c.dims(1), c.i("axis"));
    const size_t count = c.in.size() - 2;
    std::vector<T *> dxs(count, nullptr);
    std::vector<int64_t> sizes;
    for (size_t j = 0; j < count; ++j) {
      Dims d = c.dims(j + 2);
      int64_t axis = c.i("axis");
      sizes.push_back(d[static_cast<int>(axis < 0 ? axis + d.rank : axis)]);
    }
    dxs[static_cast<size_t>(c.wrt())] = c.o<T>();
    cpu::concat_bwd<T>(dxs.data(), c.x<T>(0), sizes.data(), static_cast<int>(count), s.outer,
                       s.inner);
  };
  auto sliceBounds = [](const Call &c, size_t input, int64_t &begin, int64_t &end) {
    cpu::AxisSplit s = cpu::splitAt(c.dims(input), c.i("axis"));
    begin = c.i("begin");
    end = c.i("end");
    if (begin < 0) begin += s.axis;
    if (end < 0) end += s.axis;
    return s;
  };
  k["slice"] = [sliceBounds](const Call &c) {
    int64_t b, e;
    cpu::AxisSplit s = sliceBounds(c, 0, b, e);
    cpu::slice_fwd<T>(c.o<T>(), c.x<T>(0), s.outer, s.axis, s.inner, b, e);
  };
  k["slice_grad"] = [sliceBounds](const Call &c) {
    int64_t b, e;
    cpu::AxisSplit s = sliceBounds(c, 2, b, e);
    cpu::slice_bwd<T>(c.o<T>(), c.x<T>(0), s.outer, s.axis, s.inner, b, e);
  };

#define NNG_REDUCE(op)                                                                             \
  k[#op] = [](const Call &c) {                                                                     \
    cpu::op##_fwd<T>(c.o<T>(), c.x<T>(0), c.dims(0), cpu::reduceMask(c.dims(0), c.ints("axis")));  \
  };
  NNG_REDUCE(sum)
  NNG_REDUCE(mean)
  NNG_REDUCE(max)
#undef NNG_REDUCE
  k["sum_grad"] = [](const Call &c) {
    cpu::sum_bwd<T>(c.o<T>(), c.x<T>(0), c.dims(2), cpu::reduceMask(c.dims(2), c.ints("axis")));
  };
  k["mean_grad"] = [](const Call &c) {
    cpu::mean_bwd<T>(c.o<T>(), c.x<T>(0), c.dims(2), cpu::reduceMask(c.dims(2), c.ints("axis")));
  };
  k["max_grad"] = [](const Call &c) {
    cpu::max_bwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(2), c.dims(2),
                    cpu::reduceMask(c.dims(2), c.ints("axis")));
  };
  k["softmax"] = [](const Call &c) {
    cpu::AxisSplit s = cpu::splitAt(c.dims(0), c.i("axis"));
    cpu::softmax_fwd<T>(c.o<T>(), c.x<T>(0), s.outer, s.axis, s.inner);
  };
  k["softmax_grad"] = [](const Call &c) {
    cpu::AxisSplit s = cpu::splitAt(c.dims(2), c.i("axis"));
    cpu::softmax_bwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), s.outer, s.axis, s.inner);
  };
  k["log_softmax"] = [](const Call &c) {
    cpu::AxisSplit s = cpu::splitAt(c.dims(0), c.i("axis"));
    cpu::log_softmax_fwd<T>(c.o<T>(), c.x<T>(0), s.outer, s.axis, s.inner);
  };
  k["log_softmax_grad"] = [](const Call &c) {
    cpu::AxisSplit s = cpu::splitAt(c.dims(2), c.i("axis"));
    cpu::log_softmax_bwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), s.outer, s.axis, s.inner);
  };

  // Losses. Labels may be i32 or i64.
  auto crossEntropy = [](const Call &c, size_t logits) {
    const Tensor &labels = c.in.at(logits + 1);
    int64_t n = c.in.at(logits).shape[0], classes = c.in.at(logits).shape[1];
    bool fwd = logits == 0;
    if (labels.dtype == DType::I64) {
      if (fwd)
        cpu::cross_entropy_fwd<T, int64_t>(c.o<T>(), c.x<T>(0), labels.as<int64_t>(), n, classes);
      else
        cpu::cross_entropy_bwd<T, int64_t>(c.o<T>(), c.x<T>(0), c.x<T>(2), labels.as<int64_t>(),
                                           n, classes);
    } else {
      if (fwd)
        cpu::cross_entropy_fwd<T, int32_t>(c.o<T>(), c.x<T>(0), labels.as<int32_t>(), n, classes);
      else
        cpu::cross_entropy_bwd<T, int32_t>(c.o<T>(), c.x<T>(0), c.x<T>(2), labels.as<int32_t>(),
                                           n, classes);
    }
  };
  for (const char *op : {"cross_entropy", "softmax_cross_entropy"}) {
    k[op] = [crossEntropy](const Call &c) { crossEntropy(c, 0); };
    k[std::string(op) + "_grad"] = [crossEntropy](const Call &c) { crossEntropy(c, 2); };
  }
  k["mse"] = [](const Call &c) { cpu::mse_fwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), c.n(0)); };
  k["mse_grad"] = [](const Call &c) {
    cpu::mse_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.x<T>(0), c.x<T>(2), c.x<T>(3), c.n(2));
  };
  k["bce_with_logits"] = [](const Call &c) {
    cpu::bce_with_logits_fwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), c.n(0));
  };
  k["bce_with_logits_grad"] = [](const Call &c) {
    cpu::bce_with_logits_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.x<T>(0), c.x<T>(2),
                                c.x<T>(3), c.n(2));
  };

  // Convolution and pooling (NCHW).
  // conv2d, and fused_conv2d (the fuse pass makes it): conv2d + bias + activation, the
  // bias and activation applied to each image's output right after its GEMM. As for
  // fused_dense, no pre-activation is kept: the backward differentiates relu, sigmoid
  // and tanh from y. conv2d_grad(dz, y, x, w) is fused_conv2d_grad(dy, y, x, w, b)
  // without the activation: the same inputs in the same places.

  // The im2col workspace of a conv node whose x and w are inputs xAt and xAt + 1.
  auto convWorkspace = [](const Call &c, size_t xAt) {
    const auto &x = c.in[xAt].shape, &w = c.in[xAt + 1].shape;
    return scratch<T>(cpu::conv2d_workspace_size(x[0], x[1], x[2], x[3], w[0], w[2], w[3],
                                                 c.i("stride"), c.i("pad")));
  };
  auto convForward = [convWorkspace](const Call &c, const T *bias, cpu::Activation act) {
    const auto &x = c.in[0].shape, &w = c.in[1].shape;
    cpu::conv2d_fwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), x[0], x[1], x[2], x[3], w[0], w[2], w[3],
                       c.i("stride"), c.i("pad"), convWorkspace(c, 0), bias, act);
  };
  // dx or dw through dz = dy * act'(y).
  auto convBackward = [convWorkspace](const Call &c, const T *dy, const T *y,
                                      cpu::Activation act) {
    const auto &x = c.in[2].shape, &w = c.in[3].shape;
    cpu::conv2d_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), dy, c.x<T>(2), c.x<T>(3), x[0], x[1],
                       x[2], x[3], w[0], w[2], w[3], c.i("stride"), c.i("pad"),
                       convWorkspace(c, 2), y, act);
  };
  k["conv2d"] = [convForward](const Call &c) { convForward(c, nullptr, cpu::Activation::None); };
  k["fused_conv2d"] = [convForward](const Call &c) {
    convForward(c, c.x<T>(2), activationOf(c.s("act")));
  };
  k["conv2d_grad"] = [convBackward](const Call &c) {
    convBackward(c, c.x<T>(0), nullptr, cpu::Activation::None);
  };
  // fused_conv2d_grad(dy, y, x, w, b): wrt 2 is the activation mask and the per-channel
  // sums of dy in one pass; wrt 0, 1 the conv's backward through dz = dy * act'(y).
  k["fused_conv2d_grad"] = [convWorkspace, convBackward](const Call &c) {
    const auto &x = c.in[2].shape, &w = c.in[3].shape, &y = c.in[1].shape;
    cpu::Activation act = activationOf(c.s("act"));
    const T *dy = c.x<T>(0), *out = c.x<T>(1);
    if (act == cpu::Activation::Gelu) {
      // gelu's derivative needs the pre-activation z, which the graph does not keep (the
      // fuse pass leaves gelu out in training graphs; a hand-written one gets here): the
      // convolution runs again into a buffer, and dz = dy * gelu'(z) is written over z.
      T *z = scratch<T>(c.n(1), 1);
      cpu::conv2d_fwd<T>(z, c.x<T>(2), c.x<T>(3), x[0], x[1], x[2], x[3], w[0], w[2], w[3],
                         c.i("stride"), c.i("pad"), convWorkspace(c, 2), c.x<T>(4));
      cpu::gelu_bwd<T>(z, dy, z, c.n(1));
      dy = z, out = nullptr, act = cpu::Activation::None;
    }
    if (c.wrt() == 2)
      return cpu::conv2d_bias_bwd<T>(c.o<T>(), dy, out, y[0], y[1], y[2] * y[3], act);
    convBackward(c, dy, out, act);
  };
  auto poolStride = [](const Call &c) { return c.i("stride") ? c.i("stride") : c.i("kernel"); };
  k["max_pool2d"] = [poolStride](const Call &c) {
    const auto &x = c.in[0].shape;
    // The backward finds each window's maximum again from x: no argmax to keep.
    cpu::max_pool2d_fwd<T>(c.o<T>(), nullptr, c.x<T>(0), x[0], x[1], x[2], x[3],
                           c.i("kernel"), poolStride(c), c.i("pad"));
  };
  k["max_pool2d_grad"] = [poolStride](const Call &c) {
    const auto &x = c.in[2].shape;
    cpu::max_pool2d_bwd<T>(c.o<T>(), c.x<T>(0), nullptr, c.x<T>(2), x[0], x[1], x[2], x[3],
                           c.i("kernel"), poolStride(c), c.i("pad"));
  };
  k["avg_pool2d"] = [poolStride](const Call &c) {
    const auto &x = c.in[0].shape;
    cpu::avg_pool2d_fwd<T>(c.o<T>(), c.x<T>(0), x[0], x[1], x[2], x[3], c.i("kernel"),
                           poolStride(c), c.i("pad"));
  };
  k["avg_pool2d_grad"] = [poolStride](const Call &c) {
    const auto &x = c.in[2].shape;
    cpu::avg_pool2d_bwd<T>(c.o<T>(), c.x<T>(0), x[0], x[1], x[2], x[3], c.i("kernel"),
                           poolStride(c), c.i("pad"));
  };
  k["global_avg_pool"] = [](const Call &c) {
    const auto &x = c.in[0].shape;
    cpu::global_avg_pool_fwd<T>(c.o<T>(), c.x<T>(0), x[0], x[1], x[2] * x[3]);
  };
  k["global_avg_pool_grad"] = [](const Call &c) {
    const auto &x = c.in[2].shape;
    cpu::global_avg_pool_bwd<T>(c.o<T>(), c.x<T>(0), x[0], x[1], x[2] * x[3]);
  };

  // Normalization: x is [N, C, ...] for batch_norm, [..., D] for layer_norm.
  auto bnSizes = [](const Tensor &x, int64_t &n, int64_t &ch, int64_t &hw) {
    n = x.shape[0];
    ch = x.shape.size() > 1 ? x.shape[1] : 1;
    hw = 1;
    for (size_t d = 2; d < x.shape.size(); ++d)
      hw *= x.shape[d];
  };
  k["batch_norm"] = [bnSizes](const Call &c) {
    int64_t n, ch, hw;
    bnSizes(c.in[0], n, ch, hw);
    T *runMean = c.in[3].as<T>(), *runVar = c.in[4].as<T>();
    if (c.ctx.training) {
      T *mean = scratch<T>(ch, 0), *invStd = scratch<T>(ch, 1);
      cpu::batch_norm_train_fwd<T>(c.o<T>(), mean, invStd, runMean, runVar,
                                   c.x<T>(0), c.x<T>(1), c.x<T>(2), n, ch, hw, c.f("eps"),
                                   c.f("momentum"));
    } else {
      cpu::batch_norm_eval_fwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), c.x<T>(2), runMean, runVar, n,
                                  ch, hw, c.f("eps"));
    }
  };
  k["batch_norm_grad"] = [bnSizes](const Call &c) {
    int64_t n, ch, hw;
    bnSizes(c.in[2], n, ch, hw);
    // nullptr statistics: the kernel recomputes the batch's from x.
    cpu::batch_norm_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.gradFor<T>(2), c.x<T>(0),
                           c.x<T>(2), c.x<T>(3), nullptr, nullptr, n, ch, hw, c.f("eps"));
  };
  k["layer_norm"] = [](const Call &c) {
    int64_t cols = c.in[0].shape.back(), rows = c.n(0) / std::max<int64_t>(cols, 1);
    T *mean = scratch<T>(rows, 0), *rstd = scratch<T>(rows, 1);
    cpu::layer_norm_fwd<T>(c.o<T>(), mean, rstd, c.x<T>(0), c.x<T>(1), c.x<T>(2),
                           rows, cols, c.f("eps"));
  };
  k["layer_norm_grad"] = [](const Call &c) {
    int64_t cols = c.in[2].shape.back(), rows = c.n(2) / std::max<int64_t>(cols, 1);
    cpu::layer_norm_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.gradFor<T>(2), c.x<T>(0),
                           c.x<T>(2), c.x<T>(3), nullptr, nullptr, rows, cols, c.f("eps"));
  };

  k["dropout"] = [](const Call &c) {
    if (!c.ctx.training) {
      std::memcpy(c.o<T>(), c.x<T>(0), static_cast<size_t>(c.n(0)) * sizeof(T));
      return;
    }
    uint8_t *mask = scratch<uint8_t>(c.n(0));
    cpu::dropout_fwd<T>(c.o<T>(), mask, c.x<T>(0), c.n(0), c.f("p"),
                        dropoutSeed(c.ctx, c.i("seed")), c.ctx.step);
  };
  k["dropout_grad"] = [](const Call &c) {
    if (!c.ctx.training) {
      std::memcpy(c.o<T>(), c.x<T>(0), static_cast<size_t>(c.n(0)) * sizeof(T));
      return;
    }
    cpu::dropout_bwd<T>(c.o<T>(), c.x<T>(0), c.n(0), c.f("p"),
                        dropoutSeed(c.ctx, c.i("seed")), c.ctx.step);
  };

  auto embedding = [](const Call &c, size_t ids, bool fwd) {
    const Tensor &idT = c.in.at(ids);
    const auto &w = c.in.at(ids + 1).shape;
    if (idT.dtype == DType::I64) {
      if (fwd)
        cpu::embedding_fwd<T, int64_t>(c.o<T>(), idT.as<int64_t>(), c.x<T>(ids + 1),
                                       idT.elements(), w[0], w[1]);
      else
        cpu::embedding_bwd<T, int64_t>(c.o<T>(), c.x<T>(0), idT.as<int64_t>(), idT.elements(),
                                       w[0], w[1]);
    } else {
      if (fwd)
        cpu::embedding_fwd<T, int32_t>(c.o<T>(), idT.as<int32_t>(), c.x<T>(ids + 1),
                                       idT.elements(), w[0], w[1]);
      else
        cpu::embedding_bwd<T, int32_t>(c.o<T>(), c.x<T>(0), idT.as<int32_t>(), idT.elements(),
                                       w[0], w[1]);
    }
  };
  k["embedding"] = [embedding](const Call &c) { embedding(c, 0, true); };
  k["embedding_grad"] = [embedding](const Call &c) { embedding(c, 2, false); };

  // Fused ops (core/passes/fuse.cpp). The forward keeps no pre-activation: the
  // graph has no place for it, and the backward differentiates relu, sigmoid and tanh
  // from y (the fuse pass leaves gelu outside fused_dense in training graphs).
  k["fused_dense"] = [](const Call &c) {
    int64_t kdim = c.in[1].shape[0], n = c.in[1].shape[1], m = c.n(0) / std::max<int64_t>(kdim, 1);
    cpu::fused_dense_fwd<T>(c.o<T>(), nullptr, c.x<T>(0), c.x<T>(1), c.x<T>(2), m, kdim, n,
                            activationOf(c.s("act")));
  };
  k["fused_dense_grad"] = [](const Call &c) {
    int64_t kdim = c.in[3].shape[0], n = c.in[3].shape[1], m = c.n(2) / std::max<int64_t>(kdim, 1);
    const cpu::Activation act = activationOf(c.s("act"));
    // The bias gradient: mask and column sums in one pass over dy and y.
    if (c.wrt() == 2 && act != cpu::Activation::Gelu)
      return cpu::fused_dense_bias_bwd<T>(c.o<T>(), c.x<T>(0), c.x<T>(1), m, n, act);
    T *ws = act == cpu::Activation::None ? nullptr : cpu::reusableWorkspace<T>(m * n);
    if (act == cpu::Activation::Gelu) {
      // Recomputes the pre-activation (one more GEMM) into the workspace, then dz.
      cpu::fused_dense_bwd<T>(c.gradFor<T>(0), c.gradFor<T>(1), c.gradFor<T>(2), c.x<T>(0),
                              c.x<T>(2), c.x<T>(3), c.x<T>(4), c.x<T>(1), nullptr, m, kdim, n,
                              act, ws);
      return;
    }
    // dz = dy * act'(y) (dy itself for none), then one GEMM: dx = dz w^T, dw = x^T dz.
    const T *dz = c.x<T>(0);
    if (ws) {
      cpu::fused_dense_act_bwd<T>(ws, c.x<T>(0), c.x<T>(1), m, n, act);
      dz = ws;
    }
    if (c.wrt() == 0)
      cpu::gemm<T>(c.o<T>(), dz, c.x<T>(3), m, kdim, n, false, true, T(1), T(0));
    else
      cpu::gemm<T>(c.o<T>(), c.x<T>(2), dz, kdim, n, m, true, false, T(1), T(0));
  };
  k["fused_elementwise"] = [](const Call &c) {
    const cpu::ChainProgram &p = cpu::chainProgram(c.s("chain"), c.in.size());
    std::vector<const T *> xs;
    std::vector<Dims> shapes;
    for (size_t j = 0; j < c.in.size(); ++j) {
      xs.push_back(c.x<T>(j));
      shapes.push_back(c.dims(j));
    }
    cpu::fused_elementwise_fwd<T>(c.o<T>(), Dims::of(c.out.shape), xs.data(), shapes.data(),
                                  static_cast<int>(xs.size()), p);
  };

  // Optimizer updates: the param (input 0) and the state buffers change in place; lr
  // and the 1-based step are f64 scalars.
  auto mut = [](const Call &c, size_t i) { return static_cast<T *>(c.in.at(i).data); };
  auto scalar = [](const Call &c, size_t i) { return *c.in.at(i).as<double>(); };
  // Loss scaling: an optional last input `finite` (bool) false skips the step.
  auto skipped = [](const Call &c, size_t finite) {
    return c.in.size() > finite && *c.in[finite].as<uint8_t>() == 0;
  };
  k["sgd_update"] = [mut, scalar, skipped](const Call &c) {
    if (skipped(c, 5))
      return;
    cpu::sgd_step<T>(mut(c, 0), mut(c, 2), c.x<T>(1), c.n(0), static_cast<int64_t>(scalar(c, 4)),
                     scalar(c, 3), c.f("momentum"), 0.0, c.f("weight_decay"),
                     c.node.attrs.at("nesterov").b);
  };
  k["adam_update"] = [mut, scalar, skipped](const Call &c) {
    if (skipped(c, 6))
      return;
    const auto step = static_cast<int64_t>(scalar(c, 5));
    auto update = c.node.attrs.at("decoupled").b ? cpu::adamw_step<T> : cpu::adam_step<T>;
    update(mut(c, 0), mut(c, 2), mut(c, 3), c.x<T>(1), c.n(0), step, scalar(c, 4), c.f("beta1"),
           c.f("beta2"), c.f("eps"), c.f("weight_decay"));
  };
  k["all_finite"] = [](const Call &c) {
    bool finite = true;
    for (const Tensor &t : c.in)
      finite = finite && (t.dtype == DType::F64 ? cpu::all_finite(t.as<double>(), t.elements())
                                                : cpu::all_finite(t.as<float>(), t.elements()));
    *c.o<uint8_t>() = finite ? 1 : 0;
  };
  // The scale (input 0, the output's buffer) and good_steps change in place; f32[].
  k["loss_scale_update"] = [](const Call &c) {
    cpu::loss_scale_update(static_cast<float *>(c.in.at(0).data),
                           static_cast<float *>(c.in.at(1).data), *c.x<uint8_t>(2) != 0,
                           c.f("growth"), c.f("backoff"), c.i("interval"));
  };
  return k;
}

// cast between any of f32, f64, i32, i64, bool, f16, bf16. f16/bf16 are stored as f32
// (cpu/kernels/half.h): a cast to them converts to f32, then rounds.
void runCast(const Tensor &x, Tensor &y) {
  const int64_t n = x.elements();
  const DType from = cpu::storageDType(x.dtype), to = cpu::storageDType(y.dtype);
  auto fail = [&]() {
    throw UserError(std::string("cpu: cast from ") + dtypeName(x.dtype) + " to " +
                    dtypeName(y.dtype) + " is not supported");
  };
  auto viaDouble = [&](auto *out) {
    using O = std::remove_pointer_t<decltype(out)>;
    switch (from) {
    case DType::F32: cpu::cast_fwd<O, float>(out, x.as<float>(), n); return;
    case DType::F64: cpu::cast_fwd<O, double>(out, x.as<double>(), n); return;
    case DType::I32: cpu::cast_fwd<O, int32_t>(out, x.as<int32_t>(), n); return;
    case DType::I64: cpu::cast_fwd<O, int64_t>(out, x.as<int64_t>(), n); return;
    case DType::Bool: cpu::cast_fwd<O, uint8_t>(out, x.as<uint8_t>(), n); return;
    default: fail();
    }
  };
  switch (to) {
  case DType::F32: viaDouble(y.as<float>()); break;
  case DType::F64: viaDouble(y.as<double>()); break;
  case DType::I32: viaDouble(y.as<int32_t>()); break;
  case DType::I64: viaDouble(y.as<int64_t>()); break;
  case DType::Bool: viaDouble(y.as<uint8_t>()); break;
  default: fail();
  }
  cpu::roundToDType(y.dtype, y.as<float>(), n);
}

class CpuBackend final : public Backend {
public:
  CpuBackend() : f32_(kernelTable<float>()), f64_(kernelTable<double>()) { cpu::flushDenormals(); }

  std::string name() const override { return "cpu"; }
  size_t storageBytes(DType t) const override { return cpu::storageBytes(t); }
  void *allocate(size_t bytes) override {
    // 64-byte alignment: whole cache lines, and what AVX loads like.
    void *p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    NNG_CHECK(p != nullptr, "out of host memory allocating " + std::to_string(bytes) + " bytes");
    return p;
  }
  void release(void *ptr) override { std::free(ptr); }
  void copyIn(void *dst, const void *src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copyOut(void *dst, const void *src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void fillZero(void *dst, size_t bytes) override { std::memset(dst, 0, bytes); }

  void run(const Node &node, const std::vector<Tensor> &inputs, Tensor &output,
           const KernelContext &ctx) override {
    if (node.op == "cast")
      return runCast(inputs.at(0), output);
    const auto &table = output.dtype == DType::F64 || (node.op.size() > 5 && !inputs.empty() &&
                                                       inputs[0].dtype == DType::F64)
                            ? f64_
                            : f32_;
    auto it = table.find(node.op);
    if (it == table.end())
      throw UserError("the cpu backend has no kernel for '" + node.op + "'");
    if (output.elements() == 0)
      return;
    it->second(Call{node, inputs, output, ctx});
    // Half precision emulation: the kernel computed in f32; keep what f16/bf16 keeps.
    if (cpu::isHalf(output.dtype))
      cpu::roundToDType(output.dtype, output.as<float>(), output.elements());
  }

  double sumSquares(const Tensor &t) override {
    const float *x = t.as<float>();
    return cpu::blockedSum(t.elements(), [x](int64_t i) { return double(x[i]) * x[i]; });
  }
  void scale(Tensor &t, double factor) override {
    float *x = t.as<float>();
    const float f = static_cast<float>(factor);
    for (int64_t i = 0, n = t.elements(); i < n; ++i)
      x[i] *= f;
  }
  void accumulate(Tensor &acc, const Tensor &t) override {
    float *a = acc.as<float>();
    const float *x = t.as<float>();
    for (int64_t i = 0, n = t.elements(); i < n; ++i)
      a[i] += x[i];
  }

private:
  std::map<std::string, Kernel> f32_, f64_;
};

} // namespace

std::unique_ptr<Backend> makeCpuBackend() { return std::make_unique<CpuBackend>(); }

void registerCpuBackend() {
  registerBackend("cpu", [](const std::string &) { return makeCpuBackend(); });
}

} // namespace nng

// The fuse pass: fused graphs compute what the unfused ones compute (outputs, loss and
// gradients, on random inputs, on every example and on hand-built patterns), the rules
// fire and decline as documented, and the fused kernels and chain language hold up.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <functional>
#include <map>
#include <memory>
#include <random>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/kernels/elementwise.h"
#include "core/cpu/kernels/fused.h"
#include "core/cpu/kernels/linalg.h"
#include "core/ir/retype.h"
#include "core/ops/fused.h"
#include "core/ops/registry.h"
#include "core/passes/autodiff.h"
#include "core/passes/pass_manager.h"
#include "core/passes/passes.h"
#include "core/runtime/executor.h"
#include "core/train/gradcheck.h"
#include "dsl/frontend.h"
#include "graph_testing.h"
#include "example_testing.h"

namespace nng {
namespace {

using testing::addOp;
using testing::exampleNames;

constexpr int64_t kBatch = 4;

// Runs `g` with every symbol bound to kBatch: float inputs and params filled from a
// generator seeded by the value's name (so two graphs sharing names get the same
// values), integer inputs with classes in [0, 3). Returns every output and the loss
// by name, as doubles.
std::map<std::string, std::vector<double>> runByName(const Graph &g, bool training = true,
                                                     uint64_t seed = 7) {
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  ex.bind(testing::symbolicDimsAt(g, kBatch));
  std::vector<ValueId> fill(g.inputs().begin(), g.inputs().end());
  fill.insert(fill.end(), g.params().begin(), g.params().end());
  for (ValueId v : fill) {
    const Value &val = g.value(v);
    std::mt19937_64 rng(seed ^ std::hash<std::string>()(val.name));
    const int64_t n = ex.tensor(v).elements();
    std::normal_distribution<double> normal(0.0, 1.0);
    // Running variances must be positive.
    const bool positive = val.name.find("var") != std::string::npos;
    switch (val.type.dtype) {
    case DType::F32: {
      std::vector<float> data(static_cast<size_t>(n));
      for (float &x : data)
        x = positive ? float(0.5 + std::abs(normal(rng))) : float(normal(rng));
      ex.write(v, data.data(), data.size() * sizeof(float));
      break;
    }
    case DType::F64: {
      std::vector<double> data(static_cast<size_t>(n));
      for (double &x : data)
        x = positive ? 0.5 + std::abs(normal(rng)) : normal(rng);
      ex.write(v, data.data(), data.size() * sizeof(double));
      break;
    }
    case DType::I64: {
      std::vector<int64_t> data(static_cast<size_t>(n));
      for (int64_t &x : data)
        x = static_cast<int64_t>(rng() % 3);
      ex.write(v, data.data(), data.size() * sizeof(int64_t));
      break;
    }
    default:
      ADD_FAILURE() << "unexpected input dtype " << val.type.str();
    }
  }
  KernelContext ctx;
  ctx.training = training;
  ex.run(ctx);
  std::map<std::string, std::vector<double>> out;
  std::vector<ValueId> wanted = g.outputs();
  if (g.loss())
    wanted.push_back(*g.loss());
  for (ValueId v : wanted) {
    const std::string &name = g.value(v).name;
    if (g.typeOf(v).dtype == DType::F64) {
      out[name] = ex.read<double>(v);
    } else {
      std::vector<float> f = ex.read<float>(v);
      out[name] = std::vector<double>(f.begin(), f.end());
    }
  }
  return out;
}

// Each output agrees to `tol` relative to the output's largest magnitude.
void expectSameOutputs(const Graph &a, const Graph &b, double tol, bool training = true) {
  auto ra = runByName(a, training), rb = runByName(b, training);
  ASSERT_EQ(ra.size(), rb.size());
  for (const auto &[name, va] : ra) {
    ASSERT_TRUE(rb.count(name)) << name;
    const auto &vb = rb.at(name);
    ASSERT_EQ(va.size(), vb.size()) << name;
    double scale = 1e-30, diff = 0;
    for (size_t i = 0; i < va.size(); ++i) {
      scale = std::max({scale, std::abs(va[i]), std::abs(vb[i])});
      diff = std::max(diff, std::abs(va[i] - vb[i]));
    }
    EXPECT_LE(diff, tol * scale) << name << ": max difference " << diff << " at scale " << scale;
  }
}

// Runs the fuse pass alone (with the verifier, as the pipeline does).
Graph fused(Graph g, PassContext *ctxOut = nullptr) {
  PassContext ctx;
  runPipeline(g, {"fuse"}, ctx);
  if (ctxOut)
    *ctxOut = ctx;
  return g;
}

size_t countOp(const Graph &g, const std::string &op) {
  size_t n = 0;
  for (const Node &node : g.nodes())
    n += node.op == op;
  return n;
}

std::string notes(const PassContext &ctx) {
  std::string s;
  for (const PassNote &n : ctx.notes())
    s += n.message + "\n";
  return s;
}

Graph loadExample(const std::string &name) {
  const std::string path = std::string(NNG_SOURCE_DIR) + "/examples/" + name + ".nn";
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::readSource(path), "", sink);
  EXPECT_TRUE(g.has_value()) << sink.formatAll();
  return g ? *g : Graph{};
}

// ---- every example, forward and after differentiate ------------------------------------

class ExampleFuse : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleFuse, ForwardComputesTheSame) {
  Graph g = loadExample(GetParam());
  Graph f = fused(g);
  EXPECT_TRUE(verify(f).empty());
  EXPECT_LT(f.nodes().size(), g.nodes().size()) << "nothing fused in " << GetParam();
  expectSameOutputs(g, f, 1e-5);
}

TEST_P(ExampleFuse, TrainingGraphComputesTheSameGradients) {
  Graph g = loadExample(GetParam());
  ASSERT_TRUE(differentiate(g));
  Graph f = fused(g);
  EXPECT_TRUE(verify(f).empty());
  EXPECT_GT(countOp(f, "fused_dense_grad"), 0u) << GetParam();
  // Fused layers took their backward nodes along: no matmul_grad or conv2d_grad is left.
  EXPECT_EQ(countOp(f, "matmul_grad"), 0u) << GetParam();
  EXPECT_EQ(countOp(f, "conv2d_grad"), 0u) << GetParam();
  expectSameOutputs(g, f, 1e-5);
  // In float64 the fused gradients equal the unfused ones to rounding.
  expectSameOutputs(retypeFloats(g, DType::F32, DType::F64),
                    retypeFloats(f, DType::F32, DType::F64), 1e-12);
}

// Every examples/*.nn, found at run time so a new example is covered too.
INSTANTIATE_TEST_SUITE_P(Examples, ExampleFuse, ::testing::ValuesIn(exampleNames()),
                         [](const auto &info) { return info.param; });

// ---- dense ----------------------------------------------------------------------------

// y = act(x @ w + b); loss = sum(y * r).
Graph denseGraph(const std::string &act, bool loss, DType dt = DType::F32) {
  Graph g;
  g.name = "dense_" + act;
  ValueId x = g.addInput("x", TensorType{dt, {Dim::sym("N"), 6}});
  ValueId r = g.addInput("r", TensorType{dt, {Dim::sym("N"), 5}});
  Initializer init{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}};
  ValueId w = g.addParam("w", TensorType{dt, {6, 5}}, init);
  ValueId b = g.addParam("b", TensorType{dt, {5}}, init);
  ValueId y = addOp(g, "add", {addOp(g, "matmul", {x, w}), b});
  if (act != "none")
    y = addOp(g, act, {y});
  g.rename(y, "y");
  g.markOutput(y);
  if (loss)
    g.setLoss(addOp(g, "sum", {addOp(g, "mul", {y, r})}, {}, "loss"));
  return g;
}

class DenseAct : public ::testing::TestWithParam<std::string> {};

TEST_P(DenseAct, ForwardFusesTheActivation) {
  const std::string act = GetParam();
  Graph g = denseGraph(act, false);
  Graph f = fused(g);
  ASSERT_EQ(countOp(f, "fused_dense"), 1u);
  EXPECT_EQ(countOp(f, "matmul") + countOp(f, "add"), 0u);
  for (const Node &n : f.nodes()) {
    if (n.op == "fused_dense") {
      EXPECT_EQ(n.attrs.at("act").s, act);
    }
  }
  expectSameOutputs(g, f, 1e-5);
}

TEST_P(DenseAct, TrainingFusesForwardAndBackward) {
  const std::string act = GetParam();
  Graph g = denseGraph(act, true);
  ASSERT_TRUE(differentiate(g));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "fused_dense"), 1u);
  EXPECT_EQ(countOp(f, "matmul_grad") + countOp(f, "sum_to") + countOp(f, "matmul"), 0u)
      << notes(ctx);
  // wrt 1 (w) and 2 (b); x is an input, so no wrt 0.
  EXPECT_EQ(countOp(f, "fused_dense_grad"), 2u);
  // gelu's gradient needs the pre-activation: it stays a separate op.
  EXPECT_EQ(countOp(f, "gelu"), act == "gelu" ? 1u : 0u);
  if (act == "gelu") {
    EXPECT_NE(notes(ctx).find("gelu not fused into the dense layer"), std::string::npos);
  }
  expectSameOutputs(g, f, 1e-5);
  expectSameOutputs(retypeFloats(g, DType::F32, DType::F64),
                    retypeFloats(f, DType::F32, DType::F64), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Acts, DenseAct,
                         ::testing::Values("none", "relu", "gelu", "sigmoid", "tanh"));

// The backward kernels the fused graph uses (bias mask + sum, dz then one GEMM),
// against finite differences through the gradient checker.
TEST(FuseGradCheck, FusedDenseGradMatchesFiniteDifferences) {
  for (const char *act : {"none", "relu", "sigmoid", "tanh", "gelu"}) {
    Graph g;
    g.name = act;
    Initializer init{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}};
    ValueId x = g.addParam("x", TensorType{DType::F32, {3, 4}}, init);
    ValueId w = g.addParam("w", TensorType{DType::F32, {4, 5}}, init);
    ValueId b = g.addParam("b", TensorType{DType::F32, {5}}, init);
    ValueId y = addOp(g, "fused_dense", {x, w, b}, {{"act", Attr::ofName(act)}});
    ValueId r = g.addInput("r", g.typeOf(y));
    g.setLoss(addOp(g, "sum", {addOp(g, "mul", {y, r})}));
    GradCheckOptions opts;
    opts.elementsPerParam = 64;
    for (const auto &e : gradCheck(g, opts))
      EXPECT_LT(e.maxRelError, 1e-6) << act << ": " << e.param;
  }
}

TEST(FuseDense, DeclinesWhenTheIntermediateHasAnotherConsumer) {
  Graph g = denseGraph("relu", false);
  ValueId m = g.node(0).output; // the matmul
  g.markOutput(addOp(g, "neg", {m}, {}, "also"));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "fused_dense"), 0u);
  EXPECT_NE(notes(ctx).find("not fused: t0 has 2 consumers (add, neg)"), std::string::npos)
      << notes(ctx);
  expectSameOutputs(g, f, 1e-6);
}

TEST(FuseDense, KeepsTheActivationOutWhenThePreActivationIsShared) {
  Graph g = denseGraph("relu", false);
  ValueId a = g.node(1).output; // the bias add
  g.markOutput(a);
  PassContext ctx;
  Graph f = fused(g, &ctx);
  ASSERT_EQ(countOp(f, "fused_dense"), 1u);
  EXPECT_EQ(countOp(f, "relu"), 1u);
  EXPECT_NE(notes(ctx).find(
                "relu not fused into the dense layer: t1 has 1 consumer (relu) and is an output"),
            std::string::npos)
      << notes(ctx);
  expectSameOutputs(g, f, 1e-6);
}

TEST(FuseDense, DeclinesWithoutABias) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {2, 3}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {3, 4}}, Initializer{"zeros", {}});
  g.markOutput(addOp(g, "relu", {addOp(g, "matmul", {x, w})}, {}, "y"));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "fused_dense"), 0u);
  EXPECT_NE(notes(ctx).find("has no bias add of type f32[4]"), std::string::npos) << notes(ctx);
}

// ---- conv layers ------------------------------------------------------------------------

// y = act(conv2d(x * s, w, stride, pad) + b); loss = sum(y * r). x * s (s a param) makes
// the conv's input need a gradient, so the backward has all three (x, w, b). With
// `byHand` the layer is written as one fused_conv2d.
Graph convGraph(const std::string &act, int64_t stride, int64_t pad, bool byHand = false,
                bool loss = true) {
  Graph g;
  g.name = "conv_" + act;
  Initializer init{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}};
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 3, 7, 7}});
  ValueId s = g.addParam("s", TensorType{DType::F32, {3, 1, 1}}, init);
  ValueId w = g.addParam("w", TensorType{DType::F32, {4, 3, 3, 3}}, init);
  ValueId b = g.addParam("b", TensorType{DType::F32, {4, 1, 1}}, init);
  ValueId xs = addOp(g, "mul", {x, s});
  AttrMap attrs{{"stride", Attr::ofInt(stride)}, {"pad", Attr::ofInt(pad)}};
  ValueId y;
  if (byHand) {
    attrs["act"] = Attr::ofName(act);
    y = addOp(g, "fused_conv2d", {xs, w, b}, attrs);
  } else {
    y = addOp(g, "add", {addOp(g, "conv2d", {xs, w}, attrs), b});
    if (act != "none")
      y = addOp(g, act, {y});
  }
  g.rename(y, "y");
  g.markOutput(y);
  if (loss) {
    ValueId r = g.addInput("r", g.typeOf(y));
    g.setLoss(addOp(g, "sum", {addOp(g, "mul", {y, r})}, {}, "loss"));
  }
  return g;
}

struct ConvCase {
  std::string act;
  int64_t stride, pad;
};

class ConvLayer : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvLayer, ForwardFusesBiasAndActivation) {
  const ConvCase &c = GetParam();
  Graph g = convGraph(c.act, c.stride, c.pad, false, false);
  Graph f = fused(g);
  EXPECT_TRUE(verify(f).empty());
  ASSERT_EQ(countOp(f, "fused_conv2d"), 1u);
  EXPECT_EQ(countOp(f, "conv2d") + countOp(f, "add") + countOp(f, c.act), 0u);
  for (const Node &n : f.nodes())
    if (n.op == "fused_conv2d") {
      EXPECT_EQ(n.attrs.at("act").s, c.act);
      EXPECT_EQ(n.attrs.at("stride").i, c.stride);
      EXPECT_EQ(n.attrs.at("pad").i, c.pad);
    }
  expectSameOutputs(g, f, 1e-5);
}

TEST_P(ConvLayer, TrainingFusesForwardAndBackward) {
  const ConvCase &c = GetParam();
  Graph g = convGraph(c.act, c.stride, c.pad);
  ASSERT_TRUE(differentiate(g));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_TRUE(verify(f).empty());
  EXPECT_EQ(countOp(f, "fused_conv2d"), 1u) << notes(ctx);
  // wrt 0 (the conv's input x * s), 1 (w) and 2 (b); the activation and its grad gone.
  EXPECT_EQ(countOp(f, "fused_conv2d_grad"), 3u) << notes(ctx);
  EXPECT_EQ(countOp(f, "conv2d") + countOp(f, "conv2d_grad") + countOp(f, c.act) +
                countOp(f, c.act + "_grad"),
            0u)
      << notes(ctx);
  for (const Node &n : f.nodes())
    if (n.op == "fused_conv2d_grad") {
      EXPECT_EQ(n.attrs.at("stride").i, c.stride);
      EXPECT_EQ(n.attrs.at("pad").i, c.pad);
    }
  // Outputs, the loss and the gradients of s (through wrt 0), w and b.
  expectSameOutputs(g, f, 1e-5);
  expectSameOutputs(retypeFloats(g, DType::F32, DType::F64),
                    retypeFloats(f, DType::F32, DType::F64), 1e-12);
}

std::vector<ConvCase> convCases() {
  std::vector<ConvCase> cases;
  for (const char *act : {"none", "relu", "sigmoid", "tanh"})
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1})
        cases.push_back({act, stride, pad});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, ConvLayer, ::testing::ValuesIn(convCases()), [](const auto &info) {
  return info.param.act + "_stride" + std::to_string(info.param.stride) + "_pad" +
         std::to_string(info.param.pad);
});

TEST(FuseConv, GeluStaysOutInTrainingGraphsAndFusesInEvaluation) {
  Graph g = convGraph("gelu", 2, 1);
  ASSERT_TRUE(differentiate(g));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "gelu"), 1u);
  EXPECT_EQ(countOp(f, "fused_conv2d"), 1u);
  EXPECT_EQ(countOp(f, "fused_conv2d_grad"), 3u);
  EXPECT_NE(notes(ctx).find("gelu not fused into the conv layer: its gradient needs the "
                            "pre-activation, which fused_conv2d does not keep"),
            std::string::npos)
      << notes(ctx);
  expectSameOutputs(g, f, 1e-5);

  Graph e = convGraph("gelu", 2, 1, false, false);
  Graph fe = fused(e);
  EXPECT_EQ(countOp(fe, "gelu"), 0u);
  EXPECT_EQ(countOp(fe, "fused_conv2d"), 1u);
  expectSameOutputs(e, fe, 1e-5);
}

// A fused_conv2d written by hand differentiates for every activation: its grad with
// act = gelu runs the convolution again for the pre-activation. Against the unfused
// layer's gradients, and against finite differences.
TEST(FuseConv, HandWrittenFusedConvDifferentiatesForEveryActivation) {
  for (const char *act : {"none", "relu", "sigmoid", "tanh", "gelu"}) {
    SCOPED_TRACE(act);
    Graph g = convGraph(act, 2, 1);
    Graph h = convGraph(act, 2, 1, true);
    ASSERT_TRUE(differentiate(g));
    ASSERT_TRUE(differentiate(h));
    EXPECT_EQ(countOp(h, "fused_conv2d_grad"), 3u);
    expectSameOutputs(g, h, 1e-5);
    expectSameOutputs(retypeFloats(g, DType::F32, DType::F64),
                      retypeFloats(h, DType::F32, DType::F64), 1e-12);
    GradCheckOptions opts;
    opts.elementsPerParam = 48;
    for (const auto &e : gradCheck(convGraph(act, 2, 1, true), opts))
      EXPECT_LT(e.maxRelError, 1e-6) << e.param;
  }
}

TEST(FuseConv, DeclinesWhenTheConvOutputHasAnotherConsumer) {
  Graph g = convGraph("relu", 1, 1);
  ValueId conv = kNone;
  for (const Node &n : g.nodes())
    if (n.op == "conv2d")
      conv = n.output;
  g.markOutput(addOp(g, "neg", {conv}, {}, "also"));
  ASSERT_TRUE(differentiate(g));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "fused_conv2d") + countOp(f, "fused_conv2d_grad"), 0u);
  EXPECT_EQ(countOp(f, "conv2d"), 1u);
  EXPECT_NE(notes(ctx).find("not fused: t1 has 4 consumers (add, neg, conv2d_grad, conv2d_grad)"),
            std::string::npos)
      << notes(ctx);
  expectSameOutputs(g, f, 1e-5);
}

TEST(FuseConv, DeclinesWithoutAPerChannelBias) {
  // A bias of the output's spatial shape [7, 7] is an add, not the conv's bias.
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {2, 3, 7, 7}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {4, 3, 3, 3}}, Initializer{"zeros", {}});
  ValueId b = g.addParam("b", TensorType{DType::F32, {7, 7}}, Initializer{"zeros", {}});
  ValueId c = addOp(g, "conv2d", {x, w}, {{"pad", Attr::ofInt(1)}});
  g.markOutput(addOp(g, "relu", {addOp(g, "add", {c, b})}, {}, "y"));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "fused_conv2d"), 0u);
  EXPECT_NE(notes(ctx).find("not fused: conv2d t0 has no bias add of type f32[4, 1, 1] after it "
                            "(fused_conv2d needs one)"),
            std::string::npos)
      << notes(ctx);
}

// The CNN's conv layers fuse with their backward in the training graph: the relu, its
// relu_grad and the bias's sum_to go, the conv2d_grads become fused_conv2d_grad.
TEST(FuseConv, CnnLayersFuseWithTheirBackward) {
  Graph g = loadExample("cnn");
  ASSERT_TRUE(differentiate(g));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "fused_conv2d"), 2u) << notes(ctx);
  // c1 reads the image (no wrt 0): 2 grads; c2: 3.
  EXPECT_EQ(countOp(f, "fused_conv2d_grad"), 5u) << notes(ctx);
  EXPECT_EQ(countOp(f, "relu") + countOp(f, "relu_grad") + countOp(f, "sum_to") +
                countOp(f, "conv2d") + countOp(f, "conv2d_grad"),
            0u)
      << notes(ctx);
  EXPECT_NE(notes(ctx).find("fused conv2d + add + relu into fused_conv2d c1 (t0, t1, t14 no "
                            "longer computed); its backward (relu_grad, 1 sum_to, 1 conv2d_grad) "
                            "into 2 fused_conv2d_grad"),
            std::string::npos)
      << notes(ctx);
  expectSameOutputs(g, f, 1e-5);
  expectSameOutputs(retypeFloats(g, DType::F32, DType::F64),
                    retypeFloats(f, DType::F32, DType::F64), 1e-12);
}

// The type rule: conv2d's, with the bias and the activation checked; FLOPs are the
// convolution's plus the bias add and the activation per output element.
TEST(FuseConv, TypeRuleAndFlops) {
  const OpDef &def = *opRegistry().find("fused_conv2d");
  auto type = [&](std::vector<TensorType> in, AttrMap attrs) {
    try {
      return inferType(def, in, attrs).str();
    } catch (const TypeError &e) {
      return std::string(e.what());
    }
  };
  const TensorType x{DType::F32, {Dim::sym("N"), 3, 32, 32}}, w{DType::F32, {16, 3, 3, 3}},
      b{DType::F32, {16, 1, 1}};
  EXPECT_EQ(type({x, w, b}, {{"pad", Attr::ofInt(1)}, {"act", Attr::ofName("relu")}}),
            "f32[N, 16, 32, 32]");
  EXPECT_EQ(type({x, w, b}, {{"stride", Attr::ofInt(2)}}), "f32[N, 16, 15, 15]");
  EXPECT_EQ(type({x, w, TensorType{DType::F32, {16}}}, {}),
            "fused_conv2d: bias b must be f32[16, 1, 1] (one value per output channel of "
            "f32[16, 3, 3, 3]), got f32[16]");
  EXPECT_EQ(type({x, TensorType{DType::F32, {16, 1, 3, 3}}, b}, {}),
            "fused_conv2d: channels differ: input f32[N, 3, 32, 32] has 3, weight f32[16, 1, 3, "
            "3] expects 1");
  EXPECT_EQ(type({x, w, b}, {{"stride", Attr::ofInt(0)}}),
            "fused_conv2d: stride must be at least 1, got 0");
  EXPECT_EQ(type({x, w, b}, {{"act", Attr::ofName("rellu")}}),
            "fused_conv2d: act must be one of none, relu, gelu, sigmoid, tanh; got 'rellu'; did "
            "you mean 'relu'?");
  EXPECT_EQ(def.fusion, FusionKind::MatmulLike);
  EXPECT_EQ(def.precision, OpPrecision::Half);
  EXPECT_EQ(opRegistry().find("fused_conv2d_grad")->precision, OpPrecision::Half);

  auto flops = [](const std::string &op, std::vector<TensorType> in, AttrMap attrs) {
    const OpDef &d = *opRegistry().find(op);
    TensorType out = inferType(d, in, attrs);
    return d.flops(OpCall{in, attrs}, out, 2);
  };
  const double conv = flops("conv2d", {x, w}, {{"pad", Attr::ofInt(1)}});
  EXPECT_EQ(conv, 2.0 * 2 * 16 * 32 * 32 * 3 * 3 * 3);
  EXPECT_EQ(flops("fused_conv2d", {x, w, b}, {{"pad", Attr::ofInt(1)}}), conv + 2.0 * 16 * 32 * 32);
  // sigmoid costs 4 per element.
  EXPECT_EQ(
      flops("fused_conv2d", {x, w, b}, {{"pad", Attr::ofInt(1)}, {"act", Attr::ofName("sigmoid")}}),
      conv + 5 * 2.0 * 16 * 32 * 32);
}

// ---- softmax + cross-entropy --------------------------------------------------------------

Graph logSoftmaxLoss(const std::string &inner) {
  Graph g;
  g.name = "lsce";
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 6}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {Dim::sym("N")}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {6, 3}},
                         Initializer{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}});
  ValueId z = addOp(g, "matmul", {x, w}, {}, "z");
  ValueId l = addOp(g, inner, {z});
  g.setLoss(addOp(g, "cross_entropy", {l, label}, {}, "loss"));
  return g;
}

TEST(FuseSoftmaxCrossEntropy, LogSoftmaxFeedingTheLossFuses) {
  Graph g = logSoftmaxLoss("log_softmax");
  Graph f = fused(g);
  EXPECT_EQ(countOp(f, "softmax_cross_entropy"), 1u);
  EXPECT_EQ(countOp(f, "log_softmax") + countOp(f, "cross_entropy"), 0u);
  expectSameOutputs(g, f, 1e-5);

  ASSERT_TRUE(differentiate(g));
  Graph t = fused(g);
  EXPECT_EQ(countOp(t, "softmax_cross_entropy_grad"), 1u);
  EXPECT_EQ(countOp(t, "log_softmax_grad") + countOp(t, "cross_entropy_grad"), 0u);
  expectSameOutputs(g, t, 1e-5);
}

TEST(FuseSoftmaxCrossEntropy, SoftmaxFeedingTheLossIsExplainedNotFused) {
  Graph g = logSoftmaxLoss("softmax");
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "softmax_cross_entropy"), 0u);
  EXPECT_NE(notes(ctx).find("applies it twice"), std::string::npos) << notes(ctx);
}

// ---- conv + batch_norm ---------------------------------------------------------------

Graph convBn(bool bias, bool loss) {
  Graph g;
  g.name = "convbn";
  Initializer init{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}};
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 2, 5, 5}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {3, 2, 3, 3}}, init);
  ValueId c = addOp(g, "conv2d", {x, w}, {{"pad", Attr::ofInt(1)}});
  if (bias)
    c = addOp(g, "add", {c, g.addParam("cb", TensorType{DType::F32, {3, 1, 1}}, init)});
  TensorType ch{DType::F32, {3}};
  ValueId gamma = g.addParam("gamma", ch, init), beta = g.addParam("beta", ch, init);
  ValueId mean = g.addParam("running_mean", ch, init, {}, ValueKind::Buffer);
  ValueId var = g.addParam("running_var", ch, init, {}, ValueKind::Buffer);
  ValueId y = addOp(g, "batch_norm", {c, gamma, beta, mean, var}, {}, "y");
  g.markOutput(y);
  if (loss)
    g.setLoss(addOp(g, "sum", {y}, {}, "loss"));
  return g;
}

TEST(FuseConvBatchNorm, FoldsInEvaluationGraphs) {
  for (bool bias : {false, true}) {
    Graph g = convBn(bias, false);
    Graph f = fused(g);
    EXPECT_EQ(countOp(f, "batch_norm"), 0u);
    // The folded conv2d + shift add fuse into one fused_conv2d after the fold.
    EXPECT_EQ(countOp(f, "fused_conv2d"), 1u);
    EXPECT_EQ(countOp(f, "conv2d"), 0u);
    // batch_norm in evaluation (running statistics) against the folded conv.
    expectSameOutputs(g, f, 1e-5, /*training=*/false);
  }
}

TEST(FuseConvBatchNorm, DeclinesInTrainingGraphs) {
  Graph g = convBn(false, true);
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(countOp(f, "batch_norm"), 1u);
  EXPECT_NE(notes(ctx).find("batch_norm not folded: this is a training graph"), std::string::npos);
}

// ---- elementwise chains ------------------------------------------------------------------

TEST(FuseChain, BroadcastChainComputesTheSameInFloatAndDouble) {
  for (DType dt : {DType::F32, DType::F64}) {
    Graph g;
    g.name = "chain";
    ValueId a = g.addInput("a", TensorType{dt, {Dim::sym("N"), 3, 4}});
    ValueId b = g.addInput("b", TensorType{dt, {3, 1}});
    ValueId c = g.addInput("c", TensorType{dt, {4}});
    ValueId half = addOp(g, "constant", {},
                         {{"value", Attr::ofFloat(0.5)}, {"dtype", Attr::ofName(dtypeName(dt))}});
    // sigmoid(a * b + c) - 0.5 * tanh(a), then max with a, leaky_relu.
    ValueId s = addOp(g, "sigmoid", {addOp(g, "add", {addOp(g, "mul", {a, b}), c})});
    ValueId t = addOp(g, "sub", {s, addOp(g, "mul", {half, addOp(g, "tanh", {a})})});
    ValueId y =
        addOp(g, "leaky_relu", {addOp(g, "maximum", {t, a})}, {{"alpha", Attr::ofFloat(0.2)}}, "y");
    g.markOutput(y);
    PassContext ctx;
    Graph f = fused(g, &ctx);
    ASSERT_EQ(f.nodes().size(), 1u) << notes(ctx);
    const Node &n = f.nodes()[0];
    EXPECT_EQ(n.op, "fused_elementwise");
    EXPECT_EQ(n.attrs.at("chain").s,
              "leaky_relu(maximum(sigmoid(x0 * x1 + x2) - 0.5 * tanh(x0), x0), alpha = 0.2)");
    // The chain reads each input once however often it uses it.
    EXPECT_EQ(n.inputs.size(), 3u);
    // Bit-identical: the same scalar math in the same order.
    expectSameOutputs(g, f, 0);
  }
}

TEST(FuseChain, DeclinesSharedIntermediatesAndBroadcastRecomputation) {
  Graph g;
  ValueId a = g.addInput("a", TensorType{DType::F32, {Dim::sym("N"), 4}});
  ValueId v = g.addInput("v", TensorType{DType::F32, {4}});
  ValueId e = addOp(g, "exp", {v});  // [4]: would be recomputed per row
  ValueId t = addOp(g, "relu", {a}); // shared below
  ValueId y = addOp(g, "mul", {addOp(g, "add", {t, e}), t}, {}, "y");
  g.markOutput(y);
  g.markOutput(addOp(g, "neg", {t}, {}, "z"));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  const std::string n = notes(ctx);
  EXPECT_NE(n.find("t0 f32[4] is smaller than the chain's output f32[N, 4]"), std::string::npos)
      << n;
  EXPECT_NE(n.find("t1 has 3 consumers (add, mul, neg)"), std::string::npos) << n;
  EXPECT_EQ(countOp(f, "fused_elementwise"), 1u); // add + mul
  expectSameOutputs(g, f, 0);
}

TEST(FuseChain, FlopsAreTheSumOfTheFusedOps) {
  Graph g;
  ValueId a = g.addInput("a", TensorType{DType::F32, {Dim::sym("N"), 8}});
  ValueId b = g.addInput("b", TensorType{DType::F32, {Dim::sym("N"), 8}});
  g.markOutput(addOp(g, "gelu", {addOp(g, "div", {addOp(g, "exp", {a}), b})}, {}, "y"));
  auto total = [](const Graph &gr) {
    double s = 0;
    for (const Node &n : gr.nodes()) {
      std::vector<TensorType> ins;
      for (ValueId v : n.inputs)
        ins.push_back(gr.typeOf(v));
      s += opRegistry().find(n.op)->flops(OpCall{ins, n.attrs}, gr.typeOf(n.output), 16);
    }
    return s;
  };
  Graph f = fused(g);
  ASSERT_EQ(countOp(f, "fused_elementwise"), 1u);
  EXPECT_EQ(total(f), total(g));
  EXPECT_EQ(total(f), (4 + 1 + 8) * 16.0 * 8);
}

TEST(ChainLanguage, ParsesBothSpellingsAndPrintsCanonically) {
  ChainExpr e = parseChain("relu(add(x0, mul(x1, x2)))", 3);
  EXPECT_EQ(printChain(e), "relu(x0 + x1 * x2)");
  EXPECT_EQ(printChain(parseChain("relu(x0 + x1 * x2)", 3)), "relu(x0 + x1 * x2)");
  // Precedence and associativity survive the round trip.
  for (const char *s : {"(x0 - x1) - x2", "x0 - (x1 - x2)", "x0 / (x1 * x2)", "-(x0 + x1)",
                        "x0 * -1.5", "-x0 * x1", "pow(x0, 2.0) + -0.25", "-(-x0)",
                        "leaky_relu(x0, alpha = -0.5)", "maximum(x0, 1e-12) / sqrt(x1 + inf)"}) {
    std::string once = printChain(parseChain(s, 3));
    EXPECT_EQ(printChain(parseChain(once, 3)), once) << s;
  }
  EXPECT_EQ(printChain(parseChain("(x0 - x1) - x2", 3)), "x0 - x1 - x2");
  EXPECT_EQ(printChain(parseChain("x0 - (x1 - x2)", 3)), "x0 - (x1 - x2)");
  EXPECT_EQ(chainCost(parseChain("sigmoid(x0 + 1.0) * x1", 2)), 4 + 1 + 1);
}

TEST(ChainLanguage, ErrorsPointAtTheProblem) {
  auto err = [](const std::string &s, size_t inputs) {
    try {
      parseChain(s, inputs);
    } catch (const TypeError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("relu(x0 +)", 1),
            "fused_elementwise: chain 'relu(x0 +)': expected an operand at column 10");
  EXPECT_EQ(err("x0 * x2", 2), "fused_elementwise: chain 'x0 * x2': x2 names no input (the node "
                               "has 2) at column 6");
  EXPECT_EQ(err("rleu(x0)", 1), "fused_elementwise: chain 'rleu(x0)': unknown function 'rleu' "
                                "(did you mean 'relu'?) at column 1");
  EXPECT_EQ(err("add(x0)", 1), "fused_elementwise: chain 'add(x0)': add takes 2 operands, got 1 "
                               "at column 1");
  EXPECT_EQ(err("relu(x0, alpha = 1)", 1),
            "fused_elementwise: chain 'relu(x0, alpha = 1)': relu has no attribute 'alpha' at "
            "column 10");
  EXPECT_EQ(err("x0 x0", 1), "fused_elementwise: chain 'x0 x0': unexpected 'x' at column 4");
}

// The interpreter on a strided broadcast with more values than one block.
TEST(FusedKernel, StridedBroadcastOverManyBlocks) {
  const cpu::Dims ys{5, 7, 33}, as{5, 1, 33}, bs{7, 1};
  std::vector<double> a(5 * 33), b(7), y(5 * 7 * 33);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = 0.1 * double(i) - 3;
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = 1.0 + double(i);
  const double *xs[] = {a.data(), b.data()};
  cpu::Dims shapes[] = {as, bs};
  const cpu::ChainProgram &p = cpu::chainProgram("x0 / x1 - exp(x1 * 0.1)", 2);
  EXPECT_EQ(p.depth, 3);
  cpu::fused_elementwise_fwd<double>(y.data(), ys, xs, shapes, 2, p);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j)
      for (int k = 0; k < 33; ++k) {
        double av = a[size_t(i * 33 + k)], bv = b[size_t(j)];
        EXPECT_EQ(y[size_t((i * 7 + j) * 33 + k)], av / bv - std::exp(bv * 0.1));
      }
}

TEST(FuseExplain, NothingToFuseIsSaid) {
  Graph g;
  ValueId a = g.addInput("a", TensorType{DType::F32, {2}});
  g.markOutput(addOp(g, "relu", {a}, {}, "y"));
  PassContext ctx;
  Graph f = fused(g, &ctx);
  EXPECT_EQ(f.nodes().size(), 1u);
  EXPECT_NE(notes(ctx).find("nothing to fuse"), std::string::npos);
}

} // namespace
} // namespace nng

// Not a check: times a training step of the MLP (784-512-256-10, batch 128) unfused and
// fused, interleaved, and prints the per-op kernel times. Run with
//   pass_fuse_tests --gtest_also_run_disabled_tests --gtest_filter='*Bench*'
namespace nng {
namespace {

TEST(FuseBench, DISABLED_MlpTrainingStep) {
  Graph g = loadExample("mlp");
  ASSERT_TRUE(differentiate(g));
  Graph f = fused(g);
  auto backend = makeCpuBackend();
  struct Run {
    const char *name;
    const Graph *g;
    std::unique_ptr<Executor> ex;
    std::vector<double> ms;
  };
  Run runs[] = {{"unfused", &g, nullptr, {}}, {"fused", &f, nullptr, {}}};
  for (Run &r : runs) {
    r.ex = std::make_unique<Executor>(*r.g, *backend);
    r.ex->bind({{"N", 128}});
    for (ValueId v : r.g->inputs()) {
      const size_t n = static_cast<size_t>(r.ex->tensor(v).elements());
      if (r.g->typeOf(v).dtype == DType::F32) {
        std::vector<float> x(n, 0.5f);
        r.ex->write(v, x.data(), n * sizeof(float));
      } else {
        std::vector<int64_t> labels(n);
        for (size_t i = 0; i < n; ++i)
          labels[i] = int64_t(i % 10);
        r.ex->write(v, labels.data(), n * sizeof(int64_t));
      }
    }
    for (ValueId v : r.g->params()) {
      std::vector<float> x(static_cast<size_t>(r.ex->tensor(v).elements()));
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = float((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
      r.ex->write(v, x.data(), x.size() * sizeof(float));
    }
    r.ex->run(KernelContext{});
    r.ex->enableProfile();
  }
  for (int rep = 0; rep < 200; ++rep)
    for (Run &r : runs) {
      auto t0 = std::chrono::steady_clock::now();
      r.ex->run(KernelContext{});
      r.ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  // Per node: the median of 50 runs of that node alone.
  for (Run &r : runs) {
    std::printf("%s per node:\n", r.name);
    for (size_t i = 0; i < r.g->nodes().size(); ++i) {
      std::vector<double> t;
      for (int rep = 0; rep < 50; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        r.ex->run(KernelContext{}, i, i + 1);
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count());
      }
      std::sort(t.begin(), t.end());
      const Node &n = r.g->nodes()[i];
      std::printf("  %-20s %-8s %8.4f ms\n", n.op.c_str(),
                  n.attrs.count("wrt") ? ("wrt " + std::to_string(n.attrs.at("wrt").i)).c_str()
                                       : "",
                  t[t.size() / 2]);
    }
  }
  for (Run &r : runs) {
    std::sort(r.ms.begin(), r.ms.end());
    std::printf("%s: median %.3f ms, min %.3f ms per step\n", r.name, r.ms[r.ms.size() / 2],
                r.ms[0]);
    for (const auto &[op, t] : r.ex->opProfile())
      std::printf("  %-20s %8.3f ms/step\n", op.c_str(), t.ms / 200.0);
  }
}

} // namespace
} // namespace nng

// Not a check either: the fused dense kernels against the unfused ones they replace.
namespace nng {
namespace {
TEST(FuseBench, DISABLED_Kernels) {
  const int64_t m = 128, k = 784, n = 512;
  std::vector<float> x(m * k), dy(m * n), y(m * n), dz(m * n), dw(k * n), db(n);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 7) * 0.1f;
  for (size_t i = 0; i < dy.size(); ++i) {
    dy[i] = float(i % 13) - 6;
    y[i] = (i * 2654435761u) % 3 == 0 ? 0.f : 1.f;
  }
  auto time = [](const char *what, auto f) {
    std::vector<double> t;
    for (int r = 0; r < 100; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      f();
      t.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    std::printf("%-28s %.4f ms\n", what, t[50]);
  };
  time("act_bwd relu", [&] {
    cpu::fused_dense_act_bwd<float>(dz.data(), dy.data(), y.data(), m, n, cpu::Activation::Relu);
  });
  time("relu_bwd", [&] { cpu::relu_bwd<float>(dz.data(), dy.data(), y.data(), m * n); });
  time("bias_bwd relu", [&] {
    cpu::fused_dense_bias_bwd<float>(db.data(), dy.data(), y.data(), m, n, cpu::Activation::Relu);
  });
  time("sum_to", [&] {
    cpu::sum_to_fwd<float>(db.data(), dz.data(), cpu::Dims{n}, cpu::Dims{m, n});
  });
  std::vector<float> w(k * n), b(n), out(m * n);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(i % 5) * 0.01f - 0.02f;
  time("fused_dense_fwd relu", [&] {
    cpu::fused_dense_fwd<float>(out.data(), nullptr, x.data(), w.data(), b.data(), m, k, n,
                                cpu::Activation::Relu);
  });
  time("gemm",
       [&] { cpu::gemm<float>(out.data(), x.data(), w.data(), m, n, k, false, false, 1.f, 0.f); });
  time("add_fwd + relu_fwd", [&] {
    cpu::add_fwd<float>(dz.data(), out.data(), b.data(), cpu::Dims{m, n}, cpu::Dims{n});
    cpu::relu_fwd<float>(y.data(), dz.data(), m * n);
  });
  // The CNN's conv epilogue: relu(conv + bias[C, 1, 1]) over [128, 16, 28, 28].
  const cpu::Dims cs{128, 16, 28, 28}, bs{16, 1, 1};
  std::vector<float> conv(size_t(cs.numel()), 0.25f), bias(16, -0.1f), act(conv.size());
  const float *xs[] = {conv.data(), bias.data()};
  cpu::Dims shapes[] = {cs, bs};
  const cpu::ChainProgram &prog = cpu::chainProgram("relu(x0 + x1)", 2);
  time("fused_elementwise relu(x0+x1)",
       [&] { cpu::fused_elementwise_fwd<float>(act.data(), cs, xs, shapes, 2, prog); });
  time("add_fwd + relu_fwd (conv)", [&] {
    cpu::add_fwd<float>(act.data(), conv.data(), bias.data(), cs, bs);
    cpu::relu_fwd<float>(act.data(), act.data(), cs.numel());
  });
  float *ws = cpu::reusableWorkspace<float>(m * n);
  std::copy(dz.begin(), dz.end(), ws);
  time("gemm dw (vector dz)",
       [&] { cpu::gemm<float>(dw.data(), x.data(), dz.data(), k, n, m, true, false, 1.f, 0.f); });
  time("gemm dw (workspace dz)",
       [&] { cpu::gemm<float>(dw.data(), x.data(), ws, k, n, m, true, false, 1.f, 0.f); });
  time("act_bwd + gemm", [&] {
    cpu::fused_dense_act_bwd<float>(ws, dy.data(), y.data(), m, n, cpu::Activation::Relu);
    cpu::gemm<float>(dw.data(), x.data(), ws, k, n, m, true, false, 1.f, 0.f);
  });
}
} // namespace
} // namespace nng

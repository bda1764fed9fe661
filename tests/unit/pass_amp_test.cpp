// The amp pass and its runtime: f16/bf16 rounding on the CPU, the rewrite's
// structure (lists, casts, fp32 master weights, loss scaling), outputs and gradients
// close to f32, the loss-scaling nodes (skip on overflow, halve, double after 2000
// finite steps) and training the examples in f16/bf16 within the documented tolerance.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <unistd.h>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/kernels/half.h"
#include "core/data/config.h"
#include "core/passes/amp.h"
#include "core/passes/autodiff.h"
#include "core/passes/pass_manager.h"
#include "core/runtime/executor.h"
#include "core/train/optimizer.h"
#include "core/train/trainer.h"
#include "dsl/frontend.h"
#include "graph_testing.h"
#include "example_testing.h"

namespace nng {
namespace {

using testing::addOp;
namespace fs = std::filesystem;

// How far half-precision results may be from f32 (docs/passes.md, the amp section):
// relative to the largest magnitude of the f32 result.
constexpr double kF16Tolerance = 1e-2;
constexpr double kBf16Tolerance = 5e-2;
// Training: per-step loss, relative to the f32 loss of the same step.
constexpr double kF16LossTolerance = 2e-2;
constexpr double kBf16LossTolerance = 5e-2;

const float kInf = std::numeric_limits<float>::infinity();

// ---- rounding -----------------------------------------------------------------------

TEST(AmpRounding, F16KnownValues) {
  using cpu::roundToDType;
  const DType h = DType::F16;
  EXPECT_EQ(roundToDType(h, 1.0f), 1.0f);
  EXPECT_EQ(roundToDType(h, 1.0f / 3), 0.333251953125f);
  EXPECT_EQ(roundToDType(h, 65504.0f), 65504.0f); // the largest f16
  EXPECT_EQ(roundToDType(h, 65519.0f), 65504.0f); // below the midpoint to 65536
  EXPECT_EQ(roundToDType(h, 65520.0f), kInf);     // the midpoint rounds to even: overflow
  EXPECT_EQ(roundToDType(h, -1e6f), -kInf);
  EXPECT_EQ(roundToDType(h, 1.0f + 0x1p-11f), 1.0f);               // tie: to even
  EXPECT_EQ(roundToDType(h, 1.0f + 3 * 0x1p-11f), 1.0f + 0x1p-9f); // tie: to even
  EXPECT_EQ(roundToDType(h, 0x1p-24f), 0x1p-24f);                  // smallest subnormal
  EXPECT_EQ(roundToDType(h, 0x1p-25f), 0.0f);                      // tie to even zero
  EXPECT_EQ(roundToDType(h, 3 * 0x1p-26f), 0x1p-24f);
  EXPECT_EQ(roundToDType(h, 1e-3f), 0.0010004043579101562f); // a normal
  EXPECT_EQ(roundToDType(h, 5e-6f), 5.006790161132812e-06f); // a subnormal
  EXPECT_TRUE(std::isnan(roundToDType(h, std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::signbit(roundToDType(h, -0.0f)));
}

TEST(AmpRounding, Bf16KnownValues) {
  using cpu::roundToDType;
  const DType b = DType::BF16;
  EXPECT_EQ(roundToDType(b, 1.0f / 3), 0.333984375f);
  EXPECT_EQ(roundToDType(b, 1.0f + 0x1p-8f), 1.0f);               // tie: to even
  EXPECT_EQ(roundToDType(b, 1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f); // tie: to even
  EXPECT_EQ(roundToDType(b, 65520.0f), 65536.0f);                 // f32's range
  EXPECT_EQ(roundToDType(b, 3.0e38f), 226 * 0x1p120f);            // 225.7 units of 2^120
  EXPECT_EQ(roundToDType(b, std::numeric_limits<float>::max()), kInf);
  EXPECT_TRUE(std::isnan(roundToDType(b, std::numeric_limits<float>::quiet_NaN())));
}

TEST(AmpRounding, CpuStoresHalfAsF32AndRoundsCastsAndOutputs) {
  auto backend = makeCpuBackend();
  EXPECT_EQ(backend->storageBytes(DType::F16), 4u);
  EXPECT_EQ(backend->storageBytes(DType::BF16), 4u);
  EXPECT_EQ(backend->storageBytes(DType::F64), 8u);
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {4}});
  ValueId h = addOp(g, "cast", {x}, {{"to", Attr::ofName("f16")}});
  ValueId b = addOp(g, "cast", {x}, {{"to", Attr::ofName("bf16")}});
  // A half-typed kernel output is rounded: h + h computed in f32, kept as f16.
  ValueId sum = addOp(g, "add", {h, h});
  ValueId hf = addOp(g, "cast", {sum}, {{"to", Attr::ofName("f32")}}, "hf");
  ValueId bf = addOp(g, "cast", {b}, {{"to", Attr::ofName("f32")}}, "bf");
  ValueId hd = addOp(g, "cast", {h}, {{"to", Attr::ofName("f64")}}, "hd");
  g.markOutput(hf);
  g.markOutput(bf);
  g.markOutput(hd);
  Executor ex(g, *backend);
  ex.bind({});
  // 3 * 2^-25 lies halfway between the f16 subnormals 2^-24 and 2^-23: to even, 2^-23.
  const float xs[] = {1.0f / 3, 40000.0f, 0x1p-25f * 3, -2.5f};
  ex.write(x, xs, sizeof xs);
  ex.run(KernelContext{});
  EXPECT_EQ(ex.read<float>(hf),
            (std::vector<float>{0.66650390625f, kInf, 0x1p-22f, -5.0f})); // 80000: inf
  EXPECT_EQ(ex.read<float>(bf), (std::vector<float>{0.333984375f, 39936.0f, 3 * 0x1p-25f, -2.5f}));
  EXPECT_EQ(ex.read<double>(hd), (std::vector<double>{0.333251953125, 40000, 0x1p-23, -2.5}));
}

// ---- the rewrite ----------------------------------------------------------------------

// x -> relu(x @ w1 + b1) @ w2 -> logits, softmax, cross_entropy (loss).
Graph mlp() {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 16}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {Dim::sym("N")}});
  ValueId w1 = g.addParam("w1", TensorType{DType::F32, {16, 32}}, Initializer{"he_normal", {}});
  ValueId b1 = g.addParam("b1", TensorType{DType::F32, {32}}, Initializer{"zeros", {}});
  ValueId w2 = g.addParam("w2", TensorType{DType::F32, {32, 10}}, Initializer{"he_normal", {}});
  ValueId h = addOp(g, "relu", {addOp(g, "add", {addOp(g, "matmul", {x, w1}), b1})}, {}, "h");
  ValueId logits = addOp(g, "matmul", {h, w2}, {}, "logits");
  ValueId probs = addOp(g, "softmax", {logits}, {}, "probs");
  ValueId loss = addOp(g, "cross_entropy", {logits, label}, {}, "loss");
  g.markOutput(logits);
  g.markOutput(probs);
  g.setLoss(loss);
  return g;
}

Graph optimized(Graph g, const std::vector<std::string> &passes, std::optional<DType> amp) {
  PassOptions o;
  o.amp = amp;
  PassContext ctx(o);
  runPipeline(g, passes, ctx);
  EXPECT_TRUE(verify(g).empty());
  return g;
}

int countOp(const Graph &g, const std::string &op) {
  int n = 0;
  for (const Node &node : g.nodes())
    n += node.op == op;
  return n;
}

TEST(AmpPass, AllowListRunsHalfDenyListF32AndParamsStayF32) {
  for (DType half : {DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtypeName(half));
    Graph g = optimized(mlp(), {"grad", "amp"}, half);
    for (const Node &n : g.nodes()) {
      const DType t = g.typeOf(n.output).dtype;
      const OpDef *def = opRegistry().find(n.op);
      if (def->precision == OpPrecision::Half) {
        EXPECT_EQ(t, half) << n.op;
      }
      if (def->precision == OpPrecision::Float && n.op != "cast") {
        EXPECT_EQ(t, DType::F32) << n.op;
      }
    }
    // fp32 master weights: params are f32 and each is cast once, shared by the
    // forward matmul and its backward.
    for (const char *p : {"w1", "w2", "b1"}) {
      ValueId pv = g.find(p);
      EXPECT_EQ(g.typeOf(pv).dtype, DType::F32);
      int casts = 0;
      for (const Node &n : g.nodes())
        casts += n.op == "cast" && n.inputs[0] == pv;
      EXPECT_EQ(casts, 1) << p;
      EXPECT_EQ(g.typeOf(g.find(gradName(p))).dtype, DType::F32) << p;
    }
    // Outputs keep their types; no cast reads a cast made from the same value.
    EXPECT_EQ(g.typeOf(g.find("logits")).dtype, DType::F32);
    EXPECT_EQ(g.typeOf(*g.loss()).dtype, DType::F32);
    for (const Node &n : g.nodes())
      if (n.op == "cast" && g.value(n.inputs[0]).kind == ValueKind::Node) {
        const Node &in = g.node(g.value(n.inputs[0]).producer);
        EXPECT_FALSE(in.op == "cast" && g.typeOf(in.inputs[0]) == g.typeOf(n.output));
      }
    // Loss scaling for f16 only: the seed is the scale.
    ValueId scale = g.find(kLossScaleName);
    EXPECT_EQ(scale != kNone, half == DType::F16);
    if (scale != kNone) {
      EXPECT_EQ(g.value(scale).kind, ValueKind::Buffer);
      EXPECT_EQ(g.value(scale).init.str(), "constant(65536.0)");
      EXPECT_NE(g.find(kGoodStepsName), kNone);
      bool seeded = false;
      for (const Node &n : g.nodes())
        seeded = seeded || (n.op == "cross_entropy_grad" && n.inputs[0] == scale);
      EXPECT_TRUE(seeded);
    }
  }
}

// Random inputs and params, the same for every variant of a graph.
struct Feed {
  std::map<std::string, std::vector<float>> floats;
  std::vector<int64_t> labels;
  int64_t batch = 8;
};

Feed randomFeed(const Graph &g, uint32_t seed) {
  Feed f;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  for (ValueId v : g.inputs())
    if (g.typeOf(v).dtype == DType::F32)
      for (int64_t i = 0; i < f.batch * 16; ++i)
        f.floats[g.value(v).name].push_back(normal(rng));
  for (ValueId p : g.params())
    if (g.value(p).kind == ValueKind::Param) {
      const TensorType &t = g.typeOf(p);
      for (int64_t i = 0; i < *t.knownElements(); ++i)
        f.floats[g.value(p).name].push_back(normal(rng) * 0.3f);
    }
  for (int64_t i = 0; i < f.batch; ++i)
    f.labels.push_back(i % 10);
  return f;
}

// Runs `g` on `feed` and returns every output by name.
std::map<std::string, std::vector<float>> runGraph(const Graph &g, const Feed &feed) {
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  ex.bind({{"N", feed.batch}});
  for (ValueId v : g.inputs()) {
    const std::string &name = g.value(v).name;
    if (g.typeOf(v).dtype == DType::I64)
      ex.write(v, feed.labels.data(), feed.labels.size() * sizeof(int64_t));
    else
      ex.write(v, feed.floats.at(name).data(), feed.floats.at(name).size() * sizeof(float));
  }
  for (ValueId p : g.params()) {
    const std::string &name = g.value(p).name;
    if (name == kLossScaleName) {
      const float s = static_cast<float>(kInitialLossScale);
      ex.write(p, &s, sizeof s);
    } else if (feed.floats.count(name)) {
      ex.write(p, feed.floats.at(name).data(), feed.floats.at(name).size() * sizeof(float));
    }
  }
  ex.run(KernelContext{});
  std::map<std::string, std::vector<float>> out;
  for (ValueId o : g.outputs())
    out[g.value(o).name] = ex.read<float>(o);
  out["loss"] = ex.read<float>(*g.loss());
  return out;
}

// max |a - b| / max |b| over every output.
void expectClose(const std::map<std::string, std::vector<float>> &got,
                 const std::map<std::string, std::vector<float>> &want, double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto &[name, w] : want) {
    const std::vector<float> &a = got.at(name);
    ASSERT_EQ(a.size(), w.size()) << name;
    double scale = 0, err = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      scale = std::max(scale, double(std::abs(w[i])));
      err = std::max(err, double(std::abs(a[i] - w[i])));
    }
    EXPECT_LE(err, tolerance * scale) << name << ": error " << err << ", scale " << scale;
    std::cout << name << ": largest error " << err / scale << " of the largest magnitude\n";
    EXPECT_GT(scale, 0) << name;
  }
}

TEST(AmpPass, OutputsAndGradientsCloseToF32) {
  for (bool withGrad : {false, true}) {
    const std::vector<std::string> base =
        withGrad ? std::vector<std::string>{"grad"} : std::vector<std::string>{};
    Graph f32 = optimized(mlp(), base, std::nullopt);
    Feed feed = randomFeed(f32, 7);
    auto want = runGraph(f32, feed);
    for (auto [half, tol] :
         {std::pair{DType::F16, kF16Tolerance}, std::pair{DType::BF16, kBf16Tolerance}}) {
      SCOPED_TRACE(std::string(dtypeName(half)) + (withGrad ? " with grad" : " forward"));
      std::vector<std::string> passes = base;
      passes.push_back("amp");
      Graph g = optimized(mlp(), passes, half);
      auto got = runGraph(g, feed);
      expectClose(got, want, tol);
      // Half precision is visible: the results are not those of f32.
      EXPECT_NE(got.at("logits"), want.at("logits"));
    }
  }
}

// A follow op's backward runs in the precision its forward ran in, reading y as made:
// dropout's backward finds its mask through y's node.
TEST(AmpPass, BackwardOfAFollowOpReadsYAsMade) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 8}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {Dim::sym("N")}});
  ValueId gamma = g.addParam("gamma", TensorType{DType::F32, {8}}, Initializer{"ones", {}});
  ValueId beta = g.addParam("beta", TensorType{DType::F32, {8}}, Initializer{"zeros", {}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {8, 4}}, Initializer{"he_normal", {}});
  ValueId norm = addOp(g, "layer_norm", {x, gamma, beta});
  ValueId drop = addOp(g, "dropout", {norm}, {{"p", Attr::ofFloat(0.1)}}, "drop");
  ValueId logits = addOp(g, "matmul", {drop, w});
  g.setLoss(addOp(g, "cross_entropy", {logits, label}, {}, "loss"));
  g = optimized(g, {"grad", "amp"}, DType::F16);
  const ValueId y = g.find("drop");
  EXPECT_EQ(g.typeOf(y).dtype, DType::F32); // layer_norm's f32 output, dropped in f32
  int grads = 0;
  for (const Node &n : g.nodes())
    if (n.op == "dropout_grad") {
      ++grads;
      EXPECT_EQ(n.inputs[1], y);
      EXPECT_EQ(g.typeOf(n.output).dtype, DType::F32);
    }
  EXPECT_EQ(grads, 1);
}

TEST(AmpPass, RunningTwiceChangesNothingMore) {
  Graph once = optimized(mlp(), {"grad", "amp"}, DType::F16);
  Graph twice = optimized(once, {"amp"}, DType::F16);
  EXPECT_EQ(twice.nodes().size(), once.nodes().size());
  EXPECT_EQ(countOp(twice, "cast"), countOp(once, "cast"));
  EXPECT_EQ(countOp(twice, "div"), 1); // one 1 / scale, not a second unscaling
}

// amp before grad (`nng optimize --fp16 m.nn | nng optimize --grad -`): autodiff seeds
// with amp.loss_scale and divides it out of the gradients, which match f32's.
TEST(AmpPass, GradAfterAmpSeedsWithTheScaleAndUnscales) {
  Graph forward = optimized(mlp(), {"amp"}, DType::F16);
  ASSERT_NE(forward.find(kLossScaleName), kNone);
  Graph g = optimized(forward, {"grad"}, std::nullopt);
  ASSERT_TRUE(hasGradients(g));
  const ValueId scale = g.find(kLossScaleName);
  int seeded = 0;
  for (const Node &n : g.nodes())
    seeded += n.inputs.size() > 1 && n.inputs[0] == scale && n.inputs[1] == *g.loss();
  EXPECT_EQ(seeded, 1);
  Graph f32 = optimized(mlp(), {"grad"}, std::nullopt);
  Feed feed = randomFeed(f32, 11);
  expectClose(runGraph(g, feed), runGraph(f32, feed), kF16Tolerance);
}

// ---- loss scaling as nodes -------------------------------------------------------------

// A training step for f16: forward, grad, amp, then the optimizer's update nodes.
Graph trainingStep(OptimizerType type) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 4}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {Dim::sym("N")}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {4, 3}}, Initializer{"he_normal", {}});
  ValueId logits = addOp(g, "matmul", {x, w}, {}, "logits");
  g.setLoss(addOp(g, "cross_entropy", {logits, label}, {}, "loss"));
  g = optimized(g, {"grad", "amp"}, DType::F16);
  OptimizerConfig opt;
  opt.type = type;
  opt.lr = 0.1;
  opt.momentum = type == OptimizerType::Sgd ? 0.9 : 0.0;
  appendOptimizerUpdate(g, opt);
  EXPECT_TRUE(verify(g).empty());
  return g;
}

template <typename T> void put(Executor &ex, const Graph &g, const std::string &name, T value) {
  ex.write(g.find(name), &value, sizeof value);
}
float scalarOf(Executor &ex, const Graph &g, const std::string &name) {
  return ex.read<float>(g.find(name)).at(0);
}

TEST(AmpLossScaling, OverflowSkipsTheStepHalvesTheScaleAndKeepsState) {
  for (OptimizerType type : {OptimizerType::Sgd, OptimizerType::Adam}) {
    SCOPED_TRACE(type == OptimizerType::Sgd ? "sgd" : "adam");
    Graph g = trainingStep(type);
    ASSERT_NE(g.find("amp.finite"), kNone);
    auto backend = makeCpuBackend();
    Executor ex(g, *backend);
    ex.bind({{"N", 2}});
    const float w0[] = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f, -0.9f, 1.0f, 0.1f, 0.2f};
    ex.write(g.find("w"), w0, sizeof w0);
    put(ex, g, kLossScaleName, float(kInitialLossScale));
    put(ex, g, kLearningRateName, 0.1);
    const int64_t labels[] = {0, 2};
    ex.write(g.find("label"), labels, sizeof labels);

    // A finite step: the weights move, the state fills, the scale stays.
    const float x1[] = {0.5f, -1.0f, 2.0f, 0.25f, 1.0f, 0.0f, -0.5f, 1.5f};
    ex.write(g.find("x"), x1, sizeof x1);
    put(ex, g, kStepName, 1.0);
    ex.run(KernelContext{});
    const std::vector<float> w1 = ex.read<float>(g.find("w"));
    EXPECT_NE(w1, std::vector<float>(std::begin(w0), std::end(w0)));
    EXPECT_EQ(scalarOf(ex, g, kLossScaleName), 65536.0f);
    EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 1.0f);
    std::map<std::string, std::vector<float>> state;
    for (ValueId p : g.params())
      if (g.value(p).name.rfind("optim.w.", 0) == 0) {
        state[g.value(p).name] = ex.read<float>(p);
        EXPECT_NE(state[g.value(p).name], std::vector<float>(12, 0.0f)) << g.value(p).name;
      }
    ASSERT_FALSE(state.empty());

    // Two equal rows of 1e4 with different labels: one of them is mispredicted, so
    // dlogits is about scale / 2 and the gradient x^T dlogits overflows f16 (~1e4 *
    // 32768) in matmul_grad.
    const float x2[] = {1e4f, -1e4f, 1e4f, 1e4f, 1e4f, -1e4f, 1e4f, 1e4f};
    ex.write(g.find("x"), x2, sizeof x2);
    put(ex, g, kStepName, 2.0);
    ex.run(KernelContext{});
    EXPECT_EQ(ex.read<uint8_t>(g.find("amp.finite")).at(0), 0);
    EXPECT_EQ(ex.read<float>(g.find("w")), w1);
    for (const auto &[name, before] : state)
      EXPECT_EQ(ex.read<float>(g.find(name)), before) << name;
    EXPECT_EQ(scalarOf(ex, g, kLossScaleName), 32768.0f);
    EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 0.0f);

    // The same finite step again: it runs (the gradients are unscaled, so the smaller
    // scale gives the same update up to rounding).
    ex.write(g.find("x"), x1, sizeof x1);
    put(ex, g, kStepName, 2.0);
    ex.run(KernelContext{});
    EXPECT_EQ(ex.read<uint8_t>(g.find("amp.finite")).at(0), 1);
    EXPECT_NE(ex.read<float>(g.find("w")), w1);
    EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 1.0f);
  }
}

TEST(AmpLossScaling, ScaleDoublesAfter2000FiniteStepsAndHalvesOnNaN) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {3}});
  ValueId scale =
      g.addParam(kLossScaleName, TensorType{DType::F32, {}},
                 Initializer{"constant", {Attr::ofFloat(65536)}}, {}, ValueKind::Buffer);
  ValueId good = g.addParam(kGoodStepsName, TensorType{DType::F32, {}}, Initializer{"zeros", {}},
                            {}, ValueKind::Buffer);
  ValueId finite = addOp(g, "all_finite", {x}, {}, "finite");
  g.markOutput(addOp(g, "loss_scale_update", {scale, good, finite}, {}, "updated"));
  ASSERT_TRUE(verify(g).empty());
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  ex.bind({});
  put(ex, g, kLossScaleName, 65536.0f);
  const float ok[] = {1, -2, 3e38f};
  ex.write(x, ok, sizeof ok);
  for (int step = 1; step < kLossScaleInterval; ++step)
    ex.run(KernelContext{});
  EXPECT_EQ(scalarOf(ex, g, kLossScaleName), 65536.0f);
  EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 1999.0f);
  ex.run(KernelContext{}); // the 2000th finite step in a row
  EXPECT_EQ(scalarOf(ex, g, kLossScaleName), 131072.0f);
  EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 0.0f);
  ex.run(KernelContext{});
  EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 1.0f);
  for (float bad : {kInf, -kInf, std::numeric_limits<float>::quiet_NaN()}) {
    const float xs[] = {1, bad, 2};
    ex.write(x, xs, sizeof xs);
    const float before = scalarOf(ex, g, kLossScaleName);
    ex.run(KernelContext{});
    EXPECT_EQ(ex.read<uint8_t>(finite).at(0), 0);
    EXPECT_EQ(scalarOf(ex, g, kLossScaleName), before / 2);
    EXPECT_EQ(scalarOf(ex, g, kGoodStepsName), 0.0f);
  }
}

// ---- training the examples -------------------------------------------------------------

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The losses of the first `steps` steps of `example` trained with precision `amp`.
std::vector<double> stepLosses(const std::string &example, std::optional<DType> amp,
                               int64_t steps) {
  fs::path dir = fs::path(NNG_SOURCE_DIR) / "examples";
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(
      dsl::Source{(dir / (example + ".nn")).string(), readFile(dir / (example + ".nn"))}, "", sink);
  EXPECT_TRUE(g.has_value()) << sink.formatAll();
  if (!g)
    return {};
  fs::path tmp =
      fs::temp_directory_path() / ("nng_amp_" + example + "_" + (amp ? dtypeName(*amp) : "f32") +
                                   "_" + std::to_string(getpid()));
  fs::remove_all(tmp);
  TrainConfig cfg = loadConfig((dir / (example + ".yaml")).string());
  cfg.device = "cpu";
  cfg.steps = steps;
  cfg.epochs = 0;
  cfg.data.train.limit = steps * cfg.data.batchSize;
  cfg.data.validation = {};
  cfg.data.test.reset();
  cfg.checkpoint.dir = (tmp / "ckpt").string();
  cfg.checkpoint.every = 0;
  cfg.log.metrics = (tmp / "metrics.jsonl").string();
  cfg.log.progress = ProgressMode::None;
  TrainOptions opts;
  opts.progress = Progress::Style::None;
  opts.passOptions.amp = amp;
  train(*g, cfg, opts);
  std::vector<double> losses;
  for (const nlohmann::json &j : testing::stepEvents(cfg.log.metrics))
    losses.push_back(j.at("loss").get<double>());
  fs::remove_all(tmp);
  return losses;
}

// An example, and whether its f16 steps are all taken: logreg's unnormalized iris
// features (up to 7.9) times the initial scale 65536 overflow f16 in the first weight
// gradients, so GradScaler skips those steps (halving the scale) and the f16 losses
// trail f32's by them.
struct Example {
  std::string name;
  bool f16SkipsFirstSteps;
};

class AmpTraining : public ::testing::TestWithParam<Example> {
protected:
  static void SetUpTestSuite() { registerCpuBackend(); }
};

TEST_P(AmpTraining, HalfPrecisionLossesWithinToleranceOfF32) {
  constexpr int64_t kSteps = 8;
  const std::string example = GetParam().name;
  const std::vector<double> base = stepLosses(example, std::nullopt, kSteps);
  ASSERT_EQ(base.size(), static_cast<size_t>(kSteps));
  for (auto [half, tol] :
       {std::pair{DType::F16, kF16LossTolerance}, std::pair{DType::BF16, kBf16LossTolerance}}) {
    const std::vector<double> got = stepLosses(example, half, kSteps);
    ASSERT_EQ(got.size(), base.size()) << dtypeName(half);
    if (half == DType::F16 && GetParam().f16SkipsFirstSteps) {
      // The weights start at zero, so every batch's loss is ln 3 until an update runs:
      // the first update was skipped; training goes on once the scale came down.
      EXPECT_EQ(got[0], base[0]);
      EXPECT_FLOAT_EQ(got[1], std::log(3.0));
      EXPECT_NE(base[1], got[1]);
      for (double l : got)
        EXPECT_TRUE(std::isfinite(l));
      EXPECT_LT(got.back(), 0.8 * got.front());
      continue;
    }
    double worst = 0;
    for (size_t i = 0; i < base.size(); ++i) {
      ASSERT_TRUE(std::isfinite(got[i])) << dtypeName(half) << " step " << i + 1;
      worst = std::max(worst, std::abs(got[i] - base[i]) / std::abs(base[i]));
      EXPECT_LE(std::abs(got[i] - base[i]), tol * std::abs(base[i]))
          << dtypeName(half) << " step " << i + 1 << ": " << got[i] << " vs " << base[i];
    }
    EXPECT_GT(worst, 0) << dtypeName(half) << ": identical to f32, so not half precision";
    std::cout << example << " " << dtypeName(half) << ": worst relative loss difference " << worst
              << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, AmpTraining,
                         ::testing::Values(Example{"logreg", true}, Example{"mlp", false},
                                           Example{"cnn", false}),
                         [](const auto &info) { return info.param.name; });

} // namespace
} // namespace nng

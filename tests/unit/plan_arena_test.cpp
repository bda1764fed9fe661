// The executor with one arena (ExecutorOptions::arena): training steps of every
// example give bit-identical losses, logits and weights to one buffer per value, also
// across batch sizes that make it plan again and on two streams; keepAlive values
// survive a run.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/cpu/cpu_backend.h"
#include "core/data/random.h"
#include "core/passes/autodiff.h"
#include "core/runtime/executor.h"
#include "core/train/optimizer.h"
#include "dsl/frontend.h"
#include "graph_testing.h"
#include "example_testing.h"

namespace nng {
namespace {

namespace fs = std::filesystem;
using testing::addOp;
using testing::exampleNames;

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Step {
  Graph graph;
  size_t backwardEnd = 0; // the update nodes start here
};

Step trainingStep(const std::string &example, OptimizerType type) {
  const fs::path file = fs::path(NNG_SOURCE_DIR) / "examples" / (example + ".nn");
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::Source{file.string(), readFile(file)}, "", sink);
  NNG_CHECK(g.has_value(), sink.formatAll());
  NNG_CHECK(differentiate(*g), "example without a loss: " + example);
  Step s;
  s.backwardEnd = g->nodes().size();
  OptimizerConfig opt;
  opt.type = type;
  opt.lr = 0.01;
  opt.momentum = 0.9;
  appendOptimizerUpdate(*g, opt);
  s.graph = std::move(*g);
  return s;
}

struct Trace {
  std::vector<std::vector<char>> perStep; // loss and logits bytes of each step
  std::vector<std::vector<char>> weights; // every param and buffer at the end
  size_t arenaBytes = 0;
  std::string strategy; // the plan's
};

std::vector<char> bytesOf(const Executor &ex, ValueId v) {
  std::vector<char> out(ex.read<char>(v));
  return out;
}

// A few training steps with batch sizes that shrink and grow (a re-plan), the way the
// trainer runs them: forward and backward, then the updates.
Trace train(const Step &step, bool arena, int streams = 1) {
  const Graph &g = step.graph;
  auto backend = makeCpuBackend();
  ExecutorOptions o;
  o.arena = arena;
  o.streams = streams;
  Executor ex(g, *backend, o);
  Rng init(7);
  for (ValueId p : g.params()) {
    if (g.value(p).kind != ValueKind::Param)
      continue;
    std::vector<float> w(static_cast<size_t>(ex.tensor(p).elements()));
    for (float &x : w)
      x = static_cast<float>(0.05 * init.normal());
    ex.write(p, w.data(), w.size() * sizeof(float));
  }
  const ValueId x = g.find("x"), label = g.find("label"), loss = *g.loss();
  const ValueId logits = g.find("logits");
  const int64_t features = g.typeOf(x).shape[1].value;
  Trace t;
  const int64_t batches[] = {8, 8, 4, 12, 12};
  for (size_t s = 0; s < std::size(batches); ++s) {
    const int64_t n = batches[s];
    ex.bindFromInputs({{x, {n, features}}, {label, {n}}});
    Rng data(100 + s);
    std::vector<float> xs(static_cast<size_t>(n * features));
    for (float &v : xs)
      v = static_cast<float>(data.uniform());
    std::vector<int64_t> labels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      labels[static_cast<size_t>(i)] = static_cast<int64_t>(data.below(3));
    ex.write(x, xs.data(), xs.size() * sizeof(float));
    ex.write(label, labels.data(), labels.size() * sizeof(int64_t));
    KernelContext ctx;
    ctx.seed = 11;
    ctx.step = s;
    ex.run(ctx, 0, step.backwardEnd);
    t.perStep.push_back(bytesOf(ex, loss));
    if (logits != kNone)
      t.perStep.push_back(bytesOf(ex, logits));
    const double lr = 0.01, number = static_cast<double>(s + 1);
    ex.write(g.find(kLearningRateName), &lr, sizeof lr);
    ex.write(g.find(kStepName), &number, sizeof number);
    ex.run(ctx, step.backwardEnd);
  }
  for (ValueId p : g.params())
    t.weights.push_back(bytesOf(ex, p));
  if (const MemoryPlan *plan = ex.memoryPlan()) {
    t.arenaBytes = plan->arenaBytes;
    t.strategy = plan->strategy;
  }
  return t;
}

TEST(ArenaExecutor, ExamplesTrainBitIdentically) {
  ASSERT_FALSE(exampleNames().empty());
  int tested = 0;
  for (const std::string &name : exampleNames())
    for (OptimizerType type : {OptimizerType::Sgd, OptimizerType::Adam}) {
      SCOPED_TRACE(name + (type == OptimizerType::Sgd ? " sgd" : " adam"));
      const Step step = trainingStep(name, type);
      // Time on two shared cores: Adam on one example is enough, and resmlp32 is
      // resmlp at 32 layers (its plan is checked in plan_memory_test.cpp).
      if ((type == OptimizerType::Adam && name != "two_tower") || step.graph.nodes().size() > 300)
        continue;
      ++tested;
      const Trace plain = train(step, false);
      EXPECT_EQ(plain.arenaBytes, 0u);
      // One arena; one arena run on two streams.
      for (int streams : {1, 2}) {
        const Trace planned = train(step, true, streams);
        EXPECT_GT(planned.arenaBytes, 0u);
        // The towers run on two streams: what they exchange is planned apart.
        if (name == "two_tower" && streams == 2) {
          EXPECT_NE(planned.strategy.find("shared across streams"), std::string::npos)
              << planned.strategy;
        }
        ASSERT_EQ(plain.perStep.size(), planned.perStep.size());
        for (size_t i = 0; i < plain.perStep.size(); ++i)
          EXPECT_TRUE(plain.perStep[i] == planned.perStep[i])
              << streams << " streams: loss or logits, entry " << i;
        ASSERT_EQ(plain.weights.size(), planned.weights.size());
        for (size_t i = 0; i < plain.weights.size(); ++i)
          EXPECT_TRUE(plain.weights[i] == planned.weights[i])
              << streams << " streams: " << step.graph.value(step.graph.params()[i]).name;
      }
      // The losses moved: the steps did train.
      EXPECT_FALSE(plain.perStep.front() == plain.perStep[plain.perStep.size() - 2]);
    }
  EXPECT_GE(tested, 5);
}

// A value that is neither an output nor the loss is overwritten after its last use,
// unless the executor is told to keep it.
TEST(ArenaExecutor, KeepAliveValuesSurviveARun) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 4}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {4, 4}}, Initializer{"zeros", {}});
  ValueId mid = addOp(g, "matmul", {x, w}, {}, "mid");
  ValueId h = addOp(g, "matmul", {mid, w});
  ValueId y = addOp(g, "matmul", {h, w}, {}, "y"); // may take mid's bytes
  g.markOutput(y);
  auto backend = makeCpuBackend();
  const std::vector<float> xs{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<float> ws{1, 0, 0, 1, 0, 1, 1, 0, 2, 0, 0, 0, 0, 0, 1, 1};
  auto midAfterRun = [&](ExecutorOptions o) {
    Executor ex(g, *backend, o);
    ex.bindFromInputs({{x, {2, 4}}});
    ex.write(x, xs.data(), xs.size() * sizeof(float));
    ex.write(w, ws.data(), ws.size() * sizeof(float));
    ex.run(KernelContext{});
    EXPECT_EQ(ex.memoryPlan() != nullptr, o.arena);
    return std::make_pair(ex.read<float>(mid), ex.read<float>(y));
  };
  ExecutorOptions plain, arena, kept;
  arena.arena = kept.arena = true;
  kept.keepAlive = {mid};
  const auto want = midAfterRun(plain);
  EXPECT_EQ(want.first, (std::vector<float>{7, 2, 6, 5, 19, 6, 14, 13}));
  const auto shared = midAfterRun(arena);
  EXPECT_EQ(shared.second, want.second);
  EXPECT_NE(shared.first, want.first); // y wrote over it
  const auto survived = midAfterRun(kept);
  EXPECT_EQ(survived.first, want.first);
  EXPECT_EQ(survived.second, want.second);
}

// A larger batch plans again; a smaller one keeps the plan and its arena.
TEST(ArenaExecutor, PlansAgainOnlyWhenABindNeedsMore) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 16}});
  ValueId r = addOp(g, "relu", {x}); // x is an input: r gets its own bytes
  ValueId e = addOp(g, "exp", {r});  // over r
  ValueId t = addOp(g, "tanh", {e}); // over e
  g.markOutput(t);
  auto backend = makeCpuBackend();
  ExecutorOptions o;
  o.arena = true;
  Executor ex(g, *backend, o);
  EXPECT_EQ(ex.memoryPlan(), nullptr);
  ex.bind({{"N", 4}});
  ASSERT_NE(ex.memoryPlan(), nullptr);
  EXPECT_EQ(ex.memoryPlan()->arenaBytes, 4u * 16 * 4);
  EXPECT_EQ(ex.tensor(e).data, ex.tensor(r).data);
  EXPECT_EQ(ex.tensor(t).data, ex.tensor(r).data);
  ex.bind({{"N", 64}});
  EXPECT_EQ(ex.memoryPlan()->arenaBytes, 64u * 16 * 4);
  const void *arena = ex.tensor(t).data;
  ex.bind({{"N", 2}});
  EXPECT_EQ(ex.memoryPlan()->arenaBytes, 64u * 16 * 4);
  EXPECT_EQ(ex.tensor(t).data, arena);
  EXPECT_EQ(ex.tensor(t).shape, (std::vector<int64_t>{2, 16}));
  std::vector<float> xs(32, -1.0f);
  xs[3] = 2;
  ex.write(x, xs.data(), xs.size() * sizeof(float));
  ex.run(KernelContext{});
  const std::vector<float> out = ex.read<float>(t);
  ASSERT_EQ(out.size(), 32u);
  EXPECT_FLOAT_EQ(out[0], std::tanh(1.0f));
  EXPECT_FLOAT_EQ(out[3], std::tanh(std::exp(2.0f)));
}

} // namespace
} // namespace nng

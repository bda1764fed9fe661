// The checkpoint pass: spec parsing, bit-identical losses and gradients on every
// example (and on a graph with dropout and batch_norm, which it must not recompute),
// where recompute nodes are placed, budgets, and the acceptance figures of issue 4 on
// examples/resmlp32.nn.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/cpu/cpu_backend.h"
#include "core/passes/autodiff.h"
#include "core/passes/checkpoint.h"
#include "core/passes/pass_manager.h"
#include "core/passes/passes.h"
#include "core/runtime/executor.h"
#include "dsl/frontend.h"
#include "graph_testing.h"
#include "example_testing.h"

namespace nng {
namespace {

using testing::addOp;
using testing::exampleNames;

std::string examplePath(const std::string &name) {
  return std::string(NNG_SOURCE_DIR) + "/examples/" + name + ".nn";
}

Graph loadExample(const std::string &name) {
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::readSource(examplePath(name)), "", sink);
  if (!g)
    throw std::runtime_error(name + ": " + sink.formatAll());
  return *g;
}

Graph trainingGraph(const std::string &name) {
  Graph g = loadExample(name);
  differentiate(g);
  return g;
}

// Runs the pass as the pipeline would; returns whether it changed the graph.
bool runPass(Graph &g, PassOptions o, std::vector<std::string> *notes = nullptr) {
  PassContext ctx(std::move(o));
  bool changed = checkpointPass().run(g, ctx);
  if (notes)
    for (const PassNote &n : ctx.notes())
      notes->push_back(n.message);
  return changed;
}

PassOptions options(const std::string &spec, int64_t batch) {
  PassOptions o;
  o.checkpoint = spec;
  o.batch = batch;
  return o;
}

// The loss and every parameter gradient of one run, by name, as raw bytes.
using Results = std::map<std::string, std::vector<float>>;

// Runs `g` at `batch` (training mode, a fixed dropout seed) on inputs and params
// drawn from `seed`, filled by name so that two versions of one model see the same
// numbers.
Results run(const Graph &g, int64_t batch, uint32_t seed) {
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  ex.bind(testing::symbolicDimsAt(g, batch));
  std::vector<ValueId> fed(g.inputs().begin(), g.inputs().end());
  fed.insert(fed.end(), g.params().begin(), g.params().end());
  std::sort(fed.begin(), fed.end(),
            [&](ValueId a, ValueId b) { return g.value(a).name < g.value(b).name; });
  std::mt19937 rng(seed);
  for (ValueId v : fed) {
    const Tensor &t = ex.tensor(v);
    const size_t n = static_cast<size_t>(t.elements());
    if (t.dtype == DType::F32) {
      std::normal_distribution<float> normal(0.0f, g.value(v).kind == ValueKind::Input ? 1.0f
                                                                                        : 0.05f);
      std::vector<float> host(n);
      for (float &x : host)
        x = normal(rng);
      // Running variances must be positive.
      if (g.value(v).kind == ValueKind::Buffer)
        for (float &x : host)
          x = 1.0f + std::fabs(x);
      ex.write(v, host.data(), n * sizeof(float));
    } else if (t.dtype == DType::I64) {
      std::vector<int64_t> host(n);
      for (int64_t &x : host)
        x = static_cast<int64_t>(rng() % 2); // a valid class and embedding row everywhere
      ex.write(v, host.data(), n * sizeof(int64_t));
    } else {
      throw std::runtime_error("test cannot feed " + g.value(v).name);
    }
  }
  KernelContext ctx;
  ctx.training = true;
  ctx.seed = 1234;
  ctx.step = 3;
  ex.run(ctx);
  Results r;
  r["loss"] = ex.read<float>(*g.loss());
  for (ValueId o : g.outputs())
    if (g.value(o).name.rfind("grad.", 0) == 0)
      r[g.value(o).name] = ex.read<float>(o);
  return r;
}

void expectBitIdentical(const Results &want, const Results &got, const std::string &label) {
  ASSERT_EQ(want.size(), got.size()) << label;
  for (const auto &[name, values] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << label << ": " << name << " missing";
    ASSERT_EQ(values.size(), it->second.size()) << label << ": " << name;
    EXPECT_EQ(std::memcmp(values.data(), it->second.data(), values.size() * sizeof(float)), 0)
        << label << ": " << name << " differs";
  }
}

int recomputeCount(const Graph &g) {
  int n = 0;
  for (const Node &node : g.nodes())
    n += node.note.rfind("recompute of ", 0) == 0;
  return n;
}

// Every recompute node is followed, up to its first consumer, only by recompute nodes:
// it was emitted just before the backward node that needs it.
void expectRecomputesJustInTime(const Graph &g) {
  std::vector<int> firstUse(g.values().size(), -1);
  for (size_t n = 0; n < g.nodes().size(); ++n)
    for (ValueId in : g.node(static_cast<NodeId>(n)).inputs)
      if (firstUse[in] < 0)
        firstUse[in] = static_cast<int>(n);
  for (size_t n = 0; n < g.nodes().size(); ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    if (node.note.rfind("recompute of ", 0) != 0)
      continue;
    ASSERT_GT(firstUse[node.output], static_cast<int>(n)) << "recompute of nothing: " << node.note;
    for (int k = static_cast<int>(n) + 1; k < firstUse[node.output]; ++k)
      EXPECT_EQ(g.node(k).note.rfind("recompute of ", 0), 0u)
          << node.note << " is emitted before " << g.node(k).op << ", not just in time";
  }
}

TEST(CheckpointSpec, ParsesSqrtAndBudgets) {
  EXPECT_EQ(parseCheckpointSpec("sqrt").kind, CheckpointSpec::Kind::Sqrt);
  auto budget = [](const std::string &s) {
    CheckpointSpec spec = parseCheckpointSpec(s);
    EXPECT_EQ(spec.kind, CheckpointSpec::Kind::Budget) << s;
    return spec.budgetBytes;
  };
  EXPECT_EQ(budget("budget:512KiB"), 512 * 1024);
  EXPECT_EQ(budget("budget:64MiB"), 64 * 1024 * 1024);
  EXPECT_EQ(budget("budget:1GiB"), int64_t(1) << 30);
  EXPECT_EQ(budget("budget:1.5gib"), int64_t(3) << 29);
  EXPECT_EQ(budget("budget:1048576"), 1048576);
  EXPECT_EQ(budget("budget:100B"), 100);
  EXPECT_EQ(budget("budget:2 MB"), 2000000);
}

TEST(CheckpointSpec, BadSpecsAreUserErrorsThatSayWhy) {
  auto message = [](const std::string &s) -> std::string {
    try {
      parseCheckpointSpec(s);
    } catch (const UserError &e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message("budget:64XiB"),
            "invalid checkpoint spec 'budget:64XiB': unknown unit 'XiB' (use B, KiB, MiB, GiB "
            "or TiB) (expected e.g. budget:512KiB, budget:64MiB, budget:1GiB or "
            "budget:1048576)");
  EXPECT_NE(message("budget:").find("the budget has no size"), std::string::npos);
  EXPECT_NE(message("budget:0").find("at least 1 byte"), std::string::npos);
  EXPECT_NE(message("budget:MiB").find("'MiB' is not a size"), std::string::npos);
  EXPECT_NE(message("budget:-5MiB").find("is not a size"), std::string::npos);
  EXPECT_EQ(message("half"), "invalid checkpoint spec 'half': expected 'sqrt' (--checkpoint) or "
                             "'budget:SIZE' (--checkpoint=budget:64MiB)");
}

// For every example: the checkpointed training graph verifies, and its loss and
// gradients equal the original's bit for bit, with sqrt segments and with a budget
// halfway between the sqrt plan and no checkpointing.
class ExampleCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleCheckpoint, LossAndGradientsAreBitIdentical) {
  const Graph original = trainingGraph(GetParam());
  const int64_t batch = 8;
  const Results want = run(original, batch, 17);
  ASSERT_GT(want.size(), 1u);

  Graph sqrt = original;
  runPass(sqrt, options("sqrt", batch));
  EXPECT_EQ(verify(sqrt), std::vector<std::string>{});
  expectBitIdentical(want, run(sqrt, batch, 17), GetParam() + " sqrt");
  expectRecomputesJustInTime(sqrt);

  const CheckpointPlan plan = planCheckpoint(original, CheckpointSpec::sqrt(), batch);
  EXPECT_EQ(recomputeCount(sqrt), plan.recomputedNodes);
  EXPECT_EQ(activationPeakBytes(sqrt, batch), plan.activationBytes);
  EXPECT_LE(plan.recomputeFlops, plan.forwardFlops);

  const int64_t middle = (plan.activationBytes + plan.baselineBytes) / 2;
  Graph budget = original;
  runPass(budget, options("budget:" + std::to_string(middle), batch));
  EXPECT_EQ(verify(budget), std::vector<std::string>{});
  EXPECT_LE(activationPeakBytes(budget, batch), middle);
  expectBitIdentical(want, run(budget, batch, 17), GetParam() + " budget");
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleCheckpoint, ::testing::ValuesIn(exampleNames()),
                         [](const auto &info) { return info.param; });

TEST(Checkpoint, DeepExamplesRecompute) {
  for (const char *name : {"resmlp", "resmlp32"}) {
    Graph g = trainingGraph(name);
    EXPECT_TRUE(runPass(g, options("sqrt", 8))) << name;
    EXPECT_GT(recomputeCount(g), 0) << name;
  }
}

// As the trainer runs it: in the pipeline, which puts grad first whatever the order asked.
TEST(Checkpoint, RunsInThePipelineAfterGrad) {
  Graph g = loadExample("resmlp");
  PassContext ctx(options("sqrt", 16));
  runPipeline(g, {"checkpoint", "grad"}, ctx);
  EXPECT_GT(recomputeCount(g), 0);
  expectBitIdentical(run(trainingGraph("resmlp"), 16, 3), run(g, 16, 3), "pipeline");
}

// dropout draws its mask from its node (the CPU backend seeds it by the forward
// output's id) and batch_norm updates its running statistics: neither is recomputed,
// their outputs are kept, and the results stay bit-identical.
TEST(Checkpoint, RandomAndStatefulOpsAreKeptNotRecomputed) {
  Graph g;
  g.name = "deep";
  const Dim n = Dim::sym("N");
  ValueId h = g.addInput("x", TensorType{DType::F32, {n, 16}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {n}});
  auto param = [&](const std::string &name, Shape s) {
    return g.addParam(name, TensorType{DType::F32, std::move(s)},
                      Initializer{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(0.1)}});
  };
  for (int i = 0; i < 12; ++i) {
    const std::string l = "l" + std::to_string(i);
    ValueId w = param(l + ".w", {16, 16});
    ValueId y = addOp(g, "matmul", {h, w});
    if (i % 4 == 1) {
      const TensorType channels{DType::F32, {16}};
      ValueId mean = g.addParam(l + ".mean", channels, Initializer{"zeros", {}}, {},
                                ValueKind::Buffer);
      ValueId var = g.addParam(l + ".var", channels, Initializer{"ones", {}}, {},
                               ValueKind::Buffer);
      ValueId gamma = param(l + ".gamma", {16}), beta = param(l + ".beta", {16});
      y = addOp(g, "batch_norm", {y, gamma, beta, mean, var});
    }
    y = addOp(g, "tanh", {y});
    if (i % 4 == 2)
      y = addOp(g, "dropout", {y}, {{"p", Attr::ofFloat(0.3)}});
    h = addOp(g, "add", {h, y});
  }
  ValueId loss = addOp(g, "cross_entropy", {h, label}, {}, "loss");
  g.setLoss(loss);
  ASSERT_EQ(verify(g), std::vector<std::string>{});
  differentiate(g);

  Graph cp = g;
  std::vector<std::string> notes;
  ASSERT_TRUE(runPass(cp, options("sqrt", 4), &notes));
  EXPECT_EQ(verify(cp), std::vector<std::string>{});
  EXPECT_GT(recomputeCount(cp), 0);
  for (const Node &node : cp.nodes())
    if (node.note.rfind("recompute of ", 0) == 0) {
      EXPECT_NE(node.op, "dropout");
      EXPECT_NE(node.op, "batch_norm");
    }
  bool keptDropout = false, keptNorm = false;
  for (const std::string &m : notes) {
    keptDropout |= m.rfind("kept, not recomputed: 'dropout' is random", 0) == 0;
    keptNorm |= m.rfind("kept, not recomputed: 'batch_norm' updates state", 0) == 0;
  }
  EXPECT_TRUE(keptDropout && keptNorm) << ::testing::PrintToString(notes);
  expectBitIdentical(run(g, 4, 5), run(cp, 4, 5), "dropout/batch_norm");
}

TEST(Checkpoint, GraphWithoutGradientsIsLeftAlone) {
  Graph g = loadExample("resmlp32");
  const size_t nodes = g.nodes().size();
  std::vector<std::string> notes;
  EXPECT_FALSE(runPass(g, options("sqrt", 128), &notes));
  EXPECT_EQ(g.nodes().size(), nodes);
  EXPECT_EQ(notes, std::vector<std::string>{"no backward pass: nothing to checkpoint"});
  EXPECT_FALSE(planCheckpoint(g, CheckpointSpec::sqrt(), 128).hasBackward);
}

TEST(Checkpoint, BudgetThatFitsAsIsChangesNothing) {
  Graph g = trainingGraph("resmlp32");
  const size_t nodes = g.nodes().size();
  const int64_t baseline = activationPeakBytes(g, 128);
  std::vector<std::string> notes;
  EXPECT_FALSE(runPass(g, options("budget:" + std::to_string(baseline), 128), &notes));
  EXPECT_EQ(g.nodes().size(), nodes);
  const CheckpointPlan plan = planCheckpoint(g, CheckpointSpec::budget(baseline), 128);
  EXPECT_TRUE(plan.fits);
  EXPECT_EQ(plan.segments, 1);
  EXPECT_EQ(plan.recomputeFlops, 0);
}

TEST(Checkpoint, BudgetTooSmallSaysHowMuchIsMissing) {
  Graph g = trainingGraph("resmlp32");
  const CheckpointPlan plan = planCheckpoint(g, CheckpointSpec::budget(1 << 20), 128);
  EXPECT_FALSE(plan.fits);
  EXPECT_GT(plan.activationBytes, 1 << 20);
  EXPECT_EQ(plan.missingBytes, plan.activationBytes - (1 << 20));
  // The best plan found is no worse than sqrt(n) segments.
  EXPECT_LE(plan.activationBytes,
            planCheckpoint(g, CheckpointSpec::sqrt(), 128).activationBytes);
  try {
    runPass(g, options("budget:1MiB", 128));
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("checkpoint budget 1.0 MiB is too small for model 'resmlp32' at batch 128: "
                      "the best segmentation needs ",
                      0),
              0u)
        << m;
    EXPECT_NE(m.find(" missing; without checkpointing "), std::string::npos) << m;
  }
}

// A budget between the sqrt plan and no checkpointing fits at no more recompute than
// the sqrt plan (larger segments, fewer of them recomputed).
TEST(Checkpoint, BudgetPicksTheLeastRecomputeThatFits) {
  Graph g = trainingGraph("resmlp32");
  const CheckpointPlan sqrt = planCheckpoint(g, CheckpointSpec::sqrt(), 128);
  const int64_t budget = (sqrt.activationBytes + sqrt.baselineBytes) / 2;
  const CheckpointPlan plan = planCheckpoint(g, CheckpointSpec::budget(budget), 128);
  EXPECT_TRUE(plan.fits);
  EXPECT_LE(plan.activationBytes, budget);
  EXPECT_GT(plan.segments, 1);
  EXPECT_LE(plan.recomputeFlops, sqrt.recomputeFlops);
  applyCheckpoint(g, plan);
  EXPECT_EQ(activationPeakBytes(g, 128), plan.activationBytes);
}

// Issue 4's acceptance: on the 32-block residual MLP at batch 128, --checkpoint cuts
// the activation memory at least 3x for at most one extra forward pass of FLOPs.
TEST(Checkpoint, ResMlp32AcceptanceFigures) {
  Graph g = trainingGraph("resmlp32");
  const CheckpointPlan plan = planCheckpoint(g, CheckpointSpec::sqrt(), 128);
  ASSERT_TRUE(plan.hasBackward);
  const double reduction = double(plan.baselineBytes) / double(plan.activationBytes);
  const double extra = plan.recomputeFlops / plan.forwardFlops;
  std::printf("resmlp32 at batch 128: %d segments, activations %lld -> %lld bytes (%.2fx), "
              "recompute %.4g FLOPs = %.3f forward passes (forward %.4g), %d nodes\n",
              plan.segments, static_cast<long long>(plan.baselineBytes),
              static_cast<long long>(plan.activationBytes), reduction, plan.recomputeFlops, extra,
              plan.forwardFlops, plan.recomputedNodes);
  EXPECT_GE(reduction, 3.0);
  EXPECT_LE(extra, 1.0);
  EXPECT_GT(extra, 0.0);
  // The figures describe the graph the pass writes.
  ASSERT_TRUE(runPass(g, options("sqrt", 128)));
  EXPECT_EQ(activationPeakBytes(g, 128), plan.activationBytes);
  EXPECT_EQ(recomputeCount(g), plan.recomputedNodes);
}

} // namespace
} // namespace nng

// core/stats: parameter counts, FLOPs per phase, byte counts and the forward/backward
// rule, checked against numbers worked out by hand for examples/mlp.nn at batch 128.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/passes/autodiff.h"
#include "core/print/nn_printer.h"
#include "core/stats/stats.h"
#include "dsl/frontend.h"
#include "graph_testing.h"

namespace nng {
namespace {

Graph loadExample(const std::string &name) {
  const std::string path = std::string(NNG_SOURCE_DIR) + "/examples/" + name + ".nn";
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::readSource(path), "", sink);
  EXPECT_TRUE(g.has_value()) << sink.formatAll();
  return *g;
}

Graph reparse(const Graph &g) {
  DiagnosticSink sink;
  std::optional<Graph> back =
      dsl::loadModel(dsl::Source{"printed.nn", printNn(g), false}, "", sink);
  EXPECT_TRUE(back.has_value()) << sink.formatAll();
  return *back;
}

// mlp: 784-512-256-10 with biases.
constexpr int64_t kMlpParams = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10;
constexpr int64_t kN = 128;
// Forward at N = 128: three matmuls (2*N*K*M), three bias adds and two relus (1 per
// element), cross_entropy (8 per logit + 1 per label).
constexpr double kMatmuls = 2.0 * kN * 784 * 512 + 2.0 * kN * 512 * 256 + 2.0 * kN * 256 * 10;
constexpr double kMlpForward =
    kMatmuls + (kN * 512 + kN * 256 + kN * 10) + (kN * 512 + kN * 256) + (8 * kN * 10 + kN);
// Backward: the seed constant (0), cross_entropy_grad (as its forward), matmul_grad for
// dX and dW of layers 3 and 2 and dW of layer 1 (one matmul each), relu_grad (as relu),
// and sum_to for the bias gradients (1 per element summed).
constexpr double kMlpBackward = (8 * kN * 10 + kN) + 2 * (2.0 * kN * 256 * 10) +
                                2 * (2.0 * kN * 512 * 256) + 2.0 * kN * 784 * 512 +
                                (kN * 256 + kN * 512) + (kN * 10 + kN * 256 + kN * 512);
// Forward activations, f32: t0 t1 h [N,512], t2 t3 h_1 [N,256], t4 logits [N,10], loss.
constexpr int64_t kMlpForwardActs = 4 * (3 * kN * 512 + 3 * kN * 256 + 2 * kN * 10 + 1);
// Backward values that are not parameter gradients: seed, dlogits [N,10], dh_1 and its
// relu_grad [N,256], dh and its relu_grad [N,512].
constexpr int64_t kMlpBackwardActs = 4 * (1 + kN * 10 + 2 * kN * 256 + 2 * kN * 512);

TEST(Stats, MlpForwardAtBatch128) {
  Graph g = loadExample("mlp");
  StatsOptions o;
  o.batch = kN;
  ModelStats s = computeStats(g, o);
  EXPECT_EQ(s.params.elements, kMlpParams);
  EXPECT_EQ(s.params.bytes, 4 * kMlpParams);
  EXPECT_EQ(s.params.tensors, 6);
  EXPECT_EQ(s.buffers.elements, 0);
  EXPECT_EQ(s.inputs.bytes, kN * 784 * 4 + kN * 8);
  EXPECT_DOUBLE_EQ(s.forwardFlops, kMlpForward);
  EXPECT_DOUBLE_EQ(s.backwardFlops, 0);
  EXPECT_FALSE(s.optimizer.has_value());
  EXPECT_EQ(s.gradients.bytes, 0);
  // The planner rounds every value up to 64 bytes: only the loss (4 bytes) grows.
  EXPECT_EQ(s.arena.naive, kMlpForwardActs - 4 + 64);
  EXPECT_LE(s.arena.lowerBound, s.arena.planned);
  EXPECT_LE(s.arena.planned, s.arena.naive);
  EXPECT_FALSE(s.checkpoint.has_value());
  ASSERT_EQ(s.nodes.size(), 9u);
  EXPECT_EQ(s.nodes[0].op, "matmul");
  EXPECT_EQ(s.nodes[0].name, "t0");
  EXPECT_EQ(s.nodes[0].type.str(), "f32[N, 512]");
  EXPECT_DOUBLE_EQ(s.nodes[0].flops, 2.0 * kN * 784 * 512);
  EXPECT_EQ(s.nodes[0].bytes, kN * 512 * 4);
  EXPECT_EQ(s.nodes[0].loc.line, 10); // h = relu(dense(x, 512, ...))
  for (const NodeStats &n : s.nodes)
    EXPECT_EQ(n.phase, Phase::Forward) << n.name;
}

TEST(Stats, MlpTrainingStepWithSgd) {
  Graph g = loadExample("mlp");
  ASSERT_TRUE(differentiate(g));
  StatsOptions o;
  o.batch = kN;
  o.train = true;
  ModelStats s = computeStats(g, o);
  EXPECT_DOUBLE_EQ(s.forwardFlops, kMlpForward);
  EXPECT_DOUBLE_EQ(s.backwardFlops, kMlpBackward);
  EXPECT_EQ(s.gradients.elements, kMlpParams);
  EXPECT_EQ(s.gradients.bytes, 4 * kMlpParams);
  ASSERT_TRUE(s.optimizer.has_value());
  EXPECT_EQ(s.optimizer->name, "sgd");
  EXPECT_EQ(s.optimizer->buffersPerParam, 1);
  // One f32 momentum per parameter plus the f64 lr and step scalars.
  EXPECT_EQ(s.optimizer->stateBytes, 4 * kMlpParams + 16);
  EXPECT_DOUBLE_EQ(s.optimizer->updateFlops, 4.0 * kMlpParams); // sgd_update: 4 per element
  // The arena holds the gradients too; the loss, the seed and grad.logits.bias (40
  // bytes) round up to 64.
  EXPECT_EQ(s.arena.naive, kMlpForwardActs + kMlpBackwardActs + 4 * kMlpParams + 3 * 64 - 48);
  EXPECT_LE(s.arena.lowerBound, s.arena.planned);
  EXPECT_LE(static_cast<double>(s.arena.planned), 1.05 * static_cast<double>(s.arena.lowerBound));
  EXPECT_EQ(s.persistentBytes(), 3 * 4 * kMlpParams + 16);
  EXPECT_EQ(s.plannedStepBytes(), 2 * 4 * kMlpParams + 16 + s.inputs.bytes + s.arena.planned);
  ASSERT_TRUE(s.checkpoint.has_value());
  EXPECT_EQ(s.checkpoint->spec, "sqrt");
  EXPECT_LE(s.checkpoint->activationBytes, s.checkpoint->baselineBytes);
  EXPECT_FALSE(s.budget.has_value());
}

TEST(Stats, AdamKeepsTwoBuffersPerParameter) {
  Graph g = loadExample("mlp");
  ASSERT_TRUE(differentiate(g));
  StatsOptions o;
  o.train = true;
  o.optimizer.type = OptimizerType::Adam;
  ModelStats s = computeStats(g, o);
  EXPECT_EQ(s.optimizer->buffersPerParam, 2);
  EXPECT_EQ(s.optimizer->stateBytes, 2 * 4 * kMlpParams + 16);
  EXPECT_DOUBLE_EQ(s.optimizer->updateFlops, 10.0 * kMlpParams);
}

TEST(Stats, TrainWithoutLossIsAUserError) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 4}});
  g.markOutput(testing::addOp(g, "relu", {x}));
  StatsOptions o;
  o.train = true;
  EXPECT_THROW(computeStats(g, o), UserError);
}

// The phase rule sees the same split in a graph straight from autodiff and in its
// printed form parsed back, where nothing marks where the backward begins.
TEST(Stats, PhasesSurviveAPrintParseRoundTrip) {
  Graph g = loadExample("mlp");
  ASSERT_TRUE(differentiate(g));
  const std::vector<Phase> direct = classifyNodes(g);
  ASSERT_EQ(direct.size(), g.nodes().size());
  for (size_t n = 0; n < 9; ++n)
    EXPECT_EQ(direct[n], Phase::Forward) << n;
  for (size_t n = 9; n < direct.size(); ++n)
    EXPECT_EQ(direct[n], Phase::Backward) << n << " " << g.node(static_cast<NodeId>(n)).op;
  EXPECT_EQ(classifyNodes(reparse(g)), direct);
}

TEST(Stats, DeadNodesFollowTheirInputs) {
  Graph g;
  const TensorType t{DType::F32, {2, 3}};
  ValueId x = g.addInput("x", t);
  ValueId w = g.addParam("w", t, Initializer{"zeros", {}});
  ValueId y = testing::addOp(g, "mul", {x, w});
  ValueId loss = testing::addOp(g, "sum", {y});
  g.setLoss(loss);
  ValueId deadFwd = testing::addOp(g, "relu", {y}); // reaches nothing
  ASSERT_TRUE(differentiate(g));
  ValueId gw = g.find("grad.w");
  ASSERT_NE(gw, kNone);
  testing::addOp(g, "neg", {gw}); // dead, computed from a gradient
  const std::vector<Phase> p = classifyNodes(g);
  EXPECT_EQ(p[static_cast<size_t>(g.value(deadFwd).producer)], Phase::Forward);
  EXPECT_EQ(p.back(), Phase::Backward);
  EXPECT_EQ(p[static_cast<size_t>(g.value(gw).producer)], Phase::Backward);
}

TEST(Stats, UpdateNodesInTheGraphAreTheirOwnPhase) {
  Graph g;
  const TensorType t{DType::F32, {4}};
  const TensorType scalar{DType::F64, {}};
  ValueId x = g.addInput("x", t);
  ValueId w = g.addParam("w", t, Initializer{"zeros", {}});
  g.setLoss(testing::addOp(g, "sum", {testing::addOp(g, "mul", {x, w})}));
  ASSERT_TRUE(differentiate(g));
  ValueId m = g.addParam("m", t, Initializer{"zeros", {}}, {}, ValueKind::Buffer);
  ValueId lr = g.addParam("lr", scalar, Initializer{"zeros", {}}, {}, ValueKind::Buffer);
  ValueId step = g.addParam("step", scalar, Initializer{"zeros", {}}, {}, ValueKind::Buffer);
  g.markOutput(testing::addOp(g, "sgd_update", {w, g.find("grad.w"), m, lr, step}));
  EXPECT_EQ(classifyNodes(g).back(), Phase::Update);
  StatsOptions o;
  o.train = true;
  ModelStats s = computeStats(g, o);
  ASSERT_TRUE(s.optimizer.has_value());
  EXPECT_DOUBLE_EQ(s.updateFlops(), 16); // 4 per element, appended nothing more
  EXPECT_EQ(s.optimizer->stateBytes, 0); // the state is among the graph's buffers
  EXPECT_EQ(s.buffers.bytes, 16 + 8 + 8);
}

// Checkpointing a deep residual MLP keeps far fewer activations; a budget picks the
// plan, and one too small says how much is missing.
TEST(Stats, CheckpointingAndBudgetsOnResmlp) {
  Graph g = loadExample("resmlp");
  ASSERT_TRUE(differentiate(g));
  StatsOptions o;
  o.batch = 64;
  o.train = true;
  ModelStats s = computeStats(g, o);
  ASSERT_TRUE(s.checkpoint.has_value());
  const CheckpointStats &c = *s.checkpoint;
  EXPECT_GT(c.segments, 1);
  EXPECT_LT(c.activationBytes, c.baselineBytes);
  EXPECT_GT(c.recomputeFlops, 0);
  EXPECT_LE(c.recomputeFlops, c.forwardFlops); // at most one extra forward pass
  EXPECT_DOUBLE_EQ(c.forwardFlops, s.forwardFlops);

  const int64_t fixed = s.persistentBytes() + s.inputs.bytes;
  o.memBudget = fixed + c.baselineBytes; // fits as it is
  ModelStats roomy = computeStats(g, o);
  ASSERT_TRUE(roomy.budget.has_value());
  EXPECT_TRUE(roomy.budget->fits);
  EXPECT_EQ(roomy.budget->segments, 1);
  EXPECT_EQ(roomy.budget->fixedBytes, fixed);
  EXPECT_EQ(roomy.budget->activationBudget, c.baselineBytes);
  EXPECT_EQ(roomy.budget->missingBytes, 0);

  o.memBudget = fixed + c.activationBytes; // the sqrt plan's peak fits: some plan does
  ModelStats tight = computeStats(g, o);
  EXPECT_TRUE(tight.budget->fits);
  EXPECT_GT(tight.budget->segments, 1);
  EXPECT_LE(tight.budget->activationBytes, tight.budget->activationBudget);
  EXPECT_GT(tight.budget->recomputeFlops, 0);

  o.memBudget = fixed / 2; // the fixed part alone does not fit
  ModelStats small = computeStats(g, o);
  EXPECT_FALSE(small.budget->fits);
  EXPECT_LT(small.budget->activationBudget, 0);
  EXPECT_EQ(small.budget->missingBytes, fixed + small.budget->activationBytes - *o.memBudget);
  EXPECT_NE(statsText(small).find("does not fit"), std::string::npos);
}

// The figure: on a 32-block residual MLP, checkpointing (sqrt) cuts the
// activation memory stats reports by at least 3x for at most one extra forward pass.
TEST(Stats, CheckpointingA32BlockResidualMlp) {
  dsl::Source src = dsl::readSource(std::string(NNG_SOURCE_DIR) + "/examples/resmlp.nn");
  const std::string depth = "const DEPTH = 4;";
  const size_t at = src.text.find(depth);
  ASSERT_NE(at, std::string::npos);
  src.text.replace(at, depth.size(), "const DEPTH = 32;");
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(src, "", sink);
  ASSERT_TRUE(g.has_value()) << sink.formatAll();
  ASSERT_TRUE(differentiate(*g));
  StatsOptions o;
  o.batch = 128;
  o.train = true;
  ModelStats s = computeStats(*g, o);
  ASSERT_TRUE(s.checkpoint.has_value());
  EXPECT_GE(static_cast<double>(s.checkpoint->baselineBytes),
            3.0 * static_cast<double>(s.checkpoint->activationBytes));
  EXPECT_LE(s.checkpoint->recomputeFlops, s.forwardFlops);
}

TEST(Stats, FormatsSizes) {
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(1023), "1023 B");
  EXPECT_EQ(formatBytes(1024), "1.0 KiB");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(4 * kMlpParams), "2.0 MiB");
  EXPECT_EQ(formatBytes(int64_t(3) << 30), "3.0 GiB");
  EXPECT_EQ(formatFlops(950), "950");
  EXPECT_EQ(formatFlops(kMlpForward), "137.2 M");
  EXPECT_EQ(formatFlops(4.2e9), "4.2 G");
}

TEST(Stats, ParsesSizes) {
  EXPECT_EQ(parseByteSize("512MiB"), int64_t(512) << 20);
  EXPECT_EQ(parseByteSize("1.5 GiB"), int64_t(3) << 29);
  EXPECT_EQ(parseByteSize("64kib"), 64 * 1024);
  EXPECT_EQ(parseByteSize("2MB"), 2000000);
  EXPECT_EQ(parseByteSize("1000000"), 1000000);
  EXPECT_EQ(parseByteSize("100B"), 100);
  EXPECT_FALSE(parseByteSize("").has_value());
  EXPECT_FALSE(parseByteSize("MiB").has_value());
  EXPECT_FALSE(parseByteSize("12XB").has_value());
  EXPECT_FALSE(parseByteSize("-5MiB").has_value());
  EXPECT_FALSE(parseByteSize("0").has_value());
  EXPECT_FALSE(parseByteSize("1.2.3MiB").has_value());
  EXPECT_FALSE(parseByteSize("99999999999TiB").has_value());
}

TEST(Stats, JsonHasRawNumbers) {
  Graph g = loadExample("mlp");
  ASSERT_TRUE(differentiate(g));
  StatsOptions o;
  o.batch = kN;
  o.train = true;
  auto j = nlohmann::json::parse(statsJson(computeStats(g, o)));
  EXPECT_EQ(j["model"], "mlp");
  EXPECT_EQ(j["batch"], kN);
  EXPECT_EQ(j["params"]["count"], kMlpParams);
  EXPECT_EQ(j["params"]["bytes"], 4 * kMlpParams);
  EXPECT_EQ(j["flops"]["forward"].get<int64_t>(), static_cast<int64_t>(kMlpForward));
  EXPECT_EQ(j["flops"]["backward"].get<int64_t>(), static_cast<int64_t>(kMlpBackward));
  EXPECT_EQ(j["optimizer"]["name"], "sgd");
  EXPECT_EQ(j["optimizer"]["source"], "assumed");
  EXPECT_EQ(j["memory"]["gradients"], 4 * kMlpParams);
  EXPECT_EQ(j["memory"]["arena"]["naive"],
            kMlpForwardActs + kMlpBackwardActs + 4 * kMlpParams + 3 * 64 - 48);
  EXPECT_TRUE(j["memory"]["checkpoint"].is_object());
  EXPECT_TRUE(j["mem_budget"].is_null());
  EXPECT_EQ(j["nodes"][0]["value"], "t0");
  EXPECT_EQ(j["nodes"][0]["flops"], 2 * kN * 784 * 512);
  EXPECT_EQ(j["nodes"][0]["phase"], "forward");
  EXPECT_EQ(j["nodes"].back()["phase"], "backward");
}

} // namespace
} // namespace nng

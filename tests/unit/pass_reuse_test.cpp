// The reuse pass: notes with every activation's place in the arena, totals in
// --explain, and an unchanged computation, on hand-built graphs and on every example's
// training graph.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/passes/pass_manager.h"
#include "core/plan/memory_plan.h"
#include "core/plan/schedule.h"
#include "core/print/graph_equal.h"
#include "dsl/frontend.h"
#include "graph_testing.h"

namespace nng {
namespace {

namespace fs = std::filesystem;
using testing::addOp;

std::string explained(const PassContext &ctx) {
  std::string out;
  for (const PassNote &n : ctx.notes())
    if (n.pass == "reuse")
      out += n.message + "\n";
  return out;
}

TEST(ReusePass, NotesPlaceEveryActivation) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 16}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {16, 16}}, Initializer{"zeros", {}});
  ValueId m = addOp(g, "matmul", {x, w}, {}, "m");
  ValueId r = addOp(g, "relu", {m}, {}, "r");
  ValueId m2 = addOp(g, "matmul", {r, w}, {}, "m2");
  g.markOutput(addOp(g, "sigmoid", {m2}, {}, "y"));
  const Graph before = g;
  PassOptions o;
  o.batch = 4;
  PassContext ctx(o);
  runPipeline(g, {"reuse"}, ctx);
  std::string why;
  EXPECT_TRUE(sameGraph(before, g, &why)) << why;
  // 4 x 16 f32 = 256 bytes each; m2 overlaps r (r is its input) so it goes above.
  EXPECT_EQ(g.node(0).note, "arena 0+256");
  EXPECT_EQ(g.node(1).note, "arena 0+256, in place of m");
  EXPECT_EQ(g.node(2).note, "arena 256+256");
  EXPECT_EQ(g.node(3).note, "arena 256+256, in place of m2");
  EXPECT_EQ(explained(ctx), "r = relu(...) overwrites m, which nothing reads later\n"
                            "y = sigmoid(...) overwrites m2, which nothing reads later\n"
                            "arena 512 B, lower bound 512 B (1.00x), no sharing 1.0 KiB\n"
                            "sizes at batch 4; 2 outputs in place; offsets by greedy by size\n");
}

TEST(ReusePass, AGraphWithoutNodesHasAnEmptyArena) {
  Graph g;
  g.markOutput(g.addInput("x", TensorType{DType::F32, {3}}));
  PassContext ctx;
  runPipeline(g, {"reuse"}, ctx);
  EXPECT_EQ(explained(ctx), "arena 0 B, lower bound 0 B (1.00x), no sharing 0 B\n"
                            "sizes at batch 1; 0 outputs in place; offsets by nothing to place\n");
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every example's training graph at batch 128: the graph is unchanged but for notes,
// every node output has one, and the explained arena is within 1.05x of the bound.
TEST(ReusePass, ExamplesAfterGrad) {
  int count = 0;
  for (const auto &e : fs::directory_iterator(fs::path(NNG_SOURCE_DIR) / "examples")) {
    if (e.path().extension() != ".nn")
      continue;
    SCOPED_TRACE(e.path().filename().string());
    DiagnosticSink sink;
    std::optional<Graph> g =
        dsl::loadModel(dsl::Source{e.path().string(), readFile(e.path())}, "", sink);
    ASSERT_TRUE(g.has_value()) << sink.formatAll();
    PassOptions o;
    o.batch = 128;
    PassContext ctx(o);
    runPipeline(*g, {"grad"}, ctx);
    const Graph before = *g;
    runPipeline(*g, {"reuse"}, ctx);
    std::string why;
    EXPECT_TRUE(sameGraph(before, *g, &why)) << why;
    const std::regex note(R"(arena \d+\+\d+(, in place of [\w.]+)?)");
    for (const Node &n : g->nodes())
      EXPECT_TRUE(std::regex_match(n.note, note)) << n.op << ": " << n.note;
    const MemoryPlan plan = planMemory(*g, sequentialSchedule(*g), valueBytesAtBatch(*g, o.batch));
    EXPECT_LE(static_cast<double>(plan.arenaBytes), 1.05 * static_cast<double>(plan.lowerBound));
    const std::regex totals(
        R"(arena [\d.]+ [KMG]?i?B, lower bound [\d.]+ [KMG]?i?B \(1\.0[0-5]x\), )"
        R"(no sharing [\d.]+ [KMG]?i?B)");
    const std::string text = explained(ctx);
    EXPECT_TRUE(std::regex_search(text, totals)) << text;
    ++count;
  }
  EXPECT_GE(count, 5);
}

} // namespace
} // namespace nng

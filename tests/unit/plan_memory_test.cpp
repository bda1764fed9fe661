// The memory planner: in-place decisions, offsets that never let a live value be
// overwritten (checked by simulating the schedule byte range by byte range), the
// arena against the lower bound on every example's training step, several streams,
// and planning time on a 100,000-node graph.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/data/random.h"
#include "core/passes/autodiff.h"
#include "core/plan/memory_plan.h"
#include "core/plan/schedule.h"
#include "core/train/optimizer.h"
#include "dsl/frontend.h"
#include "graph_testing.h"
#include "example_testing.h"

namespace nng {
namespace {

namespace fs = std::filesystem;
using testing::addOp;
using testing::exampleNames;

TensorType f32(std::vector<Dim> shape) { return TensorType{DType::F32, std::move(shape)}; }

// Runs the schedule over the arena: every chunk of a value's bytes is owned by the
// last value written there. Each input a node reads, and every output and the loss at
// the end, must still own all its bytes. Returns the first problem, or "".
std::string simulate(const Graph &g, const Schedule &s, const MemoryPlan &plan,
                     const std::vector<size_t> &bytes) {
  std::vector<ValueId> owner(plan.arenaBytes / kArenaAlignment + 1, kNone);
  auto range = [&](ValueId v) {
    const auto b = static_cast<size_t>(plan.offset[static_cast<size_t>(v)]) / kArenaAlignment;
    const size_t n = (bytes[static_cast<size_t>(v)] + kArenaAlignment - 1) / kArenaAlignment;
    return std::make_pair(b, b + n);
  };
  auto intact = [&](ValueId v) {
    if (plan.offset[static_cast<size_t>(v)] < 0)
      return true;
    const auto [b, e] = range(v);
    for (size_t c = b; c < e; ++c)
      if (owner[c] != v)
        return false;
    return true;
  };
  for (NodeId n : s.order) {
    const Node &node = g.node(n);
    for (ValueId in : node.inputs)
      if (!intact(in))
        return "node " + std::to_string(n) + " reads value " + std::to_string(in) +
               ", which was overwritten";
    const ValueId out = node.output;
    if (plan.offset[static_cast<size_t>(out)] < 0)
      continue;
    const auto [b, e] = range(out);
    if (e > owner.size())
      return "value " + std::to_string(out) + " ends past the arena";
    for (size_t c = b; c < e; ++c)
      owner[c] = out;
  }
  std::vector<ValueId> held = g.outputs();
  if (g.loss())
    held.push_back(*g.loss());
  for (ValueId v : held)
    if (!intact(v))
      return "output " + std::to_string(v) + " was overwritten";
  return "";
}

// x -> matmul -> add bias -> relu -> softmax: the elementwise ops and softmax take
// their input's bytes, the matmul cannot.
TEST(MemoryPlan, ChainRunsInPlace) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 8}));
  ValueId w = g.addParam("w", f32({8, 16}), Initializer{"zeros", {}});
  ValueId b = g.addParam("b", f32({16}), Initializer{"zeros", {}});
  ValueId m = addOp(g, "matmul", {x, w});
  ValueId a = addOp(g, "add", {m, b});
  ValueId r = addOp(g, "relu", {a});
  ValueId s = addOp(g, "softmax", {r}, {}, "s");
  g.markOutput(s);
  std::vector<size_t> bytes = valueBytesAtBatch(g, 4);
  EXPECT_EQ(bytes[static_cast<size_t>(m)], 4u * 16 * 4);
  MemoryPlan plan = planMemory(g, sequentialSchedule(g), bytes);
  EXPECT_EQ(plan.inPlaceOf[static_cast<size_t>(a)], m);
  EXPECT_EQ(plan.inPlaceOf[static_cast<size_t>(r)], a);
  EXPECT_EQ(plan.inPlaceOf[static_cast<size_t>(s)], r);
  EXPECT_EQ(plan.inPlaceOf[static_cast<size_t>(m)], kNone);
  EXPECT_EQ(plan.inPlaceCount, 3);
  for (ValueId v : {m, a, r, s})
    EXPECT_EQ(plan.offset[static_cast<size_t>(v)], 0);
  for (ValueId v : {x, w, b})
    EXPECT_EQ(plan.offset[static_cast<size_t>(v)], -1);
  EXPECT_EQ(plan.arenaBytes, 256u);
  EXPECT_EQ(plan.lowerBound, 256u);
  EXPECT_EQ(plan.naiveBytes, 4u * 256);
  EXPECT_EQ(simulate(g, sequentialSchedule(g), plan, bytes), "");

  MemoryPlanOptions noInPlace;
  noInPlace.inPlace = false;
  MemoryPlan apart = planMemory(g, sequentialSchedule(g), bytes, noInPlace);
  EXPECT_EQ(apart.inPlaceCount, 0);
  EXPECT_EQ(apart.arenaBytes, 512u); // two live at each node, alternating
  EXPECT_EQ(apart.lowerBound, 512u);
  EXPECT_EQ(simulate(g, sequentialSchedule(g), apart, bytes), "");
}

// Sharing needs a dying input of the output's type that the op may overwrite.
TEST(MemoryPlan, InPlaceOnlyWhereSafe) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 8}));
  ValueId row = g.addParam("row", f32({8}), Initializer{"zeros", {}});
  ValueId w = g.addParam("w", f32({8, 8}), Initializer{"zeros", {}});
  ValueId rx = addOp(g, "relu", {x});      // x is an input: never overwritten
  ValueId m = addOp(g, "matmul", {rx, w}); // not an elementwise op
  ValueId r1 = addOp(g, "relu", {m});      // m is read again below
  ValueId s = addOp(g, "add", {r1, m});    // r1 dies here: in place of r1
  ValueId red = addOp(g, "sum", {s}, {{"axis", Attr::ofList({Attr::ofInt(0)})}});
  ValueId bc = addOp(g, "mul", {red, row}); // [8] * [8]: red dies, same type
  ValueId big = addOp(g, "add", {bc, s});   // bc is [8], the output [N, 8]: only s fits
  ValueId t = addOp(g, "tanh", {big}, {}, "t");
  ValueId t2 = addOp(g, "exp", {t}); // t is an output: kept
  g.markOutput(t);
  g.markOutput(t2);
  std::vector<size_t> bytes = valueBytesAtBatch(g, 3);
  MemoryPlan plan = planMemory(g, sequentialSchedule(g), bytes);
  auto of = [&](ValueId v) { return plan.inPlaceOf[static_cast<size_t>(v)]; };
  EXPECT_EQ(of(rx), kNone);
  EXPECT_EQ(of(m), kNone);
  EXPECT_EQ(of(r1), kNone);
  EXPECT_EQ(of(s), r1);
  EXPECT_EQ(of(bc), red);
  EXPECT_EQ(of(big), s);
  EXPECT_EQ(of(t), big);
  EXPECT_EQ(of(t2), kNone);
  EXPECT_EQ(simulate(g, sequentialSchedule(g), plan, bytes), "");
}

// Optimizer updates share their param's buffer: outside the arena.
TEST(MemoryPlan, UpdatesOfParamsStayOutOfTheArena) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 4}));
  ValueId w = g.addParam("w", f32({4, 2}), Initializer{"zeros", {}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {Dim::sym("N")}});
  ValueId logits = addOp(g, "matmul", {x, w});
  g.setLoss(addOp(g, "cross_entropy", {logits, label}, {}, "loss"));
  ASSERT_TRUE(differentiate(g));
  OptimizerConfig opt;
  opt.momentum = 0.9;
  appendOptimizerUpdate(g, opt);
  const ValueId updated = g.find("optim.w.updated");
  ASSERT_NE(updated, kNone);
  std::vector<size_t> bytes = valueBytesAtBatch(g, 5);
  MemoryPlan plan = planMemory(g, sequentialSchedule(g), bytes);
  EXPECT_EQ(plan.inPlaceOf[static_cast<size_t>(updated)], w);
  EXPECT_EQ(plan.offset[static_cast<size_t>(updated)], -1);
  EXPECT_GE(plan.offset[static_cast<size_t>(g.find("grad.w"))], 0);
  EXPECT_EQ(simulate(g, sequentialSchedule(g), plan, bytes), "");
}

// A random graph of elementwise, broadcasting, matmul and reduction ops over a few
// widths, with a loss, differentiated: many lifetimes, many in-place chances.
Graph randomGraph(uint64_t seed, int nodes) {
  Rng rng(seed);
  Graph g;
  const int64_t widths[] = {4, 8, 16};
  std::vector<ValueId> pool;
  for (int64_t wd : widths)
    pool.push_back(g.addInput("x" + std::to_string(wd), f32({Dim::sym("N"), wd})));
  std::vector<ValueId> params;
  for (int64_t a : widths)
    for (int64_t b : widths)
      params.push_back(g.addParam("w" + std::to_string(a) + "_" + std::to_string(b), f32({a, b}),
                                  Initializer{"zeros", {}}));
  auto width = [&](ValueId v) { return g.typeOf(v).shape.back().value; };
  auto pick = [&]() { return pool[rng.below(pool.size())]; };
  auto sameWidth = [&](ValueId v) {
    for (int tries = 0; tries < 20; ++tries) {
      ValueId u = pick();
      if (width(u) == width(v) && g.typeOf(u).rank() == g.typeOf(v).rank())
        return u;
    }
    return v;
  };
  const char *unary[] = {"relu", "tanh", "sigmoid", "exp", "softmax"};
  const char *binary[] = {"add", "mul", "sub", "maximum"};
  for (int i = 0; i < nodes; ++i) {
    ValueId a = pick();
    ValueId out;
    switch (rng.below(5)) {
    case 0:
      out = addOp(g, unary[rng.below(5)], {a});
      break;
    case 1:
    case 2:
      out = addOp(g, binary[rng.below(4)], {a, sameWidth(a)});
      break;
    case 3: {
      const int64_t to = widths[rng.below(3)];
      out = addOp(g, "matmul",
                  {a, params[static_cast<size_t>((width(a) == 4   ? 0
                                                  : width(a) == 8 ? 1
                                                                  : 2) *
                                                     3 +
                                                 (to == 4   ? 0
                                                  : to == 8 ? 1
                                                            : 2))]});
      break;
    }
    default: { // a broadcast: a [N, W] plus a per-feature row
      ValueId row = addOp(g, "sum", {a}, {{"axis", Attr::ofList({Attr::ofInt(0)})}});
      out = addOp(g, "mul", {a, addOp(g, "tanh", {row})});
    }
    }
    pool.push_back(out);
  }
  ValueId total = pool.back();
  for (size_t k = pool.size() - 6; k + 1 < pool.size(); ++k)
    if (width(pool[k]) == width(total))
      total = addOp(g, "add", {total, pool[k]});
  g.setLoss(addOp(g, "sum", {total}, {}, "loss"));
  g.markOutput(pool[pool.size() / 2]);
  return g;
}

TEST(MemoryPlan, RandomGraphsNeverOverwriteLiveValues) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Graph g = randomGraph(seed, 30 + static_cast<int>(seed % 7) * 10);
    ASSERT_TRUE(verify(g).empty());
    if (seed % 2) {
      ASSERT_TRUE(differentiate(g));
    }
    for (int64_t batch : {1, 3, 32}) {
      std::vector<size_t> bytes = valueBytesAtBatch(g, batch);
      Schedule s = sequentialSchedule(g);
      MemoryPlan plan = planMemory(g, s, bytes);
      EXPECT_EQ(simulate(g, s, plan, bytes), "") << "seed " << seed << " batch " << batch;
      EXPECT_GE(plan.arenaBytes, plan.lowerBound);
      EXPECT_LE(plan.arenaBytes, plan.naiveBytes);
      EXPECT_LE(static_cast<double>(plan.arenaBytes), 1.25 * static_cast<double>(plan.lowerBound))
          << "seed " << seed << " batch " << batch;
    }
  }
}

// Placement alone: random ranges and sizes never overlap in both time and bytes.
TEST(MemoryPlan, PlacementKeepsOverlappingItemsApart) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Rng rng(seed);
    std::vector<ArenaItem> items(200);
    for (ArenaItem &it : items) {
      it.first = static_cast<int32_t>(rng.below(300));
      it.last = it.first + static_cast<int32_t>(rng.below(seed % 3 ? 20 : 200));
      it.bytes = 64 * (1 + rng.below(seed % 2 ? 4 : 64));
    }
    ArenaLayout layout = placeItems(items);
    EXPECT_GE(layout.bytes, liveBytesPeak(items));
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_LE(layout.offset[i] + items[i].bytes, layout.bytes);
      for (size_t j = i + 1; j < items.size(); ++j) {
        const bool inTime = items[i].first <= items[j].last && items[j].first <= items[i].last;
        const bool inSpace = layout.offset[i] < layout.offset[j] + items[j].bytes &&
                             layout.offset[j] < layout.offset[i] + items[i].bytes;
        EXPECT_FALSE(inTime && inSpace) << "seed " << seed << ": items " << i << " and " << j;
      }
    }
  }
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// An example's training step as the trainer builds it: autodiff, then the updates.
Graph trainingGraph(const std::string &example, OptimizerType type) {
  const fs::path file = fs::path(NNG_SOURCE_DIR) / "examples" / (example + ".nn");
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::Source{file.string(), readFile(file)}, "", sink);
  NNG_CHECK(g.has_value(), sink.formatAll());
  NNG_CHECK(differentiate(*g), "example without a loss: " + example);
  OptimizerConfig opt;
  opt.type = type;
  opt.momentum = 0.9;
  appendOptimizerUpdate(*g, opt);
  return std::move(*g);
}

// Issue 4: on every example's training step at batch 128 the arena is within 1.05x
// of the most bytes live at once.
TEST(MemoryPlan, ExamplesPlanWithin105PercentOfTheLowerBound) {
  ASSERT_FALSE(exampleNames().empty());
  for (const std::string &name : exampleNames())
    for (OptimizerType type : {OptimizerType::Sgd, OptimizerType::Adam}) {
      Graph g = trainingGraph(name, type);
      std::vector<size_t> bytes = valueBytesAtBatch(g, 128);
      Schedule s = sequentialSchedule(g);
      MemoryPlan plan = planMemory(g, s, bytes);
      const double ratio =
          static_cast<double>(plan.arenaBytes) / static_cast<double>(plan.lowerBound);
      std::printf("%-10s %-4s arena %10zu  lower bound %10zu  (%.4fx)  no sharing %10zu  %s\n",
                  name.c_str(), type == OptimizerType::Sgd ? "sgd" : "adam", plan.arenaBytes,
                  plan.lowerBound, ratio, plan.naiveBytes, plan.strategy.c_str());
      EXPECT_LE(ratio, 1.05) << name;
      EXPECT_LT(plan.arenaBytes, plan.naiveBytes) << name;
      EXPECT_EQ(simulate(g, s, plan, bytes), "") << name;
    }
}

// Two streams: a diamond whose branches run concurrently. Values used on one stream
// share only within it; a value crossing streams shares with nothing.
TEST(MemoryPlan, StreamsShareOnlyWithinAStream) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 8}));
  ValueId w = g.addParam("w", f32({8, 8}), Initializer{"zeros", {}});
  ValueId a = addOp(g, "matmul", {x, w});   // 0, stream 0, read on both streams
  ValueId b1 = addOp(g, "matmul", {a, w});  // 1, stream 0
  ValueId b2 = addOp(g, "matmul", {b1, w}); // 2, stream 0
  ValueId c1 = addOp(g, "matmul", {a, w});  // 3, stream 1
  ValueId c2 = addOp(g, "matmul", {c1, w}); // 4, stream 1
  ValueId d = addOp(g, "add", {b2, c2});    // 5, stream 0
  g.markOutput(d);
  Schedule s = sequentialSchedule(g);
  s.streams = 2;
  s.stream = {0, 0, 0, 1, 1, 0};
  s.waits[3] = {0};
  s.waits[5] = {4};
  std::vector<size_t> bytes = valueBytesAtBatch(g, 2);
  MemoryPlan plan = planMemory(g, s, bytes);
  auto off = [&](ValueId v) { return plan.offset[static_cast<size_t>(v)]; };
  auto end = [&](ValueId v) { return off(v) + static_cast<int64_t>(kArenaAlignment); };
  auto apart = [&](ValueId u, ValueId v) { return end(u) <= off(v) || end(v) <= off(u); };
  // a and c2 cross streams: their bytes are theirs alone (sequentially, b2 could
  // reuse a's bytes once c1 has read it; with streams c1 may still be reading).
  for (ValueId u : {a, c2})
    for (ValueId v : {a, b1, b2, c1, c2, d})
      if (u != v) {
        EXPECT_TRUE(apart(u, v)) << u << " and " << v;
      }
  // Values of different streams never share bytes.
  for (ValueId u : {b1, b2, d})
    EXPECT_TRUE(apart(u, c1)) << u;
  // Within stream 0, d overwrites b2, which dies there.
  EXPECT_EQ(plan.inPlaceOf[static_cast<size_t>(d)], b2);
  EXPECT_EQ(off(d), off(b2));
  EXPECT_EQ(simulate(g, s, plan, bytes), "");
  // Sequentially, the same graph needs less.
  EXPECT_LT(planMemory(g, sequentialSchedule(g), bytes).arenaBytes, plan.arenaBytes);
}

// Issue 4: planning a 100,000-node graph takes well under a second.
TEST(MemoryPlan, HundredThousandNodesPlanFast) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 64}));
  ValueId w = g.addParam("w", f32({64, 64}), Initializer{"zeros", {}});
  ValueId h = x, skip = x;
  for (int i = 0; i < 100000; ++i) {
    if (i % 4 == 3) {
      h = addOp(g, "add", {h, skip}); // a residual every 4 nodes
      skip = h;
    } else {
      h = addOp(g, i % 4 == 1 ? "relu" : "matmul",
                i % 4 == 1 ? std::vector<ValueId>{h} : std::vector<ValueId>{h, w});
    }
  }
  g.markOutput(h);
  std::vector<size_t> bytes = valueBytesAtBatch(g, 32);
  const auto t0 = std::chrono::steady_clock::now();
  MemoryPlan plan = planMemory(g, sequentialSchedule(g), bytes);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("100000 nodes planned in %.3f s: arena %zu, lower bound %zu, %s\n", s,
              plan.arenaBytes, plan.lowerBound, plan.strategy.c_str());
  EXPECT_LT(s, 0.5);
  EXPECT_EQ(plan.arenaBytes, plan.lowerBound);
  EXPECT_EQ(simulate(g, sequentialSchedule(g), plan, bytes), "");
}

// Training-shaped placement: nested lifetimes (forward activations live until their
// backward use), each overlapping all the others. 2000 of them still get greedy by
// size; 100,000 get the in-order layout, which suits this pattern too.
TEST(MemoryPlan, NestedLifetimesPlaceFast) {
  for (int32_t n : {2000, 100000}) {
    std::vector<ArenaItem> items;
    for (int32_t i = 0; i < n / 2; ++i) {
      items.push_back(ArenaItem{i, n - 1 - i, 64 * static_cast<size_t>(1 + i % 5)}); // forward
      items.push_back(ArenaItem{n - 1 - i, n - 1 - i, 128});                         // its grad
    }
    const auto t0 = std::chrono::steady_clock::now();
    ArenaLayout layout = placeItems(items);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%d nested items placed in %.3f s by %s\n", n, s, layout.strategy.c_str());
    EXPECT_LT(s, 0.5);
    EXPECT_EQ(layout.strategy, n == 2000 ? "greedy by size" : "in order");
    EXPECT_LE(static_cast<double>(layout.bytes), 1.05 * static_cast<double>(liveBytesPeak(items)));
  }
}

} // namespace
} // namespace nng

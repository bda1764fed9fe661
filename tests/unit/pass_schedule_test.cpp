// The schedule pass and the stream runner: stream assignments respect every dependency
// (on one stream in order, or through waits, transitively), branches land on different
// streams and chains on one, the report's numbers, the pass's notes and explanations,
// and the runner: each node once, after its dependencies, bit-identical to a sequential
// run of the examples' training steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>

#include "core/cpu/cpu_backend.h"
#include "core/ir/rewrite.h"
#include "core/passes/autodiff.h"
#include "core/passes/pass_manager.h"
#include "core/plan/schedule.h"
#include "core/runtime/executor.h"
#include "core/runtime/stream_runner.h"
#include "core/train/optimizer.h"
#include "dsl/frontend.h"
#include "graph_testing.h"

namespace nng {
namespace {

using testing::addOp;

Graph loadExample(const std::string &name) {
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(
      dsl::readSource(std::string(NNG_SOURCE_DIR) + "/examples/" + name + ".nn"), "", sink);
  NNG_CHECK(g.has_value(), sink.formatAll());
  return std::move(*g);
}

// A training step: forward, backward, and SGD-with-momentum updates in place.
Graph trainingStep(const std::string &name) {
  Graph g = loadExample(name);
  EXPECT_TRUE(differentiate(g));
  OptimizerConfig opt;
  opt.momentum = 0.9;
  appendOptimizerUpdate(g, opt);
  EXPECT_TRUE(verify(g).empty());
  return g;
}

NodeId producerOf(const Graph &g, const std::string &name) {
  ValueId v = g.find(name);
  NNG_CHECK(v != kNone && g.value(v).kind == ValueKind::Node, "no node output " + name);
  return g.value(v).producer;
}

// The checks every schedule must pass: `order` a topological permutation, streams in
// range, waits on other streams and earlier in the order, at most one wait per other
// stream, and every dependency of a node done before it starts: it is on its stream
// earlier, or reachable through waits and stream order.
void expectValid(const Graph &g, const Schedule &s) {
  const size_t n = g.nodes().size();
  ASSERT_EQ(s.order.size(), n);
  ASSERT_EQ(s.stream.size(), n);
  ASSERT_EQ(s.waits.size(), n);
  std::vector<size_t> at(n, SIZE_MAX);
  for (size_t k = 0; k < n; ++k) {
    const size_t id = static_cast<size_t>(s.order[k]);
    ASSERT_LT(id, n);
    ASSERT_EQ(at[id], SIZE_MAX) << "node " << id << " twice in the order";
    at[id] = k;
  }
  const auto deps = scheduleDependencies(g);
  // happened[i]: the nodes certainly done when node i starts (bitset).
  const size_t words = (n + 63) / 64;
  std::vector<std::vector<uint64_t>> happened(n, std::vector<uint64_t>(words, 0));
  std::vector<NodeId> lastOn(static_cast<size_t>(s.streams), kNone);
  auto absorb = [&](std::vector<uint64_t> &into, NodeId p) {
    const auto &from = happened[static_cast<size_t>(p)];
    for (size_t w = 0; w < words; ++w)
      into[w] |= from[w];
    into[static_cast<size_t>(p) / 64] |= uint64_t(1) << (static_cast<size_t>(p) % 64);
  };
  for (NodeId id : s.order) {
    const size_t i = static_cast<size_t>(id);
    const int st = s.stream[i];
    ASSERT_GE(st, 0);
    ASSERT_LT(st, s.streams);
    std::vector<int> waitedStreams;
    for (NodeId w : s.waits[i]) {
      EXPECT_NE(s.stream[static_cast<size_t>(w)], st) << "node " << i << " waits on its stream";
      EXPECT_LT(at[static_cast<size_t>(w)], at[i]) << "node " << i << " waits for a later node";
      waitedStreams.push_back(s.stream[static_cast<size_t>(w)]);
      absorb(happened[i], w);
    }
    std::sort(waitedStreams.begin(), waitedStreams.end());
    EXPECT_EQ(std::adjacent_find(waitedStreams.begin(), waitedStreams.end()), waitedStreams.end())
        << "node " << i << " waits twice on one stream";
    if (lastOn[static_cast<size_t>(st)] != kNone)
      absorb(happened[i], lastOn[static_cast<size_t>(st)]);
    lastOn[static_cast<size_t>(st)] = id;
    for (NodeId d : deps[i])
      EXPECT_TRUE(happened[i][static_cast<size_t>(d) / 64] >> (static_cast<size_t>(d) % 64) & 1)
          << "node " << i << " may start before its dependency " << d;
  }
}

// A random DAG of `add`/`mul` nodes over [rows, cols] tensors: most inputs come from
// the last few values (chains), some from anywhere (branches and joins).
Graph randomDag(uint64_t seed, int nodes, int64_t rows = 1, int64_t cols = 4) {
  Graph g;
  std::mt19937_64 rng(seed);
  const TensorType t{DType::F32, {rows, cols}};
  std::vector<ValueId> vals{g.addInput("x", t), g.addInput("y", t)};
  auto pick = [&]() {
    const size_t window = 1 + rng() % 6;
    if (rng() % 4 == 0 || vals.size() <= window)
      return vals[rng() % vals.size()];
    return vals[vals.size() - 1 - rng() % window];
  };
  for (int i = 0; i < nodes; ++i)
    vals.push_back(addOp(g, rng() % 2 ? "add" : "mul", {pick(), pick()}));
  g.markOutput(vals.back());
  return g;
}

TEST(ScheduleStreams, TwoTowerGetsItsTowersOnDifferentStreams) {
  const Graph g = loadExample("two_tower");
  const Schedule s = scheduleStreams(g, 2);
  expectValid(g, s);
  EXPECT_EQ(s.streams, 2);
  const int top = s.stream[static_cast<size_t>(producerOf(g, "top"))];
  const int bottom = s.stream[static_cast<size_t>(producerOf(g, "bottom"))];
  EXPECT_NE(top, bottom);
  // Each tower is one chain on one stream, from its slice to its last relu.
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const std::string &name = g.value(g.nodes()[i].output).name;
    if (name.rfind("top", 0) == 0) {
      EXPECT_EQ(s.stream[i], top) << name;
    }
    if (name.rfind("bottom", 0) == 0) {
      EXPECT_EQ(s.stream[i], bottom) << name;
    }
  }
  // The join waits once, for the other tower's output; nothing else waits.
  const NodeId joined = producerOf(g, "joined");
  const NodeId other =
      top == s.stream[static_cast<size_t>(joined)] ? producerOf(g, "bottom") : producerOf(g, "top");
  for (size_t i = 0; i < g.nodes().size(); ++i)
    EXPECT_EQ(s.waits[i], i == static_cast<size_t>(joined) ? std::vector<NodeId>{other}
                                                           : std::vector<NodeId>{});
  // More streams than branches: still two.
  EXPECT_EQ(scheduleStreams(g, 8).streams, 2);
}

TEST(ScheduleStreams, AChainGetsOneStream) {
  const Graph g = loadExample("mlp");
  const Schedule s = scheduleStreams(g, 4);
  expectValid(g, s);
  EXPECT_EQ(s.streams, 1);
  for (const auto &w : s.waits)
    EXPECT_TRUE(w.empty());
  const ScheduleReport r = analyzeSchedule(g, s, 32);
  EXPECT_DOUBLE_EQ(r.criticalPathFlops, r.totalFlops);
  EXPECT_DOUBLE_EQ(r.parallelism, 1.0);
  EXPECT_DOUBLE_EQ(r.achieved, 1.0);
}

TEST(ScheduleStreams, BranchesTooSmallForAWaitStayOnOneStream) {
  // logreg's softmax and cross_entropy both read the logits: 2 independent nodes of a
  // few dozen FLOPs, far less than a cross-stream wait costs.
  const Graph g = loadExample("logreg");
  const Schedule s = scheduleStreams(g, 2);
  EXPECT_EQ(s.streams, 1);
  EXPECT_GT(analyzeSchedule(g, s, 1).parallelism, 1.0);
}

// x -> a = x w1 -> c = a w3 -> d = c + b, with b = x w2 beside a and c.
struct Diamond {
  Graph g;
  NodeId a, b, c, d;
  Diamond() {
    ValueId x = g.addInput("x", TensorType{DType::F32, {1, 100}});
    auto w = [&](const char *name) {
      return g.addParam(name, TensorType{DType::F32, {100, 100}}, Initializer{"zeros", {}});
    };
    ValueId w1 = w("w1"), w2 = w("w2"), w3 = w("w3");
    ValueId va = addOp(g, "matmul", {x, w1}, {}, "a");
    ValueId vb = addOp(g, "matmul", {x, w2}, {}, "b");
    ValueId vc = addOp(g, "matmul", {va, w3}, {}, "c");
    ValueId vd = addOp(g, "add", {vc, vb}, {}, "d");
    g.markOutput(vd);
    a = g.value(va).producer;
    b = g.value(vb).producer;
    c = g.value(vc).producer;
    d = g.value(vd).producer;
  }
};

TEST(ScheduleStreams, ReportOnAGraphWithKnownFlops) {
  Diamond m;
  const Graph &g = m.g;
  // matmul [1, 100] x [100, 100]: 2 * 100 * 100; add of 100 elements: 100.
  EXPECT_EQ(nodeFlops(g, 1), (std::vector<double>{20000, 20000, 20000, 100}));
  const Schedule s = scheduleStreams(g, 2);
  expectValid(g, s);
  EXPECT_EQ(s.streams, 2);
  EXPECT_EQ(s.stream, (std::vector<int>{0, 1, 0, 0}));
  EXPECT_EQ(s.waits[static_cast<size_t>(m.d)], std::vector<NodeId>{m.b});
  const ScheduleReport r = analyzeSchedule(g, s, 1);
  EXPECT_EQ(r.streams, 2);
  EXPECT_DOUBLE_EQ(r.totalFlops, 60100);
  EXPECT_DOUBLE_EQ(r.criticalPathFlops, 40100); // a, c, d
  EXPECT_DOUBLE_EQ(r.parallelism, 60100.0 / 40100.0);
  EXPECT_DOUBLE_EQ(r.makespanFlops, 40100); // b runs beside a and c
  EXPECT_DOUBLE_EQ(r.achieved, 60100.0 / 40100.0);
  EXPECT_EQ(r.waits, 1);
  EXPECT_EQ(r.streamFlops, (std::vector<double>{40100, 20000}));

  // One stream runs everything in turn.
  const ScheduleReport seq = analyzeSchedule(g, sequentialSchedule(g), 1);
  EXPECT_DOUBLE_EQ(seq.makespanFlops, 60100);
  EXPECT_DOUBLE_EQ(seq.achieved, 1.0);
  EXPECT_DOUBLE_EQ(seq.parallelism, 60100.0 / 40100.0);
  // Another assignment: d on b's stream waits for c instead.
  const Schedule other = scheduleOnStreams(g, {0, 1, 0, 1});
  expectValid(g, other);
  EXPECT_EQ(other.waits[static_cast<size_t>(m.d)], std::vector<NodeId>{m.c});
  EXPECT_DOUBLE_EQ(analyzeSchedule(g, other, 1).makespanFlops, 40100);
  // FLOPs scale with the batch only through symbolic dimensions: none here.
  EXPECT_DOUBLE_EQ(analyzeSchedule(g, s, 64).totalFlops, 60100);
}

TEST(ScheduleStreams, FlopsScaleWithTheBatch) {
  const Graph g = loadExample("two_tower");
  const ScheduleReport r1 = analyzeSchedule(g, scheduleStreams(g, 2), 1);
  const ScheduleReport r8 = analyzeSchedule(g, scheduleStreams(g, 2, 8), 8);
  EXPECT_GT(r1.totalFlops, 0);
  EXPECT_DOUBLE_EQ(r8.totalFlops, 8 * r1.totalFlops);
  // Two equal towers and a small head: nearly 2x available, and reached.
  EXPECT_GT(r1.parallelism, 1.8);
  EXPECT_LT(r1.parallelism, 2.0);
  EXPECT_DOUBLE_EQ(r1.achieved, r1.parallelism);
}

TEST(ScheduleStreams, RandomAssignmentsGetValidPrunedWaits) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const Graph g = randomDag(seed, 150);
    std::mt19937_64 rng(seed * 7);
    std::vector<int> stream(g.nodes().size());
    const int k = 2 + static_cast<int>(seed % 4);
    for (int &s : stream)
      s = static_cast<int>(rng() % static_cast<uint64_t>(k));
    const Schedule s = scheduleOnStreams(g, stream);
    expectValid(g, s);
    EXPECT_EQ(s.streams, k);
  }
}

TEST(ScheduleStreams, RandomDagsAreSpreadAndValid) {
  int multi = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    // Big tensors, so branches are worth a wait.
    const Graph g = randomDag(seed, 120, 256, 256);
    for (int streams : {1, 2, 3, 4}) {
      const Schedule s = scheduleStreams(g, streams);
      expectValid(g, s);
      EXPECT_LE(s.streams, streams);
      multi += s.streams > 1;
      const ScheduleReport r = analyzeSchedule(g, s, 1);
      EXPECT_LE(r.achieved, r.parallelism + 1e-9);
      EXPECT_GE(r.achieved, 1.0 - 1e-9);
      EXPECT_GE(r.makespanFlops, r.criticalPathFlops);
    }
  }
  EXPECT_GT(multi, 60);
}

TEST(ScheduleStreams, InPlaceUpdatesWaitForEveryReaderOfTheirParam) {
  const Graph g = trainingStep("two_tower");
  const auto deps = scheduleDependencies(g);
  const auto users = usersOf(g);
  int updates = 0;
  for (size_t u = 0; u < g.nodes().size(); ++u) {
    const OpDef *def = opRegistry().find(g.nodes()[u].op);
    if (!def || def->inplace < 0)
      continue;
    ++updates;
    const ValueId param = g.nodes()[u].inputs[static_cast<size_t>(def->inplace)];
    for (NodeId reader : users[static_cast<size_t>(param)])
      if (static_cast<size_t>(reader) != u) {
        ASSERT_LT(static_cast<size_t>(reader), u);
        EXPECT_TRUE(std::binary_search(deps[u].begin(), deps[u].end(), reader))
            << g.nodes()[u].op << " of " << g.value(param).name << " misses reader " << reader;
      }
  }
  EXPECT_EQ(updates, 10); // two towers of two dense layers and the head: 10 params
  const Schedule s = scheduleStreams(g, 2);
  expectValid(g, s);
  EXPECT_EQ(s.streams, 2);
}

TEST(ScheduleStreams, ScalesToAHundredThousandNodes) {
  const Graph g = randomDag(99, 100000, 16, 16);
  const auto t0 = std::chrono::steady_clock::now();
  const Schedule s = scheduleStreams(g, 4);
  const ScheduleReport r = analyzeSchedule(g, s, 1);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(s.order.size(), 100000u);
  EXPECT_GT(r.totalFlops, 0);
}

// --- the pass ---

PassContext contextWithStreams(int streams) {
  PassOptions o;
  o.streams = streams;
  return PassContext(o);
}

TEST(SchedulePass, NotesStreamsAndWaitsAndExplainsTheReport) {
  Graph g = loadExample("two_tower");
  const std::string before = g.node(producerOf(g, "joined")).note;
  PassContext ctx = contextWithStreams(2);
  runPipeline(g, {"schedule"}, ctx);
  EXPECT_EQ(before, "");
  // The bottom tower starts the second stream; the join waits for it.
  EXPECT_EQ(g.node(producerOf(g, "top")).note, "stream 0");
  EXPECT_EQ(g.node(producerOf(g, "bottom")).note, "stream 1");
  EXPECT_EQ(g.node(producerOf(g, "joined")).note, "stream 0; waits for bottom");
  ASSERT_EQ(ctx.notes().size(), 1u);
  EXPECT_EQ(ctx.notes()[0].pass, "schedule");
  const std::string &msg = ctx.notes()[0].message;
  EXPECT_EQ(msg, "2 streams: total work 272 kFLOP, critical path 139 kFLOP, parallelism 1.96x "
                 "(achieved 1.96x); 1 cross-stream wait; work per stream 139 kFLOP, 134 kFLOP");
}

TEST(SchedulePass, ExplainsWhyNothingRunsInParallel) {
  {
    Graph g = loadExample("mlp");
    PassContext ctx = contextWithStreams(2);
    runPipeline(g, {"schedule"}, ctx);
    ASSERT_EQ(ctx.notes().size(), 1u);
    EXPECT_EQ(ctx.notes()[0].message.rfind("1 of 2 streams used: the graph is a chain", 0), 0u)
        << ctx.notes()[0].message;
    for (const Node &n : g.nodes())
      EXPECT_EQ(n.note, "");
  }
  {
    Graph g = loadExample("logreg");
    PassContext ctx = contextWithStreams(2);
    runPipeline(g, {"schedule"}, ctx);
    ASSERT_EQ(ctx.notes().size(), 1u);
    EXPECT_EQ(ctx.notes()[0].message.rfind("1 of 2 streams used: the independent branches are "
                                           "too small to pay for a cross-stream wait",
                                           0),
              0u)
        << ctx.notes()[0].message;
  }
  {
    Graph g = loadExample("two_tower");
    PassContext ctx = contextWithStreams(1);
    runPipeline(g, {"schedule"}, ctx);
    ASSERT_EQ(ctx.notes().size(), 1u);
    EXPECT_EQ(ctx.notes()[0].message.rfind("1 stream: nothing runs in parallel", 0), 0u)
        << ctx.notes()[0].message;
    EXPECT_NE(ctx.notes()[0].message.find("parallelism 1.9"), std::string::npos);
    for (const Node &n : g.nodes())
      EXPECT_EQ(n.note, "");
  }
}

TEST(SchedulePass, TrainingGraphStaysValidAndKeepsItsOrder) {
  Graph g = loadExample("two_tower");
  PassContext ctx = contextWithStreams(3);
  runPipeline(g, {"grad", "schedule"}, ctx);
  Graph plain = loadExample("two_tower");
  differentiate(plain);
  ASSERT_EQ(g.nodes().size(), plain.nodes().size());
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    EXPECT_EQ(g.nodes()[i].op, plain.nodes()[i].op);
    EXPECT_EQ(g.nodes()[i].note.rfind("stream ", 0), 0u);
  }
}

// --- the runner ---

// Runs `s` through a StreamRunner many times, checking that every node runs exactly
// once per run and only after all its dependencies finished; from the second half of
// the runs on, a random fifth of the nodes runs alone, and none of them may overlap
// another node.
void stressRunner(const Graph &g, const Schedule &s, int runs, uint64_t seed) {
  const size_t n = g.nodes().size();
  const auto deps = scheduleDependencies(g);
  std::unique_ptr<std::atomic<int>[]> count(new std::atomic<int>[n]);
  std::unique_ptr<std::atomic<bool>[]> done(new std::atomic<bool>[n]);
  std::vector<int> work(n);
  std::mt19937_64 rng(seed);
  for (int &w : work)
    w = static_cast<int>(rng() % 2000);
  std::vector<bool> alone(n);
  for (size_t i = 0; i < n; ++i)
    alone[i] = rng() % 5 == 0;
  std::atomic<int> violations{0}, overlaps{0}, running{0};
  StreamRunner runner(s);
  EXPECT_EQ(runner.streams(), s.streams);
  for (int run = 0; run < runs; ++run) {
    if (run == runs / 2)
      runner.setAlone(alone);
    for (size_t i = 0; i < n; ++i) {
      count[i].store(0);
      done[i].store(false);
    }
    runner.run([&](NodeId id) {
      const size_t i = static_cast<size_t>(id);
      const int others = running.fetch_add(1);
      if (run >= runs / 2 && alone[i] && others != 0)
        ++overlaps;
      for (NodeId d : deps[i])
        if (!done[static_cast<size_t>(d)].load(std::memory_order_acquire))
          ++violations;
      volatile int sink = 0; // a little work, different per node, to vary the timing
      for (int k = 0; k < work[i] * ((run % 3) + 1); ++k)
        sink = sink + k;
      count[i].fetch_add(1);
      done[i].store(true, std::memory_order_release);
      running.fetch_sub(1);
    });
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(count[i].load(), 1) << "node " << i << " in run " << run;
  }
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(overlaps.load(), 0);
}

TEST(StreamRunner, RunsEveryNodeOnceAfterItsDependencies) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const Graph g = randomDag(seed, 200);
    std::mt19937_64 rng(seed);
    std::vector<int> stream(g.nodes().size());
    for (int &s : stream)
      s = static_cast<int>(rng() % (1 + seed % 4));
    const Schedule s = scheduleOnStreams(g, stream);
    stressRunner(g, s, 60, seed);
  }
  const Graph tower = trainingStep("two_tower");
  stressRunner(tower, scheduleStreams(tower, 2), 100, 5);
}

TEST(StreamRunner, BigKernelsRunAlone) {
  const Graph g = loadExample("two_tower");
  const std::vector<bool> alone = nodesUsingAllCores(g, 64);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node &node = g.nodes()[i];
    // matmul [64, 392] x [392, 128]: 6.4 MFLOP; the slices copy 64 * 392 = 25088
    // elements and relu or add touch 64 * 128: below the 32768 of a parallel loop.
    if (node.op == "matmul" && g.typeOf(node.inputs[0]).shape[1] == Dim(392)) {
      EXPECT_TRUE(alone[i]) << i;
    }
    if (node.op == "relu" || node.op == "add" || node.op == "slice") {
      EXPECT_FALSE(alone[i]) << i;
    }
  }
  // At batch 1024 every [N, 128] activation is past the parallel-loop size.
  const std::vector<bool> big = nodesUsingAllCores(g, 1024);
  int wide = 0;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const TensorType &t = g.typeOf(g.nodes()[i].output);
    if (t.rank() == 2 && t.shape[1].isKnown() && t.shape[1].value >= 128) {
      ++wide;
      EXPECT_TRUE(big[i]) << g.nodes()[i].op;
    }
  }
  EXPECT_EQ(wide, 15); // 2 slices, 4 matmuls, 4 adds, 4 relus, the concat
}

TEST(StreamRunner, RethrowsTheFirstErrorAndStaysUsable) {
  const Graph g = randomDag(3, 100);
  std::vector<int> stream(g.nodes().size());
  for (size_t i = 0; i < stream.size(); ++i)
    stream[i] = static_cast<int>(i % 3);
  const Schedule s = scheduleOnStreams(g, stream);
  StreamRunner runner(s);
  std::atomic<int> ran{0};
  for (int attempt = 0; attempt < 20; ++attempt) {
    ran = 0;
    try {
      runner.run([&](NodeId id) {
        if (id == 40)
          throw std::runtime_error("node 40 failed");
        ++ran;
      });
      FAIL() << "expected the error";
    } catch (const std::runtime_error &e) {
      EXPECT_STREQ(e.what(), "node 40 failed");
    }
    EXPECT_LT(ran.load(), 100);
  }
  ran = 0;
  runner.run([&](NodeId) { ++ran; });
  EXPECT_EQ(ran.load(), 100);
}

TEST(StreamRunner, RunsANodeRangeAfterTheNodesBeforeIt) {
  const Graph g = randomDag(8, 120);
  std::vector<int> stream(g.nodes().size());
  for (size_t i = 0; i < stream.size(); ++i)
    stream[i] = static_cast<int>((i / 7) % 3);
  const Schedule s = scheduleOnStreams(g, stream);
  const auto deps = scheduleDependencies(g);
  StreamRunner runner(s);
  std::vector<std::atomic<int>> runs(g.nodes().size());
  std::atomic<int> violations{0};
  auto body = [&](NodeId id) {
    for (NodeId d : deps[static_cast<size_t>(id)])
      if (runs[static_cast<size_t>(d)].load() == 0)
        ++violations;
    runs[static_cast<size_t>(id)].fetch_add(1);
  };
  runner.run(body, 0, 50);
  for (size_t i = 0; i < runs.size(); ++i)
    EXPECT_EQ(runs[i].load(), i < 50 ? 1 : 0);
  runner.run(body, 50);
  for (size_t i = 0; i < runs.size(); ++i)
    EXPECT_EQ(runs[i].load(), 1);
  EXPECT_EQ(violations.load(), 0);
}

// Every value's bytes.
std::vector<std::vector<uint8_t>> snapshot(const Executor &ex) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t v = 0; v < ex.graph().values().size(); ++v) {
    const Tensor &t = ex.tensor(static_cast<ValueId>(v));
    std::vector<uint8_t> bytes(t.bytes());
    ex.read(static_cast<ValueId>(v), bytes.data());
    out.push_back(std::move(bytes));
  }
  return out;
}

// A training step of an example at batch 64 (big enough for the kernels' threaded
// paths) run sequentially and through streams must give the same bits in every value.
void expectBitIdentical(const std::string &name, int streams) {
  const Graph g = trainingStep(name);
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  const int64_t batch = 64;
  std::map<ValueId, std::vector<int64_t>> shapes;
  for (ValueId in : g.inputs()) {
    std::vector<int64_t> shape;
    for (const Dim &d : g.typeOf(in).shape)
      shape.push_back(d.isKnown() ? d.value : batch);
    shapes[in] = shape;
  }
  ex.bindFromInputs(shapes);

  // The starting state: random inputs and params, learning rate and step, zero state.
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.f, 0.5f);
  std::vector<std::pair<ValueId, std::vector<uint8_t>>> state;
  for (size_t v = 0; v < g.values().size(); ++v) {
    const Value &val = g.values()[v];
    if (val.kind == ValueKind::Node)
      continue;
    const Tensor &t = ex.tensor(static_cast<ValueId>(v));
    std::vector<uint8_t> bytes(t.bytes(), 0);
    const size_t count = static_cast<size_t>(t.elements());
    if (t.dtype == DType::I64) {
      for (size_t k = 0; k < count; ++k) {
        int64_t label = static_cast<int64_t>(rng() % 3);
        std::memcpy(bytes.data() + 8 * k, &label, 8);
      }
    } else if (t.dtype == DType::F64) {
      double one = val.name == kLearningRateName ? 0.05 : 1.0;
      for (size_t k = 0; k < count; ++k)
        std::memcpy(bytes.data() + 8 * k, &one, 8);
    } else if (t.dtype == DType::F32 && (val.kind != ValueKind::Buffer ||
                                         val.name.find("running_var") != std::string::npos)) {
      for (size_t k = 0; k < count; ++k) {
        float f = val.kind == ValueKind::Buffer ? 1.0f : normal(rng);
        std::memcpy(bytes.data() + 4 * k, &f, 4);
      }
    }
    state.emplace_back(static_cast<ValueId>(v), std::move(bytes));
  }
  // Activations are overwritten with a pattern first, so a node the streams skip or run
  // too early cannot match by leftover values.
  auto reset = [&]() {
    for (const Node &node : g.nodes()) {
      const OpDef *def = opRegistry().find(node.op);
      if (def && def->inplace >= 0)
        continue; // its output is the param's buffer, restored below
      std::vector<uint8_t> junk(ex.tensor(node.output).bytes(), 0xA5);
      ex.write(node.output, junk.data(), junk.size());
    }
    for (const auto &[v, bytes] : state)
      ex.write(v, bytes.data(), bytes.size());
  };
  const KernelContext kctx{true, 7, 3};
  reset();
  ex.run(kctx);
  const auto expected = snapshot(ex);

  const Schedule s = streams > 0 ? scheduleStreams(g, streams, batch) : [&] {
    // A random assignment: many more cross-stream edges than a real schedule.
    std::vector<int> stream(g.nodes().size());
    std::mt19937_64 r(5);
    for (int &x : stream)
      x = static_cast<int>(r() % 3);
    return scheduleOnStreams(g, stream);
  }();
  expectValid(g, s);
  if (name == "two_tower" && streams == 2) {
    EXPECT_EQ(s.streams, 2);
  }
  StreamRunner runner(s);
  auto runNode = [&](NodeId id) {
    const Node &node = g.node(id);
    std::vector<Tensor> ins;
    for (ValueId in : node.inputs)
      ins.push_back(ex.tensor(in));
    Tensor out = ex.tensor(node.output);
    ex.backend().run(node, ins, out, kctx);
  };
  const std::vector<bool> alone = nodesUsingAllCores(g, batch);
  if (name != "logreg") { // logreg's kernels are all tiny
    EXPECT_TRUE(std::count(alone.begin(), alone.end(), true) > 0) << name;
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    // Attempts 2 and 3 run the big kernels alone.
    runner.setAlone(attempt >= 2 ? alone : std::vector<bool>{});
    reset();
    runner.run(runNode);
    const auto got = snapshot(ex);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t v = 0; v < got.size(); ++v)
      ASSERT_TRUE(got[v] == expected[v]) << name << ": value " << g.values()[v].name << " (" << v
                                         << ") differs, attempt " << attempt;
  }
}

class StreamsBitIdentical : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamsBitIdentical, TrainingStepMatchesASequentialRun) {
  expectBitIdentical(GetParam(), 2);
  expectBitIdentical(GetParam(), 4);
  expectBitIdentical(GetParam(), 0); // random 3-stream assignment
}

INSTANTIATE_TEST_SUITE_P(Examples, StreamsBitIdentical,
                         ::testing::Values("two_tower", "mlp", "resmlp", "cnn", "logreg"));

} // namespace
} // namespace nng

// sameGraph: equal graphs, graphs equal up to value ids and temporary names, and the first
// difference reported for each kind of mismatch.
#include <gtest/gtest.h>

#include "core/print/graph_equal.h"
#include "tests/unit/print_graphs.h"

namespace nng {
namespace {

using testing::addOp;
using testing::tt;

// A small graph; each field changes one thing.
struct Variant {
  std::string model = "m";
  DType xDtype = DType::F32;
  std::string init = "zeros";
  ValueKind wKind = ValueKind::Param;
  bool swapAddInputs = false;
  std::string actOp = "leaky_relu";
  Attr alpha = Attr::ofFloat(0.01);
  bool withAlpha = true;
  std::string hName = "h";
  bool extraNode = false;
  bool secondOutput = false;
  bool withLoss = true;
  bool namedTemp = false;
};

Graph build(const Variant &v) {
  Graph g;
  g.name = v.model;
  ValueId x = g.addInput("x", tt(v.xDtype, {Dim::sym("N"), 2}));
  ValueId w = g.addParam("w", tt(DType::F32, {2}), {v.init, {}}, {}, v.wKind);
  std::vector<ValueId> ins = v.swapAddInputs ? std::vector<ValueId>{w, x}
                                             : std::vector<ValueId>{x, w};
  ValueId t = g.addNode("add", ins, {}, tt(DType::F32, {Dim::sym("N"), 2}),
                        v.namedTemp ? "t0" : "");
  AttrMap attrs;
  if (v.withAlpha)
    attrs["alpha"] = v.alpha;
  ValueId h = g.addNode(v.actOp, {t}, attrs, tt(DType::F32, {Dim::sym("N"), 2}), v.hName);
  if (v.extraNode)
    addOp(g, "neg", {h});
  ValueId loss = g.addNode("mean", {h}, {}, tt(DType::F32, {}), "loss");
  g.markOutput(h);
  if (v.secondOutput)
    g.markOutput(t);
  if (v.withLoss)
    g.setLoss(loss);
  return g;
}

// The difference sameGraph reports between the base graph and `v` (and checks it is
// symmetric in whether a difference is found).
std::string diffTo(const Variant &v) {
  std::string why = "stale text";
  bool same = sameGraph(build(Variant{}), build(v), &why);
  EXPECT_EQ(same, why.empty());
  EXPECT_EQ(same, sameGraph(build(v), build(Variant{})));
  return why;
}

TEST(GraphEqual, EqualGraphsClearWhy) {
  std::string why = "stale text";
  EXPECT_TRUE(sameGraph(testing::mlpGraph(), testing::mlpGraph(), &why));
  EXPECT_EQ(why, "");
  EXPECT_TRUE(sameGraph(build({}), build({})));
}

TEST(GraphEqual, TemporariesCompareByPrintedName) {
  Variant named;
  named.namedTemp = true; // "t0" written out is what the unnamed temporary prints as
  EXPECT_EQ(diffTo(named), "");
}

TEST(GraphEqual, ValueIdsDoNotMatter) {
  // The same graph with the param created after the first node: other ids, same print.
  Graph a, b;
  a.name = b.name = "m";
  ValueId xa = a.addInput("x", tt(DType::F32, {2}));
  ValueId wa = a.addParam("w", tt(DType::F32, {2}), {"ones", {}});
  ValueId ra = addOp(a, "relu", {xa});
  a.markOutput(addOp(a, "add", {ra, wa}, {}, "y"));
  ValueId xb = b.addInput("x", tt(DType::F32, {2}));
  ValueId rb = addOp(b, "relu", {xb});
  ValueId wb = b.addParam("w", tt(DType::F32, {2}), {"ones", {}});
  b.markOutput(addOp(b, "add", {rb, wb}, {}, "y"));
  ASSERT_NE(wa, wb);
  std::string why;
  EXPECT_TRUE(sameGraph(a, b, &why)) << why;
}

TEST(GraphEqual, ReportsTheFirstDifference) {
  Variant v;
  v.model = "n";
  EXPECT_EQ(diffTo(v), "model name 'm' vs 'n'");

  v = {};
  v.xDtype = DType::F16;
  v.init = "ones"; // also differs, but later
  EXPECT_EQ(diffTo(v), "inputs 0 (x): type f32[N, 2] vs f16[N, 2]");

  v = {};
  v.init = "ones";
  EXPECT_EQ(diffTo(v), "params and buffers 0 (w): initializer zeros vs ones");

  v = {};
  v.wKind = ValueKind::Buffer;
  EXPECT_EQ(diffTo(v), "params and buffers 0 (w): kind param vs buffer");

  v = {};
  v.swapAddInputs = true;
  EXPECT_EQ(diffTo(v), "node 0 (t0 = add): input 0 'x' vs 'w'");

  v = {};
  v.actOp = "elu";
  EXPECT_EQ(diffTo(v), "node 1 (h = leaky_relu): op leaky_relu vs elu");

  v = {};
  v.hName = "g";
  EXPECT_EQ(diffTo(v), "node 1 (h = leaky_relu): output name 'h' vs 'g'");

  v = {};
  v.alpha = Attr::ofInt(1);
  Variant floatOne;
  floatOne.alpha = Attr::ofFloat(1.0);
  std::string why;
  EXPECT_FALSE(sameGraph(build(floatOne), build(v), &why));
  EXPECT_EQ(why, "node 1 (h = leaky_relu): attribute alpha: 1.0 (float) vs 1 (int)");

  v = {};
  v.withAlpha = false;
  EXPECT_EQ(diffTo(v), "node 1 (h = leaky_relu): attribute alpha only in the first graph");

  v = {};
  v.extraNode = true;
  EXPECT_EQ(diffTo(v), "node count 3 vs 4");

  v = {};
  v.secondOutput = true;
  EXPECT_EQ(diffTo(v), "output count 1 vs 2");

  v = {};
  v.withLoss = false;
  EXPECT_EQ(diffTo(v), "loss only in the first graph");
}

TEST(GraphEqual, TypesAndLossNamesAreCompared) {
  Graph a = build({}), b = build({});
  b.value(2).type = tt(DType::F32, {Dim::sym("B"), 2}); // t0's stored type
  std::string why;
  EXPECT_FALSE(sameGraph(a, b, &why));
  EXPECT_EQ(why, "node 0 (t0 = add): type f32[N, 2] vs f32[B, 2]");

  Graph c = build({});
  c.setLoss(3); // h instead of loss
  EXPECT_FALSE(sameGraph(a, c, &why));
  EXPECT_EQ(why, "loss 'loss' vs 'h'");
}

} // namespace
} // namespace nng

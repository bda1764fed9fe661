// The graph verifier (core/ir/verify.cpp): a well-formed graph has no problems, and each
// kind of malformed graph a pass could leave is reported, with the node it concerns.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "tests/unit/graph_testing.h"

namespace nng {
namespace {

using testing::addOp;

const TensorType kVec{DType::F32, {Dim(4)}};

// x -> relu -> sum: the graph every case below breaks in one place.
struct Small {
  Graph g;
  ValueId x, r, s;
  Small() {
    x = g.addInput("x", kVec);
    r = addOp(g, "relu", {x}, {}, "r");
    s = addOp(g, "sum", {r}, {}, "s");
    g.markOutput(r);
    g.setLoss(s);
  }
};

// Whether one of `problems` contains `text`; the list in the failure message.
::testing::AssertionResult reports(const std::vector<std::string> &problems,
                                   const std::string &text) {
  std::string all;
  for (const std::string &p : problems) {
    if (p.find(text) != std::string::npos)
      return ::testing::AssertionSuccess();
    all += "\n  " + p;
  }
  return ::testing::AssertionFailure() << "no problem mentions \"" << text << "\":" << all;
}

TEST(Verify, AWellFormedGraphHasNoProblems) {
  Small m;
  EXPECT_TRUE(verify(m.g).empty());
}

TEST(Verify, ANameUsedTwice) {
  Small m;
  m.g.value(m.s).name = "r";
  EXPECT_TRUE(reports(verify(m.g), "value name 'r' is used twice"));
}

TEST(Verify, ANegativeDimension) {
  Small m;
  m.g.value(m.x).type.shape[0] = Dim(-1);
  EXPECT_TRUE(reports(verify(m.g), "value 'x' has a negative dimension"));
}

TEST(Verify, AnUnknownOp) {
  Small m;
  m.g.node(m.g.value(m.r).producer).op = "frobnicate";
  EXPECT_TRUE(reports(verify(m.g), "node 0 (frobnicate): unknown op"));
}

TEST(Verify, AnInputUsedBeforeItIsDefined) {
  Small m;
  m.g.node(m.g.value(m.r).producer).inputs = {m.s}; // s is made by the next node
  EXPECT_TRUE(reports(verify(m.g), "node 0 (relu): input used before it is defined"));
}

TEST(Verify, AnOutputThatDoesNotPointBack) {
  Small m;
  m.g.value(m.r).producer = 1;
  EXPECT_TRUE(reports(verify(m.g), "node 0 (relu): output does not point back to the node"));
}

TEST(Verify, AttributesWithoutTheirDefaults) {
  Graph g;
  const ValueId x = g.addInput("x", TensorType{DType::F32, {Dim(2), Dim(4)}});
  addOp(g, "softmax", {x}, {}, "p");
  EXPECT_TRUE(verify(g).empty());
  g.node(0).attrs.clear(); // the front end fills axis = -1; a pass dropped it
  EXPECT_TRUE(reports(verify(g), "node 0 (softmax): attributes are not complete"));
}

TEST(Verify, AnAttributeTheOpRejects) {
  Graph g;
  const ValueId x = g.addInput("x", TensorType{DType::F32, {Dim(2), Dim(4)}});
  addOp(g, "softmax", {x}, {}, "p");
  g.node(0).attrs["axis"] = Attr::ofInt(5);
  EXPECT_TRUE(reports(verify(g), "node 0 (softmax): softmax: axis 5 is out of range for rank 2"));
}

TEST(Verify, AStoredTypeThatDiffersFromTheInferredOne) {
  Small m;
  m.g.value(m.r).type = TensorType{DType::F32, {Dim(5)}};
  EXPECT_TRUE(reports(verify(m.g), "node 0 (relu): stored type f32[5] differs from inferred"));
}

TEST(Verify, AWrongNumberOfInputs) {
  Small m;
  m.g.node(m.g.value(m.r).producer).inputs = {m.x, m.x};
  EXPECT_TRUE(reports(verify(m.g), "node 0 (relu): relu: expected 1 input (x), got 2"));
}

TEST(Verify, AnUndefinedOutput) {
  Small m;
  m.g.markOutput(ValueId(42));
  EXPECT_TRUE(reports(verify(m.g), "output is not a defined value"));
}

TEST(Verify, ALossThatIsNotAScalar) {
  Small m;
  m.g.setLoss(m.r);
  EXPECT_TRUE(reports(verify(m.g), "loss 'r' is not a scalar: f32[4]"));
}

TEST(Verify, ALossOutsideTheGraph) {
  Small m;
  m.g.setLoss(ValueId(42));
  EXPECT_TRUE(reports(verify(m.g), "loss is not a defined value"));
}

} // namespace
} // namespace nng

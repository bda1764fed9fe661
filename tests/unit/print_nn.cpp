// The nn printer: exact flat-form text, temporary naming, attribute and initializer forms.
#include <gtest/gtest.h>

#include "core/print/nn_printer.h"
#include "tests/unit/print_graphs.h"

namespace nng {
namespace {

using testing::addOp;
using testing::tt;

TEST(PrintNn, FlatFormOfTheMlp) {
  EXPECT_EQ(printNn(testing::mlpGraph()), R"(model mlp {
  input x: f32[N, 784];
  input label: i64[N];
  param fc1.weight: f32[784, 512] = he_normal;
  param fc1.bias: f32[512] = zeros;
  param w: f32[3] = normal(0.0, 0.02);
  buffer bn.running_mean: f32[16] = zeros;
  t0: f32[N, 512] = matmul(x, fc1.weight);
  fc1: f32[N, 512] = add(t0, fc1.bias);
  t1: f32[] = constant(dtype = f32, value = 0.5);
  h: f32[N, 512] = relu(fc1);
  logits: f32[N, 512] = mul(h, t1);
  y: f32[N, 512, 1] = reshape(h, shape = [-1, 512, 1]);
  loss: f32[] = cross_entropy(logits, label);
  output logits;
  output y;
  minimize loss;
}
)");
}

TEST(PrintNn, TemporariesSkipNamesUsedAnywhereInTheGraph) {
  Graph g;
  g.name = "m";
  ValueId x = g.addInput("t0", tt(DType::F32, {4}));
  ValueId a = addOp(g, "relu", {x});              // t1: t0 is the input's name
  ValueId b = addOp(g, "neg", {a}, {}, "t2");     // named
  ValueId c = addOp(g, "exp", {b});               // t3
  ValueId d = addOp(g, "abs", {c});               // t4
  ValueId e = addOp(g, "tanh", {d}, {}, "t5");    // named after the temporaries before it
  ValueId f = addOp(g, "sqrt", {e});              // t6: t5 is taken, though defined later
  g.markOutput(f);
  std::vector<std::string> names = printedNames(g);
  EXPECT_EQ(names, (std::vector<std::string>{"t0", "t1", "t2", "t3", "t4", "t5", "t6"}));
  // The graph itself is untouched: temporaries stay unnamed.
  EXPECT_EQ(g.value(a).name, "");
  EXPECT_EQ(printNn(g), R"(model m {
  input t0: f32[4];
  t1: f32[4] = relu(t0);
  t2: f32[4] = neg(t1);
  t3: f32[4] = exp(t2);
  t4: f32[4] = abs(t3);
  t5: f32[4] = tanh(t4);
  t6: f32[4] = sqrt(t5);
  output t6;
}
)");
}

TEST(PrintNn, ParamsPrintBeforeNodesWhateverTheIdOrder) {
  // w is added after the first node (a higher id) but is declared before every node.
  Graph g;
  g.name = "m";
  ValueId x = g.addInput("x", tt(DType::F32, {2}));
  ValueId a = addOp(g, "relu", {x});
  ValueId w = g.addParam("w", tt(DType::F32, {2}), {"ones", {}});
  ValueId b = addOp(g, "add", {a, w});
  g.markOutput(b);
  EXPECT_EQ(printNn(g), R"(model m {
  input x: f32[2];
  param w: f32[2] = ones;
  t0: f32[2] = relu(x);
  t1: f32[2] = add(t0, w);
  output t1;
}
)");
}

TEST(PrintNn, AttributesPrintSortedInSourceForm) {
  Graph g;
  g.name = "attrs";
  ValueId x = g.addInput("x", tt(DType::F32, {Dim::sym("N"), 3}));
  AttrMap attrs = {{"zeta", Attr::ofInt(-1)},
                   {"alpha", Attr::ofFloat(1.0)},
                   {"eps", Attr::ofFloat(1e-5)},
                   {"flag", Attr::ofBool(true)},
                   {"act", Attr::ofName("relu")},
                   {"chain", Attr::ofString("say \"hi\"")},
                   {"perm", Attr::ofList({Attr::ofInt(1), Attr::ofInt(0)})},
                   {"empty", Attr::ofList({})}};
  ValueId y = g.addNode("custom", {x, x}, attrs, tt(DType::F32, {Dim::sym("N"), 3}), "y");
  g.addNode("noop", {}, {}, tt(DType::I32, {}), "z");
  g.markOutput(y);
  EXPECT_EQ(printNn(g), R"(model attrs {
  input x: f32[N, 3];
  y: f32[N, 3] = custom(x, x, act = relu, alpha = 1.0, chain = "say \"hi\"", empty = [], eps = 1e-05, flag = true, perm = [1, 0], zeta = -1);
  z: i32[] = noop();
  output y;
}
)");
}

TEST(PrintNn, InitializerForms) {
  Graph g;
  g.name = "inits";
  g.addParam("a", tt(DType::F32, {2, 2}), {"constant", {Attr::ofFloat(0.1)}});
  g.addParam("b", tt(DType::F16, {2}), {"uniform", {Attr::ofFloat(-1.0), Attr::ofFloat(1.0)}});
  g.addParam("c", tt(DType::BF16, {}), {"xavier_uniform", {}});
  g.addParam("d", tt(DType::F32, {1}), {"", {}}); // built without one: none is invented
  EXPECT_EQ(printNn(g), R"(model inits {
  param a: f32[2, 2] = constant(0.1);
  param b: f16[2] = uniform(-1.0, 1.0);
  param c: bf16[] = xavier_uniform;
  param d: f32[1];
}
)");
}

TEST(PrintNn, UnnamedInputsAreNumberedInPrintOrder) {
  // Inputs print before nodes, so an unnamed input added after a node still gets t0.
  Graph g;
  g.name = "m";
  ValueId x = g.addInput("x", tt(DType::F32, {2}));
  ValueId a = addOp(g, "relu", {x});
  ValueId late = g.addInput("", tt(DType::F32, {2}));
  g.markOutput(addOp(g, "add", {a, late}, {}, "y"));
  EXPECT_EQ(printNn(g), R"(model m {
  input x: f32[2];
  input t0: f32[2];
  t1: f32[2] = relu(x);
  y: f32[2] = add(t1, t0);
  output y;
}
)");
}

TEST(PrintNn, UnnamedModelPrintsAsMain) {
  Graph g;
  EXPECT_EQ(printNn(g), "model main {\n}\n");
}

} // namespace
} // namespace nng

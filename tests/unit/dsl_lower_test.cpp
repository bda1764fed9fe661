// Lowering: operators, literals, keyword attributes, consts, names and rebinding, blocks,
// repeat, annotations, declarations, model choice, and the located errors of each.
#include <gtest/gtest.h>

#include "dsl/lower.h"
#include "dsl_testing.h"

namespace nng::dsl {
namespace {

using testing::errorsOf;
using testing::inputNames;
using testing::lower;
using testing::nodeNamed;
using testing::paramNames;
using testing::valueNamed;
using Strings = std::vector<std::string>;

TEST(DslLower, OperatorsMapToOps) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  param W: f32[4, 3] = zeros;
  param b: f32[3] = zeros;
  y = x @ W + b;
  d = y - b;
  q = y / y * y;
  n = -y;
  output n;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  const Node &y = nodeNamed(g, "y");
  EXPECT_EQ(y.op, "add");
  EXPECT_EQ(g.node(g.value(y.inputs[0]).producer).op, "matmul");
  EXPECT_EQ(g.value(y.inputs[0]).name, "") << "intermediate values are temporaries";
  EXPECT_EQ(g.typeOf(y.output).str(), "f32[N, 3]");
  EXPECT_EQ(nodeNamed(g, "d").op, "sub");
  EXPECT_EQ(nodeNamed(g, "q").op, "mul");
  EXPECT_EQ(nodeNamed(g, "n").op, "neg");
  EXPECT_EQ(g.nodes().size(), 6u);
  ASSERT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.value(g.outputs()[0]).name, "n");
  // The '@' node points at the operator.
  EXPECT_EQ(g.node(g.value(y.inputs[0]).producer).loc.str(), "m.nn:5:9");
}

TEST(DslLower, ScalarLiteralsBecomeConstantsOfTheTensorsDtype) {
  auto r = lower(R"(model m {
  input x: f16[N, 4];
  input k: i64[N];
  a = 0.5 * x;
  b = x - 2;
  c = k * 3;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  const Node &a = nodeNamed(g, "a");
  const Node &half = g.node(g.value(a.inputs[0]).producer);
  EXPECT_EQ(half.op, "constant");
  EXPECT_EQ(half.attrs.at("value"), Attr::ofFloat(0.5));
  EXPECT_EQ(half.attrs.at("dtype"), Attr::ofName("f16"));
  EXPECT_EQ(g.value(a.inputs[1]).name, "x");
  const Node &two = g.node(g.value(nodeNamed(g, "b").inputs[1]).producer);
  EXPECT_EQ(two.attrs.at("value"), Attr::ofFloat(2.0));
  EXPECT_EQ(two.attrs.at("dtype"), Attr::ofName("f16"));
  const Node &three = g.node(g.value(nodeNamed(g, "c").inputs[1]).producer);
  EXPECT_EQ(three.attrs.at("dtype"), Attr::ofName("i64"));
  EXPECT_EQ(g.typeOf(nodeNamed(g, "c").output).str(), "i64[N]");
}

TEST(DslLower, NumbersFoldAndMixingErrors) {
  auto r = lower("const A = 6;\nmodel m { input x: f32[N, 4]; y = x * (A / 2 - 1); }");
  ASSERT_TRUE(r.graph);
  const Node &y = nodeNamed(r.g(), "y");
  EXPECT_EQ(r.g().node(r.g().value(y.inputs[1]).producer).attrs.at("value"), Attr::ofFloat(2.0));

  EXPECT_EQ(errorsOf("model m { input k: i64[N]; y = k * 0.5; }"),
            Strings{"m.nn:1:36: the number 0.5 cannot be combined with an i64 tensor"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = x @ 2; }"),
            Strings{"m.nn:1:37: '@' needs two tensors, got the integer 2"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; y = x + \"s\"; }"),
            Strings{"m.nn:1:36: operator '+' needs a number or a tensor, got a string"});
  EXPECT_EQ(errorsOf("const A = 1 / 0;"), Strings{"m.nn:1:13: division by zero"});
  EXPECT_EQ(errorsOf("const A = 9223372036854775807 + 1;"),
            Strings{"m.nn:1:31: integer overflow in constant expression"});
  EXPECT_EQ(errorsOf("const A = 1e300 * 1e300;"),
            Strings{"m.nn:1:17: number out of range in constant expression"});
}

TEST(DslLower, ConstsFoldInShapesArgsAndRepeat) {
  auto r = lower(R"(const HIDDEN = 2 * 256;
const HALF = HIDDEN / 2;
const RATE = 0.5 / 5;
const AX = -1;
model m {
  input x: f32[N, HIDDEN];
  param w: f32[HIDDEN, HALF] = uniform(-RATE, RATE);
  h = dropout(x @ w, p = RATE);
  s = softmax(h, axis = AX);
  repeat HALF / 128 { s = relu(s); }
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(valueNamed(g, "x").type.str(), "f32[N, 512]");
  EXPECT_EQ(valueNamed(g, "w").type.str(), "f32[512, 256]");
  EXPECT_EQ(valueNamed(g, "w").init.str(), "uniform(-0.1, 0.1)");
  EXPECT_EQ(nodeNamed(g, "h").attrs.at("p"), Attr::ofFloat(0.1));
  EXPECT_EQ(nodeNamed(g, "s").attrs.at("axis"), Attr::ofInt(-1));
  EXPECT_EQ(nodeNamed(g, "s_2").op, "relu");
  EXPECT_EQ(g.find("s_3"), kNone);
}

TEST(DslLower, KeywordAndPositionalAttributes) {
  auto r = lower(R"(model m {
  input x: f32[N, 3];
  a = leaky_relu(x, alpha = 1);
  b = leaky_relu(x, 0.2);
  c = cast(x, f16);
  d = reshape(x, shape = [-1, 1, 3]);
  e = sum(x, axis = [0, 1], keepdims = true);
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(nodeNamed(g, "a").attrs.at("alpha"), Attr::ofFloat(1.0)) << "Float attrs stay Float";
  EXPECT_EQ(nodeNamed(g, "b").attrs.at("alpha"), Attr::ofFloat(0.2));
  EXPECT_EQ(nodeNamed(g, "c").attrs.at("to"), Attr::ofName("f16"));
  EXPECT_EQ(valueNamed(g, "c").type.str(), "f16[N, 3]");
  EXPECT_EQ(nodeNamed(g, "d").attrs.at("shape").str(), "[-1, 1, 3]");
  EXPECT_EQ(nodeNamed(g, "e").attrs.at("keepdims"), Attr::ofBool(true));
  EXPECT_EQ(valueNamed(g, "e").type.str(), "f32[1, 1]");
}

TEST(DslLower, CallErrors) {
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = relux(x); }"),
            Strings{"m.nn:1:32: unknown operator 'relux'; did you mean 'relu'?"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = dens(x, 3); }"),
            Strings{"m.nn:1:32: unknown operator 'dens'; did you mean 'dense'?"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = relu(x, x); }"),
            Strings{"m.nn:1:40: relu: too many arguments (takes 1 input and 0 attributes)"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = leaky_relu(x, alph = 1.0); }"),
            Strings{"m.nn:1:32: leaky_relu: unknown attribute 'alph'; did you mean 'alpha'?"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = leaky_relu(x, alpha = x); }"),
            Strings{"m.nn:1:54: leaky_relu: attribute 'alpha' must be a constant, got a tensor"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = softmax(axis = 0, x); }"),
            Strings{"m.nn:1:50: positional argument after keyword arguments"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = softmax(x, axis = 0, axis = 0); }"),
            Strings{"m.nn:1:53: argument 'axis' is given twice"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = leaky_relu(x, 0.1, alpha = 0.2); }"),
            Strings{"m.nn:1:51: leaky_relu: attribute 'alpha' is given twice"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; h = relu(\"x\"); }"),
            Strings{"m.nn:1:37: relu: input 'x' must be a tensor, got a string"});
}

TEST(DslLower, ShapeErrorsCarryTheOpsMessageAtTheCall) {
  EXPECT_EQ(errorsOf(R"(model m {
  input x: f32[N, 784];
  param W: f32[512, 10] = zeros;
  y = x @ W;
})"),
            Strings{"m.nn:4:9: matmul: inner dimensions differ: f32[N, 784] @ f32[512, 10] "
                    "(784 vs 512)"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; input y: f32[N, 5]; z = add(x, y); }"),
            Strings{"m.nn:1:55: add: shapes [N, 4] and [N, 5] do not broadcast (4 vs 5)"});
}

TEST(DslLower, UnknownNamesWithSuggestions) {
  EXPECT_EQ(errorsOf("model m { input image: f32[N]; h = relu(imag); }"),
            Strings{"m.nn:1:41: unknown name 'imag'; did you mean 'image'?"});
  EXPECT_EQ(errorsOf("const HIDDEN = 3; model m { input x: f32[N]; h = x * HIDEN; }"),
            Strings{"m.nn:1:54: unknown name 'HIDEN'; did you mean 'HIDDEN'?"});
  EXPECT_EQ(errorsOf("model m { input image: f32[N]; output probs; minimize loss; }"),
            (Strings{"m.nn:1:39: unknown name 'probs'", "m.nn:1:55: unknown name 'loss'"}));
}

TEST(DslLower, OneErrorPerCauseNoCascade) {
  // `b` and `c` use the failed `a`; only the unknown operator and the unknown name
  // (independent of it) are reported.
  EXPECT_EQ(errorsOf(R"(model m {
  input x: f32[N, 4];
  a = relux(x);
  b = relu(a) + a;
  c = b @ foo;
  output c;
})"),
            (Strings{"m.nn:3:7: unknown operator 'relux'; did you mean 'relu'?",
                     "m.nn:5:11: unknown name 'foo'"}));
}

TEST(DslLower, RebindingGetsSuffixes) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  h = relu(x);
  h = relu(h);
  h = relu(h);
  y = h;
  output y;
})");
  ASSERT_TRUE(r.graph);
  const Graph &g = r.g();
  EXPECT_EQ(inputNames(g, nodeNamed(g, "h_1")), Strings{"h"});
  EXPECT_EQ(inputNames(g, nodeNamed(g, "h_2")), Strings{"h_1"});
  EXPECT_EQ(g.find("y"), kNone) << "y = h only binds y to h's value";
  EXPECT_EQ(g.value(g.outputs().at(0)).name, "h_2");
}

TEST(DslLower, GraphNamesAreVisible) {
  // Sugar parameters can be used by name (weight tying, regularizers).
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  y = dense(x, 4);
  reg = sum(y.weight * y.weight);
  output reg;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(inputNames(r.g(), r.g().node(r.g().value(nodeNamed(r.g(), "reg").inputs[0]).producer)),
            (Strings{"y.weight", "y.weight"}));
}

TEST(DslLower, TypeAnnotations) {
  auto ok = lower("model m { input x: f32[N, 4]; h: f32[N, 4] = relu(x); }");
  EXPECT_TRUE(ok.graph);
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 512]; h: f32[N, 10] = relu(x); }"),
            Strings{"m.nn:1:36: type annotation f32[N, 10] does not match inferred f32[N, 512]"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; h: f32[B, 4] = relu(x); }"),
            Strings{"m.nn:1:34: type annotation f32[B, 4] does not match inferred f32[N, 4]"});
  EXPECT_EQ(errorsOf("model m { k: f32[] = 3; }"),
            Strings{"m.nn:1:14: a type annotation needs a tensor, but the value is the integer 3"});
}

TEST(DslLower, TypesAndDeclarations) {
  EXPECT_EQ(errorsOf("model m { input x: f33[N]; }"),
            Strings{"m.nn:1:20: unknown dtype 'f33'; did you mean 'f32'?"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, -1]; }"),
            Strings{"m.nn:1:27: a dimension must not be negative, got -1"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 2.5]; }"),
            Strings{"m.nn:1:27: a dimension must be an integer, got the number 2.5"});
  EXPECT_EQ(errorsOf("model m { input x: f32[relu(N)]; }"),
            Strings{"m.nn:1:24: expected a constant expression, found a call of 'relu'"});
  EXPECT_EQ(errorsOf("model m { input x: f32[1000000000, 1000000000, 1000000]; }"),
            Strings{"m.nn:1:20: shape [1000000000, 1000000000, 1000000] has too many elements "
                    "(limit 2^48)"});
  EXPECT_EQ(errorsOf("model m { param w: f32[N, 3] = zeros; }"),
            Strings{"m.nn:1:20: the shape of a parameter must be known, got f32[N, 3]"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; input x: f32[N]; }"),
            Strings{"m.nn:1:34: 'x' is already defined at m.nn:1:17"});
  EXPECT_EQ(errorsOf("model m { param w: f32[3] = zeros; param w: f32[3] = ones; }"),
            Strings{"m.nn:1:42: 'w' is already defined at m.nn:1:17"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; repeat 2 { input y: f32[N]; } }"),
            Strings{"m.nn:1:39: 'input' is not allowed inside 'repeat'"});
  EXPECT_EQ(errorsOf("const H = 4;\nmodel m { input x: f32[N, H]; H = relu(x); }"),
            Strings{"m.nn:2:31: 'H' is a const (defined at m.nn:1:7) and cannot be rebound"});
  EXPECT_EQ(errorsOf("model m { return 1; }"),
            Strings{"m.nn:1:11: 'return' is only allowed in a block"});
}

TEST(DslLower, Initializers) {
  auto r = lower(R"(model m {
  param a: f32[2] = zeros;
  param b: f32[2] = ones();
  param c: f32[2] = constant(1);
  param d: f32[2] = normal(0, 0.02);
  param e: f32[2] = uniform(-1, 1);
  param f: f32[2, 2] = he_normal;
  param g: f32[2, 2] = he_uniform;
  param h: f32[2, 2] = xavier_uniform;
  param i: f32[2, 2] = xavier_normal;
  buffer j: f32[2] = zeros;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  // Arguments keep their kind, so the print reads back the same.
  EXPECT_EQ(valueNamed(g, "c").init.str(), "constant(1)");
  EXPECT_EQ(valueNamed(g, "d").init.str(), "normal(0, 0.02)");
  EXPECT_EQ(valueNamed(g, "e").init.str(), "uniform(-1, 1)");
  EXPECT_EQ(valueNamed(g, "b").init.str(), "ones");
  EXPECT_EQ(valueNamed(g, "j").kind, ValueKind::Buffer);
  EXPECT_EQ(valueNamed(g, "i").kind, ValueKind::Param);
  EXPECT_EQ(g.params().size(), 10u);

  EXPECT_EQ(errorsOf("model m { param w: f32[3] = he_norml; }"),
            Strings{"m.nn:1:29: unknown initializer 'he_norml'; did you mean 'he_normal'?"});
  EXPECT_EQ(errorsOf("model m { param w: f32[3] = normal(1); }"),
            Strings{"m.nn:1:29: initializer 'normal' takes 2 arguments, got 1"});
  EXPECT_EQ(errorsOf("model m { param w: f32[3] = zeros(1); }"),
            Strings{"m.nn:1:29: initializer 'zeros' takes 0 arguments, got 1"});
}

TEST(DslLower, OutputsAndObjective) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  input label: i64[N];
  param w: f32[4, 3] = zeros;
  logits = x @ w;
  probs = softmax(logits);
  loss = cross_entropy(logits, label);
  output logits;
  output probs;
  minimize loss;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  ASSERT_EQ(g.outputs().size(), 2u);
  EXPECT_EQ(g.value(g.outputs()[1]).name, "probs");
  ASSERT_TRUE(g.loss());
  EXPECT_EQ(g.value(*g.loss()).name, "loss");

  EXPECT_EQ(errorsOf("model m { input x: f32[N]; minimize x; }"),
            Strings{"m.nn:1:37: cannot minimize 'x': it is not a scalar (f32[N])"});
  EXPECT_EQ(errorsOf("model m { input x: f32[]; minimize x; minimize x; }"),
            Strings{"m.nn:1:39: the model already has an objective ('minimize' at m.nn:1:27)"});
  EXPECT_EQ(errorsOf("const K = 2; model m { output K; }"),
            Strings{"m.nn:1:31: 'K' is the integer 2, not a tensor"});
}

TEST(DslLower, EmptyModelIsFine) {
  auto r = lower("model m { }");
  ASSERT_TRUE(r.graph);
  EXPECT_EQ(r.g().name, "m");
  EXPECT_TRUE(r.g().values().empty());
}

TEST(DslLower, Blocks) {
  auto r = lower(R"(block tower(x, width) {
  h = relu(dense(x, width));
  h = relu(dense(h, width));
  return h;
}
model m {
  input x: f32[N, 8];
  left = tower(x, 64);
  right = tower(x, width = 2 * 16);
  output left, right;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(paramNames(g), (Strings{"left.h.weight", "left.h.bias", "left.h_1.weight",
                                    "left.h_1.bias", "right.h.weight", "right.h.bias",
                                    "right.h_1.weight", "right.h_1.bias"}));
  // The block's result takes the call site's name; its other values keep the prefix.
  EXPECT_EQ(nodeNamed(g, "left").op, "relu");
  EXPECT_EQ(inputNames(g, g.node(g.value(nodeNamed(g, "left").inputs[0]).producer)),
            (Strings{"", "left.h_1.bias"}));
  EXPECT_EQ(g.find("left.h_1"), kNone);
  EXPECT_EQ(valueNamed(g, "right").type.str(), "f32[N, 32]");
  // Nodes remember the call they were inlined from.
  ASSERT_EQ(nodeNamed(g, "left.h").callChain.size(), 1u);
  EXPECT_EQ(nodeNamed(g, "left.h").callChain[0], "in block 'tower' called at m.nn:8:10");
}

TEST(DslLower, BlockReturnSugarUsesTheCallSiteName) {
  auto r = lower(R"(block residual(x, width) {
  h = relu(dense(x, width));
  return x + dense(h, width);
}
model m {
  input x: f32[N, 8];
  h = x;
  repeat 2 { h = residual(h, 8); }
  output h;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(paramNames(r.g()), (Strings{"h.h.weight", "h.h.bias", "h.weight", "h.bias",
                                        "h_1.h.weight", "h_1.h.bias", "h_1.weight", "h_1.bias"}));
  EXPECT_EQ(nodeNamed(r.g(), "h_1").op, "add");
}

TEST(DslLower, NestedBlocksPrefixAndChain) {
  auto r = lower(R"(block inner(x) {
  y = relu(x);
  return y @ x;
}
block outer(x) {
  a = inner(x);
  return a;
}
model m {
  input x: f32[N, 8];
  out = outer(x);
})");
  ASSERT_FALSE(r.graph);
  ASSERT_EQ(r.sink.diagnostics().size(), 1u);
  const Diagnostic &d = r.sink.diagnostics()[0];
  EXPECT_EQ(d.loc.str(), "m.nn:3:12");
  EXPECT_EQ(d.message, "matmul: inner dimensions differ: f32[N, 8] @ f32[N, 8] (8 vs N)");
  EXPECT_EQ(d.notes, (Strings{"in block 'inner' called at m.nn:6:7",
                              "in block 'outer' called at m.nn:11:9"}));
  EXPECT_NE(r.sink.formatAll().find("  note: in block 'inner' called at m.nn:6:7\n"),
            std::string::npos);

  auto ok = lower(R"(block inner(x) { y = relu(x); return y; }
block outer(x) { a = inner(x); b = inner(a); return b; }
model m { input x: f32[N, 8]; out = outer(x); })");
  ASSERT_TRUE(ok.graph);
  // inner's result takes the name of each call inside outer, and outer's result `out`.
  EXPECT_NE(ok.g().find("out.a"), kNone);
  EXPECT_EQ(ok.g().find("out.a.y"), kNone);
  EXPECT_EQ(ok.g().find("out.b"), kNone);
  EXPECT_EQ(testing::inputNames(ok.g(), nodeNamed(ok.g(), "out")), Strings{"out.a"});
}

TEST(DslLower, BlockParametersTakeNumbersAndNames) {
  auto r = lower(R"(block act(x, slope, kind) {
  param s: f32[2] = ones;
  return fused_dense(x, s2, s, act = kind) + leaky_relu(x, alpha = slope);
}
model m { input x: f32[N, 2]; param s2: f32[2, 2] = zeros; y = act(x, 0.3, relu); })");
  // Blocks see only their parameters and their own names, not the model's.
  EXPECT_EQ(r.errors(), Strings{"m.nn:3:25: unknown name 's2'; did you mean 's'?"});

  auto ok = lower(R"(block act(x, slope) {
  param s: f32[2] = ones;
  return (x * s) + leaky_relu(x, alpha = slope);
}
model m { input x: f32[N, 2]; y = act(x, 0.3); z = act(y, slope = 0.1); })");
  ASSERT_TRUE(ok.graph) << ::testing::PrintToString(ok.errors());
  EXPECT_EQ(paramNames(ok.g()), (Strings{"y.s", "z.s"}));
}

TEST(DslLower, BlockErrors) {
  EXPECT_EQ(errorsOf(R"(block a(x) { return b(x); }
block b(x) { return a(x); }
model m { input x: f32[N]; y = a(x); })"),
            Strings{"m.nn:2:21: recursive call of block 'a' (a -> b -> a)"});
  EXPECT_EQ(errorsOf("block b(x, y) { return x; }\nmodel m { input x: f32[N]; z = b(x); }"),
            Strings{"m.nn:2:32: block 'b': missing argument 'y'"});
  EXPECT_EQ(errorsOf("block b(x) { return x; }\nmodel m { input x: f32[N]; z = b(x, x); }"),
            Strings{"m.nn:2:37: block 'b' takes 1 argument, got more"});
  EXPECT_EQ(errorsOf("block b(x) { return x; }\nmodel m { input x: f32[N]; z = b(xx = x); }"),
            Strings{"m.nn:2:34: block 'b' has no parameter 'xx'; did you mean 'x'?"});
  EXPECT_EQ(errorsOf("block b(x) { y = relu(x); }"),
            Strings{"m.nn:1:7: block 'b' must end with 'return'"});
  EXPECT_EQ(errorsOf("block b(x) { return x; y = x; return y; }"),
            Strings{"m.nn:1:14: 'return' must be the last statement of a block"});
  EXPECT_EQ(errorsOf("block b(x) { input z: f32[N]; return x; }"),
            Strings{"m.nn:1:14: 'input' is only allowed in a model, not in a block"});
  EXPECT_EQ(errorsOf("block relu(x) { return x; }"),
            Strings{"m.nn:1:7: block 'relu' has the name of an operator"});
  EXPECT_EQ(errorsOf("block b(x, x) { return x; }"),
            Strings{"m.nn:1:12: parameter 'x' is listed twice"});
  // A broken block is reported once, where it is defined, not at each call.
  EXPECT_EQ(errorsOf("block b(x) { y = relu(x); }\n"
                     "model m { input x: f32[N]; z = b(x); w = b(z); }"),
            Strings{"m.nn:1:7: block 'b' must end with 'return'"});
}

TEST(DslLower, Repeat) {
  auto r = lower(R"(const DEPTH = 3;
model m {
  input x: f32[N, 4];
  h = x;
  repeat DEPTH { h = relu(dense(h, 4)); }
  repeat 0 { h = relu(h); }
  output h;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(paramNames(r.g()), (Strings{"h.weight", "h.bias", "h_1.weight", "h_1.bias",
                                        "h_2.weight", "h_2.bias"}));
  EXPECT_EQ(r.g().value(r.g().outputs()[0]).name, "h_2");

  auto params = lower("model m { repeat 2 { param w: f32[2] = zeros; } }");
  ASSERT_TRUE(params.graph);
  EXPECT_EQ(paramNames(params.g()), (Strings{"w", "w_1"}));

  EXPECT_EQ(errorsOf("model m { repeat 2.5 { } }"),
            Strings{"m.nn:1:18: the repeat count must be an integer, got the number 2.5"});
  EXPECT_EQ(errorsOf("model m { repeat -1 { } }"),
            Strings{"m.nn:1:18: the repeat count must not be negative, got -1"});
  EXPECT_EQ(errorsOf("model m { repeat 100000 { } }"),
            Strings{"m.nn:1:18: repeat count 100000 is too large (limit 10000)"});
  // An error inside the body is reported once, not once per iteration.
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; repeat 5 { x = relux(x); } }"),
            Strings{"m.nn:1:43: unknown operator 'relux'; did you mean 'relu'?"});
}

TEST(DslLower, NodeLimit) {
  DiagnosticSink sink;
  Program prog;
  ASSERT_TRUE(prog.load(Source{"m.nn", "model m { input x: f32[N]; repeat 100 { x = relu(x); } }"},
                        sink));
  LowerLimits limits;
  limits.maxNodes = 10;
  EXPECT_FALSE(lowerModel(prog, *prog.models().at(0), sink, limits));
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].message, "the model is too large (more than 10 nodes)");
}

TEST(DslLower, StepLimitStopsEmptyLoops) {
  // No nodes, so only the step limit ends 10^12 iterations.
  auto r = lower("model m { repeat 10000 { repeat 10000 { repeat 10000 { k = 1; } } } }");
  EXPECT_EQ(r.errors(), Strings{"m.nn:1:56: the model takes too long to unroll (more than "
                                "10000000 statements and repeat iterations)"});
}

TEST(DslLower, DuplicateDefinitionsNameBothPlaces) {
  EXPECT_EQ(errorsOf("const A = 1;\nconst A = 2;"),
            Strings{"m.nn:2:7: 'A' is already defined at m.nn:1:7"});
  EXPECT_EQ(errorsOf("block m(x) { return x; }\nmodel m { }"),
            Strings{"m.nn:2:7: 'm' is already defined at m.nn:1:7"});
  EXPECT_EQ(errorsOf("model a { }\nmodel a { }"),
            Strings{"m.nn:2:7: 'a' is already defined at m.nn:1:7"});
}

TEST(DslLower, ChoosesTheModel) {
  const std::string text = "model first { input a: f32[1]; }\nmodel second { input b: f32[2]; }";
  auto last = lower(text);
  ASSERT_TRUE(last.graph);
  EXPECT_EQ(last.g().name, "second");
  auto named = lower(text, "first");
  ASSERT_TRUE(named.graph);
  EXPECT_EQ(named.g().name, "first");
  EXPECT_EQ(lower(text, "firs").errors(),
            Strings{"m.nn: no model named 'firs'; did you mean 'first'?"});
  EXPECT_EQ(lower("const A = 1;").errors(), Strings{"m.nn: no model in this file"});

  DiagnosticSink sink;
  std::vector<Graph> all = loadAllModels(Source{"m.nn", text}, sink);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "first");
  EXPECT_EQ(all[1].name, "second");
  EXPECT_FALSE(sink.hasErrors());

  DiagnosticSink bad;
  EXPECT_TRUE(loadAllModels(Source{"m.nn", text + "\nmodel third { x = y; }"}, bad).empty());
  EXPECT_EQ(bad.diagnostics().size(), 1u);

  DiagnosticSink none;
  EXPECT_TRUE(loadAllModels(Source{"m.nn", "block b(x) { return x; }"}, none).empty());
  EXPECT_FALSE(none.hasErrors());
}

TEST(DslLower, StdinIsNamedInDiagnostics) {
  DiagnosticSink sink;
  EXPECT_FALSE(loadModel(Source{"-", "model m { x = y; }", true}, "", sink));
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].loc.str(), "<stdin>:1:15");
}

TEST(DslLower, GraphsVerify) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  input label: i64[N];
  h = dropout(relu(dense(x, 8)), p = 0.1);
  logits = dense(h, 3);
  loss = cross_entropy(logits, label) + 0.01 * sum(logits.weight * logits.weight);
  output logits;
  minimize loss;
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_TRUE(verify(r.g()).empty());
}

} // namespace
} // namespace nng::dsl

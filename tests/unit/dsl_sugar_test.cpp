// Layer sugar: the parameters each sugar call creates (names, shapes, initializers,
// kinds), the primitive ops it lowers to, how a call is told apart from the primitive op
// of the same name, and the naming rules for rebound and nested calls.
#include <gtest/gtest.h>

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

TEST(DslSugar, Dense) {
  auto r = lower(R"(model m {
  input x: f32[N, 784];
  h = relu(dense(x, 512, name = "fc1"));
  logits = dense(h, 10);
  raw = dense(h, 3, bias = false);
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(paramNames(g), (Strings{"fc1.weight", "fc1.bias", "logits.weight", "logits.bias",
                                    "raw.weight"}));
  const Value &w = valueNamed(g, "fc1.weight");
  EXPECT_EQ(w.type.str(), "f32[784, 512]");
  EXPECT_EQ(w.init.str(), "he_normal");
  EXPECT_EQ(w.kind, ValueKind::Param);
  EXPECT_EQ(valueNamed(g, "fc1.bias").type.str(), "f32[512]");
  EXPECT_EQ(valueNamed(g, "fc1.bias").init.str(), "zeros");
  const Node &logits = nodeNamed(g, "logits");
  EXPECT_EQ(logits.op, "add");
  EXPECT_EQ(inputNames(g, logits), (Strings{"", "logits.bias"}));
  EXPECT_EQ(inputNames(g, g.node(g.value(logits.inputs[0]).producer)),
            (Strings{"h", "logits.weight"}));
  EXPECT_EQ(nodeNamed(g, "raw").op, "matmul");
  EXPECT_EQ(valueNamed(g, "raw").type.str(), "f32[N, 3]");
}

TEST(DslSugar, RebindingAndNestingNameTheParameters) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  h = relu(dense(x, 8));
  h = relu(dense(h, 8));
  y = dense(x, 2) + dense(x, 2);
  y = dense(y, 2);
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(paramNames(r.g()),
            (Strings{"h.weight", "h.bias", "h_1.weight", "h_1.bias", "y.weight", "y.bias",
                     "y_1.weight", "y_1.bias", "y_2.weight", "y_2.bias"}));
  EXPECT_NE(r.g().find("y_2"), kNone);
  EXPECT_EQ(r.g().find("y_1"), kNone) << "y_1 names the second call's parameters only";
}

TEST(DslSugar, ExplicitNamesRepeatWithSuffixes) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  repeat 2 { x = dense(x, 4, name = "fc"); }
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(paramNames(r.g()), (Strings{"fc.weight", "fc.bias", "fc_1.weight", "fc_1.bias"}));
}

TEST(DslSugar, Conv2dSugarAndPrimitive) {
  auto r = lower(R"(const F = 16;
model m {
  input img: f32[N, 3, 28, 28];
  param k: f32[8, 16, 3, 3] = he_normal;
  c = conv2d(img, F, 3, pad = 1);
  d = conv2d(c, k, stride = 2);
  e = conv2d(d, 4, 1, bias = false, stride = 1);
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(paramNames(g), (Strings{"k", "c.weight", "c.bias", "e.weight"}));
  EXPECT_EQ(valueNamed(g, "c.weight").type.str(), "f32[16, 3, 3, 3]");
  EXPECT_EQ(valueNamed(g, "c.bias").type.str(), "f32[16, 1, 1]");
  const Node &c = nodeNamed(g, "c");
  EXPECT_EQ(c.op, "add");
  const Node &conv = g.node(g.value(c.inputs[0]).producer);
  EXPECT_EQ(conv.op, "conv2d");
  EXPECT_EQ(conv.attrs.at("pad"), Attr::ofInt(1));
  EXPECT_EQ(conv.attrs.at("stride"), Attr::ofInt(1));
  EXPECT_EQ(valueNamed(g, "c").type.str(), "f32[N, 16, 28, 28]");
  // A tensor as the second argument: the primitive op, no new parameters.
  const Node &d = nodeNamed(g, "d");
  EXPECT_EQ(d.op, "conv2d");
  EXPECT_EQ(inputNames(g, d), (Strings{"c", "k"}));
  EXPECT_EQ(valueNamed(g, "d").type.str(), "f32[N, 8, 13, 13]");
  EXPECT_EQ(nodeNamed(g, "e").op, "conv2d");
}

TEST(DslSugar, BatchNormAndLayerNorm) {
  auto r = lower(R"(model m {
  input x: f32[N, 6, 4, 4];
  input t: f32[N, 10];
  b = batch_norm(x, eps = 0.001);
  l = layer_norm(t);
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(paramNames(g), (Strings{"b.gamma", "b.beta", "b.running_mean", "b.running_var",
                                    "l.gamma", "l.beta"}));
  EXPECT_EQ(valueNamed(g, "b.gamma").init.str(), "ones");
  EXPECT_EQ(valueNamed(g, "b.beta").init.str(), "zeros");
  EXPECT_EQ(valueNamed(g, "b.running_mean").kind, ValueKind::Buffer);
  EXPECT_EQ(valueNamed(g, "b.running_var").kind, ValueKind::Buffer);
  EXPECT_EQ(valueNamed(g, "b.running_var").init.str(), "ones");
  EXPECT_EQ(valueNamed(g, "b.gamma").kind, ValueKind::Param);
  EXPECT_EQ(valueNamed(g, "b.gamma").type.str(), "f32[6]");
  const Node &b = nodeNamed(g, "b");
  EXPECT_EQ(b.op, "batch_norm");
  EXPECT_EQ(inputNames(g, b),
            (Strings{"x", "b.gamma", "b.beta", "b.running_mean", "b.running_var"}));
  EXPECT_EQ(b.attrs.at("eps"), Attr::ofFloat(0.001));
  EXPECT_EQ(b.attrs.at("momentum"), Attr::ofFloat(0.1)) << "defaults come from the registry";
  EXPECT_EQ(valueNamed(g, "l.gamma").type.str(), "f32[10]");
  EXPECT_EQ(nodeNamed(g, "l").op, "layer_norm");
}

TEST(DslSugar, Embedding) {
  auto r = lower(R"(model m {
  input ids: i64[N, 12];
  param table: f32[100, 4] = zeros;
  e = embedding(ids, 1000, 32);
  p = embedding(ids, table);
})");
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  const Graph &g = r.g();
  EXPECT_EQ(paramNames(g), (Strings{"table", "e.weight"}));
  EXPECT_EQ(valueNamed(g, "e.weight").type.str(), "f32[1000, 32]");
  EXPECT_EQ(valueNamed(g, "e.weight").init.str(), "normal(0.0, 1.0)");
  EXPECT_EQ(valueNamed(g, "e").type.str(), "f32[N, 12, 32]");
  EXPECT_EQ(inputNames(g, nodeNamed(g, "p")), (Strings{"ids", "table"}));
}

TEST(DslSugar, Errors) {
  EXPECT_EQ(errorsOf("model m { input x: f32[N, D]; y = dense(x, 3); }"),
            Strings{"m.nn:1:35: dense: the last dimension of the input must be known, got "
                    "f32[N, D]"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(x, 0); }"),
            Strings{"m.nn:1:35: dense: units must be positive, got 0"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(x, 2.5); }"),
            Strings{"m.nn:1:44: dense: argument 'units' must be an integer, got the number 2.5"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(x); }"),
            Strings{"m.nn:1:35: dense: missing argument 'units'"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(x, 3, unit = 3); }"),
            Strings{"m.nn:1:47: dense: unknown argument 'unit'; did you mean 'units'?"});
  EXPECT_EQ(errorsOf("const UNITS = 3; model m { input x: f32[N, 4]; y = dense(x, UNIT); }"),
            Strings{"m.nn:1:61: unknown name 'UNIT'; did you mean 'UNITS'?"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(xx, 3); }"),
            Strings{"m.nn:1:41: unknown name 'xx'; did you mean 'x'?"});
  EXPECT_EQ(errorsOf("model m { input x: i64[N, 4]; y = dense(x, 3); }"),
            Strings{"m.nn:1:35: dense: the input must be a float tensor, got i64[N, 4]"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = conv2d(x, 3, 3); }"),
            Strings{"m.nn:1:35: conv2d: the input must have at least 4 dimensions, got "
                    "f32[N, 4]"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(x, 100000000, name = \"a\"); "
                     "z = dense(y, 100000000); }"),
            Strings{"m.nn:1:72: dense: parameter shape [100000000, 100000000] has too many "
                    "elements (limit 2^48)"});
}

TEST(DslSugar, ExplicitParamNamesCollide) {
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 4]; y = dense(x, 3); "
                     "param y.weight: f32[1] = zeros; }"),
            Strings{"m.nn:1:54: 'y.weight' is already defined at m.nn:1:35"});
}

} // namespace
} // namespace nng::dsl

// The flat form reads back into the same graph: lower a source, print it, lower the print,
// and require the same graph (names, kinds, types, initializers, ops, attributes, outputs,
// loss) and byte-identical text when printed again. The examples/ models are included.
#include <filesystem>

#include <gtest/gtest.h>

#include "core/print/graph_equal.h"
#include "core/print/nn_printer.h"
#include "dsl_testing.h"

namespace nng::dsl {
namespace {

using testing::lower;
using testing::nodeNamed;
using testing::valueNamed;

// Lowers `text`, prints it, reads the print back; checks both graphs and both prints.
void expectRoundTrip(const std::string &text, const std::string &what) {
  auto first = lower(text, "", what);
  ASSERT_TRUE(first.graph) << what << ": " << first.sink.formatAll();
  std::string printed = printNn(first.g());
  auto second = lower(printed, "", "printed.nn");
  ASSERT_TRUE(second.graph) << what << ": the print does not read back:\n"
                            << second.sink.formatAll() << printed;
  std::string why;
  EXPECT_TRUE(sameGraph(first.g(), second.g(), &why)) << what << ": " << why << "\n" << printed;
  EXPECT_EQ(printNn(second.g()), printed) << what;
  EXPECT_TRUE(verify(second.g()).empty()) << what;
}

TEST(DslRoundTrip, Examples) {
  namespace fs = std::filesystem;
  int count = 0;
  for (const auto &entry : fs::directory_iterator(fs::path(NNG_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".nn")
      continue;
    Source src = readSource(entry.path().string());
    expectRoundTrip(src.text, entry.path().string());
    ++count;
  }
  EXPECT_GT(count, 0);
}

TEST(DslRoundTrip, EverythingTheFlatFormCanHold) {
  expectRoundTrip(R"(
const C = 4;
block res(x) {
  h = relu(layer_norm(x));
  return x + dense(h, C);
}
model everything {
  input x: f32[N, C];
  input img: f32[N, 3, 8, 8];
  input ids: i64[N, 5];
  input label: i64[N];
  param w: f32[C, C] = normal(0.0, 0.02);
  param s: f32[C] = constant(0.1);
  buffer stat: f32[C] = zeros;
  param loose: f32[2];
  param ints: f32[2] = uniform(-1, 1);
  a = leaky_relu(x @ w + s, alpha = 1.0);
  b = 0.5 * a - 2 * a / a;
  c = -b * inf;
  d = x * nan;
  e = x * 4.9406564584124654e-324;
  f = reshape(b, shape = [-1, 2, 2]);
  g = transpose(f, perm = [0, 2, 1]);
  k = sum(g, axis = [1, 2], keepdims = false);
  m = cast(x, f16);
  q = concat(x, x, axis = 1);
  r = slice(q, axis = 1, begin = 0, end = 4);
  repeat 2 { r = res(r); }
  t = relu(batch_norm(conv2d(img, 4, 3, pad = 1)));
  u = max_pool2d(t, 2);
  v = dense(flatten(u), C, name = "fc1.sub");
  z = embedding(ids, 7, 3);
  fused = fused_dense(x, w, s, act = relu);
  logits = dense(r + v, 3);
  loss = cross_entropy(logits, label) + 0.001 * sum(stat);
  output logits, k, m, z, fused, c, d, e;
  minimize loss;
})",
                  "everything.nn");
}

TEST(DslRoundTrip, HandWrittenFlatForm) {
  // The example of the flat form from the design notes, made complete.
  const std::string flat = R"(model mlp {
  input x: f32[N, 784];
  input label: i64[N];
  param fc1.weight: f32[784, 512] = he_normal;
  param fc1.bias: f32[512] = zeros;
  param w: f32[512, 10] = normal(0.0, 0.02);
  buffer bn.running_mean: f32[16] = zeros;
  t0: f32[N, 512] = matmul(x, fc1.weight);
  fc1: f32[N, 512] = add(t0, fc1.bias);
  t1: f32[] = constant(dtype = f32, value = 0.5);
  h: f32[N, 512] = relu(fc1);
  t2: f32[N, 512] = mul(t1, h);
  y: f32[N, 512, 1] = reshape(t2, shape = [-1, 512, 1]);
  logits: f32[N, 10] = matmul(h, w);
  probs: f32[N, 10] = softmax(logits, axis = -1);
  loss: f32[] = cross_entropy(logits, label);
  output logits;
  output probs;
  minimize loss;
}
)";
  auto r = lower(flat);
  ASSERT_TRUE(r.graph) << r.sink.formatAll();
  const Graph &g = r.g();
  EXPECT_EQ(printNn(g), flat);
  EXPECT_EQ(valueNamed(g, "t0").kind, ValueKind::Node);
  EXPECT_EQ(nodeNamed(g, "t0").op, "matmul");
  EXPECT_EQ(valueNamed(g, "bn.running_mean").kind, ValueKind::Buffer);
  EXPECT_EQ(nodeNamed(g, "t1").attrs.at("value"), Attr::ofFloat(0.5));
  EXPECT_EQ(nodeNamed(g, "probs").attrs.at("axis"), Attr::ofInt(-1));
  EXPECT_EQ(g.nodes().size(), 9u) << "one node per statement, no sugar";
}

TEST(DslRoundTrip, IntegerAndFloatAttributesKeepTheirKind) {
  auto r = lower(R"(model m {
  input x: f32[N, 4];
  a: f32[N, 4] = leaky_relu(x, alpha = 2.0);
  b: f32[N, 4] = softmax(a, axis = 1);
  c: f32[N, 4] = dropout(b, p = 0.0);
})");
  ASSERT_TRUE(r.graph) << r.sink.formatAll();
  EXPECT_EQ(nodeNamed(r.g(), "a").attrs.at("alpha").kind, Attr::Kind::Float);
  EXPECT_EQ(nodeNamed(r.g(), "b").attrs.at("axis").kind, Attr::Kind::Int);
  EXPECT_EQ(nodeNamed(r.g(), "c").attrs.at("p"), Attr::ofFloat(0.0));
}

} // namespace
} // namespace nng::dsl

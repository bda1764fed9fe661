// Every differentiable op's gradient rule (autodiff + the CPU backward kernels)
// against central finite differences in float64.
#include <gtest/gtest.h>

#include "core/ops/registry.h"
#include "core/passes/autodiff.h"
#include "core/train/gradcheck.h"
#include "graph_testing.h"
#include "dsl/frontend.h"

namespace nng {
namespace {

struct OpCase {
  std::string name; // test label
  std::string op;
  std::vector<TensorType> inputs; // float inputs become params, integer ones inputs
  AttrMap attrs;
};

// gtest prints a failing case by this name (not as raw bytes).
void PrintTo(const OpCase &c, std::ostream *os) { *os << c.name; }

TensorType f(Shape s) { return TensorType{DType::F32, std::move(s)}; }
TensorType i64(Shape s) { return TensorType{DType::I64, std::move(s)}; }
Attr ints(std::vector<int64_t> v) {
  std::vector<Attr> a;
  for (int64_t x : v)
    a.push_back(Attr::ofInt(x));
  return Attr::ofList(a);
}

// y = op(params...); loss = sum(y * r) with r a random input, so every element of
// y's gradient differs.
Graph caseGraph(const OpCase &c) {
  Graph g;
  g.name = c.name;
  std::vector<ValueId> ins;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::string name = "x" + std::to_string(i);
    if (isFloat(c.inputs[i].dtype))
      ins.push_back(g.addParam(name, c.inputs[i], Initializer{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}}));
    else
      ins.push_back(g.addInput(name, c.inputs[i]));
  }
  ValueId y = testing::addOp(g, c.op, ins, c.attrs);
  ValueId r = g.addInput("r", g.typeOf(y));
  ValueId loss = testing::addOp(g, "sum", {testing::addOp(g, "mul", {y, r})});
  g.setLoss(loss);
  return g;
}

std::vector<OpCase> cases() {
  std::vector<OpCase> v;
  for (const char *op : {"neg", "relu", "sigmoid", "tanh", "gelu", "exp", "abs"})
    v.push_back({op, op, {f({3, 4})}, {}});
  v.push_back({"leaky_relu", "leaky_relu", {f({3, 4})}, {{"alpha", Attr::ofFloat(0.2)}}});
  // log and sqrt need positive inputs: sqrt(x*x + 1) style inputs are not expressible
  // as params, so they go through exp first.
  for (const char *op : {"add", "sub", "mul", "maximum", "minimum"}) {
    v.push_back({op, op, {f({3, 4}), f({3, 4})}, {}});
    v.push_back({std::string(op) + "_broadcast", op, {f({2, 3, 4}), f({4})}, {}});
    v.push_back({std::string(op) + "_broadcast_left", op, {f({3, 1}), f({2, 3, 4})}, {}});
  }
  v.push_back({"div", "div", {f({3, 4}), f({4})}, {}});
  v.push_back({"matmul", "matmul", {f({3, 4}), f({4, 5})}, {}});
  v.push_back({"matmul_batched", "matmul", {f({2, 3, 4}), f({4, 5})}, {}});
  v.push_back({"matmul_batched_both", "matmul", {f({2, 3, 4}), f({2, 4, 2})}, {}});
  v.push_back({"transpose", "transpose", {f({2, 3, 4})}, {{"perm", ints({2, 0, 1})}}});
  v.push_back({"reshape", "reshape", {f({2, 3, 4})}, {{"shape", ints({6, -1})}}});
  v.push_back({"flatten", "flatten", {f({2, 3, 4})}, {}});
  v.push_back({"concat", "concat", {f({2, 3}), f({2, 2}), f({2, 1})}, {{"axis", Attr::ofInt(1)}}});
  v.push_back({"slice", "slice", {f({4, 5})},
               {{"axis", Attr::ofInt(1)}, {"begin", Attr::ofInt(1)}, {"end", Attr::ofInt(4)}}});
  v.push_back({"sum_all", "sum", {f({3, 4})}, {}});
  v.push_back({"sum_axis", "sum", {f({2, 3, 4})}, {{"axis", ints({1})}, {"keepdims", Attr::ofBool(true)}}});
  v.push_back({"mean_axis", "mean", {f({2, 3, 4})}, {{"axis", ints({0, 2})}}});
  v.push_back({"max_axis", "max", {f({3, 5})}, {{"axis", ints({1})}}});
  v.push_back({"softmax", "softmax", {f({3, 5})}, {}});
  v.push_back({"softmax_axis0", "softmax", {f({3, 5})}, {{"axis", Attr::ofInt(0)}}});
  v.push_back({"log_softmax", "log_softmax", {f({3, 5})}, {}});
  v.push_back({"cross_entropy", "cross_entropy", {f({4, 5}), i64({4})}, {}});
  v.push_back({"softmax_cross_entropy", "softmax_cross_entropy", {f({4, 5}), i64({4})}, {}});
  v.push_back({"mse", "mse", {f({3, 4}), f({3, 4})}, {}});
  v.push_back({"bce_with_logits", "bce_with_logits", {f({3, 4}), f({3, 4})}, {}});
  v.push_back({"conv2d", "conv2d", {f({2, 3, 5, 5}), f({4, 3, 3, 3})}, {}});
  v.push_back({"conv2d_stride_pad", "conv2d", {f({2, 2, 6, 6}), f({3, 2, 3, 3})},
               {{"stride", Attr::ofInt(2)}, {"pad", Attr::ofInt(1)}}});
  v.push_back({"max_pool2d", "max_pool2d", {f({2, 2, 4, 4})}, {{"kernel", Attr::ofInt(2)}}});
  v.push_back({"avg_pool2d", "avg_pool2d", {f({2, 2, 5, 5})},
               {{"kernel", Attr::ofInt(3)}, {"stride", Attr::ofInt(2)}, {"pad", Attr::ofInt(1)}}});
  v.push_back({"global_avg_pool", "global_avg_pool", {f({2, 3, 4, 4})}, {}});
  v.push_back({"batch_norm", "batch_norm", {f({4, 3, 2, 2}), f({3}), f({3}), f({3}), f({3})}, {}});
  v.push_back({"layer_norm", "layer_norm", {f({3, 6}), f({6}), f({6})}, {}});
  v.push_back({"dropout", "dropout", {f({4, 6})}, {{"p", Attr::ofFloat(0.3)}}});
  v.push_back({"embedding", "embedding", {i64({3, 2}), f({5, 4})}, {}});
  for (const char *act : {"none", "relu", "gelu", "sigmoid", "tanh"})
    v.push_back({std::string("fused_dense_") + act, "fused_dense", {f({3, 4}), f({4, 5}), f({5})},
                 {{"act", Attr::ofName(act)}}});
  for (const char *act : {"none", "relu", "gelu", "sigmoid", "tanh"})
    v.push_back({std::string("fused_conv2d_") + act, "fused_conv2d",
                 {f({2, 2, 6, 6}), f({3, 2, 3, 3}), f({3, 1, 1})},
                 {{"act", Attr::ofName(act)}, {"stride", Attr::ofInt(2)},
                  {"pad", Attr::ofInt(1)}}});
  v.push_back({"cast_roundtrip", "cast", {f({3})}, {{"to", Attr::ofName("f32")}}});
  return v;
}

class OpGradCheck : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpGradCheck, MatchesFiniteDifferences) {
  const OpCase &c = GetParam();
  Graph g = caseGraph(c);
  ASSERT_TRUE(verify(g).empty());
  GradCheckOptions opts;
  opts.elementsPerParam = 64;
  auto errors = gradCheck(g, opts);
  ASSERT_FALSE(errors.empty());
  for (const auto &e : errors) {
    // batch_norm's running statistics are inputs 3 and 4: they do not reach the
    // loss in training mode, so their gradient is (correctly) zero.
    EXPECT_LT(e.maxRelError, 1e-6) << c.name << ": " << e.param << " analytic " << e.analytic
                                   << " numeric " << e.numeric;
    EXPECT_GT(e.checked, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradCheck, ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

// Every differentiable op in the registry has a case above.
TEST(OpGradCheckCoverage, EveryOpWithAGradientIsChecked) {
  std::set<std::string> covered;
  for (const OpCase &c : cases())
    covered.insert(c.op);
  // Ops whose gradient is only a composition or that are not differentiable.
  const std::set<std::string> exempt = {"constant", "log", "sqrt", "pow"};
  for (const auto &kv : opRegistry().all()) {
    if (!kv.second.grad || exempt.count(kv.first))
      continue;
    EXPECT_TRUE(covered.count(kv.first)) << kv.first << " has a gradient rule but no check";
  }
}

// log, sqrt and pow need positive inputs: exp(x) feeds them.
TEST(OpGradCheck, PositiveDomainOps) {
  for (const char *op : {"log", "sqrt", "pow"}) {
    Graph g;
    g.name = op;
    ValueId a = g.addParam("a", f({3, 4}), Initializer{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(0.5)}});
    ValueId b = g.addParam("b", f({3, 4}), Initializer{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(0.5)}});
    using testing::addOp;
    ValueId pos = addOp(g, "exp", {a});
    ValueId y = std::string(op) == "pow" ? addOp(g, "pow", {pos, b}) : addOp(g, op, {pos});
    g.setLoss(addOp(g, "sum", {y}));
    for (const auto &e : gradCheck(g))
      EXPECT_LT(e.maxRelError, 1e-6) << op << ": " << e.param;
  }
}

} // namespace
} // namespace nng

// Every example model's gradients, end to end (lowered from its source).
namespace nng {
namespace {

class ExampleGradCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleGradCheck, MatchesFiniteDifferences) {
  const std::string path = std::string(NNG_SOURCE_DIR) + "/examples/" + GetParam() + ".nn";
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::readSource(path), "", sink);
  ASSERT_TRUE(g.has_value()) << sink.formatAll();
  GradCheckOptions opts;
  opts.batch = 2;
  opts.elementsPerParam = 6;
  auto errors = gradCheck(*g, opts);
  ASSERT_FALSE(errors.empty());
  for (const auto &e : errors) {
    EXPECT_LT(e.maxRelError, 1e-6) << GetParam() << ": " << e.param << " analytic " << e.analytic
                                   << " numeric " << e.numeric;
    EXPECT_GT(e.checked, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleGradCheck,
                         ::testing::Values("mlp", "cnn", "resmlp", "two_tower", "logreg"));

} // namespace
} // namespace nng

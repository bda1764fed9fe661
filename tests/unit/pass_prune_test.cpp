// The prune pass: each rule on a hand-built graph (what goes, what stays and why),
// the cases where it must decline, and on every example that the pruned graph
// computes bit for bit what the original computes (forward and, after autodiff,
// every gradient) and that the verifier accepts it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include "core/cpu/cpu_backend.h"
#include "core/data/random.h"
#include "core/passes/autodiff.h"
#include "core/passes/pass_manager.h"
#include "core/print/nn_printer.h"
#include "core/runtime/executor.h"
#include "dsl/frontend.h"
#include "graph_testing.h"
#include "example_testing.h"

namespace nng {
namespace {

using testing::addOp;
using testing::exampleNames;

TensorType f32(Shape s) { return TensorType{DType::F32, std::move(s)}; }
const Initializer kNormal{"normal", {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}};

ValueId constant(Graph &g, double v, DType t = DType::F32) {
  return addOp(g, "constant", {},
               {{"value", Attr::ofFloat(v)}, {"dtype", Attr::ofName(dtypeName(t))}});
}
Attr ints(std::vector<int64_t> v) {
  std::vector<Attr> a;
  for (int64_t x : v)
    a.push_back(Attr::ofInt(x));
  return Attr::ofList(a);
}

// Runs prune; returns whether it changed the graph, and its notes in `notes`.
bool prune(Graph &g, std::string *notes = nullptr) {
  PassContext ctx;
  const size_t before = ctx.notes().size();
  ctx.setCurrentPass("prune");
  bool changed = findPass("prune")->run(g, ctx);
  EXPECT_TRUE(verify(g).empty()) << verify(g).front();
  if (notes)
    for (size_t i = before; i < ctx.notes().size(); ++i)
      *notes += ctx.notes()[i].message + "\n";
  return changed;
}

// The ops of the graph's nodes, in order: "matmul add relu".
std::string ops(const Graph &g) {
  std::string s;
  for (const Node &n : g.nodes())
    s += (s.empty() ? "" : " ") + n.op;
  return s;
}

// ---- dead code --------------------------------------------------------------------

TEST(PrunePass, RemovesDeadNodesAndParams) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 4}));
  ValueId w = g.addParam("w", f32({4, 4}), kNormal);
  ValueId unused = g.addParam("unused", f32({4, 4}), kNormal);
  ValueId y = addOp(g, "relu", {addOp(g, "matmul", {x, w})}, {}, "y");
  addOp(g, "tanh", {addOp(g, "matmul", {x, unused})}, {}, "dead");
  g.markOutput(y);
  std::string notes;
  EXPECT_TRUE(prune(g, &notes));
  EXPECT_EQ(ops(g), "matmul relu");
  EXPECT_EQ(g.params().size(), 1u);
  EXPECT_EQ(g.value(g.params()[0]).name, "w");
  EXPECT_EQ(g.find("dead"), kNone);
  EXPECT_NE(notes.find("removed dead = tanh(t1): reaches no output and no loss"), std::string::npos)
      << notes;
  EXPECT_NE(notes.find("removed param unused"), std::string::npos) << notes;
  // Nothing left to do: a second run changes nothing.
  EXPECT_FALSE(prune(g));
}

// Notes name temporaries as `nng print` does, skipping names the graph already uses.
TEST(PrunePass, NotesUseThePrintedNames) {
  Graph g;
  ValueId x = g.addInput("t1", f32({4}));
  ValueId a = addOp(g, "exp", {x});
  ValueId b = addOp(g, "exp", {a}, {}, "t3");
  addOp(g, "exp", {b});
  addOp(g, "exp", {x});
  g.markOutput(a);
  std::vector<std::string> names = printedNames(g);
  std::string notes;
  prune(g, &notes);
  EXPECT_EQ(ops(g), "exp");
  EXPECT_EQ(names[3], "t2");
  EXPECT_EQ(names[4], "t4");
  for (ValueId v : {2, 3, 4})
    EXPECT_NE(notes.find("removed " + names[static_cast<size_t>(v)] + " = exp("), std::string::npos)
        << names[static_cast<size_t>(v)] << "\n"
        << notes;
}

TEST(PrunePass, KeepsStatefulNodesThatReachNoOutput) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 3, 2, 2}));
  ValueId gamma = g.addParam("gamma", f32({3}), kNormal);
  ValueId beta = g.addParam("beta", f32({3}), kNormal);
  ValueId mean = g.addParam("mean", f32({3}), Initializer{"zeros", {}}, {}, ValueKind::Buffer);
  ValueId var = g.addParam("var", f32({3}), Initializer{"ones", {}}, {}, ValueKind::Buffer);
  addOp(g, "batch_norm", {x, gamma, beta, mean, var}, {}, "bn");
  ValueId y = addOp(g, "relu", {x}, {}, "y");
  g.markOutput(y);
  std::string notes;
  EXPECT_FALSE(prune(g, &notes));
  EXPECT_EQ(ops(g), "batch_norm relu");
  EXPECT_EQ(g.params().size(), 4u);
  EXPECT_NE(notes.find("kept bn = batch_norm(x, gamma, beta, mean, var): batch_norm updates "
                       "state"),
            std::string::npos)
      << notes;
}

// ---- constant folding ---------------------------------------------------------------

TEST(PrunePass, FoldsScalarConstantSubgraphs) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 4}));
  ValueId k = addOp(g, "mul", {addOp(g, "exp", {constant(g, 0.0)}), constant(g, 3.0)});
  ValueId k2 = addOp(g, "sqrt", {addOp(g, "cast", {k}, {{"to", Attr::ofName("f64")}})});
  ValueId y = addOp(g, "mul", {x, k}, {}, "y");
  ValueId z = addOp(g, "mul", {addOp(g, "cast", {x}, {{"to", Attr::ofName("f64")}}), k2}, {}, "z");
  g.markOutput(y);
  g.markOutput(z);
  std::string notes;
  EXPECT_TRUE(prune(g, &notes));
  EXPECT_EQ(ops(g), "constant constant mul cast mul");
  const Node &c = g.node(0);
  EXPECT_EQ(c.attrs.at("value").asDouble(), 3.0);
  EXPECT_EQ(g.typeOf(c.output), f32({}));
  // sqrt(3) in f64, computed by the CPU kernel: exactly what the runtime would compute.
  const Node &c2 = g.node(1);
  EXPECT_EQ(c2.attrs.at("value").asDouble(), std::sqrt(3.0));
  EXPECT_EQ(c2.attrs.at("dtype").s, "f64");
  EXPECT_NE(notes.find("to the constant 3.0"), std::string::npos) << notes;
}

TEST(PrunePass, DoesNotFoldNonFiniteOrNonScalarResults) {
  Graph g;
  ValueId x = g.addInput("x", f32({4}));
  ValueId inf = addOp(g, "div", {constant(g, 1.0), constant(g, 0.0)});
  ValueId wide = addOp(g, "reshape", {constant(g, 2.0)}, {{"shape", ints({1})}});
  g.markOutput(addOp(g, "add", {addOp(g, "mul", {x, inf}), wide}, {}, "y"));
  std::string notes;
  prune(g, &notes);
  EXPECT_EQ(ops(g), "constant constant div constant reshape mul add");
  EXPECT_NE(notes.find("the result is inf"), std::string::npos) << notes;
  EXPECT_NE(notes.find("its result f32[1] is not an f32 or f64 scalar"), std::string::npos)
      << notes;
}

// ---- identities ----------------------------------------------------------------------

struct IdentityCase {
  std::string name;
  std::function<ValueId(Graph &, ValueId x)> build; // the expression that equals x
};
void PrintTo(const IdentityCase &c, std::ostream *os) { *os << c.name; }

class PruneIdentity : public ::testing::TestWithParam<IdentityCase> {};

// relu(expr(x)) becomes relu(x): only the relu is left.
TEST_P(PruneIdentity, LeavesOnlyTheConsumer) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 2, 3}));
  ValueId y = addOp(g, "relu", {GetParam().build(g, x)}, {}, "y");
  g.markOutput(y);
  EXPECT_TRUE(prune(g));
  EXPECT_EQ(ops(g), "relu");
  EXPECT_EQ(g.node(0).inputs, std::vector<ValueId>{g.find("x")});
}

// x op c (or c op x when `left`), with c a constant.
IdentityCase withConstant(const std::string &name, const std::string &op, double c, bool left) {
  return {name, [op, c, left](Graph &g, ValueId x) {
            ValueId k = constant(g, c);
            return addOp(g, op, left ? std::vector<ValueId>{k, x} : std::vector<ValueId>{x, k});
          }};
}

// op(x, attrs) applied `times` times.
IdentityCase repeated(const std::string &name, const std::string &op, AttrMap attrs,
                      int times = 1) {
  return {name, [op, attrs, times](Graph &g, ValueId x) {
            for (int i = 0; i < times; ++i)
              x = addOp(g, op, {x}, attrs);
            return x;
          }};
}

std::vector<IdentityCase> identityCases() {
  return {
      withConstant("mul_one", "mul", 1, false),
      withConstant("one_mul", "mul", 1, true),
      withConstant("add_zero", "add", 0, false),
      withConstant("zero_add", "add", 0, true),
      withConstant("sub_zero", "sub", 0, false),
      withConstant("div_one", "div", 1, false),
      repeated("neg_neg", "neg", {}, 2),
      repeated("cast_same", "cast", {{"to", Attr::ofName("f32")}}),
      repeated("transpose_reversed_twice", "transpose", {}, 2),
      repeated("transpose_identity_perm", "transpose", {{"perm", ints({0, -2, 2})}}),
      repeated("slice_everything", "slice",
               {{"axis", Attr::ofInt(2)}, {"begin", Attr::ofInt(0)}, {"end", Attr::ofInt(3)}}),
      repeated("concat_of_one", "concat", {{"axis", Attr::ofInt(1)}}),
      repeated("relu_relu", "relu", {}), // relu(relu(x)) is relu(x)
      {"transpose_pair",
       [](Graph &g, ValueId x) {
         ValueId t = addOp(g, "transpose", {x}, {{"perm", ints({2, 0, 1})}});
         return addOp(g, "transpose", {t}, {{"perm", ints({1, 2, 0})}});
       }},
      {"reshape_back",
       [](Graph &g, ValueId x) {
         ValueId r = addOp(g, "reshape", {x}, {{"shape", ints({-1, 6})}});
         return addOp(g, "reshape", {r}, {{"shape", ints({-1, 2, 3})}});
       }},
      {"maximum_of_itself",
       [](Graph &g, ValueId x) {
         return addOp(g, "maximum", {x, x});
       }},
      {"mul_by_folded_one",
       [](Graph &g, ValueId x) {
         ValueId one = addOp(g, "exp", {constant(g, 0)});
         return addOp(g, "mul", {x, one});
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(Rules, PruneIdentity, ::testing::ValuesIn(identityCases()),
                         [](const auto &info) { return info.param.name; });

TEST(PrunePass, MergesReshapeChainsAndTransposeChains) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 2, 3}));
  ValueId r1 = addOp(g, "flatten", {x});
  ValueId r2 = addOp(g, "reshape", {r1}, {{"shape", ints({-1, 3, 2})}}, "r");
  ValueId t1 = addOp(g, "transpose", {r2}, {{"perm", ints({1, 0, 2})}});
  ValueId t2 = addOp(g, "transpose", {t1}, {{"perm", ints({0, 2, 1})}}, "t");
  g.markOutput(t2);
  std::string notes;
  EXPECT_TRUE(prune(g, &notes));
  EXPECT_EQ(ops(g), "reshape transpose");
  EXPECT_EQ(g.node(0).inputs[0], g.find("x"));
  // Axis i of t is axis [1, 0, 2][[0, 2, 1][i]] of r: [1, 2, 0].
  EXPECT_EQ(g.node(1).attrs.at("perm").asInts(), (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(g.typeOf(g.find("t")), f32({3, 2, Dim::sym("N")}));
  EXPECT_NE(notes.find("merged r = reshape(t0)"), std::string::npos) << notes;
}

// transpose [3, 3] by [1, 0] keeps the type but is no identity; 0 - x is not x; pow
// has no identity trait; a reshape to another shape is no identity.
TEST(PrunePass, DeclinesWhatOnlyLooksLikeAnIdentity) {
  Graph g;
  ValueId x = g.addInput("x", f32({3, 3}));
  ValueId t = addOp(g, "transpose", {x}, {{"perm", ints({1, 0})}});
  ValueId two = addOp(g, "mul", {t, constant(g, 2.0)});
  ValueId m = addOp(g, "sub", {constant(g, 0.0), two}); // 0 - x is -x, not x
  ValueId p = addOp(g, "pow", {m, constant(g, 1.0)});   // no identity trait
  g.markOutput(addOp(g, "reshape", {p}, {{"shape", ints({9})}}, "y"));
  prune(g);
  EXPECT_EQ(ops(g), "transpose constant mul constant sub constant pow reshape");
}

TEST(PrunePass, OutputsKeepTheirNames) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 4}));
  // y = x * 1 would make the output the input x: the node stays.
  ValueId y = addOp(g, "mul", {x, constant(g, 1.0)}, {}, "y");
  // z = relu(x) * 1: the unnamed relu takes the name z.
  ValueId z = addOp(g, "mul", {addOp(g, "relu", {x}), constant(g, 1.0)}, {}, "z");
  g.markOutput(y);
  g.markOutput(z);
  std::string notes;
  EXPECT_TRUE(prune(g, &notes));
  EXPECT_EQ(ops(g), "constant mul relu");
  ASSERT_EQ(g.outputs().size(), 2u);
  EXPECT_EQ(g.value(g.outputs()[0]).name, "y");
  EXPECT_EQ(g.value(g.outputs()[1]).name, "z");
  EXPECT_EQ(g.node(g.value(g.outputs()[1]).producer).op, "relu");
  EXPECT_NE(notes.find("kept y = mul(x, t0) although mul by 1.0 is the identity: y is an "
                       "output or the loss and x cannot take its name"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("t1 takes the name z"), std::string::npos) << notes;
}

// ---- common subexpressions -------------------------------------------------------------

TEST(PrunePass, MergesCommonSubexpressions) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 4}));
  ValueId w = g.addParam("w", f32({4, 4}), kNormal);
  ValueId a = addOp(g, "relu", {addOp(g, "matmul", {x, w})});
  ValueId b = addOp(g, "relu", {addOp(g, "matmul", {x, w})});
  ValueId c = addOp(g, "leaky_relu", {a}, {{"alpha", Attr::ofFloat(0.1)}});
  ValueId d = addOp(g, "leaky_relu", {b}, {{"alpha", Attr::ofFloat(0.2)}}); // other attrs
  ValueId s = addOp(g, "add", {addOp(g, "add", {a, b}), addOp(g, "add", {c, d})}, {}, "s");
  ValueId loss = addOp(g, "sum", {s}, {}, "loss");
  g.markOutput(s);
  g.setLoss(loss);
  std::string notes;
  EXPECT_TRUE(prune(g, &notes));
  EXPECT_EQ(ops(g), "matmul relu leaky_relu leaky_relu add add add sum");
  EXPECT_EQ(g.node(4).inputs[0], g.node(4).inputs[1]); // a + a
  EXPECT_EQ(g.value(*g.loss()).name, "loss");
  EXPECT_NE(notes.find("removed t2 = matmul(x, w): computes the same as t0"), std::string::npos)
      << notes;
}

TEST(PrunePass, NeverMergesRandomOrStatefulNodes) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 3, 2, 2}));
  ValueId gamma = g.addParam("gamma", f32({3}), kNormal);
  ValueId beta = g.addParam("beta", f32({3}), kNormal);
  ValueId mean = g.addParam("mean", f32({3}), Initializer{"zeros", {}}, {}, ValueKind::Buffer);
  ValueId var = g.addParam("var", f32({3}), Initializer{"ones", {}}, {}, ValueKind::Buffer);
  ValueId d1 = addOp(g, "dropout", {x});
  ValueId d2 = addOp(g, "dropout", {x});
  ValueId b1 = addOp(g, "batch_norm", {x, gamma, beta, mean, var});
  ValueId b2 = addOp(g, "batch_norm", {x, gamma, beta, mean, var});
  g.markOutput(addOp(g, "add", {addOp(g, "add", {d1, d2}), addOp(g, "add", {b1, b2})}, {}, "y"));
  EXPECT_FALSE(prune(g));
  EXPECT_EQ(ops(g), "dropout dropout batch_norm batch_norm add add add");
}

// ---- equivalence on random inputs ------------------------------------------------------

// Random values for every input and param, by name, so two graphs that share names get
// the same numbers: normals for floats, valid classes or rows for integers.
std::map<std::string, std::vector<char>> randomFeed(const Graph &g, int64_t batch) {
  std::map<std::string, std::vector<char>> feed;
  Rng rng(7);
  std::vector<ValueId> all(g.inputs().begin(), g.inputs().end());
  all.insert(all.end(), g.params().begin(), g.params().end());
  for (ValueId v : all) {
    const TensorType &t = g.typeOf(v);
    size_t n = 1;
    for (const Dim &d : t.shape)
      n *= static_cast<size_t>(d.isSymbolic() ? batch : d.value);
    int64_t range = 2;
    for (const Node &node : g.nodes()) {
      if (node.op == "embedding" && node.inputs[0] == v)
        range = g.typeOf(node.inputs[1]).shape[0].value;
      if (node.op == "cross_entropy" && node.inputs[1] == v)
        range = g.typeOf(node.inputs[0]).shape.back().value;
    }
    std::vector<char> bytes(n * dtypeSize(t.dtype));
    for (size_t i = 0; i < n; ++i) {
      if (t.dtype == DType::F32) {
        float x = static_cast<float>(rng.normal());
        std::memcpy(bytes.data() + i * 4, &x, 4);
      } else if (t.dtype == DType::I64) {
        int64_t x = static_cast<int64_t>(rng.below(static_cast<uint64_t>(range)));
        std::memcpy(bytes.data() + i * 8, &x, 8);
      } else {
        ADD_FAILURE() << "no random feed for " << t.str();
      }
    }
    feed[g.value(v).name] = std::move(bytes);
  }
  return feed;
}

// The bytes of every output and the loss, by name, after one run on `feed`.
std::map<std::string, std::vector<char>>
runGraph(const Graph &g, const std::map<std::string, std::vector<char>> &feed, int64_t batch) {
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  ex.bind(testing::symbolicDimsAt(g, batch));
  std::vector<ValueId> all(g.inputs().begin(), g.inputs().end());
  all.insert(all.end(), g.params().begin(), g.params().end());
  for (ValueId v : all) {
    const std::vector<char> &bytes = feed.at(g.value(v).name);
    ex.write(v, bytes.data(), bytes.size());
  }
  KernelContext ctx;
  ctx.seed = 11;
  ex.run(ctx);
  std::map<std::string, std::vector<char>> out;
  std::vector<ValueId> results = g.outputs();
  if (g.loss())
    results.push_back(*g.loss());
  for (ValueId v : results) {
    std::vector<char> bytes(static_cast<size_t>(ex.tensor(v).elements()) *
                            dtypeSize(g.typeOf(v).dtype));
    ex.read(v, bytes.data());
    out[g.value(v).name] = std::move(bytes);
  }
  return out;
}

Graph loadExample(const std::string &name) {
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(
      dsl::readSource(std::string(NNG_SOURCE_DIR) + "/examples/" + name + ".nn"), "", sink);
  NNG_CHECK(g.has_value(), sink.formatAll());
  return std::move(*g);
}

void expectSameResults(const Graph &original, const Graph &pruned) {
  ASSERT_TRUE(verify(pruned).empty()) << verify(pruned).front();
  // Training-relevant structure: the same outputs and loss under the same names, and
  // every param of the original that the pruned graph dropped reached nothing.
  ASSERT_EQ(pruned.outputs().size(), original.outputs().size());
  for (size_t i = 0; i < original.outputs().size(); ++i)
    EXPECT_EQ(pruned.value(pruned.outputs()[i]).name, original.value(original.outputs()[i]).name);
  ASSERT_EQ(pruned.loss().has_value(), original.loss().has_value());
  if (original.loss()) {
    EXPECT_EQ(pruned.value(*pruned.loss()).name, original.value(*original.loss()).name);
  }
  const int64_t batch = 3;
  auto feed = randomFeed(original, batch);
  auto want = runGraph(original, feed, batch);
  auto got = runGraph(pruned, feed, batch);
  ASSERT_EQ(got.size(), want.size());
  for (const auto &kv : want) {
    ASSERT_TRUE(got.count(kv.first)) << kv.first;
    EXPECT_TRUE(got.at(kv.first) == kv.second) << kv.first << " differs after prune";
  }
}

class PruneExample : public ::testing::TestWithParam<std::string> {};

TEST_P(PruneExample, ForwardIsBitIdenticalAndParamsSurvive) {
  Graph original = loadExample(GetParam());
  Graph pruned = original;
  prune(pruned);
  expectSameResults(original, pruned);
  // The examples have no dead weights: every param survives, in order.
  ASSERT_EQ(pruned.params().size(), original.params().size());
  for (size_t i = 0; i < original.params().size(); ++i)
    EXPECT_EQ(pruned.value(pruned.params()[i]).name, original.value(original.params()[i]).name);
}

// Prune before autodiff gives the same gradients; prune after it (a graph printed by
// `nng optimize --grad` and pruned again) keeps every gradient, bit for bit.
TEST_P(PruneExample, GradientsAreBitIdentical) {
  Graph original = loadExample(GetParam());
  Graph prunedFirst = original;
  prune(prunedFirst);
  differentiate(original);
  differentiate(prunedFirst);
  expectSameResults(original, prunedFirst);
  Graph prunedAfter = original;
  prune(prunedAfter);
  expectSameResults(original, prunedAfter);
  EXPECT_LE(prunedAfter.nodes().size(), original.nodes().size());
}

// Every examples/*.nn, so a new example is covered without editing this list.
INSTANTIATE_TEST_SUITE_P(Examples, PruneExample, ::testing::ValuesIn(exampleNames()),
                         [](const auto &info) { return info.param; });

// A graph full of prunable structure computes the same after pruning.
TEST(PrunePass, HandBuiltGraphComputesTheSame) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 2, 3}));
  ValueId w = g.addParam("w", f32({3, 3}), kNormal);
  ValueId dead = g.addParam("dead", f32({3, 3}), kNormal);
  ValueId k = addOp(g, "mul", {addOp(g, "exp", {constant(g, 0.5)}), constant(g, 2.0)});
  ValueId a = addOp(g, "matmul", {addOp(g, "mul", {x, constant(g, 1.0)}), w});
  ValueId b = addOp(g, "matmul", {addOp(g, "add", {constant(g, 0.0), x}), w});
  ValueId t = addOp(g, "transpose", {addOp(g, "transpose", {a}, {{"perm", ints({0, 2, 1})}})},
                    {{"perm", ints({0, 2, 1})}});
  ValueId r = addOp(g, "reshape", {addOp(g, "reshape", {b}, {{"shape", ints({-1, 6})}})},
                    {{"shape", ints({-1, 2, 3})}});
  addOp(g, "matmul", {x, dead});
  ValueId y = addOp(g, "mul", {addOp(g, "add", {t, r}), k}, {}, "y");
  g.markOutput(y);
  g.setLoss(addOp(g, "sum", {addOp(g, "mul", {y, y})}, {}, "loss"));
  Graph pruned = g;
  EXPECT_TRUE(prune(pruned));
  EXPECT_EQ(ops(pruned), "constant matmul add mul mul sum");
  EXPECT_EQ(pruned.find("dead"), kNone);
  expectSameResults(g, pruned);
  // The gradient of w too (here the merged matmul's gradient, X^T (2 g), equals the
  // original sum X^T g + X^T g exactly, since doubling is exact).
  differentiate(g);
  differentiate(pruned);
  expectSameResults(g, pruned);
}

// ---- cost ---------------------------------------------------------------------------------

// 100,000 nodes with a dead half, identities and duplicates: linear work, well under a
// second even on a loaded machine.
TEST(PrunePass, HundredThousandNodesInUnderASecond) {
  Graph g;
  ValueId x = g.addInput("x", f32({Dim::sym("N"), 8}));
  ValueId one = constant(g, 1.0);
  ValueId h = x;
  while (g.nodes().size() < 100000) {
    ValueId a = addOp(g, "tanh", {h});
    ValueId b = addOp(g, "tanh", {h}); // duplicate of a
    addOp(g, "exp", {a});              // dead
    h = addOp(g, "mul", {addOp(g, "add", {a, b}), one});
  }
  g.markOutput(addOp(g, "relu", {h}, {}, "y"));
  const size_t before = g.nodes().size();
  PassContext ctx;
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(findPass("prune")->run(g, ctx));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0) << before << " nodes";
  EXPECT_TRUE(verify(g).empty());
  // Each round of 5 nodes leaves tanh and add.
  EXPECT_EQ(g.nodes().size(), (before - 2) / 5 * 2 + 1);
}

} // namespace
} // namespace nng

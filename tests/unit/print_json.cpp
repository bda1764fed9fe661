// The JSON printer and reader: exact text, typed attributes, round trips, and a clear
// UserError (never a crash) for malformed JSON and schema violations.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/print/graph_equal.h"
#include "core/print/json_printer.h"
#include "core/print/nn_printer.h"
#include "tests/unit/print_graphs.h"

namespace nng {
namespace {

using testing::addOp;
using testing::tt;

Graph smallGraph() {
  Graph g;
  g.name = "small";
  ValueId x = g.addInput("x", tt(DType::F32, {Dim::sym("N"), 2}), {"m.nn", 2, 3});
  ValueId w = g.addParam("w", tt(DType::F32, {2}),
                         {"normal", {Attr::ofFloat(0.0), Attr::ofFloat(0.02)}}, {"m.nn", 3, 3});
  ValueId t0 = g.addNode("add", {x, w}, {}, tt(DType::F32, {Dim::sym("N"), 2}), "",
                         {"m.nn", 4, 7}, {"in block 'res' called at m.nn:9:5"});
  g.markOutput(addOp(g, "leaky_relu", {t0}, {}, "h"));
  return g;
}

const char *kSmallJson = R"({
  "format": "nng-graph",
  "version": 1,
  "model": "small",
  "values": [
    {"id": 0, "name": "x", "kind": "input", "dtype": "f32", "shape": ["N", 2], "loc": {"file": "m.nn", "line": 2, "col": 3}},
    {"id": 1, "name": "w", "kind": "param", "dtype": "f32", "shape": [2], "init": {"kind": "normal", "args": [0.0, 0.02]}, "loc": {"file": "m.nn", "line": 3, "col": 3}},
    {"id": 2, "name": "t0", "kind": "node", "dtype": "f32", "shape": ["N", 2]},
    {"id": 3, "name": "h", "kind": "node", "dtype": "f32", "shape": ["N", 2]}
  ],
  "nodes": [
    {"op": "add", "inputs": [0, 1], "output": 2, "attrs": {}, "loc": {"file": "m.nn", "line": 4, "col": 7}, "call_chain": ["in block 'res' called at m.nn:9:5"]},
    {"op": "leaky_relu", "inputs": [2], "output": 3, "attrs": {"alpha": 0.01}}
  ],
  "outputs": [3],
  "loss": null
}
)";

TEST(PrintJson, ExactText) { EXPECT_EQ(printJson(smallGraph()), kSmallJson); }

TEST(PrintJson, MlpUsesTheNnPrintersNames) {
  std::string j = printJson(testing::mlpGraph());
  EXPECT_NE(j.find(R"({"id": 8, "name": "t1", "kind": "node", "dtype": "f32", "shape": []})"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"({"op": "constant", "inputs": [], "output": 8, "attrs": {"dtype": )"
                   R"({"name": "f32"}, "value": 0.5}})"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"("outputs": [10, 11],)"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("loss": 12)"), std::string::npos) << j;
}

TEST(PrintJson, ReadRestoresLocationsAndCallChains) {
  Graph g = readJson(kSmallJson);
  EXPECT_EQ(g.name, "small");
  ASSERT_EQ(g.values().size(), 4u);
  EXPECT_EQ(g.value(0).loc.str(), "m.nn:2:3");
  EXPECT_EQ(g.value(1).loc.str(), "m.nn:3:3");
  EXPECT_EQ(g.value(1).init.str(), "normal(0.0, 0.02)");
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.node(0).loc.str(), "m.nn:4:7");
  EXPECT_EQ(g.value(2).loc.str(), "m.nn:4:7");
  EXPECT_EQ(g.node(0).callChain, std::vector<std::string>{"in block 'res' called at m.nn:9:5"});
  EXPECT_EQ(g.node(1).inputs, std::vector<ValueId>{2});
  EXPECT_EQ(g.value(3).producer, 1);
  EXPECT_EQ(g.outputs(), std::vector<ValueId>{3});
  EXPECT_FALSE(g.loss());
  // The printed temporary comes back as a named value.
  EXPECT_EQ(g.value(2).name, "t0");
  EXPECT_EQ(g.find("t0"), 2);
  EXPECT_TRUE(verify(g).empty());
}

TEST(PrintJson, RoundTripsTheMlp) {
  Graph g = testing::mlpGraph();
  std::string first = printJson(g);
  Graph back = readJson(first);
  EXPECT_EQ(printJson(back), first);
  EXPECT_EQ(printNn(back), printNn(g));
  std::string why;
  EXPECT_TRUE(sameGraph(g, back, &why)) << why;
  EXPECT_EQ(back.inputs(), g.inputs());
  EXPECT_EQ(back.params(), g.params());
  EXPECT_EQ(back.value(5).kind, ValueKind::Buffer);
  ASSERT_TRUE(back.loss());
  EXPECT_EQ(*back.loss(), 12);
}

TEST(PrintJson, RoundTripKeepsInterleavedIds) {
  // Ids follow creation order, not kind order; the reader replays them exactly.
  Graph g;
  g.name = "mixed";
  ValueId x = g.addInput("x", tt(DType::F32, {2}));
  ValueId a = addOp(g, "relu", {x});
  ValueId w = g.addParam("w", tt(DType::F32, {2}), {"ones", {}});
  ValueId b = addOp(g, "mul", {a, w}, {}, "b");
  g.setLoss(b);
  Graph back = readJson(printJson(g));
  EXPECT_EQ(back.params(), std::vector<ValueId>{w});
  EXPECT_EQ(back.value(w).kind, ValueKind::Param);
  EXPECT_EQ(back.node(1).inputs, (std::vector<ValueId>{a, w}));
  EXPECT_EQ(printJson(back), printJson(g));
}

TEST(PrintJson, AttributesKeepTheirKinds) {
  Graph g;
  g.name = "kinds";
  ValueId x = g.addInput("x", tt(DType::F32, {1}));
  const double inf = std::numeric_limits<double>::infinity();
  AttrMap attrs = {
      {"i", Attr::ofInt(3)},
      {"neg", Attr::ofInt(-7)},
      {"min", Attr::ofInt(std::numeric_limits<int64_t>::min())},
      {"f", Attr::ofFloat(1.0)},
      {"sum", Attr::ofFloat(0.1 + 0.2)},
      {"tiny", Attr::ofFloat(1e-300)},
      {"nan", Attr::ofFloat(std::numeric_limits<double>::quiet_NaN())},
      {"inf", Attr::ofFloat(inf)},
      {"ninf", Attr::ofFloat(-inf)},
      {"b", Attr::ofBool(false)},
      {"s", Attr::ofString("q\"\\\n\t\xc3\xbc")},
      {"n", Attr::ofName("relu")},
      {"l", Attr::ofList({Attr::ofInt(1), Attr::ofFloat(2.0), Attr::ofName("x"),
                          Attr::ofList({}), Attr::ofString("s")})},
  };
  g.markOutput(g.addNode("custom", {x}, attrs, tt(DType::F32, {1}), "y"));
  std::string text = printJson(g);
  EXPECT_NE(text.find(R"("i": 3, )"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("f": 1.0, )"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("n": {"name": "relu"}, )"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("nan": {"float": "nan"}, )"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("ninf": {"float": "-inf"}, )"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("l": [1, 2.0, {"name": "x"}, [], "s"], )"), std::string::npos) << text;

  Graph back = readJson(text);
  const AttrMap &got = back.node(0).attrs;
  ASSERT_EQ(got.size(), attrs.size());
  for (const auto &[k, a] : attrs) {
    ASSERT_TRUE(got.count(k)) << k;
    EXPECT_EQ(got.at(k).kind, a.kind) << k;
    EXPECT_EQ(got.at(k), a) << k << ": " << got.at(k).str() << " vs " << a.str();
  }
  EXPECT_TRUE(std::isnan(got.at("nan").f));
  EXPECT_EQ(got.at("sum").f, 0.1 + 0.2);
  EXPECT_EQ(got.at("min").i, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(printJson(back), text);
}

TEST(PrintJson, InvalidUtf8IsReplacedNotThrown) {
  Graph g;
  g.name = "bad\xff";
  std::string text = printJson(g);
  EXPECT_NE(text.find("\"model\": \"bad\xef\xbf\xbd\""), std::string::npos) << text;
  EXPECT_EQ(readJson(text).name, "bad\xef\xbf\xbd");
}

// Runs readJson on `text` and returns the UserError's message ("" when it did not throw).
std::string readError(const std::string &text) {
  try {
    readJson(text);
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

// kSmallJson, edited by `edit`.
std::string edited(const std::function<void(nlohmann::ordered_json &)> &edit) {
  auto doc = nlohmann::ordered_json::parse(kSmallJson);
  edit(doc);
  return doc.dump();
}

TEST(PrintJson, MalformedJsonIsAUserError) {
  EXPECT_EQ(readError(""), "nng-graph JSON: document: invalid JSON: parse error at line 1, "
                           "column 1: syntax error while parsing value - unexpected end of "
                           "input; expected '[', '{', or a literal");
  EXPECT_EQ(readError("{\"format\": "), "nng-graph JSON: document: invalid JSON: parse error at "
                                        "line 1, column 12: syntax error while parsing value - "
                                        "unexpected end of input; expected '[', '{', or a "
                                        "literal");
  EXPECT_NE(readError("\"\xff\"").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(readError("[]"), "nng-graph JSON: document: expected an object, got an array");
}

TEST(PrintJson, DeepNestingIsRejectedWithoutRecursing) {
  const size_t depth = 200000;
  std::string deep = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_EQ(readError(R"({"format": "nng-graph", "version": 1, "model": )" + deep +
                      R"(, "values": [], "nodes": []})"),
            "nng-graph JSON: model: expected a string, got an array");
  std::string nested = "1";
  for (int i = 0; i < 40; ++i)
    nested = "[" + nested + "]";
  EXPECT_EQ(readError(edited([&](auto &d) {
              d["nodes"][1]["attrs"]["alpha"] = nlohmann::ordered_json::parse(nested);
            })),
            "nng-graph JSON: nodes[1].attrs.alpha[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
            "[0][0]: attribute lists nest deeper than 16");
}

TEST(PrintJson, SchemaViolationsNameTheKeyPath) {
  using J = nlohmann::ordered_json;
  struct Case {
    std::function<void(J &)> edit;
    std::string message;
  };
  const Case cases[] = {
      {[](J &d) { d.erase("nodes"); }, "document: missing key 'nodes'"},
      {[](J &d) { d["lost"] = 1; }, "lost: unknown key; did you mean 'loss'?"},
      {[](J &d) { d["format"] = "onnx"; }, "format: expected \"nng-graph\", got \"onnx\""},
      {[](J &d) { d["version"] = 2; }, "version: unsupported version 2 (this nng reads 1)"},
      {[](J &d) { d["version"] = "1"; }, "version: expected an integer, got a string"},
      {[](J &d) { d["model"] = nullptr; }, "model: expected a string, got a null"},
      {[](J &d) { d["values"] = J::object(); }, "values: expected an array, got an object"},
      {[](J &d) { d["values"][1]["dtype"] = "f33"; },
       "values[1].dtype: unknown dtype 'f33' (expected f32, f16, bf16, f64, i32, i64 or bool)"},
      {[](J &d) { d["values"][0]["shape"][1] = true; },
       "values[0].shape[1]: expected a non-negative integer or a symbol name, got a boolean"},
      {[](J &d) { d["values"][0]["shape"][1] = -3; },
       "values[0].shape[1]: -3 is out of range [0, 281474976710656]"},
      {[](J &d) { d["values"][0]["shape"][0] = ""; },
       "values[0].shape[0]: expected a non-negative integer or a symbol name, got an empty "
       "string"},
      {[](J &d) { d["values"][0]["shape"][1] = 2.5; },
       "values[0].shape[1]: expected a non-negative integer or a symbol name, got a float"},
      {[](J &d) { d["values"][1]["name"] = "x"; },
       "values[1].name: 'x' is already the name of values[0]"},
      {[](J &d) { d["values"][2]["id"] = 7; },
       "values[2].id: expected 2 (values are listed in id order), got 7"},
      {[](J &d) { d["values"][1]["kind"] = "weight"; },
       "values[1].kind: unknown kind 'weight' (expected input, param, buffer or node)"},
      {[](J &d) { d["values"][0]["init"] = {{"kind", "zeros"}, {"args", J::array()}}; },
       "values[0].init: only param and buffer values have an initializer"},
      {[](J &d) { d["values"][1]["init"].erase("args"); },
       "values[1].init: missing key 'args'"},
      {[](J &d) { d["values"][1]["init"]["args"][0] = {{"nam", "relu"}}; },
       "values[1].init.args[0]: expected an attribute (integer, float, boolean, string, list, "
       "{\"name\": ...} or {\"float\": ...}), got an object"},
      {[](J &d) { d["values"][0]["loc"]["line"] = "2"; },
       "values[0].loc.line: expected an integer, got a string"},
      {[](J &d) { d["values"][0]["loc"]["line"] = -1; },
       "values[0].loc.line: -1 is out of range [0, 2147483647]"},
      {[](J &d) { d["values"][2]["loc"] = d["nodes"][0]["loc"]; },
       "values[2].loc: a node value's location is given on its node"},
      {[](J &d) { d["nodes"][0]["inputs"][1] = 3; },
       "nodes[0].inputs[1]: value 3 is not defined before this node's output 2"},
      {[](J &d) { d["nodes"][0]["inputs"][1] = 99; },
       "nodes[0].inputs[1]: 99 is out of range [0, 3]"},
      {[](J &d) { d["nodes"][0]["output"] = 3; },
       "nodes[1].output: value 3 is already produced by nodes[0]"},
      {[](J &d) { d["nodes"][1]["output"] = 0; },
       "nodes[1].output: value 0 is input, not a node value"},
      {[](J &d) { d["nodes"].erase(1); },
       "values[3]: node value 3 is the output of no node"},
      {[](J &d) { std::swap(d["nodes"][0], d["nodes"][1]); },
       "nodes[1].output: nodes are not in the order of their output values (expected nodes[0] "
       "to produce value 2)"},
      {[](J &d) { d["nodes"][0]["op"] = ""; }, "nodes[0].op: empty op name"},
      {[](J &d) { d["nodes"][0]["attrs"] = J::array(); },
       "nodes[0].attrs: expected an object, got an array"},
      {[](J &d) { d["nodes"][1]["attrs"]["alpha"] = {{"float", "big"}}; },
       "nodes[1].attrs.alpha.float: expected \"nan\", \"inf\" or \"-inf\", got \"big\""},
      {[](J &d) { d["nodes"][1]["attrs"]["alpha"] = nullptr; },
       "nodes[1].attrs.alpha: expected an attribute (integer, float, boolean, string, list, "
       "{\"name\": ...} or {\"float\": ...}), got a null"},
      {[](J &d) { d["nodes"][0]["call_chain"][0] = 5; },
       "nodes[0].call_chain[0]: expected a string, got an integer"},
      {[](J &d) { d["nodes"][0]["callchain"] = J::array(); },
       "nodes[0].callchain: unknown key; did you mean 'call_chain'?"},
      {[](J &d) { d["outputs"] = {4}; }, "outputs[0]: 4 is out of range [0, 3]"},
      {[](J &d) { d["loss"] = 18446744073709551615u; }, "loss: integer out of range"},
      {[](J &d) { d["loss"] = -1; }, "loss: -1 is out of range [0, 3]"},
  };
  for (const Case &c : cases)
    EXPECT_EQ(readError(edited(c.edit)), "nng-graph JSON: " + c.message);
}

TEST(PrintJson, OutputsAndLossMayBeLeftOut) {
  Graph g = readJson(edited([](auto &d) {
    d.erase("outputs");
    d.erase("loss");
  }));
  EXPECT_TRUE(g.outputs().empty());
  EXPECT_FALSE(g.loss());
  EXPECT_EQ(g.nodes().size(), 2u);
}

} // namespace
} // namespace nng

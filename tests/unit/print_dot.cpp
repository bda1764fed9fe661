// The DOT printer: exact text, value styles, highlighted outputs and loss, escaping.
#include <gtest/gtest.h>

#include "core/print/dot_printer.h"
#include "tests/unit/print_graphs.h"

namespace nng {
namespace {

using testing::addOp;
using testing::tt;

TEST(PrintDot, StylesEachKindOfValue) {
  Graph g;
  g.name = "net";
  const Dim n = Dim::sym("N");
  ValueId x = g.addInput("x", tt(DType::F32, {n, 3}));
  ValueId w = g.addParam("w", tt(DType::F32, {3}), {"zeros", {}});
  g.addParam("rm", tt(DType::F32, {3}), {"ones", {}}, {}, ValueKind::Buffer);
  ValueId t0 = addOp(g, "add", {x, w});
  ValueId h = addOp(g, "leaky_relu", {t0}, {}, "h");
  ValueId loss = g.addNode("mean", {h}, {{"axis", Attr::ofList({})},
                                         {"keepdims", Attr::ofBool(false)}},
                           tt(DType::F32, {}), "loss");
  g.markOutput(h);
  g.setLoss(loss);
  EXPECT_EQ(printDot(g), R"(digraph "net" {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  "x" [shape=ellipse, label="x\ninput f32[N, 3]"];
  "w" [shape=box, style=filled, fillcolor=lightgrey, label="w\nparam f32[3]\nzeros"];
  "rm" [shape=box, style=filled, fillcolor=lightyellow, label="rm\nbuffer f32[3]\nones"];
  "t0" [shape=box, style=rounded, label="t0 = add\nf32[N, 3]"];
  "h" [shape=box, style=rounded, label="h = leaky_relu\nf32[N, 3]\nalpha = 0.01", peripheries=2];
  "loss" [shape=box, style=rounded, label="loss = mean\nf32[]\naxis = [], keepdims = false", peripheries=2, color=red];
  "x" -> "t0" [label="f32[N, 3]"];
  "w" -> "t0" [label="f32[3]"];
  "t0" -> "h" [label="f32[N, 3]"];
  "h" -> "loss" [label="f32[N, 3]"];
}
)");
}

TEST(PrintDot, NamesTemporariesLikeTheNnPrinter) {
  std::string dot = printDot(testing::mlpGraph());
  EXPECT_NE(dot.find("\"t1\" [shape=box, style=rounded, label=\"t1 = constant\\nf32[]\\n"
                     "dtype = f32, value = 0.5\"];"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"t1\" -> \"logits\" [label=\"f32[]\"];"), std::string::npos) << dot;
}

TEST(PrintDot, EscapesQuotesBackslashesAndNewlines) {
  Graph g;
  g.name = "q\"m";
  ValueId x = g.addInput("a\"b\\c", tt(DType::F32, {2}));
  ValueId y = g.addNode("custom", {x},
                        {{"s", Attr::ofString("x\"y\\")},
                         {"long", Attr::ofString(std::string(40, 'a'))}},
                        tt(DType::F32, {2}), "line\nbreak");
  g.markOutput(y);
  // Attr::str() quotes the string attribute, and DOT escapes that text again; the 42-character
  // long one is cut to 24 characters.
  EXPECT_EQ(printDot(g), R"(digraph "q\"m" {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  "a\"b\\c" [shape=ellipse, label="a\"b\\c\ninput f32[2]"];
  "line\nbreak" [shape=box, style=rounded, label="line\nbreak = custom\nf32[2]\nlong = \"aaaaaaaaaaaaaaaaaaaaaaa..., s = \"x\\\"y\\\\\"", peripheries=2];
  "a\"b\\c" -> "line\nbreak" [label="f32[2]"];
}
)");
  EXPECT_EQ(dotQuote("plain"), "\"plain\"");
  // A cut never splits a UTF-8 character: the quote and 22 ASCII bytes, then two-byte
  // u-umlauts, so byte 24 is the middle of the first one and the cut falls before it.
  Graph u;
  u.name = "u";
  std::string umlauts;
  for (int i = 0; i < 10; ++i)
    umlauts += "\xc3\xbc";
  u.addNode("custom", {}, {{"s", Attr::ofString(std::string(22, 'a') + umlauts)}},
            tt(DType::F32, {}), "c");
  EXPECT_NE(printDot(u).find("s = \\\"" + std::string(22, 'a') + "...\""),
            std::string::npos)
      << printDot(u);
  EXPECT_EQ(dotQuote("a\\b\"c\nd"), "\"a\\\\b\\\"c\\nd\"");
}

} // namespace
} // namespace nng

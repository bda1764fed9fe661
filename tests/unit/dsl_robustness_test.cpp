// No input crashes, hangs or exhausts the stack: binary garbage, NUL bytes, deep nesting,
// long chains, huge numbers, shapes and files. Each case checks the error it gets.
#include <random>

#include <gtest/gtest.h>

#include "dsl/parser.h"
#include "dsl_testing.h"

namespace nng::dsl {
namespace {

using testing::errorsOf;
using testing::lower;
using Strings = std::vector<std::string>;

std::string repeatText(const std::string &s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

TEST(DslRobustness, RandomBytes) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 20; ++round) {
    std::string text(4096, '\0');
    for (char &c : text)
      c = static_cast<char>(rng() & 0xff);
    auto r = lower(text);
    EXPECT_FALSE(r.graph);
    EXPECT_GE(r.sink.diagnostics().size(), 1u);
    EXPECT_LE(r.sink.diagnostics().size(), DiagnosticSink::kMaxErrors);
    EXPECT_FALSE(r.sink.formatAll().empty());
  }
}

TEST(DslRobustness, RandomTokens) {
  // Plausible tokens in random order exercise the parser's recovery rather than the lexer.
  const char *pieces[] = {"model", "m", "{", "}", "(", ")", "[", "]", "input", "x", ":", "f32",
                          ";", "=", "+", "-", "@", "repeat", "3", "block", ",", "return",
                          "\"s\"", "0.5", "param", "output", "import", "const"};
  std::mt19937 rng(99);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    for (int i = 0; i < 60; ++i)
      text += std::string(pieces[rng() % (sizeof pieces / sizeof *pieces)]) + " ";
    auto r = lower(text);
    EXPECT_LE(r.sink.diagnostics().size(), DiagnosticSink::kMaxErrors);
  }
}

TEST(DslRobustness, NulBytes) {
  std::string text = "model m {\0 input x: f32[N]; }";
  text.resize(30);
  text[9] = '\0';
  EXPECT_EQ(errorsOf(text), Strings{"m.nn:1:10: unexpected byte \\x00"});
  EXPECT_EQ(errorsOf(std::string(100, '\0')), Strings{"m.nn:1:1: unexpected byte \\x00"});
}

TEST(DslRobustness, DeepParentheses) {
  std::string deep = "model m { input x: f32[N]; y = " + repeatText("(", 100000) + "x" +
                     repeatText(")", 100000) + "; }";
  EXPECT_EQ(errorsOf(deep), Strings{"m.nn:1:286: expression nested too deeply (limit 256)"});
  // Just under the limit is fine.
  std::string ok = "model m { input x: f32[N]; y = " + repeatText("(", 250) + "x" +
                   repeatText(")", 250) + "; }";
  EXPECT_TRUE(lower(ok).graph);
}

TEST(DslRobustness, DeepUnaryMinusCallsListsAndBraces) {
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; y = " + repeatText("-", 100000) + "x; }"),
            Strings{"m.nn:1:286: expression nested too deeply (limit 256)"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; y = " + repeatText("relu(", 5000) + "x" +
                     repeatText(")", 5000) + "; }")
                .size(),
            1u);
  EXPECT_EQ(errorsOf("const A = " + repeatText("[", 100000) + ";").size(), 1u);
  EXPECT_EQ(errorsOf("model m { " + repeatText("repeat 1 { ", 100000) + "}").size(), 1u);
  // -(-(...)) counts both the signs and the parentheses.
  std::string mixed = "model m { input x: f32[N]; y = " + repeatText("-(", 200) + "x" +
                      repeatText(")", 200) + "; }";
  EXPECT_EQ(errorsOf(mixed).size(), 1u);
  std::string fine = "model m { input x: f32[N]; y = " + repeatText("-(", 100) + "x" +
                     repeatText(")", 100) + "; }";
  EXPECT_TRUE(lower(fine).graph);
}

TEST(DslRobustness, LongOperatorChainsAreNotDeep) {
  // Chains are flat in the AST, so a long sum neither hits the nesting limit nor the stack.
  std::string sum = "model m { input x: f32[N]; y = x" + repeatText(" + x", 20000) + "; }";
  auto r = lower(sum);
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(r.g().nodes().size(), 20000u);
  std::string consts =
      "const A = 1" + repeatText(" + 1", 100000) + ";\nmodel m { input x: f32[A]; }";
  auto c = lower(consts);
  ASSERT_TRUE(c.graph);
  EXPECT_EQ(c.g().typeOf(c.g().find("x")).str(), "f32[100001]");
}

TEST(DslRobustness, ExponentialBlockCallsStop) {
  // b40 would inline 2^40 calls of b0; none makes a node, the call limit ends it.
  std::string text = "block b0(x) { return x; }\n";
  for (int i = 1; i <= 40; ++i)
    text += "block b" + std::to_string(i) + "(x) { return b" + std::to_string(i - 1) + "(b" +
            std::to_string(i - 1) + "(x)); }\n";
  text += "model m { input x: f32[N]; y = b40(x); }";
  auto errors = errorsOf(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("too many block calls (more than 100000)"), std::string::npos);
}

TEST(DslRobustness, HugeShapesAndCounts) {
  EXPECT_EQ(errorsOf("model m { input x: f32[1000000000, 1000000000, 1000000]; }"),
            Strings{"m.nn:1:20: shape [1000000000, 1000000000, 1000000] has too many "
                    "elements (limit 2^48)"});
  EXPECT_EQ(errorsOf("model m { input x: f32[9223372036854775807, 2]; }").size(), 1u);
  EXPECT_EQ(errorsOf("model m { input x: f32[N]; repeat 9223372036854775807 { } }"),
            Strings{"m.nn:1:35: repeat count 9223372036854775807 is too large (limit 10000)"});
  EXPECT_EQ(errorsOf("model m { input x: f32[N, 3]; y = reshape(x, shape = [-1, "
                     "9223372036854775807]); }")
                .size(),
            1u);
}

TEST(DslRobustness, HugeFiles) {
  std::string big(kMaxSourceBytes + 1, ' ');
  EXPECT_EQ(errorsOf(big), Strings{"m.nn: file is too large (67108865 bytes, limit 64 MiB)"});
  // Many tokens under the byte limit stop at the token limit.
  std::string many = repeatText("1 ", kMaxTokens + 10);
  auto r = errorsOf(many);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].find("file is too long (more than 2000000 tokens)"), std::string::npos);
}

TEST(DslRobustness, LongNamesAndStringsAreShortenedInMessages) {
  std::string name(10000, 'a');
  auto errors = errorsOf("model m { y = " + name + " " + name + "; }");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LT(errors[0].size(), 200u);
}

} // namespace
} // namespace nng::dsl

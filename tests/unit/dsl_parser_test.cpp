// Lexer and parser: the AST of valid source (structure, precedence, literals, locations)
// and the exact message and location of syntax errors.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "dsl/parser.h"
#include "dsl_testing.h"

namespace nng::dsl {
namespace {

struct Parsed {
  std::optional<ast::File> file;
  DiagnosticSink sink;
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const Diagnostic &d : sink.diagnostics())
      out.push_back(d.loc.str() + ": " + d.message);
    return out;
  }
};

Parsed parse(const std::string &text) {
  Parsed p;
  p.file = parseSource("p.nn", text, p.sink);
  return p;
}

// The value expression of the model's only statement `v = EXPR;`.
const ast::Expr &exprOf(const Parsed &p) {
  return *p.file.value().models.at(0).body.at(0).value;
}

Parsed parseExpr(const std::string &expr) { return parse("model m { v = " + expr + "; }"); }

// A compact rendering of an expression tree to compare against.
std::string show(const ast::Expr &e) {
  switch (e.kind) {
  case ast::ExprKind::Number: return e.text;
  case ast::ExprKind::String: return "\"" + e.text + "\"";
  case ast::ExprKind::Bool: return e.boolValue ? "true" : "false";
  case ast::ExprKind::Name: return e.text;
  case ast::ExprKind::Neg: return "(neg " + show(*e.operands[0]) + ")";
  case ast::ExprKind::List: {
    std::string s = "[";
    for (size_t i = 0; i < e.operands.size(); ++i)
      s += (i ? " " : "") + show(*e.operands[i]);
    return s + "]";
  }
  case ast::ExprKind::Binary: {
    std::string s = "(" + show(*e.operands[0]);
    for (size_t i = 0; i < e.ops.size(); ++i)
      s += std::string(" ") + e.ops[i] + " " + show(*e.operands[i + 1]);
    return s + ")";
  }
  case ast::ExprKind::Call: {
    std::string s = e.text + "(";
    for (size_t i = 0; i < e.args.size(); ++i)
      s += (i ? ", " : "") + (e.args[i].key.empty() ? "" : e.args[i].key + "=") +
           show(*e.args[i].value);
    return s + ")";
  }
  }
  return "?";
}

std::string showExpr(const std::string &expr) {
  Parsed p = parseExpr(expr);
  EXPECT_TRUE(p.file) << ::testing::PrintToString(p.errors());
  return p.file ? show(exprOf(p)) : "";
}

TEST(DslParser, WholeFileStructure) {
  Parsed p = parse(R"(# a comment
import "blocks.nn";   // another comment
const HIDDEN = 2 * 256;

block tower(x, width) {
  h = relu(dense(x, width));
  return h;
}

model a { }
model b {
  input x: f32[N, 784];
  param w: f32[784, HIDDEN] = normal(0.0, 0.02);
  buffer s: f32[] = zeros;
  h: f32[N, HIDDEN] = x @ w;
  repeat 2 { h = tower(h, HIDDEN); }
  output h, x;
  minimize s;
}
)");
  ASSERT_TRUE(p.file) << ::testing::PrintToString(p.errors());
  const ast::File &f = *p.file;
  ASSERT_EQ(f.imports.size(), 1u);
  EXPECT_EQ(f.imports[0].path, "blocks.nn");
  EXPECT_EQ(f.imports[0].loc.str(), "p.nn:2:1");
  ASSERT_EQ(f.consts.size(), 1u);
  EXPECT_EQ(f.consts[0].name, "HIDDEN");
  EXPECT_EQ(show(*f.consts[0].value), "(2 * 256)");
  ASSERT_EQ(f.blocks.size(), 1u);
  EXPECT_EQ(f.blocks[0].name, "tower");
  ASSERT_EQ(f.blocks[0].params.size(), 2u);
  EXPECT_EQ(f.blocks[0].params[1].name, "width");
  EXPECT_EQ(f.blocks[0].params[1].loc.str(), "p.nn:5:16");
  EXPECT_EQ(f.blocks[0].body.back().kind, ast::StmtKind::Return);
  ASSERT_EQ(f.models.size(), 2u);
  EXPECT_TRUE(f.models[0].body.empty());
  const auto &body = f.models[1].body;
  ASSERT_EQ(body.size(), 7u);
  EXPECT_EQ(body[0].kind, ast::StmtKind::Input);
  EXPECT_EQ(body[0].type->dtype, "f32");
  EXPECT_EQ(body[0].type->dims.size(), 2u);
  EXPECT_EQ(body[1].kind, ast::StmtKind::Param);
  EXPECT_EQ(body[1].init->kind, "normal");
  EXPECT_EQ(body[1].init->args.size(), 2u);
  EXPECT_EQ(body[2].kind, ast::StmtKind::Buffer);
  EXPECT_TRUE(body[2].type->dims.empty());
  EXPECT_EQ(body[3].kind, ast::StmtKind::Assign);
  EXPECT_TRUE(body[3].type.has_value());
  EXPECT_EQ(body[3].loc.str(), "p.nn:15:3");
  EXPECT_EQ(body[4].kind, ast::StmtKind::Repeat);
  EXPECT_EQ(body[4].body.size(), 1u);
  EXPECT_EQ(body[5].kind, ast::StmtKind::Output);
  ASSERT_EQ(body[5].outputs.size(), 2u);
  EXPECT_EQ(body[5].outputs[1].name, "x");
  EXPECT_EQ(body[6].kind, ast::StmtKind::Minimize);
  EXPECT_EQ(body[6].target.name, "s");
}

TEST(DslParser, Precedence) {
  EXPECT_EQ(showExpr("a + b * c @ d"), "(a + (b * (c @ d)))");
  EXPECT_EQ(showExpr("a - b - c + d"), "(a - b - c + d)");
  EXPECT_EQ(showExpr("a / b * c"), "(a / b * c)");
  EXPECT_EQ(showExpr("(a + b) * c"), "((a + b) * c)");
  EXPECT_EQ(showExpr("-a @ b"), "((neg a) @ b)");
  EXPECT_EQ(showExpr("- -a"), "(neg (neg a))");
  EXPECT_EQ(showExpr("a - -b"), "(a - (neg b))");
  EXPECT_EQ(showExpr("2 * -3"), "(2 * -3)");
  EXPECT_EQ(showExpr("-(3)"), "(neg 3)");
}

TEST(DslParser, CallsListsAndNames) {
  EXPECT_EQ(showExpr("f(x, 3, axis = -1, act = relu)"), "f(x, 3, axis=-1, act=relu)");
  EXPECT_EQ(showExpr("f()"), "f()");
  EXPECT_EQ(showExpr("reshape(x, shape = [-1, 16])"), "reshape(x, shape=[-1 16])");
  EXPECT_EQ(showExpr("[]"), "[]");
  EXPECT_EQ(showExpr("fc1.weight @ grad.input"), "(fc1.weight @ grad.input)");
  EXPECT_EQ(showExpr("g(\"a\\\"b\\\\c\", true, false)"), "g(\"a\"b\\c\", true, false)");
}

TEST(DslParser, NumberLiterals) {
  struct Case {
    const char *text;
    bool isInt;
    double value;
  };
  for (const Case &c : {Case{"42", true, 42}, Case{"-2", true, -2}, Case{"0.5", false, 0.5},
                        Case{"1e-3", false, 1e-3}, Case{"2E+2", false, 200},
                        Case{"-0.25", false, -0.25}, Case{"inf", false, HUGE_VAL},
                        Case{"-inf", false, -HUGE_VAL}}) {
    Parsed p = parseExpr(c.text);
    ASSERT_TRUE(p.file) << c.text;
    const ast::Expr &e = exprOf(p);
    EXPECT_EQ(e.kind, ast::ExprKind::Number) << c.text;
    EXPECT_EQ(e.isInt, c.isInt) << c.text;
    EXPECT_EQ(e.isInt ? static_cast<double>(e.intValue) : e.floatValue, c.value) << c.text;
  }
  Parsed n = parseExpr("nan");
  ASSERT_TRUE(n.file);
  EXPECT_TRUE(std::isnan(exprOf(n).floatValue));

  Parsed lowest = parseExpr("-9223372036854775808");
  ASSERT_TRUE(lowest.file);
  EXPECT_EQ(exprOf(lowest).intValue, std::numeric_limits<int64_t>::min());
  // A subnormal reads as itself; only overflow is an error.
  Parsed tiny = parseExpr("4.9406564584124654e-324");
  ASSERT_TRUE(tiny.file);
  EXPECT_GT(exprOf(tiny).floatValue, 0.0);
}

TEST(DslParser, HugeNumbersAreErrors) {
  EXPECT_EQ(parseExpr("9223372036854775808").errors(),
            std::vector<std::string>{
                "p.nn:1:15: integer literal '9223372036854775808' is too large"});
  EXPECT_EQ(parseExpr("-9223372036854775809").errors(),
            std::vector<std::string>{
                "p.nn:1:16: integer literal '-9223372036854775809' is too large"});
  EXPECT_EQ(parseExpr("123456789012345678901234567890").errors().size(), 1u);
  EXPECT_EQ(parseExpr("1e999").errors(),
            std::vector<std::string>{"p.nn:1:15: number '1e999' is out of range"});
}

TEST(DslParser, EmptyAndCommentOnlyFiles) {
  for (const char *text : {"", "   \n\t\n", "# only a comment", "// only a comment\n"}) {
    Parsed p = parse(text);
    ASSERT_TRUE(p.file) << text;
    EXPECT_TRUE(p.file->models.empty());
  }
}

TEST(DslParser, MissingSemicolonPointsAfterTheStatement) {
  EXPECT_EQ(parse("model m {\n  x = relu(y)\n}\n").errors(),
            std::vector<std::string>{"p.nn:2:14: expected ';', found '}'"});
  // On the same line the error points at what was found.
  EXPECT_EQ(parse("model m { input x: f32[N] y = relu(x); }").errors(),
            std::vector<std::string>{"p.nn:1:27: expected ';', found 'y'"});
}

TEST(DslParser, ExpectedAndFound) {
  EXPECT_EQ(parse("model m { x = 1 + ; }").errors(),
            std::vector<std::string>{"p.nn:1:19: expected an expression, found ';'"});
  EXPECT_EQ(parse("model { }").errors(),
            std::vector<std::string>{"p.nn:1:7: expected a name, found '{'"});
  EXPECT_EQ(parse("foo").errors(),
            std::vector<std::string>{"p.nn:1:1: expected 'import', 'const', 'block', 'model' "
                                     "or end of file, found 'foo'"});
  // ANTLR recovers by assuming the missing ';', so that is all it expects here.
  EXPECT_EQ(parse("model m { x = a b; }").errors(),
            std::vector<std::string>{"p.nn:1:17: expected ';', found 'b'"});
  // One error per line: the rest of the line is the parser's recovery.
  EXPECT_EQ(parse("model m { x = a b c d; }").errors(),
            std::vector<std::string>{"p.nn:1:17: expected ';', found 'b'"});
  EXPECT_EQ(parse("model m { x = f(a b); }").errors(),
            std::vector<std::string>{"p.nn:1:19: expected ')' or ',', found 'b'"});
  EXPECT_EQ(parse("model m { x = a; ) }").errors(),
            std::vector<std::string>{"p.nn:1:18: expected a statement or '}', found ')'"});
  EXPECT_EQ(parse("model m {").errors(),
            std::vector<std::string>{"p.nn:1:10: expected a statement or '}', found end of file"});
  EXPECT_EQ(parse("model m { input x: f32[N, ; }").errors(),
            std::vector<std::string>{"p.nn:1:27: expected an expression, found ';'"});
  EXPECT_EQ(parse("import blocks.nn;").errors(),
            std::vector<std::string>{"p.nn:1:8: expected a string, found 'blocks.nn'"});
  EXPECT_EQ(parse("model m { param w: f32[3] = ; }").errors(),
            std::vector<std::string>{"p.nn:1:29: expected a name, found ';'"});
}

TEST(DslParser, RecoversAndReportsSeveralErrors) {
  Parsed p = parse("model a { x = ; }\nmodel b { y = relu(; }\nmodel c { z = 1 }\n");
  EXPECT_EQ(p.errors(), (std::vector<std::string>{
                            "p.nn:1:15: expected an expression, found ';'",
                            "p.nn:2:20: expected an expression or ')', found ';'",
                            "p.nn:3:17: expected ';', found '}'",
                        }));
  EXPECT_FALSE(p.file);

  // Stray tokens between declarations or statements do not hide the errors after them.
  EXPECT_EQ(parse("+ input\nmodel k { y = ; }").errors(),
            (std::vector<std::string>{
                "p.nn:1:1: expected 'import', 'const', 'block', 'model' or end of file, "
                "found '+'",
                "p.nn:2:15: expected an expression, found ';'"}));
  EXPECT_EQ(parse("model m {\n  + + 3\n  y = ;\n}").errors(),
            (std::vector<std::string>{"p.nn:2:3: expected a statement or '}', found '+'",
                                      "p.nn:3:7: expected an expression, found ';'"}));
}

TEST(DslParser, LexicalErrors) {
  EXPECT_EQ(parse("model m { y = x $ 3; }").errors(),
            std::vector<std::string>{"p.nn:1:17: unexpected character '$'"});
  EXPECT_EQ(parse("model m {\n  z = \"abc\n}").errors(),
            std::vector<std::string>{"p.nn:2:7: unterminated string"});
  EXPECT_EQ(parse("model m { }\x01\x02\x03").errors(),
            std::vector<std::string>{"p.nn:1:12: unexpected byte \\x01"});
  // Keywords are reserved; `1.` is not a number.
  EXPECT_EQ(parse("model m { input = 1; }").errors(),
            std::vector<std::string>{"p.nn:1:17: expected a name, found '='"});
  EXPECT_EQ(parse("const A = 1.;").errors(),
            std::vector<std::string>{"p.nn:1:12: unexpected character '.'"});
}

TEST(DslParser, ErrorsAreSortedByPosition) {
  // The lexical error on line 2 is found before the syntax error on line 1.
  EXPECT_EQ(parse("model m { x = ; }\nmodel k { y = 1 ? 2; }").errors(),
            (std::vector<std::string>{"p.nn:1:15: expected an expression, found ';'",
                                      "p.nn:2:17: unexpected character '?'"}));
}

TEST(DslParser, ErrorCountIsCapped) {
  std::string text;
  for (int i = 0; i < 100; ++i)
    text += "model m" + std::to_string(i) + " { x = ; }\n";
  Parsed p = parse(text);
  EXPECT_EQ(p.sink.diagnostics().size(), DiagnosticSink::kMaxErrors);
}

TEST(DslParser, ByteOrderMarkIsWhitespace) {
  Parsed p = parse("\xEF\xBB\xBFmodel m { }");
  ASSERT_TRUE(p.file) << ::testing::PrintToString(p.errors());
  EXPECT_EQ(p.file->models.at(0).loc.str(), "p.nn:1:10");
}

TEST(DslParser, DiagnosticQuotesTheLine) {
  Parsed p = parse("model m {\n  x = relu(y)\n}\n");
  EXPECT_EQ(p.sink.formatAll(), "p.nn:2:14: error: expected ';', found '}'\n"
                                "    x = relu(y)\n"
                                "               ^\n");
}

} // namespace
} // namespace nng::dsl

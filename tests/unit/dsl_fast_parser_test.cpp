// The parser's fast path (a hand-written lexer and parser for error-free input) against
// the ANTLR path it falls back to: wherever the fast path accepts, both build the same
// AST; the fast path accepts every valid file of the repository; and it declines
// whatever ANTLR reports, so every diagnostic still comes from the ANTLR path.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "dsl/parser.h"

namespace nng::dsl {
namespace {

namespace fs = std::filesystem;

void dumpLoc(std::ostream &o, const SourceLoc &l) { o << '@' << l.line << ':' << l.col; }

// Everything an expression holds, float values bit for bit.
void dumpExpr(std::ostream &o, const ast::Expr *e) {
  if (!e) {
    o << "null";
    return;
  }
  uint64_t bits = 0;
  std::memcpy(&bits, &e->floatValue, sizeof bits);
  o << '(' << static_cast<int>(e->kind);
  dumpLoc(o, e->loc);
  o << " int" << e->isInt << '=' << e->intValue << " f=" << bits << " [" << e->text << "] b"
    << e->boolValue;
  for (const ast::ExprPtr &x : e->operands) {
    o << ' ';
    dumpExpr(o, x.get());
  }
  for (size_t i = 0; i < e->ops.size(); ++i) {
    o << " op" << e->ops[i];
    dumpLoc(o, e->opLocs.at(i));
  }
  for (const ast::Arg &a : e->args) {
    o << " arg[" << a.key << ']';
    dumpLoc(o, a.loc);
    dumpExpr(o, a.value.get());
  }
  o << ')';
}

void dumpStmt(std::ostream &o, const ast::Stmt &s) {
  o << "{stmt" << static_cast<int>(s.kind);
  dumpLoc(o, s.loc);
  o << ' ' << s.target.name;
  dumpLoc(o, s.target.loc);
  for (const ast::NameRef &n : s.outputs) {
    o << " out " << n.name;
    dumpLoc(o, n.loc);
  }
  if (s.type) {
    o << " type " << s.type->dtype;
    dumpLoc(o, s.type->loc);
    for (const ast::ExprPtr &d : s.type->dims)
      dumpExpr(o, d.get());
  }
  if (s.init) {
    o << " init " << s.init->kind;
    dumpLoc(o, s.init->loc);
    for (const ast::ExprPtr &a : s.init->args)
      dumpExpr(o, a.get());
  }
  o << " value ";
  dumpExpr(o, s.value.get());
  for (const ast::Stmt &b : s.body)
    dumpStmt(o, b);
  o << "}\n";
}

std::string dump(const ast::File &f) {
  std::ostringstream o;
  o << f.path << '\n';
  for (const ast::Import &i : f.imports) {
    o << "import " << i.path;
    dumpLoc(o, i.loc);
    o << '\n';
  }
  for (const ast::Const &c : f.consts) {
    o << "const " << c.name;
    dumpLoc(o, c.loc);
    dumpExpr(o, c.value.get());
    o << '\n';
  }
  for (const ast::Block &b : f.blocks) {
    o << "block " << b.name;
    dumpLoc(o, b.loc);
    for (const ast::NameRef &p : b.params) {
      o << ' ' << p.name;
      dumpLoc(o, p.loc);
    }
    o << '\n';
    for (const ast::Stmt &s : b.body)
      dumpStmt(o, s);
  }
  for (const ast::Model &m : f.models) {
    o << "model " << m.name;
    dumpLoc(o, m.loc);
    o << '\n';
    for (const ast::Stmt &s : m.body)
      dumpStmt(o, s);
  }
  return o.str();
}

struct Outcome {
  bool fastAccepted = false, antlrAccepted = false, sameAst = false;
};

Outcome compare(const std::string &text) {
  Outcome out;
  std::optional<ast::File> fast = parseSourceFast("f.nn", text);
  DiagnosticSink sink;
  std::optional<ast::File> antlr = parseSourceWithAntlr("f.nn", text, sink);
  out.fastAccepted = fast.has_value();
  out.antlrAccepted = antlr.has_value() && !sink.hasErrors();
  out.sameAst = fast && antlr && dump(*fast) == dump(*antlr);
  return out;
}

void expectSame(const std::string &text) {
  Outcome o = compare(text);
  EXPECT_TRUE(o.antlrAccepted) << text;
  EXPECT_TRUE(o.fastAccepted) << text;
  EXPECT_TRUE(o.sameAst) << text;
}

std::vector<std::string> repositorySources() {
  std::vector<std::string> out;
  for (const char *dir : {"examples", "bench/models", "tests/golden/inputs"}) {
    fs::path root = fs::path(NNG_SOURCE_DIR) / dir;
    if (!fs::exists(root))
      continue;
    for (const auto &entry : fs::recursive_directory_iterator(root))
      if (entry.is_regular_file() && entry.path().extension() == ".nn") {
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        out.push_back(ss.str());
      }
  }
  return out;
}

TEST(DslFastParser, BuildsTheAntlrAstForExpressions) {
  for (const char *e : {"-3", "- 3", "-(3)", "--3", "a - -3", "-a * b", "-a @ b + c",
                        "(a + b) + c", "a + b + c", "a * b + c * d - e / f @ g", "a @ b @ c",
                        "-inf", "nan", "1.5e-3", "2E+4", "9223372036854775807",
                        "-9223372036854775808", "f()", "f(x, k = 1, j = [1, -2.5, []])",
                        "\"a\\\"b\\\\c\\nd\\te\"", "true", "false", "x.y.z", "input.x",
                        "grad.fc1.weight", "[[1], (2)]", "-f(-f(x))", "((((x))))"})
    expectSame(std::string("model m { v = ") + e + "; }");
}

TEST(DslFastParser, BuildsTheAntlrAstForDeclarationsAndStatements) {
  expectSame("import \"a.nn\";\nconst K = 3 * 4;\n"
             "block b(x, y) {\n  z: f32[N] = x + y; // comment\n  return z;\n}\n"
             "model m {\n  input x: f32[N, K];\n  param w: f32[K, 2] = normal(0, 0.02);\n"
             "  param p: f32[2];\n  buffer r: f32[2] = zeros;\n  repeat 2 { x2 = b(x, y = x); }\n"
             "  # comment\n  output x2, w;\n  minimize w;\n}\n");
  // A byte order mark reads as spaces; tabs, form feeds and CRLF are white space.
  expectSame("\xEF\xBB\xBFmodel m {\r\n\tv\f= 1;\r\n}");
  // `1e` lexes as the integer 1 and the name e: a syntax error on both paths.
  EXPECT_FALSE(compare("model m { v = 1e; }").antlrAccepted);
  EXPECT_FALSE(compare("model m { v = 1e; }").fastAccepted);
}

TEST(DslFastParser, AcceptsEveryValidFileOfTheRepository) {
  std::vector<std::string> sources = repositorySources();
  ASSERT_GT(sources.size(), 10u);
  for (const std::string &text : sources) {
    Outcome o = compare(text);
    if (o.antlrAccepted) {
      EXPECT_TRUE(o.fastAccepted) << text;
      EXPECT_TRUE(o.sameAst) << text;
    } else {
      EXPECT_FALSE(o.fastAccepted) << text;
    }
  }
}

// Random edits of the repository's files: many break the syntax in ways the fast path
// must notice (it may never accept what ANTLR rejects), the rest must parse the same.
TEST(DslFastParser, DeclinesWhatAntlrRejectsUnderRandomEdits) {
  std::vector<std::string> sources = repositorySources();
  const char *pieces[] = {"-", "(", ")", "[", "]", "{", "}", ",", ";", ":", "=", "+", "*", "/",
                          "@", ".", "\"", "\\", "#", "//", "\n", " ", "1", "1.5", "1e3", "e",
                          "x", "input", "inf", "a.b", "\t", "\r", "\x01", "\xff", "repeat",
                          "99999999999999999999", "1e999", "x = ", "f(", "k = ", "1.", ".5"};
  std::mt19937 rng(1234);
  size_t rejected = 0, accepted = 0;
  for (int round = 0; round < 1500; ++round) {
    std::string t = sources[rng() % sources.size()];
    for (int k = 0, edits = 1 + static_cast<int>(rng() % 3); k < edits; ++k) {
      size_t pos = rng() % (t.size() + 1);
      switch (rng() % 3) {
      case 0:
        if (pos < t.size())
          t.erase(pos, 1 + rng() % 3);
        break;
      case 1:
        t.insert(pos, pieces[rng() % (sizeof pieces / sizeof *pieces)]);
        break;
      default:
        if (!t.empty())
          t.insert(pos, t.substr(rng() % t.size(), rng() % 20));
      }
    }
    Outcome o = compare(t);
    EXPECT_EQ(o.fastAccepted, o.antlrAccepted) << t;
    if (o.fastAccepted) {
      EXPECT_TRUE(o.sameAst) << t;
    }
    (o.antlrAccepted ? accepted : rejected) += 1;
  }
  // Both kinds were exercised.
  EXPECT_GT(rejected, 300u);
  EXPECT_GT(accepted, 100u);
}

TEST(DslFastParser, ErrorsComeFromTheAntlrPath) {
  for (const char *text : {"model m { v = 1 $ 2; }", "model m { v = \"open; }",
                           "model m { v = 99999999999999999999; }", "model m { v = 1e999; }",
                           "model m { v = (1; }", "model m { input = 3; }"}) {
    EXPECT_FALSE(parseSourceFast("f.nn", text)) << text;
    DiagnosticSink viaParse, viaAntlr;
    EXPECT_FALSE(parseSource("f.nn", text, viaParse));
    EXPECT_FALSE(parseSourceWithAntlr("f.nn", text, viaAntlr));
    EXPECT_EQ(viaParse.formatAll(), viaAntlr.formatAll());
    EXPECT_TRUE(viaParse.hasErrors());
  }
  // Past the nesting limit the fast path declines too, and ANTLR's path reports it.
  std::string deep =
      "model m { v = " + std::string(300, '(') + "1" + std::string(300, ')') + "; }";
  EXPECT_FALSE(parseSourceFast("f.nn", deep));
  DiagnosticSink sink;
  EXPECT_FALSE(parseSource("f.nn", deep, sink));
  ASSERT_TRUE(sink.hasErrors());
  EXPECT_NE(sink.diagnostics()[0].message.find("nested too deeply"), std::string::npos);
}

} // namespace
} // namespace nng::dsl

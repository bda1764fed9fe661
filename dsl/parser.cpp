// Text -> AST. Error-free input takes a fast hand-written path (see "The fast path" below);
// everything else, and so every diagnostic, goes through ANTLR in three stages:
// 1. Lex everything with the generated lexer, feeding it one byte per character (so binary
//    input cannot fail a UTF-8 decode and columns count bytes, as the diagnostics' carets
//    do). Lexical errors are reported here; the token count and the nesting depth are
//    bounded here, before ANTLR's recursive descent could overflow the stack.
// 2. Parse the tokens with the generated parser, whose error strategy is replaced so each
//    syntax error reads "expected X, found Y"; ANTLR recovers and reports more, up to
//    DiagnosticSink::kMaxErrors.
// 3. When there was no error, walk the parse tree into the AST (ast.h), folding a minus
//    sign into the number literal it precedes and flattening operator chains.
#include "dsl/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "NngLexer.h"
#include "NngParser.h"
#include "antlr4-runtime.h"

namespace nng::dsl {

namespace {

using gen::NngLexer;
using gen::NngParser;

// Thrown to stop the parse once the sink holds kMaxErrors diagnostics.
struct TooManyErrors {};

// One byte per character. A UTF-8 byte order mark reads as spaces.
class ByteStream : public antlr4::ANTLRInputStream {
public:
  ByteStream(const std::string &file, const std::string &text) {
    name = file;
    _data.reserve(text.size());
    for (unsigned char c : text)
      _data.push_back(static_cast<char32_t>(c));
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
      _data[0] = _data[1] = _data[2] = U' ';
  }
};

// Quoted text for messages: non-printable bytes escaped, long tokens shortened.
std::string display(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= 40) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return "'" + out + "'";
}

// Fills the Number expression `e` from a literal token (INT, FLOAT, KW_INF, KW_NAN) and
// its text; a minus sign before it is folded in. Returns the error for a literal out of
// range, or "".
std::string numberValue(size_t type, const std::string &digits, bool negative, ast::Expr &e) {
  e.kind = ast::ExprKind::Number;
  e.text = (negative ? "-" : "") + digits;
  switch (type) {
  case NngParser::INT: {
    e.isInt = true;
    // Accumulate the magnitude; the most negative int64 is one more than the largest.
    uint64_t limit = uint64_t(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
    uint64_t v = 0;
    for (char ch : digits) {
      uint64_t d = static_cast<uint64_t>(ch - '0');
      if (v > (limit - d) / 10)
        return "integer literal " + display(e.text) + " is too large";
      v = v * 10 + d;
    }
    e.intValue = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    e.floatValue = static_cast<double>(e.intValue);
    return "";
  }
  case NngParser::KW_INF:
    e.floatValue = std::numeric_limits<double>::infinity();
    break;
  case NngParser::KW_NAN:
    e.floatValue = std::numeric_limits<double>::quiet_NaN();
    break;
  default:
    e.floatValue = std::strtod(digits.c_str(), nullptr);
    // Underflow quietly gives zero or a subnormal; overflow is an error.
    if (std::isinf(e.floatValue))
      return "number " + display(e.text) + " is out of range";
  }
  if (negative)
    e.floatValue = -e.floatValue;
  return "";
}

// The value of a string token's text: quotes removed, \" \\ \n \t resolved.
std::string unquoteText(const std::string &raw) {
  std::string out;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 2 < raw.size()) {
      c = raw[++i];
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
    }
    out += c;
  }
  return out;
}

// Collects one file's diagnostics, which flush() hands to the sink sorted by position
// (lexical errors are found before syntax errors but should read in order). Stops the
// parse at the error limit.
class ErrorCollector : public antlr4::BaseErrorListener {
public:
  ErrorCollector(const std::string &file, DiagnosticSink &sink) : file_(file), sink_(sink) {}

  void report(size_t line, size_t col, const std::string &message) {
    diags_.push_back(Diagnostic{
        SourceLoc{file_, static_cast<int>(line), static_cast<int>(col)}, message, {}});
    if (sink_.diagnostics().size() + diags_.size() >= DiagnosticSink::kMaxErrors)
      throw TooManyErrors();
  }
  // Errors that do not come through our error strategy (none are expected).
  void syntaxError(antlr4::Recognizer *, antlr4::Token *, size_t line, size_t charPositionInLine,
                   const std::string &msg, std::exception_ptr) override {
    report(line, charPositionInLine + 1, msg);
  }
  // A syntax error at the token right after a lexical error is only its echo: `x $ 3`
  // reads as `x 3` to the parser.
  void markAfterLexicalError(size_t startIndex) { echoes_.insert(startIndex); }
  bool isEcho(size_t startIndex) const { return echoes_.count(startIndex) != 0; }

  bool any() const { return !diags_.empty(); }
  void flush() {
    std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic &a, const Diagnostic &b) {
      return std::make_pair(a.loc.line, a.loc.col) < std::make_pair(b.loc.line, b.loc.col);
    });
    for (Diagnostic &d : diags_)
      sink_.add(std::move(d));
    diags_.clear();
  }

private:
  FileName file_;
  DiagnosticSink &sink_;
  std::vector<Diagnostic> diags_;
  std::set<size_t> echoes_;
};

bool isOperandEnd(size_t type) {
  switch (type) {
  case NngParser::RPAREN: case NngParser::RBRACK: case NngParser::NAME: case NngParser::INT:
  case NngParser::FLOAT: case NngParser::STRING: case NngParser::KW_TRUE:
  case NngParser::KW_FALSE: case NngParser::KW_INF: case NngParser::KW_NAN:
    return true;
  default:
    return false;
  }
}

// Bounds the nesting token by token, before any recursive descent sees the tokens.
// Brackets open a level; a unary minus sign opens one until its operand ends.
class NestingBound {
public:
  // Takes the next token's type; false when the nesting now exceeds kMaxNesting.
  bool next(size_t type) {
    // An operand closes the unary signs before it, unless it is a callee: in
    // `-f(-f(x))` the outer sign stays open while the parser is inside the call.
    if (isOperandEnd(lastType_) && type != NngLexer::LPAREN) {
      depth_ -= unary_.back();
      unary_.back() = 0;
    }
    switch (type) {
    case NngLexer::LPAREN: case NngLexer::LBRACK: case NngLexer::LBRACE:
      unary_.push_back(0);
      ++depth_;
      break;
    case NngLexer::RPAREN: case NngLexer::RBRACK: case NngLexer::RBRACE:
      if (unary_.size() > 1) {
        depth_ -= 1 + unary_.back();
        unary_.pop_back();
      }
      break;
    case NngLexer::MINUS:
      if (!isOperandEnd(lastType_)) {
        ++unary_.back();
        ++depth_;
      }
      break;
    default:
      break;
    }
    lastType_ = type;
    return depth_ <= kMaxNesting;
  }

private:
  std::vector<int> unary_{0}; // per open bracket level: pending unary minus signs
  int depth_ = 1;             // open levels plus pending unary signs
  size_t lastType_ = antlr4::Token::INVALID_TYPE;
};

// Friendly names for token types in "expected ..." messages.
class Expectation {
public:
  Expectation(const antlr4::dfa::Vocabulary &vocab, const std::string &text)
      : vocab_(vocab), text_(text) {}

  std::string expected(const antlr4::misc::IntervalSet &set) const {
    std::vector<size_t> types;
    for (ssize_t t : set.toList())
      types.push_back(static_cast<size_t>(t));
    auto has = [&](size_t t) {
      for (size_t x : types)
        if (x == t)
          return true;
      return false;
    };
    auto hasAll = [&](const std::vector<size_t> &group) {
      for (size_t t : group)
        if (!has(t))
          return false;
      return true;
    };
    std::vector<std::string> parts;
    std::vector<size_t> covered;
    auto group = [&](const std::vector<size_t> &members, const std::string &what) {
      if (!hasAll(members))
        return;
      parts.push_back(what);
      covered.insert(covered.end(), members.begin(), members.end());
    };
    group({NngParser::INPUT, NngParser::PARAM, NngParser::BUFFER, NngParser::NAME,
           NngParser::REPEAT, NngParser::OUTPUT, NngParser::MINIMIZE, NngParser::RETURN},
          "a statement");
    group({NngParser::MINUS, NngParser::LPAREN, NngParser::LBRACK, NngParser::NAME,
           NngParser::INT, NngParser::FLOAT, NngParser::STRING, NngParser::KW_TRUE,
           NngParser::KW_FALSE, NngParser::KW_INF, NngParser::KW_NAN},
          "an expression");
    group({NngParser::PLUS, NngParser::MINUS, NngParser::STAR, NngParser::SLASH, NngParser::AT},
          "an operator");
    for (size_t t : types) {
      bool done = false;
      for (size_t c : covered)
        done = done || c == t;
      if (!done && t != antlr4::Token::EOF)
        parts.push_back(tokenName(t));
    }
    if (has(antlr4::Token::EOF))
      parts.push_back("end of file");
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i)
      out += (i == 0 ? "" : i + 1 == parts.size() ? " or " : ", ") + parts[i];
    return out.empty() ? "nothing" : out;
  }

  std::string found(antlr4::Token *t) const {
    if (t->getType() == antlr4::Token::EOF)
      return "end of file";
    return display(textOf(t));
  }

  std::string textOf(antlr4::Token *t) const {
    size_t start = t->getStartIndex(), stop = t->getStopIndex();
    if (start > stop || stop >= text_.size())
      return "";
    return text_.substr(start, stop - start + 1);
  }

private:
  std::string tokenName(size_t type) const {
    switch (type) {
    case antlr4::Token::EOF: return "end of file";
    case NngParser::NAME: return "a name";
    case NngParser::INT: return "an integer";
    case NngParser::FLOAT: return "a number";
    case NngParser::STRING: return "a string";
    default: return vocab_.getDisplayName(type);
    }
  }

  const antlr4::dfa::Vocabulary &vocab_;
  const std::string &text_;
};

// ANTLR's default recovery, with our messages and locations.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  ErrorStrategy(const Expectation &expect, ErrorCollector &errors)
      : expect_(expect), errors_(errors) {}

  // ANTLR gives up a loop of declarations or statements that meets a token that cannot
  // start one by skipping to what may follow the whole rule: for the file, its end, so
  // one stray token would hide every later error. Skip instead to the next token that
  // can start a declaration (at the top) or a statement (in a body), and go on.
  void sync(antlr4::Parser *p) override {
    try {
      antlr4::DefaultErrorStrategy::sync(p);
    } catch (const antlr4::InputMismatchException &e) {
      size_t rule = p->getContext()->getRuleIndex();
      antlr4::misc::IntervalSet resume;
      if (rule == NngParser::RuleFile)
        resume = tokenSet({NngParser::IMPORT, NngParser::CONST, NngParser::BLOCK,
                           NngParser::MODEL});
      else if (rule == NngParser::RuleModelDecl || rule == NngParser::RuleBlockDecl ||
               rule == NngParser::RuleStmt)
        resume = tokenSet({NngParser::INPUT, NngParser::PARAM, NngParser::BUFFER,
                           NngParser::REPEAT, NngParser::OUTPUT, NngParser::MINIMIZE,
                           NngParser::RETURN, NngParser::NAME, NngParser::RBRACE});
      else
        throw;
      reportError(p, e);
      resume.add(antlr4::Token::EOF);
      consumeUntil(p, resume);
    }
  }

protected:
  void reportNoViableAlternative(antlr4::Parser *p,
                                 const antlr4::NoViableAltException &e) override {
    report(p, e.getOffendingToken(), p->getExpectedTokens());
  }
  void reportInputMismatch(antlr4::Parser *p, const antlr4::InputMismatchException &e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportFailedPredicate(antlr4::Parser *p,
                             const antlr4::FailedPredicateException &e) override {
    report(p, e.getOffendingToken(), p->getExpectedTokens());
  }
  void reportUnwantedToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p))
      return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p));
  }
  void reportMissingToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p))
      return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p));
  }

private:
  static antlr4::misc::IntervalSet tokenSet(std::initializer_list<size_t> types) {
    antlr4::misc::IntervalSet s;
    for (size_t t : types)
      s.add(static_cast<ssize_t>(t));
    return s;
  }

  void report(antlr4::Parser *p, antlr4::Token *found, const antlr4::misc::IntervalSet &want) {
    // After one syntax error, the rest of its line is mostly the parser's recovery talking.
    if (errors_.isEcho(found->getStartIndex()) || found->getLine() == lastLine_)
      return;
    lastLine_ = found->getLine();
    size_t line = found->getLine(), col = found->getCharPositionInLine() + 1;
    // A missing ';' is reported where it belongs, just after the statement, rather than at
    // the next line's first token.
    antlr4::Token *prev = p->getTokenStream()->LT(-1);
    if (want.size() == 1 && want.contains(static_cast<size_t>(NngParser::SEMI)) && prev &&
        (found->getType() == antlr4::Token::EOF || found->getLine() > prev->getLine())) {
      line = prev->getLine();
      col = prev->getCharPositionInLine() + 1 + expect_.textOf(prev).size();
    }
    errors_.report(line, col, "expected " + expect_.expected(want) + ", found " +
                                  expect_.found(found));
  }

  const Expectation &expect_;
  ErrorCollector &errors_;
  size_t lastLine_ = 0;
};

// Parse tree -> AST. Only runs on trees without syntax errors; it still checks each child
// it follows, since a broken tree must not crash the front end.
class Builder {
public:
  Builder(const std::string &file, const Expectation &expect, ErrorCollector &errors)
      : file_(file), expect_(expect), errors_(errors) {}

  ast::File file(NngParser::FileContext *ctx) {
    ast::File out;
    out.path = file_;
    for (auto *item : ctx->item()) {
      if (auto *d = item->importDecl()) {
        out.imports.push_back(ast::Import{unquote(d->STRING()->getSymbol()), loc(d->start)});
      } else if (auto *d = item->constDecl()) {
        out.consts.push_back(ast::Const{text(d->NAME()), loc(d->NAME()), expr(d->expr())});
      } else if (auto *d = item->blockDecl()) {
        ast::Block b;
        auto names = d->NAME();
        b.name = text(names.at(0));
        b.loc = loc(names.at(0));
        for (size_t i = 1; i < names.size(); ++i)
          b.params.push_back(ref(names[i]));
        b.body = stmts(d->stmt());
        out.blocks.push_back(std::move(b));
      } else if (auto *d = item->modelDecl()) {
        out.models.push_back(ast::Model{text(d->NAME()), loc(d->NAME()), stmts(d->stmt())});
      }
    }
    return out;
  }

private:
  SourceLoc loc(antlr4::Token *t) const {
    return SourceLoc{file_, static_cast<int>(t->getLine()),
                     static_cast<int>(t->getCharPositionInLine()) + 1};
  }
  SourceLoc loc(antlr4::tree::TerminalNode *n) const { return loc(need(n)->getSymbol()); }
  std::string text(antlr4::tree::TerminalNode *n) const {
    return expect_.textOf(need(n)->getSymbol());
  }
  ast::NameRef ref(antlr4::tree::TerminalNode *n) const { return ast::NameRef{text(n), loc(n)}; }

  template <typename T> static T *need(T *p) {
    NNG_CHECK(p != nullptr, "incomplete parse tree without a syntax error");
    return p;
  }

  std::vector<ast::Stmt> stmts(const std::vector<NngParser::StmtContext *> &list) {
    std::vector<ast::Stmt> out;
    for (auto *s : list)
      out.push_back(stmt(s));
    return out;
  }

  ast::Stmt stmt(NngParser::StmtContext *ctx) {
    ast::Stmt s;
    s.loc = loc(ctx->start);
    if (auto *c = dynamic_cast<NngParser::InputStmtContext *>(ctx)) {
      s.kind = ast::StmtKind::Input;
      s.target = ref(c->NAME());
      s.type = type(c->type());
    } else if (auto *c = dynamic_cast<NngParser::ParamStmtContext *>(ctx)) {
      s.kind = c->BUFFER() ? ast::StmtKind::Buffer : ast::StmtKind::Param;
      s.target = ref(c->NAME());
      s.type = type(c->type());
      if (auto *init = c->initializer()) {
        ast::InitExpr ie;
        ie.kind = text(init->NAME());
        ie.loc = loc(init->NAME());
        for (auto *e : init->expr())
          ie.args.push_back(expr(e));
        s.init = std::move(ie);
      }
    } else if (auto *c = dynamic_cast<NngParser::AssignStmtContext *>(ctx)) {
      s.kind = ast::StmtKind::Assign;
      s.target = ref(c->NAME());
      if (c->type())
        s.type = type(c->type());
      s.value = expr(c->expr());
    } else if (auto *c = dynamic_cast<NngParser::RepeatStmtContext *>(ctx)) {
      s.kind = ast::StmtKind::Repeat;
      s.value = expr(c->expr());
      s.body = stmts(c->stmt());
    } else if (auto *c = dynamic_cast<NngParser::OutputStmtContext *>(ctx)) {
      s.kind = ast::StmtKind::Output;
      for (auto *n : c->NAME())
        s.outputs.push_back(ref(n));
    } else if (auto *c = dynamic_cast<NngParser::MinimizeStmtContext *>(ctx)) {
      s.kind = ast::StmtKind::Minimize;
      s.target = ref(c->NAME());
    } else if (auto *c = dynamic_cast<NngParser::ReturnStmtContext *>(ctx)) {
      s.kind = ast::StmtKind::Return;
      s.value = expr(c->expr());
    } else {
      NNG_CHECK(false, "unknown statement context");
    }
    return s;
  }

  ast::TypeExpr type(NngParser::TypeContext *ctx) {
    need(ctx);
    ast::TypeExpr t;
    t.dtype = text(ctx->NAME());
    t.loc = loc(ctx->NAME());
    for (auto *e : ctx->expr())
      t.dims.push_back(expr(e));
    return t;
  }

  static int precedence(antlr4::Token *op) {
    switch (op->getType()) {
    case NngParser::AT: return 3;
    case NngParser::STAR: case NngParser::SLASH: return 2;
    default: return 1;
    }
  }

  ast::ExprPtr expr(NngParser::ExprContext *ctx) {
    need(ctx);
    if (auto *c = dynamic_cast<NngParser::PrimaryExprContext *>(ctx))
      return primary(need(c->primary()), false, nullptr);
    if (auto *c = dynamic_cast<NngParser::NegExprContext *>(ctx)) {
      // -3 is the literal -3 (so the most negative integer can be written).
      if (auto *p = dynamic_cast<NngParser::PrimaryExprContext *>(need(c->expr())))
        if (auto *n = dynamic_cast<NngParser::NumberExprContext *>(need(p->primary())))
          return primary(n, true, c->start);
      auto e = std::make_unique<ast::Expr>();
      e->kind = ast::ExprKind::Neg;
      e->loc = loc(c->start);
      e->operands.push_back(expr(c->expr()));
      return e;
    }
    auto *c = dynamic_cast<NngParser::BinaryExprContext *>(ctx);
    NNG_CHECK(c != nullptr, "unknown expression context");
    // The tree of `a + b - c` leans left: walk down the chain of the same precedence
    // without recursion, then read it back left to right.
    int prec = precedence(need(c->op));
    std::vector<NngParser::BinaryExprContext *> chain;
    NngParser::ExprContext *cur = c;
    while (auto *b = dynamic_cast<NngParser::BinaryExprContext *>(cur)) {
      if (precedence(need(b->op)) != prec)
        break;
      chain.push_back(b);
      cur = need(b->expr(0));
    }
    auto e = std::make_unique<ast::Expr>();
    e->kind = ast::ExprKind::Binary;
    e->operands.push_back(expr(cur));
    e->loc = e->operands.front()->loc;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      e->ops.push_back(expect_.textOf((*it)->op).at(0));
      e->opLocs.push_back(loc((*it)->op));
      e->operands.push_back(expr((*it)->expr(1)));
    }
    return e;
  }

  ast::ExprPtr primary(NngParser::PrimaryContext *ctx, bool negative, antlr4::Token *minus) {
    auto e = std::make_unique<ast::Expr>();
    e->loc = loc(minus ? minus : ctx->start);
    if (auto *c = dynamic_cast<NngParser::ParenExprContext *>(ctx))
      return expr(c->expr());
    if (auto *c = dynamic_cast<NngParser::CallExprContext *>(ctx)) {
      e->kind = ast::ExprKind::Call;
      e->text = text(c->NAME());
      for (auto *a : c->arg()) {
        ast::Arg arg;
        if (a->NAME()) {
          arg.key = text(a->NAME());
          arg.loc = loc(a->NAME());
        }
        arg.value = expr(a->expr());
        if (arg.key.empty())
          arg.loc = arg.value->loc;
        e->args.push_back(std::move(arg));
      }
    } else if (auto *c = dynamic_cast<NngParser::NameExprContext *>(ctx)) {
      e->kind = ast::ExprKind::Name;
      e->text = text(c->NAME());
    } else if (auto *c = dynamic_cast<NngParser::NumberExprContext *>(ctx)) {
      number(c->start, negative, *e);
    } else if (auto *c = dynamic_cast<NngParser::StringExprContext *>(ctx)) {
      e->kind = ast::ExprKind::String;
      e->text = unquote(need(c->STRING())->getSymbol());
    } else if (auto *c = dynamic_cast<NngParser::BoolExprContext *>(ctx)) {
      e->kind = ast::ExprKind::Bool;
      e->boolValue = c->KW_TRUE() != nullptr;
    } else if (auto *c = dynamic_cast<NngParser::ListExprContext *>(ctx)) {
      e->kind = ast::ExprKind::List;
      for (auto *item : c->expr())
        e->operands.push_back(expr(item));
    } else {
      NNG_CHECK(false, "unknown primary context");
    }
    return e;
  }

  void number(antlr4::Token *t, bool negative, ast::Expr &e) {
    std::string err = numberValue(t->getType(), expect_.textOf(t), negative, e);
    if (!err.empty())
      errors_.report(t->getLine(), t->getCharPositionInLine() + 1, err);
  }

  std::string unquote(antlr4::Token *t) const { return unquoteText(expect_.textOf(t)); }

  FileName file_;
  const Expectation &expect_;
  ErrorCollector &errors_;
};

// ---------------------------------------------------------------------------------------
// The fast path: a hand-written lexer and recursive-descent parser for the same grammar
// (Nng.g4) that builds the AST directly. ANTLR's generic machinery (a heap token and a
// parse-tree context per rule, dynamic casts to walk it) costs about a microsecond per
// token, which a 100,000-node model pays a million times. The fast path accepts only
// input that is free of errors: at anything else (a stray byte, a syntax error, a literal
// out of range, a limit reached) it declines and the ANTLR path parses the file again, so
// every diagnostic still comes from the ANTLR path and reads exactly as before. Input the
// fast path accepts yields the AST the ANTLR path builds (tests compare the two).

// Thrown by the fast path to hand the input over to the ANTLR path.
struct Decline {};

struct Lexeme {
  size_t type;       // NngLexer's token types; antlr4::Token::EOF at the end
  uint32_t start;    // byte offsets into the text, `stop` inclusive as in ANTLR
  uint32_t stop;
  int line, col;     // col 1-based
};

bool isIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isIdentChar(unsigned char c) { return isIdentStart(c) || (c >= '0' && c <= '9'); }
bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// The lexer's keywords; a dotted name is never one.
size_t keywordType(const char *p, size_t n) {
  static const std::pair<const char *, size_t> kKeywords[] = {
      {"import", NngLexer::IMPORT}, {"const", NngLexer::CONST},     {"block", NngLexer::BLOCK},
      {"model", NngLexer::MODEL},   {"input", NngLexer::INPUT},     {"param", NngLexer::PARAM},
      {"buffer", NngLexer::BUFFER}, {"repeat", NngLexer::REPEAT},   {"output", NngLexer::OUTPUT},
      {"minimize", NngLexer::MINIMIZE}, {"return", NngLexer::RETURN},
      {"true", NngLexer::KW_TRUE},  {"false", NngLexer::KW_FALSE},  {"inf", NngLexer::KW_INF},
      {"nan", NngLexer::KW_NAN}};
  for (const auto &[word, type] : kKeywords)
    if (std::strlen(word) == n && std::memcmp(word, p, n) == 0)
      return type;
  return NngLexer::NAME;
}

// The tokens of `text` as NngLexer makes them (longest match, keywords before names), or
// Decline at anything the lexer would report, or when the token count or the nesting
// exceeds its limit.
std::vector<Lexeme> lexFast(const std::string &text) {
  std::vector<Lexeme> out;
  out.reserve(text.size() / 3 + 16);
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  const size_t n = text.size();
  size_t i = 0, lineStart = 0;
  int line = 1;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
    i = 3; // a byte order mark reads as spaces
  NestingBound nesting;
  auto push = [&](size_t type, size_t start, size_t end) {
    if (out.size() >= kMaxTokens || !nesting.next(type))
      throw Decline();
    out.push_back(Lexeme{type, static_cast<uint32_t>(start), static_cast<uint32_t>(end - 1),
                         line, static_cast<int>(start - lineStart) + 1});
  };
  while (i < n) {
    unsigned char c = s[i];
    size_t start = i;
    switch (c) {
    case '\n':
      ++line;
      lineStart = ++i;
      continue;
    case ' ': case '\t': case '\r': case '\f':
      ++i;
      continue;
    case '#':
      while (i < n && s[i] != '\n' && s[i] != '\r')
        ++i;
      continue;
    case '/':
      if (i + 1 < n && s[i + 1] == '/') {
        while (i < n && s[i] != '\n' && s[i] != '\r')
          ++i;
        continue;
      }
      push(NngLexer::SLASH, start, ++i);
      continue;
    case '(': push(NngLexer::LPAREN, start, ++i); continue;
    case ')': push(NngLexer::RPAREN, start, ++i); continue;
    case '[': push(NngLexer::LBRACK, start, ++i); continue;
    case ']': push(NngLexer::RBRACK, start, ++i); continue;
    case '{': push(NngLexer::LBRACE, start, ++i); continue;
    case '}': push(NngLexer::RBRACE, start, ++i); continue;
    case ',': push(NngLexer::COMMA, start, ++i); continue;
    case ';': push(NngLexer::SEMI, start, ++i); continue;
    case ':': push(NngLexer::COLON, start, ++i); continue;
    case '=': push(NngLexer::ASSIGN, start, ++i); continue;
    case '+': push(NngLexer::PLUS, start, ++i); continue;
    case '-': push(NngLexer::MINUS, start, ++i); continue;
    case '*': push(NngLexer::STAR, start, ++i); continue;
    case '@': push(NngLexer::AT, start, ++i); continue;
    case '"':
      for (++i;; ++i) {
        if (i >= n || s[i] == '\n' || s[i] == '\r')
          throw Decline(); // unterminated
        if (s[i] == '"')
          break;
        if (s[i] == '\\') {
          if (i + 1 >= n || s[i + 1] == '\n' || s[i + 1] == '\r')
            throw Decline();
          ++i;
        }
      }
      push(NngLexer::STRING, start, ++i);
      continue;
    default:
      break;
    }
    if (isIdentStart(c)) {
      bool dotted = false;
      for (++i; i < n && isIdentChar(s[i]); ++i) {
      }
      while (i + 1 < n && s[i] == '.' && isIdentStart(s[i + 1])) {
        dotted = true;
        for (i += 2; i < n && isIdentChar(s[i]); ++i) {
        }
      }
      push(dotted ? static_cast<size_t>(NngLexer::NAME)
                  : keywordType(text.data() + start, i - start),
           start, i);
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isDigit(s[i]))
        ++i;
      size_t type = NngLexer::INT;
      if (i + 1 < n && s[i] == '.' && isDigit(s[i + 1])) {
        type = NngLexer::FLOAT;
        for (i += 2; i < n && isDigit(s[i]); ++i) {
        }
      }
      // An exponent only when digits follow: `1e` is the integer 1 and the name e.
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
          ++j;
        if (j < n && isDigit(s[j])) {
          type = NngLexer::FLOAT;
          for (i = j; i < n && isDigit(s[i]); ++i) {
          }
        }
      }
      push(type, start, i);
      continue;
    }
    throw Decline(); // a character no token starts with
  }
  // EOF sits at the end of the text, as ANTLR's does.
  if (out.size() >= kMaxTokens)
    throw Decline();
  out.push_back(Lexeme{antlr4::Token::EOF, static_cast<uint32_t>(n), static_cast<uint32_t>(n - 1),
                       line, static_cast<int>(n - lineStart) + 1});
  return out;
}

// Recursive descent over the fast lexer's tokens, rule by rule as in Nng.g4, building
// what Builder builds from ANTLR's tree. Any unexpected token: Decline.
class FastParser {
public:
  FastParser(const std::string &file, const std::string &text, std::vector<Lexeme> tokens)
      : file_(file), text_(text), toks_(std::move(tokens)), semis_(toks_.size(), 0) {
    // Statements end with ';' (or a repeat's '}'), so the ';' directly inside a pair of
    // braces bound the statements of that body: reserving them spares a large model's
    // body its reallocations.
    std::vector<size_t> open;
    for (size_t i = 0; i < toks_.size(); ++i) {
      size_t type = toks_[i].type;
      if (type == NngLexer::LBRACE)
        open.push_back(i);
      else if (type == NngLexer::RBRACE && !open.empty())
        open.pop_back();
      else if (type == NngLexer::SEMI && !open.empty())
        ++semis_[open.back()];
    }
  }

  ast::File file() {
    ast::File out;
    out.path = file_;
    while (peek() != antlr4::Token::EOF) {
      switch (peek()) {
      case NngLexer::IMPORT: {
        SourceLoc at = loc(take());
        out.imports.push_back(ast::Import{unquoteText(text(expect(NngLexer::STRING))), at});
        expect(NngLexer::SEMI);
        break;
      }
      case NngLexer::CONST: {
        take();
        const Lexeme &name = expect(NngLexer::NAME);
        expect(NngLexer::ASSIGN);
        ast::ExprPtr value = expr();
        expect(NngLexer::SEMI);
        out.consts.push_back(ast::Const{text(name), loc(name), std::move(value)});
        break;
      }
      case NngLexer::BLOCK: {
        take();
        ast::Block b;
        const Lexeme &name = expect(NngLexer::NAME);
        b.name = text(name);
        b.loc = loc(name);
        expect(NngLexer::LPAREN);
        if (peek() == NngLexer::NAME) {
          b.params.push_back(ref(take()));
          while (accept(NngLexer::COMMA))
            b.params.push_back(ref(expect(NngLexer::NAME)));
        }
        expect(NngLexer::RPAREN);
        b.body = body();
        out.blocks.push_back(std::move(b));
        break;
      }
      case NngLexer::MODEL: {
        take();
        const Lexeme &name = expect(NngLexer::NAME);
        out.models.push_back(ast::Model{text(name), loc(name), body()});
        break;
      }
      default:
        throw Decline();
      }
    }
    return out;
  }

private:
  size_t peek(size_t ahead = 0) const {
    size_t k = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[k].type;
  }
  const Lexeme &take() {
    const Lexeme &t = toks_[pos_];
    if (t.type != antlr4::Token::EOF)
      ++pos_;
    return t;
  }
  const Lexeme &expect(size_t type) {
    if (peek() != type)
      throw Decline();
    return take();
  }
  bool accept(size_t type) {
    if (peek() != type)
      return false;
    take();
    return true;
  }

  SourceLoc loc(const Lexeme &t) const { return SourceLoc{file_, t.line, t.col}; }
  std::string text(const Lexeme &t) const { return text_.substr(t.start, t.stop - t.start + 1); }
  ast::NameRef ref(const Lexeme &t) const { return ast::NameRef{text(t), loc(t)}; }

  // '{' stmt* '}'
  std::vector<ast::Stmt> body() {
    size_t open = pos_;
    expect(NngLexer::LBRACE);
    std::vector<ast::Stmt> out;
    out.reserve(semis_[open]);
    while (!accept(NngLexer::RBRACE))
      out.push_back(stmt());
    return out;
  }

  ast::Stmt stmt() {
    ast::Stmt s;
    const Lexeme &first = take();
    s.loc = loc(first);
    switch (first.type) {
    case NngLexer::INPUT:
      s.kind = ast::StmtKind::Input;
      s.target = ref(expect(NngLexer::NAME));
      expect(NngLexer::COLON);
      s.type = type();
      break;
    case NngLexer::PARAM: case NngLexer::BUFFER:
      s.kind = first.type == NngLexer::BUFFER ? ast::StmtKind::Buffer : ast::StmtKind::Param;
      s.target = ref(expect(NngLexer::NAME));
      expect(NngLexer::COLON);
      s.type = type();
      if (accept(NngLexer::ASSIGN)) {
        ast::InitExpr ie;
        const Lexeme &kind = expect(NngLexer::NAME);
        ie.kind = text(kind);
        ie.loc = loc(kind);
        if (accept(NngLexer::LPAREN))
          ie.args = exprList(NngLexer::RPAREN);
        s.init = std::move(ie);
      }
      break;
    case NngLexer::NAME:
      s.kind = ast::StmtKind::Assign;
      s.target = ref(first);
      if (accept(NngLexer::COLON))
        s.type = type();
      expect(NngLexer::ASSIGN);
      s.value = expr();
      break;
    case NngLexer::REPEAT:
      s.kind = ast::StmtKind::Repeat;
      s.value = expr();
      s.body = body();
      return s; // no ';'
    case NngLexer::OUTPUT:
      s.kind = ast::StmtKind::Output;
      s.outputs.push_back(ref(expect(NngLexer::NAME)));
      while (accept(NngLexer::COMMA))
        s.outputs.push_back(ref(expect(NngLexer::NAME)));
      break;
    case NngLexer::MINIMIZE:
      s.kind = ast::StmtKind::Minimize;
      s.target = ref(expect(NngLexer::NAME));
      break;
    case NngLexer::RETURN:
      s.kind = ast::StmtKind::Return;
      s.value = expr();
      break;
    default:
      throw Decline();
    }
    expect(NngLexer::SEMI);
    return s;
  }

  // NAME '[' (expr (',' expr)*)? ']'
  ast::TypeExpr type() {
    ast::TypeExpr t;
    const Lexeme &name = expect(NngLexer::NAME);
    t.dtype = text(name);
    t.loc = loc(name);
    expect(NngLexer::LBRACK);
    t.dims = exprList(NngLexer::RBRACK);
    return t;
  }

  // (expr (',' expr)*)? close, the opening bracket already taken.
  std::vector<ast::ExprPtr> exprList(size_t close) {
    std::vector<ast::ExprPtr> out;
    if (accept(close))
      return out;
    out.push_back(expr());
    while (accept(NngLexer::COMMA))
      out.push_back(expr());
    expect(close);
    return out;
  }

  // Binary precedence of a token: + - 1, * / 2, @ 3; 0 for anything else.
  static int precedence(size_t type) {
    switch (type) {
    case NngLexer::PLUS: case NngLexer::MINUS: return 1;
    case NngLexer::STAR: case NngLexer::SLASH: return 2;
    case NngLexer::AT: return 3;
    default: return 0;
    }
  }

  // One level of left-associative operators, kept as a flat chain as Builder does; a
  // parenthesized operand stays one operand.
  ast::ExprPtr expr(int level = 1) {
    ast::ExprPtr first = level > 3 ? unary() : expr(level + 1);
    if (precedence(peek()) != level)
      return first;
    auto e = std::make_unique<ast::Expr>();
    e->kind = ast::ExprKind::Binary;
    e->loc = first->loc;
    e->operands.push_back(std::move(first));
    while (precedence(peek()) == level) {
      const Lexeme &op = take();
      e->ops.push_back(text_[op.start]);
      e->opLocs.push_back(loc(op));
      e->operands.push_back(level > 2 ? unary() : expr(level + 1));
    }
    return e;
  }

  static bool isNumberToken(size_t type) {
    return type == NngLexer::INT || type == NngLexer::FLOAT || type == NngLexer::KW_INF ||
           type == NngLexer::KW_NAN;
  }

  // Unary minus binds tighter than every binary operator; directly before a number
  // literal it is folded into the literal.
  ast::ExprPtr unary() {
    if (peek() != NngLexer::MINUS)
      return primary();
    const Lexeme &minus = take();
    if (isNumberToken(peek()))
      return number(take(), &minus);
    auto e = std::make_unique<ast::Expr>();
    e->kind = ast::ExprKind::Neg;
    e->loc = loc(minus);
    e->operands.push_back(unary());
    return e;
  }

  ast::ExprPtr number(const Lexeme &t, const Lexeme *minus) {
    auto e = std::make_unique<ast::Expr>();
    e->loc = loc(minus ? *minus : t);
    if (!numberValue(t.type, text(t), minus != nullptr, *e).empty())
      throw Decline();
    return e;
  }

  ast::ExprPtr primary() {
    const Lexeme &t = take();
    if (isNumberToken(t.type))
      return number(t, nullptr);
    if (t.type == NngLexer::LPAREN) {
      ast::ExprPtr inner = expr();
      expect(NngLexer::RPAREN);
      return inner;
    }
    auto e = std::make_unique<ast::Expr>();
    e->loc = loc(t);
    switch (t.type) {
    case NngLexer::NAME:
      e->text = text(t);
      if (!accept(NngLexer::LPAREN)) {
        e->kind = ast::ExprKind::Name;
        break;
      }
      e->kind = ast::ExprKind::Call;
      if (!accept(NngLexer::RPAREN)) {
        do
          e->args.push_back(arg());
        while (accept(NngLexer::COMMA));
        expect(NngLexer::RPAREN);
      }
      break;
    case NngLexer::STRING:
      e->kind = ast::ExprKind::String;
      e->text = unquoteText(text(t));
      break;
    case NngLexer::KW_TRUE: case NngLexer::KW_FALSE:
      e->kind = ast::ExprKind::Bool;
      e->boolValue = t.type == NngLexer::KW_TRUE;
      break;
    case NngLexer::LBRACK:
      e->kind = ast::ExprKind::List;
      e->operands = exprList(NngLexer::RBRACK);
      break;
    default:
      throw Decline();
    }
    return e;
  }

  // (NAME '=')? expr
  ast::Arg arg() {
    ast::Arg a;
    if (peek() == NngLexer::NAME && peek(1) == NngLexer::ASSIGN) {
      const Lexeme &key = take();
      take();
      a.key = text(key);
      a.loc = loc(key);
      a.value = expr();
    } else {
      a.value = expr();
      a.loc = a.value->loc;
    }
    return a;
  }

  FileName file_;
  const std::string &text_;
  std::vector<Lexeme> toks_;
  std::vector<uint32_t> semis_; // per '{' token: the ';' directly inside its body
  size_t pos_ = 0;
};

} // namespace

std::optional<ast::File> parseSourceFast(const std::string &file, const std::string &text) {
  if (text.size() > kMaxSourceBytes)
    return std::nullopt;
  try {
    return FastParser(file, text, lexFast(text)).file();
  } catch (const Decline &) {
    return std::nullopt;
  }
}

std::optional<ast::File> parseSource(const std::string &file, const std::string &text,
                                     DiagnosticSink &sink) {
  if (std::optional<ast::File> parsed = parseSourceFast(file, text)) {
    sink.addSource(file, text);
    return parsed;
  }
  return parseSourceWithAntlr(file, text, sink);
}

std::optional<ast::File> parseSourceWithAntlr(const std::string &file, const std::string &text,
                                              DiagnosticSink &sink) {
  sink.addSource(file, text);
  if (text.size() > kMaxSourceBytes) {
    sink.error(SourceLoc{file, 0, 0}, "file is too large (" + std::to_string(text.size()) +
                                          " bytes, limit " +
                                          std::to_string(kMaxSourceBytes >> 20) + " MiB)");
    return std::nullopt;
  }

  ByteStream input(file, text);
  NngLexer lexer(&input);
  lexer.removeErrorListeners();
  ErrorCollector errors(file, sink);
  lexer.addErrorListener(&errors);
  Expectation expect(lexer.getVocabulary(), text);

  auto run = [&]() -> std::optional<ast::File> {
    // Stage 1: lex, report lexical errors, bound the size and the nesting.
    std::vector<std::unique_ptr<antlr4::Token>> tokens;
    NestingBound nesting;
    size_t lastErrorEnd = std::numeric_limits<size_t>::max();
    bool afterError = false;
    for (;;) {
      std::unique_ptr<antlr4::Token> t = lexer.nextToken();
      size_t type = t->getType();
      if (type == NngLexer::ERROR_CHAR || type == NngLexer::UNTERMINATED_STRING) {
        // A run of stray bytes (binary input) is one error, not one per byte.
        if (t->getStartIndex() != lastErrorEnd) {
          std::string bad = expect.textOf(t.get());
          unsigned char c = static_cast<unsigned char>(bad.empty() ? 0 : bad[0]);
          std::string msg;
          if (type == NngLexer::UNTERMINATED_STRING)
            msg = "unterminated string";
          else if (c >= 0x20 && c < 0x7f)
            msg = "unexpected character " + display(bad);
          else
            msg = "unexpected byte " + display(bad).substr(1, 4);
          errors.report(t->getLine(), t->getCharPositionInLine() + 1, msg);
        }
        lastErrorEnd = t->getStopIndex() + 1;
        afterError = true;
        continue;
      }
      if (std::exchange(afterError, false))
        errors.markAfterLexicalError(t->getStartIndex());
      if (tokens.size() >= kMaxTokens) {
        errors.report(t->getLine(), t->getCharPositionInLine() + 1,
                      "file is too long (more than " + std::to_string(kMaxTokens) + " tokens)");
        return std::nullopt;
      }
      if (!nesting.next(type)) {
        errors.report(t->getLine(), t->getCharPositionInLine() + 1,
                      "expression nested too deeply (limit " + std::to_string(kMaxNesting) +
                          ")");
        return std::nullopt;
      }
      tokens.push_back(std::move(t));
      if (type == antlr4::Token::EOF)
        break;
    }

    // Stage 2: parse.
    antlr4::ListTokenSource source(std::move(tokens));
    antlr4::CommonTokenStream stream(&source);
    NngParser parser(&stream);
    parser.removeErrorListeners();
    parser.addErrorListener(&errors);
    parser.setErrorHandler(std::make_shared<ErrorStrategy>(expect, errors));
    NngParser::FileContext *tree = parser.file();
    if (errors.any())
      return std::nullopt;

    // Stage 3: build the AST.
    return Builder(file, expect, errors).file(tree);
  };

  std::optional<ast::File> out;
  try {
    out = run();
  } catch (const TooManyErrors &) {
  }
  bool failed = errors.any();
  errors.flush();
  if (failed)
    return std::nullopt;
  return out;
}

} // namespace nng::dsl

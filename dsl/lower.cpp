// AST -> Graph.
//
// Loading (Program::load): parse the main file, then each import depth first (paths
// relative to the importing file, cycles reported with the chain of files, a file reached
// twice loaded once), then register each file's consts (folded in source order), blocks
// (checked for shape: `return` last, no `input` inside) and models in one namespace.
//
// Lowering (lowerModel): run the model's statements in order with a Frame of bindings
// from source names to values. Each expression evaluates to a Val: a graph value, a
// number, a string, a bool, a bare name (an attribute like `act = relu`), a list, or
// Error. Error marks a value whose error was already reported, so statements that use it
// stay quiet instead of repeating it. Blocks are inlined with a new Frame whose names get
// the call site's prefix; `repeat` runs its body N times; sugar calls create parameters
// named after the statement's target (see "Names" in docs/language.md).
#include "dsl/lower.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/ops/registry.h"
#include "core/runtime/initializers.h"
#include "dsl/parser.h"

namespace nng::dsl {

namespace fs = std::filesystem;

namespace {

// One sugar parameter: what it accepts and whether it must be given.
struct SugarParam {
  const char *name;
  enum class Want { Tensor, Int, Float, Bool, String } want;
  bool required;
};

// A sugar call's parameters and the names (after its prefix) of the values it creates.
struct SugarSignature {
  std::vector<SugarParam> params;
  std::vector<std::string> created;
};

// Every layer sugar call, by name.
const std::map<std::string, SugarSignature> &sugarTable() {
  using W = SugarParam::Want;
  static const std::map<std::string, SugarSignature> table = {
      {"dense",
       {{{"x", W::Tensor, true}, {"units", W::Int, true}, {"bias", W::Bool, false},
         {"name", W::String, false}},
        {"weight", "bias"}}},
      {"conv2d",
       {{{"x", W::Tensor, true}, {"filters", W::Int, true}, {"kernel", W::Int, true},
         {"stride", W::Int, false}, {"pad", W::Int, false}, {"bias", W::Bool, false},
         {"name", W::String, false}},
        {"weight", "bias"}}},
      {"batch_norm",
       {{{"x", W::Tensor, true}, {"eps", W::Float, false}, {"momentum", W::Float, false},
         {"name", W::String, false}},
        {"gamma", "beta", "running_mean", "running_var"}}},
      {"layer_norm",
       {{{"x", W::Tensor, true}, {"eps", W::Float, false}, {"name", W::String, false}},
        {"gamma", "beta"}}},
      {"embedding",
       {{{"ids", W::Tensor, true}, {"vocab", W::Int, true}, {"dim", W::Int, true},
         {"name", W::String, false}},
        {"weight"}}},
  };
  return table;
}

} // namespace

const std::vector<std::string> &sugarNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto &kv : sugarTable())
      out.push_back(kv.first);
    return out;
  }();
  return names;
}

namespace {

// What an expression evaluates to.
struct Val {
  enum class Kind { Error, Tensor, Int, Float, Bool, String, Name, List };
  Kind kind = Kind::Error;
  ValueId id = kNone; // Tensor
  int64_t i = 0;      // Int
  double f = 0.0;     // Float
  bool b = false;     // Bool
  std::string s;      // String, Name
  std::vector<Val> list;
  SourceLoc loc; // where it was written (a Name's error points there)

  static Val error() { return Val{}; }
  static Val tensor(ValueId id, const SourceLoc &loc) {
    Val v;
    v.kind = Kind::Tensor;
    v.id = id;
    v.loc = loc;
    return v;
  }
  static Val ofInt(int64_t x, const SourceLoc &loc = {}) {
    Val v;
    v.kind = Kind::Int;
    v.i = x;
    v.loc = loc;
    return v;
  }
  static Val ofFloat(double x, const SourceLoc &loc = {}) {
    Val v;
    v.kind = Kind::Float;
    v.f = x;
    v.loc = loc;
    return v;
  }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double number() const { return kind == Kind::Int ? static_cast<double>(i) : f; }
};

std::string describe(const Val &v) {
  switch (v.kind) {
  case Val::Kind::Error: return "an invalid value";
  case Val::Kind::Tensor: return "a tensor";
  case Val::Kind::Int: return "the integer " + std::to_string(v.i);
  case Val::Kind::Float: return "the number " + formatDouble(v.f);
  case Val::Kind::Bool: return v.b ? "true" : "false";
  case Val::Kind::String: return "a string";
  case Val::Kind::Name: return "the name '" + v.s + "'";
  case Val::Kind::List: return "a list";
  }
  return "?";
}

std::string inQuotes(const std::string &s) { return "'" + s + "'"; }

std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates) {
  std::string near = closestMatch(name, candidates);
  return near.empty() ? "" : "; did you mean '" + near + "'?";
}

const char *opName(char op) {
  switch (op) {
  case '+': return "add";
  case '-': return "sub";
  case '*': return "mul";
  case '/': return "div";
  default: return "matmul";
  }
}

// `a op b` on two numbers. Integers stay integers (a division only when exact); overflow,
// division by zero and an infinite result are errors. Returns the error, or "".
std::string foldNumbers(char op, const Val &a, const Val &b, Val &out) {
  if (op == '@')
    return "'@' needs two tensors, got numbers";
  if (a.kind == Val::Kind::Int && b.kind == Val::Kind::Int) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
    case '+': overflow = __builtin_add_overflow(a.i, b.i, &r); break;
    case '-': overflow = __builtin_sub_overflow(a.i, b.i, &r); break;
    case '*': overflow = __builtin_mul_overflow(a.i, b.i, &r); break;
    default:
      if (b.i == 0)
        return "division by zero";
      if (a.i == std::numeric_limits<int64_t>::min() && b.i == -1)
        overflow = true;
      else if (a.i % b.i != 0) {
        out = Val::ofFloat(static_cast<double>(a.i) / static_cast<double>(b.i));
        return "";
      } else
        r = a.i / b.i;
    }
    if (overflow)
      return "integer overflow in constant expression";
    out = Val::ofInt(r);
    return "";
  }
  double x = a.number(), y = b.number(), r = 0.0;
  switch (op) {
  case '+': r = x + y; break;
  case '-': r = x - y; break;
  case '*': r = x * y; break;
  default:
    if (y == 0.0)
      return "division by zero";
    r = x / y;
  }
  if (std::isinf(r) && std::isfinite(x) && std::isfinite(y))
    return "number out of range in constant expression";
  out = Val::ofFloat(r);
  return "";
}

using NameLookup = std::function<std::optional<Val>(const std::string &)>;
using ErrorFn = std::function<void(const SourceLoc &, const std::string &)>;
using NameList = std::function<std::vector<std::string>()>;

// Folds a constant expression (numbers, names bound to numbers, unary minus, + - * /) to
// an Int or Float. nullopt after reporting an error (or quietly, for an Error binding).
std::optional<Val> foldConstant(const ast::Expr &e, const NameLookup &lookup,
                                const ErrorFn &error, const NameList &names) {
  switch (e.kind) {
  case ast::ExprKind::Number:
    return e.isInt ? Val::ofInt(e.intValue, e.loc) : Val::ofFloat(e.floatValue, e.loc);
  case ast::ExprKind::Name: {
    std::optional<Val> v = lookup(e.text);
    if (!v) {
      error(e.loc, "unknown name " + inQuotes(e.text) + didYouMean(e.text, names()));
      return std::nullopt;
    }
    if (v->kind == Val::Kind::Error)
      return std::nullopt;
    if (!v->isNumber()) {
      error(e.loc, "expected a number, but " + inQuotes(e.text) + " is " + describe(*v));
      return std::nullopt;
    }
    v->loc = e.loc;
    return v;
  }
  case ast::ExprKind::Neg: {
    auto v = foldConstant(*e.operands.at(0), lookup, error, names);
    if (!v)
      return std::nullopt;
    if (v->kind == Val::Kind::Int) {
      if (v->i == std::numeric_limits<int64_t>::min()) {
        error(e.loc, "integer overflow in constant expression");
        return std::nullopt;
      }
      return Val::ofInt(-v->i, e.loc);
    }
    return Val::ofFloat(-v->f, e.loc);
  }
  case ast::ExprKind::Binary: {
    auto acc = foldConstant(*e.operands.at(0), lookup, error, names);
    for (size_t k = 0; k < e.ops.size(); ++k) {
      auto rhs = foldConstant(*e.operands.at(k + 1), lookup, error, names);
      if (!acc || !rhs)
        return std::nullopt;
      Val out;
      std::string err = foldNumbers(e.ops[k], *acc, *rhs, out);
      if (!err.empty()) {
        error(e.opLocs.at(k), err);
        return std::nullopt;
      }
      acc = out;
    }
    if (acc)
      acc->loc = e.loc;
    return acc;
  }
  case ast::ExprKind::Call:
    error(e.loc, "expected a constant expression, found a call of " + inQuotes(e.text));
    return std::nullopt;
  case ast::ExprKind::String:
    error(e.loc, "expected a number, found a string");
    return std::nullopt;
  case ast::ExprKind::Bool:
    error(e.loc, "expected a number, found a boolean");
    return std::nullopt;
  case ast::ExprKind::List:
    error(e.loc, "expected a number, found a list");
    return std::nullopt;
  }
  return std::nullopt;
}

bool validPlainName(const std::string &name) { return name.find('.') == std::string::npos; }

const char *stmtKeyword(ast::StmtKind k) {
  switch (k) {
  case ast::StmtKind::Input: return "input";
  case ast::StmtKind::Param: return "param";
  case ast::StmtKind::Buffer: return "buffer";
  case ast::StmtKind::Assign: return "assignment";
  case ast::StmtKind::Repeat: return "repeat";
  case ast::StmtKind::Output: return "output";
  case ast::StmtKind::Minimize: return "minimize";
  case ast::StmtKind::Return: return "return";
  }
  return "?";
}

std::string weaklyCanonical(const fs::path &p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  if (ec)
    c = fs::absolute(p, ec).lexically_normal();
  return c.string();
}

// Thrown to end a model's lowering: the error limit was reached, or the model is too big.
struct Stop {};

} // namespace

// ---------------------------------------------------------------------------------------
// Program: files, imports, top-level definitions.

bool Program::stopped() const {
  return sink_->diagnostics().size() >= DiagnosticSink::kMaxErrors;
}

bool Program::load(const Source &src, DiagnosticSink &sink, const LowerLimits &limits) {
  sink_ = &sink;
  limits_ = limits;
  size_t before = sink.diagnostics().size();
  bool isStdin = src.fromStdin || src.path == "-";
  mainFile_ = isStdin ? "<stdin>" : src.path;
  std::string canonical = isStdin ? "<stdin>" : weaklyCanonical(src.path);
  started_.insert(canonical);
  std::vector<ImportFrame> stack;
  loadFile(mainFile_, canonical, src.text, stack, true);
  return sink.diagnostics().size() == before;
}

void Program::loadFile(const std::string &display, const std::string &canonical,
                       const std::string &text, std::vector<ImportFrame> &stack, bool isMain) {
  std::optional<ast::File> parsed = parseSource(display, text, *sink_);
  if (!parsed)
    return;
  files_.push_back(std::make_unique<ast::File>(std::move(*parsed)));
  const ast::File &file = *files_.back();

  stack.push_back(ImportFrame{canonical, display, {}});
  fs::path dir = display == "<stdin>" ? fs::path() : fs::path(display).parent_path();
  for (const ast::Import &imp : file.imports) {
    if (stopped())
      break;
    stack.back().importLoc = imp.loc;
    if (imp.path.empty()) {
      sink_->error(imp.loc, "import path is empty");
      continue;
    }
    fs::path p(imp.path);
    if (p.is_relative())
      p = dir / p;
    std::string shown = p.lexically_normal().string();
    std::string canon = weaklyCanonical(p);
    auto onStack = std::find_if(stack.begin(), stack.end(),
                                [&](const ImportFrame &f) { return f.canonical == canon; });
    if (onStack != stack.end()) {
      std::string chain;
      for (auto it = onStack; it != stack.end(); ++it)
        chain += it->display + " -> ";
      sink_->error(onStack->importLoc, "cycle in imports: " + chain + shown);
      continue;
    }
    if (started_.count(canon))
      continue; // reached twice (a diamond): loaded once
    if (stack.size() >= limits_.maxImportDepth) {
      sink_->error(imp.loc, "imports nested too deeply (limit " +
                                std::to_string(limits_.maxImportDepth) + ")");
      continue;
    }
    Source src;
    try {
      src = readSource(shown);
    } catch (const UserError &e) {
      sink_->error(imp.loc, e.what());
      continue;
    }
    started_.insert(canon);
    loadFile(shown, canon, src.text, stack, false);
  }
  stack.pop_back();
  registerFile(file, isMain);
}

bool Program::define(const std::string &name, const SourceLoc &loc, const char *what) {
  if (!validPlainName(name)) {
    sink_->error(loc, std::string("a ") + what + " name cannot contain '.': " + inQuotes(name));
    return false;
  }
  auto it = defined_.find(name);
  if (it != defined_.end()) {
    sink_->error(loc, inQuotes(name) + " is already defined at " + it->second.str());
    return false;
  }
  defined_[name] = loc;
  return true;
}

void Program::registerFile(const ast::File &file, bool isMain) {
  for (const ast::Const &c : file.consts) {
    if (stopped())
      return;
    auto v = foldConstant(
        *c.value,
        [&](const std::string &n) -> std::optional<Val> {
          const Const *k = findConst(n);
          if (!k)
            return std::nullopt;
          return k->isInt ? Val::ofInt(k->i) : Val::ofFloat(k->f);
        },
        [&](const SourceLoc &loc, const std::string &msg) { sink_->error(loc, msg); },
        [&] { return constNames(); });
    if (!define(c.name, c.loc, "const") || !v)
      continue;
    consts_[c.name] = Const{v->kind == Val::Kind::Int, v->i, v->f, c.loc};
  }
  for (const ast::Block &b : file.blocks) {
    if (stopped())
      return;
    if (!define(b.name, b.loc, "block"))
      continue;
    blocks_[b.name] = &b;
    checkBlock(b);
  }
  for (const ast::Model &m : file.models) {
    if (stopped())
      return;
    if (!define(m.name, m.loc, "model"))
      continue;
    allModels_.push_back(&m);
    if (isMain)
      mainModels_.push_back(&m);
  }
}

// A block's shape: parameters unique, `return` exactly once and last, and no statement
// that only makes sense in a model. A block that fails is not inlined anywhere.
void Program::checkBlock(const ast::Block &b) {
  size_t before = sink_->diagnostics().size();
  const auto &ops = opRegistry();
  const auto &sugar = sugarNames();
  if (ops.find(b.name) || std::find(sugar.begin(), sugar.end(), b.name) != sugar.end())
    sink_->error(b.loc, "block " + inQuotes(b.name) + " has the name of an operator");
  std::set<std::string> seen;
  for (const ast::NameRef &p : b.params) {
    if (!validPlainName(p.name))
      sink_->error(p.loc, "a block parameter name cannot contain '.': " + inQuotes(p.name));
    else if (!seen.insert(p.name).second)
      sink_->error(p.loc, "parameter " + inQuotes(p.name) + " is listed twice");
  }
  std::function<void(const std::vector<ast::Stmt> &, bool)> check =
      [&](const std::vector<ast::Stmt> &body, bool top) {
        for (size_t i = 0; i < body.size(); ++i) {
          const ast::Stmt &s = body[i];
          switch (s.kind) {
          case ast::StmtKind::Input: case ast::StmtKind::Output: case ast::StmtKind::Minimize:
            sink_->error(s.loc, std::string("'") + stmtKeyword(s.kind) +
                                    "' is only allowed in a model, not in a block");
            break;
          case ast::StmtKind::Return:
            if (!top || i + 1 != body.size())
              sink_->error(s.loc, "'return' must be the last statement of a block");
            break;
          case ast::StmtKind::Repeat:
            check(s.body, false);
            break;
          default:
            break;
          }
        }
      };
  check(b.body, true);
  if (b.body.empty() || b.body.back().kind != ast::StmtKind::Return)
    sink_->error(b.loc, "block " + inQuotes(b.name) + " must end with 'return'");
  if (sink_->diagnostics().size() != before)
    invalidBlocks_.insert(b.name);
}

const Program::Const *Program::findConst(const std::string &name) const {
  auto it = consts_.find(name);
  return it == consts_.end() ? nullptr : &it->second;
}

const ast::Block *Program::findBlock(const std::string &name) const {
  auto it = blocks_.find(name);
  return it == blocks_.end() ? nullptr : it->second;
}

bool Program::blockValid(const std::string &name) const { return !invalidBlocks_.count(name); }

std::vector<std::string> Program::constNames() const {
  std::vector<std::string> out;
  for (const auto &kv : consts_)
    out.push_back(kv.first);
  return out;
}

std::vector<std::string> Program::blockNames() const {
  std::vector<std::string> out;
  for (const auto &kv : blocks_)
    out.push_back(kv.first);
  return out;
}

const ast::Model *Program::findModel(const std::string &name) const {
  for (const ast::Model *m : allModels_)
    if (m->name == name)
      return m;
  return nullptr;
}

std::vector<std::string> Program::modelNames() const {
  std::vector<std::string> out;
  for (const ast::Model *m : allModels_)
    out.push_back(m->name);
  return out;
}

// ---------------------------------------------------------------------------------------
// Lowering one model.

namespace {

// An evaluated call argument.
struct EvArg {
  std::string key; // empty: positional
  SourceLoc loc;
  Val val;
};

class Lowerer {
public:
  Lowerer(const Program &prog, DiagnosticSink &sink, const LowerLimits &limits)
      : prog_(prog), sink_(sink), limits_(limits) {}

  std::optional<Graph> run(const ast::Model &model) {
    size_t before = sink_.diagnostics().size();
    g_.name = model.name;
    Frame top;
    // Hints, not bounds: a statement binds about one name and makes a few values (a dense
    // layer makes five); loops and blocks make more, and the graph then grows as usual.
    top.vars.reserve(model.body.size());
    g_.reserve(4 * model.body.size(), 3 * model.body.size());
    try {
      execBody(model.body, top);
    } catch (const Stop &) {
    }
    if (sink_.diagnostics().size() != before)
      return std::nullopt;
    std::vector<std::string> problems = verify(g_);
    for (const std::string &p : problems)
      sink_.error(model.loc, "internal error: the lowered graph does not verify: " + p);
    if (!problems.empty())
      return std::nullopt;
    return std::move(g_);
  }

private:
  struct CallNote {
    std::string note;
    std::shared_ptr<const CallNote> outer;
  };
  static std::vector<std::string> chainOf(const std::shared_ptr<const CallNote> &calls) {
    std::vector<std::string> out;
    for (const CallNote *c = calls.get(); c; c = c->outer.get())
      out.push_back(c->note);
    return out;
  }

  struct Frame {
    std::unordered_map<std::string, Val> vars;
    std::string prefix;                 // names created here are prefix.name
    // "in block 'b' called at f:l:c", innermost first; shared with the calling frames so a
    // call costs one note, and spelled out only for nodes and errors.
    std::shared_ptr<const CallNote> calls;
    bool inBlock = false;
    int repeatDepth = 0;
  };

  // The statement being lowered: its result is named `target`, and the first sugar or
  // block call inside it names its parameters after `target` too.
  struct StmtCtx {
    std::string target;
    bool targetFree = true;
  };

  // --- diagnostics

  void error(const SourceLoc &loc, const std::string &msg, const Frame &f) {
    sink_.error(loc, msg, chainOf(f.calls));
    if (sink_.diagnostics().size() >= DiagnosticSink::kMaxErrors)
      throw Stop();
  }

  std::vector<std::string> nameCandidates(const Frame &f) const {
    std::vector<std::string> out;
    for (const auto &kv : f.vars)
      out.push_back(kv.first);
    for (const std::string &c : prog_.constNames())
      out.push_back(c);
    // Sorted, so a tie between two suggestions is broken the same way everywhere.
    std::sort(out.begin(), out.end());
    return out;
  }

  void unknownName(const Val &v, const Frame &f) {
    error(v.loc, "unknown name " + inQuotes(v.s) + didYouMean(v.s, nameCandidates(f)), f);
  }

  // --- names

  std::string qualify(const Frame &f, const std::string &name) const {
    return f.prefix.empty() ? name : f.prefix + "." + name;
  }

  bool isReserved(const std::string &name) const {
    return std::find(reserved_.begin(), reserved_.end(), name) != reserved_.end();
  }

  bool isFree(const std::string &name) const {
    return g_.find(name) == kNone && !isReserved(name) && !prefixes_.count(name);
  }

  // `base`, or the first of base_1, base_2, ... that is free.
  std::string freshName(const std::string &base) {
    if (isFree(base))
      return base;
    int64_t &k = nextSuffix_[base];
    for (;;) {
      std::string cand = base + "_" + std::to_string(++k);
      if (isFree(cand))
        return cand;
    }
  }

  bool createdFree(const std::string &prefix, const std::vector<std::string> &created) const {
    for (const std::string &c : created) {
      std::string n = prefix + "." + c;
      if (g_.find(n) != kNone || isReserved(n))
        return false;
    }
    return true;
  }

  // The prefix for a sugar or block call's names: the statement's target the first time,
  // then target_1, target_2, ...; every name it will create (`created`) must be free.
  std::string takePrefix(StmtCtx &ctx, const std::vector<std::string> &created) {
    return uniquePrefix(ctx.target, std::exchange(ctx.targetFree, false), created);
  }

  std::string uniquePrefix(const std::string &base, bool baseAllowed,
                           const std::vector<std::string> &created) {
    // The base itself is free for the taking here: a statement's target was chosen fresh,
    // and a block's prefix is handed on to its `return` on purpose.
    std::string p = base;
    if (!baseAllowed || !createdFree(p, created)) {
      int64_t &k = nextSuffix_[base];
      do
        p = base + "_" + std::to_string(++k);
      while (!isFree(p) || !createdFree(p, created));
    }
    prefixes_.insert(p);
    return p;
  }

  // The name for an explicit declaration (input, param, buffer): an error when another
  // declaration has it; a suffixed name when the same declaration runs again (repeat).
  std::optional<std::string> declName(const std::string &full, const SourceLoc &loc,
                                      const Frame &f) {
    ValueId existing = g_.find(full);
    if (existing == kNone && isFree(full))
      return full;
    if (existing != kNone && g_.value(existing).loc.str() != loc.str()) {
      error(loc, inQuotes(full) + " is already defined at " + g_.value(existing).loc.str(), f);
      return std::nullopt;
    }
    return freshName(full);
  }

  // --- statements

  void execBody(const std::vector<ast::Stmt> &body, Frame &f) {
    for (const ast::Stmt &s : body)
      exec(s, f);
  }

  // Counts work that makes no nodes, so nested empty loops end too.
  void step(const SourceLoc &loc, const Frame &f) {
    if (++steps_ <= limits_.maxSteps)
      return;
    error(loc, "the model takes too long to unroll (more than " +
                   std::to_string(limits_.maxSteps) + " statements and repeat iterations)", f);
    throw Stop();
  }

  void exec(const ast::Stmt &s, Frame &f) {
    step(s.loc, f);
    switch (s.kind) {
    case ast::StmtKind::Input: return execInput(s, f);
    case ast::StmtKind::Param: case ast::StmtKind::Buffer: return execParam(s, f);
    case ast::StmtKind::Assign: return execAssign(s, f);
    case ast::StmtKind::Repeat: return execRepeat(s, f);
    case ast::StmtKind::Output: return execOutput(s, f);
    case ast::StmtKind::Minimize: return execMinimize(s, f);
    case ast::StmtKind::Return:
      // In a block, inlineBlock evaluates the return itself; Program checked its place.
      if (!f.inBlock)
        error(s.loc, "'return' is only allowed in a block", f);
      return;
    }
  }

  // Consts cannot be rebound: a shape that names one must mean the const.
  bool isConstName(const ast::NameRef &n, Frame &f) {
    const Program::Const *c = prog_.findConst(n.name);
    if (!c)
      return false;
    error(n.loc, inQuotes(n.name) + " is a const (defined at " + c->loc.str() +
                     ") and cannot be rebound", f);
    f.vars[n.name] = Val::error();
    return true;
  }

  void execInput(const ast::Stmt &s, Frame &f) {
    const std::string &name = s.target.name;
    if (isConstName(s.target, f))
      return;
    if (f.repeatDepth > 0) {
      error(s.loc, "'input' is not allowed inside 'repeat'", f);
      f.vars[name] = Val::error();
      return;
    }
    std::optional<TensorType> type = evalType(*s.type, f);
    bool free = isFree(name);
    if (!free) {
      ValueId existing = g_.find(name);
      error(s.target.loc, inQuotes(name) + " is already defined" +
                              (existing == kNone ? "" : " at " + g_.value(existing).loc.str()),
            f);
    }
    if (!type || !free) {
      f.vars[name] = Val::error();
      return;
    }
    f.vars[name] = Val::tensor(g_.addInput(name, *type, s.target.loc), s.target.loc);
  }

  void execParam(const ast::Stmt &s, Frame &f) {
    const std::string &name = s.target.name;
    if (isConstName(s.target, f))
      return;
    bool buffer = s.kind == ast::StmtKind::Buffer;
    std::optional<TensorType> type = evalType(*s.type, f);
    if (type) {
      for (const Dim &d : type->shape)
        if (d.isSymbolic()) {
          error(s.type->loc, std::string("the shape of a ") + (buffer ? "buffer" : "parameter") +
                                 " must be known, got " + type->str(), f);
          type.reset();
          break;
        }
    }
    std::optional<Initializer> init = s.init ? evalInit(*s.init, f) : Initializer{};
    std::optional<std::string> full = declName(qualify(f, name), s.target.loc, f);
    if (!type || !init || !full) {
      f.vars[name] = Val::error();
      return;
    }
    ValueId id = g_.addParam(*full, *type, *init, s.target.loc,
                             buffer ? ValueKind::Buffer : ValueKind::Param);
    f.vars[name] = Val::tensor(id, s.target.loc);
  }

  void execAssign(const ast::Stmt &s, Frame &f) {
    if (isConstName(s.target, f))
      return;
    std::string target = freshName(qualify(f, s.target.name));
    reserved_.push_back(target);
    StmtCtx ctx{target, true};
    auto firstNew = static_cast<ValueId>(g_.values().size());
    Val v = eval(*s.value, f, ctx);
    reserved_.pop_back();
    if (v.kind == Val::Kind::Name) {
      unknownName(v, f);
      v = Val::error();
    }
    if (v.kind == Val::Kind::Tensor) {
      // A value made by this statement takes its name; `y = x` only binds y to x.
      if (v.id >= firstNew && g_.value(v.id).kind == ValueKind::Node)
        g_.rename(v.id, target);
      if (s.type) {
        std::optional<TensorType> want = evalType(*s.type, f);
        if (want && *want != g_.typeOf(v.id))
          error(s.type->loc, "type annotation " + want->str() + " does not match inferred " +
                                 g_.typeOf(v.id).str(), f);
      }
    } else if (s.type && v.kind != Val::Kind::Error) {
      error(s.type->loc, "a type annotation needs a tensor, but the value is " + describe(v), f);
    }
    v.loc = s.target.loc;
    f.vars[s.target.name] = v;
  }

  void execRepeat(const ast::Stmt &s, Frame &f) {
    std::optional<Val> n = fold(*s.value, f);
    if (!n)
      return;
    if (n->kind != Val::Kind::Int) {
      error(s.value->loc, "the repeat count must be an integer, got " + describe(*n), f);
      return;
    }
    if (n->i < 0) {
      error(s.value->loc, "the repeat count must not be negative, got " + std::to_string(n->i),
            f);
      return;
    }
    if (n->i > limits_.maxRepeat) {
      error(s.value->loc, "repeat count " + std::to_string(n->i) + " is too large (limit " +
                              std::to_string(limits_.maxRepeat) + ")", f);
      return;
    }
    ++f.repeatDepth;
    for (int64_t i = 0; i < n->i; ++i) {
      step(s.loc, f);
      size_t before = sink_.diagnostics().size();
      execBody(s.body, f);
      // Later iterations would only repeat the same errors.
      if (sink_.diagnostics().size() != before)
        break;
    }
    --f.repeatDepth;
  }

  // A name that must stand for a tensor (output, minimize); nullopt after any error.
  std::optional<ValueId> tensorNamed(const ast::NameRef &n, Frame &f) {
    Val v = lookup(n.name, n.loc, f);
    if (v.kind == Val::Kind::Tensor)
      return v.id;
    if (v.kind == Val::Kind::Name)
      unknownName(v, f);
    else if (v.kind != Val::Kind::Error)
      error(n.loc, inQuotes(n.name) + " is " + describe(v) + ", not a tensor", f);
    return std::nullopt;
  }

  void execOutput(const ast::Stmt &s, Frame &f) {
    for (const ast::NameRef &n : s.outputs)
      if (auto id = tensorNamed(n, f))
        g_.markOutput(*id);
  }

  void execMinimize(const ast::Stmt &s, Frame &f) {
    std::optional<ValueId> id = tensorNamed(s.target, f);
    if (!id)
      return;
    if (lossLoc_.valid()) {
      error(s.loc, "the model already has an objective ('minimize' at " + lossLoc_.str() + ")",
            f);
      return;
    }
    const TensorType &t = g_.typeOf(*id);
    if (t.rank() != 0) {
      error(s.target.loc, "cannot minimize " + inQuotes(s.target.name) + ": it is not a scalar (" +
                              t.str() + ")", f);
      return;
    }
    lossLoc_ = s.loc;
    g_.setLoss(*id);
  }

  // --- types, initializers, constants

  std::optional<Val> fold(const ast::Expr &e, Frame &f) {
    return foldConstant(
        e,
        [&](const std::string &n) -> std::optional<Val> {
          Val v = lookup(n, e.loc, f);
          if (v.kind == Val::Kind::Name)
            return std::nullopt;
          return v;
        },
        [&](const SourceLoc &loc, const std::string &msg) { error(loc, msg, f); },
        [&] { return nameCandidates(f); });
  }

  std::optional<TensorType> evalType(const ast::TypeExpr &t, Frame &f) {
    std::optional<DType> dtype = parseDType(t.dtype);
    bool ok = true;
    if (!dtype) {
      std::vector<std::string> names;
      for (DType d : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I32, DType::I64,
                      DType::Bool})
        names.push_back(dtypeName(d));
      error(t.loc, "unknown dtype " + inQuotes(t.dtype) + didYouMean(t.dtype, names), f);
      ok = false;
    }
    Shape shape;
    for (const ast::ExprPtr &d : t.dims) {
      // A name that is not a number is a symbolic dimension (N, the batch).
      if (d->kind == ast::ExprKind::Name) {
        Val v = lookup(d->text, d->loc, f);
        if (!v.isNumber()) {
          if (!validPlainName(d->text)) {
            error(d->loc, inQuotes(d->text) + " cannot be a dimension", f);
            ok = false;
          }
          shape.push_back(Dim::sym(d->text));
          continue;
        }
      }
      std::optional<Val> v = fold(*d, f);
      if (!v) {
        ok = false;
      } else if (v->kind != Val::Kind::Int) {
        error(d->loc, "a dimension must be an integer, got " + describe(*v), f);
        ok = false;
      } else if (v->i < 0) {
        error(d->loc, "a dimension must not be negative, got " + std::to_string(v->i), f);
        ok = false;
      } else {
        shape.push_back(Dim(v->i));
      }
    }
    if (!ok)
      return std::nullopt;
    TensorType type{*dtype, shape};
    if (!type.knownElements()) {
      error(t.loc, "shape " + shapeStr(shape) + " has too many elements (limit 2^48)", f);
      return std::nullopt;
    }
    return type;
  }

  // The runtime's table of initializers is the truth for names and argument counts.
  std::optional<Initializer> evalInit(const ast::InitExpr &ie, Frame &f) {
    Initializer init;
    init.kind = ie.kind;
    bool ok = true;
    for (const ast::ExprPtr &a : ie.args) {
      std::optional<Val> v = fold(*a, f);
      if (!v)
        ok = false;
      else // kept as written, so the print reads back the same: normal(0, 1) stays so
        init.args.push_back(v->kind == Val::Kind::Int ? Attr::ofInt(v->i) : Attr::ofFloat(v->f));
    }
    try {
      validateInitializer(init, ie.loc);
    } catch (const UserError &e) {
      error(ie.loc, e.what(), f);
      return std::nullopt;
    }
    if (!ok)
      return std::nullopt;
    return init;
  }

  // --- expressions

  // A name in scope: a binding of this frame, a graph value under this frame's prefix
  // (`fc1.weight`, made by sugar), a const; otherwise a bare Name (an attribute value, or
  // an unknown name once something needs it as a value).
  Val lookup(const std::string &name, const SourceLoc &loc, const Frame &f) const {
    auto it = f.vars.find(name);
    if (it != f.vars.end()) {
      Val v = it->second;
      v.loc = loc;
      return v;
    }
    ValueId id = g_.find(qualify(f, name));
    if (id != kNone)
      return Val::tensor(id, loc);
    if (const Program::Const *c = prog_.findConst(name))
      return c->isInt ? Val::ofInt(c->i, loc) : Val::ofFloat(c->f, loc);
    Val v;
    v.kind = Val::Kind::Name;
    v.s = name;
    v.loc = loc;
    return v;
  }

  Val eval(const ast::Expr &e, Frame &f, StmtCtx &ctx) {
    switch (e.kind) {
    case ast::ExprKind::Number:
      return e.isInt ? Val::ofInt(e.intValue, e.loc) : Val::ofFloat(e.floatValue, e.loc);
    case ast::ExprKind::String: {
      Val v;
      v.kind = Val::Kind::String;
      v.s = e.text;
      v.loc = e.loc;
      return v;
    }
    case ast::ExprKind::Bool: {
      Val v;
      v.kind = Val::Kind::Bool;
      v.b = e.boolValue;
      v.loc = e.loc;
      return v;
    }
    case ast::ExprKind::Name:
      return lookup(e.text, e.loc, f);
    case ast::ExprKind::List: {
      Val v;
      v.kind = Val::Kind::List;
      v.loc = e.loc;
      for (const ast::ExprPtr &item : e.operands)
        v.list.push_back(eval(*item, f, ctx));
      return v;
    }
    case ast::ExprKind::Neg:
      return negate(eval(*e.operands.at(0), f, ctx), e.loc, f);
    case ast::ExprKind::Binary: {
      Val acc = eval(*e.operands.at(0), f, ctx);
      for (size_t k = 0; k < e.ops.size(); ++k) {
        Val rhs = eval(*e.operands.at(k + 1), f, ctx);
        acc = binary(e.ops[k], acc, rhs, e.opLocs.at(k), f);
      }
      return acc;
    }
    case ast::ExprKind::Call:
      return call(e, f, ctx);
    }
    return Val::error();
  }

  // Checks that `v` can be an operand; reports unknown names and non-tensors. `what`
  // ("operator '+'") is a callable: the message is built only for an error.
  template <typename What> bool operand(const Val &v, const What &what, const Frame &f) {
    switch (v.kind) {
    case Val::Kind::Error: return false;
    case Val::Kind::Name: unknownName(v, f); return false;
    case Val::Kind::Tensor: case Val::Kind::Int: case Val::Kind::Float: return true;
    default:
      error(v.loc, what() + " needs a number or a tensor, got " + describe(v), f);
      return false;
    }
  }

  Val negate(const Val &v, const SourceLoc &loc, const Frame &f) {
    if (!operand(v, [] { return std::string("unary '-'"); }, f))
      return Val::error();
    if (v.kind == Val::Kind::Tensor)
      return emitOp("neg", {v.id}, {}, loc, f);
    if (v.kind == Val::Kind::Float)
      return Val::ofFloat(-v.f, loc);
    if (v.i == std::numeric_limits<int64_t>::min()) {
      error(loc, "integer overflow in constant expression", f);
      return Val::error();
    }
    return Val::ofInt(-v.i, loc);
  }

  Val binary(char op, const Val &a, const Val &b, const SourceLoc &loc, const Frame &f) {
    auto what = [op] { return std::string("operator '") + op + "'"; };
    bool okA = operand(a, what, f), okB = operand(b, what, f);
    if (!okA || !okB)
      return Val::error();
    if (a.isNumber() && b.isNumber()) {
      Val out;
      std::string err = foldNumbers(op, a, b, out);
      if (!err.empty()) {
        error(loc, err, f);
        return Val::error();
      }
      out.loc = loc;
      return out;
    }
    if (op == '@' && (a.isNumber() || b.isNumber())) {
      error(loc, "'@' needs two tensors, got " + describe(a.isNumber() ? a : b), f);
      return Val::error();
    }
    ValueId x = a.kind == Val::Kind::Tensor ? a.id : kNone;
    ValueId y = b.kind == Val::Kind::Tensor ? b.id : kNone;
    if (x == kNone)
      x = literal(a, g_.typeOf(y).dtype, f);
    if (y == kNone)
      y = literal(b, g_.typeOf(x).dtype, f);
    if (x == kNone || y == kNone)
      return Val::error();
    return emitOp(opName(op), {x, y}, {}, loc, f);
  }

  // A scalar literal used with a tensor of `dtype`: a constant node of that dtype.
  ValueId literal(const Val &num, DType dtype, const Frame &f) {
    if (isInteger(dtype) && num.kind == Val::Kind::Float) {
      error(num.loc, "the number " + formatDouble(num.f) + " cannot be combined with an " +
                         dtypeName(dtype) + " tensor", f);
      return kNone;
    }
    AttrMap attrs{{"value", Attr::ofFloat(num.number())},
                  {"dtype", Attr::ofName(dtypeName(dtype))}};
    Val v = emitOp("constant", {}, std::move(attrs), num.loc, f);
    return v.kind == Val::Kind::Tensor ? v.id : kNone;
  }

  // Appends one node after inferring its type; reports the op's own message at `loc`.
  Val emitOp(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs, const SourceLoc &loc,
             const Frame &f) {
    const OpDef *def = opRegistry().find(op);
    if (!def) {
      error(loc, "unknown operator " + inQuotes(op), f);
      return Val::error();
    }
    // Random ops (dropout) get their own stream, numbered in source order, unless the
    // source names one: the mask then does not depend on where passes move the node.
    if (def->random && attrs.count("seed") == 0)
      attrs["seed"] = Attr::ofInt(randomStreams_++);
    // Assigning into the slots of the previous call reuses their shapes' storage.
    inTypes_.resize(inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k)
      inTypes_[k] = g_.typeOf(inputs[k]);
    TensorType out;
    try {
      out = inferType(*def, inTypes_, attrs);
    } catch (const std::exception &e) {
      error(loc, e.what(), f);
      return Val::error();
    }
    if (!out.knownElements()) {
      error(loc, op + ": the result " + out.str() + " has too many elements (limit 2^48)", f);
      return Val::error();
    }
    if (g_.nodes().size() >= limits_.maxNodes) {
      error(loc, "the model is too large (more than " + std::to_string(limits_.maxNodes) +
                     " nodes)", f);
      throw Stop();
    }
    ValueId id = g_.addNode(op, std::move(inputs), std::move(attrs), std::move(out), "", loc,
                            chainOf(f.calls));
    return Val::tensor(id, loc);
  }

  // --- calls

  std::vector<std::string> calleeCandidates() const {
    std::vector<std::string> out = opRegistry().names();
    for (const std::string &s : sugarNames())
      out.push_back(s);
    for (const std::string &b : prog_.blockNames())
      out.push_back(b);
    return out;
  }

  // Evaluates a call's arguments in order; nullopt after a misplaced or repeated keyword.
  std::optional<std::vector<EvArg>> evalArgs(const ast::Expr &e, Frame &f, StmtCtx &ctx) {
    std::vector<EvArg> out;
    out.reserve(e.args.size());
    bool ok = true, keywords = false;
    // Most calls have a handful of arguments: a scan finds a repeated keyword without
    // allocating; a set keeps a call with thousands of them linear-logarithmic.
    std::set<std::string> seen;
    auto seenBefore = [&](const ast::Arg &a) {
      if (e.args.size() > 8)
        return !seen.insert(a.key).second;
      for (const ast::Arg *b = e.args.data(); b != &a; ++b)
        if (b->key == a.key)
          return true;
      return false;
    };
    for (const ast::Arg &a : e.args) {
      if (a.key.empty() && keywords) {
        error(a.loc, "positional argument after keyword arguments", f);
        ok = false;
      } else if (!a.key.empty() && seenBefore(a)) {
        error(a.loc, "argument " + inQuotes(a.key) + " is given twice", f);
        ok = false;
      }
      keywords = keywords || !a.key.empty();
      out.push_back(EvArg{a.key, a.loc, eval(*a.value, f, ctx)});
    }
    if (!ok)
      return std::nullopt;
    return out;
  }

  // Whether an argument is a number, decided without evaluating it (sugar is chosen
  // before its arguments run, so it can take the statement's name first).
  bool isNumberExpr(const ast::Expr &e, const Frame &f) const {
    switch (e.kind) {
    case ast::ExprKind::Number: return true;
    case ast::ExprKind::Name: return lookup(e.text, e.loc, f).isNumber();
    case ast::ExprKind::Neg: return isNumberExpr(*e.operands.at(0), f);
    case ast::ExprKind::Binary:
      return std::all_of(e.operands.begin(), e.operands.end(),
                         [&](const ast::ExprPtr &o) { return isNumberExpr(*o, f); });
    default: return false;
    }
  }

  bool isSugarCall(const ast::Expr &e, const Frame &f) const {
    const std::string &c = e.text;
    if (c == "dense")
      return true;
    if (c != "conv2d" && c != "batch_norm" && c != "layer_norm" && c != "embedding")
      return false;
    std::vector<const ast::Expr *> pos;
    for (const ast::Arg &a : e.args)
      if (a.key.empty())
        pos.push_back(a.value.get());
    if (c == "conv2d")
      return pos.size() >= 2 && isNumberExpr(*pos[1], f);
    if (c == "batch_norm" || c == "layer_norm")
      return pos.size() == 1;
    if (c == "embedding")
      return pos.size() >= 3 && isNumberExpr(*pos[1], f) && isNumberExpr(*pos[2], f);
    return false;
  }

  Val call(const ast::Expr &e, Frame &f, StmtCtx &ctx) {
    if (const ast::Block *b = prog_.findBlock(e.text))
      return inlineBlock(*b, e, f, ctx);
    if (isSugarCall(e, f))
      return sugar(e, f, ctx);
    if (const OpDef *def = opRegistry().find(e.text))
      return primitive(*def, e, f, ctx);
    error(e.loc, "unknown operator " + inQuotes(e.text) + didYouMean(e.text, calleeCandidates()),
          f);
    return Val::error();
  }

  // `what` ("conv2d: attribute 'stride'") is a callable, called only for an error.
  template <typename What>
  std::optional<Attr> toAttr(const Val &v, const What &what, const Frame &f) {
    switch (v.kind) {
    case Val::Kind::Error: return std::nullopt;
    case Val::Kind::Int: return Attr::ofInt(v.i);
    case Val::Kind::Float: return Attr::ofFloat(v.f);
    case Val::Kind::Bool: return Attr::ofBool(v.b);
    case Val::Kind::String: return Attr::ofString(v.s);
    case Val::Kind::Name: return Attr::ofName(v.s);
    case Val::Kind::List: {
      std::vector<Attr> items;
      for (const Val &item : v.list) {
        std::optional<Attr> a = toAttr(item, what, f);
        if (!a)
          return std::nullopt;
        items.push_back(*a);
      }
      return Attr::ofList(std::move(items));
    }
    case Val::Kind::Tensor:
      error(v.loc, what() + " must be a constant, got a tensor", f);
      return std::nullopt;
    }
    return std::nullopt;
  }

  // A primitive op: positional arguments fill the inputs, then the attributes in the
  // registry's order (`cast(x, f16)`); keywords name attributes. A number given as an
  // input becomes a constant node of the tensor inputs' dtype.
  Val primitive(const OpDef &def, const ast::Expr &e, Frame &f, StmtCtx &ctx) {
    std::optional<std::vector<EvArg>> args = evalArgs(e, f, ctx);
    if (!args)
      return Val::error();
    std::vector<const EvArg *> inputs;
    AttrMap attrs;
    bool ok = true;
    size_t nPositional = 0;
    for (const EvArg &a : *args) {
      if (!a.key.empty())
        continue;
      size_t k = nPositional++;
      if (def.variadic || k < def.inputs.size()) {
        inputs.push_back(&a);
        continue;
      }
      size_t attrIndex = k - def.inputs.size();
      if (attrIndex >= def.attrs.size()) {
        error(a.loc, def.name + ": too many arguments (takes " +
                         std::to_string(def.inputs.size()) + " input" +
                         (def.inputs.size() == 1 ? "" : "s") + " and " +
                         std::to_string(def.attrs.size()) + " attribute" +
                         (def.attrs.size() == 1 ? "" : "s") + ")", f);
        ok = false;
        continue;
      }
      const std::string &name = def.attrs[attrIndex].name;
      for (const EvArg &other : *args)
        if (other.key == name) {
          error(other.loc, def.name + ": attribute " + inQuotes(name) + " is given twice", f);
          ok = false;
        }
      auto what = [&] { return def.name + ": attribute " + inQuotes(name); };
      if (auto attr = toAttr(a.val, what, f))
        attrs[name] = std::move(*attr);
      else
        ok = false;
    }
    for (const EvArg &a : *args) {
      if (a.key.empty())
        continue;
      auto what = [&] { return def.name + ": attribute " + inQuotes(a.key); };
      if (auto attr = toAttr(a.val, what, f))
        attrs[a.key] = std::move(*attr);
      else
        ok = false;
    }
    // Literal inputs take the dtype of the first tensor input.
    std::optional<DType> dtype;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const Val &v = inputs[k]->val;
      if (v.kind == Val::Kind::Tensor) {
        if (!dtype)
          dtype = g_.typeOf(v.id).dtype;
      } else if (v.kind == Val::Kind::Name) {
        unknownName(v, f);
        ok = false;
      } else if (!v.isNumber()) {
        if (v.kind != Val::Kind::Error)
          error(v.loc, def.name + ": input " +
                           inQuotes(k < def.inputs.size() ? def.inputs[k] : def.inputs.back()) +
                           " must be a tensor, got " + describe(v), f);
        ok = false;
      }
    }
    if (!ok)
      return Val::error();
    std::vector<ValueId> ids;
    ids.reserve(inputs.size());
    for (const EvArg *a : inputs) {
      ValueId id = a->val.kind == Val::Kind::Tensor
                       ? a->val.id
                       : literal(a->val, dtype.value_or(DType::F32), f);
      if (id == kNone)
        return Val::error();
      ids.push_back(id);
    }
    return emitOp(def.name, std::move(ids), std::move(attrs), e.loc, f);
  }

  // --- blocks

  Val inlineBlock(const ast::Block &b, const ast::Expr &e, Frame &f, StmtCtx &ctx) {
    // Blocks calling blocks twice grow exponentially; bound the calls themselves.
    if (++blockCalls_ > limits_.maxBlockCalls) {
      error(e.loc, "too many block calls (more than " + std::to_string(limits_.maxBlockCalls) +
                       ")", f);
      throw Stop();
    }
    if (!prog_.blockValid(b.name))
      return Val::error(); // its errors were reported where it is defined
    auto active = std::find(active_.begin(), active_.end(), b.name);
    if (active != active_.end()) {
      std::string chain;
      for (auto it = active; it != active_.end(); ++it)
        chain += *it + " -> ";
      error(e.loc, "recursive call of block " + inQuotes(b.name) + " (" + chain + b.name + ")", f);
      return Val::error();
    }
    if (active_.size() >= limits_.maxBlockDepth) {
      error(e.loc, "block calls nested too deeply (limit " +
                       std::to_string(limits_.maxBlockDepth) + ")", f);
      return Val::error();
    }
    std::string prefix = takePrefix(ctx, {});
    std::optional<std::vector<EvArg>> args = evalArgs(e, f, ctx);
    if (!args)
      return Val::error();

    Frame inner;
    inner.inBlock = true;
    inner.prefix = prefix;
    inner.calls = std::make_shared<const CallNote>(
        CallNote{"in block " + inQuotes(b.name) + " called at " + e.loc.str(), f.calls});
    std::vector<std::string> params;
    for (const ast::NameRef &p : b.params)
      params.push_back(p.name);
    bool ok = true;
    size_t nPositional = 0;
    for (const EvArg &a : *args) {
      std::string name;
      if (a.key.empty()) {
        if (nPositional >= params.size()) {
          error(a.loc, "block " + inQuotes(b.name) + " takes " + std::to_string(params.size()) +
                           " argument" + (params.size() == 1 ? "" : "s") + ", got more", f);
          ok = false;
          continue;
        }
        name = params[nPositional++];
      } else {
        name = a.key;
        if (std::find(params.begin(), params.end(), name) == params.end()) {
          error(a.loc, "block " + inQuotes(b.name) + " has no parameter " + inQuotes(name) +
                           didYouMean(name, params), f);
          ok = false;
          continue;
        }
        if (inner.vars.count(name)) {
          error(a.loc, "argument " + inQuotes(name) + " is given twice", f);
          ok = false;
          continue;
        }
      }
      if (a.val.kind == Val::Kind::Error)
        ok = false;
      inner.vars[name] = a.val;
    }
    for (const std::string &p : params)
      if (ok && !inner.vars.count(p)) {
        error(e.loc, "block " + inQuotes(b.name) + ": missing argument " + inQuotes(p), f);
        ok = false;
      }
    if (!ok)
      return Val::error();

    active_.push_back(b.name);
    for (size_t i = 0; i + 1 < b.body.size(); ++i)
      exec(b.body[i], inner);
    StmtCtx returnCtx{prefix, true};
    Val result = eval(*b.body.back().value, inner, returnCtx);
    active_.pop_back();
    if (result.kind == Val::Kind::Name) {
      unknownName(result, inner);
      return Val::error();
    }
    return result;
  }

  // --- layer sugar

  // Binds sugar arguments by position, then by keyword, checking each one's kind.
  bool bindSugar(const std::string &callee, const std::vector<EvArg> &args,
                 const std::vector<SugarParam> &params, std::map<std::string, Val> &out,
                 const Frame &f, const SourceLoc &loc) {
    bool ok = true;
    size_t nPositional = 0;
    auto names = [&] {
      std::vector<std::string> out;
      for (const SugarParam &p : params)
        out.push_back(p.name);
      return out;
    };
    for (const EvArg &a : args) {
      const SugarParam *p = nullptr;
      if (a.key.empty()) {
        if (nPositional >= params.size()) {
          error(a.loc, callee + ": too many arguments", f);
          ok = false;
          continue;
        }
        p = &params[nPositional++];
      } else {
        for (const SugarParam &q : params)
          if (a.key == q.name)
            p = &q;
        if (!p) {
          error(a.loc, callee + ": unknown argument " + inQuotes(a.key) +
                           didYouMean(a.key, names()), f);
          ok = false;
          continue;
        }
        if (out.count(p->name)) {
          error(a.loc, callee + ": argument " + inQuotes(p->name) + " is given twice", f);
          ok = false;
          continue;
        }
      }
      const Val &v = a.val;
      bool fits = false;
      const char *want = "";
      switch (p->want) {
      case SugarParam::Want::Tensor: fits = v.kind == Val::Kind::Tensor; want = "a tensor"; break;
      case SugarParam::Want::Int: fits = v.kind == Val::Kind::Int; want = "an integer"; break;
      case SugarParam::Want::Float: fits = v.isNumber(); want = "a number"; break;
      case SugarParam::Want::Bool: fits = v.kind == Val::Kind::Bool; want = "true or false"; break;
      case SugarParam::Want::String: fits = v.kind == Val::Kind::String; want = "a string"; break;
      }
      if (!fits) {
        if (v.kind == Val::Kind::Name)
          unknownName(v, f);
        else if (v.kind != Val::Kind::Error)
          error(a.loc, callee + ": argument " + inQuotes(p->name) + " must be " + want + ", got " +
                           describe(v), f);
        ok = false;
        continue;
      }
      out[p->name] = v;
    }
    for (const SugarParam &p : params)
      if (ok && p.required && !out.count(p.name)) {
        error(loc, callee + ": missing argument " + inQuotes(p.name), f);
        ok = false;
      }
    return ok;
  }

  // The known extent of `x`'s dimension `axis` (negative counts from the end) into `out`;
  // false after reporting a rank that is too small or a symbolic dimension.
  bool knownDim(const std::string &callee, ValueId x, int64_t axis, const char *what,
                size_t minRank, const SourceLoc &loc, const Frame &f, int64_t &out) {
    const TensorType &t = g_.typeOf(x);
    if (t.rank() < minRank) {
      error(loc, callee + ": the input must have at least " + std::to_string(minRank) +
                     " dimension" + (minRank == 1 ? "" : "s") + ", got " + t.str(), f);
      return false;
    }
    const Dim &d = t.shape[static_cast<size_t>(axis < 0 ? static_cast<int64_t>(t.rank()) + axis
                                                        : axis)];
    if (d.isSymbolic()) {
      error(loc, callee + ": the " + what + " dimension of the input must be known, got " +
                     t.str(), f);
      return false;
    }
    out = d.value;
    return true;
  }

  ValueId sugarParam(const std::string &name, DType dtype, Shape shape, const char *init,
                     std::vector<Attr> initArgs, const SourceLoc &loc,
                     ValueKind kind = ValueKind::Param) {
    return g_.addParam(name, TensorType{dtype, std::move(shape)}, Initializer{init, initArgs}, loc,
                       kind);
  }

  bool positive(const std::string &callee, const char *what, int64_t v, const SourceLoc &loc,
                const Frame &f) {
    if (v > 0)
      return true;
    error(loc, callee + ": " + what + " must be positive, got " + std::to_string(v), f);
    return false;
  }

  // Params of a sugar call must fit in memory's limits like any declared shape.
  bool shapeFits(const std::string &callee, const Shape &s, const SourceLoc &loc,
                 const Frame &f) {
    if (TensorType{DType::F32, s}.knownElements())
      return true;
    error(loc, callee + ": parameter shape " + shapeStr(s) + " has too many elements (limit 2^48)",
          f);
    return false;
  }

  Val sugar(const ast::Expr &e, Frame &f, StmtCtx &ctx) {
    const std::string &c = e.text;
    const SugarSignature &sig = sugarTable().at(c);
    const std::vector<SugarParam> &params = sig.params;
    const std::vector<std::string> &created = sig.created;
    // The statement's name goes to the outermost sugar call, so take it before the
    // arguments run (unless `name = "..."` picks the prefix).
    bool explicitName = std::any_of(e.args.begin(), e.args.end(),
                                    [](const ast::Arg &a) { return a.key == "name"; });
    std::string prefix = explicitName ? "" : takePrefix(ctx, created);
    std::optional<std::vector<EvArg>> args = evalArgs(e, f, ctx);
    std::map<std::string, Val> a;
    if (!args || !bindSugar(c, *args, params, a, f, e.loc))
      return Val::error();
    if (explicitName)
      prefix = uniquePrefix(qualify(f, a["name"].s), true, created);

    const SourceLoc &loc = e.loc;
    ValueId x = a.count("x") ? a["x"].id : a["ids"].id;
    DType dt = g_.typeOf(x).dtype;
    auto floatOnly = [&]() {
      if (isFloat(dt))
        return true;
      error(loc, c + ": the input must be a float tensor, got " + g_.typeOf(x).str(), f);
      return false;
    };
    auto boolArg = [&](const char *k, bool dflt) { return a.count(k) ? a[k].b : dflt; };

    if (c == "dense") {
      int64_t in = 0, units = a["units"].i;
      if (!floatOnly() || !knownDim(c, x, -1, "last", 1, loc, f, in) ||
          !positive(c, "units", units, loc, f) || !shapeFits(c, {in, units}, loc, f))
        return Val::error();
      ValueId w = sugarParam(prefix + ".weight", dt, {in, units}, "he_normal", {}, loc);
      ValueId bias = kNone;
      if (boolArg("bias", true))
        bias = sugarParam(prefix + ".bias", dt, {units}, "zeros", {}, loc);
      Val y = emitOp("matmul", {x, w}, {}, loc, f);
      if (bias == kNone || y.kind != Val::Kind::Tensor)
        return y;
      return emitOp("add", {y.id, bias}, {}, loc, f);
    }
    if (c == "conv2d") {
      int64_t channels = 0, filters = a["filters"].i, kernel = a["kernel"].i;
      if (!floatOnly() || !knownDim(c, x, 1, "channel", 4, loc, f, channels) ||
          !positive(c, "filters", filters, loc, f) || !positive(c, "kernel", kernel, loc, f) ||
          !shapeFits(c, {filters, channels, kernel, kernel}, loc, f))
        return Val::error();
      ValueId w = sugarParam(prefix + ".weight", dt, {filters, channels, kernel, kernel},
                             "he_normal", {}, loc);
      ValueId bias = kNone;
      if (boolArg("bias", true))
        bias = sugarParam(prefix + ".bias", dt, {filters, 1, 1}, "zeros", {}, loc);
      AttrMap attrs;
      for (const char *k : {"stride", "pad"})
        if (a.count(k))
          attrs[k] = Attr::ofInt(a[k].i);
      Val y = emitOp("conv2d", {x, w}, attrs, loc, f);
      if (bias == kNone || y.kind != Val::Kind::Tensor)
        return y;
      return emitOp("add", {y.id, bias}, {}, loc, f);
    }
    if (c == "batch_norm" || c == "layer_norm") {
      bool bn = c == "batch_norm";
      int64_t n = 0;
      if (!floatOnly() ||
          !knownDim(c, x, bn ? 1 : -1, bn ? "channel" : "last", bn ? 2 : 1, loc, f, n))
        return Val::error();
      std::vector<ValueId> ins{x};
      ins.push_back(sugarParam(prefix + ".gamma", dt, {n}, "ones", {}, loc));
      ins.push_back(sugarParam(prefix + ".beta", dt, {n}, "zeros", {}, loc));
      if (bn) {
        ins.push_back(sugarParam(prefix + ".running_mean", dt, {n}, "zeros", {}, loc,
                                 ValueKind::Buffer));
        ins.push_back(sugarParam(prefix + ".running_var", dt, {n}, "ones", {}, loc,
                                 ValueKind::Buffer));
      }
      AttrMap attrs;
      for (const char *k : {"eps", "momentum"})
        if (a.count(k))
          attrs[k] = Attr::ofFloat(a[k].number());
      return emitOp(c, ins, attrs, loc, f);
    }
    // embedding
    int64_t vocab = a["vocab"].i, dim = a["dim"].i;
    if (!positive(c, "vocab", vocab, loc, f) || !positive(c, "dim", dim, loc, f) ||
        !shapeFits(c, {vocab, dim}, loc, f))
      return Val::error();
    ValueId w = sugarParam(prefix + ".weight", DType::F32, {vocab, dim}, "normal",
                           {Attr::ofFloat(0.0), Attr::ofFloat(1.0)}, loc);
    return emitOp("embedding", {x, w}, {}, loc, f);
  }

  const Program &prog_;
  DiagnosticSink &sink_;
  LowerLimits limits_;
  Graph g_;
  std::vector<TensorType> inTypes_;                 // emitOp's input types, kept from call to call
  // Targets of the statements being lowered, innermost last: one, or a few in blocks.
  std::vector<std::string> reserved_;
  std::unordered_set<std::string> prefixes_;        // taken by sugar and block calls
  std::unordered_map<std::string, int64_t> nextSuffix_; // last suffix tried per base name
  std::vector<std::string> active_;                 // blocks being inlined, outermost first
  int64_t steps_ = 0;
  size_t blockCalls_ = 0;
  int64_t randomStreams_ = 0; // seeds handed to random ops so far
  SourceLoc lossLoc_;
};

} // namespace

std::optional<Graph> lowerModel(const Program &program, const ast::Model &model,
                                DiagnosticSink &sink, const LowerLimits &limits) {
  return Lowerer(program, sink, limits).run(model);
}

} // namespace nng::dsl

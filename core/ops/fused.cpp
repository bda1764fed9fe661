// Fused ops: what the fuse pass produces, also writable by hand. Each has the same
// shape rule as the chain of primitive ops it replaces, so fusing never changes a
// type: fused_dense is matmul + bias add + activation, fused_conv2d is conv2d + bias
// add + activation, softmax_cross_entropy is cross_entropy in one kernel that keeps
// the probabilities for the backward pass, and fused_elementwise is a chain of
// elementwise ops over broadcast inputs.
#include "core/ops/fused.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

const std::vector<std::string> kActivations = {"none", "relu", "gelu", "sigmoid", "tanh"};

void checkActivation(const std::string &op, const std::string &act) {
  for (const std::string &a : kActivations)
    if (a == act)
      return;
  std::string msg = op + ": act must be one of none, relu, gelu, sigmoid, tanh; got '" + act + "'";
  std::string near = closestMatch(act, kActivations);
  if (!near.empty())
    msg += "; did you mean '" + near + "'?";
  throw TypeError(msg);
}

// x [.., K] @ w [K, M] + b [M], then act.
TensorType fusedDenseType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  const TensorType &w = c.inputs[1];
  const TensorType &b = c.inputs[2];
  rules::requireRank("fused_dense", w, 2, "weight w ([K, M])");
  TensorType out = rules::matmulType("fused_dense", x, w);
  TensorType wantBias{w.dtype, {w.shape[1]}};
  if (b != wantBias)
    throw TypeError("fused_dense: bias b must be " + wantBias.str() +
                    " (one value per output column of " + w.str() + "), got " + b.str());
  checkActivation("fused_dense", c.nameAttr("act"));
  return out;
}

// x [N, C, H, W] (*) w [F, C, kh, kw] + b [F, 1, 1], then act: conv2d's own rule
// (`conv`, its registry entry's), its errors named for fused_conv2d, and the bias the
// conv2d sugar makes.
TensorType fusedConv2dType(const InferFn &conv, const OpCall &c) {
  const std::vector<TensorType> xw{c.inputs[0], c.inputs[1]};
  TensorType out;
  try {
    out = conv(OpCall{xw, c.attrs});
  } catch (const TypeError &e) {
    const std::string msg = e.what(), prefix = "conv2d:";
    if (msg.rfind(prefix, 0) != 0)
      throw;
    throw TypeError("fused_conv2d:" + msg.substr(prefix.size()));
  }
  const TensorType &w = c.inputs[1];
  const TensorType &b = c.inputs[2];
  TensorType wantBias{w.dtype, {w.shape[0], 1, 1}};
  if (b != wantBias)
    throw TypeError("fused_conv2d: bias b must be " + wantBias.str() +
                    " (one value per output channel of " + w.str() + "), got " + b.str());
  checkActivation("fused_conv2d", c.nameAttr("act"));
  return out;
}

// The inputs broadcast together, as the chain's binary ops would; one float dtype.
TensorType fusedElementwiseType(const OpCall &c) {
  const TensorType &x0 = c.inputs[0];
  rules::requireFloat("fused_elementwise", x0, "input 0");
  Shape shape = x0.shape;
  for (size_t i = 1; i < c.inputs.size(); ++i) {
    const TensorType &xi = c.inputs[i];
    if (xi.dtype != x0.dtype)
      throw TypeError("fused_elementwise: dtypes differ: input " + std::to_string(i) + " " +
                      xi.str() + ", input 0 " + x0.str() + " (insert a cast)");
    shape = rules::broadcast("fused_elementwise", shape, xi.shape);
  }
  if (c.nameAttr("chain").empty())
    throw TypeError("fused_elementwise: chain must describe the computation, got \"\"");
  parseChain(c.nameAttr("chain"), c.inputs.size());
  return TensorType{x0.dtype, shape};
}

} // namespace

// ---- the chain language (fused.h) -------------------------------------------------

ChainExpr ChainExpr::ofInput(int i) {
  ChainExpr e;
  e.kind = Kind::Input;
  e.input = i;
  return e;
}

ChainExpr ChainExpr::ofLiteral(double v) {
  ChainExpr e;
  e.kind = Kind::Literal;
  e.value = v;
  return e;
}

ChainExpr ChainExpr::ofOp(std::string op, std::vector<ChainExpr> args, double alpha) {
  ChainExpr e;
  e.kind = Kind::Op;
  e.op = std::move(op);
  e.args = std::move(args);
  e.value = alpha;
  return e;
}

const std::vector<ChainFunction> &chainFunctions() {
  static const std::vector<ChainFunction> fns = {
      {"neg", 1}, {"relu", 1}, {"leaky_relu", 1}, {"sigmoid", 1}, {"tanh", 1}, {"gelu", 1},
      {"exp", 1}, {"log", 1},  {"sqrt", 1},       {"abs", 1},     {"add", 2},  {"sub", 2},
      {"mul", 2}, {"div", 2},  {"maximum", 2},    {"minimum", 2}, {"pow", 2}};
  return fns;
}

bool isChainFunction(const std::string &op) {
  for (const ChainFunction &f : chainFunctions())
    if (op == f.name)
      return true;
  return false;
}

namespace {

int arityOf(const std::string &op) {
  for (const ChainFunction &f : chainFunctions())
    if (op == f.name)
      return f.arity;
  return -1;
}

// Recursive descent over the grammar in fused.h; positions are reported 1-based.
class ChainParser {
public:
  ChainParser(const std::string &text, size_t numInputs) : s_(text), numInputs_(numInputs) {}

  ChainExpr parse() {
    ChainExpr e = expr();
    skipSpace();
    if (pos_ < s_.size())
      fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    return e;
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw TypeError("fused_elementwise: chain '" + s_ + "': " + what + " at column " +
                    std::to_string(pos_ + 1));
  }
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool accept(char c) {
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c))
      fail(std::string("expected '") + c + "'");
  }

  ChainExpr expr() {
    ChainExpr e = term();
    for (;;) {
      if (accept('+'))
        e = ChainExpr::ofOp("add", {std::move(e), term()});
      else if (accept('-'))
        e = ChainExpr::ofOp("sub", {std::move(e), term()});
      else
        return e;
    }
  }
  ChainExpr term() {
    ChainExpr e = unary();
    for (;;) {
      if (accept('*'))
        e = ChainExpr::ofOp("mul", {std::move(e), unary()});
      else if (accept('/'))
        e = ChainExpr::ofOp("div", {std::move(e), unary()});
      else
        return e;
    }
  }
  ChainExpr unary() {
    if (accept('-')) {
      skipSpace();
      if (pos_ < s_.size() &&
          (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.'))
        return ChainExpr::ofLiteral(-number());
      return ChainExpr::ofOp("neg", {unary()});
    }
    return primary();
  }
  double number() {
    skipSpace();
    const char *begin = s_.c_str() + pos_;
    char *end = nullptr;
    double v = std::strtod(begin, &end);
    if (end == begin)
      fail("expected a number");
    pos_ += static_cast<size_t>(end - begin);
    return v;
  }
  std::string name() {
    skipSpace();
    size_t b = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    return s_.substr(b, pos_ - b);
  }
  ChainExpr primary() {
    skipSpace();
    if (pos_ >= s_.size())
      fail("expected an operand");
    char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.')
      return ChainExpr::ofLiteral(number());
    if (accept('(')) {
      ChainExpr e = expr();
      expect(')');
      return e;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)) && c != '_')
      fail("expected an operand");
    const size_t at = pos_;
    std::string id = name();
    if (id == "inf")
      return ChainExpr::ofLiteral(HUGE_VAL);
    if (id == "nan")
      return ChainExpr::ofLiteral(std::nan(""));
    if (id.size() > 1 && id[0] == 'x' &&
        id.find_first_not_of("0123456789", 1) == std::string::npos) {
      if (id.size() > 10 || std::stoull(id.substr(1)) >= numInputs_) {
        pos_ = at;
        fail(id + " names no input (the node has " + std::to_string(numInputs_) + ")");
      }
      return ChainExpr::ofInput(std::stoi(id.substr(1)));
    }
    const int arity = arityOf(id);
    if (arity < 0) {
      std::vector<std::string> names;
      for (const ChainFunction &f : chainFunctions())
        names.push_back(f.name);
      std::string near = closestMatch(id, names);
      pos_ = at;
      fail("unknown function '" + id + "'" +
           (near.empty() ? "" : " (did you mean '" + near + "'?)"));
    }
    expect('(');
    std::vector<ChainExpr> args{expr()};
    double alpha = 0.01;
    while (accept(',')) {
      skipSpace();
      // `NAME =` is an attribute; anything else another operand.
      size_t save = pos_;
      std::string key = name();
      if (!key.empty() && accept('=')) {
        if (id != "leaky_relu" || key != "alpha") {
          pos_ = save;
          fail(id + " has no attribute '" + key + "'");
        }
        bool negative = accept('-');
        alpha = negative ? -number() : number();
        continue;
      }
      pos_ = save;
      args.push_back(expr());
    }
    expect(')');
    if (static_cast<int>(args.size()) != arity) {
      pos_ = at;
      fail(id + " takes " + std::to_string(arity) + " operand" + (arity == 1 ? "" : "s") +
           ", got " + std::to_string(args.size()));
    }
    return ChainExpr::ofOp(id, std::move(args), alpha);
  }

  const std::string &s_;
  size_t numInputs_;
  size_t pos_ = 0;
};

// Precedence of an expression as printed: 1 additive, 2 multiplicative, 3 prefix
// minus (and negative literals), 4 everything that prints as one token or call.
int precedence(const ChainExpr &e) {
  if (e.kind == ChainExpr::Kind::Literal)
    return e.value < 0 || std::signbit(e.value) ? 3 : 4;
  if (e.kind != ChainExpr::Kind::Op)
    return 4;
  if (e.op == "add" || e.op == "sub")
    return 1;
  if (e.op == "mul" || e.op == "div")
    return 2;
  return e.op == "neg" ? 3 : 4;
}

void printTo(const ChainExpr &e, int minPrec, std::string &out) {
  const int p = precedence(e);
  const bool paren = p < minPrec;
  if (paren)
    out += '(';
  switch (e.kind) {
  case ChainExpr::Kind::Input:
    out += "x" + std::to_string(e.input);
    break;
  case ChainExpr::Kind::Literal:
    out += formatDouble(e.value);
    break;
  case ChainExpr::Kind::Op:
    if (p == 1 || p == 2) {
      // Left-associative: the right operand needs parentheses at equal precedence.
      printTo(e.args[0], p, out);
      out += e.op == "add" ? " + " : e.op == "sub" ? " - " : e.op == "mul" ? " * " : " / ";
      printTo(e.args[1], p + 1, out);
    } else if (e.op == "neg") {
      out += '-';
      // "--x" would read as one token to a human; and "-1" as a literal.
      const ChainExpr &a = e.args[0];
      printTo(a, a.kind == ChainExpr::Kind::Literal || precedence(a) == 3 ? 4 : 3, out);
    } else {
      out += e.op + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i)
          out += ", ";
        printTo(e.args[i], 0, out);
      }
      if (e.op == "leaky_relu")
        out += ", alpha = " + formatDouble(e.value);
      out += ')';
    }
    break;
  }
  if (paren)
    out += ')';
}

} // namespace

ChainExpr parseChain(const std::string &text, size_t numInputs) {
  return ChainParser(text, numInputs).parse();
}

std::string printChain(const ChainExpr &e) {
  std::string out;
  printTo(e, 0, out);
  return out;
}

double chainCost(const ChainExpr &e) {
  if (e.kind != ChainExpr::Kind::Op)
    return 0;
  double cost = rules::elementwiseCost(e.op);
  for (const ChainExpr &a : e.args)
    cost += chainCost(a);
  return cost;
}

int chainInputs(const ChainExpr &e) {
  int n = e.kind == ChainExpr::Kind::Input ? e.input + 1 : 0;
  for (const ChainExpr &a : e.args)
    n = std::max(n, chainInputs(a));
  return n;
}

void registerFusedOps(OpRegistry &r) {
  r.add(OpDef{"fused_dense",
              "fused",
              {"x", "w", "b"},
              false,
              {{"act", AttrType::Name, Attr::ofName("none"),
                "activation applied last: none, relu, gelu, sigmoid or tanh"}},
              fusedDenseType,
              [](const OpCall &c, const TensorType &out, int64_t batch) {
                const std::string &act = c.nameAttr("act");
                double perOutput = 2 * rules::dimValue(c.inputs[1].shape[0], batch) + 1 +
                                   (act == "none" ? 0 : rules::elementwiseCost(act));
                return perOutput * rules::elements(out, batch);
              },
              FusionKind::MatmulLike,
              "act(x [.., K] @ w [K, M] + b [M]) -> [.., M]"});
  // conv2d's shape and FLOP rules, registered before this family (families.h).
  const OpDef *conv = r.find("conv2d");
  NNG_CHECK(conv != nullptr, "fused_conv2d: conv2d is not registered yet");
  const InferFn convInfer = conv->infer;
  const FlopsFn convFlops = conv->flops;
  r.add(OpDef{"fused_conv2d",
              "fused",
              {"x", "w", "b"},
              false,
              {{"act", AttrType::Name, Attr::ofName("none"),
                "activation applied last: none, relu, gelu, sigmoid or tanh"},
               {"stride", AttrType::Int, Attr::ofInt(1), "step of the window, both axes"},
               {"pad", AttrType::Int, Attr::ofInt(0), "zeros added on each side, both axes"}},
              [convInfer](const OpCall &c) { return fusedConv2dType(convInfer, c); },
              [convFlops](const OpCall &c, const TensorType &out, int64_t batch) {
                const std::vector<TensorType> xw{c.inputs[0], c.inputs[1]};
                const std::string &act = c.nameAttr("act");
                // The convolution's, then the bias add and the activation per output.
                double perOutput = 1 + (act == "none" ? 0 : rules::elementwiseCost(act));
                return convFlops(OpCall{xw, c.attrs}, out, batch) +
                       perOutput * rules::elements(out, batch);
              },
              FusionKind::MatmulLike,
              "act(x [N, C, H, W] (*) w [F, C, kh, kw] + b [F, 1, 1]) -> [N, F, Ho, Wo], Ho and "
              "Wo as conv2d's"});
  OpDef softmaxCrossEntropy{
      "softmax_cross_entropy",
      "fused",
      {"logits", "labels"},
      false,
      {},
      [](const OpCall &c) {
        return rules::crossEntropyType("softmax_cross_entropy", c.inputs[0], c.inputs[1]);
      },
      rules::crossEntropyFlops,
      FusionKind::Opaque,
      "cross_entropy in one kernel that keeps softmax(logits) for the backward pass"};
  softmaxCrossEntropy.indexInput = OpDef::IndexInput{1, 0, -1};
  r.add(std::move(softmaxCrossEntropy));
  r.add(OpDef{"fused_elementwise",
              "fused",
              {"x"},
              true,
              {{"chain", AttrType::String, std::nullopt,
                "the elementwise computation over the inputs x0, x1, ..., as text: "
                "\"relu(x0 + x1 * x2)\" (core/ops/fused.h)"}},
              fusedElementwiseType,
              [](const OpCall &c, const TensorType &out, int64_t batch) {
                return chainCost(parseChain(c.nameAttr("chain"), c.inputs.size())) *
                       rules::elements(out, batch);
              },
              FusionKind::Broadcast,
              "a chain of elementwise ops over inputs broadcast together, in one kernel; its "
              "meaning is the chain text"});
  // Mixed precision: the GEMM (and the convolution's) runs in half; the loss stays f32.
  r.setPrecision("fused_dense", OpPrecision::Half);
  r.setPrecision("fused_conv2d", OpPrecision::Half);
  r.setPrecision("softmax_cross_entropy", OpPrecision::Float);
}

} // namespace nng

// The chain language of `fused_elementwise`: the text of its `chain` attribute says
// what the node computes per output element, over the node's inputs x0, x1, ...
// (broadcast together). The fuse pass writes it, the type rule checks it, the FLOP
// rule prices it and the backends compile it (core/cpu/kernels/fused.h).
//
// Syntax (one expression):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | primary
//   primary := NUMBER | 'inf' | 'nan' | 'x' DIGITS | '(' expr ')'
//            | NAME '(' expr (',' expr)* (',' NAME '=' NUMBER)* ')'
// NAME is a registered elementwise op the language knows (chainFunctions()): unary
// neg relu sigmoid tanh gelu exp log sqrt abs leaky_relu (attribute alpha), binary
// add sub mul div maximum minimum pow; '+' '-' '*' '/' and prefix '-' are add, sub,
// mul, div and neg. A '-' right before a number is part of the literal. So
// "relu(x0 + x1 * x2)" and "relu(add(x0, mul(x1, x2)))" mean the same; the printer
// writes the first form, with only the parentheses precedence needs.
#pragma once

#include <string>
#include <vector>

namespace nng {

struct ChainExpr {
  enum class Kind { Input, Literal, Op };
  Kind kind = Kind::Literal;
  int input = 0;    // Input: which x
  double value = 0; // Literal; for leaky_relu, alpha
  std::string op;   // Op: the registered op's name
  std::vector<ChainExpr> args;

  static ChainExpr ofInput(int i);
  static ChainExpr ofLiteral(double v);
  static ChainExpr ofOp(std::string op, std::vector<ChainExpr> args, double alpha = 0.01);
};

// The ops a chain may apply, with their arity (leaky_relu: 1 plus alpha).
struct ChainFunction {
  const char *name;
  int arity;
};
const std::vector<ChainFunction> &chainFunctions();
// Whether `op` can appear in a chain.
bool isChainFunction(const std::string &op);

// Parses `text`; `numInputs` bounds the x indices. Throws TypeError
// "fused_elementwise: chain 'relu(x0 +)': expected an operand at column 10".
ChainExpr parseChain(const std::string &text, size_t numInputs);
// The canonical text (parseChain(printChain(e)) == e up to add/sub/... spelling).
std::string printChain(const ChainExpr &e);
// FLOPs per output element: the sum of the ops' registered per-element costs
// (literals and inputs cost nothing).
double chainCost(const ChainExpr &e);
// The highest input index used plus one.
int chainInputs(const ChainExpr &e);

} // namespace nng

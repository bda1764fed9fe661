// The syntax tree of an nng source file, as the parser builds it and the lowering
// reads it. Every node carries the SourceLoc its diagnostics point at. The tree keeps
// the source's structure (blocks, repeat, sugar calls); names, shapes and types are
// resolved only by the lowering.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"

namespace nng::dsl::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Number, // 3, -1, 0.5, 1e-3, inf, nan (a minus sign directly before a literal is folded in)
  String, // "text", escapes already resolved
  Bool,   // true, false
  Name,   // x, fc1.weight, HIDDEN
  List,   // [a, b, c]
  Call,   // op(args...), block(args...), dense(args...)
  Neg,    // -x
  Binary, // a + b - c: one chain of operators of the same precedence, left-associative
};

// One argument of a call: positional when `key` is empty.
struct Arg {
  std::string key;
  SourceLoc loc; // of the key, or of the value for a positional argument
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::Number;
  SourceLoc loc;

  // Number: the value, as an integer when written without '.', 'e', inf or nan.
  bool isInt = false;
  int64_t intValue = 0;
  double floatValue = 0.0;
  // Number: the literal as written; String: its value; Name: the name; Call: the callee.
  std::string text;
  bool boolValue = false;

  // List: the items; Neg: the operand; Binary: the operands (at least two).
  std::vector<ExprPtr> operands;
  // Binary: ops[i] ('+', '-', '*', '/', '@') joins operands[i] and operands[i + 1].
  // Chains are kept flat so a long sum does not make the tree deep.
  std::vector<char> ops;
  std::vector<SourceLoc> opLocs;

  std::vector<Arg> args; // Call
};

// f32[N, 784]: a dtype name and one expression per dimension.
struct TypeExpr {
  std::string dtype;
  SourceLoc loc;
  std::vector<ExprPtr> dims;
};

// he_normal, constant(0.1), normal(0.0, 0.02)
struct InitExpr {
  std::string kind;
  SourceLoc loc;
  std::vector<ExprPtr> args;
};

enum class StmtKind { Input, Param, Buffer, Assign, Repeat, Output, Minimize, Return };

struct NameRef {
  std::string name;
  SourceLoc loc;
};

struct Stmt {
  StmtKind kind = StmtKind::Assign;
  SourceLoc loc;                 // the statement's first token
  NameRef target;                // Input, Param, Buffer, Assign, Minimize
  std::vector<NameRef> outputs;  // Output (`output a, b;`)
  std::optional<TypeExpr> type;  // Input, Param, Buffer; Assign when annotated
  std::optional<InitExpr> init;  // Param, Buffer (absent: no initializer)
  ExprPtr value;                 // Assign and Return: the value; Repeat: the count
  std::vector<Stmt> body;        // Repeat
};

struct Import {
  std::string path; // as written
  SourceLoc loc;
};

struct Const {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct Block {
  std::string name;
  SourceLoc loc;
  std::vector<NameRef> params;
  std::vector<Stmt> body;
};

struct Model {
  std::string name;
  SourceLoc loc;
  std::vector<Stmt> body;
};

// One parsed file; declarations of each kind in source order.
struct File {
  std::string path; // the name diagnostics use
  std::vector<Import> imports;
  std::vector<Const> consts;
  std::vector<Block> blocks;
  std::vector<Model> models;
};

} // namespace nng::dsl::ast

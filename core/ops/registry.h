// The op registry: one entry per op holding everything the rest of nng asks
// about it (inputs, attributes with types and defaults, type inference, FLOP
// count, fusion category, doc line). Passes query these traits; they never switch
// on op names. Ops are registered by family (one file each) from `opRegistry()`.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/attr.h"
#include "core/ir/type.h"

namespace nng {

// TVM's pattern kinds, in fusion order: a kind fuses into anything at least as general.
enum class FusionKind { Elementwise, Broadcast, Injective, Reduction, MatmulLike, Opaque };
const char *fusionKindName(FusionKind k);

// Thrown by type-inference rules and attribute checks: a user error without a
// location; the caller (the lowering, the verifier) attaches the node's location.
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Mixed precision (the amp pass): in which precision an op runs when the graph is
// rewritten for f16/bf16. Half: in the half type (matmul, dense, conv: the ops that
// gain from it); Float: as the source graph says, f32 (exp, log, softmax, sums,
// means, norms, losses: the ops that lose range or accuracy; also casts, constants
// and optimizer updates, whose dtypes must stay as written); Follow: in half when a
// floating input already is, f32 otherwise. `<op>_grad` has its forward op's.
enum class OpPrecision { Half, Float, Follow };

// What kind of value an attribute accepts. Float accepts integers; IntList
// accepts a single integer and stores it as a one-element list.
enum class AttrType { Int, Float, Bool, String, Name, DType, IntList };
const char *attrTypeName(AttrType t);

struct AttrSpec {
  std::string name;
  AttrType type;
  std::optional<Attr> defaultValue; // nullopt: required
  std::string doc;
};

// The arguments of one op application, as seen by its rules.
struct OpCall {
  const std::vector<TensorType> &inputs;
  const AttrMap &attrs; // complete: defaults filled in

  int64_t intAttr(const std::string &name) const;
  double floatAttr(const std::string &name) const;
  bool boolAttr(const std::string &name) const;
  const std::string &nameAttr(const std::string &name) const; // Name, String or DType
  std::vector<int64_t> intsAttr(const std::string &name) const;
};

using InferFn = std::function<TensorType(const OpCall &)>;
class GradBuilder; // core/ops/grad.h
// Reverse-mode rule: given the gradient of the node's output, emits nodes computing
// the gradient of each input (kNone where there is none: integer inputs, labels).
using GradFn = std::function<std::vector<int32_t>(GradBuilder &b, int32_t dOut)>;
// FLOPs of one application with every symbolic dimension bound to `batch`.
using FlopsFn = std::function<double(const OpCall &, const TensorType &out, int64_t batch)>;

struct OpDef {
  std::string name;
  std::string family; // "elementwise", "shape", ... (for docs and tests)
  std::vector<std::string> inputs;
  bool variadic = false; // the last input repeats (concat): at least inputs.size() given
  std::vector<AttrSpec> attrs;
  InferFn infer;
  FlopsFn flops;
  FusionKind fusion = FusionKind::Opaque;
  std::string doc;
  GradFn grad{}; // empty: not differentiable (set with OpRegistry::setGrad beside the op)
  // >= 0: the op updates input `inplace` in place and its output is that buffer
  // (optimizer updates); the executor gives both one buffer.
  int inplace = -1;
  // Inputs the op's output may be written over: when input i (listed here) has the
  // output's type and nothing reads it after this node, the memory planner
  // (core/plan/memory_plan.h) may give the output that input's bytes. Listing i
  // promises that every backend's kernel is correct with out == in(i): it reads each
  // element of in(i) before (or when) it writes the output elements that follow from
  // it, as elementwise maps and row-by-row softmax kernels do. Unlike `inplace`, the
  // sharing is optional.
  std::vector<int> mayOverwrite{};
  // Running the op twice on the same inputs does not give the same result (dropout
  // draws a fresh mask, seeded by its node): passes must not duplicate it (checkpoint
  // recompute), merge it (CSE) or fold it.
  bool random = false;
  // An integer input holding indices into an axis of another input: class labels index
  // the logits' last axis (cross_entropy), ids the rows of an embedding table. Gradient
  // checks draw such inputs in range, and the trainer finds a classifier's logits and
  // labels through it.
  struct IndexInput {
    int input = -1; // the integer input
    int of = -1;    // the input whose axis it indexes
    int axis = 0;   // that axis; negative counts from the end
  };
  std::optional<IndexInput> indexInput{};

  // Traits the prune pass reads (core/passes/prune.cpp) instead of op names.
  bool stateful = false; // writes state besides its output (batch_norm's running statistics):
                         // never removed, merged or folded (in-place updates count as stateful)
  bool constant = false; // no inputs; the output is the scalar attribute "value" as "dtype"
  // e op x == x (add 0, mul 1; x + 0 may turn -0 into +0) and x op e == x (add and sub 0,
  // mul and div 1).
  std::optional<double> leftIdentity{};
  std::optional<double> rightIdentity{};
  bool involution = false;             // op(op(x)) == x bit for bit (neg)
  bool idempotent = false; // unary: op(op(x)) == op(x) (relu, abs); binary: op(x, x) == x
                           // (maximum, minimum)
  bool identityWhenSameType = false;   // output == input 0 whenever the two types are equal
                                       // (cast to its own dtype, reshape to the same shape, ...)
  bool reshapes = false;   // keeps the elements in order and changes only the shape
  std::string permuteAttr{}; // non-empty: permutes the axes as this IntList attribute
                             // says, [] meaning reversed (transpose)

  // How the amp pass treats it (see OpPrecision); set beside the op's registration
  // with OpRegistry::setPrecision.
  OpPrecision precision = OpPrecision::Follow;
  // The last `optionalInputs` inputs may be left out (the optimizer updates' `finite`
  // flag, given only under loss scaling).
  size_t optionalInputs = 0;
};

class OpRegistry {
public:
  OpRegistry() = default;
  // Not copyable: the index below points into ops_ (moving keeps the map's nodes).
  OpRegistry(const OpRegistry &) = delete;
  OpRegistry &operator=(const OpRegistry &) = delete;
  OpRegistry(OpRegistry &&) = default;
  OpRegistry &operator=(OpRegistry &&) = default;

  void add(OpDef def);
  void setGrad(const std::string &op, GradFn grad);
  void setPrecision(const std::string &op, OpPrecision p);
  const OpDef *find(const std::string &name) const;
  std::vector<std::string> names() const; // sorted
  const std::map<std::string, OpDef> &all() const { return ops_; }

private:
  std::map<std::string, OpDef> ops_;
  // find() runs for every node in lowering, in most passes and in the verifier after each:
  // a hash lookup instead of a walk down the sorted map.
  std::unordered_map<std::string, const OpDef *> byName_;
};

// The process-wide registry, built on first use.
const OpRegistry &opRegistry();

// Validates attribute names and types against the op's specs (unknown names get a
// "did you mean"), fills defaults, normalizes IntList values. Throws TypeError.
AttrMap completeAttrs(const OpDef &op, const AttrMap &given);

// Whether completeAttrs would return `attrs` unchanged: every attribute known and already
// of its spec's type in normalized form, none missing. Builds nothing, so the verifier can
// check every node of a large graph after every pass without copying its attributes.
bool attrsComplete(const OpDef &op, const AttrMap &attrs);

// Checks input count, completes attributes and infers the output type. Throws TypeError.
TensorType inferType(const OpDef &op, const std::vector<TensorType> &inputs, AttrMap &attrs);
// The same for attributes that are already complete (attrsComplete): nothing is copied.
TensorType inferCompleteType(const OpDef &op, const std::vector<TensorType> &inputs,
                             const AttrMap &attrs);

} // namespace nng

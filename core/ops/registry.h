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
};

class OpRegistry {
public:
  void add(OpDef def);
  void setGrad(const std::string &op, GradFn grad);
  const OpDef *find(const std::string &name) const;
  std::vector<std::string> names() const; // sorted
  const std::map<std::string, OpDef> &all() const { return ops_; }

private:
  std::map<std::string, OpDef> ops_;
};

// The process-wide registry, built on first use.
const OpRegistry &opRegistry();

// Validates attribute names and types against the op's specs (unknown names get a
// "did you mean"), fills defaults, normalizes IntList values. Throws TypeError.
AttrMap completeAttrs(const OpDef &op, const AttrMap &given);

// Checks input count, completes attributes and infers the output type. Throws TypeError.
TensorType inferType(const OpDef &op, const std::vector<TensorType> &inputs, AttrMap &attrs);

} // namespace nng

// Registry storage, attribute checking and the generic type-inference entry point.
#include "core/ops/registry.h"

#include <algorithm>

#include "core/diag/diagnostic.h"
#include "core/ops/families.h"

namespace nng {

const char *fusionKindName(FusionKind k) {
  switch (k) {
  case FusionKind::Elementwise: return "elementwise";
  case FusionKind::Broadcast: return "broadcast";
  case FusionKind::Injective: return "injective";
  case FusionKind::Reduction: return "reduction";
  case FusionKind::MatmulLike: return "matmul-like";
  case FusionKind::Opaque: return "opaque";
  }
  return "?";
}

const char *attrTypeName(AttrType t) {
  switch (t) {
  case AttrType::Int: return "an integer";
  case AttrType::Float: return "a number";
  case AttrType::Bool: return "true or false";
  case AttrType::String: return "a string";
  case AttrType::Name: return "a name";
  case AttrType::DType: return "a dtype (f32, f16, bf16, f64, i32, i64, bool)";
  case AttrType::IntList: return "an integer or a list of integers";
  }
  return "?";
}

void OpRegistry::add(OpDef def) {
  NNG_CHECK(ops_.count(def.name) == 0, "op registered twice: " + def.name);
  NNG_CHECK(static_cast<bool>(def.infer), "op without a type rule: " + def.name);
  // attrsComplete counts on it: one spec per attribute name.
  for (size_t i = 0; i < def.attrs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      NNG_CHECK(def.attrs[i].name != def.attrs[j].name,
                def.name + ": attribute " + def.attrs[i].name + " specified twice");
  std::string name = def.name;
  auto it = ops_.emplace(name, std::move(def)).first;
  byName_.emplace(name, &it->second);
}

void OpRegistry::setGrad(const std::string &op, GradFn grad) {
  auto it = ops_.find(op);
  NNG_CHECK(it != ops_.end(), "gradient for an unregistered op: " + op);
  it->second.grad = std::move(grad);
}

void OpRegistry::setPrecision(const std::string &op, OpPrecision p) {
  auto it = ops_.find(op);
  NNG_CHECK(it != ops_.end(), "precision for an unregistered op: " + op);
  it->second.precision = p;
}

const OpDef *OpRegistry::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &kv : ops_)
    out.push_back(kv.first);
  return out;
}

const OpRegistry &opRegistry() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerAllOpFamilies(r);
    return r;
  }();
  return registry;
}

static const Attr &attrOrFail(const AttrMap &attrs, const std::string &name) {
  auto it = attrs.find(name);
  NNG_CHECK(it != attrs.end(), "attribute not completed: " + name);
  return it->second;
}

int64_t OpCall::intAttr(const std::string &name) const { return attrOrFail(attrs, name).i; }
double OpCall::floatAttr(const std::string &name) const {
  return attrOrFail(attrs, name).asDouble();
}
bool OpCall::boolAttr(const std::string &name) const { return attrOrFail(attrs, name).b; }
const std::string &OpCall::nameAttr(const std::string &name) const {
  return attrOrFail(attrs, name).s;
}
std::vector<int64_t> OpCall::intsAttr(const std::string &name) const {
  return attrOrFail(attrs, name).asInts();
}

// Converts `a` to the spec's type, or throws with a message naming what was expected.
static Attr coerce(const std::string &op, const AttrSpec &spec, const Attr &a) {
  auto fail = [&]() -> Attr {
    throw TypeError(op + ": attribute '" + spec.name + "' must be " + attrTypeName(spec.type) +
                    ", got " + a.str());
  };
  switch (spec.type) {
  case AttrType::Int:
    if (a.kind == Attr::Kind::Int)
      return a;
    if (a.kind == Attr::Kind::Float && a.f == static_cast<double>(static_cast<int64_t>(a.f)))
      return Attr::ofInt(static_cast<int64_t>(a.f));
    return fail();
  case AttrType::Float:
    if (a.kind == Attr::Kind::Float)
      return a;
    if (a.kind == Attr::Kind::Int)
      return Attr::ofFloat(static_cast<double>(a.i));
    return fail();
  case AttrType::Bool:
    return a.kind == Attr::Kind::Bool ? a : fail();
  case AttrType::String:
    return a.kind == Attr::Kind::String ? a : fail();
  case AttrType::Name:
    return (a.kind == Attr::Kind::Name || a.kind == Attr::Kind::String) ? Attr::ofName(a.s)
                                                                          : fail();
  case AttrType::DType:
    if ((a.kind == Attr::Kind::Name || a.kind == Attr::Kind::String) && parseDType(a.s))
      return Attr::ofName(a.s);
    return fail();
  case AttrType::IntList:
    if (a.kind == Attr::Kind::Int)
      return Attr::ofList({a});
    if (a.kind == Attr::Kind::List) {
      for (const Attr &e : a.list)
        if (e.kind != Attr::Kind::Int)
          return fail();
      return a;
    }
    return fail();
  }
  return fail();
}

// The spec of `op`'s attribute `name` (one at most: OpRegistry::add checks), or nullptr.
static const AttrSpec *specFor(const OpDef &op, const std::string &name) {
  for (const AttrSpec &s : op.attrs)
    if (s.name == name)
      return &s;
  return nullptr;
}

AttrMap completeAttrs(const OpDef &op, const AttrMap &given) {
  AttrMap out;
  for (const auto &kv : given) {
    const AttrSpec *spec = specFor(op, kv.first);
    if (!spec) {
      std::vector<std::string> known;
      for (const AttrSpec &s : op.attrs)
        known.push_back(s.name);
      std::string msg = op.name + ": unknown attribute '" + kv.first + "'";
      std::string near = closestMatch(kv.first, known);
      if (!near.empty())
        msg += "; did you mean '" + near + "'?";
      else if (known.empty())
        msg += " (" + op.name + " takes no attributes)";
      throw TypeError(msg);
    }
    // `given` is sorted, so each key goes at the end of `out`.
    out.emplace_hint(out.end(), kv.first, coerce(op.name, *spec, kv.second));
  }
  for (const AttrSpec &s : op.attrs) {
    if (out.count(s.name))
      continue;
    if (!s.defaultValue)
      throw TypeError(op.name + ": missing required attribute '" + s.name + "'");
    out[s.name] = *s.defaultValue;
  }
  return out;
}

// Whether `a` is what coerce makes of it for an attribute of type `t`.
static bool normalized(AttrType t, const Attr &a) {
  switch (t) {
  case AttrType::Int: return a.kind == Attr::Kind::Int;
  case AttrType::Float: return a.kind == Attr::Kind::Float;
  case AttrType::Bool: return a.kind == Attr::Kind::Bool;
  case AttrType::String: return a.kind == Attr::Kind::String;
  case AttrType::Name: return a.kind == Attr::Kind::Name;
  case AttrType::DType: return a.kind == Attr::Kind::Name && parseDType(a.s).has_value();
  case AttrType::IntList:
    if (a.kind != Attr::Kind::List)
      return false;
    for (const Attr &e : a.list)
      if (e.kind != Attr::Kind::Int)
        return false;
    return true;
  }
  return false;
}

bool attrsComplete(const OpDef &op, const AttrMap &attrs) {
  // Every given name has a spec (names are unique in both), so equal counts mean none
  // is missing.
  if (attrs.size() != op.attrs.size())
    return false;
  for (const auto &kv : attrs) {
    const AttrSpec *spec = specFor(op, kv.first);
    if (!spec || !normalized(spec->type, kv.second))
      return false;
  }
  return true;
}

// Throws the TypeError for a call with the wrong number of inputs.
static void checkInputCount(const OpDef &op, const std::vector<TensorType> &inputs) {
  size_t want = op.inputs.size();
  const size_t least = want - std::min(op.optionalInputs, want);
  if (op.variadic ? inputs.size() < want : inputs.size() < least || inputs.size() > want) {
    std::string names;
    for (size_t i = 0; i < op.inputs.size(); ++i)
      names += (i ? ", " : "") + op.inputs[i];
    const std::string count = op.variadic     ? "at least " + std::to_string(want)
                              : least == want ? std::to_string(want)
                                              : std::to_string(least) + " to " +
                                                    std::to_string(want);
    throw TypeError(op.name + ": expected " + count + " input" + (want == 1 ? "" : "s") + " (" +
                    names +
                    (op.variadic ? ", ..." : "") + "), got " + std::to_string(inputs.size()));
  }
}

TensorType inferType(const OpDef &op, const std::vector<TensorType> &inputs, AttrMap &attrs) {
  checkInputCount(op, inputs);
  // Type inference runs for every node in lowering and in the passes: attributes that are
  // already complete (a node copied from a verified graph) are not built again.
  if (!attrsComplete(op, attrs))
    attrs = completeAttrs(op, attrs);
  return op.infer(OpCall{inputs, attrs});
}

TensorType inferCompleteType(const OpDef &op, const std::vector<TensorType> &inputs,
                             const AttrMap &attrs) {
  checkInputCount(op, inputs);
  return op.infer(OpCall{inputs, attrs});
}

} // namespace nng

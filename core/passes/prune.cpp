// The prune pass: dead-code elimination, constant folding, algebraic identities and
// common-subexpression elimination. One forward walk over the live nodes decides for
// each node what it becomes (replaced by an identity or an earlier equal node, folded to
// a constant, merged with the reshape or transpose before it, or kept); then one
// liveness sweep over those decisions builds the new graph from what is still needed.
// Every rule asks the op registry's traits (OpDef::constant, rightIdentity, stateful,
// ...), never op names, and everything is linear in the graph (hash maps, no pairwise
// scans).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/ir/rewrite.h"
#include "core/ops/registry.h"
#include "core/passes/passes.h"
#include "core/print/nn_printer.h"
#include "core/runtime/executor.h"

namespace nng {

namespace {

const OpDef &opDef(const std::string &op) {
  const OpDef *def = opRegistry().find(op);
  NNG_CHECK(def != nullptr, "prune: unknown op " + op);
  return *def;
}

// A node the executor must run even when nothing reads its result: it writes state
// (batch_norm's running statistics, an optimizer's in-place update).
bool hasEffects(const OpDef &def) { return def.stateful || def.inplace >= 0; }

// Which nodes of `g` have effects (one registry lookup per node, done once).
std::vector<bool> nodesWithEffects(const Graph &g) {
  std::vector<bool> effects(g.nodes().size());
  for (size_t n = 0; n < g.nodes().size(); ++n)
    effects[n] = hasEffects(opDef(g.node(static_cast<NodeId>(n)).op));
  return effects;
}

// The node producing each value (kNone for inputs, params and buffers). The pass asks
// this for nearly every input of every node: a small array answers it from the cache,
// where the values themselves are spread over many times the memory.
std::vector<NodeId> producers(const Graph &g) {
  std::vector<NodeId> p(g.values().size(), kNone);
  for (size_t n = 0; n < g.nodes().size(); ++n)
    p[static_cast<size_t>(g.nodes()[n].output)] = static_cast<NodeId>(n);
  return p;
}

// Per node: `needed`, its result reaches an output or the loss; `live`, it is needed or
// reaches a node with effects.
struct Liveness {
  std::vector<bool> live, needed;
};

// One sweep from the last node to the first: nodes are in topological order, so every
// reader of a node's result is decided before the node itself. Linear in the graph.
Liveness liveNodes(const Graph &g, const std::vector<NodeId> &producer,
                   const std::vector<bool> &effects) {
  const size_t nodes = g.nodes().size();
  Liveness l{std::vector<bool>(nodes, false), std::vector<bool>(nodes, false)};
  auto root = [&](ValueId v) {
    if (NodeId p = producer[static_cast<size_t>(v)]; p != kNone)
      l.live[static_cast<size_t>(p)] = l.needed[static_cast<size_t>(p)] = true;
  };
  for (ValueId o : g.outputs())
    root(o);
  if (g.loss())
    root(*g.loss());
  for (size_t n = nodes; n-- > 0;) {
    if (effects[n])
      l.live[n] = true;
    if (!l.live[n])
      continue;
    const bool needed = l.needed[n];
    for (ValueId in : g.node(static_cast<NodeId>(n)).inputs)
      if (NodeId p = producer[static_cast<size_t>(in)]; p != kNone) {
        l.live[static_cast<size_t>(p)] = true;
        if (needed)
          l.needed[static_cast<size_t>(p)] = true;
      }
  }
  return l;
}

// The axes a permuting op (transpose) applies, normalized: [] means reversed,
// negative entries count from the end.
std::vector<int64_t> permutation(const AttrMap &attrs, const std::string &attr, size_t rank) {
  std::vector<int64_t> perm = attrs.at(attr).asInts();
  if (perm.empty())
    for (size_t i = rank; i-- > 0;)
      perm.push_back(static_cast<int64_t>(i));
  for (int64_t &p : perm)
    if (p < 0)
      p += static_cast<int64_t>(rank);
  return perm;
}

bool isIdentityPerm(const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i))
      return false;
  return true;
}

// The names `nng print` gives a graph's values (nn_printer.h, temporaryNumbers): named
// values keep theirs, temporaries are t0, t1, ... in print order (inputs, params,
// nodes), skipping names in use. Only the numbers are computed up front; a name is
// built when a note asks for it, so a large graph pays no string work for it.
class PrintedNames {
public:
  explicit PrintedNames(const Graph &g) : g_(g), number_(temporaryNumbers(g)) {}

  std::string operator()(ValueId v) const {
    const std::string &name = g_.value(v).name;
    return name.empty() ? "t" + std::to_string(number_.at(static_cast<size_t>(v))) : name;
  }

private:
  const Graph &g_;
  std::vector<int64_t> number_;
};

// What a live node becomes: its op, or another (a fold gives a constant, two
// reshapes give one), on inputs named by the source graph's value ids: each node's
// result is either its own output id (the node stays, as this spec) or another value
// that replaces it. So the rules below read a virtual graph in the source's id space,
// and the new graph is built once, at the end, from the specs that are still live.
struct Spec {
  const OpDef *def = nullptr;
  std::vector<ValueId> inputs;
  const AttrMap *given = nullptr; // the node's own attributes
  AttrMap own;                    // the rewritten ones, when `rewritten`
  bool rewritten = false;         // another op or other attributes than the node's own
  bool emitted = false;           // false: the node was dead or replaced

  const AttrMap &attrs() const { return rewritten ? own : *given; }
};

uint64_t bitsOf(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

// Two attributes that print the same (Attr::str): the same kind and value, floats bit for
// bit (0.0 and -0.0 differ) except that every NaN prints as "nan".
bool sameText(const Attr &a, const Attr &b) {
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case Attr::Kind::Int: return a.i == b.i;
  case Attr::Kind::Float:
    return (std::isnan(a.f) && std::isnan(b.f)) || bitsOf(a.f) == bitsOf(b.f);
  case Attr::Kind::Bool: return a.b == b.b;
  case Attr::Kind::String: case Attr::Kind::Name: return a.s == b.s;
  case Attr::Kind::List:
    return a.list.size() == b.list.size() &&
           std::equal(a.list.begin(), a.list.end(), b.list.begin(), sameText);
  }
  return false;
}

// Mixes `v` into the hash `h` (FNV-1a's step, on whole words).
void hashInto(size_t &h, size_t v) { h = (h ^ v) * 1099511628211u; }

// A hash consistent with sameText.
size_t textHash(const Attr &a) {
  size_t h = static_cast<size_t>(a.kind);
  switch (a.kind) {
  case Attr::Kind::Int: hashInto(h, static_cast<size_t>(a.i)); break;
  case Attr::Kind::Float: hashInto(h, std::isnan(a.f) ? 0 : bitsOf(a.f)); break;
  case Attr::Kind::Bool: hashInto(h, a.b); break;
  case Attr::Kind::String: case Attr::Kind::Name:
    hashInto(h, std::hash<std::string>{}(a.s));
    break;
  case Attr::Kind::List:
    for (const Attr &e : a.list)
      hashInto(h, textHash(e));
    break;
  }
  return h;
}

// Keys of the CSE table: two specs compute the same value when they apply the same op to
// the same inputs with attributes that print the same. Comparing the parts, rather than a
// key string built for every node, keeps the pass from formatting every attribute.
struct SameComputation {
  bool operator()(const Spec *a, const Spec *b) const {
    if (a->def != b->def || a->inputs != b->inputs)
      return false;
    const AttrMap &x = a->attrs(), &y = b->attrs();
    return x.size() == y.size() &&
           std::equal(x.begin(), x.end(), y.begin(), [](const auto &p, const auto &q) {
             return p.first == q.first && sameText(p.second, q.second);
           });
  }
};
struct SpecHash {
  size_t operator()(const Spec *s) const {
    size_t h = std::hash<const OpDef *>{}(s->def);
    for (ValueId in : s->inputs)
      hashInto(h, static_cast<size_t>(in));
    for (const auto &kv : s->attrs()) {
      hashInto(h, std::hash<std::string>{}(kv.first));
      hashInto(h, textHash(kv.second));
    }
    return h;
  }
};

class Pruner {
public:
  Pruner(const Graph &src, PassContext &ctx)
      : src_(src), ctx_(ctx), producer_(producers(src)), external_(externallyUsed(src)),
        spec_(src.nodes().size()), repl_(src.values().size()) {
    for (size_t v = 0; v < repl_.size(); ++v)
      repl_[v] = static_cast<ValueId>(v);
    cse_.reserve(src.nodes().size());
    if (ctx.explaining())
      names_.emplace(src);
  }

  Graph run(bool &changed) {
    std::vector<bool> effects = nodesWithEffects(src_);
    const Liveness l = liveNodes(src_, producer_, effects);
    for (size_t n = 0; n < src_.nodes().size(); ++n) {
      const Node &node = src_.node(static_cast<NodeId>(n));
      if (!l.live[n]) {
        explain(node.loc,
                [&] { return "removed " + describe(node) + ": reaches no output and no loss"; });
        changed_ = true;
        continue;
      }
      if (!l.needed[n] && effects[n])
        explain(node.loc, [&] {
          return "kept " + describe(node) + ": " + node.op +
                 " updates state although its result reaches no output";
        });
      visit(static_cast<NodeId>(n));
    }
    Graph g = build();
    changed = changed_;
    return g;
  }

private:
  // Records a note for --explain. `message` (a callable) builds the text only when it is
  // read: on a large graph, spelling out every removed identity cost more than removing it.
  template <typename Message> void explain(const SourceLoc &loc, const Message &message) const {
    if (ctx_.explaining())
      ctx_.explain(loc, message());
  }

  const PrintedNames &names() const {
    NNG_CHECK(names_.has_value(), "prune: printed names are made only for --explain");
    return *names_;
  }

  // "h = mul(x, t0)", with the names `nng print` gives the graph before the pass.
  std::string describe(const Node &node) const {
    std::string s = names()(node.output) + " = " + node.op + "(";
    for (size_t i = 0; i < node.inputs.size(); ++i)
      s += (i ? ", " : "") + names()(node.inputs[i]);
    // A node without inputs (a constant) is told apart by its attributes.
    if (node.inputs.empty())
      for (const auto &kv : node.attrs)
        s += (kv.first == node.attrs.begin()->first ? "" : ", ") + kv.first + " = " +
             kv.second.str();
    return s + ")";
  }
  // The printed name of a value, or the output name it took over.
  std::string name(ValueId v) const {
    auto it = renamed_.find(v);
    return it != renamed_.end() ? it->second : names()(v);
  }

  const TensorType &typeOf(ValueId v) const { return src_.typeOf(v); }

  // The spec producing value `v`, or nullptr for inputs and params.
  const Spec *producer(ValueId v) const {
    const NodeId n = producer_[static_cast<size_t>(v)];
    if (n == kNone)
      return nullptr;
    const Spec &s = spec_[static_cast<size_t>(n)];
    NNG_CHECK(s.emitted, "prune: a value resolves to a node that is not emitted");
    return &s;
  }
  std::optional<double> constantValue(ValueId v) const {
    const Spec *p = producer(v);
    if (p == nullptr || !p->def->constant)
      return std::nullopt;
    return p->attrs().at("value").asDouble();
  }

  void visit(NodeId n) {
    const Node &node = src_.node(n);
    Spec &s = spec_[static_cast<size_t>(n)];
    s.def = &opDef(node.op);
    s.given = &node.attrs;
    s.inputs.reserve(node.inputs.size());
    for (ValueId in : node.inputs) {
      ValueId r = repl_[static_cast<size_t>(in)];
      changed_ = changed_ || r != in;
      s.inputs.push_back(r);
    }
    // Random ops and ops with effects stay as they are: running them is the point.
    if (s.def->random || hasEffects(*s.def)) {
      s.emitted = true;
      return;
    }
    std::string why;
    if (ValueId r = identity(n, s, why); r != kNone && replace(n, r, [&] { return why; }))
      return;
    fold(n, s);
    if (ValueId r = merge(n, s);
        r != kNone && replace(n, r, [&] { return "the two " + s.def->name + "s cancel out"; }))
      return;
    auto it = cse_.find(&s);
    if (it != cse_.end() &&
        replace(n, it->second, [&] { return "computes the same as " + name(it->second); }))
      return;
    s.emitted = true;
    if (it == cse_.end())
      cse_.emplace(&s, node.output);
  }

  // A value equal to the node's result, bit for bit and with the same type, or kNone.
  // `why` says which identity (spelled out only for --explain).
  ValueId identity(NodeId n, const Spec &s, std::string &why) const {
    auto found = [&](ValueId r, const auto &reason) {
      if (ctx_.explaining())
        why = reason();
      return r;
    };
    const OpDef &def = *s.def;
    const TensorType &type = typeOf(src_.node(n).output);
    auto sameType = [&](ValueId v) { return typeOf(v) == type; };
    if (s.inputs.size() == 2) {
      std::optional<double> a = constantValue(s.inputs[0]);
      std::optional<double> b = constantValue(s.inputs[1]);
      if (def.rightIdentity && b && *b == *def.rightIdentity && sameType(s.inputs[0]))
        return found(s.inputs[0],
                     [&] { return def.name + " by " + formatDouble(*b) + " is the identity"; });
      if (def.leftIdentity && a && *a == *def.leftIdentity && sameType(s.inputs[1]))
        return found(s.inputs[1], [&] {
          return def.name + " with " + formatDouble(*a) + " on the left is the identity";
        });
    }
    if (s.inputs.empty())
      return kNone;
    ValueId x = s.inputs[0];
    if (def.identityWhenSameType && sameType(x))
      return found(x, [&] { return "its result has the type of its input, " + type.str(); });
    if (!def.permuteAttr.empty() &&
        isIdentityPerm(permutation(s.attrs(), def.permuteAttr, type.rank())))
      return found(x, [&] { return "the permutation is the identity"; });
    if (def.idempotent && s.inputs.size() == 2 && s.inputs[0] == s.inputs[1] && sameType(x))
      return found(x, [&] { return def.name + " of a value with itself is that value"; });
    const Spec *p = producer(x);
    if (p == nullptr || p->def != &def || p->attrs() != s.attrs() || s.inputs.size() != 1)
      return kNone;
    if (def.involution && sameType(p->inputs[0]))
      return found(p->inputs[0], [&] { return def.name + " of " + def.name + " is the identity"; });
    if (def.idempotent && sameType(x))
      return found(x, [&] { return def.name + " of " + def.name + " is " + def.name + " once"; });
    return kNone;
  }

  // Constant folding: an op whose inputs are all constants, computed now with the CPU
  // kernels (so the value is the one the runtime would compute), becomes a constant.
  // Only scalar f32/f64 results fold: `constant` holds one number, and a tensor of
  // them would have to be written into the graph text.
  void fold(NodeId n, Spec &s) {
    if (s.def->constant || s.inputs.empty())
      return;
    for (ValueId in : s.inputs)
      if (!constantValue(in))
        return;
    const Node &node = src_.node(n);
    const TensorType &type = typeOf(node.output);
    auto floatType = [](DType t) { return t == DType::F32 || t == DType::F64; };
    bool floats = floatType(type.dtype);
    for (ValueId in : s.inputs)
      floats = floats && floatType(typeOf(in).dtype);
    if (!type.shape.empty() || !floats) {
      explain(node.loc, [&] {
        return "not folded " + describe(node) + ": its result " + type.str() +
               " is not an f32 or f64 scalar, which a constant cannot hold";
      });
      return;
    }
    std::optional<double> v = evaluate(s, type);
    if (!v) {
      explain(node.loc,
              [&] { return "not folded " + describe(node) + ": the CPU kernel failed on it"; });
      return;
    }
    if (!std::isfinite(*v)) {
      explain(node.loc, [&] {
        return "not folded " + describe(node) + ": the result is " + formatDouble(*v);
      });
      return;
    }
    explain(node.loc,
            [&] { return "folded " + describe(node) + " to the constant " + formatDouble(*v); });
    s.def = &constantDef();
    s.inputs.clear();
    s.own = {{"dtype", Attr::ofName(dtypeName(type.dtype))}, {"value", Attr::ofFloat(*v)}};
    s.rewritten = true;
    changed_ = true;
  }

  static const OpDef &constantDef() {
    static const OpDef *def = [] {
      for (const auto &kv : opRegistry().all())
        if (kv.second.constant)
          return &kv.second;
      return static_cast<const OpDef *>(nullptr);
    }();
    NNG_CHECK(def != nullptr, "prune: no op has the constant trait");
    return *def;
  }

  // Runs the op on its constant inputs in a one-node graph on the CPU backend.
  std::optional<double> evaluate(const Spec &s, const TensorType &type) {
    try {
      Graph tmp;
      std::vector<ValueId> ins;
      for (ValueId in : s.inputs) {
        const Spec *p = producer(in);
        ins.push_back(tmp.addNode(p->def->name, {}, p->attrs(), typeOf(in)));
      }
      ValueId v = tmp.addNode(s.def->name, ins, s.attrs(), type);
      if (!backend_)
        backend_ = makeCpuBackend();
      Executor ex(tmp, *backend_);
      ex.bind({});
      ex.run(KernelContext{});
      if (type.dtype == DType::F32)
        return static_cast<double>(ex.read<float>(v).at(0));
      return ex.read<double>(v).at(0);
    } catch (const std::exception &) {
      return std::nullopt; // a kernel that rejects its inputs: leave the node to the runtime
    }
  }

  // Chains that collapse: reshape of reshape becomes one reshape of the first input;
  // transpose of transpose becomes one transpose with the composed permutation.
  // Returns the value the pair cancels to (the composed permutation is the identity,
  // the reshaped shape is the original one), else kNone, having rewritten `s` when the
  // pair merges into one node.
  ValueId merge(NodeId n, Spec &s) {
    if (s.inputs.size() != 1)
      return kNone;
    const Spec *p = producer(s.inputs[0]);
    if (p == nullptr || p->inputs.size() != 1)
      return kNone;
    const OpDef &inner = *p->def;
    const Node &node = src_.node(n);
    const TensorType &type = typeOf(node.output);
    ValueId x = p->inputs[0];
    const TensorType &xt = typeOf(x);
    if (s.def->reshapes && inner.reshapes) {
      if (xt == type)
        return x;
      AttrMap attrs = s.attrs();
      try {
        if (inferType(*s.def, {xt}, attrs) != type)
          return kNone;
      } catch (const TypeError &) {
        return kNone; // flatten of a reshape may not say the same thing on the original
      }
      explain(node.loc, [&] {
        return "merged " + describe(node) + " with the " + inner.name +
               " before it: " + s.def->name + " of " + name(x) + " directly";
      });
      s.own = std::move(attrs);
      s.rewritten = true;
      changed_ = true;
      s.inputs = {x};
      return kNone;
    }
    if (!s.def->permuteAttr.empty() && s.def == &inner) {
      std::vector<int64_t> outer = permutation(s.attrs(), s.def->permuteAttr, type.rank());
      std::vector<int64_t> first = permutation(p->attrs(), s.def->permuteAttr, xt.rank());
      // Output axis i of the pair is axis outer[i] of the inner result, which is axis
      // first[outer[i]] of x.
      std::vector<Attr> composed;
      bool identityPerm = true;
      for (size_t i = 0; i < outer.size(); ++i) {
        int64_t axis = first.at(static_cast<size_t>(outer[i]));
        identityPerm = identityPerm && axis == static_cast<int64_t>(i);
        composed.push_back(Attr::ofInt(axis));
      }
      if (identityPerm)
        return xt == type ? x : kNone;
      explain(node.loc, [&] {
        return "merged " + describe(node) + " with the " + inner.name +
               " before it into one permutation of " + name(x);
      });
      s.own = s.attrs();
      s.own[s.def->permuteAttr] = Attr::ofList(composed);
      s.rewritten = true;
      changed_ = true;
      s.inputs = {x};
      return kNone;
    }
    return kNone;
  }

  // Makes uses of node `n` read `r` instead. An output or the loss keeps its name: `r`
  // takes it when it is an unnamed temporary, otherwise the node stays (returns false).
  // `why` (a callable) says why the two are equal, for --explain.
  template <typename Why> bool replace(NodeId n, ValueId r, const Why &why) {
    const Node &node = src_.node(n);
    const Value &old = src_.value(node.output);
    if (external_[static_cast<size_t>(node.output)] && !old.name.empty()) {
      const Value &rv = src_.value(r);
      if (rv.kind != ValueKind::Node || !rv.name.empty() || renamed_.count(r)) {
        explain(node.loc, [&] {
          return "kept " + describe(node) + " although " + why() + ": " + old.name +
                 " is an output or the loss and " + name(r) + " cannot take its name";
        });
        return false;
      }
      explain(node.loc, [&] {
        return "removed " + describe(node) + ": " + why() + "; " + name(r) + " takes the name " +
               old.name;
      });
      renamed_[r] = old.name;
    } else {
      explain(node.loc, [&] { return "removed " + describe(node) + ": " + why(); });
    }
    repl_[static_cast<size_t>(node.output)] = r;
    changed_ = true;
    return true;
  }

  // The new graph: the specs that an output, the loss or an effect still needs, in
  // the source's order, and the params they read. Empty when nothing changed (the
  // caller keeps the graph it has).
  Graph build() {
    const size_t nodes = spec_.size();
    std::vector<bool> live(nodes, false);
    std::vector<bool> keepParam(src_.values().size(), false);
    auto markValue = [&](ValueId v) {
      keepParam[static_cast<size_t>(v)] = true;
      if (NodeId p = producer_[static_cast<size_t>(v)]; p != kNone)
        live[static_cast<size_t>(p)] = true;
    };
    for (ValueId o : src_.outputs())
      markValue(repl_[static_cast<size_t>(o)]);
    if (src_.loss())
      markValue(repl_[static_cast<size_t>(*src_.loss())]);
    // A spec's inputs are values from before its node (a replacement always points back),
    // so one sweep from the last node to the first finds all that the roots and the
    // effects need.
    for (size_t n = nodes; n-- > 0;) {
      const Spec &s = spec_[n];
      if (s.emitted && hasEffects(*s.def))
        live[n] = true;
      if (live[n])
        for (ValueId in : s.inputs)
          markValue(in);
    }

    for (ValueId p : src_.params()) {
      const Value &v = src_.value(p);
      if (keepParam[static_cast<size_t>(p)])
        continue;
      changed_ = true;
      explain(v.loc, [&] {
        return std::string("removed ") + (v.kind == ValueKind::Buffer ? "buffer " : "param ") +
               v.name + ": no remaining node reads it";
      });
    }
    for (size_t n = 0; n < nodes; ++n) {
      if (!spec_[n].emitted || live[n])
        continue;
      changed_ = true;
      const Node &node = src_.node(static_cast<NodeId>(n));
      explain(node.loc, [&] {
        return "removed " + name(node.output) + " = " + spec_[n].def->name +
               "(...): nothing reads it after the rewrites";
      });
    }
    if (!changed_)
      return Graph{};

    GraphRewriter rw(src_, keepParam);
    for (size_t n = 0; n < nodes; ++n) {
      const Spec &s = spec_[n];
      const Node &node = src_.node(static_cast<NodeId>(n));
      if (!s.emitted || !live[n])
        continue;
      std::vector<ValueId> inputs;
      inputs.reserve(s.inputs.size());
      for (ValueId in : s.inputs)
        inputs.push_back(rw.map(in));
      auto it = renamed_.find(node.output);
      const std::string &outName = it != renamed_.end() ? it->second : src_.value(node.output).name;
      // A node that is still its op with its attributes has its old type: every input
      // replacement kept the input's type. Only rewritten nodes go through inference.
      ValueId v =
          s.rewritten
              ? rw.emit(s.def->name, std::move(inputs), s.own, outName, node.loc, node.callChain)
              : rw.out().addNode(node.op, std::move(inputs), node.attrs, typeOf(node.output),
                                 outName, node.loc, node.callChain);
      NNG_CHECK(rw.out().typeOf(v) == typeOf(node.output),
                "prune: " + s.def->name + " changed the type of " + outName);
      rw.out().node(rw.out().value(v).producer).note = node.note;
      rw.setMap(node.output, v);
    }
    // Outputs and the loss that were replaced read their replacement.
    for (ValueId o : src_.outputs())
      rw.setMap(o, rw.map(repl_[static_cast<size_t>(o)]));
    if (src_.loss())
      rw.setMap(*src_.loss(), rw.map(repl_[static_cast<size_t>(*src_.loss())]));
    return rw.finish();
  }

  const Graph &src_;
  PassContext &ctx_;
  std::vector<NodeId> producer_; // per source value: the node producing it, or kNone
  // The source graph's values as printed, for --explain only (the notes are the only
  // readers, and numbering the temporaries walks every value).
  std::optional<PrintedNames> names_;
  std::vector<bool> external_; // outputs and the loss of the source graph
  std::vector<Spec> spec_;     // per source node
  std::vector<ValueId> repl_;  // per source value: the value that now stands for it
  std::unordered_map<ValueId, std::string> renamed_; // unnamed values that took an output's name
  // Emitted specs by what they compute, for common-subexpression elimination: an entry for
  // nearly every node, so the entries come from one arena, freed at once with the pass.
  std::pmr::monotonic_buffer_resource arena_;
  std::pmr::unordered_map<const Spec *, ValueId, SpecHash, SameComputation> cse_{&arena_};
  std::unique_ptr<Backend> backend_; // for folding, made on first use
  bool changed_ = false;
};

} // namespace

PassInfo prunePass() {
  return PassInfo{"prune",
                  "removes dead nodes and params, folds constants, drops identities (x * 1, "
                  "x + 0, double transposes, ...) and merges common subexpressions",
                  [](Graph &g, PassContext &ctx) {
                    bool changed = false;
                    Graph pruned = Pruner(g, ctx).run(changed);
                    if (changed)
                      g = std::move(pruned);
                    return changed;
                  }};
}

} // namespace nng

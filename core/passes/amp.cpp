// The amp pass: mixed precision as a rewrite. Each op runs in the precision its
// registry trait says (OpDef::precision): Half ops (matmul, fused_dense, conv2d and
// their backward ops) in f16/bf16, Float ops (exp, log, softmax, sums, means, norms,
// losses, casts, updates) in f32, Follow ops in half when one of their floating inputs
// already is (scalar constants do not count), else f32. Casts are inserted where a
// value is read in another precision than it was made in, one per (value, dtype)
// shared by every reader; a cast of a cast folds when the inner one is exact (a
// widening) and a cast to the value's own dtype disappears. Params stay f32 (fp32
// master weights) and are cast where read; outputs keep their types, so parameter
// gradients come out f32.
//
// f16 adds dynamic loss scaling: the buffers amp.loss_scale (65536) and
// amp.good_steps, the backward seed d(loss) = 1 replaced by the scale, and each
// parameter gradient multiplied by 1 / scale. The optimizer (appendOptimizerUpdate)
// checks the gradients, skips the step on inf/NaN and updates the scale.
//
// Only values the source graph has as f32 change precision: f64 graphs and explicit
// f16 values are left as written.
#include <map>
#include <optional>

#include "core/ir/rewrite.h"
#include "core/ops/registry.h"
#include "core/passes/amp.h"
#include "core/passes/autodiff.h"
#include "core/passes/passes.h"

namespace nng {

namespace {

Attr dtypeAttr(DType t) { return Attr::ofName(dtypeName(t)); }

// Names the printer gives temporaries (t0, t1, ...) are ordinary names in a graph
// parsed back from `nng optimize`; the values this pass rebuilds drop them again so
// that the printer numbers them in the new order, as it would have without the pipe.
bool printedTemporary(const std::string &name) {
  if (name.size() < 2 || name[0] != 't')
    return false;
  for (size_t i = 1; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9')
      return false;
  return true;
}

// Whether converting `from` to `to` is exact, so that casting back gives the value
// again (f16/bf16 -> f32, anything floating -> f64).
bool widens(DType from, DType to) {
  if (to == DType::F64)
    return isFloat(from);
  return to == DType::F32 && (from == DType::F16 || from == DType::BF16);
}

// The backward seed autodiff emits: constant 1 of the loss's dtype, read only as the
// dy (input 0) of nodes whose y (input 1) is the loss. kNone when there is none.
ValueId findSeed(const Graph &g, const std::vector<std::vector<NodeId>> &users) {
  if (!g.loss())
    return kNone;
  const ValueId loss = *g.loss();
  for (const Node &n : g.nodes()) {
    const OpDef *def = opRegistry().find(n.op);
    if (!def || !def->constant || n.attrs.at("value").asDouble() != 1.0 ||
        g.typeOf(n.output) != g.typeOf(loss))
      continue;
    const auto &readers = users[static_cast<size_t>(n.output)];
    bool seed = !readers.empty();
    for (NodeId r : readers) {
      const Node &rn = g.node(r);
      seed = seed && rn.inputs.size() >= 2 && rn.inputs[0] == n.output && rn.inputs[1] == loss &&
             rn.inputs[1] != n.output;
    }
    if (seed)
      return n.output;
  }
  return kNone;
}

// Drops the casts nobody reads: a cast in the source can fold into one emitted for
// its input (cast(cast(h, f32), f16) reads h), leaving that one unused.
Graph dropDeadCasts(Graph g) {
  std::vector<int> uses(g.values().size(), 0);
  for (const Node &n : g.nodes())
    for (ValueId in : n.inputs)
      ++uses[static_cast<size_t>(in)];
  const std::vector<bool> external = externallyUsed(g);
  std::vector<bool> dead(g.nodes().size(), false);
  bool any = false;
  for (size_t i = g.nodes().size(); i-- > 0;) {
    const Node &n = g.node(static_cast<NodeId>(i));
    if (n.op != "cast" || uses[static_cast<size_t>(n.output)] > 0 ||
        external[static_cast<size_t>(n.output)])
      continue;
    dead[i] = any = true;
    --uses[static_cast<size_t>(n.inputs[0])];
  }
  if (!any)
    return g;
  GraphRewriter rw(g);
  for (size_t i = 0; i < g.nodes().size(); ++i)
    if (!dead[i])
      rw.copy(static_cast<NodeId>(i));
  return rw.finish();
}

class AmpRewrite {
public:
  AmpRewrite(const Graph &src, DType half, PassContext &ctx)
      : src_(src), half_(half), ctx_(ctx), rw_(src), cur_(src.values().size(), kNone),
        final_(src.values().size(), kNone), external_(externallyUsed(src)) {
    for (ValueId v : src.inputs())
      cur_[v] = rw_.map(v);
    for (ValueId v : src.params())
      cur_[v] = rw_.map(v);
  }

  // Dynamic loss scaling (f16): adds the buffers; with `seed` (a differentiated
  // graph), replaces it by the scale and unscales the parameter gradients.
  void scaleLoss(ValueId seed) {
    Graph &out = rw_.out();
    const TensorType scalar{DType::F32, {}};
    scale_ = out.addParam(kLossScaleName, scalar,
                          Initializer{"constant", {Attr::ofFloat(kInitialLossScale)}}, {},
                          ValueKind::Buffer);
    out.addParam(kGoodStepsName, scalar, Initializer{"zeros", {}}, {}, ValueKind::Buffer);
    seed_ = seed;
    if (seed == kNone)
      return;
    for (ValueId p : src_.params())
      if (src_.value(p).kind == ValueKind::Param) {
        ValueId gv = src_.find(gradName(src_.value(p).name));
        if (gv != kNone)
          gradOf_[gv] = true;
      }
  }

  Graph run() {
    for (size_t n = 0; n < src_.nodes().size(); ++n)
      rewrite(static_cast<NodeId>(n));
    // Outputs made by nodes take their final (source-typed) value; an input or param
    // that is an output keeps its own.
    for (size_t v = 0; v < src_.values().size(); ++v)
      if (external_[v] && final_[v] != kNone)
        rw_.setMap(static_cast<ValueId>(v), final_[v]);
    ctx_.explain(std::to_string(halfOps_) + " ops in " + dtypeName(half_) + ", " +
                 std::to_string(casts_) + " casts inserted");
    return dropDeadCasts(rw_.finish());
  }

private:
  const Graph &out() { return rw_.out(); }
  DType dtypeNow(ValueId old) { return rw_.out().typeOf(cur_[old]).dtype; }
  bool isConstant(ValueId old) {
    const Value &v = src_.value(old);
    if (v.kind != ValueKind::Node)
      return false;
    const OpDef *def = opRegistry().find(src_.node(v.producer).op);
    return def && def->constant;
  }

  // Old value `old` as a new value of dtype `want`: itself, a cached cast, or a new
  // one (a constant is re-emitted in `want` instead of cast).
  ValueId get(ValueId old, DType want, const Node &reader) {
    const ValueId v = cur_[old];
    const DType have = rw_.out().typeOf(v).dtype;
    if (have == want)
      return v;
    auto it = as_.find({v, want});
    if (it != as_.end())
      return it->second;
    ValueId c;
    if (isConstant(old)) {
      const Node &k = src_.node(src_.value(old).producer);
      c = rw_.emit(k.op, {}, {{"value", k.attrs.at("value")}, {"dtype", dtypeAttr(want)}}, "",
                   k.loc, k.callChain);
    } else {
      c = rw_.emit("cast", {v}, {{"to", dtypeAttr(want)}}, "", reader.loc, reader.callChain);
      ++casts_;
    }
    as_[{v, want}] = c;
    if (widens(have, want))
      as_[{c, have}] = v; // casting back is exact: reuse the source
    return c;
  }

  // The dtype the node computes in, for its inputs the source has as f32.
  DType computeDType(const Node &n, const OpDef &def) {
    switch (def.precision) {
    case OpPrecision::Half:
      return half_;
    case OpPrecision::Float:
      return DType::F32;
    case OpPrecision::Follow:
      // The backward of a follow op runs as its forward ran: y is read as it was made
      // (dropout's backward regenerates the mask from y's node).
      if (def.family == "backward" && def.inputs.size() > 1 && def.inputs[1] == "y" &&
          src_.typeOf(n.inputs[1]).dtype == DType::F32)
        return dtypeNow(n.inputs[1]);
      for (ValueId in : n.inputs)
        if (src_.typeOf(in).dtype == DType::F32 && !isConstant(in) && dtypeNow(in) == half_)
          return half_;
      return DType::F32;
    }
    return DType::F32;
  }

  // The input types the node gets when computing in `d`; false when it does not
  // type-check so (the op then runs as written).
  bool typeChecks(const Node &n, const OpDef &def, DType d, DType &outDType) {
    std::vector<TensorType> types;
    for (ValueId in : n.inputs) {
      TensorType t = src_.typeOf(in);
      t.dtype = t.dtype == DType::F32 ? d : dtypeNow(in);
      types.push_back(t);
    }
    AttrMap attrs = n.attrs;
    try {
      outDType = inferType(def, types, attrs).dtype;
    } catch (const TypeError &) {
      return false;
    }
    const DType was = src_.typeOf(n.output).dtype;
    return outDType == was || (was == DType::F32 && outDType == d);
  }

  void rewrite(NodeId id) {
    const Node &n = src_.node(id);
    const ValueId old = n.output;
    const size_t before = rw_.out().values().size();
    if (old == seed_) { // the backward starts from the loss scale
      cur_[old] = scale_;
      ctx_.explain(n.loc, "loss scaling: the backward pass starts from amp.loss_scale");
      return finishValue(old, before);
    }
    const OpDef *def = opRegistry().find(n.op);
    NNG_CHECK(def != nullptr, "amp: unknown op " + n.op);
    if (def->constant) {
      cur_[old] = rw_.copy(id);
      return finishValue(old, before);
    }
    if (n.op == "cast") {
      // The op this pass inserts: reuse the value in the target dtype when there is one
      // (a cast to the value's own dtype, a cast back after an exact one).
      cur_[old] = get(n.inputs[0], *parseDType(n.attrs.at("to").s), n);
      return finishValue(old, before);
    }
    DType d = computeDType(n, *def), outDType = DType::F32;
    if (d != DType::F32 && !typeChecks(n, *def, d, outDType)) {
      ctx_.explain(n.loc,
                   n.op + " stays f32: it does not type-check in " + std::string(dtypeName(d)));
      d = DType::F32;
    }
    bool same = true;
    std::vector<ValueId> ins;
    for (ValueId in : n.inputs) {
      DType want = src_.typeOf(in).dtype == DType::F32 ? d : dtypeNow(in);
      ins.push_back(get(in, want, n));
      same = same && ins.back() == rw_.map(in);
    }
    if (same && d == DType::F32) {
      cur_[old] = rw_.copy(id);
    } else {
      cur_[old] = rw_.emit(n.op, ins, n.attrs, "", n.loc, n.callChain);
      rw_.out().node(rw_.out().value(cur_[old]).producer).note = n.note;
    }
    if (d == half_ && def->precision == OpPrecision::Half) {
      ++halfOps_;
      ctx_.explain(n.loc, n.op + " runs in " + std::string(dtypeName(d)));
    }
    rw_.setMap(old, cur_[old]);
    finishValue(old, before);
  }

  // Names the new value and gives outputs (and the loss) their source type; under
  // loss scaling a parameter gradient is unscaled.
  void finishValue(ValueId old, size_t before) {
    const Value &ov = src_.value(old);
    const std::string name = printedTemporary(ov.name) ? "" : ov.name;
    ValueId v = cur_[old];
    if (rw_.map(old) == kNone)
      rw_.setMap(old, v);
    const bool fresh = static_cast<size_t>(v) >= before;
    if (fresh && name.empty() && !ov.name.empty() && out().value(v).name == ov.name)
      rw_.out().rename(v, ""); // copied with a printed temporary's name
    if (!external_[old]) {
      if (fresh && !name.empty() && out().value(v).name.empty())
        rw_.out().rename(v, name);
      return;
    }
    ValueId f = get(old, ov.type.dtype, src_.node(ov.producer));
    if (gradOf_.count(old)) {
      if (!inverse_) {
        const Node &site = src_.node(ov.producer);
        ValueId one = rw_.emit("constant", {}, {{"value", Attr::ofFloat(1.0)}}, "", site.loc);
        inverse_ = rw_.emit("div", {one, scale_}, {}, "", site.loc);
      }
      ValueId inv = *inverse_;
      if (ov.type.dtype != DType::F32)
        inv = rw_.emit("cast", {inv}, {{"to", dtypeAttr(ov.type.dtype)}});
      f = rw_.emit("mul", {f, inv}, {}, "", src_.node(ov.producer).loc);
      cur_[old] = f; // readers see the true gradient too
      rw_.setMap(old, f);
    }
    if (!name.empty() && out().value(f).name != name) {
      if (static_cast<size_t>(f) < before) {
        // An existing value (a cast that folded away): the output gets its own node,
        // x * 1 as autodiff does for the same reason.
        ValueId one = rw_.emit(
            "constant", {}, {{"value", Attr::ofFloat(1.0)}, {"dtype", dtypeAttr(ov.type.dtype)}});
        f = rw_.emit("mul", {f, one}, {});
      }
      if (out().value(v).name == name)
        rw_.out().rename(v, "");
      rw_.out().rename(f, name);
    }
    final_[old] = f;
  }

  const Graph &src_;
  DType half_;
  PassContext &ctx_;
  GraphRewriter rw_;
  std::vector<ValueId> cur_;   // old value -> its new value, in the precision it was made in
  std::vector<ValueId> final_; // old output -> the new value marked as output
  std::vector<bool> external_;
  std::map<std::pair<ValueId, DType>, ValueId> as_; // (new value, dtype) -> that value in dtype
  ValueId scale_ = kNone, seed_ = kNone;
  std::optional<ValueId> inverse_; // 1 / amp.loss_scale, emitted on first use
  std::map<ValueId, bool> gradOf_; // old values that are parameter gradients
  int halfOps_ = 0, casts_ = 0;
};

} // namespace

PassInfo ampPass() {
  return PassInfo{
      "amp",
      "mixed precision: matmul/dense/conv in f16 or bf16, f32 master weights, casts at the "
      "borders, dynamic loss scaling (f16)",
      [](Graph &g, PassContext &ctx) {
        if (!ctx.options().amp) {
          ctx.explain("no change: no precision given (--fp16 or --bf16)");
          return false;
        }
        const DType half = *ctx.options().amp;
        NNG_CHECK(half == DType::F16 || half == DType::BF16, "amp: precision must be f16 or bf16");
        AmpRewrite rw(g, half, ctx);
        if (half == DType::F16 && g.loss() && g.find(kLossScaleName) == kNone) {
          ValueId seed = kNone;
          if (hasGradients(g)) {
            seed = findSeed(g, usersOf(g));
            if (seed == kNone)
              ctx.explain("no loss scaling: the backward seed d(loss) = 1 was not found");
          }
          if (seed != kNone || !hasGradients(g)) {
            rw.scaleLoss(seed);
            ctx.explain(g.value(*g.loss()).loc,
                        "loss scaling: amp.loss_scale starts at 65536" +
                            std::string(seed == kNone ? " (the grad pass will seed with it)" : ""));
          }
        }
        g = rw.run();
        return true;
      }};
}

} // namespace nng

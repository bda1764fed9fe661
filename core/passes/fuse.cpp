// The fuse pass: pattern fusion following the registry's fusion kinds, in three
// rewrites of the graph.
//
// Stage 0: conv2d (+ bias add) + batch_norm in an evaluation graph (no minimize) ->
// conv2d with weights scaled per output channel (computed from the params by nodes)
// + add. It runs first so that the conv2d + add it leaves fuse in stage 1.
// Stage 1, patterns around matmul-like and opaque ops:
// - layers: matmul + bias add (+ relu/gelu/sigmoid/tanh) -> fused_dense, conv2d +
//   bias add ([F, 1, 1]) (+ activation) -> fused_conv2d (with conv2d's stride and
//   pad). In a training graph the group's backward nodes (the activation's _grad,
//   the bias's sum_to, the matmul_grads or conv2d_grads) become fused_dense_grad or
//   fused_conv2d_grad nodes (wrt 0, 1, 2) in the same step, so the forward
//   intermediates they read can go. gelu stays out there: its gradient needs the
//   pre-activation, which the fused op does not keep.
// - cross_entropy(log_softmax(x)) -> softmax_cross_entropy(x), with its backward.
// - relu_grad(dy, y, x) -> relu_grad(dy, y, y) where that leaves x to a chain alone.
// Stage 2: chains of elementwise/broadcast ops -> fused_elementwise, whose chain
// attribute (core/ops/fused.h) spells the computation.
//
// A producer joins a group only when the group is its only consumer and it is not
// an output (a training graph's backward nodes count as consumers unless the group
// takes them along). Every decision goes to ctx.explain. Everything is linear in
// the graph's size: consumers are precomputed, each node is visited a bounded number
// of times.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "core/ir/rewrite.h"
#include "core/ops/fused.h"
#include "core/ops/registry.h"
#include "core/passes/passes.h"
#include "core/print/nn_printer.h"

namespace nng {

namespace {

// The activations fused_dense and fused_conv2d apply (their `act` attribute), by op name.
const std::set<std::string> kLayerActivations = {"relu", "gelu", "sigmoid", "tanh"};

// A layer op that takes its bias add and activation in, with its backward (rule
// `tryLayer`): the fused op takes (x, w, b) with `act` and the layer's `carried`
// attributes; its `_grad` replaces the layer's `_grad(dz, m, x, w)` nodes (wrt 0, 1),
// the bias's sum_to (wrt 2) and the activation's `_grad`.
struct LayerKind {
  std::string op, fused;
  std::string layer;     // in messages: "gelu not fused into the dense layer"
  std::string recompute; // what recomputing the pre-activation would cost per backward node
  size_t weightRank;
  std::string weightForm;                  // "[K, M]"
  Shape (*biasShape)(const Shape &weight); // [M] from [K, M]
  std::vector<std::string> carried;
};

const LayerKind kDense{"matmul",
                       "fused_dense",
                       "dense layer",
                       "a GEMM",
                       2,
                       "[K, M]",
                       [](const Shape &w) { return Shape{w[1]}; },
                       {}};
// The bias the conv2d sugar makes: one value per output channel, broadcast over the image.
const LayerKind kConv{"conv2d",
                      "fused_conv2d",
                      "conv layer",
                      "a convolution",
                      4,
                      "[F, C, kh, kw]",
                      [](const Shape &w) {
                        return Shape{w[0], Dim(1), Dim(1)};
                      },
                      {"stride", "pad"}};
// Group size cap for elementwise chains (TVM caps groups too): keeps chain text readable.
constexpr size_t kMaxChainOps = 24;

// conv2d (+ bias) + batch_norm folded: what the rewrite needs to emit the nodes that
// scale the weights and compute the shift (old ids).
struct ConvBnFold {
  ValueId x, w, convBias; // convBias kNone without a bias add
  AttrMap convAttrs;
  ValueId gamma, beta, mean, var;
  double eps;
};

// What stages 0 and 1 do to one node of the old graph: emit `op` in its place (or the
// folded conv when `fold` is set).
struct Replacement {
  std::string op;
  std::vector<ValueId> inputs; // old ids
  AttrMap attrs;
  std::string note;
  std::optional<ConvBnFold> fold = std::nullopt;
};

std::string gradOf(const std::string &op) { return op + "_grad"; }

// Why a value cannot disappear into a group: "t3 has 2 consumers (add, relu_grad)",
// "pre has 1 consumer (relu) and is an output".
std::string consumersText(const Graph &g, ValueId v, const std::string &name,
                          const std::vector<NodeId> &users, bool external) {
  std::string s =
      name + " has " + std::to_string(users.size()) + " consumer" + (users.size() == 1 ? "" : "s");
  for (size_t i = 0; i < users.size(); ++i)
    s += (i ? ", " : " (") + g.node(users[i]).op;
  s += users.empty() ? "" : ")";
  return s +
         (external ? (g.loss() && *g.loss() == v ? " and is the loss" : " and is an output") : "");
}

class Fuser {
public:
  // `foldedAdds`: the adds of g that an earlier conv + batch_norm fold made (named so
  // in the fused conv's note).
  Fuser(const Graph &g, PassContext &ctx, std::set<NodeId> foldedAdds = {})
      : g_(g), ctx_(ctx), users_(usersOf(g)), external_(externallyUsed(g)), names_(printedNames(g)),
        drop_(g.nodes().size(), false), replace_(g.nodes().size()),
        foldedAdds_(std::move(foldedAdds)) {}

  const std::string &name(ValueId v) const { return names_.at(static_cast<size_t>(v)); }
  const Node *producer(ValueId v) const {
    const Value &val = g_.value(v);
    return val.kind == ValueKind::Node ? &g_.node(val.producer) : nullptr;
  }
  NodeId producerId(ValueId v) const {
    const Value &val = g_.value(v);
    return val.kind == ValueKind::Node ? val.producer : kNone;
  }
  const std::vector<NodeId> &users(ValueId v) const { return users_.at(static_cast<size_t>(v)); }
  // "t3 has 2 consumers (add, relu_grad)".
  std::string consumersText(ValueId v) const {
    return nng::consumersText(g_, v, name(v), users(v), external_[static_cast<size_t>(v)]);
  }

  void tryLayer(NodeId layerId, const LayerKind &kind);
  void trySoftmaxCrossEntropy(NodeId ceId);
  void tryConvBatchNorm(NodeId bnId);
  void tryReluGradFromOutput(NodeId reluId);
  // Builds the rewritten graph into `out`; false (and `out` untouched) when no rule fired.
  bool rewrite(Graph &out);
  // After rewrite: the nodes of `out` that add the shift of a folded batch_norm.
  const std::set<NodeId> &madeFolds() const { return madeFolds_; }

private:
  void set(NodeId n, Replacement r) {
    replace_[static_cast<size_t>(n)] = std::move(r);
    changed_ = true;
  }
  void drop(NodeId n) {
    drop_[static_cast<size_t>(n)] = true;
    changed_ = true;
  }
  NodeId idOf(const Node &n) const { return g_.value(n.output).producer; }

  const Graph &g_;
  PassContext &ctx_;
  std::vector<std::vector<NodeId>> users_;
  std::vector<bool> external_;
  std::vector<std::string> names_;
  std::vector<bool> drop_;
  std::vector<std::optional<Replacement>> replace_;
  std::vector<bool> claimed_ = std::vector<bool>(g_.nodes().size(), false);
  std::set<NodeId> foldedAdds_, madeFolds_;
  bool changed_ = false;
};

// ---- dense and conv layers ----------------------------------------------------------

void Fuser::tryLayer(NodeId layerId, const LayerKind &kind) {
  const Node &layer = g_.node(layerId);
  const ValueId x = layer.inputs[0], w = layer.inputs[1], m = layer.output;
  const TensorType &wt = g_.typeOf(w);
  if (wt.rank() != kind.weightRank) {
    ctx_.explain(layer.loc, "not fused: " + name(m) + " = " + kind.op + " with a weight " +
                                wt.str() + " (" + kind.fused + " takes a " + kind.weightForm +
                                " weight)");
    return;
  }
  const TensorType biasType{wt.dtype, kind.biasShape(wt.shape)};
  // m's consumers: one bias add, and the layer's own backward nodes.
  const Node *add = nullptr;
  ValueId b = kNone;
  std::vector<NodeId> layerGrads;
  bool other = external_[static_cast<size_t>(m)];
  for (NodeId u : users(m)) {
    const Node &un = g_.node(u);
    if (un.op == "add" && !add && !claimed_[static_cast<size_t>(u)]) {
      ValueId o = un.inputs[0] == m ? un.inputs[1] : un.inputs[0];
      if (o != m && g_.typeOf(o) == biasType) {
        add = &un, b = o;
        continue;
      }
    }
    if (un.op == gradOf(layer.op) && un.inputs[1] == m && un.inputs[2] == x && un.inputs[3] == w) {
      layerGrads.push_back(u);
      continue;
    }
    other = true;
  }
  if (!add) {
    ctx_.explain(layer.loc, "not fused: " + kind.op + " " + name(m) + " has no bias add of type " +
                                biasType.str() + " after it (" + kind.fused + " needs one)");
    return;
  }
  if (other) {
    ctx_.explain(layer.loc, "not fused: " + consumersText(m));
    return;
  }
  const NodeId addId = idOf(*add);
  const ValueId a = add->output;

  // The activation, when a's only forward consumer is one the fused op applies.
  const Node *act = nullptr;
  std::vector<NodeId> actGrads;
  bool actOther = external_[static_cast<size_t>(a)];
  for (NodeId u : users(a)) {
    const Node &un = g_.node(u);
    if (!act && kLayerActivations.count(un.op) && !claimed_[static_cast<size_t>(u)]) {
      act = &un;
      continue;
    }
    if (act && un.op == gradOf(act->op) && un.inputs[1] == act->output && un.inputs[2] == a) {
      actGrads.push_back(u);
      continue;
    }
    actOther = true;
  }
  // Users come in node order, so the activation precedes its grad; anything else
  // reading a (a second activation, a non-activation, an output) keeps a alive.
  if (act && actOther) {
    ctx_.explain(act->loc, act->op + " not fused into the " + kind.layer + ": " + consumersText(a));
    act = nullptr;
    actGrads.clear();
  }
  if (act && act->op == "gelu" && !actGrads.empty()) {
    ctx_.explain(act->loc, "gelu not fused into the " + kind.layer +
                               ": its gradient needs the pre-activation, which " + kind.fused +
                               " does not keep (recomputing it costs " + kind.recompute +
                               " per backward node)");
    act = nullptr;
    actGrads.clear();
  }
  const std::string actName = act ? act->op : "none";
  const ValueId out = act ? act->output : a;

  // The backward: the gradient dz of the pre-activation feeds the layer's grads and
  // the bias's sum_to; with an activation, dz is the activation grad's output, which
  // goes too, and the fused grads read the activation's incoming gradient instead.
  ValueId dz = kNone, dy = kNone;
  if (act && actGrads.size() > 1) {
    ctx_.explain(act->loc, "not fused: " + consumersText(a));
    return;
  }
  if (!actGrads.empty()) {
    const Node &ag = g_.node(actGrads[0]);
    dz = ag.output, dy = ag.inputs[0];
  }
  for (NodeId u : layerGrads) {
    ValueId g = g_.node(u).inputs[0];
    if (dz == kNone && act == nullptr)
      dz = dy = g;
    if (g != dz) {
      ctx_.explain(layer.loc, "not fused: the backward of " + name(m) + " does not read " +
                                  (dz == kNone ? "an activation gradient" : name(dz)));
      return;
    }
  }
  std::vector<NodeId> biasGrads;
  if (dz != kNone) {
    for (NodeId u : users(dz)) {
      const Node &un = g_.node(u);
      if (std::find(layerGrads.begin(), layerGrads.end(), u) != layerGrads.end())
        continue;
      if (un.op == "sum_to" && un.inputs[0] == dz && un.inputs[1] == b) {
        biasGrads.push_back(u);
        continue;
      }
      if (act) {
        ctx_.explain(layer.loc, "not fused: the gradient " + consumersText(dz));
        return;
      }
    }
    if (act && external_[static_cast<size_t>(dz)]) {
      ctx_.explain(layer.loc, "not fused: the gradient " + name(dz) + " is an output");
      return;
    }
  }

  // Commit: the forward at the last forward node, the backward nodes in place. The
  // fused op and its grads carry the layer's own attributes (conv2d's stride and pad).
  const NodeId fwdAt = act ? idOf(*act) : addId;
  const bool folded = foldedAdds_.count(addId) > 0;
  std::string parts = kind.op + (folded ? " + batch_norm (folded)" : " + add") +
                      (act ? " + " + act->op : std::string());
  AttrMap attrs{{"act", Attr::ofName(actName)}};
  for (const std::string &k : kind.carried)
    attrs[k] = layer.attrs.at(k);
  set(fwdAt, {kind.fused, {x, w, b}, attrs, parts});
  claimed_[static_cast<size_t>(layerId)] = claimed_[static_cast<size_t>(addId)] = true;
  claimed_[static_cast<size_t>(fwdAt)] = true;
  drop(layerId);
  if (act)
    drop(addId);
  std::string removed = name(m) + (act ? ", " + name(a) : "");
  size_t grads = 0;
  for (NodeId u : actGrads) {
    drop(u);
    claimed_[static_cast<size_t>(u)] = true;
    removed += ", " + name(g_.node(u).output);
  }
  const std::string fusedGrad = gradOf(kind.fused);
  auto gradNode = [&](NodeId u, int64_t wrt) {
    AttrMap ga = attrs;
    ga["wrt"] = Attr::ofInt(wrt);
    set(u, {fusedGrad, {dy, out, x, w, b}, ga, ""});
    claimed_[static_cast<size_t>(u)] = true;
    ++grads;
  };
  for (NodeId u : layerGrads)
    gradNode(u, g_.node(u).attrs.at("wrt").i);
  for (NodeId u : biasGrads)
    gradNode(u, 2);
  std::string msg = "fused " + parts + " into " + kind.fused + " " + name(out) + " (" + removed +
                    " no longer computed)";
  if (grads)
    msg += "; its backward (" + std::string(act && !actGrads.empty() ? act->op + "_grad, " : "") +
           std::to_string(biasGrads.size()) + " sum_to, " + std::to_string(layerGrads.size()) +
           " " + gradOf(kind.op) + ") into " + std::to_string(grads) + " " + fusedGrad;
  ctx_.explain(act ? act->loc : add->loc, msg);
}

// ---- softmax + cross-entropy ----------------------------------------------------------

void Fuser::trySoftmaxCrossEntropy(NodeId ceId) {
  const Node &ce = g_.node(ceId);
  const ValueId l = ce.inputs[0], label = ce.inputs[1];
  const Node *p = producer(l);
  if (p && p->op == "softmax") {
    ctx_.explain(ce.loc, "not fused: cross_entropy takes logits and applies softmax itself, so "
                         "cross_entropy(softmax(" +
                             name(p->inputs[0]) + ")) applies it twice; pass the logits");
    return;
  }
  if (!p || p->op != "log_softmax") {
    ctx_.explain(ce.loc, "no change: cross_entropy takes logits (softmax and the loss are one "
                         "kernel already)");
    return;
  }
  const ValueId x = p->inputs[0];
  const int64_t rank = static_cast<int64_t>(g_.typeOf(l).rank());
  const int64_t axis = p->attrs.at("axis").i;
  if (axis != -1 && axis != rank - 1) {
    ctx_.explain(ce.loc, "not fused: log_softmax over axis " + std::to_string(axis) +
                             ", cross_entropy's classes are the last axis");
    return;
  }
  // l's consumers: the loss, its backward, and log_softmax's backward.
  std::vector<NodeId> ceGrads, lsGrads;
  bool other = external_[static_cast<size_t>(l)];
  for (NodeId u : users(l)) {
    const Node &un = g_.node(u);
    if (u == ceId)
      continue;
    if (un.op == gradOf(ce.op) && un.inputs[1] == ce.output && un.inputs[2] == l)
      ceGrads.push_back(u);
    else if (un.op == gradOf(p->op) && un.inputs[1] == l && un.inputs[2] == x)
      lsGrads.push_back(u);
    else
      other = true;
  }
  if (other || ceGrads.size() > 1 || lsGrads.size() > 1 || (ceGrads.empty() != lsGrads.empty()) ||
      (!ceGrads.empty() && g_.node(lsGrads[0]).inputs[0] != g_.node(ceGrads[0]).output) ||
      (!ceGrads.empty() && (users(g_.node(ceGrads[0]).output).size() != 1 ||
                            external_[static_cast<size_t>(g_.node(ceGrads[0]).output)]))) {
    ctx_.explain(ce.loc, "not fused: " + consumersText(l));
    return;
  }
  set(ceId, {"softmax_cross_entropy", {x, label}, {}, "log_softmax + cross_entropy"});
  drop(producerId(l));
  std::string msg = "fused log_softmax + cross_entropy into softmax_cross_entropy " +
                    name(ce.output) + " (cross_entropy applies log_softmax itself: " + name(l) +
                    " no longer computed)";
  if (!ceGrads.empty()) {
    const Node &cg = g_.node(ceGrads[0]);
    drop(ceGrads[0]);
    set(lsGrads[0], {"softmax_cross_entropy_grad",
                     {cg.inputs[0], ce.output, x, label},
                     {{"wrt", Attr::ofInt(0)}},
                     ""});
    msg += "; its backward into one softmax_cross_entropy_grad";
  }
  ctx_.explain(ce.loc, msg);
}

// ---- relu's backward from its output ---------------------------------------------------

// In a training graph relu_grad(dy, y, x) reads relu's input x, which keeps x alive
// and stops the elementwise chain that computes x from fusing with the relu. y > 0
// exactly where x > 0, so relu_grad(dy, y, y) is the same gradient; with it, x's only
// consumer is the relu. Done only where x comes from a chain op (where it pays).
void Fuser::tryReluGradFromOutput(NodeId reluId) {
  const Node &relu = g_.node(reluId);
  if (claimed_[static_cast<size_t>(reluId)])
    return;
  const ValueId x = relu.inputs[0], y = relu.output;
  const Node *p = producer(x);
  if (!p || !isChainFunction(p->op) || external_[static_cast<size_t>(x)])
    return;
  std::vector<NodeId> grads;
  for (NodeId u : users(x)) {
    const Node &un = g_.node(u);
    if (u == reluId)
      continue;
    if (un.op != gradOf(relu.op) || un.inputs[1] != y || un.inputs[2] != x ||
        claimed_[static_cast<size_t>(u)])
      return;
    grads.push_back(u);
  }
  if (grads.empty())
    return;
  for (NodeId u : grads) {
    const Node &un = g_.node(u);
    set(u, {un.op, {un.inputs[0], y, y}, un.attrs, ""});
    claimed_[static_cast<size_t>(u)] = true;
  }
  ctx_.explain(relu.loc, "relu_grad reads relu's output " + name(y) + " instead of its input " +
                             name(x) + " (the same mask), so " + name(x) +
                             " can fuse into an elementwise chain");
}

// ---- conv + batch_norm (evaluation graphs) -----------------------------------------------

void Fuser::tryConvBatchNorm(NodeId bnId) {
  const Node &bn = g_.node(bnId);
  if (g_.loss()) {
    ctx_.explain(bn.loc, "batch_norm not folded: this is a training graph (it has a loss), "
                         "where batch_norm normalizes with the batch's statistics");
    return;
  }
  const ValueId c = bn.inputs[0];
  const Node *p = producer(c);
  const Node *addNode = nullptr;
  ValueId convBias = kNone;
  if (p && p->op == "add") {
    // conv2d + per-channel bias ([F, 1, 1], as the conv2d sugar makes it).
    for (int k = 0; k < 2; ++k) {
      const Node *q = producer(p->inputs[static_cast<size_t>(k)]);
      ValueId other = p->inputs[static_cast<size_t>(1 - k)];
      const TensorType &ot = g_.typeOf(other);
      if (q && q->op == "conv2d" && ot.rank() == 3 && ot.shape[1] == Dim(1) &&
          ot.shape[2] == Dim(1) && ot.shape[0] == g_.typeOf(q->output).shape[1]) {
        addNode = p;
        convBias = other;
        p = q;
        break;
      }
    }
  }
  if (!p || p->op != "conv2d") {
    ctx_.explain(bn.loc, "batch_norm not folded: its input " + name(c) + " is not a conv2d");
    return;
  }
  auto single = [&](ValueId v) {
    return users(v).size() == 1 && !external_[static_cast<size_t>(v)];
  };
  if (!single(p->output) || (addNode && !single(addNode->output))) {
    ctx_.explain(bn.loc, "batch_norm not folded: " +
                             consumersText(single(p->output) ? addNode->output : p->output));
    return;
  }
  // The scaled weights replace w in this conv only; another user of w keeps it.
  ConvBnFold fold{p->inputs[0], p->inputs[1], convBias,
                  p->attrs,     bn.inputs[1], bn.inputs[2],
                  bn.inputs[3], bn.inputs[4], bn.attrs.at("eps").asDouble()};
  set(bnId, {"conv2d", {}, {}, "conv2d + batch_norm, folded", fold});
  drop(producerId(p->output));
  if (addNode)
    drop(producerId(addNode->output));
  ctx_.explain(bn.loc, "folded batch_norm " + name(bn.output) + " into conv2d " + name(p->output) +
                           ": the weights are scaled by gamma / "
                           "sqrt(running_var + eps) per output channel and the shift added "
                           "after (computed from the params by nodes; batch_norm's running "
                           "statistics are used, as in evaluation, and no longer updated)");
}

// ---- stages 0 and 1: the rewrite ------------------------------------------------------

bool Fuser::rewrite(Graph &out) {
  if (!changed_)
    return false;
  GraphRewriter rw(g_);
  for (size_t i = 0; i < g_.nodes().size(); ++i) {
    const NodeId n = static_cast<NodeId>(i);
    const Node &node = g_.node(n);
    if (drop_[i])
      continue;
    if (!replace_[i]) {
      rw.copy(n);
      continue;
    }
    const Replacement &r = *replace_[i];
    const std::string &outName = g_.value(node.output).name;
    auto emit = [&](const std::string &op, std::vector<ValueId> ins, AttrMap attrs = {},
                    const std::string &nm = "") {
      return rw.emit(op, std::move(ins), std::move(attrs), nm, node.loc, node.callChain);
    };
    ValueId now;
    if (r.fold) {
      const ConvBnFold &f = *r.fold;
      auto m = [&](ValueId v) { return rw.map(v); };
      const DType dt = g_.typeOf(f.w).dtype;
      ValueId eps = emit("constant", {},
                         {{"value", Attr::ofFloat(f.eps)}, {"dtype", Attr::ofName(dtypeName(dt))}});
      ValueId scale = emit("div", {m(f.gamma), emit("sqrt", {emit("add", {m(f.var), eps})})});
      auto reshapeTo = [&](ValueId v, std::vector<int64_t> dims) {
        std::vector<Attr> l;
        for (int64_t d : dims)
          l.push_back(Attr::ofInt(d));
        return emit("reshape", {v}, {{"shape", Attr::ofList(l)}});
      };
      ValueId w2 = emit("mul", {m(f.w), reshapeTo(scale, {-1, 1, 1, 1})});
      ValueId conv = emit("conv2d", {m(f.x), w2}, f.convAttrs);
      // shift = beta - mean * scale, or beta + (bias - mean) * scale with a conv bias.
      ValueId shift =
          f.convBias == kNone
              ? emit("sub", {m(f.beta), emit("mul", {m(f.mean), scale})})
              : emit("add", {m(f.beta),
                             emit("mul", {emit("sub", {reshapeTo(m(f.convBias), {-1}), m(f.mean)}),
                                          scale})});
      now = emit("add", {conv, reshapeTo(shift, {-1, 1, 1})}, {}, outName);
      madeFolds_.insert(rw.out().value(now).producer);
    } else {
      std::vector<ValueId> ins;
      for (ValueId v : r.inputs)
        ins.push_back(rw.map(v));
      now = emit(r.op, ins, r.attrs, outName);
    }
    rw.out().node(rw.out().value(now).producer).note = r.note;
    rw.setMap(node.output, now);
  }
  out = rw.finish();
  return true;
}

// ---- stage 2: elementwise chains -------------------------------------------------------

class ChainFuser {
public:
  ChainFuser(const Graph &g, PassContext &ctx)
      : g_(g), ctx_(ctx), users_(usersOf(g)), external_(externallyUsed(g)), names_(printedNames(g)),
        member_(g.nodes().size(), false), root_(g.nodes().size(), false), chain_(g.nodes().size()),
        leaves_(g.nodes().size()) {}

  bool run(Graph &out);

private:
  const std::string &name(ValueId v) const { return names_.at(static_cast<size_t>(v)); }
  const Node *producer(ValueId v) const {
    const Value &val = g_.value(v);
    return val.kind == ValueKind::Node ? &g_.node(val.producer) : nullptr;
  }
  bool isLiteral(ValueId v) const {
    const Node *p = producer(v);
    if (!p)
      return false;
    const OpDef *d = opRegistry().find(p->op);
    return d && d->constant && std::isfinite(p->attrs.at("value").asDouble());
  }
  // An op the chain language has, on one float dtype throughout.
  bool eligible(const Node &n) const {
    const OpDef *d = opRegistry().find(n.op);
    if (!d || !(d->fusion == FusionKind::Elementwise || d->fusion == FusionKind::Broadcast) ||
        !isChainFunction(n.op))
      return false;
    const DType dt = g_.typeOf(n.output).dtype;
    if (!isFloat(dt))
      return false;
    for (ValueId v : n.inputs)
      if (g_.typeOf(v).dtype != dt)
        return false;
    return true;
  }
  ChainExpr build(const Node &n, const Node &root, size_t &ops, std::vector<ValueId> &leaves);

  const Graph &g_;
  PassContext &ctx_;
  std::vector<std::vector<NodeId>> users_;
  std::vector<bool> external_;
  std::vector<std::string> names_;
  std::vector<bool> member_, root_;
  std::vector<std::string> chain_;
  std::vector<std::vector<ValueId>> leaves_;
  std::vector<size_t> absorbed_; // producers the chain being built took in
};

// The chain of `n` with producers absorbed where they may be; marks them members.
ChainExpr ChainFuser::build(const Node &n, const Node &root, size_t &ops,
                            std::vector<ValueId> &leaves) {
  std::vector<ChainExpr> args;
  for (ValueId v : n.inputs) {
    const Node *p = producer(v);
    if (isLiteral(v)) {
      args.push_back(ChainExpr::ofLiteral(p->attrs.at("value").asDouble()));
      continue;
    }
    const size_t pid = p ? static_cast<size_t>(g_.value(v).producer) : 0;
    if (p && eligible(*p) && !member_[pid]) {
      const auto &us = users_[static_cast<size_t>(v)];
      std::string why;
      if (us.size() != 1 || external_[static_cast<size_t>(v)]) {
        why = consumersText(g_, v, name(v), us, external_[static_cast<size_t>(v)]);
      } else if (g_.typeOf(v).shape != g_.typeOf(root.output).shape) {
        why = name(v) + " " + g_.typeOf(v).str() + " is smaller than the chain's output " +
              g_.typeOf(root.output).str() + " and would be recomputed for each element";
      } else if (ops >= kMaxChainOps) {
        why = "the chain has " + std::to_string(kMaxChainOps) + " ops already";
      }
      if (why.empty()) {
        member_[pid] = true;
        absorbed_.push_back(pid);
        ++ops;
        args.push_back(build(*p, root, ops, leaves));
        continue;
      }
      ctx_.explain(p->loc, "not fused into the chain of " + name(root.output) + ": " + why);
    }
    auto it = std::find(leaves.begin(), leaves.end(), v);
    int k = static_cast<int>(it - leaves.begin());
    if (it == leaves.end())
      leaves.push_back(v);
    args.push_back(ChainExpr::ofInput(k));
  }
  double alpha = n.attrs.count("alpha") ? n.attrs.at("alpha").asDouble() : 0.01;
  return ChainExpr::ofOp(n.op, std::move(args), alpha);
}

bool ChainFuser::run(Graph &out) {
  const size_t count = g_.nodes().size();
  bool any = false;
  // Roots in reverse order: a node not absorbed by a later chain starts its own.
  for (size_t i = count; i-- > 0;) {
    const Node &n = g_.node(static_cast<NodeId>(i));
    if (member_[i] || !eligible(n))
      continue;
    member_[i] = true;
    size_t ops = 1;
    std::vector<ValueId> leaves;
    absorbed_.clear();
    ChainExpr e = build(n, n, ops, leaves);
    // A chain of constants alone has no tensor input to run over: prune folds it.
    if (ops < 2 || leaves.empty()) {
      member_[i] = false;
      for (size_t a : absorbed_)
        member_[a] = false;
      if (leaves.empty())
        ctx_.explain(n.loc, "not fused: " + name(n.output) + " computes from constants only");
      continue;
    }
    root_[i] = true;
    chain_[i] = printChain(e);
    leaves_[i] = leaves;
    ctx_.explain(n.loc, "fused " + std::to_string(ops) +
                            " elementwise ops into fused_elementwise " + name(n.output) + " = " +
                            chain_[i]);
    any = true;
  }
  if (!any)
    return false;
  // Constants every consumer of which took them in as literals go too.
  std::vector<bool> deadConstant(count, false);
  for (size_t i = 0; i < count; ++i) {
    const Node &n = g_.node(static_cast<NodeId>(i));
    if (!isLiteral(n.output) || external_[static_cast<size_t>(n.output)])
      continue;
    const auto &us = users_[static_cast<size_t>(n.output)];
    deadConstant[i] = !us.empty() && std::all_of(us.begin(), us.end(), [&](NodeId u) {
      return member_[static_cast<size_t>(u)] && eligible(g_.node(u));
    });
  }
  GraphRewriter rw(g_);
  for (size_t i = 0; i < count; ++i) {
    const NodeId id = static_cast<NodeId>(i);
    const Node &n = g_.node(id);
    if (deadConstant[i] || (member_[i] && !root_[i]))
      continue;
    if (!root_[i]) {
      rw.copy(id);
      continue;
    }
    std::vector<ValueId> ins;
    for (ValueId v : leaves_[i])
      ins.push_back(rw.map(v));
    ValueId now = rw.emit("fused_elementwise", ins, {{"chain", Attr::ofString(chain_[i])}},
                          g_.value(n.output).name, n.loc, n.callChain);
    rw.setMap(n.output, now);
  }
  out = rw.finish();
  return true;
}

} // namespace

PassInfo fusePass() {
  return PassInfo{
      "fuse",
      "fusion: dense and conv layers + bias + activation (with their backward), elementwise "
      "chains, log_softmax + cross_entropy, conv + batch_norm folding in evaluation graphs",
      [](Graph &g, PassContext &ctx) -> bool {
        bool changed = false;
        // Stage 0: the folds first, so that the conv2d + add they leave fuse in stage 1.
        // Only graphs with a batch_norm pay for its Fuser (users, printed names).
        std::set<NodeId> madeFolds;
        const auto &nodes = g.nodes();
        if (std::any_of(nodes.begin(), nodes.end(),
                        [](const Node &n) { return n.op == "batch_norm"; })) {
          Fuser folds(g, ctx);
          for (size_t i = 0; i < nodes.size(); ++i)
            if (nodes[i].op == "batch_norm")
              folds.tryConvBatchNorm(static_cast<NodeId>(i));
          Graph folded;
          if (folds.rewrite(folded)) {
            g = std::move(folded);
            changed = true;
          }
          madeFolds = folds.madeFolds();
        }
        Fuser f(g, ctx, madeFolds);
        for (size_t i = 0; i < g.nodes().size(); ++i) {
          const NodeId n = static_cast<NodeId>(i);
          const std::string &op = g.node(n).op;
          if (op == kDense.op)
            f.tryLayer(n, kDense);
          else if (op == kConv.op)
            f.tryLayer(n, kConv);
          else if (op == "cross_entropy")
            f.trySoftmaxCrossEntropy(n);
          else if (op == "relu")
            f.tryReluGradFromOutput(n);
        }
        Graph staged;
        if (f.rewrite(staged)) {
          g = std::move(staged);
          changed = true;
        }
        Graph chained;
        if (ChainFuser(g, ctx).run(chained)) {
          g = std::move(chained);
          changed = true;
        }
        if (!changed)
          ctx.explain("nothing to fuse");
        return changed;
      }};
}

} // namespace nng

// The checkpoint pass (see checkpoint.h). Stages: (1) analyze the graph once: which
// nodes are forward, the bytes and FLOPs of every node, which forward values the
// backward pass reads, and the bytes crossing every possible cut; (2) choose cuts with
// Chen's greedy walk (a segment closes once the bytes it would recompute pass a
// threshold, at the cheapest cut of its second half), the threshold from sqrt(n) or
// searched for a budget; (3) lay out the rewritten node order (forward as is, each
// recompute just before the first backward node that reads it) and measure it with a
// liveness walk; (4) emit that order as the new graph.
#include "core/passes/checkpoint.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/ops/registry.h"
#include "core/passes/autodiff.h"
#include "core/diag/units.h"
#include "core/ops/costs.h"
#include "core/passes/passes.h"
#include "core/print/nn_printer.h"

namespace nng {

namespace {

// "64MiB" -> bytes; UserError naming the problem.
int64_t parseSize(const std::string &spec, const std::string &text) {
  std::string why;
  std::optional<int64_t> bytes = parseByteSize(text, &why);
  if (!bytes)
    throw UserError("invalid checkpoint spec '" + spec + "': " +
                    (text.empty() ? "the budget has no size" : why) +
                    " (expected e.g. budget:512KiB, budget:64MiB, budget:1GiB or "
                    "budget:1048576)");
  return *bytes;
}

int64_t tensorBytesAt(const TensorType &t, int64_t batch) {
  std::optional<int64_t> n = t.elementsWith(batch);
  if (!n || *n > std::numeric_limits<int64_t>::max() / 8)
    throw UserError("checkpoint: tensor " + t.str() + " at batch " + std::to_string(batch) +
                    " is too large to count");
  return *n * static_cast<int64_t>(dtypeSize(t.dtype));
}


// Why a forward node is never recomputed ("" when it may be).
std::string notRecomputable(const Node &n) {
  const OpDef *op = opRegistry().find(n.op);
  NNG_CHECK(op != nullptr, "unknown op in a verified graph: " + n.op);
  if (op->random)
    return "'" + n.op + "' is random: a second run would draw another mask";
  if (op->inplace >= 0)
    return "'" + n.op + "' updates its input in place";
  if (op->stateful)
    return "'" + n.op + "' updates state besides its output (a second run would update it "
           "twice)";
  return "";
}

// Everything the planning needs about a graph, computed once: O(n log n).
struct Analysis {
  const Graph &g;
  bool hasBackward = false;
  std::vector<NodeId> fwd;          // forward nodes in order
  std::vector<int32_t> pos;         // NodeId -> index in fwd, or -1
  std::vector<int64_t> bytes;       // ValueId -> activation bytes (0: not an activation)
  std::vector<bool> external;       // ValueId -> output or loss (alive to the end)
  std::vector<int32_t> lastFwdUse;  // fwd index -> last fwd index reading it, or -1
  std::vector<bool> readByBackward; // fwd index -> a non-forward node reads it
  std::vector<bool> recomputable;   // fwd index
  std::vector<double> flops;        // NodeId -> FLOPs at the batch
  double forwardFlops = 0;
  std::vector<int64_t> weightPrefix; // prefix sums of the bytes a segment would recompute
  std::vector<int64_t> crossing;     // fwd index p -> bytes crossing a cut before p
  std::vector<std::vector<int32_t>> argminTable; // sparse table over crossing

  explicit Analysis(const Graph &graph) : g(graph) {}

  // Of two cuts, the one fewer bytes cross; the later one on ties (longer segments).
  int32_t cheaper(int32_t a, int32_t b) const {
    return crossing[a] < crossing[b] || (crossing[a] == crossing[b] && a > b) ? a : b;
  }
  // The cheapest cut among positions [lo, hi], from the sparse table in O(1).
  int32_t cheapestCut(int32_t lo, int32_t hi) const {
    int k = 0;
    while ((int64_t(2) << k) <= hi - lo + 1)
      ++k;
    return cheaper(argminTable[k][lo], argminTable[k][hi - (1 << k) + 1]);
  }
};

Analysis analyze(const Graph &g, int64_t batch) {
  Analysis a(g);
  const size_t numValues = g.values().size(), numNodes = g.nodes().size();
  a.hasBackward = hasGradients(g);

  // Phases, as `nng stats` classifies them: forward nodes are ancestors of the loss or
  // of an output that is not a parameter gradient; in-place updates never are.
  std::vector<bool> paramGrad(numValues, false);
  for (ValueId p : g.params())
    if (g.value(p).kind == ValueKind::Param) {
      ValueId gv = g.find(gradName(g.value(p).name));
      if (gv != kNone)
        paramGrad[gv] = true;
    }
  a.external.assign(numValues, false);
  std::vector<bool> wanted(numValues, false);
  for (ValueId o : g.outputs()) {
    a.external[o] = true;
    if (!paramGrad[o])
      wanted[o] = true;
  }
  if (g.loss()) {
    a.external[*g.loss()] = true;
    wanted[*g.loss()] = true;
  }
  std::vector<bool> isFwd(numNodes, false), needed(numValues, false);
  for (size_t n = numNodes; n-- > 0;) {
    const Node &node = g.node(static_cast<NodeId>(n));
    if (wanted[node.output])
      for (ValueId in : node.inputs)
        wanted[in] = true;
    isFwd[n] = wanted[node.output];
    for (ValueId in : node.inputs)
      if (needed[node.output] || paramGrad[node.output])
        needed[in] = true;
  }
  // Dead nodes: forward unless an input comes from the backward pass.
  std::vector<bool> fromBackward(numValues, false);
  for (size_t n = 0; n < numNodes; ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    const OpDef *op = opRegistry().find(node.op);
    bool inplace = op && op->inplace >= 0;
    if (inplace)
      isFwd[n] = false;
    else if (!isFwd[n] && !needed[node.output] && !paramGrad[node.output]) {
      bool bwd = false;
      for (ValueId in : node.inputs)
        bwd = bwd || fromBackward[in];
      isFwd[n] = !bwd;
    }
    fromBackward[node.output] = !isFwd[n];
  }

  a.bytes.assign(numValues, 0);
  a.flops.assign(numNodes, 0);
  a.pos.assign(numNodes, -1);
  for (size_t n = 0; n < numNodes; ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    const OpDef *op = opRegistry().find(node.op);
    if (!paramGrad[node.output] && !(op && op->inplace >= 0))
      a.bytes[node.output] = tensorBytesAt(g.typeOf(node.output), batch);
    a.flops[n] = nodeFlops(g, node, batch);
    if (isFwd[n]) {
      a.pos[n] = static_cast<int32_t>(a.fwd.size());
      a.fwd.push_back(static_cast<NodeId>(n));
      a.forwardFlops += a.flops[n];
    }
  }

  const int32_t m = static_cast<int32_t>(a.fwd.size());
  a.lastFwdUse.assign(m, -1);
  a.readByBackward.assign(m, false);
  a.recomputable.assign(m, false);
  for (size_t n = 0; n < numNodes; ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    for (ValueId in : node.inputs) {
      const Value &v = g.value(in);
      if (v.kind != ValueKind::Node || a.pos[v.producer] < 0)
        continue;
      const int32_t p = a.pos[v.producer];
      if (isFwd[n])
        a.lastFwdUse[p] = std::max(a.lastFwdUse[p], a.pos[n]);
      else
        a.readByBackward[p] = true;
    }
  }
  for (int32_t p = 0; p < m; ++p)
    a.recomputable[p] = notRecomputable(g.node(a.fwd[p])).empty();

  // The bytes a segment would recompute, and the bytes crossing each cut.
  a.weightPrefix.assign(m + 1, 0);
  std::vector<int64_t> delta(m + 1, 0);
  for (int32_t p = 0; p < m; ++p) {
    const ValueId out = g.node(a.fwd[p]).output;
    const bool saved = a.readByBackward[p] && a.recomputable[p] && !a.external[out];
    a.weightPrefix[p + 1] = a.weightPrefix[p] + (saved ? a.bytes[out] : 0);
    if (a.lastFwdUse[p] > p) {
      delta[p + 1] += a.bytes[out];
      delta[a.lastFwdUse[p] + 1] -= a.bytes[out];
    }
  }
  a.crossing.assign(m, 0);
  int64_t run = 0;
  for (int32_t p = 0; p < m; ++p) {
    run += delta[p];
    a.crossing[p] = run;
  }
  a.argminTable.push_back({});
  for (int32_t p = 0; p < m; ++p)
    a.argminTable[0].push_back(p);
  for (int k = 1; (int64_t(1) << k) <= m; ++k) {
    const auto &prev = a.argminTable[k - 1];
    std::vector<int32_t> row(m - (1 << k) + 1);
    for (size_t i = 0; i < row.size(); ++i)
      row[i] = a.cheaper(prev[i], prev[i + (1 << (k - 1))]);
    a.argminTable.push_back(std::move(row));
  }
  return a;
}

// Chen's greedy walk: a segment closes once the bytes it would recompute pass
// `threshold`; the cut goes where the fewest bytes cross, in the second half of the
// segment so that segments do not shrink to a node. Returns the first fwd index of
// every segment but the first.
std::vector<int32_t> greedyCuts(const Analysis &a, int64_t threshold) {
  std::vector<int32_t> cuts;
  int32_t start = 0;
  const int32_t m = static_cast<int32_t>(a.fwd.size());
  for (int32_t i = 0; i < m; ++i) {
    if (i <= start || a.weightPrefix[i + 1] - a.weightPrefix[start] <= threshold)
      continue;
    const int32_t lo = std::max(start + 1, start + (i - start + 1) / 2);
    start = a.cheapestCut(lo, i);
    cuts.push_back(start);
  }
  return cuts;
}

// One step of the rewritten order: an original node, or the recompute of a forward
// node. Slots name values: ValueIds of the graph, then one per recompute.
struct Layout {
  std::vector<NodeId> node;
  std::vector<bool> recompute;
  std::vector<int32_t> slot;
  std::vector<int32_t> inputStart; // inputs of step i: inputs[inputStart[i] .. [i + 1])
  std::vector<int32_t> inputs;
  std::vector<int64_t> slotBytes;
  std::vector<bool> slotExternal;
  double recomputeFlops = 0;
  int recomputed = 0;
};

// The forward values inside a segment: not crossing a cut, not in the last segment
// (which the backward pass reaches first), not outputs. The backward pass reads
// recomputed copies of those that are recomputable.
std::vector<bool> insideSegments(const Analysis &a, const std::vector<int32_t> &cuts) {
  const int32_t m = static_cast<int32_t>(a.fwd.size());
  std::vector<int32_t> seg(m, 0);
  for (int32_t p = 0, s = 0; p < m; ++p) {
    while (s < static_cast<int32_t>(cuts.size()) && cuts[s] <= p)
      ++s;
    seg[p] = s;
  }
  const int32_t last = static_cast<int32_t>(cuts.size());
  std::vector<bool> inside(m, false);
  for (int32_t p = 0; p < m; ++p) {
    const bool crosses = a.lastFwdUse[p] >= 0 && seg[a.lastFwdUse[p]] != seg[p];
    inside[p] = !a.external[a.g.node(a.fwd[p]).output] && seg[p] != last && !crosses;
  }
  return inside;
}

std::vector<bool> droppedValues(const Analysis &a, const std::vector<int32_t> &cuts) {
  std::vector<bool> dropped = insideSegments(a, cuts);
  for (size_t p = 0; p < dropped.size(); ++p)
    dropped[p] = dropped[p] && a.recomputable[p];
  return dropped;
}

Layout layOut(const Analysis &a, const std::vector<bool> &dropped) {
  const Graph &g = a.g;
  const int32_t numValues = static_cast<int32_t>(g.values().size());
  Layout l;
  l.slotBytes = a.bytes;
  l.slotExternal = a.external;
  std::vector<int32_t> copySlot(a.fwd.size(), -1);
  // The slot a step reads for value v: its copy when the value was dropped.
  auto source = [&](ValueId v, bool fromCopy) -> int32_t {
    const Value &val = g.value(v);
    if (fromCopy && val.kind == ValueKind::Node && a.pos[val.producer] >= 0 &&
        dropped[a.pos[val.producer]]) {
      int32_t s = copySlot[a.pos[val.producer]];
      NNG_CHECK(s >= 0, "checkpoint: a recompute reads a value not recomputed yet");
      return s;
    }
    return v;
  };
  auto addStep = [&](NodeId n, bool recompute, int32_t slot, bool fromCopies) {
    l.node.push_back(n);
    l.recompute.push_back(recompute);
    l.slot.push_back(slot);
    l.inputStart.push_back(static_cast<int32_t>(l.inputs.size()));
    for (ValueId in : g.node(n).inputs)
      l.inputs.push_back(source(in, fromCopies));
  };
  // Recomputes fwd index p after the dropped values it reads (iterative: a segment
  // may be a long chain).
  std::vector<std::pair<int32_t, bool>> stack;
  auto ensure = [&](int32_t root) {
    stack.push_back({root, false});
    while (!stack.empty()) {
      auto [p, ready] = stack.back();
      stack.pop_back();
      if (copySlot[p] >= 0)
        continue;
      const Node &node = g.node(a.fwd[p]);
      if (!ready) {
        stack.push_back({p, true});
        for (ValueId in : node.inputs) {
          const Value &v = g.value(in);
          if (v.kind == ValueKind::Node && a.pos[v.producer] >= 0 && dropped[a.pos[v.producer]] &&
              copySlot[a.pos[v.producer]] < 0)
            stack.push_back({a.pos[v.producer], false});
        }
        continue;
      }
      copySlot[p] = numValues + l.recomputed;
      l.slotBytes.push_back(a.bytes[node.output]);
      l.slotExternal.push_back(false);
      addStep(a.fwd[p], true, copySlot[p], true);
      l.recomputeFlops += a.flops[a.fwd[p]];
      ++l.recomputed;
    }
  };
  for (size_t n = 0; n < g.nodes().size(); ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    if (a.pos[n] >= 0) {
      addStep(static_cast<NodeId>(n), false, node.output, false);
      continue;
    }
    for (ValueId in : node.inputs) {
      const Value &v = g.value(in);
      if (v.kind == ValueKind::Node && a.pos[v.producer] >= 0 && dropped[a.pos[v.producer]])
        ensure(a.pos[v.producer]);
    }
    addStep(static_cast<NodeId>(n), false, node.output, true);
  }
  l.inputStart.push_back(static_cast<int32_t>(l.inputs.size()));
  return l;
}

// The liveness walk: the most bytes of activations alive at once when the steps run
// in order.
int64_t peakBytes(const Layout &l) {
  const size_t steps = l.node.size();
  std::vector<int32_t> lastUse(l.slotBytes.size(), -1);
  for (size_t i = 0; i < steps; ++i)
    for (int32_t k = l.inputStart[i]; k < l.inputStart[i + 1]; ++k)
      lastUse[l.inputs[k]] = static_cast<int32_t>(i);
  std::vector<int64_t> delta(steps + 1, 0);
  for (size_t i = 0; i < steps; ++i) {
    const int32_t s = l.slot[i];
    const size_t end = l.slotExternal[s] ? steps : std::max<size_t>(i + 1, lastUse[s] + 1);
    delta[i] += l.slotBytes[s];
    delta[end] -= l.slotBytes[s];
  }
  int64_t live = 0, peak = 0;
  for (size_t i = 0; i < steps; ++i) {
    live += delta[i];
    peak = std::max(peak, live);
  }
  return peak;
}

struct Candidate {
  std::vector<int32_t> cuts;
  int64_t peak = 0;
  double flops = 0;
  int recomputed = 0;
};

Candidate evaluate(const Analysis &a, std::vector<int32_t> cuts) {
  Layout l = layOut(a, droppedValues(a, cuts));
  Candidate c;
  c.peak = peakBytes(l);
  c.flops = l.recomputeFlops;
  c.recomputed = l.recomputed;
  c.cuts = std::move(cuts);
  return c;
}

CheckpointPlan planFor(const Analysis &a, const Candidate &c, int64_t baseline) {
  CheckpointPlan plan;
  plan.hasBackward = true;
  plan.segments = static_cast<int>(c.cuts.size()) + 1;
  plan.baselineBytes = baseline;
  plan.activationBytes = c.peak;
  plan.forwardFlops = a.forwardFlops;
  plan.recomputeFlops = c.flops;
  plan.recomputedNodes = c.recomputed;
  for (int32_t p : c.cuts)
    plan.boundaries.push_back(a.fwd[p]);
  return plan;
}

} // namespace

CheckpointSpec parseCheckpointSpec(const std::string &spec) {
  if (spec == "sqrt")
    return CheckpointSpec::sqrt();
  const std::string prefix = "budget:";
  if (spec.compare(0, prefix.size(), prefix) == 0)
    return CheckpointSpec::budget(parseSize(spec, spec.substr(prefix.size())));
  throw UserError("invalid checkpoint spec '" + spec +
                  "': expected 'sqrt' (--checkpoint) or 'budget:SIZE' "
                  "(--checkpoint=budget:64MiB)");
}

int64_t activationPeakBytes(const Graph &g, int64_t batch) {
  Analysis a = analyze(g, batch);
  return peakBytes(layOut(a, std::vector<bool>(a.fwd.size(), false)));
}

CheckpointPlan planCheckpoint(const Graph &g, const CheckpointSpec &spec, int64_t batch) {
  Analysis a = analyze(g, batch);
  CheckpointPlan none;
  if (!a.hasBackward)
    return none;
  const Candidate base = evaluate(a, {});
  const int64_t total = a.weightPrefix.back();
  const int64_t m = static_cast<int64_t>(a.fwd.size());
  const int64_t segments = std::max<int64_t>(1, std::llround(std::sqrt(double(m))));
  const int64_t sqrtThreshold = std::max<int64_t>(1, total / segments);

  if (spec.kind == CheckpointSpec::Kind::Sqrt) {
    const Candidate c = total > 0 ? evaluate(a, greedyCuts(a, sqrtThreshold)) : base;
    // Recomputing what saves no memory would only cost time.
    return planFor(a, c.peak < base.peak ? c : base, base.peak);
  }

  // Budget: no checkpointing when it fits; else the cheapest fitting plan among the
  // thresholds of a geometric grid (the memory is not monotonic in the threshold:
  // small segments keep many boundaries, large ones recompute much at once).
  const int64_t budget = spec.budgetBytes;
  Candidate best = base;
  if (base.peak > budget && total > 0) {
    int64_t smallest = total;
    for (int32_t p = 0; p < m; ++p)
      if (a.weightPrefix[p + 1] > a.weightPrefix[p])
        smallest = std::min(smallest, a.weightPrefix[p + 1] - a.weightPrefix[p]);
    std::vector<int64_t> thresholds = {sqrtThreshold};
    const int steps = 32;
    for (int k = 0; k <= steps; ++k)
      thresholds.push_back(static_cast<int64_t>(
          double(smallest) * std::pow(double(total) / double(smallest), double(k) / steps)));
    auto consider = [&](Candidate c) {
      const bool fits = c.peak <= budget, bestFits = best.peak <= budget;
      const bool better =
          fits ? !bestFits || c.flops < best.flops || (c.flops == best.flops && c.peak < best.peak)
               : !bestFits && c.peak < best.peak;
      if (better)
        best = std::move(c);
      return fits;
    };
    for (int64_t t : thresholds) {
      const std::vector<int32_t> cuts = greedyCuts(a, t);
      if (!consider(evaluate(a, cuts)))
        continue;
      // The last segment costs no recompute (the backward pass starts there): merge
      // as much of the tail into it as the budget allows, found by bisection on the
      // number of cuts kept (the memory grows as the tail does).
      size_t lo = 0, hi = cuts.size(); // keeping hi cuts fits; keeping lo does not
      while (hi - lo > 1) {
        const size_t mid = (lo + hi) / 2;
        if (consider(evaluate(a, std::vector<int32_t>(cuts.begin(), cuts.begin() + mid))))
          hi = mid;
        else
          lo = mid;
      }
    }
  }
  CheckpointPlan plan = planFor(a, best, base.peak);
  plan.fits = best.peak <= budget;
  plan.missingBytes = plan.fits ? 0 : best.peak - budget;
  return plan;
}

bool applyCheckpoint(Graph &g, const CheckpointPlan &plan, PassContext *ctx) {
  if (!plan.hasBackward || plan.boundaries.empty())
    return false;
  Analysis a = analyze(g, ctx ? ctx->options().batch : 1);
  std::vector<int32_t> cuts;
  for (NodeId n : plan.boundaries) {
    NNG_CHECK(n >= 0 && static_cast<size_t>(n) < a.pos.size() && a.pos[n] >= 0,
              "checkpoint: the plan names a node that is not forward in this graph");
    cuts.push_back(a.pos[n]);
  }
  Layout l = layOut(a, droppedValues(a, cuts));
  if (l.recomputed == 0)
    return false;

  if (ctx) {
    const std::vector<std::string> names = printedNames(g);
    for (size_t k = 0; k < cuts.size(); ++k) {
      const Node &first = g.node(a.fwd[cuts[k]]);
      ctx->explain(first.loc, "segment " + std::to_string(k + 2) + " of " +
                                  std::to_string(cuts.size() + 1) + " begins at " +
                                  names.at(static_cast<size_t>(first.output)) + "; " +
                                  formatBytes(a.crossing[cuts[k]]) +
                                  " cross the cut and are kept");
    }
    // Values inside a segment that the backward pass reads but that cannot be
    // recomputed: they are kept like boundaries.
    const std::vector<bool> inside = insideSegments(a, cuts);
    for (size_t p = 0; p < a.fwd.size(); ++p)
      if (inside[p] && a.readByBackward[p] && !a.recomputable[p])
        ctx->explain(g.node(a.fwd[p]).loc,
                     "kept, not recomputed: " + notRecomputable(g.node(a.fwd[p])));
  }

  // The new graph repeats the old one's value order (inputs and params where they
  // were declared, forward nodes first), so every forward value keeps its id: the CPU
  // backend seeds dropout by the id of its output, and the kept dropout nodes must
  // draw the masks they drew before.
  Graph out;
  out.name = g.name;
  const int32_t numValues = static_cast<int32_t>(g.values().size());
  std::vector<ValueId> map(l.slotBytes.size(), kNone); // slot -> new id
  ValueId declared = 0; // old values before this one that are not nodes are declared
  auto declareUpTo = [&](ValueId end) {
    for (; declared < end; ++declared) {
      const Value &v = g.value(declared);
      if (v.kind == ValueKind::Input)
        map[declared] = out.addInput(v.name, v.type, v.loc);
      else if (v.kind != ValueKind::Node)
        map[declared] = out.addParam(v.name, v.type, v.init, v.loc, v.kind);
    }
  };
  std::vector<std::pair<NodeId, ValueId>> recomputes; // new node, old value it repeats
  for (size_t i = 0; i < l.node.size(); ++i) {
    const Node &node = g.node(l.node[i]);
    if (!l.recompute[i])
      declareUpTo(node.output);
    std::vector<ValueId> inputs;
    for (int32_t k = l.inputStart[i]; k < l.inputStart[i + 1]; ++k) {
      inputs.push_back(map[l.inputs[k]]);
      NNG_CHECK(inputs.back() != kNone, "checkpoint: input of " + node.op + " not emitted yet");
    }
    const std::string &name = l.recompute[i] ? std::string() : g.value(node.output).name;
    const ValueId id = out.addNode(node.op, std::move(inputs), node.attrs, g.typeOf(node.output),
                                   name, node.loc, node.callChain);
    map[l.slot[i]] = id;
    const NodeId made = out.value(id).producer;
    if (l.recompute[i])
      recomputes.push_back({made, node.output});
    else
      out.node(made).note = node.note;
  }
  declareUpTo(numValues);
  for (ValueId o : g.outputs())
    out.markOutput(map[o]);
  if (g.loss())
    out.setLoss(map[*g.loss()]);
  const std::vector<std::string> names = printedNames(out);
  for (const auto &[n, old] : recomputes)
    out.node(n).note = "recompute of " + names.at(static_cast<size_t>(map[old]));
  g = std::move(out);
  return true;
}

PassInfo checkpointPass() {
  return PassInfo{
      "checkpoint",
      "gradient checkpointing: recomputes forward segments in the backward pass instead of "
      "keeping their activations (--checkpoint: sqrt(n) segments; =budget:SIZE)",
      [](Graph &g, PassContext &ctx) -> bool {
        const CheckpointSpec spec = parseCheckpointSpec(ctx.options().checkpoint);
        if (!hasGradients(g)) {
          ctx.explain("no backward pass: nothing to checkpoint");
          return false;
        }
        const int64_t batch = ctx.options().batch;
        const CheckpointPlan plan = planCheckpoint(g, spec, batch);
        const std::string at = " at batch " + std::to_string(batch);
        if (!plan.fits)
          throw UserError("checkpoint budget " + formatBytes(spec.budgetBytes) +
                          " is too small for model '" + g.name + "'" + at +
                          ": the best segmentation needs " + formatBytes(plan.activationBytes) +
                          " of activations (" + formatBytes(plan.missingBytes) +
                          " missing; without checkpointing " + formatBytes(plan.baselineBytes) +
                          ")");
        if (plan.segments <= 1) {
          ctx.explain(spec.kind == CheckpointSpec::Kind::Budget
                          ? "no change: the activations fit the budget without checkpointing (" +
                                formatBytes(plan.activationBytes) + at + ")"
                          : "no change: no segmentation reduces the activation memory (" +
                                formatBytes(plan.activationBytes) + at + ")");
          return false;
        }
        if (!applyCheckpoint(g, plan, &ctx)) {
          ctx.explain("no change: no segment has activations to recompute");
          return false;
        }
        char share[32];
        std::snprintf(share, sizeof share, "%.0f%%",
                      plan.forwardFlops > 0 ? 100 * plan.recomputeFlops / plan.forwardFlops : 0);
        ctx.explain(std::to_string(plan.segments) + " segments, " +
                    std::to_string(plan.recomputedNodes) +
                    (plan.recomputedNodes == 1 ? " node" : " nodes") + " recomputed (" + share +
                    " of the forward FLOPs); activation memory " +
                    formatBytes(plan.baselineBytes) + " -> " + formatBytes(plan.activationBytes) +
                    at);
        return true;
      }};
}

} // namespace nng

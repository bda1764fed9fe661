// Parameters, FLOPs and memory of a graph (see stats.h).
#include "core/stats/stats.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/ops/costs.h"
#include "core/ops/registry.h"
#include "core/passes/autodiff.h"
#include "core/passes/checkpoint.h"
#include "core/plan/memory_plan.h"
#include "core/plan/schedule.h"
#include "core/print/nn_printer.h"
#include "core/train/optimizer.h"

namespace nng {

const char *phaseName(Phase p) {
  switch (p) {
  case Phase::Forward:
    return "forward";
  case Phase::Backward:
    return "backward";
  case Phase::Update:
    return "update";
  }
  return "?";
}

namespace {

bool isUpdateOp(const std::string &op) {
  const OpDef *def = opRegistry().find(op);
  return def != nullptr && def->inplace >= 0;
}

// By ValueId: whether the value is the gradient `grad.P` of a parameter P.
std::vector<bool> paramGradients(const Graph &g) {
  std::vector<bool> isGrad(g.values().size(), false);
  for (ValueId p : g.params()) {
    if (g.value(p).kind != ValueKind::Param)
      continue;
    ValueId gv = g.find(gradName(g.value(p).name));
    if (gv != kNone && g.value(gv).kind == ValueKind::Node)
      isGrad[static_cast<size_t>(gv)] = true;
  }
  return isGrad;
}


void addTensor(TensorTotals &t, const TensorType &type, int64_t batch) {
  t.tensors += 1;
  t.elements += type.elementsWith(batch).value_or(0);
  t.bytes += tensorBytes(type, batch);
}

std::string withCommas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

// A summary row: the FLOPs readable, then exact.
std::vector<std::string> flopsRow(const std::string &what, double f) {
  return {what, formatFlops(f), "(" + withCommas(static_cast<int64_t>(std::llround(f))) + ")"};
}

std::string locStr(const SourceLoc &l) {
  if (!l.valid())
    return "-";
  return l.file.str() + ":" + std::to_string(l.line);
}

// Left-aligned columns separated by two spaces; the columns in `right` align right. A
// row of one cell is a heading: printed as it is, it sets no column's width.
std::string table(const std::vector<std::vector<std::string>> &rows, const std::vector<bool> &right,
                  const std::string &indent) {
  std::vector<size_t> width;
  for (const auto &r : rows)
    for (size_t c = 0; c < r.size() && r.size() > 1; ++c) {
      if (width.size() <= c)
        width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  std::string out;
  for (const auto &r : rows) {
    if (r.size() == 1) {
      out += indent + r[0] + "\n";
      continue;
    }
    std::string line = indent;
    for (size_t c = 0; c < r.size(); ++c) {
      const bool last = c + 1 == r.size();
      const std::string pad(width[c] - r[c].size(), ' ');
      if (c < right.size() && right[c])
        line += pad + r[c];
      else
        line += r[c] + (last ? "" : pad);
      if (!last)
        line += "  ";
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
}

const char *sourceName(OptimizerSource s) {
  switch (s) {
  case OptimizerSource::Flag:
    return "flag";
  case OptimizerSource::Config:
    return "config";
  case OptimizerSource::Assumed:
    return "assumed";
  case OptimizerSource::Graph:
    return "graph";
  }
  return "?";
}

std::string optimizerLine(const OptimizerStats &o) {
  if (o.source == OptimizerSource::Graph)
    return "the graph's own update nodes (their state is among its buffers)";
  std::string state = o.buffersPerParam == 1
                          ? "1 buffer per parameter (momentum)"
                          : std::to_string(o.buffersPerParam) + " buffers per parameter (m, v)";
  std::string from;
  switch (o.source) {
  case OptimizerSource::Flag:
    from = "from --optimizer";
    break;
  case OptimizerSource::Config:
    from = "from " + o.origin;
    break;
  case OptimizerSource::Assumed:
    from = "assumed: no config; choose with --optimizer or --config";
    break;
  case OptimizerSource::Graph:
    break;
  }
  return o.name + ", " + state + " (" + from + ")";
}

// "1.02x": how much larger `a` is than `b`.
std::string ratio(int64_t a, int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx",
                b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 1.0);
  return buf;
}

// "recomputes 12 nodes, +1.2 M FLOPs (0.9% of the forward)".
std::string recomputeText(int nodes, double flops, double forward) {
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", forward > 0 ? 100 * flops / forward : 0.0);
  return "recomputes " + std::to_string(nodes) + (nodes == 1 ? " node, +" : " nodes, +") +
         formatFlops(flops) + " FLOPs (" + pct + " of the forward)";
}

// FLOPs as a JSON integer when whole (they nearly always are), else a number.
nlohmann::ordered_json flopsJson(double f) {
  if (std::floor(f) == f && std::fabs(f) < 9.0e15)
    return static_cast<int64_t>(f);
  return f;
}

template <class T> nlohmann::ordered_json orNull(const std::optional<T> &v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json totalsJson(const TensorTotals &t) {
  nlohmann::ordered_json j;
  j["tensors"] = t.tensors;
  j["count"] = t.elements;
  j["bytes"] = t.bytes;
  return j;
}

} // namespace

std::vector<Phase> classifyNodes(const Graph &g) {
  const size_t numNodes = g.nodes().size();
  const std::vector<bool> isGrad = paramGradients(g);
  // 1: a forward value, 2: a backward value (only a parameter gradient depends on it).
  std::vector<char> need(g.values().size(), 0);
  for (size_t v = 0; v < isGrad.size(); ++v)
    if (isGrad[v])
      need[v] = 2;
  for (ValueId o : g.outputs()) {
    const Value &ov = g.value(o);
    const bool update = ov.kind == ValueKind::Node && isUpdateOp(g.node(ov.producer).op);
    if (!isGrad[static_cast<size_t>(o)] && !update)
      need[static_cast<size_t>(o)] = 1;
  }
  if (g.loss())
    need[static_cast<size_t>(*g.loss())] = 1;

  std::vector<Phase> phase(numNodes, Phase::Forward);
  std::vector<bool> dead(numNodes, false);
  for (size_t n = numNodes; n-- > 0;) {
    const Node &node = g.node(static_cast<NodeId>(n));
    if (isUpdateOp(node.op)) {
      phase[n] = Phase::Update;
      continue;
    }
    const char mark = need[static_cast<size_t>(node.output)];
    if (mark == 0) {
      dead[n] = true;
      continue;
    }
    phase[n] = mark == 1 ? Phase::Forward : Phase::Backward;
    for (ValueId in : node.inputs)
      if (need[static_cast<size_t>(in)] == 0 || mark == 1)
        need[static_cast<size_t>(in)] = mark;
  }
  for (size_t n = 0; n < numNodes; ++n) {
    if (!dead[n])
      continue;
    for (ValueId in : g.node(static_cast<NodeId>(n)).inputs) {
      const Value &iv = g.value(in);
      if (iv.kind == ValueKind::Node && phase[static_cast<size_t>(iv.producer)] == Phase::Backward)
        phase[n] = Phase::Backward;
    }
  }
  return phase;
}

int64_t tensorBytes(const TensorType &t, int64_t batch) {
  std::optional<int64_t> n = t.elementsWith(batch);
  std::optional<int64_t> bytes =
      n ? checkedMul(*n, static_cast<int64_t>(dtypeSize(t.dtype))) : std::nullopt;
  if (!bytes)
    throw UserError("a tensor of type " + t.str() + " is too large to count at batch " +
                    std::to_string(batch));
  return *bytes;
}

std::string formatFlops(double flops) {
  if (flops < 1000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", flops);
    return buf;
  }
  return formatScaled(flops, 1000, {"K", "M", "G", "T", "P"});
}

int64_t ModelStats::persistentBytes() const {
  return params.bytes + buffers.bytes + gradients.bytes + (optimizer ? optimizer->stateBytes : 0);
}

int64_t ModelStats::plannedStepBytes() const {
  return params.bytes + buffers.bytes + (optimizer ? optimizer->stateBytes : 0) + inputs.bytes +
         arena.planned;
}

ModelStats computeStats(const Graph &g, const StatsOptions &o) {
  ModelStats s;
  s.model = printedModelName(g);
  s.batch = o.batch;
  s.train = o.train;
  if (o.train && !hasGradients(g))
    throw UserError(
        "cannot analyze the training step of model '" + s.model +
        "': " + (g.loss() ? "no parameter reaches the loss" : "it has no 'minimize' statement"));

  for (ValueId v : g.inputs())
    addTensor(s.inputs, g.typeOf(v), o.batch);
  for (ValueId p : g.params())
    addTensor(g.value(p).kind == ValueKind::Param ? s.params : s.buffers, g.typeOf(p), o.batch);
  const std::vector<bool> isGrad = paramGradients(g);
  for (ValueId p : g.params()) {
    ValueId gv = g.value(p).kind == ValueKind::Param ? g.find(gradName(g.value(p).name)) : kNone;
    if (gv != kNone && isGrad[static_cast<size_t>(gv)])
      addTensor(s.gradients, g.typeOf(gv), o.batch);
  }

  const std::vector<Phase> phases = classifyNodes(g);
  const std::vector<std::string> names = printedNames(g);
  double graphUpdateFlops = 0;
  bool hasUpdates = false;
  s.nodes.reserve(g.nodes().size());
  for (size_t n = 0; n < g.nodes().size(); ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    NodeStats ns;
    ns.id = static_cast<NodeId>(n);
    ns.name = names[static_cast<size_t>(node.output)];
    ns.op = node.op;
    ns.type = g.typeOf(node.output);
    ns.phase = phases[n];
    ns.flops = nodeFlops(g, node, o.batch);
    ns.bytes = tensorBytes(ns.type, o.batch);
    ns.loc = node.loc;
    ns.note = node.note;
    switch (ns.phase) {
    case Phase::Forward:
      s.forwardFlops += ns.flops;
      break;
    case Phase::Backward:
      s.backwardFlops += ns.flops;
      break;
    case Phase::Update:
      graphUpdateFlops += ns.flops;
      hasUpdates = true;
      break;
    }
    s.nodes.push_back(std::move(ns));
  }

  if (o.train || hasUpdates) {
    OptimizerStats os;
    os.updateFlops = graphUpdateFlops;
    if (hasUpdates) {
      // The graph carries its own update nodes (and their state among its buffers).
      os.source = OptimizerSource::Graph;
    } else {
      os.name = optimizerName(o.optimizer.type);
      os.source = o.optimizerSource;
      os.origin = o.optimizerOrigin;
      os.buffersPerParam = o.optimizer.type == OptimizerType::Sgd ? 1 : 2;
      Graph step = g;
      const size_t firstValue = step.values().size(), firstNode = step.nodes().size();
      appendOptimizerUpdate(step, o.optimizer);
      for (size_t v = firstValue; v < step.values().size(); ++v)
        if (step.values()[v].kind == ValueKind::Buffer)
          os.stateBytes += tensorBytes(step.values()[v].type, o.batch);
      for (size_t n = firstNode; n < step.nodes().size(); ++n)
        os.updateFlops += nodeFlops(step, step.node(static_cast<NodeId>(n)), o.batch);
    }
    s.optimizer = os;
  }

  const Schedule sched =
      o.streams > 1 ? scheduleStreams(g, o.streams, o.batch) : sequentialSchedule(g);
  if (o.streams > 1) {
    const ScheduleReport r = analyzeSchedule(g, sched, o.batch);
    s.schedule = ScheduleStats{r.streams, r.criticalPathFlops, r.parallelism, r.achieved, r.waits};
  }
  const MemoryPlan plan = planMemory(g, sched, valueBytesAtBatch(g, o.batch));
  s.arena = ArenaStats{static_cast<int64_t>(plan.naiveBytes), static_cast<int64_t>(plan.arenaBytes),
                       static_cast<int64_t>(plan.lowerBound), plan.inPlaceCount, plan.strategy};

  if (!o.train) {
    s.checkpointNote = "a forward graph keeps nothing for a backward pass (--train analyzes "
                       "the training step)";
  } else {
    const Graph &before = o.beforeCheckpoint ? *o.beforeCheckpoint : g;
    const CheckpointPlan cp =
        planCheckpoint(before, parseCheckpointSpec(o.checkpointSpec), o.batch);
    if (!cp.hasBackward) {
      s.checkpointNote = "no forward node feeds the backward pass";
    } else {
      CheckpointStats c;
      c.spec = o.checkpointSpec;
      c.segments = cp.segments;
      c.baselineBytes = cp.baselineBytes;
      c.activationBytes = cp.activationBytes;
      c.forwardFlops = cp.forwardFlops;
      c.recomputeFlops = cp.recomputeFlops;
      c.recomputedNodes = cp.recomputedNodes;
      Graph checkpointed = before;
      applyCheckpoint(checkpointed, cp);
      c.arenaBytes = static_cast<int64_t>(planMemory(checkpointed, sequentialSchedule(checkpointed),
                                                     valueBytesAtBatch(checkpointed, o.batch))
                                              .arenaBytes);
      s.checkpoint = c;
    }
    if (o.memBudget) {
      BudgetStats b;
      b.budget = *o.memBudget;
      b.fixedBytes = s.persistentBytes() + s.inputs.bytes;
      b.activationBudget = b.budget - b.fixedBytes;
      // With nothing left for activations, the plan of least memory shows what is missing.
      const CheckpointPlan bp = planCheckpoint(
          before, CheckpointSpec::budget(std::max<int64_t>(b.activationBudget, 1)), o.batch);
      b.segments = bp.segments;
      b.activationBytes = bp.activationBytes;
      b.recomputeFlops = bp.recomputeFlops;
      b.recomputedNodes = bp.recomputedNodes;
      b.fits = bp.hasBackward && b.activationBudget > 0 && bp.fits;
      b.missingBytes = b.fits ? 0 : b.fixedBytes + bp.activationBytes - b.budget;
      s.budget = b;
    }
  }
  return s;
}

std::string statsText(const ModelStats &s) {
  std::ostringstream out;
  out << "model " << s.model << ", batch " << s.batch << ", "
      << (s.train ? "training step" : "forward only");
  if (!s.passes.empty()) {
    out << ", passes:";
    for (const std::string &p : s.passes)
      out << " " << p;
  }
  out << "\n";
  if (s.optimizer)
    out << "optimizer: " << optimizerLine(*s.optimizer) << "\n";

  out << "\nparameters\n";
  out << table(
      {{"params", withCommas(s.params.elements),
        "in " + std::to_string(s.params.tensors) + " tensors", formatBytes(s.params.bytes)},
       {"buffers", withCommas(s.buffers.elements),
        "in " + std::to_string(s.buffers.tensors) + " tensors", formatBytes(s.buffers.bytes)}},
      {false, true, false, true}, "  ");

  out << "\nFLOPs per step\n";
  std::vector<std::vector<std::string>> flops{flopsRow("forward", s.forwardFlops)};
  if (s.train || s.backwardFlops > 0)
    flops.push_back(flopsRow("backward", s.backwardFlops));
  if (s.optimizer)
    flops.push_back(flopsRow("update", s.updateFlops()));
  flops.push_back(flopsRow("total", s.totalFlops()));
  out << table(flops, {false, true, true}, "  ");
  if (s.schedule) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "  on %d streams: critical path %s, parallelism %.2fx at most, %.2fx "
                  "achieved, %lld cross-stream waits\n",
                  s.schedule->streams, formatFlops(s.schedule->criticalPathFlops).c_str(),
                  s.schedule->parallelism, s.schedule->achieved,
                  static_cast<long long>(s.schedule->waits));
    out << buf;
  }

  out << "\nnodes\n";
  const bool notes = std::any_of(s.nodes.begin(), s.nodes.end(),
                                 [](const NodeStats &n) { return !n.note.empty(); });
  std::vector<std::vector<std::string>> rows{
      {"value", "op", "type", "phase", "FLOPs", "bytes", "source"}};
  if (notes)
    rows[0].push_back("note");
  for (const NodeStats &n : s.nodes) {
    rows.push_back({n.name, n.op, n.type.str(), phaseName(n.phase), formatFlops(n.flops),
                    formatBytes(n.bytes), locStr(n.loc)});
    if (notes)
      rows.back().push_back(n.note);
  }
  out << table(rows, {false, false, false, false, true, true, false}, "  ");

  out << "\nmemory\n";
  std::vector<std::vector<std::string>> mem{{"parameters", formatBytes(s.params.bytes)},
                                            {"buffers", formatBytes(s.buffers.bytes)}};
  if (s.train || s.gradients.tensors > 0)
    mem.push_back({"gradients", formatBytes(s.gradients.bytes), "in the arena"});
  if (s.optimizer)
    mem.push_back({"optimizer state", formatBytes(s.optimizer->stateBytes)});
  mem.push_back({"inputs", formatBytes(s.inputs.bytes)});
  mem.push_back({"arena: every node output" +
                 std::string(s.train ? " (activations and gradients)" : "") + ", " +
                 std::to_string(kArenaAlignment) + "-byte aligned"});
  mem.push_back({"  without planning", formatBytes(s.arena.naive), "every value its own buffer"});
  mem.push_back({"  planned", formatBytes(s.arena.planned),
                 ratio(s.arena.planned, s.arena.lowerBound) + " the lower bound (" +
                     s.arena.strategy + ", " + std::to_string(s.arena.inPlace) + " in place)"});
  mem.push_back({"  lower bound", formatBytes(s.arena.lowerBound), "the most bytes live at once"});
  if (s.checkpoint) {
    const CheckpointStats &c = *s.checkpoint;
    mem.push_back({"activations kept for the backward pass (peak, gradients excluded)"});
    mem.push_back({"  without checkpointing", formatBytes(c.baselineBytes)});
    std::string how = c.segments <= 1 || c.recomputedNodes == 0
                          ? "no segment boundary helps: nothing recomputed"
                          : std::to_string(c.segments) + " segments, " +
                                recomputeText(c.recomputedNodes, c.recomputeFlops, c.forwardFlops) +
                                "; arena " + formatBytes(c.arenaBytes);
    mem.push_back({"  with checkpointing (" + c.spec + ")", formatBytes(c.activationBytes), how});
  } else {
    mem.push_back({"activations with checkpointing", "n/a", s.checkpointNote});
  }
  mem.push_back({"step total, planned", formatBytes(s.plannedStepBytes()),
                 "parameters, buffers, optimizer state, inputs and the planned arena"});
  out << table(mem, {false, true, false}, "  ");

  if (s.budget) {
    const BudgetStats &b = *s.budget;
    out << "\nmemory budget " << formatBytes(b.budget) << "\n";
    std::vector<std::vector<std::string>> rows{
        {"fixed", formatBytes(b.fixedBytes),
         "parameters, buffers, gradients, optimizer state, inputs"},
        {"left for activations",
         b.activationBudget > 0 ? formatBytes(b.activationBudget) : "none"}};
    out << table(rows, {false, true, false}, "  ");
    if (b.fits && (b.segments <= 1 || b.recomputedNodes == 0)) {
      out << "  fits without checkpointing: activations peak at " << formatBytes(b.activationBytes)
          << "\n";
    } else if (b.fits) {
      out << "  fits with " << b.segments << " checkpoint segments: activations peak at "
          << formatBytes(b.activationBytes) << ", "
          << recomputeText(b.recomputedNodes, b.recomputeFlops, s.forwardFlops)
          << "\n  to train with this plan: --checkpoint=budget:" << b.activationBudget << "\n";
    } else {
      out << "  does not fit: " << formatBytes(b.missingBytes) << " missing (" << b.missingBytes
          << " bytes); the least memory found, " << b.segments << " segments, needs "
          << formatBytes(b.activationBytes) << " of activations";
      if (b.activationBudget <= 0)
        out << ", and the fixed part alone exceeds the budget";
      out << "\n";
    }
  }
  return out.str();
}

std::string statsJson(const ModelStats &s) {
  using J = nlohmann::ordered_json;
  J j;
  j["model"] = s.model;
  j["batch"] = s.batch;
  j["train"] = s.train;
  j["passes"] = s.passes;
  j["params"] = totalsJson(s.params);
  j["buffers"] = totalsJson(s.buffers);
  j["inputs"] = totalsJson(s.inputs);
  if (s.optimizer) {
    J o;
    o["name"] = s.optimizer->name;
    o["source"] = sourceName(s.optimizer->source);
    o["origin"] = s.optimizer->origin;
    o["buffers_per_param"] = s.optimizer->buffersPerParam;
    o["state_bytes"] = s.optimizer->stateBytes;
    j["optimizer"] = o;
  } else {
    j["optimizer"] = nullptr;
  }
  J f;
  f["forward"] = flopsJson(s.forwardFlops);
  f["backward"] = flopsJson(s.backwardFlops);
  f["update"] = flopsJson(s.updateFlops());
  f["total"] = flopsJson(s.totalFlops());
  j["flops"] = f;
  if (s.schedule) {
    J sc;
    sc["streams"] = s.schedule->streams;
    sc["critical_path_flops"] = flopsJson(s.schedule->criticalPathFlops);
    sc["parallelism"] = s.schedule->parallelism;
    sc["achieved"] = s.schedule->achieved;
    sc["waits"] = s.schedule->waits;
    j["schedule"] = sc;
  } else {
    j["schedule"] = nullptr;
  }
  J m;
  m["params"] = s.params.bytes;
  m["buffers"] = s.buffers.bytes;
  m["gradients"] = s.gradients.bytes;
  m["optimizer_state"] = s.optimizer ? s.optimizer->stateBytes : 0;
  m["inputs"] = s.inputs.bytes;
  J a;
  a["naive"] = s.arena.naive;
  a["planned"] = s.arena.planned;
  a["lower_bound"] = s.arena.lowerBound;
  a["in_place"] = s.arena.inPlace;
  a["strategy"] = s.arena.strategy;
  m["arena"] = a;
  if (s.checkpoint) {
    J c;
    c["spec"] = s.checkpoint->spec;
    c["segments"] = s.checkpoint->segments;
    c["baseline_bytes"] = s.checkpoint->baselineBytes;
    c["activation_bytes"] = s.checkpoint->activationBytes;
    c["recomputed_nodes"] = s.checkpoint->recomputedNodes;
    c["recompute_flops"] = flopsJson(s.checkpoint->recomputeFlops);
    c["arena_bytes"] = s.checkpoint->arenaBytes;
    m["checkpoint"] = c;
  } else {
    m["checkpoint"] = nullptr;
    m["checkpoint_unavailable"] = s.checkpointNote;
  }
  m["step_planned"] = s.plannedStepBytes();
  j["memory"] = m;
  if (s.budget) {
    J b;
    b["budget"] = s.budget->budget;
    b["fixed_bytes"] = s.budget->fixedBytes;
    b["activation_budget"] = s.budget->activationBudget;
    b["fits"] = s.budget->fits;
    b["segments"] = s.budget->segments;
    b["activation_bytes"] = s.budget->activationBytes;
    b["missing_bytes"] = s.budget->missingBytes;
    b["recomputed_nodes"] = s.budget->recomputedNodes;
    b["recompute_flops"] = flopsJson(s.budget->recomputeFlops);
    j["mem_budget"] = b;
  } else {
    j["mem_budget"] = nullptr;
  }
  J nodes = J::array();
  for (const NodeStats &n : s.nodes) {
    J e;
    e["value"] = n.name;
    e["op"] = n.op;
    e["type"] = n.type.str();
    e["phase"] = phaseName(n.phase);
    e["flops"] = flopsJson(n.flops);
    e["bytes"] = n.bytes;
    e["loc"] = n.loc.valid() ? J(locStr(n.loc)) : J(nullptr);
    e["note"] = n.note;
    nodes.push_back(e);
  }
  j["nodes"] = nodes;
  return j.dump(2) + "\n";
}

} // namespace nng

// The reuse pass: memory planning made visible. It plans the graph's activations for
// the sequential order with every symbolic dimension bound to PassOptions::batch
// (core/plan/memory_plan.h: liveness, in place where an input dies at a node that may
// overwrite it, offsets into one arena), writes each node's place as its note
// ("arena 0+401408", "arena 0+401408, in place of t3") and explains the totals. It
// does not change the computation: the executor plans again for the sizes it binds
// (ExecutorOptions::arena), with the same planner, so what this pass prints is what
// the executor does at that batch size.
#include <cstdio>

#include "core/ops/registry.h"
#include "core/passes/passes.h"
#include "core/plan/memory_plan.h"
#include "core/plan/schedule.h"
#include "core/diag/units.h"
#include "core/print/nn_printer.h"

namespace nng {

namespace {


std::string ratioText(size_t a, size_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", b ? static_cast<double>(a) / static_cast<double>(b) : 1);
  return buf;
}

bool runReuse(Graph &g, PassContext &ctx) {
  const std::vector<size_t> bytes = valueBytesAtBatch(g, ctx.options().batch);
  const MemoryPlan plan = planMemory(g, sequentialSchedule(g), bytes);
  const std::vector<std::string> names = printedNames(g);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    Node &n = g.node(static_cast<NodeId>(i));
    const auto v = static_cast<size_t>(n.output);
    std::string note;
    if (plan.offset[v] >= 0)
      note = "arena " + std::to_string(plan.offset[v]) + "+" + std::to_string(bytes[v]);
    const ValueId over = plan.inPlaceOf[v];
    if (over != kNone) {
      const std::string &what = names[static_cast<size_t>(over)];
      note += (note.empty() ? "" : ", ") + std::string("in place of ") + what;
      // Spelled out only for --explain: a large graph has thousands of these.
      if (ctx.explaining()) {
        const OpDef *op = opRegistry().find(n.op);
        if (op && op->inplace < 0)
          ctx.explain(n.loc, names[v] + " = " + n.op + "(...) overwrites " + what +
                                 ", which nothing reads later");
      }
    }
    if (!note.empty())
      n.note += (n.note.empty() ? "" : "; ") + note;
  }
  auto text = [](size_t n) { return formatBytes(static_cast<int64_t>(n)); };
  ctx.explain("arena " + text(plan.arenaBytes) + ", lower bound " + text(plan.lowerBound) +
              " (" + ratioText(plan.arenaBytes, plan.lowerBound) + "), no sharing " +
              text(plan.naiveBytes));
  ctx.explain("sizes at batch " + std::to_string(ctx.options().batch) + "; " +
              std::to_string(plan.inPlaceCount) +
              (plan.inPlaceCount == 1 ? " output" : " outputs") + " in place; offsets by " +
              (plan.strategy.empty() ? std::string("nothing to place") : plan.strategy));
  return false; // notes only: the computation is unchanged
}

} // namespace

PassInfo reusePass() {
  return PassInfo{"reuse",
                  "memory planning: liveness, in-place outputs and offsets in one arena, "
                  "shown as notes",
                  runReuse};
}

} // namespace nng

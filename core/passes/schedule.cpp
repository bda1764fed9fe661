// The schedule pass (--streams N): assigns independent branches to parallel streams
// (core/plan/streams.cpp), writes each node's stream and waits as its note, and
// explains the total work, the critical path and the parallelism reached. The node
// order stays the graph's: every stream runs its nodes in that order, so reordering
// would change nothing that runs and only make the printed graph harder to compare.
#include <cstdio>

#include "core/passes/passes.h"
#include "core/plan/schedule.h"
#include "core/print/nn_printer.h"

namespace nng {

namespace {

// "1.2 GFLOP", "350 kFLOP".
std::string flopsText(double f) {
  static const char *const units[] = {"", "k", "M", "G", "T", "P"};
  size_t u = 0;
  while (f >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
    f /= 1000;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, f < 10 && u > 0 ? "%.1f %sFLOP" : "%.0f %sFLOP", f, units[u]);
  return buf;
}

std::string ratioText(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", r);
  return buf;
}

std::string workText(const ScheduleReport &r) {
  return "total work " + flopsText(r.totalFlops) + ", critical path " +
         flopsText(r.criticalPathFlops) + ", parallelism " + ratioText(r.parallelism);
}

bool runSchedule(Graph &g, PassContext &ctx) {
  const int requested = ctx.options().streams;
  const int64_t batch = ctx.options().batch;
  if (g.nodes().empty()) {
    ctx.explain("nothing to schedule: the graph has no nodes");
    return false;
  }
  const Schedule s = scheduleStreams(g, std::max(requested, 1), batch);
  const ScheduleReport r = analyzeSchedule(g, s, batch);
  if (requested <= 1) {
    ctx.explain("1 stream: nothing runs in parallel (--streams N asks for N); " + workText(r));
    return false;
  }
  if (s.streams == 1) {
    if (r.criticalPathFlops >= r.totalFlops)
      ctx.explain("1 of " + std::to_string(requested) +
                  " streams used: the graph is a chain, nothing can run in parallel (" +
                  workText(r) + ")");
    else
      ctx.explain("1 of " + std::to_string(requested) +
                  " streams used: the independent branches are too small to pay for a "
                  "cross-stream wait (" +
                  workText(r) + ")");
    return false;
  }

  const std::vector<std::string> names = printedNames(g);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    std::string text = "stream " + std::to_string(s.stream[i]);
    for (size_t w = 0; w < s.waits[i].size(); ++w) {
      const Node &waited = g.node(s.waits[i][w]);
      text += (w ? ", " : "; waits for ") + names[static_cast<size_t>(waited.output)];
    }
    Node &node = g.node(static_cast<NodeId>(i));
    node.note = node.note.empty() ? text : node.note + "; " + text;
  }
  std::string perStream;
  for (size_t t = 0; t < r.streamFlops.size(); ++t)
    perStream += (t ? ", " : "") + flopsText(r.streamFlops[t]);
  ctx.explain(std::to_string(s.streams) + " streams: " + workText(r) + " (achieved " +
              ratioText(r.achieved) + "); " + std::to_string(r.waits) +
              (r.waits == 1 ? " cross-stream wait" : " cross-stream waits") +
              "; work per stream " + perStream);
  return true;
}

} // namespace

PassInfo schedulePass() {
  return PassInfo{"schedule",
                  "parallel streams: independent branches run concurrently, synchronized "
                  "only on cross-stream edges",
                  runSchedule};
}

} // namespace nng

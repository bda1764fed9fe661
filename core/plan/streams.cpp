// The parallel schedule: dependencies (data and in-place buffer order), a greedy
// list schedule onto streams, the pruned cross-stream waits, and its analysis
// (total work, critical path, achieved parallelism).
#include <algorithm>
#include <limits>
#include <numeric>

#include "core/ops/costs.h"
#include "core/ops/registry.h"
#include "core/plan/schedule.h"

namespace nng {

namespace {

// The scheduler's cost model beyond FLOPs, in FLOP-equivalents: a node costs at least
// a kernel call, and a cross-stream wait a synchronization. They keep branches of
// FLOP-free nodes (reshapes, slices) from spreading over streams for no gain; the
// report (analyzeSchedule) counts FLOPs only.
constexpr double kNodeCost = 1e3;
constexpr double kWaitCost = 1e4;

void sortUnique(std::vector<NodeId> &v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

} // namespace

std::vector<std::vector<NodeId>> scheduleDependencies(const Graph &g) {
  const size_t n = g.nodes().size(), nv = g.values().size();
  std::vector<std::vector<NodeId>> deps(n);
  // The buffer each value lives in: an in-place op's output is its input's buffer.
  std::vector<ValueId> root(nv);
  std::iota(root.begin(), root.end(), 0);
  // The buffers each node writes besides its own output: an in-place op's input, and
  // the state buffers a stateful op updates (batch_norm's running statistics). The
  // registry does not say which inputs a stateful op writes; its Buffer inputs are
  // taken as written, except for in-place ops, whose other state (momentum) is theirs
  // alone while the buffers they share (learning rate, step) are only read.
  std::vector<std::vector<ValueId>> writes(n);
  std::vector<char> written(nv, 0);
  for (size_t i = 0; i < n; ++i) {
    const Node &node = g.nodes()[i];
    for (ValueId in : node.inputs)
      if (g.value(in).kind == ValueKind::Node)
        deps[i].push_back(g.value(in).producer);
    const OpDef *def = opRegistry().find(node.op);
    if (!def)
      continue;
    if (def->inplace >= 0 && static_cast<size_t>(def->inplace) < node.inputs.size()) {
      ValueId r = root[static_cast<size_t>(node.inputs[static_cast<size_t>(def->inplace)])];
      root[static_cast<size_t>(node.output)] = r;
      writes[i].push_back(r);
    } else if (def->stateful) {
      for (ValueId in : node.inputs)
        if (g.value(in).kind == ValueKind::Buffer)
          writes[i].push_back(root[static_cast<size_t>(in)]);
    }
    for (ValueId r : writes[i])
      written[static_cast<size_t>(r)] = 1;
  }
  // Around each write of such a buffer, the other accesses keep their graph order:
  // readers since the last write precede the next one, which precedes later readers.
  std::vector<NodeId> lastWriter(nv, kNone);
  std::vector<std::vector<NodeId>> readers(nv);
  for (size_t i = 0; i < n; ++i) {
    const Node &node = g.nodes()[i];
    for (ValueId in : node.inputs) {
      size_t r = static_cast<size_t>(root[static_cast<size_t>(in)]);
      if (!written[r])
        continue;
      if (lastWriter[r] != kNone)
        deps[i].push_back(lastWriter[r]);
      readers[r].push_back(static_cast<NodeId>(i));
    }
    for (ValueId w : writes[i]) {
      const size_t r = static_cast<size_t>(w);
      for (NodeId u : readers[r])
        if (u != static_cast<NodeId>(i))
          deps[i].push_back(u);
      if (lastWriter[r] != kNone)
        deps[i].push_back(lastWriter[r]);
      readers[r].clear();
      lastWriter[r] = static_cast<NodeId>(i);
    }
  }
  for (auto &d : deps)
    sortUnique(d);
  return deps;
}

std::vector<double> nodeFlops(const Graph &g, int64_t batch) {
  std::vector<double> flops(g.nodes().size(), 0.0);
  for (size_t i = 0; i < g.nodes().size(); ++i)
    flops[i] = nodeFlops(g, g.nodes()[i], batch);
  return flops;
}

namespace {

// The schedule running node i on stream raw[i] (streams renumbered by first use),
// each stream in graph order, with the pruned waits.
Schedule withWaits(const std::vector<std::vector<NodeId>> &deps, const std::vector<int> &raw) {
  const size_t n = raw.size();
  Schedule sch;
  sch.order.resize(n);
  std::iota(sch.order.begin(), sch.order.end(), 0);
  sch.stream.assign(n, 0);
  sch.waits.assign(n, {});
  // Streams numbered by first use.
  std::vector<int> renumber(
      raw.empty() ? 0 : static_cast<size_t>(*std::max_element(raw.begin(), raw.end())) + 1, -1);
  int used = 0;
  for (size_t i = 0; i < n; ++i) {
    int &r = renumber[static_cast<size_t>(raw[i])];
    if (r < 0)
      r = used++;
    sch.stream[i] = r;
  }
  sch.streams = std::max(used, 1);
  if (sch.streams == 1)
    return sch;

  // Waits, pruned with vector clocks: known[s][t] counts the nodes of stream t that
  // stream s has (transitively) synchronized with; a dependency already counted needs
  // no wait. Clocks are kept only for nodes some other stream depends on.
  const size_t k = static_cast<size_t>(sch.streams);
  std::vector<int32_t> pos(n), count(k, 0), known(k * k, 0);
  std::vector<int32_t> clockAt(n, -1);
  size_t clocked = 0;
  for (size_t i = 0; i < n; ++i)
    for (NodeId p : deps[i]) {
      const size_t pi = static_cast<size_t>(p);
      if (sch.stream[pi] != sch.stream[i] && clockAt[pi] < 0)
        clockAt[pi] = static_cast<int32_t>(clocked++);
    }
  std::vector<int32_t> clocks(clocked * k);
  std::vector<NodeId> latest(k, kNone);
  std::vector<NodeId> candidates;
  for (size_t i = 0; i < n; ++i) {
    const size_t s = static_cast<size_t>(sch.stream[i]);
    int32_t *mine = &known[s * k];
    pos[i] = count[s]++;
    candidates.clear();
    for (NodeId p : deps[i]) {
      const size_t pi = static_cast<size_t>(p), t = static_cast<size_t>(sch.stream[pi]);
      if (t == s || mine[t] > pos[pi])
        continue;
      if (latest[t] == kNone)
        candidates.push_back(p);
      if (latest[t] == kNone || p > latest[t])
        latest[t] = p;
    }
    for (NodeId &c : candidates) {
      const size_t t = static_cast<size_t>(sch.stream[static_cast<size_t>(c)]);
      c = latest[t];
      latest[t] = kNone;
    }
    // Latest first: waiting for a later node may cover an earlier one on another stream.
    std::sort(candidates.rbegin(), candidates.rend());
    for (NodeId c : candidates) {
      const size_t ci = static_cast<size_t>(c), t = static_cast<size_t>(sch.stream[ci]);
      if (mine[t] > pos[ci])
        continue;
      sch.waits[i].push_back(c);
      const int32_t *theirs = &clocks[static_cast<size_t>(clockAt[ci]) * k];
      for (size_t u = 0; u < k; ++u)
        mine[u] = std::max(mine[u], theirs[u]);
    }
    std::sort(sch.waits[i].begin(), sch.waits[i].end());
    mine[s] = pos[i] + 1;
    if (clockAt[i] >= 0)
      std::copy(mine, mine + k, &clocks[static_cast<size_t>(clockAt[i]) * k]);
  }
  return sch;
}

} // namespace

Schedule scheduleStreams(const Graph &g, int streams, int64_t batch) {
  NNG_CHECK(streams >= 1, "scheduleStreams needs at least one stream");
  const size_t n = g.nodes().size();
  const std::vector<std::vector<NodeId>> deps = scheduleDependencies(g);
  const std::vector<double> flops = nodeFlops(g, batch);

  // Greedy list schedule in graph order: each node goes where it could start first
  // (its stream's last node done, its dependencies done plus a wait for those on other
  // streams); ties go to fewer waits, then the lower stream. A cheap node without
  // dependencies (a constant) is placed with its first consumer instead: on a stream
  // of its own it would only cost that consumer a wait.
  const size_t slots = static_cast<size_t>(streams);
  constexpr int kLater = -1;
  std::vector<int> raw(n, 0);
  std::vector<double> finish(n, 0.0), ready(slots, 0.0);
  std::vector<int> depStreams;
  std::vector<NodeId> placed, later;
  for (size_t i = 0; i < n; ++i) {
    if (deps[i].empty() && flops[i] + kNodeCost < kWaitCost) {
      raw[i] = kLater;
      continue;
    }
    placed.clear();
    later.clear();
    for (NodeId p : deps[i])
      (raw[static_cast<size_t>(p)] == kLater ? later : placed).push_back(p);
    depStreams.clear();
    double withWait = 0; // start on a stream holding none of the dependencies
    for (NodeId p : placed) {
      withWait = std::max(withWait, finish[static_cast<size_t>(p)] + kWaitCost);
      depStreams.push_back(raw[static_cast<size_t>(p)]);
    }
    std::sort(depStreams.begin(), depStreams.end());
    depStreams.erase(std::unique(depStreams.begin(), depStreams.end()), depStreams.end());
    const size_t otherWaits = depStreams.size();

    int best = -1;
    double bestStart = std::numeric_limits<double>::infinity();
    size_t bestWaits = 0;
    auto consider = [&](int s, double start, size_t waits) {
      if (best < 0 || start < bestStart ||
          (start == bestStart && (waits < bestWaits || (waits == bestWaits && s < best)))) {
        best = s;
        bestStart = start;
        bestWaits = waits;
      }
    };
    for (int s : depStreams) {
      double start = ready[static_cast<size_t>(s)];
      for (NodeId p : placed) {
        const size_t pi = static_cast<size_t>(p);
        start = std::max(start, finish[pi] + (raw[pi] == s ? 0.0 : kWaitCost));
      }
      consider(s, start, otherWaits - 1);
    }
    // Of the streams without a dependency only the least loaded can win.
    int idle = -1;
    for (size_t s = 0, k = 0; s < slots; ++s) {
      while (k < depStreams.size() && static_cast<size_t>(depStreams[k]) < s)
        ++k;
      if (k < depStreams.size() && static_cast<size_t>(depStreams[k]) == s)
        continue;
      if (idle < 0 || ready[s] < ready[static_cast<size_t>(idle)])
        idle = static_cast<int>(s);
    }
    if (idle >= 0)
      consider(idle, std::max(ready[static_cast<size_t>(idle)], withWait), otherWaits);
    const size_t b = static_cast<size_t>(best);
    for (NodeId p : later) {
      const size_t pi = static_cast<size_t>(p);
      raw[pi] = best;
      finish[pi] = ready[b] + flops[pi] + kNodeCost;
      ready[b] = finish[pi];
      bestStart = std::max(bestStart, finish[pi]);
    }
    raw[i] = best;
    finish[i] = bestStart + flops[i] + kNodeCost;
    ready[b] = finish[i];
  }
  // Cheap sources nothing consumes go to the least loaded stream.
  for (size_t i = 0; i < n; ++i)
    if (raw[i] == kLater) {
      const size_t b =
          static_cast<size_t>(std::min_element(ready.begin(), ready.end()) - ready.begin());
      raw[i] = static_cast<int>(b);
      ready[b] += flops[i] + kNodeCost;
    }

  return withWaits(deps, raw);
}

Schedule scheduleOnStreams(const Graph &g, const std::vector<int> &stream) {
  NNG_CHECK(stream.size() == g.nodes().size(), "one stream per node expected");
  for (int s : stream)
    NNG_CHECK(s >= 0, "negative stream");
  return withWaits(scheduleDependencies(g), stream);
}

ScheduleReport analyzeSchedule(const Graph &g, const Schedule &s, int64_t batch) {
  const size_t n = g.nodes().size();
  NNG_CHECK(s.order.size() == n && s.stream.size() == n && s.waits.size() == n,
            "schedule does not match the graph");
  const std::vector<std::vector<NodeId>> deps = scheduleDependencies(g);
  const std::vector<double> flops = nodeFlops(g, batch);
  ScheduleReport r;
  r.streams = s.streams;
  r.streamFlops.assign(static_cast<size_t>(s.streams), 0.0);

  std::vector<double> path(n,
                           0.0); // heaviest path ending at each node (graph order is topological)
  for (size_t i = 0; i < n; ++i) {
    double before = 0;
    for (NodeId p : deps[i])
      before = std::max(before, path[static_cast<size_t>(p)]);
    path[i] = before + flops[i];
    r.totalFlops += flops[i];
    r.criticalPathFlops = std::max(r.criticalPathFlops, path[i]);
  }

  // Each stream runs its nodes in `order`, a node starting once its stream's previous
  // node and the nodes it waits for are done.
  std::vector<double> finish(n, 0.0), streamEnd(static_cast<size_t>(s.streams), 0.0);
  for (NodeId id : s.order) {
    const size_t i = static_cast<size_t>(id), st = static_cast<size_t>(s.stream[i]);
    double start = streamEnd[st];
    for (NodeId w : s.waits[i])
      start = std::max(start, finish[static_cast<size_t>(w)]);
    finish[i] = start + flops[i];
    streamEnd[st] = finish[i];
    r.makespanFlops = std::max(r.makespanFlops, finish[i]);
    r.streamFlops[st] += flops[i];
    r.waits += static_cast<int64_t>(s.waits[i].size());
  }
  r.parallelism = r.criticalPathFlops > 0 ? r.totalFlops / r.criticalPathFlops : 1.0;
  r.achieved = r.makespanFlops > 0 ? r.totalFlops / r.makespanFlops : 1.0;
  return r;
}

} // namespace nng

// Memory planning (see memory_plan.h): liveness over the schedule, in-place sharing,
// and offsets into one arena.
#include "core/plan/memory_plan.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "core/ops/registry.h"

namespace nng {

namespace {

size_t alignUp(size_t b) { return (b + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// Placed items by their position ranges: a segment tree over [0, span) that stores
// each item at the O(log n) nodes covering its range, so a query visits only the
// nodes on the way to items that overlap it.
class IntervalIndex {
public:
  explicit IntervalIndex(int32_t span)
      : span_(std::max<int32_t>(span, 1)), head_(4 * static_cast<size_t>(span_), -1),
        count_(4 * static_cast<size_t>(span_), 0) {}

  void insert(int32_t item, int32_t first, int32_t last) {
    insert(1, 0, span_ - 1, first, last, item);
  }

  // Calls visit(item) for every stored item whose range meets [first, last] (an item
  // may come more than once).
  template <typename F> void query(int32_t first, int32_t last, F &&visit) const {
    query(1, 0, span_ - 1, first, last, visit);
  }

private:
  void insert(size_t node, int32_t lo, int32_t hi, int32_t first, int32_t last, int32_t item) {
    ++count_[node];
    if (first <= lo && hi <= last) {
      next_.push_back(head_[node]);
      item_.push_back(item);
      head_[node] = static_cast<int32_t>(item_.size() - 1);
      return;
    }
    const int32_t mid = lo + (hi - lo) / 2;
    if (first <= mid)
      insert(2 * node, lo, mid, first, last, item);
    if (last > mid)
      insert(2 * node + 1, mid + 1, hi, first, last, item);
  }

  template <typename F>
  void query(size_t node, int32_t lo, int32_t hi, int32_t first, int32_t last, F &visit) const {
    if (count_[node] == 0 || hi < first || lo > last)
      return;
    for (int32_t e = head_[node]; e >= 0; e = next_[static_cast<size_t>(e)])
      visit(item_[static_cast<size_t>(e)]);
    if (lo == hi)
      return;
    const int32_t mid = lo + (hi - lo) / 2;
    query(2 * node, lo, mid, first, last, visit);
    query(2 * node + 1, mid + 1, hi, first, last, visit);
  }

  int32_t span_;
  std::vector<int32_t> head_;        // per tree node: its first entry, -1 for none
  std::vector<int32_t> count_;       // per tree node: entries stored in its subtree
  std::vector<int32_t> next_, item_; // entries: a list per tree node
};

int32_t spanOf(const std::vector<ArenaItem> &items) {
  int32_t span = 1;
  for (const ArenaItem &it : items)
    span = std::max(span, it.last + 1);
  return span;
}

// How many pairs of items have overlapping ranges: all pairs but those where one ends
// before the other starts. O(n log n).
int64_t overlappingPairs(const std::vector<ArenaItem> &items) {
  std::vector<int32_t> lasts;
  for (const ArenaItem &it : items)
    if (it.bytes > 0)
      lasts.push_back(it.last);
  std::sort(lasts.begin(), lasts.end());
  const auto n = static_cast<int64_t>(lasts.size());
  int64_t apart = 0;
  for (const ArenaItem &it : items)
    if (it.bytes > 0)
      apart += std::lower_bound(lasts.begin(), lasts.end(), it.first) - lasts.begin();
  return n * (n - 1) / 2 - apart;
}

// Largest first, each into the smallest gap that holds it among the placed items whose
// ranges overlap it, else just above the highest of them. The work is about the number
// of overlapping pairs times log n.
ArenaLayout greedyBySize(const std::vector<ArenaItem> &items) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].bytes > 0)
      order.push_back(static_cast<int32_t>(i));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const ArenaItem &x = items[static_cast<size_t>(a)], &y = items[static_cast<size_t>(b)];
    if (x.bytes != y.bytes)
      return x.bytes > y.bytes;
    if (x.first != y.first)
      return x.first < y.first;
    if (x.last != y.last)
      return x.last > y.last;
    return a < b;
  });
  ArenaLayout out;
  out.offset.assign(items.size(), 0);
  out.strategy = "greedy by size";
  IntervalIndex index(spanOf(items));
  std::vector<int32_t> seen(items.size(), -1);
  std::vector<std::pair<size_t, size_t>> near; // overlapping placed items: [begin, end)
  for (size_t k = 0; k < order.size(); ++k) {
    const auto id = static_cast<size_t>(order[k]);
    const ArenaItem &it = items[id];
    near.clear();
    index.query(it.first, it.last, [&](int32_t j) {
      const auto u = static_cast<size_t>(j);
      if (seen[u] == static_cast<int32_t>(k))
        return;
      seen[u] = static_cast<int32_t>(k);
      near.emplace_back(out.offset[u], out.offset[u] + items[u].bytes);
    });
    std::sort(near.begin(), near.end());
    size_t top = 0, best = std::numeric_limits<size_t>::max(),
           bestGap = std::numeric_limits<size_t>::max();
    for (const auto &[begin, end] : near) {
      if (begin > top && begin - top >= it.bytes && begin - top < bestGap) {
        best = top;
        bestGap = begin - top;
      }
      top = std::max(top, end);
    }
    out.offset[id] = best != std::numeric_limits<size_t>::max() ? best : top;
    out.bytes = std::max(out.bytes, out.offset[id] + it.bytes);
    index.insert(order[k], it.first, it.last);
  }
  return out;
}

// In position order, like a best-fit allocator with coalescing: at each position the
// items starting there take the smallest free block that holds them (largest item
// first), else the top of the arena grows; then the items ending there are freed.
ArenaLayout inOrder(const std::vector<ArenaItem> &items) {
  const int32_t span = spanOf(items);
  std::vector<std::vector<int32_t>> starts(static_cast<size_t>(span)),
      ends(static_cast<size_t>(span));
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].bytes > 0) {
      starts[static_cast<size_t>(items[i].first)].push_back(static_cast<int32_t>(i));
      ends[static_cast<size_t>(items[i].last)].push_back(static_cast<int32_t>(i));
    }
  ArenaLayout out;
  out.offset.assign(items.size(), 0);
  out.strategy = "in order";
  std::set<std::pair<size_t, size_t>> bySize; // free blocks: (bytes, offset)
  std::map<size_t, size_t> byOffset;          // free blocks: offset -> bytes
  size_t top = 0;                             // the end of the used part
  auto take = [&](std::map<size_t, size_t>::iterator b) {
    bySize.erase({b->second, b->first});
    byOffset.erase(b);
  };
  auto allocate = [&](size_t bytes) {
    auto fit = bySize.lower_bound({bytes, 0});
    if (fit != bySize.end()) {
      const auto [size, offset] = *fit;
      take(byOffset.find(offset));
      if (size > bytes) {
        byOffset[offset + bytes] = size - bytes;
        bySize.insert({size - bytes, offset + bytes});
      }
      return offset;
    }
    // No free block touches the top (release lowers it instead), so the arena grows.
    const size_t offset = top;
    top += bytes;
    out.bytes = std::max(out.bytes, top);
    return offset;
  };
  auto release = [&](size_t offset, size_t bytes) {
    auto nextBlock = byOffset.lower_bound(offset);
    if (nextBlock != byOffset.begin()) {
      auto prev = std::prev(nextBlock);
      if (prev->first + prev->second == offset) {
        offset = prev->first;
        bytes += prev->second;
        take(prev);
      }
    }
    nextBlock = byOffset.lower_bound(offset);
    if (nextBlock != byOffset.end() && offset + bytes == nextBlock->first) {
      bytes += nextBlock->second;
      take(nextBlock);
    }
    if (offset + bytes == top) {
      top = offset;
      return;
    }
    byOffset[offset] = bytes;
    bySize.insert({bytes, offset});
  };
  for (size_t p = 0; p < static_cast<size_t>(span); ++p) {
    std::vector<int32_t> &now = starts[p];
    std::stable_sort(now.begin(), now.end(), [&](int32_t a, int32_t b) {
      return items[static_cast<size_t>(a)].bytes > items[static_cast<size_t>(b)].bytes;
    });
    for (int32_t i : now)
      out.offset[static_cast<size_t>(i)] = allocate(items[static_cast<size_t>(i)].bytes);
    for (int32_t i : ends[p])
      release(out.offset[static_cast<size_t>(i)], items[static_cast<size_t>(i)].bytes);
  }
  return out;
}

} // namespace

ArenaLayout placeItems(const std::vector<ArenaItem> &items) {
  for (const ArenaItem &it : items)
    NNG_CHECK(it.first >= 0 && it.first <= it.last, "arena item with an empty range");
  ArenaLayout ordered = inOrder(items);
  // Greedy by size looks at every overlapping pair: few in chains, about n^2 / 2 in
  // training graphs, where forward values live until their backward use. Up to the
  // limit (about 2000 such storages, well under 0.1 s) it runs; past it the in-order
  // layout is used alone, which is fast but leaves more holes in training graphs (up
  // to about 1.5x the lower bound on the examples).
  constexpr int64_t kMaxOverlappingPairs = 2000000;
  if (overlappingPairs(items) > kMaxOverlappingPairs)
    return ordered;
  ArenaLayout greedy = greedyBySize(items);
  return greedy.bytes <= ordered.bytes ? greedy : ordered;
}

size_t liveBytesPeak(const std::vector<ArenaItem> &items) {
  std::vector<int64_t> delta(static_cast<size_t>(spanOf(items)) + 1, 0);
  for (const ArenaItem &it : items) {
    delta[static_cast<size_t>(it.first)] += static_cast<int64_t>(it.bytes);
    delta[static_cast<size_t>(it.last) + 1] -= static_cast<int64_t>(it.bytes);
  }
  int64_t live = 0, peak = 0;
  for (int64_t d : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return static_cast<size_t>(peak);
}

MemoryPlan planMemory(const Graph &g, const Schedule &schedule, const std::vector<size_t> &bytes,
                      const MemoryPlanOptions &options) {
  const size_t numValues = g.values().size(), numNodes = g.nodes().size();
  NNG_CHECK(bytes.size() == numValues, "planMemory: one size per value expected");
  NNG_CHECK(schedule.order.size() == numNodes, "planMemory: the schedule misses nodes");
  const bool multi = schedule.streams > 1;
  const int streams = multi ? schedule.streams : 1;
  auto streamOf = [&](NodeId n) { return multi ? schedule.stream.at(static_cast<size_t>(n)) : 0; };

  // Positions: global in the schedule's order, local within each stream's subsequence.
  std::vector<int32_t> pos(numNodes, -1), localPos(numNodes, -1);
  std::vector<int32_t> streamLen(static_cast<size_t>(streams), 0);
  for (size_t p = 0; p < numNodes; ++p) {
    const NodeId n = schedule.order[p];
    NNG_CHECK(pos.at(static_cast<size_t>(n)) < 0, "planMemory: a node is scheduled twice");
    pos[static_cast<size_t>(n)] = static_cast<int32_t>(p);
    const int s = streamOf(n);
    NNG_CHECK(s >= 0 && s < streams, "planMemory: a node's stream is out of range");
    localPos[static_cast<size_t>(n)] = streamLen[static_cast<size_t>(s)]++;
  }

  // Stage 1, liveness. kMixed: a value whose producer and consumers are on different
  // streams (it cannot share bytes with anything).
  constexpr int kMixed = -2;
  const auto end = static_cast<int32_t>(numNodes);
  std::vector<int32_t> def(numValues, -1), last(numValues, -1), localDef(numValues, -1),
      localLast(numValues, -1);
  std::vector<int> stream(numValues, kMixed);
  std::vector<bool> toEnd(numValues, false), inArena(numValues, false);
  for (size_t v = 0; v < numValues; ++v) {
    const Value &val = g.values()[v];
    if (val.kind != ValueKind::Node)
      continue;
    inArena[v] = true;
    const auto n = static_cast<size_t>(val.producer);
    def[v] = last[v] = pos[n];
    localDef[v] = localLast[v] = localPos[n];
    stream[v] = streamOf(val.producer);
  }
  for (NodeId n : schedule.order) {
    const Node &node = g.node(n);
    for (ValueId in : node.inputs) {
      const auto x = static_cast<size_t>(in);
      if (!inArena[x])
        continue;
      last[x] = std::max(last[x], pos[static_cast<size_t>(n)]);
      if (stream[x] == streamOf(n))
        localLast[x] = std::max(localLast[x], localPos[static_cast<size_t>(n)]);
      else
        stream[x] = kMixed;
    }
  }
  std::vector<ValueId> held = g.outputs();
  if (g.loss())
    held.push_back(*g.loss());
  held.insert(held.end(), options.keepAlive.begin(), options.keepAlive.end());
  for (ValueId v : held) {
    const auto x = static_cast<size_t>(v);
    if (!inArena[x])
      continue;
    toEnd[x] = true;
    last[x] = end;
    if (stream[x] != kMixed)
      localLast[x] = streamLen[static_cast<size_t>(stream[x])];
  }

  // Stage 2, in place: values that share bytes form one storage (root), whose
  // lifetime and stream cover all of them.
  MemoryPlan plan;
  plan.inPlaceOf.assign(numValues, kNone);
  std::vector<ValueId> root(numValues, kNone);
  for (size_t v = 0; v < numValues; ++v)
    if (inArena[v])
      root[v] = static_cast<ValueId>(v);
  std::vector<int32_t> rootLast = last, rootLocalLast = localLast;
  std::vector<int> rootStream = stream;
  auto join = [&](ValueId member, ValueId input) {
    const auto o = static_cast<size_t>(member);
    const auto r = static_cast<size_t>(root[static_cast<size_t>(input)]);
    root[o] = static_cast<ValueId>(r);
    rootLast[r] = std::max(rootLast[r], last[o]);
    if (rootStream[r] == stream[o] && rootStream[r] != kMixed)
      rootLocalLast[r] = std::max(rootLocalLast[r], localLast[o]);
    else
      rootStream[r] = kMixed;
  };
  for (NodeId n : schedule.order) {
    const Node &node = g.node(n);
    const auto o = static_cast<size_t>(node.output);
    const OpDef *op = opRegistry().find(node.op);
    if (!op)
      continue;
    if (op->inplace >= 0) {
      const ValueId x = node.inputs.at(static_cast<size_t>(op->inplace));
      plan.inPlaceOf[o] = x;
      if (inArena[static_cast<size_t>(x)])
        join(node.output, x);
      else
        inArena[o] = false; // an update of a param or buffer: it is that buffer
      continue;
    }
    if (!options.inPlace)
      continue;
    const int s = streamOf(n);
    const int32_t here = pos[static_cast<size_t>(n)];
    for (int i : op->mayOverwrite) {
      if (static_cast<size_t>(i) >= node.inputs.size())
        continue;
      const ValueId x = node.inputs[static_cast<size_t>(i)];
      const auto xi = static_cast<size_t>(x);
      if (!inArena[xi] || toEnd[xi] || last[xi] != here || stream[xi] != s ||
          g.typeOf(x) != g.typeOf(node.output) || bytes[xi] != bytes[o])
        continue;
      const auto r = static_cast<size_t>(root[xi]);
      if (rootLast[r] > here || rootStream[r] != s)
        continue;
      // Every slot reading x must allow the overwrite.
      bool allowed = true;
      for (size_t j = 0; j < node.inputs.size(); ++j)
        if (node.inputs[j] == x && std::find(op->mayOverwrite.begin(), op->mayOverwrite.end(),
                                             static_cast<int>(j)) == op->mayOverwrite.end())
          allowed = false;
      if (!allowed)
        continue;
      plan.inPlaceOf[o] = x;
      ++plan.inPlaceCount;
      join(node.output, x);
      break;
    }
  }

  // Stage 3, offsets: one storage per root, sized for its largest member.
  std::vector<size_t> rootBytes(numValues, 0);
  for (size_t v = 0; v < numValues; ++v)
    if (inArena[v]) {
      const auto r = static_cast<size_t>(root[v]);
      rootBytes[r] = std::max(rootBytes[r], alignUp(bytes[v]));
      plan.naiveBytes += alignUp(bytes[v]);
    }
  std::vector<ArenaItem> global;
  std::vector<std::vector<ArenaItem>> local(static_cast<size_t>(streams));
  std::vector<std::vector<size_t>> localRoots(static_cast<size_t>(streams));
  std::vector<size_t> shared;
  for (size_t r = 0; r < numValues; ++r) {
    if (!inArena[r] || root[r] != static_cast<ValueId>(r))
      continue;
    global.push_back(ArenaItem{def[r], rootLast[r], rootBytes[r]});
    if (rootStream[r] == kMixed) {
      shared.push_back(r);
      continue;
    }
    const auto s = static_cast<size_t>(rootStream[r]);
    local[s].push_back(ArenaItem{localDef[r], rootLocalLast[r], rootBytes[r]});
    localRoots[s].push_back(r);
  }
  plan.lowerBound = liveBytesPeak(global);

  std::vector<int64_t> rootOffset(numValues, -1);
  size_t base = 0;
  std::set<std::string> strategies;
  for (size_t s = 0; s < local.size(); ++s) {
    if (local[s].empty())
      continue;
    ArenaLayout layout = placeItems(local[s]);
    strategies.insert(layout.strategy);
    for (size_t k = 0; k < localRoots[s].size(); ++k)
      rootOffset[localRoots[s][k]] = static_cast<int64_t>(base + layout.offset[k]);
    base += layout.bytes;
  }
  for (size_t r : shared) {
    rootOffset[r] = static_cast<int64_t>(base);
    base += rootBytes[r];
  }
  plan.arenaBytes = base;
  for (const std::string &s : strategies)
    plan.strategy += (plan.strategy.empty() ? "" : ", ") + s;
  if (!shared.empty())
    plan.strategy += (plan.strategy.empty() ? "" : ", ") + std::to_string(shared.size()) +
                     " shared across streams";
  plan.offset.assign(numValues, -1);
  for (size_t v = 0; v < numValues; ++v)
    if (inArena[v])
      plan.offset[v] = rootOffset[static_cast<size_t>(root[v])];
  return plan;
}

std::vector<size_t> valueBytes(const Graph &g, const std::map<std::string, int64_t> &dims,
                               const std::function<size_t(DType)> &bytesPerElement) {
  std::vector<size_t> out;
  out.reserve(g.values().size());
  for (const Value &v : g.values()) {
    int64_t elements = 1;
    for (const Dim &d : v.type.shape) {
      int64_t extent = d.value;
      if (d.isSymbolic()) {
        auto it = dims.find(d.symbol);
        if (it == dims.end())
          throw UserError(Diagnostic{v.loc, "dimension '" + d.symbol + "' is not bound", {}});
        extent = it->second;
      }
      std::optional<int64_t> product = checkedMul(elements, extent);
      if (!product)
        throw UserError(Diagnostic{
            v.loc, "'" + v.name + "' " + v.type.str() + " has too many elements to plan", {}});
      elements = *product;
    }
    out.push_back(static_cast<size_t>(elements) * bytesPerElement(v.type.dtype));
  }
  return out;
}

std::vector<size_t> valueBytesAtBatch(const Graph &g, int64_t batch,
                                      const std::function<size_t(DType)> &bytesPerElement) {
  std::map<std::string, int64_t> dims;
  for (const Value &v : g.values())
    for (const Dim &d : v.type.shape)
      if (d.isSymbolic())
        dims.emplace(d.symbol, batch);
  return valueBytes(g, dims, bytesPerElement);
}

} // namespace nng

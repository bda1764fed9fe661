// The graph executor. Params and buffers own a buffer each; activations own one each
// too, or share one arena at the memory planner's offsets. Each bind resolves shapes,
// places the activations and builds every node's input views once, so that running
// a node is an indexed call into the backend. With several streams a StreamRunner
// calls the same per-node function from its threads.
#include "core/runtime/executor.h"

#include <chrono>
#include <cstring>

#include "core/ops/registry.h"
#include "core/plan/schedule.h"
#include "core/runtime/stream_runner.h"

namespace nng {

Executor::Executor(const Graph &g, Backend &backend, ExecutorOptions options)
    : g_(g), backend_(backend), options_(std::move(options)), tensors_(g.values().size()),
      buffers_(g.values().size(), nullptr), capacity_(g.values().size(), 0),
      aliasOf_(g.values().size(), kNone) {
  for (const Node &n : g.nodes()) {
    const OpDef *op = opRegistry().find(n.op);
    if (op && op->inplace >= 0)
      aliasOf_[static_cast<size_t>(n.output)] = n.inputs.at(static_cast<size_t>(op->inplace));
  }
  for (size_t v = 0; v < g.values().size(); ++v) {
    const Value &val = g.values()[v];
    tensors_[v].dtype = val.type.dtype;
    if (val.kind != ValueKind::Param && val.kind != ValueKind::Buffer)
      continue;
    for (const Dim &d : val.type.shape)
      if (d.isSymbolic())
        throw UserError(Diagnostic{val.loc,
                                   "parameter '" + val.name + "' has a symbolic dimension " +
                                       d.symbol + "; parameters need known sizes",
                                   {}});
    tensors_[v].shape = concreteShape(val.type);
    ownBuffer(v, storageBytes(tensors_[v]));
    backend_.fillZero(buffers_[v], capacity_[v]);
  }
  // Until a bind, updates of params already see their param.
  for (const Node &n : g.nodes()) {
    const ValueId a = aliasOf_[static_cast<size_t>(n.output)];
    if (a != kNone)
      tensors_[static_cast<size_t>(n.output)] = tensors_[static_cast<size_t>(a)];
  }
}

Executor::~Executor() {
  for (void *b : buffers_)
    if (b)
      backend_.release(b);
  if (arena_)
    backend_.release(arena_);
}

std::vector<int64_t> Executor::concreteShape(const TensorType &t) const {
  std::vector<int64_t> out;
  for (const Dim &d : t.shape) {
    if (d.isKnown()) {
      out.push_back(d.value);
      continue;
    }
    auto it = dims_.find(d.symbol);
    if (it == dims_.end())
      throw UserError("dimension '" + d.symbol + "' is not bound: no input declares it");
    out.push_back(it->second);
  }
  return out;
}

size_t Executor::storageBytes(const Tensor &t) const {
  return static_cast<size_t>(t.elements()) * backend_.storageBytes(t.dtype);
}

// Gives value v its own buffer of at least `bytes` (at least 1), keeping a larger one.
void Executor::ownBuffer(size_t v, size_t bytes) {
  bytes = std::max<size_t>(bytes, 1);
  if (bytes > capacity_[v]) {
    if (buffers_[v])
      backend_.release(buffers_[v]);
    buffers_[v] = backend_.allocate(bytes);
    capacity_[v] = bytes;
  }
  tensors_[v].data = buffers_[v];
}

void Executor::bind(const std::map<std::string, int64_t> &dims) {
  if (bound_ && dims == dims_)
    return;
  dims_ = dims;
  bound_ = true;
  for (size_t v = 0; v < g_.values().size(); ++v) {
    const Value &val = g_.values()[v];
    if (val.kind != ValueKind::Param && val.kind != ValueKind::Buffer)
      tensors_[v].shape = concreteShape(val.type);
  }
  placeActivations();
  prepareNodes();
}

void Executor::placeActivations() {
  const size_t numValues = g_.values().size();
  if (options_.streams > 1 && schedule_.order.empty()) {
    const int64_t batch = dims_.empty() ? 1 : dims_.begin()->second;
    schedule_ = scheduleStreams(g_, options_.streams, batch);
    if (schedule_.streams > 1)
      runner_ = std::make_unique<StreamRunner>(schedule_);
  }
  for (size_t v = 0; v < numValues; ++v)
    if (g_.values()[v].kind == ValueKind::Input)
      ownBuffer(v, storageBytes(tensors_[v]));
  if (options_.arena) {
    std::vector<size_t> bytes(numValues, 0);
    bool grew = !planned_;
    for (size_t v = 0; v < numValues; ++v) {
      if (g_.values()[v].kind != ValueKind::Node)
        continue;
      bytes[v] = storageBytes(tensors_[v]);
      grew = grew || bytes[v] > plannedBytes_[v];
    }
    if (grew) {
      // Planned for the largest size each value has had, so that alternating batch
      // sizes settle on one plan.
      plannedBytes_.resize(numValues, 0);
      for (size_t v = 0; v < numValues; ++v)
        plannedBytes_[v] = std::max(plannedBytes_[v], bytes[v]);
      MemoryPlanOptions po;
      po.keepAlive = options_.keepAlive;
      plan_ = planMemory(g_, runner_ ? schedule_ : sequentialSchedule(g_), plannedBytes_, po);
      planned_ = true;
      if (plan_.arenaBytes > arenaCapacity_ || !arena_) {
        if (arena_)
          backend_.release(arena_);
        arenaCapacity_ = std::max<size_t>(plan_.arenaBytes, 1);
        arena_ = backend_.allocate(arenaCapacity_);
      }
    }
  }
  for (size_t v = 0; v < numValues; ++v) {
    if (g_.values()[v].kind != ValueKind::Node)
      continue;
    if (planned_ && plan_.offset[v] >= 0)
      tensors_[v].data = static_cast<char *>(arena_) + plan_.offset[v];
    else if (aliasOf_[v] == kNone)
      ownBuffer(v, storageBytes(tensors_[v]));
  }
  // In-place updates of params, buffers and inputs are views of what they update (in
  // graph order, so a chain of updates resolves).
  for (const Node &n : g_.nodes()) {
    const auto out = static_cast<size_t>(n.output);
    const ValueId a = aliasOf_[out];
    if (a != kNone && !(planned_ && plan_.offset[out] >= 0))
      tensors_[out] = tensors_[static_cast<size_t>(a)];
  }
}

void Executor::prepareNodes() {
  const auto &nodes = g_.nodes();
  nodeInputs_.resize(nodes.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    std::vector<Tensor> &ins = nodeInputs_[n];
    ins.resize(nodes[n].inputs.size());
    for (size_t k = 0; k < ins.size(); ++k)
      ins[k] = tensors_[static_cast<size_t>(nodes[n].inputs[k])];
  }
}

void Executor::bindFromInputs(const std::map<ValueId, std::vector<int64_t>> &inputShapes) {
  std::map<std::string, int64_t> dims;
  for (const auto &kv : inputShapes) {
    const Value &val = g_.value(kv.first);
    const std::vector<int64_t> &shape = kv.second;
    auto mismatch = [&]() {
      std::string got = "[";
      for (size_t i = 0; i < shape.size(); ++i)
        got += (i ? ", " : "") + std::to_string(shape[i]);
      throw UserError("input '" + val.name + "' expects " + val.type.str() + ", got shape " + got +
                      "]");
    };
    if (shape.size() != val.type.rank())
      mismatch();
    for (size_t i = 0; i < shape.size(); ++i) {
      const Dim &d = val.type.shape[i];
      if (d.isKnown()) {
        if (d.value != shape[i])
          mismatch();
        continue;
      }
      auto [it, fresh] = dims.emplace(d.symbol, shape[i]);
      if (!fresh && it->second != shape[i])
        throw UserError("dimension '" + d.symbol + "' is " + std::to_string(it->second) +
                        " in one input and " + std::to_string(shape[i]) + " in input '" + val.name +
                        "'");
    }
  }
  bind(dims);
}

void Executor::write(ValueId v, const void *host, size_t bytes) {
  const Tensor &t = tensor(v);
  NNG_CHECK(bytes == storageBytes(t), "write size mismatch for " + g_.value(v).name);
  backend_.copyIn(t.data, host, bytes);
}

void Executor::read(ValueId v, void *host) const {
  const Tensor &t = tensor(v);
  backend_.copyOut(host, t.data, storageBytes(t));
}

void Executor::runNode(size_t n, const KernelContext &ctx) {
  const Node &node = g_.nodes()[n];
  backend_.run(node, nodeInputs_[n], tensors_[static_cast<size_t>(node.output)], ctx);
}

void Executor::run(const KernelContext &ctx, size_t begin, size_t end) {
  const auto &nodes = g_.nodes();
  end = std::min(end, nodes.size());
  NNG_CHECK(begin >= end || nodeInputs_.size() == nodes.size(),
            "run before bind: dimensions are not bound");
  if (runner_ && !profile_) {
    // Any order the schedule allows is one the plan allows, the sequential one too.
    runner_->run([&](NodeId n) { runNode(static_cast<size_t>(n), ctx); }, begin, end);
    return;
  }
  for (size_t n = begin; n < end; ++n) {
    if (!profile_) {
      runNode(n, ctx);
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    runNode(n, ctx);
    backend_.synchronize();
    NodeTime &slot = nodeTime_[n];
    slot.ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ++slot.calls;
  }
}

std::map<std::string, Executor::NodeTime> Executor::opProfile() const {
  std::map<std::string, NodeTime> ops;
  for (size_t n = 0; n < nodeTime_.size(); ++n) {
    NodeTime &op = ops[g_.nodes()[n].op];
    op.ms += nodeTime_[n].ms;
    op.calls += nodeTime_[n].calls;
  }
  return ops;
}

} // namespace nng

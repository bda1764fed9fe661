// The graph executor: one buffer per value for now (the memory planner of a later
// issue replaces this with offsets into one arena).
#include "core/runtime/executor.h"

#include <chrono>
#include <cstring>

#include "core/ops/registry.h"

namespace nng {

Executor::Executor(const Graph &g, Backend &backend)
    : g_(g), backend_(backend), tensors_(g.values().size()), buffers_(g.values().size(), nullptr),
      capacity_(g.values().size(), 0), aliasOf_(g.values().size(), kNone) {
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
    capacity_[v] = std::max<size_t>(tensors_[v].bytes(), 1);
    buffers_[v] = backend_.allocate(capacity_[v]);
    backend_.fillZero(buffers_[v], capacity_[v]);
    tensors_[v].data = buffers_[v];
  }
  resolveAliases();
}

Executor::~Executor() {
  for (void *b : buffers_)
    if (b)
      backend_.release(b);
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

void Executor::bind(const std::map<std::string, int64_t> &dims) {
  dims_ = dims;
  for (size_t v = 0; v < g_.values().size(); ++v) {
    const Value &val = g_.values()[v];
    if (val.kind == ValueKind::Param || val.kind == ValueKind::Buffer || aliasOf_[v] != kNone)
      continue;
    Tensor &t = tensors_[v];
    t.shape = concreteShape(val.type);
    size_t need = std::max<size_t>(t.bytes(), 1);
    if (need > capacity_[v]) {
      if (buffers_[v])
        backend_.release(buffers_[v]);
      buffers_[v] = backend_.allocate(need);
      capacity_[v] = need;
    }
    t.data = buffers_[v];
  }
  resolveAliases();
}

void Executor::resolveAliases() {
  // In-place outputs are views of the buffer they update (in graph order, so a chain
  // of updates resolves).
  for (const Node &n : g_.nodes()) {
    ValueId a = aliasOf_[static_cast<size_t>(n.output)];
    if (a != kNone)
      tensors_[static_cast<size_t>(n.output)] = tensors_[static_cast<size_t>(a)];
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
      throw UserError("input '" + val.name + "' expects " + val.type.str() + ", got shape " +
                      got + "]");
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
                        " in one input and " + std::to_string(shape[i]) + " in input '" +
                        val.name + "'");
    }
  }
  bind(dims);
}

void Executor::write(ValueId v, const void *host, size_t bytes) {
  const Tensor &t = tensor(v);
  NNG_CHECK(bytes == t.bytes(), "write size mismatch for " + g_.value(v).name);
  backend_.copyIn(t.data, host, bytes);
}

void Executor::read(ValueId v, void *host) const {
  const Tensor &t = tensor(v);
  backend_.copyOut(host, t.data, t.bytes());
}

void Executor::run(const KernelContext &ctx, size_t begin, size_t end) {
  const auto &nodes = g_.nodes();
  end = std::min(end, nodes.size());
  std::vector<Tensor> ins;
  for (size_t n = begin; n < end; ++n) {
    const Node &node = nodes[n];
    ins.clear();
    for (ValueId in : node.inputs)
      ins.push_back(tensors_[static_cast<size_t>(in)]);
    if (!profile_) {
      backend_.run(node, ins, tensors_[static_cast<size_t>(node.output)], ctx);
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    backend_.run(node, ins, tensors_[static_cast<size_t>(node.output)], ctx);
    backend_.synchronize();
    auto &slot = opTime_[node.op];
    slot.first +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ++slot.second;
  }
}

} // namespace nng

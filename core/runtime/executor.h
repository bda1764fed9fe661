// Runs a graph on a backend: binds symbolic dimensions to sizes, owns the
// buffers of every value, and calls the backend's kernel for each node in order.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/runtime/backend.h"

namespace nng {

class Executor {
public:
  // Params and buffers are allocated now (their shapes must be fully known);
  // activations when dimensions are bound.
  Executor(const Graph &g, Backend &backend);
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  // Binds every symbolic dimension (e.g. {"N", 128}). Activation buffers are sized
  // for the largest binding seen so far, so a smaller last batch reuses them.
  void bind(const std::map<std::string, int64_t> &dims);
  // Binds the symbols of `inputs`' declared types from the given host shapes and
  // checks the known dimensions; throws UserError on a mismatch.
  void bindFromInputs(const std::map<ValueId, std::vector<int64_t>> &inputShapes);

  const Tensor &tensor(ValueId v) const { return tensors_.at(static_cast<size_t>(v)); }
  void write(ValueId v, const void *host, size_t bytes);
  void read(ValueId v, void *host) const;
  template <typename T> std::vector<T> read(ValueId v) const {
    std::vector<T> out(static_cast<size_t>(tensor(v).elements()));
    read(v, out.data());
    return out;
  }

  // Runs nodes [begin, end) of the graph in order (default: all).
  void run(const KernelContext &ctx, size_t begin = 0, size_t end = SIZE_MAX);

  // Per-op wall time of every run() since enableProfile(), in milliseconds.
  void enableProfile() { profile_ = true; }
  const std::map<std::string, std::pair<double, int64_t>> &profile() const { return opTime_; }

  const Graph &graph() const { return g_; }
  Backend &backend() { return backend_; }

private:
  std::vector<int64_t> concreteShape(const TensorType &t) const;
  void resolveAliases();

  const Graph &g_;
  Backend &backend_;
  std::map<std::string, int64_t> dims_;
  std::vector<Tensor> tensors_;        // one per value; views into the buffers below
  std::vector<void *> buffers_;        // one per value (nullptr until bound)
  std::vector<size_t> capacity_;       // bytes allocated per value
  std::vector<ValueId> aliasOf_;       // the input an in-place op's output shares, or kNone
  bool profile_ = false;
  std::map<std::string, std::pair<double, int64_t>> opTime_; // op -> (ms, calls)
};

} // namespace nng

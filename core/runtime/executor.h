// Runs a graph on a backend: binds symbolic dimensions to sizes, owns the buffers of
// every value, and calls the backend's kernel for each node in order. Activations get
// a buffer each, or with ExecutorOptions::arena one arena laid out by the memory
// planner (core/plan/memory_plan.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/plan/memory_plan.h"
#include "core/plan/schedule.h"
#include "core/runtime/backend.h"

namespace nng {

class StreamRunner;

struct ExecutorOptions {
  // One arena for the activations (values produced by nodes), at the offsets the
  // memory planner gives for the order the nodes run in; an output planned in place
  // shares its input's bytes. An activation can then only be read while it is live:
  // after a run, the graph's outputs, its loss and `keepAlive` values are; so is
  // anything a later node of the graph still reads (a run may stop there and resume).
  bool arena = false;
  // Streams to run the graph on: above 1, independent branches run concurrently
  // (scheduleStreams, StreamRunner), and the arena shares bytes only between values
  // that one stream orders. Profiling runs the nodes one after another.
  int streams = 1;
  // Values read after a run that are neither outputs nor the loss (arena only): the
  // trainer's logits when they are not an output, amp.finite.
  std::vector<ValueId> keepAlive;
};

class Executor {
public:
  // Params and buffers are allocated now (their shapes must be fully known);
  // activations when dimensions are bound.
  Executor(const Graph &g, Backend &backend, ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  // Binds every symbolic dimension (e.g. {"N", 128}). Activation buffers (or the
  // arena) are sized for the largest binding seen so far, so a smaller last batch
  // reuses them; binding the same sizes again costs nothing.
  void bind(const std::map<std::string, int64_t> &dims);
  // Binds the symbols of `inputs`' declared types from the given host shapes and
  // checks the known dimensions; throws UserError on a mismatch.
  void bindFromInputs(const std::map<ValueId, std::vector<int64_t>> &inputShapes);

  const Tensor &tensor(ValueId v) const { return tensors_.at(static_cast<size_t>(v)); }
  // Host copies in the backend's storage layout (Backend::storageBytes per element).
  void write(ValueId v, const void *host, size_t bytes);
  void read(ValueId v, void *host) const;
  template <typename T> std::vector<T> read(ValueId v) const {
    std::vector<T> out(storageBytes(tensor(v)) / sizeof(T));
    read(v, out.data());
    return out;
  }

  // Runs nodes [begin, end) of the graph in order (default: all).
  void run(const KernelContext &ctx, size_t begin = 0, size_t end = SIZE_MAX);

  // Wall time of each node's kernel over every run() since enableProfile(), in
  // milliseconds, indexed by NodeId; profiled runs go node by node, without streams.
  struct NodeTime {
    double ms = 0;
    int64_t calls = 0;
  };
  void enableProfile() {
    profile_ = true;
    nodeTime_.assign(g_.nodes().size(), NodeTime{});
  }
  const std::vector<NodeTime> &nodeProfile() const { return nodeTime_; }
  // The same summed per op.
  std::map<std::string, NodeTime> opProfile() const;

  const Graph &graph() const { return g_; }
  Backend &backend() { return backend_; }
  const ExecutorOptions &options() const { return options_; }
  // The arena's layout (nullptr without ExecutorOptions::arena or before bind).
  const MemoryPlan *memoryPlan() const { return planned_ ? &plan_ : nullptr; }

private:
  std::vector<int64_t> concreteShape(const TensorType &t) const;
  size_t storageBytes(const Tensor &t) const;
  void placeActivations();
  void ownBuffer(size_t v, size_t bytes);
  void prepareNodes();
  void runNode(size_t n, const KernelContext &ctx);

  const Graph &g_;
  Backend &backend_;
  ExecutorOptions options_;
  std::map<std::string, int64_t> dims_;
  bool bound_ = false;
  std::vector<Tensor> tensors_;  // one per value; views into the buffers below
  std::vector<void *> buffers_;  // per value: its own buffer (nullptr in the arena or unbound)
  std::vector<size_t> capacity_; // bytes allocated per own buffer
  std::vector<ValueId> aliasOf_; // the input an OpDef::inplace op's output shares, or kNone
  // The arena: its plan, the sizes it was planned for, the allocation.
  MemoryPlan plan_;
  bool planned_ = false;
  std::vector<size_t> plannedBytes_;
  void *arena_ = nullptr;
  size_t arenaCapacity_ = 0;
  // With streams: the schedule (made at the first bind, its cost model at that
  // batch) and the threads that run it.
  Schedule schedule_;
  std::unique_ptr<StreamRunner> runner_;
  // Per node, its input views, rebuilt when buffers move (each bind), so a run only
  // indexes arrays.
  std::vector<std::vector<Tensor>> nodeInputs_;
  bool profile_ = false;
  std::vector<NodeTime> nodeTime_;
};

} // namespace nng

// Runs a Schedule's streams concurrently on the CPU: one persistent thread per stream
// (the calling thread runs stream 0), each running its nodes in order and waiting
// only on the cross-stream edges the schedule lists.
//
// Threads: every kernel runs with the caller's OpenMP thread count, because OpenBLAS's
// GEMM results depend on its thread count (1 and 2 threads differ in the last bits for
// many shapes), so fewer threads per stream would break bit-identity with sequential
// runs. Two such kernels side by side oversubscribe the cores (and concurrent threaded
// OpenBLAS calls spin on each other), so nodes whose kernels use every core by
// themselves run alone (setAlone, nodesUsingAllCores): streams overlap the small
// kernels, which run single-threaded anyway.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "core/plan/schedule.h"

namespace nng {

class StreamRunner {
public:
  // Copies what it needs from `schedule` and starts streams - 1 threads, kept until
  // destruction.
  explicit StreamRunner(const Schedule &schedule);
  ~StreamRunner();
  StreamRunner(const StreamRunner &) = delete;
  StreamRunner &operator=(const StreamRunner &) = delete;

  int streams() const { return static_cast<int>(streamNodes_.size()); }

  // Per node: true to run it with no other node running (empty: none). Call it between
  // runs, again when the sizes change (after binding another batch).
  void setAlone(std::vector<bool> alone);

  // Calls runNode(n) once for every node n with begin <= n < end, each stream's nodes
  // in schedule order, a node only after the nodes it waits for; waits on nodes before
  // `begin` count as met (an earlier run covered them). Returns when every stream has
  // stopped; when runNode threw, the other streams stop at their next node and the
  // first exception is rethrown. Kernels in stream threads use the OpenMP thread count
  // of the caller, so each computes exactly what it computes in a sequential run.
  // Not reentrant: one run at a time.
  void run(const std::function<void(NodeId)> &runNode, size_t begin = 0, size_t end = SIZE_MAX);

private:
  void worker(int stream);
  void runStream(int stream);
  bool waitFor(NodeId node);
  void fail(std::exception_ptr e);

  std::vector<std::vector<NodeId>> streamNodes_; // per stream, in run order
  std::vector<std::vector<NodeId>> waits_;       // per node
  std::vector<bool> alone_;                      // per node, or empty
  std::shared_mutex aloneMutex_; // held exclusively by a node running alone, shared by others
  // done_[n] == epoch_ once node n finished in the current run: a new run bumps the
  // epoch instead of clearing every flag.
  std::unique_ptr<std::atomic<uint64_t>[]> done_;
  uint64_t epoch_ = 0;

  // The current run, published to the workers under mutex_.
  const std::function<void(NodeId)> *runNode_ = nullptr;
  size_t begin_ = 0, end_ = 0;
  int ompThreads_ = 1;
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;

  std::mutex mutex_;
  std::condition_variable start_, finished_;
  uint64_t generation_ = 0; // bumped to start a run
  int running_ = 0;         // workers still in the current run
  bool stop_ = false;

  // Blocking waits after a short spin: sleepers_ counts waiters parked on wake_.
  std::mutex waitMutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};

  std::vector<std::thread> threads_;
};

// The nodes whose CPU kernels may use every core by themselves with symbolic dimensions
// bound to `batch`: at least 2^15 FLOPs or output elements, below the sizes from which
// the CPU kernels go multi-threaded (loops of kParallelMin elements in
// core/cpu/kernels/common.h, GEMMs of 4M multiply-adds in linalg.cpp), so that no such
// kernel runs beside another. For StreamRunner::setAlone.
std::vector<bool> nodesUsingAllCores(const Graph &g, int64_t batch);

} // namespace nng

// The stream runner (see stream_runner.h): a persistent thread per extra stream,
// per-node completion flags with release/acquire ordering, spin-then-block waits.
#include "core/runtime/stream_runner.h"

#include <algorithm>

#include <omp.h>

#include "core/diag/diagnostic.h"
#include "core/ir/type.h"

namespace nng {

namespace {

// Spins before blocking on a wait: most cross-stream waits are short, and a blocked
// thread costs a futex wake-up to resume.
constexpr int kSpins = 2000;

// From this many FLOPs or output elements a CPU kernel runs on every core.
constexpr double kAllCores = double(int64_t(1) << 15);

} // namespace

StreamRunner::StreamRunner(const Schedule &schedule)
    : streamNodes_(static_cast<size_t>(std::max(schedule.streams, 1))), waits_(schedule.waits),
      done_(new std::atomic<uint64_t>[schedule.stream.size()]) {
  const size_t n = schedule.stream.size();
  NNG_CHECK(schedule.order.size() == n && schedule.waits.size() == n,
            "stream runner: inconsistent schedule");
  for (size_t i = 0; i < n; ++i)
    done_[i].store(0, std::memory_order_relaxed);
  for (NodeId id : schedule.order) {
    const int s = schedule.stream.at(static_cast<size_t>(id));
    NNG_CHECK(s >= 0 && s < streams(), "stream runner: node on a stream out of range");
    streamNodes_[static_cast<size_t>(s)].push_back(id);
  }
  for (int s = 1; s < streams(); ++s)
    threads_.emplace_back([this, s] { worker(s); });
}

StreamRunner::~StreamRunner() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (std::thread &t : threads_)
    t.join();
}

void StreamRunner::setAlone(std::vector<bool> alone) {
  NNG_CHECK(alone.empty() || alone.size() == waits_.size(), "setAlone: one flag per node");
  alone_ = std::move(alone);
}

void StreamRunner::run(const std::function<void(NodeId)> &runNode, size_t begin, size_t end) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    runNode_ = &runNode;
    begin_ = begin;
    end_ = end;
    ompThreads_ = omp_get_max_threads();
    ++epoch_;
    failed_.store(false);
    error_ = nullptr;
    running_ = static_cast<int>(threads_.size());
    ++generation_;
  }
  start_.notify_all();
  runStream(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return running_ == 0; });
    runNode_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error)
    std::rethrow_exception(error);
}

void StreamRunner::worker(int stream) {
  uint64_t seen = 0;
  int threads = omp_get_max_threads();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_)
        return;
      seen = generation_;
      // The OpenMP thread count is per thread: match the caller's, since results of
      // some kernels (OpenBLAS GEMM) depend on it.
      if (threads != ompThreads_) {
        threads = ompThreads_;
        omp_set_num_threads(threads);
      }
    }
    runStream(stream);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
    }
    finished_.notify_all();
  }
}

void StreamRunner::runStream(int stream) {
  for (NodeId id : streamNodes_[static_cast<size_t>(stream)]) {
    const size_t i = static_cast<size_t>(id);
    if (i < begin_ || i >= end_)
      continue;
    for (NodeId w : waits_[i])
      if (static_cast<size_t>(w) >= begin_ && !waitFor(w))
        return;
    if (failed_.load(std::memory_order_acquire))
      return;
    try {
      if (alone_.empty()) {
        (*runNode_)(id);
      } else if (alone_[i]) {
        std::unique_lock<std::shared_mutex> lock(aloneMutex_);
        (*runNode_)(id);
      } else {
        std::shared_lock<std::shared_mutex> lock(aloneMutex_);
        (*runNode_)(id);
      }
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    // seq_cst (not just release) orders this store before the sleepers_ load, so a
    // waiter that parked after checking the flag is always woken.
    done_[i].store(epoch_, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(waitMutex_);
      wake_.notify_all();
    }
  }
}

bool StreamRunner::waitFor(NodeId node) {
  const std::atomic<uint64_t> &flag = done_[static_cast<size_t>(node)];
  for (int spin = 0; spin < kSpins; ++spin) {
    if (flag.load(std::memory_order_acquire) == epoch_)
      return true;
    if (failed_.load(std::memory_order_acquire))
      return false;
    if (spin >= 64)
      std::this_thread::yield();
  }
  std::unique_lock<std::mutex> lock(waitMutex_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  wake_.wait(lock, [&] {
    return flag.load(std::memory_order_seq_cst) == epoch_ ||
           failed_.load(std::memory_order_seq_cst);
  });
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return flag.load(std::memory_order_acquire) == epoch_ && !failed_.load();
}

void StreamRunner::fail(std::exception_ptr e) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_)
      error_ = e;
  }
  failed_.store(true, std::memory_order_seq_cst);
  std::lock_guard<std::mutex> lock(waitMutex_);
  wake_.notify_all();
}

std::vector<bool> nodesUsingAllCores(const Graph &g, int64_t batch) {
  const std::vector<double> flops = nodeFlops(g, batch);
  std::vector<bool> out(g.nodes().size(), false);
  for (size_t i = 0; i < out.size(); ++i) {
    double elements = 1;
    for (const Dim &d : g.typeOf(g.nodes()[i].output).shape)
      elements *= static_cast<double>(d.isKnown() ? d.value : batch);
    out[i] = flops[i] >= kAllCores || elements >= kAllCores;
  }
  return out;
}

} // namespace nng

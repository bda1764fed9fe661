// The batcher: an endless stream of batches over a dataset, epoch after epoch.
//
// The order of epoch e is a pure function of (seed, e), and the position in the
// stream is a DataCursor (epoch, index), so a run resumed from a checkpoint's cursor
// sees exactly the batches it would have seen. With prefetch > 0 a background thread
// prepares up to `prefetch` batches ahead; the batches are the same as without it, and
// an exception on the thread is rethrown by next().
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/data/dataset.h"

namespace nng {

// The next sample to deliver: `index` samples of epoch `epoch`'s order are done.
struct DataCursor {
  int64_t epoch = 0;
  int64_t index = 0;
  bool operator==(const DataCursor &o) const { return epoch == o.epoch && index == o.index; }
  bool operator!=(const DataCursor &o) const { return !(*this == o); }
};

struct Batch {
  std::map<std::string, HostArray> fields; // each [size, ...]
  int64_t size = 0;                        // rows; below batch_size only for a last batch
  DataCursor at;                           // where the batch starts
  bool endOfEpoch = false;                 // the last batch of its epoch
};

struct BatcherOptions {
  int64_t batchSize = 32;
  bool shuffle = true;   // false: every epoch in dataset order
  bool dropLast = false; // skip an epoch's final partial batch
  int64_t prefetch = 0;  // batches prepared ahead on a thread; 0 = in next()
  uint64_t seed = 0;
  // Runs on each batch where it is made (the prefetch thread, or next()), e.g. to copy
  // it into pinned memory. Its exceptions reach the caller of next().
  std::function<void(Batch &)> prepare;
};

class Batcher {
public:
  // UserError when an epoch would have no batch (empty data, or fewer samples than
  // batch_size with drop_last) or `start` is not a position in the data.
  Batcher(std::shared_ptr<const Dataset> data, BatcherOptions options, DataCursor start = {});
  ~Batcher();
  Batcher(const Batcher &) = delete;
  Batcher &operator=(const Batcher &) = delete;

  Batch next();
  DataCursor cursor() const { return cursor_; } // where the next batch starts
  void seek(DataCursor c);                      // continue from `c` (e.g. on resume)

  int64_t batchesPerEpoch() const;
  // The sample order of epoch `epoch`: a permutation from (seed, epoch), or 0..n-1.
  std::vector<int64_t> epochOrder(int64_t epoch) const;
  const Dataset &data() const { return *data_; }

private:
  struct Made {
    Batch batch;
    DataCursor next;
  };
  Made make(DataCursor c); // pure but for the order cache; called by one thread
  void start();            // starts the prefetch thread at producerAt_
  void stop();             // stops and joins it, drops queued batches
  void run();              // the prefetch thread
  DataCursor normalize(DataCursor c) const;
  int64_t usable() const; // samples of an epoch that are delivered

  std::shared_ptr<const Dataset> data_;
  BatcherOptions opt_;
  DataCursor cursor_;

  // The order of the epoch being produced, reused until the producer moves on.
  int64_t orderEpoch_ = -1;
  std::vector<int64_t> order_;

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Made> queue_;
  DataCursor producerAt_;
  bool stop_ = false;
  std::exception_ptr error_;
};

} // namespace nng

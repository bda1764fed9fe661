// Batch production, the epoch orders, and the prefetch thread (one producer, one
// consumer, a bounded queue under one mutex).
#include "core/data/batcher.h"

#include "core/data/random.h"

namespace nng {

constexpr uint64_t kEpochStream = 0x65706f6368; // "epoch", see random.h mixSeed

Batcher::Batcher(std::shared_ptr<const Dataset> data, BatcherOptions options, DataCursor start)
    : data_(std::move(data)), opt_(std::move(options)) {
  NNG_CHECK(data_ != nullptr, "Batcher without data");
  NNG_CHECK(opt_.batchSize > 0 && opt_.prefetch >= 0, "Batcher options not validated");
  const std::string &name = data_->name().empty() ? std::string("the data") : data_->name();
  if (data_->size() == 0)
    throwAt(data_->loc(), name + " has no samples");
  if (batchesPerEpoch() == 0)
    throwAt(data_->loc(), name + " has " + std::to_string(data_->size()) +
                              " samples, fewer than batch_size " + std::to_string(opt_.batchSize) +
                              ", and drop_last leaves no batch");
  seek(start);
}

Batcher::~Batcher() { stop(); }

int64_t Batcher::usable() const {
  int64_t n = data_->size();
  return opt_.dropLast ? n / opt_.batchSize * opt_.batchSize : n;
}

int64_t Batcher::batchesPerEpoch() const {
  return (usable() + opt_.batchSize - 1) / opt_.batchSize;
}

std::vector<int64_t> Batcher::epochOrder(int64_t epoch) const {
  int64_t n = data_->size();
  if (!opt_.shuffle) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      order[i] = i;
    return order;
  }
  Rng rng(mixSeed(mixSeed(opt_.seed, kEpochStream), static_cast<uint64_t>(epoch)));
  return randomPermutation(n, rng);
}

DataCursor Batcher::normalize(DataCursor c) const {
  if (c.index == usable())
    return DataCursor{c.epoch + 1, 0};
  return c;
}

Batcher::Made Batcher::make(DataCursor c) {
  if (orderEpoch_ != c.epoch) {
    order_ = epochOrder(c.epoch);
    orderEpoch_ = c.epoch;
  }
  int64_t end = std::min(c.index + opt_.batchSize, usable());
  Made m;
  m.batch.at = c;
  m.batch.size = end - c.index;
  m.batch.endOfEpoch = end == usable();
  for (const auto &[name, a] : data_->fields())
    m.batch.fields.emplace(
        name, gatherRows(a, order_.data() + c.index, static_cast<size_t>(m.batch.size)));
  m.next = normalize(DataCursor{c.epoch, end});
  if (opt_.prepare)
    opt_.prepare(m.batch);
  return m;
}

Batch Batcher::next() {
  if (opt_.prefetch == 0) {
    Made m = make(cursor_);
    cursor_ = m.next;
    return std::move(m.batch);
  }
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !queue_.empty() || error_; });
  // Batches made before a failure are still delivered; the error comes after them.
  if (queue_.empty())
    std::rethrow_exception(error_);
  Made m = std::move(queue_.front());
  queue_.pop_front();
  lk.unlock();
  cv_.notify_all();
  cursor_ = m.next;
  return std::move(m.batch);
}

void Batcher::seek(DataCursor c) {
  if (c.epoch < 0 || c.index < 0 || c.index > usable()) {
    const std::string &name = data_->name().empty() ? std::string("the data") : data_->name();
    throwAt(data_->loc(), "data position (epoch " + std::to_string(c.epoch) + ", sample " +
                              std::to_string(c.index) + ") is outside " + name + ", which has " +
                              std::to_string(usable()) +
                              " samples per epoch (was the checkpoint made with other data?)");
  }
  stop();
  cursor_ = normalize(c);
  producerAt_ = cursor_;
  if (opt_.prefetch > 0)
    start();
}

void Batcher::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
  queue_.clear();
  error_ = nullptr;
}

void Batcher::run() {
  for (;;) {
    DataCursor at;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || static_cast<int64_t>(queue_.size()) < opt_.prefetch; });
      if (stop_)
        return;
      at = producerAt_;
    }
    Made m;
    try {
      m = make(at);
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu_);
      error_ = std::current_exception();
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_)
        return;
      producerAt_ = m.next;
      queue_.push_back(std::move(m));
    }
    cv_.notify_all();
  }
}

} // namespace nng

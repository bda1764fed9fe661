// Progress reporting (see progress.h).
#include "core/train/progress.h"

#include <cstdio>

namespace nng {

void Progress::startEpoch(int64_t epoch, int64_t epochs, int64_t batches) {
  epoch_ = epoch;
  epochs_ = epochs;
  batches_ = batches;
  start_ = std::chrono::steady_clock::now();
  drawn_ = false;
}

void Progress::update(int64_t batch, double loss, double samplesPerSec) {
  if (style_ == Style::None || batches_ <= 0)
    return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = batch > 0 ? elapsed / static_cast<double>(batch) *
                                     static_cast<double>(batches_ - batch)
                               : 0;
  if (style_ == Style::Plain) {
    // About ten lines an epoch, and the last batch.
    const int64_t every = std::max<int64_t>(1, batches_ / 10);
    if (batch % every != 0 && batch != batches_)
      return;
    std::fprintf(stderr, "epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f samples/s\n",
                 static_cast<long long>(epoch_), static_cast<long long>(epochs_),
                 static_cast<long long>(batch), static_cast<long long>(batches_), loss,
                 samplesPerSec);
    return;
  }
  const int width = 30;
  const int filled = static_cast<int>(width * batch / batches_);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\repoch %lld/%lld [%s] %lld/%lld loss %.4f %.0f samples/s ETA %.0fs  ",
               static_cast<long long>(epoch_), static_cast<long long>(epochs_), bar.c_str(),
               static_cast<long long>(batch), static_cast<long long>(batches_), loss,
               samplesPerSec, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::endEpoch(const std::string &summary) {
  if (style_ == Style::None)
    return;
  if (drawn_)
    std::fputc('\n', stderr);
  std::fprintf(stderr, "%s\n", summary.c_str());
  drawn_ = false;
}

void Progress::message(const std::string &line) {
  if (style_ != Style::None)
    notice(line);
}

void Progress::notice(const std::string &line) {
  if (drawn_)
    std::fputc('\n', stderr);
  drawn_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
}

} // namespace nng

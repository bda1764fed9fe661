// Training progress on stderr: a redrawn bar on a terminal (steps, loss, throughput,
// ETA), plain lines otherwise, or nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nng {

class Progress {
public:
  enum class Style { Bar, Plain, None };
  explicit Progress(Style style) : style_(style) {}

  void startEpoch(int64_t epoch, int64_t epochs, int64_t batches);
  void update(int64_t batch, double loss, double samplesPerSec);
  // Ends the epoch's bar; `summary` is printed on its own line (unless None).
  void endEpoch(const std::string &summary);
  void message(const std::string &line);
  // Printed whatever the style: what the user must know (how to resume).
  void notice(const std::string &line);

private:
  Style style_;
  int64_t epoch_ = 0, epochs_ = 0, batches_ = 0;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

} // namespace nng

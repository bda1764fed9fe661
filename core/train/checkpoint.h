// Training checkpoints: one safetensors file per checkpoint holding the weights
// (params and buffers under their names), the optimizer state
// ("optimizer/<param>/<i>") and, in the metadata, the step, the data cursor and the
// partial-epoch metrics, so that a resumed run continues bit for bit. A text file
// `latest` in the directory names the newest checkpoint. Everything is written
// atomically; old checkpoints beyond `keep` are removed after the new one is in place.
#pragma once

#include <string>

#include "core/data/batcher.h"
#include "core/train/safetensors.h"

namespace nng {

struct TrainState {
  int64_t step = 0;       // optimizer steps done
  int64_t microStep = 0;  // micro-batches done (differs from step when accumulating)
  DataCursor cursor;      // where the next training batch starts
  // Running sums of the epoch in progress, so its summary is exact after a resume.
  double epochLossSum = 0;
  int64_t epochCorrect = 0, epochSamples = 0;
  uint64_t seed = 0;
  std::string model;
};

// Writes `dir`/checkpoint-<step>.safetensors and updates `dir`/latest; returns the
// file's path. Removes older checkpoints so that at most `keep` remain (0: keep all).
std::string saveCheckpoint(const std::string &dir, const TensorFile &tensors,
                           const TrainState &state, int64_t keep);

struct LoadedCheckpoint {
  std::string path;
  TensorFile tensors;
  TrainState state;
};

// `path` is a checkpoint file or a directory holding `latest`. UserError on anything
// missing or malformed.
LoadedCheckpoint loadCheckpoint(const std::string &path);

} // namespace nng

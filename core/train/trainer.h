// The training loop: data from the config, the model's graph with its backward
// part, the optimizer, evaluation, metrics, checkpoints and resume.
#pragma once

#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "core/data/config.h"
#include "core/data/dataset.h"
#include "core/passes/pass.h"
#include "core/train/progress.h"
#include "core/train/session.h"

namespace nng {

// Loss and (for classifiers) accuracy over a dataset; NaN when not measured.
struct Metrics {
  double loss = std::numeric_limits<double>::quiet_NaN();
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  int64_t samples = 0;
};

// The classification head: the logits and integer labels of the cross-entropy that
// the model minimizes. kNone when the loss is not a cross-entropy.
struct Head {
  ValueId logits = kNone, labels = kNone;
};
Head classificationHead(const Graph &g);

// Runs the first `forwardNodes` nodes of the session's graph in evaluation mode over
// `data` in order and averages the loss (weighted by batch size).
Metrics evaluate(Session &s, const Dataset &data, int64_t batchSize, size_t forwardNodes);

struct TrainOptions {
  std::string resume;                    // checkpoint file or directory; "" = start fresh
  Progress::Style progress = Progress::Style::Plain;
  std::function<bool()> stopRequested;   // polled after each step (SIGINT)
  // The command that started the run, without --resume: the "resume with" message
  // appends `--resume DIR` to it.
  std::string command;
  bool profile = false; // per-op time of the training steps, printed at the end (stderr)
  // Graph passes from the command line, added to the config's `passes`; "grad" (and
  // "amp" for fp16/bf16 precision) are always added.
  std::vector<std::string> passes;
  PassOptions passOptions; // batch is the config's batch size
};

// The passes a training run applies, and their options: see TrainOptions.
std::vector<std::string> trainingPipeline(const TrainConfig &cfg, const TrainOptions &opts);
PassOptions trainingPassOptions(const TrainConfig &cfg, const TrainOptions &opts);

// How many leading nodes evaluation runs: up to the last node the loss and the
// classification logits depend on (passes may interleave forward and backward).
size_t forwardPrefix(const Graph &g);

struct TrainResult {
  std::string model;
  int64_t steps = 0, epochs = 0;
  Metrics train, validation, test;
  double samplesPerSec = 0, stepMsMedian = 0, seconds = 0, peakRssMb = 0;
  std::string checkpoint; // the last checkpoint written, if any
  bool interrupted = false;
  nlohmann::ordered_json json() const;
};

// Trains `model` as `cfg` says. UserError for bad data, a model without `minimize`,
// an unusable checkpoint. At the end (unless stopped) the weights alone are also
// written to checkpoint.dir/model.safetensors, the file eval/predict/run take.
TrainResult train(const Graph &model, TrainConfig cfg, const TrainOptions &opts);

} // namespace nng

// The training configuration (docs/config.md): YAML parsed with yaml-cpp into typed
// structs with every default filled in. Validation is complete: unknown keys (with a
// did-you-mean), wrong types, out-of-range values and missing keys are UserErrors
// located at the offending YAML node, with the key path first in the message:
//   train.yaml:7:13: error: data.train.format: unknown format 'idxx' (expected idx, ...)
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/data/array.h"
#include "core/data/readers.h"
#include "core/diag/diagnostic.h"

namespace nng {

enum class DataFormat { Idx, Csv, Npy, Synthetic };
enum class Precision { Fp32, Fp16, Bf16 };
enum class OptimizerType { Sgd, Adam, AdamW };
enum class ScheduleType { Constant, Step, MultiStep, Cosine, Poly };
enum class ProgressMode { Auto, Bar, Plain, None };

const char *formatName(DataFormat f);       // "idx", ...
const char *precisionName(Precision p);     // "fp32", ...
const char *optimizerName(OptimizerType t); // "sgd", "adam", "adamw"
const char *scheduleName(ScheduleType t);   // "constant", "step", "multistep", ...
const char *progressName(ProgressMode m);   // "auto", "bar", "plain", "none"
const char *syntheticName(SyntheticKind k); // "blobs", "spirals", "random"

// One dataset: where its fields come from and how each is prepared.
struct DataSource {
  DataFormat format = DataFormat::Idx;
  // idx, npy: field -> file path (resolved). synthetic: field -> "x" or "label"
  // (default {x: x, label: label}). csv: unused (csv.columns names the fields).
  std::map<std::string, std::string> fields;
  CsvSpec csv;
  SyntheticSpec synthetic;
  std::map<std::string, FieldTransform> transform; // fields without an entry: identity
  int64_t limit = 0;                               // keep the first N samples; 0 = all
  std::string keyPath;                             // "data.train", for messages
  SourceLoc loc;                                   // where the source was declared

  bool operator==(const DataSource &o) const {
    return format == o.format && fields == o.fields && csv == o.csv && synthetic == o.synthetic &&
           transform == o.transform && limit == o.limit;
  }
};

// Validation data: none, a fraction split off the training set, or its own source.
struct ValidationConfig {
  enum class Kind { None, Split, Source } kind = Kind::None;
  double split = 0.0; // in (0, 1)
  // true: a random subset drawn with the run seed; false: the last `split` of the
  // training set, in file order.
  bool shuffle = true;
  std::optional<DataSource> source;
};

struct DataConfig {
  int64_t batchSize = 32;
  bool shuffle = true;
  bool dropLast = false;
  int64_t prefetch = 2; // batches prepared ahead on a background thread; 0 = none
  DataSource train;
  ValidationConfig validation;
  std::optional<DataSource> test;
};

struct OptimizerConfig {
  OptimizerType type = OptimizerType::Sgd;
  double lr = 0.01;                        // default 0.01 for sgd, 0.001 for adam/adamw
  double momentum = 0.0;                   // sgd
  bool nesterov = false;                   // sgd, needs momentum > 0
  double weightDecay = 0.0;                // default 0 (sgd, adam), 0.01 (adamw, decoupled)
  std::array<double, 2> betas{0.9, 0.999}; // adam, adamw
  double eps = 1e-8;                       // adam, adamw
};

// All step counts are optimizer steps (after gradient accumulation).
struct ScheduleConfig {
  ScheduleType type = ScheduleType::Constant;
  int64_t warmupSteps = 0;         // linear ramp from lr/warmup to lr; any type
  int64_t stepSize = 0;            // step: multiply by gamma every step_size steps
  double gamma = 0.1;              // step, multistep
  std::vector<int64_t> milestones; // multistep: strictly increasing steps
  double power = 1.0;              // poly
  double minLr = 0.0;              // cosine, poly: the floor reached at the last step
};

struct CheckpointConfig {
  std::string dir = "runs/{model}"; // resolved against the config file's folder
  int64_t every = 1;                // epochs; 0 = not by epochs
  int64_t everySteps = 0;           // steps; 0 = not by steps
  int64_t keep = 3;                 // newest checkpoints kept; 0 = all
};

struct LogConfig {
  std::string metrics = "runs/{model}/metrics.jsonl"; // resolved; "" = no metrics file
  ProgressMode progress = ProgressMode::Auto;
};

struct TrainConfig {
  std::string file;            // the config file as named; "" when built from defaults
  std::string model;           // "" = the only (or last) model in the .nn file
  std::string device = "auto"; // auto | cpu | cuda | cuda:N
  uint64_t seed = 0;
  Precision precision = Precision::Fp32;
  DataConfig data;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  double clipGradNorm = 0.0; // 0 = off
  int64_t accumulate = 1;    // micro-batches per optimizer step
  int64_t epochs = 1;        // exactly one of epochs and steps is non-zero
  int64_t steps = 0;
  int64_t evalEvery = 1;           // epochs; 0 = not by epochs
  int64_t evalEverySteps = 0;      // steps; 0 = not by steps
  std::vector<std::string> passes; // graph passes before training, by CLI name
  CheckpointConfig checkpoint;
  LogConfig log;
  // Where each key was written, by key path ("optimizer.lr", "passes[1]"), for errors
  // found later (an unknown pass name, a data field the model lacks). Keys set with
  // --set or left to their defaults have no entry.
  std::map<std::string, SourceLoc> locs;

  SourceLoc locOf(const std::string &keyPath) const; // {file} when unknown
};

// Reads and validates a config file; `overrides` are --set assignments applied to the
// YAML before validation, in order. Relative paths resolve against the file's folder.
TrainConfig loadConfig(const std::string &path, const std::vector<std::string> &overrides = {});

// The same from text. `file` names it in messages; relative paths resolve against
// `baseDir` ("" = the current directory).
TrainConfig parseConfig(const std::string &text, const std::string &file,
                        const std::vector<std::string> &overrides = {},
                        const std::string &baseDir = "");

// Applies one --set assignment `key.path=value` to a YAML tree. The value is parsed as
// YAML (a scalar or a flow list/map: `passes=[prune, fuse]`); missing maps on the way
// are created; a numeric segment indexes an existing list (`optimizer.betas.0=0.8`).
// UserError on bad syntax (no '=', an empty key or segment, unparsable value) or when
// the path runs through a scalar.
void applyOverride(YAML::Node &root, const std::string &assignment);

// The effective config as YAML, every default written out; parseConfig of the result
// gives an equal config (paths are absolute after resolution, so from anywhere).
std::string printConfig(const TrainConfig &cfg);

// Sets the model name (when the config left it empty) and substitutes it for {model}
// in every path. Called by the trainer once it knows which model it trains.
void setModelName(TrainConfig &cfg, const std::string &name);

// The learning rate of 0-based optimizer step `step` out of `totalSteps`:
//   constant: lr                      step:  lr * gamma^floor(step / step_size)
//   multistep: lr * gamma^(milestones <= step)
//   cosine: min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2
//   poly:   min_lr + (lr - min_lr) * (1 - p)^power
// with p = (step - warmup) / (totalSteps - warmup) clamped to [0, 1], and during warmup
// (step < warmup_steps) the result times (step + 1) / warmup_steps.
double learningRate(const OptimizerConfig &opt, const ScheduleConfig &sched, int64_t step,
                    int64_t totalSteps);

} // namespace nng

// Tests of the training config: parsing with defaults, every validation error with its
// message and line, --set overrides, path resolution, print/parse round trips, and the
// learning-rate schedules.
#include <cmath>

#include <gtest/gtest.h>

#include "core/data/config.h"
#include "data_util.h"

namespace nng {
namespace {

using testing::ScratchDir;

TrainConfig parse(const std::string &text, const std::vector<std::string> &overrides = {}) {
  return parseConfig(text, "train.yaml", overrides, "/base");
}

template <class F> Diagnostic userError(F f) {
  try {
    f();
  } catch (const UserError &e) {
    return e.diagnostic();
  }
  ADD_FAILURE() << "expected a UserError";
  return {};
}

Diagnostic parseError(const std::string &text, const std::vector<std::string> &overrides = {}) {
  return userError([&] { parse(text, overrides); });
}

// The example of docs/config.md (and CONFIG.md), with the elided test paths filled in.
const char *kExample = R"(model: classifier
device: auto
seed: 42
precision: fp32

data:
  batch_size: 128
  shuffle: true
  drop_last: false
  prefetch: 2
  train:
    format: idx
    fields:
      x: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
      label: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz
    transform: { x: { scale: 0.00392156862, flatten: true } }
  validation: { split: 0.1 }
  test:
    format: idx
    fields: { x: t10k-images-idx3-ubyte.gz, label: t10k-labels-idx1-ubyte.gz }
    transform: { x: { scale: 0.00392156862, flatten: true } }

optimizer: { type: sgd, lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 0.0 }
schedule: { type: cosine, warmup_steps: 100 }
clip_grad_norm: 0
accumulate: 1

epochs: 3
eval_every: 1
passes: [prune, fuse, reuse]

checkpoint:
  dir: runs/{model}
  every: 1
  keep: 3
log:
  metrics: runs/{model}/metrics.jsonl
  progress: auto
)";

const char *kMinimal = "data:\n  train: { format: synthetic, synthetic: { kind: blobs } }\n";

TEST(Config, ParsesTheExample) {
  TrainConfig c = parse(kExample);
  EXPECT_EQ(c.file, "train.yaml");
  EXPECT_EQ(c.model, "classifier");
  EXPECT_EQ(c.device, "auto");
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.precision, Precision::Fp32);
  EXPECT_EQ(c.data.batchSize, 128);
  EXPECT_TRUE(c.data.shuffle);
  EXPECT_FALSE(c.data.dropLast);
  EXPECT_EQ(c.data.prefetch, 2);
  const DataSource &t = c.data.train;
  EXPECT_EQ(t.format, DataFormat::Idx);
  EXPECT_EQ(t.keyPath, "data.train");
  EXPECT_EQ(t.loc.line, 12);
  EXPECT_EQ(t.fields.at("x"), "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(t.transform.at("x").scale, 0.00392156862);
  EXPECT_TRUE(t.transform.at("x").flatten);
  EXPECT_FALSE(t.transform.at("x").dtype.has_value());
  EXPECT_EQ(t.transform.count("label"), 0u);
  EXPECT_EQ(c.data.validation.kind, ValidationConfig::Kind::Split);
  EXPECT_EQ(c.data.validation.split, 0.1);
  EXPECT_TRUE(c.data.validation.shuffle);
  ASSERT_TRUE(c.data.test.has_value());
  EXPECT_EQ(c.data.test->fields.at("label"), "/base/t10k-labels-idx1-ubyte.gz"); // resolved
  EXPECT_EQ(c.optimizer.type, OptimizerType::Sgd);
  EXPECT_EQ(c.optimizer.lr, 0.05);
  EXPECT_EQ(c.optimizer.momentum, 0.9);
  EXPECT_EQ(c.schedule.type, ScheduleType::Cosine);
  EXPECT_EQ(c.schedule.warmupSteps, 100);
  EXPECT_EQ(c.schedule.minLr, 0.0);
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.steps, 0);
  EXPECT_EQ(c.passes, (std::vector<std::string>{"prune", "fuse", "reuse"}));
  EXPECT_EQ(c.checkpoint.dir, "/base/runs/classifier"); // {model} substituted
  EXPECT_EQ(c.checkpoint.keep, 3);
  EXPECT_EQ(c.log.metrics, "/base/runs/classifier/metrics.jsonl");
  EXPECT_EQ(c.log.progress, ProgressMode::Auto);
  EXPECT_EQ(c.locOf("optimizer.lr").line, 23);
  EXPECT_EQ(c.locOf("passes[1]").line, 30);
  EXPECT_EQ(c.locOf("passes[1]").col, 17);
  EXPECT_FALSE(c.locOf("schedule.min_lr").valid()); // a default has no place in the file
}

#ifdef NNG_SOURCE_DIR
TEST(Config, TheDocumentedExampleParses) {
  std::vector<uint8_t> doc = testing::readBytes(NNG_SOURCE_DIR "/docs/config.md");
  std::string text(doc.begin(), doc.end());
  size_t start = text.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  start += 8;
  std::string yaml = text.substr(start, text.find("```", start) - start);
  TrainConfig c = parse(yaml);
  EXPECT_EQ(c.model, "classifier");
  EXPECT_EQ(c.data.test->fields.at("x"),
            "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(c.passes.size(), 3u);
  EXPECT_EQ(c.schedule.warmupSteps, 100);
}
#endif

TEST(Config, DefaultsFilled) {
  TrainConfig c = parse(kMinimal);
  EXPECT_EQ(c.model, "");
  EXPECT_EQ(c.device, "auto");
  EXPECT_EQ(c.seed, 0u);
  EXPECT_EQ(c.data.batchSize, 32);
  EXPECT_TRUE(c.data.shuffle);
  EXPECT_EQ(c.data.prefetch, 2);
  EXPECT_EQ(c.data.validation.kind, ValidationConfig::Kind::None);
  EXPECT_FALSE(c.data.test.has_value());
  EXPECT_EQ(c.data.train.fields,
            (std::map<std::string, std::string>{{"x", "x"}, {"label", "label"}}));
  EXPECT_EQ(c.data.train.synthetic.samples, 1000);
  EXPECT_EQ(c.data.train.synthetic.classes, 3);
  EXPECT_EQ(c.data.train.synthetic.features, 2);
  EXPECT_EQ(c.optimizer.type, OptimizerType::Sgd);
  EXPECT_EQ(c.optimizer.lr, 0.01);
  EXPECT_EQ(c.schedule.type, ScheduleType::Constant);
  EXPECT_EQ(c.accumulate, 1);
  EXPECT_EQ(c.epochs, 1);
  EXPECT_EQ(c.evalEvery, 1);
  EXPECT_TRUE(c.passes.empty());
  EXPECT_EQ(c.checkpoint.dir, "/base/runs/{model}"); // no model yet
  EXPECT_EQ(c.checkpoint.every, 1);
  EXPECT_EQ(c.log.metrics, "/base/runs/{model}/metrics.jsonl");
  setModelName(c, "mlp");
  EXPECT_EQ(c.model, "mlp");
  EXPECT_EQ(c.checkpoint.dir, "/base/runs/mlp");
  EXPECT_EQ(c.log.metrics, "/base/runs/mlp/metrics.jsonl");
}

TEST(Config, AdamDefaultsAndSyntheticSeedFromRun) {
  TrainConfig c = parse(std::string(kMinimal) + "seed: 9\noptimizer: { type: adamw }\n");
  EXPECT_EQ(c.optimizer.lr, 0.001);
  EXPECT_EQ(c.optimizer.weightDecay, 0.01);
  EXPECT_EQ(c.optimizer.betas[1], 0.999);
  EXPECT_EQ(c.optimizer.eps, 1e-8);
  EXPECT_EQ(c.data.train.synthetic.seed, 9u);
  c = parse(std::string(kMinimal) + "optimizer: { type: adam, lr: 0.003, betas: [0.8, 0.99] }\n");
  EXPECT_EQ(c.optimizer.weightDecay, 0.0);
  EXPECT_EQ(c.optimizer.betas[0], 0.8);
}

TEST(Config, TheDocumentedFormatError) {
  Diagnostic d = parseError(R"(model: classifier
seed: 1

data:
  batch_size: 64
  train:
    format: idxx
    fields: { x: a.idx }
)");
  EXPECT_EQ(d.loc.file, "train.yaml");
  EXPECT_EQ(d.loc.line, 7);
  EXPECT_EQ(d.loc.col, 13);
  EXPECT_EQ(d.message, "data.train.format: unknown format 'idxx'; did you mean 'idx'? "
                       "(expected idx, csv, npy, synthetic)");
  DiagnosticSink sink;
  EXPECT_EQ(sink.format(d), "train.yaml:7:13: error: data.train.format: unknown format 'idxx'; "
                            "did you mean 'idx'? (expected idx, csv, npy, synthetic)\n");
}

struct ErrorCase {
  std::string yaml;
  int line;
  std::string message;
};

// Each case: a config, the line the error points at, and the whole message.
TEST(Config, ValidationErrors) {
  const std::string train = "data:\n  train: { format: synthetic, synthetic: { kind: blobs } }\n";
  const std::vector<ErrorCase> cases = {
      {"optimiser: {}\n" + train, 1, "unknown key 'optimiser' (did you mean 'optimizer'?)"},
      {train + "colour: red\n", 3,
       "unknown key 'colour' (expected one of: model, device, seed, precision, data, optimizer, "
       "schedule, clip_grad_norm, accumulate, epochs, steps, eval_every, eval_every_steps, "
       "passes, checkpoint, log)"},
      {"data:\n  batch_size: abc\n  train: { format: synthetic, synthetic: { kind: blobs } }\n", 2,
       "data.batch_size: expected an integer, got 'abc'"},
      {"data:\n  batch_size: 12.5\n  train: { format: synthetic, synthetic: { kind: blobs } }\n", 2,
       "data.batch_size: expected an integer, got '12.5'"},
      {"data:\n  batch_size: 0\n  train: { format: synthetic, synthetic: { kind: blobs } }\n", 2,
       "data.batch_size: must be >= 1, got 0"},
      {"data:\n  batch_size: [1]\n  train: { format: synthetic, synthetic: { kind: blobs } }\n", 2,
       "data.batch_size: expected an integer, got a list"},
      {"data:\n  shuffle: maybe\n  train: { format: synthetic, synthetic: { kind: blobs } }\n", 2,
       "data.shuffle: expected true or false, got 'maybe'"},
      {"data:\n  prefetch: 100\n  train: { format: synthetic, synthetic: { kind: blobs } }\n", 2,
       "data.prefetch: must be <= 64, got 100"},
      {"data: [1, 2]\n", 1, "data: expected a map, got a list"},
      {"seed: 1\n", 1, "missing required key 'data'"},
      {"model: m\ndata:\n  batch_size: 4\n", 3, "data: missing required key 'train'"},
      {"data:\n  train:\n    fields: { x: a }\n", 3, "data.train: missing required key 'format'"},
      {"data:\n  train:\n    format: idx\n", 3,
       "data.train: missing required key 'fields' (field name -> file)"},
      {"data:\n  train:\n    format: npy\n    fields: {}\n", 4,
       "data.train.fields: no fields given"},
      {"data:\n  train:\n    format: idx\n    fields: { 2x: a.idx }\n", 4,
       "data.train.fields.2x: field names must be identifiers (letters, digits, _)"},
      {"data:\n  train:\n    format: idx\n    fields: { x: '' }\n", 4,
       "data.train.fields.x: the path is empty"},
      {"data:\n  train:\n    format: idx\n    fields: { x: 'runs/{modle}/x' }\n", 4,
       "data.train.fields.x: unknown placeholder in 'runs/{modle}/x' (only {model} is "
       "substituted)"},
      {"data:\n  train:\n    format: csv\n    fields: { x: a }\n    csv: { path: a.csv, columns: "
       "{ x: 0 } }\n",
       4, "data.train.fields: csv sources name their fields in csv.columns"},
      {"data:\n  train:\n    format: idx\n    fields: { x: a }\n    csv: { path: a.csv }\n", 5,
       "data.train.csv: only used with format: csv (this source is idx)"},
      {"data:\n  train:\n    format: csv\n    csv: { path: a.csv, colums: { x: 0 } }\n", 4,
       "data.train.csv: unknown key 'colums' (did you mean 'columns'?)"},
      {"data:\n  train:\n    format: csv\n    csv: { path: a.csv, columns: { x: [] } }\n", 4,
       "data.train.csv.columns.x: the column list is empty"},
      {"data:\n  train:\n    format: csv\n    csv: { path: a.csv, columns: { x: [0, -1] } }\n", 4,
       "data.train.csv.columns.x[1]: must be >= 0, got -1"},
      {"data:\n  train:\n    format: csv\n    csv: { path: a.csv, delimiter: ';;', columns: { x: 0 "
       "} }\n",
       4,
       "data.train.csv.delimiter: expected one character other than a quote or newline, got "
       "';;'"},
      {"data:\n  train:\n    format: synthetic\n    synthetic: { kind: moons }\n", 4,
       "data.train.synthetic.kind: unknown kind 'moons' (expected blobs, spirals, random)"},
      {"data:\n  train:\n    format: synthetic\n    synthetic: { kind: spirals, features: 3 }\n", 4,
       "data.train.synthetic.features: spirals are 2-d; features must be 2"},
      {"data:\n  train:\n    format: synthetic\n    synthetic: { kind: blobs, samples: 0 }\n", 4,
       "data.train.synthetic.samples: must be >= 1, got 0"},
      {"data:\n  train:\n    format: synthetic\n    synthetic: { kind: blobs }\n    fields: { x: "
       "y }\n",
       5, "data.train.fields.x: unknown synthetic part 'y' (expected x, label)"},
      {"data:\n  train:\n    format: idx\n    fields: { image: a }\n    transform: { imag: { "
       "scale: 2 } }\n",
       5,
       "data.train.transform.imag: no field 'imag' in this source (fields: image); did you "
       "mean 'image'?"},
      {"data:\n  train:\n    format: idx\n    fields: { x: a }\n    transform: { x: { scales: 2 "
       "} }\n",
       5, "data.train.transform.x: unknown key 'scales' (did you mean 'scale'?)"},
      {"data:\n  train:\n    format: idx\n    fields: { x: a }\n    transform: { x: { dtype: u8 "
       "} }\n",
       5, "data.train.transform.x.dtype: unknown dtype 'u8' (expected auto, f32, f64, i32, i64)"},
      {"data:\n  train:\n    format: idx\n    fields: { x: a }\n    transform:\n      x: { scale: "
       "2, dtype: i64 }\n",
       6, "data.train.transform.x: scale/shift need a float dtype, not i64"},
      {"data:\n  train:\n    format: idx\n    fields: { x: a }\n    limit: -1\n", 5,
       "data.train.limit: must be >= 0, got -1"},
      {train + "  validation: { split: 1.5 }\n", 3,
       "data.validation.split: must be in (0, 1), got 1.5"},
      {train + "  validation: { split: 0 }\n", 3,
       "data.validation.split: must be in (0, 1), got 0"},
      {train + "  validation: { split: 0.1, format: idx }\n", 3,
       "data.validation.format: a validation split cannot be combined with a source"},
      {train + "  validation: { shuffle: true }\n", 3,
       "data.validation: expected {split: FRACTION} or a data source with a format"},
      {train + "optimizer: { lr: 0 }\n", 3, "optimizer.lr: must be > 0, got 0"},
      {train + "optimizer: { lr: -0.1 }\n", 3, "optimizer.lr: must be > 0, got -0.1"},
      {train + "optimizer: { lr: .inf }\n", 3, "optimizer.lr: expected a number, got '.inf'"},
      {train + "optimizer: { lr: fast }\n", 3, "optimizer.lr: expected a number, got 'fast'"},
      {train + "optimizer: { momentum: 1 }\n", 3, "optimizer.momentum: must be in [0, 1), got 1"},
      {train + "optimizer: { momentum: -0.5 }\n", 3,
       "optimizer.momentum: must be in [0, 1), got -0.5"},
      {train + "optimizer: { nesterov: true }\n", 3,
       "optimizer.nesterov: nesterov needs momentum > 0"},
      {train + "optimizer: { weight_decay: -1 }\n", 3,
       "optimizer.weight_decay: must be >= 0, got -1"},
      {train + "optimizer: { type: adam, momentum: 0.9 }\n", 3,
       "optimizer.momentum: used by sgd, not adam"},
      {train + "optimizer: { type: sgd, betas: [0.9, 0.99] }\n", 3,
       "optimizer.betas: used by adam and adamw, not sgd"},
      {train + "optimizer: { type: adam, betas: [0.9] }\n", 3,
       "optimizer.betas: expected a list of two numbers [beta1, beta2], got a list"},
      {train + "optimizer: { type: adam, betas: [0.9, 1.0] }\n", 3,
       "optimizer.betas[1]: must be in [0, 1), got 1.0"},
      {train + "optimizer: { type: adam, eps: 0 }\n", 3, "optimizer.eps: must be > 0, got 0"},
      {train + "optimizer: { type: rmsprop }\n", 3,
       "optimizer.type: unknown optimizer 'rmsprop' (expected sgd, adam, adamw)"},
      {train + "schedule: { type: linear }\n", 3,
       "schedule.type: unknown schedule 'linear' (expected constant, step, multistep, cosine, "
       "poly)"},
      {train + "schedule: { type: step }\n", 3,
       "schedule: missing required key 'step_size' for schedule step"},
      {train + "schedule: { type: step, step_size: 0 }\n", 3,
       "schedule.step_size: must be >= 1, got 0"},
      {train + "schedule: { type: cosine, step_size: 10 }\n", 3,
       "schedule.step_size: used by schedule step, not cosine"},
      {train + "schedule: { type: step, step_size: 5, min_lr: 0.001 }\n", 3,
       "schedule.min_lr: used by schedule cosine and poly, not step"},
      {train + "schedule: { type: multistep, milestones: [10, 10] }\n", 3,
       "schedule.milestones[1]: milestones must increase, got 10 after 10"},
      {train + "schedule: { type: multistep, milestones: 10 }\n", 3,
       "schedule.milestones: expected a non-empty list of steps, got '10'"},
      {train + "schedule: { type: multistep, milestones: [5], gamma: 0 }\n", 3,
       "schedule.gamma: must be > 0, got 0"},
      {train + "schedule: { type: cosine, min_lr: 0.5 }\n", 3,
       "schedule.min_lr: must be below optimizer.lr (0.01), got 0.5"},
      {train + "schedule: { type: poly, power: -1 }\n", 3, "schedule.power: must be > 0, got -1"},
      {train + "schedule: { warmup_steps: -3 }\n", 3,
       "schedule.warmup_steps: must be >= 0, got -3"},
      {train + "clip_grad_norm: -1\n", 3, "clip_grad_norm: must be >= 0, got -1"},
      {train + "accumulate: 0\n", 3, "accumulate: must be >= 1, got 0"},
      {train + "epochs: 0\n", 3, "epochs: must be >= 1, got 0"},
      {train + "epochs: 2\nsteps: 100\n", 4,
       "steps: epochs and steps are exclusive; give one of them"},
      {train + "eval_every: -1\n", 3, "eval_every: must be >= 0, got -1"},
      {train + "passes: prune\n", 3, "passes: expected a list of pass names, got 'prune'"},
      {train + "passes: [prune, Fuse]\n", 3,
       "passes[1]: 'Fuse' is not a pass name (lower-case, digits, '-')"},
      {train + "checkpoint: { keep: -1 }\n", 3, "checkpoint.keep: must be >= 0, got -1"},
      {train + "checkpoint: { dir: '' }\n", 3, "checkpoint.dir: the path is empty"},
      {train + "checkpoint: { evry: 2 }\n", 3,
       "checkpoint: unknown key 'evry' (did you mean 'every'?)"},
      {train + "log: { progress: fancy }\n", 3,
       "log.progress: unknown progress mode 'fancy' (expected auto, bar, plain, none)"},
      {train + "device: gpu\n", 3,
       "device: unknown device 'gpu' (expected auto, cpu, cuda, cuda:N)"},
      {train + "device: 'cuda:x'\n", 3,
       "device: unknown device 'cuda:x' (expected auto, cpu, cuda, cuda:N)"},
      {train + "precision: fp8\n", 3,
       "precision: unknown precision 'fp8' (expected fp32, fp16, bf16)"},
      {train + "seed: -1\n", 3, "seed: expected a non-negative integer below 2^64, got '-1'"},
      {train + "seed: 1\nseed: 2\n", 4, "seed: duplicate key 'seed'"},
      {train + "model: [a]\n", 3, "model: expected a string, got a list"},
      {"- a\n- b\n", 1, "the config must be a map of keys, got a list"},
      {"data:\n  train: { format: idx\n", 3, "invalid YAML: end of map flow not found"},
  };
  for (const ErrorCase &c : cases) {
    Diagnostic d = parseError(c.yaml);
    EXPECT_EQ(d.message, c.message) << c.yaml;
    EXPECT_EQ(d.loc.line, c.line) << c.yaml;
    EXPECT_EQ(d.loc.file, "train.yaml") << c.yaml;
  }
}

TEST(Config, NullSectionsReadAsEmpty) {
  TrainConfig c = parse(std::string(kMinimal) + "checkpoint:\nlog:\npasses:\n");
  EXPECT_EQ(c.checkpoint.keep, 3);
  EXPECT_TRUE(c.passes.empty());
}

TEST(Config, CsvAndValidationSource) {
  TrainConfig c = parse(R"(data:
  train:
    format: csv
    csv:
      path: data/iris.csv
      header: true
      delimiter: ';'
      columns: { x: [0, 1, 2, 3], label: 4 }
    transform: { label: { dtype: i64 } }
    limit: 100
  validation:
    format: npy
    fields: { x: /abs/vx.npy, label: ../vl.npy }
)");
  const CsvSpec &csv = c.data.train.csv;
  EXPECT_EQ(csv.path, "/base/data/iris.csv");
  EXPECT_TRUE(csv.header);
  EXPECT_EQ(csv.delimiter, ';');
  EXPECT_EQ(csv.columns.at("x").indices, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_FALSE(csv.columns.at("x").single);
  EXPECT_TRUE(csv.columns.at("label").single);
  EXPECT_EQ(c.data.train.transform.at("label").dtype, DType::I64);
  EXPECT_EQ(c.data.train.limit, 100);
  ASSERT_EQ(c.data.validation.kind, ValidationConfig::Kind::Source);
  EXPECT_EQ(c.data.validation.source->keyPath, "data.validation");
  EXPECT_EQ(c.data.validation.source->fields.at("x"), "/abs/vx.npy");
  EXPECT_EQ(c.data.validation.source->fields.at("label"), "/vl.npy");
}

// ---------------------------------------------------------------------------------
// --set

TEST(Override, SetsScalarsListsMapsAndCreatesSections) {
  TrainConfig c =
      parse(std::string(kMinimal) + "optimizer: { type: adam }\n",
            {"data.batch_size=64", "optimizer.betas=[0.8, 0.9]", "optimizer.betas.1=0.95",
             "passes=[prune, fuse]", "schedule.type=cosine", "schedule.min_lr=1e-5",
             "data.train.transform={x: {scale: 0.5}}", "model=mlp", "steps=500"});
  EXPECT_EQ(c.data.batchSize, 64);
  EXPECT_EQ(c.optimizer.betas[0], 0.8);
  EXPECT_EQ(c.optimizer.betas[1], 0.95);
  EXPECT_EQ(c.passes, (std::vector<std::string>{"prune", "fuse"}));
  EXPECT_EQ(c.schedule.type, ScheduleType::Cosine);
  EXPECT_EQ(c.schedule.minLr, 1e-5);
  EXPECT_EQ(c.data.train.transform.at("x").scale, 0.5);
  EXPECT_EQ(c.model, "mlp");
  EXPECT_EQ(c.steps, 500);
  EXPECT_EQ(c.epochs, 0);
  EXPECT_FALSE(c.locOf("data.batch_size").valid()); // came from --set
}

TEST(Override, BuildsAConfigFromNothing) {
  TrainConfig c = parse("", {"data.train.format=synthetic", "data.train.synthetic.kind=spirals"});
  EXPECT_EQ(c.data.train.format, DataFormat::Synthetic);
  EXPECT_EQ(c.data.train.synthetic.kind, SyntheticKind::Spirals);
}

TEST(Override, ErrorsNameTheAssignment) {
  Diagnostic d = parseError(kMinimal, {"data.batch_size=0"});
  EXPECT_FALSE(d.loc.valid());
  EXPECT_EQ(d.loc.file, "");
  EXPECT_EQ(d.message, "data.batch_size: must be >= 1, got 0 (from --set data.batch_size=0)");
  d = parseError(kMinimal, {"data.batchsize=8"});
  EXPECT_EQ(d.message, "data: unknown key 'batchsize' (did you mean 'batch_size'?) (from --set "
                       "data.batchsize=8)");
  d = parseError(kMinimal, {"data.train={format: idx}"});
  EXPECT_EQ(d.message, "data.train: missing required key 'fields' (field name -> file) (from "
                       "--set data.train={format: idx})");
  // A misspelt map made by an assignment to a key below it.
  d = parseError(kMinimal, {"optimiser.lr=1"});
  EXPECT_FALSE(d.loc.valid());
  EXPECT_EQ(d.message, "unknown key 'optimiser' (did you mean 'optimizer'?) (from --set "
                       "optimiser.lr=1)");
}

TEST(Override, BadSyntax) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"seed", "--set 'seed': no '=' (expected key.path=value)"},
      {"=5", "--set '=5': empty key (expected key.path=value)"},
      {"data..batch_size=5", "--set 'data..batch_size=5': empty key segment (expected "
                             "key.path=value)"},
      {"data.batch size=5", "--set 'data.batch size=5': 'batch size' is not a key name "
                            "(expected key.path=value)"},
      {"seed=", "--set 'seed=': no value after '=' (write '' for an empty string) (expected "
                "key.path=value)"},
      {"passes=[prune,", "--set 'passes=[prune,': cannot parse the value as YAML: end of "
                         "sequence flow not found"},
      {"seed.x=1", "--set 'seed.x=1': 'seed' is a value, not a map"},
      {"optimizer.betas.2=0.5",
       "--set 'optimizer.betas.2=0.5': 'optimizer.betas.2': the list has 2 entries (indices "
       "0..1)"},
      {"optimizer.betas.99999999999999999999=0.5",
       "--set 'optimizer.betas.99999999999999999999=0.5': 'optimizer.betas.99999999999999999999': "
       "the list has 2 entries (indices 0..1)"},
  };
  for (const auto &[assignment, message] : cases) {
    YAML::Node root = YAML::Load("seed: 3\noptimizer: { betas: [0.9, 0.99] }\n");
    Diagnostic d = userError([&] { applyOverride(root, assignment); });
    EXPECT_EQ(d.message, message) << assignment;
  }
}

TEST(Override, AppliesToTheTreeInPlace) {
  YAML::Node root = YAML::Load("a: 1\nb: { c: 2 }\n");
  applyOverride(root, "b.c=5");
  applyOverride(root, "b.d.e=x y");
  EXPECT_EQ(root["a"].as<int>(), 1);
  EXPECT_EQ(root["b"]["c"].as<int>(), 5);
  EXPECT_EQ(root["b"]["d"]["e"].as<std::string>(), "x y");
}

// ---------------------------------------------------------------------------------
// Files, paths and printing

TEST(Config, LoadResolvesPathsAgainstTheConfigFile) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("cfg"));
  std::string path = dir.file("cfg/train.yaml");
  testing::writeText(path,
                     "model: net\ndata:\n  train:\n    format: npy\n"
                     "    fields: { x: '../data/{model}_x.npy' }\ncheckpoint: { dir: ckpt }\n");
  TrainConfig c = loadConfig(path, {"log.metrics=m/{model}.jsonl"});
  EXPECT_EQ(c.file, path);
  EXPECT_EQ(c.data.train.fields.at("x"), dir.file("data/net_x.npy"));
  EXPECT_EQ(c.checkpoint.dir, dir.file("cfg/ckpt"));
  EXPECT_EQ(c.log.metrics, dir.file("cfg/m/net.jsonl"));
  Diagnostic d = userError([&] { loadConfig(dir.file("missing.yaml")); });
  EXPECT_EQ(d.loc.file, dir.file("missing.yaml"));
  EXPECT_EQ(d.message, "cannot open: No such file or directory");
}

TEST(Config, PrintRoundTrips) {
  const std::vector<std::string> configs = {
      kExample,
      kMinimal,
      R"(model: "a: b"
device: cuda:1
seed: 18446744073709551615
precision: bf16
data:
  batch_size: 7
  shuffle: false
  drop_last: true
  prefetch: 0
  train:
    format: csv
    csv: { path: "with space/d.csv", header: true, delimiter: "\t", columns: { x: [2, 0], y: 1 } }
    transform: { x: { scale: 0.1, shift: -3, dtype: f64 }, y: { dtype: i32 } }
    limit: 10
  validation: { split: 0.25, shuffle: false }
  test:
    format: synthetic
    synthetic: { kind: random, samples: 12, classes: 5, features: 9, seed: 3 }
    fields: { inp: x }
optimizer: { type: adam, lr: 3e-4, betas: [0.5, 0.75], eps: 1e-6, weight_decay: 0.125 }
schedule: { type: multistep, milestones: [3, 9, 27], gamma: 0.5, warmup_steps: 2 }
clip_grad_norm: 1.5
accumulate: 4
steps: 1000
eval_every: 0
eval_every_steps: 250
passes: []
checkpoint: { dir: /abs/ck, every: 0, every_steps: 100, keep: 0 }
log: { metrics: "", progress: plain }
)",
      std::string(kMinimal) + "schedule: { type: poly, power: 2, min_lr: 0.0001 }\n",
      std::string(kMinimal) + "schedule: { type: step, step_size: 30, gamma: 0.3 }\n"
                              "optimizer: { momentum: 0.5, nesterov: true }\n",
  };
  for (const std::string &text : configs) {
    TrainConfig a = parse(text);
    std::string printed = printConfig(a);
    // Parsed from another folder: the printed paths are absolute.
    TrainConfig b = parseConfig(printed, "printed.yaml", {}, "/elsewhere");
    EXPECT_EQ(printConfig(b), printed) << printed;
    EXPECT_EQ(b.data.train, a.data.train) << printed;
    EXPECT_EQ(b.data.validation.kind, a.data.validation.kind);
    EXPECT_EQ(b.data.validation.split, a.data.validation.split);
    EXPECT_EQ(b.data.validation.shuffle, a.data.validation.shuffle);
    EXPECT_EQ(b.data.test.has_value(), a.data.test.has_value());
    if (a.data.test) {
      EXPECT_EQ(*b.data.test, *a.data.test);
    }
    EXPECT_EQ(b.model, a.model);
    EXPECT_EQ(b.device, a.device);
    EXPECT_EQ(b.seed, a.seed);
    EXPECT_EQ(b.precision, a.precision);
    EXPECT_EQ(b.data.batchSize, a.data.batchSize);
    EXPECT_EQ(b.data.shuffle, a.data.shuffle);
    EXPECT_EQ(b.data.dropLast, a.data.dropLast);
    EXPECT_EQ(b.data.prefetch, a.data.prefetch);
    EXPECT_EQ(b.optimizer.type, a.optimizer.type);
    EXPECT_EQ(b.optimizer.lr, a.optimizer.lr);
    EXPECT_EQ(b.optimizer.momentum, a.optimizer.momentum);
    EXPECT_EQ(b.optimizer.nesterov, a.optimizer.nesterov);
    EXPECT_EQ(b.optimizer.weightDecay, a.optimizer.weightDecay);
    EXPECT_EQ(b.optimizer.betas, a.optimizer.betas);
    EXPECT_EQ(b.optimizer.eps, a.optimizer.eps);
    EXPECT_EQ(b.schedule.type, a.schedule.type);
    EXPECT_EQ(b.schedule.warmupSteps, a.schedule.warmupSteps);
    EXPECT_EQ(b.schedule.stepSize, a.schedule.stepSize);
    EXPECT_EQ(b.schedule.gamma, a.schedule.gamma);
    EXPECT_EQ(b.schedule.milestones, a.schedule.milestones);
    EXPECT_EQ(b.schedule.power, a.schedule.power);
    EXPECT_EQ(b.schedule.minLr, a.schedule.minLr);
    EXPECT_EQ(b.clipGradNorm, a.clipGradNorm);
    EXPECT_EQ(b.accumulate, a.accumulate);
    EXPECT_EQ(b.epochs, a.epochs);
    EXPECT_EQ(b.steps, a.steps);
    EXPECT_EQ(b.evalEvery, a.evalEvery);
    EXPECT_EQ(b.evalEverySteps, a.evalEverySteps);
    EXPECT_EQ(b.passes, a.passes);
    EXPECT_EQ(b.checkpoint.dir, a.checkpoint.dir);
    EXPECT_EQ(b.checkpoint.every, a.checkpoint.every);
    EXPECT_EQ(b.checkpoint.everySteps, a.checkpoint.everySteps);
    EXPECT_EQ(b.checkpoint.keep, a.checkpoint.keep);
    EXPECT_EQ(b.log.metrics, a.log.metrics);
    EXPECT_EQ(b.log.progress, a.log.progress);
  }
}

TEST(Config, PrintShowsDefaults) {
  std::string printed = printConfig(parse(kMinimal));
  EXPECT_EQ(printed, R"(model: ""
device: "auto"
seed: 0
precision: fp32
data:
  batch_size: 32
  shuffle: true
  drop_last: false
  prefetch: 2
  train:
    format: synthetic
    fields:
      label: "label"
      x: "x"
    synthetic: {kind: blobs, samples: 1000, classes: 3, features: 2, seed: 0}
    limit: 0
optimizer:
  type: sgd
  lr: 0.01
  momentum: 0
  nesterov: false
  weight_decay: 0
schedule:
  type: constant
  warmup_steps: 0
clip_grad_norm: 0
accumulate: 1
epochs: 1
eval_every: 1
eval_every_steps: 0
passes: []
checkpoint:
  dir: "/base/runs/{model}"
  every: 1
  every_steps: 0
  keep: 3
log:
  metrics: "/base/runs/{model}/metrics.jsonl"
  progress: auto
)");
}

// ---------------------------------------------------------------------------------
// Schedules

TEST(Schedule, LearningRates) {
  OptimizerConfig opt;
  opt.lr = 0.1;
  ScheduleConfig s;
  EXPECT_EQ(learningRate(opt, s, 500, 1000), 0.1);
  s.type = ScheduleType::Step;
  s.stepSize = 10;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 9, 100), 0.1);
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 10, 100), 0.05);
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 25, 100), 0.025);
  s.type = ScheduleType::MultiStep;
  s.milestones = {5, 20};
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 4, 100), 0.1);
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 5, 100), 0.05);
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 99, 100), 0.025);
  s.type = ScheduleType::Cosine;
  s.minLr = 0.01;
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 0, 100), 0.1);
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 50, 100), 0.055);
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 100, 100), 0.01);
  s.type = ScheduleType::Poly;
  s.power = 2;
  s.minLr = 0;
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 50, 100), 0.025);
  s.type = ScheduleType::Cosine;
  s.warmupSteps = 10;
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 0, 110), 0.01);  // (0 + 1) / 10 of lr
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 9, 110), 0.1);   // warmup done
  EXPECT_DOUBLE_EQ(learningRate(opt, s, 60, 110), 0.05); // half of the decay after warmup
}

} // namespace
} // namespace nng

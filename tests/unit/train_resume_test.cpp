// Training end to end on synthetic data: it learns, it is deterministic, and a run
// stopped at step k and resumed ends with bit-identical weights to an uninterrupted one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/cpu/cpu_backend.h"
#include "core/data/config.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"
#include "dsl/frontend.h"

namespace nng {
namespace {

namespace fs = std::filesystem;

const char *kModel = R"(
model net {
  input x: f32[N, 2];
  input label: i64[N];
  h = relu(dense(x, 16));
  h = dropout(h, p = 0.1);
  logits = dense(h, 3);
  loss = cross_entropy(logits, label);
  output logits;
  minimize loss;
}
)";

Graph model() {
  DiagnosticSink sink;
  auto g = dsl::loadModel(dsl::Source{"net.nn", kModel}, "", sink);
  EXPECT_TRUE(g.has_value()) << sink.formatAll();
  return *g;
}

std::string tempDir(const std::string &name) {
  fs::path p = fs::temp_directory_path() / ("nng_train_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

TrainConfig config(const std::string &dir, const std::string &optimizer, int64_t accumulate) {
  std::string yaml = R"(
seed: 7
data:
  batch_size: 16
  train: { format: synthetic, synthetic: { kind: blobs, samples: 240, classes: 3, seed: 1 } }
  validation: { split: 0.25 }
optimizer: )" + optimizer + R"(
schedule: { type: cosine, warmup_steps: 3 }
steps: 30
accumulate: )" + std::to_string(accumulate) + R"(
checkpoint: { dir: )" + dir + R"(/ckpt, every: 1, keep: 2 }
log: { metrics: )" + dir + R"(/metrics.jsonl, progress: none }
)";
  return parseConfig(yaml, dir + "/train.yaml");
}

TensorFile finalWeights(const std::string &dir) {
  return loadCheckpoint(dir + "/ckpt").tensors;
}

struct ResumeCase {
  const char *name;
  const char *optimizer;
  int64_t accumulate;
  int64_t stopAfter; // optimizer steps before the simulated Ctrl-C
};

void PrintTo(const ResumeCase &c, std::ostream *os) { *os << c.name; }

class TrainResume : public ::testing::TestWithParam<ResumeCase> {
protected:
  void SetUp() override { registerCpuBackend(); }
};

TEST_P(TrainResume, StopAndResumeIsBitIdentical) {
  const ResumeCase &c = GetParam();
  const std::string a = tempDir(std::string(c.name) + "_a"), b = tempDir(std::string(c.name) + "_b");
  TrainOptions quiet;
  quiet.progress = Progress::Style::None;

  TrainResult full = train(model(), config(a, c.optimizer, c.accumulate), quiet);
  EXPECT_EQ(full.steps, 30);
  EXPECT_FALSE(full.interrupted);

  TrainOptions stopping = quiet;
  int64_t polls = 0;
  // Polled once per optimizer step (a stop waits for the accumulation window to end).
  stopping.stopRequested = [&] { return ++polls >= c.stopAfter; };
  TrainResult first = train(model(), config(b, c.optimizer, c.accumulate), stopping);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.steps, c.stopAfter);

  TrainOptions resume = quiet;
  resume.resume = b + "/ckpt";
  TrainResult second = train(model(), config(b, c.optimizer, c.accumulate), resume);
  EXPECT_EQ(second.steps, 30);

  TensorFile wa = finalWeights(a), wb = finalWeights(b);
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto &kv : wa) {
    ASSERT_TRUE(wb.count(kv.first)) << kv.first;
    EXPECT_EQ(kv.second.bytes, wb.at(kv.first).bytes) << kv.first << " differs after resume";
  }
  EXPECT_EQ(full.validation.loss, second.validation.loss);
  fs::remove_all(a);
  fs::remove_all(b);
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, TrainResume,
    ::testing::Values(ResumeCase{"sgd_mid_epoch", "{ type: sgd, lr: 0.1, momentum: 0.9, nesterov: true }", 1, 7},
                      ResumeCase{"adam_epoch_boundary", "{ type: adam, lr: 0.01 }", 1, 12},
                      ResumeCase{"adamw_accumulate", "{ type: adamw, lr: 0.01 }", 2, 5}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Train, LearnsBlobsAndIsDeterministic) {
  registerCpuBackend();
  const std::string a = tempDir("learn_a"), b = tempDir("learn_b");
  TrainOptions quiet;
  quiet.progress = Progress::Style::None;
  TrainResult r1 = train(model(), config(a, "{ type: adam, lr: 0.05 }", 1), quiet);
  TrainResult r2 = train(model(), config(b, "{ type: adam, lr: 0.05 }", 1), quiet);
  EXPECT_GT(r1.validation.accuracy, 0.9);
  EXPECT_EQ(r1.train.loss, r2.train.loss);
  EXPECT_EQ(r1.validation.loss, r2.validation.loss);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Train, ResumeFromAnotherModelIsAUserError) {
  registerCpuBackend();
  const std::string a = tempDir("other");
  TrainOptions quiet;
  quiet.progress = Progress::Style::None;
  train(model(), config(a, "{ type: sgd, lr: 0.1 }", 1), quiet);
  Graph other = model();
  other.name = "other";
  TrainOptions resume = quiet;
  resume.resume = a + "/ckpt";
  EXPECT_THROW(train(other, config(a, "{ type: sgd, lr: 0.1 }", 1), resume), UserError);
  fs::remove_all(a);
}

} // namespace
} // namespace nng

// Optimized graphs train like the unoptimized one: every example, a few steps on its
// own data, with each pass alone, -O2, and everything at once. Losses must be
// bit-identical where a pass does not change arithmetic (prune, reuse, schedule,
// checkpoint), within 1e-5 relative where it reassociates (fuse), and within the
// documented tolerance of docs/passes.md for half precision. fp16 loss scaling skips
// the updates whose gradients overflow (the first steps at scale 2^16, on models with
// large gradients), as PyTorch's GradScaler does; the metrics mark them. After a
// skipped update the runs follow different paths, so fp16 losses are compared up to
// and including the first skipped step.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/cpu/cpu_backend.h"
#include "core/data/config.h"
#include "core/train/trainer.h"
#include "dsl/frontend.h"
#include "example_testing.h"

namespace nng {
namespace {

namespace fs = std::filesystem;
using testing::exampleNames;
using testing::stepEvents;

constexpr int64_t kSteps = 4;

// One training step's line of the metrics file.
struct StepLog {
  double loss;
  bool skipped; // fp16 loss scaling skipped this step's update
};

struct Variant {
  std::string name;
  std::vector<std::string> passes;
  PassOptions options;
  double tolerance; // largest relative loss difference; 0 = bit-identical
};

std::vector<Variant> variants() {
  PassOptions streams2;
  streams2.streams = 2;
  PassOptions fp16;
  fp16.amp = DType::F16;
  PassOptions bf16;
  bf16.amp = DType::BF16;
  PassOptions all = streams2;
  return {
      {"prune", {"prune"}, {}, 0},
      {"reuse", {"reuse"}, {}, 0},
      {"schedule", {"schedule"}, streams2, 0},
      {"checkpoint", {"checkpoint"}, {}, 0},
      {"fuse", {"fuse"}, {}, 1e-5},
      {"O2", {"prune", "fuse", "reuse"}, {}, 1e-5},
      {"all", {"prune", "fuse", "checkpoint", "reuse", "schedule"}, all, 1e-5},
      {"fp16", {"prune", "fuse", "reuse"}, fp16, 2e-2},
      {"bf16", {"prune", "fuse", "reuse"}, bf16, 5e-2},
  };
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The losses of the first kSteps steps of `example` with `variant`'s passes.
std::vector<StepLog> stepLosses(const std::string &example, const Variant &variant) {
  fs::path dir = fs::path(NNG_SOURCE_DIR) / "examples";
  DiagnosticSink sink;
  std::optional<Graph> g =
      dsl::loadModel(dsl::Source{(dir / (example + ".nn")).string(),
                                 readFile(dir / (example + ".nn"))},
                     "", sink);
  EXPECT_TRUE(g.has_value()) << sink.formatAll();
  if (!g)
    return {};
  fs::path tmp = fs::temp_directory_path() /
                 ("nng_passes_" + example + "_" + variant.name + "_" + std::to_string(getpid()));
  fs::remove_all(tmp);
  TrainConfig cfg = loadConfig((dir / (example + ".yaml")).string());
  cfg.device = "cpu";
  cfg.steps = kSteps;
  cfg.epochs = 0;
  cfg.data.train.limit = 8 * cfg.data.batchSize;
  cfg.data.validation = {};
  cfg.data.test.reset();
  cfg.checkpoint.dir = (tmp / "ckpt").string();
  cfg.checkpoint.every = 0;
  cfg.log.metrics = (tmp / "metrics.jsonl").string();
  cfg.log.progress = ProgressMode::None;
  TrainOptions opts;
  opts.progress = Progress::Style::None;
  opts.passes = variant.passes;
  opts.passOptions = variant.options;
  train(*g, cfg, opts);
  std::vector<StepLog> losses;
  for (const nlohmann::json &j : stepEvents(cfg.log.metrics))
    losses.push_back({j.at("loss").get<double>(), j.value("skipped", false)});
  fs::remove_all(tmp);
  return losses;
}

class TrainPasses : public ::testing::TestWithParam<std::string> {
protected:
  static void SetUpTestSuite() { registerCpuBackend(); }
};

TEST_P(TrainPasses, OptimizedGraphsTrainToTheSameLosses) {
  const std::string example = GetParam();
  std::vector<StepLog> base = stepLosses(example, Variant{"O0", {}, {}, 0});
  ASSERT_EQ(base.size(), static_cast<size_t>(kSteps));
  for (const Variant &v : variants()) {
    std::vector<StepLog> got = stepLosses(example, v);
    ASSERT_EQ(got.size(), base.size()) << example << " " << v.name;
    for (size_t i = 0; i < got.size(); ++i) {
      const double want = base[i].loss;
      if (v.tolerance == 0)
        EXPECT_EQ(got[i].loss, want) << example << " with " << v.name << ", step " << i + 1;
      else
        EXPECT_LE(std::abs(got[i].loss - want), v.tolerance * std::abs(want))
            << example << " with " << v.name << ", step " << i + 1 << ": " << got[i].loss
            << " vs " << want;
      if (got[i].skipped)
        break;
    }
    if (v.name != "fp16") {
      for (const StepLog &s : got)
        EXPECT_FALSE(s.skipped) << example << " with " << v.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, TrainPasses, ::testing::ValuesIn(exampleNames()),
                         [](const auto &info) { return info.param; });


// Passes renumber values (prune drops the dead branch and its param, which the source
// declares before the dropouts): the dropout masks and the other params' initial values
// must not move with them, so the pruned model trains to bit-identical losses.
TEST(TrainPassesDropout, PruningKeepsMasksAndInitialValues) {
  registerCpuBackend();
  const char *source = R"(
model net {
  input x: f32[N, 2];
  input label: i64[N];
  unused = relu(dense(x, 8, name = "probe"));
  h = dropout(relu(dense(x, 16)), p = 0.3);
  h = dropout(relu(dense(h, 16)), p = 0.2);
  logits = dense(h, 3);
  loss = cross_entropy(logits, label);
  output logits;
  minimize loss;
}
)";
  DiagnosticSink sink;
  std::optional<Graph> g = dsl::loadModel(dsl::Source{"net.nn", source}, "", sink);
  ASSERT_TRUE(g.has_value()) << sink.formatAll();
  auto run = [&](const std::vector<std::string> &passes) {
    fs::path tmp = fs::temp_directory_path() /
                   ("nng_passes_dropout_" + std::to_string(passes.size()) + "_" +
                    std::to_string(getpid()));
    fs::remove_all(tmp);
    TrainConfig cfg = parseConfig(R"(
seed: 5
data:
  batch_size: 16
  train: { format: synthetic, synthetic: { kind: blobs, samples: 160, classes: 3, seed: 2 } }
optimizer: { type: sgd, lr: 0.1, momentum: 0.9 }
steps: 6
log: { progress: none }
)",
                                  (tmp / "train.yaml").string());
    cfg.checkpoint.dir = (tmp / "ckpt").string();
    cfg.checkpoint.every = 0;
    cfg.log.metrics = (tmp / "metrics.jsonl").string();
    TrainOptions opts;
    opts.progress = Progress::Style::None;
    opts.passes = passes;
    train(*g, cfg, opts);
    std::vector<double> losses;
    for (const nlohmann::json &j : stepEvents(cfg.log.metrics))
      losses.push_back(j.at("loss").get<double>());
    fs::remove_all(tmp);
    return losses;
  };
  std::vector<double> plain = run({});
  ASSERT_EQ(plain.size(), 6u);
  EXPECT_EQ(run({"prune"}), plain);
  EXPECT_EQ(run({"prune", "reuse", "schedule"}), plain);
}

} // namespace
} // namespace nng

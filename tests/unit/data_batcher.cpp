// Tests of datasets (loading, validation split, consistency, input checks) and of the
// batcher (epoch orders, drop_last, cursor resume, prefetch thread), plus a read of
// the real Fashion-MNIST when it is installed.
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <set>

#include <gtest/gtest.h>

#include "core/data/batcher.h"
#include "core/data/dataset.h"
#include "data_util.h"

namespace nng {
namespace {

using testing::ScratchDir;

template <class F> Diagnostic userError(F f) {
  try {
    f();
  } catch (const UserError &e) {
    return e.diagnostic();
  }
  ADD_FAILURE() << "expected a UserError";
  return {};
}

// n samples: "id" = i64 [n] holding 0..n-1, "x" = f32 [n, 2] holding (i, -i).
std::shared_ptr<Dataset> numbered(int64_t n) {
  auto ds = std::make_shared<Dataset>("data.train");
  HostArray id(DType::I64, {n}), x(DType::F32, {n, 2});
  for (int64_t i = 0; i < n; ++i) {
    id.data<int64_t>()[i] = i;
    x.data<float>()[2 * i] = static_cast<float>(i);
    x.data<float>()[2 * i + 1] = static_cast<float>(-i);
  }
  ds->add("id", std::move(id));
  ds->add("x", std::move(x));
  return ds;
}

std::vector<int64_t> ids(const Batch &b) {
  const HostArray &a = b.fields.at("id");
  return std::vector<int64_t>(a.data<int64_t>(), a.data<int64_t>() + a.rows());
}

BatcherOptions options(int64_t batch, bool shuffle, bool dropLast, int64_t prefetch,
                       uint64_t seed = 1) {
  BatcherOptions o;
  o.batchSize = batch;
  o.shuffle = shuffle;
  o.dropLast = dropLast;
  o.prefetch = prefetch;
  o.seed = seed;
  return o;
}

// ---------------------------------------------------------------------------------
// Dataset

TEST(Dataset, FieldsMustAgreeOnSampleCount) {
  Dataset ds("data.train", SourceLoc{"train.yaml", 9, 5});
  ds.add("x", HostArray(DType::F32, {60000, 784}));
  Diagnostic d = userError([&] { ds.add("label", HostArray(DType::I64, {10000})); });
  EXPECT_EQ(d.loc.line, 9);
  EXPECT_EQ(d.message, "data.train: field 'label' has 10000 samples but field 'x' has 60000");
  d = userError([&] { ds.add("s", HostArray(DType::F32, {})); });
  EXPECT_EQ(d.message,
            "data.train: field 's' is a scalar (shape []); fields need a sample dimension");
  EXPECT_EQ(ds.size(), 60000);
  EXPECT_EQ(ds.fieldNames(), (std::vector<std::string>{"x"}));
}

TEST(Dataset, SelectGathersRows) {
  auto ds = numbered(5);
  Dataset s = ds->select({4, 1}, "part");
  EXPECT_EQ(s.size(), 2);
  EXPECT_EQ(s.field("id").data<int64_t>()[0], 4);
  EXPECT_EQ(s.field("x").data<float>()[1], -4.0f);
  EXPECT_EQ(s.field("x").data<float>()[2], 1.0f);
}

TEST(Dataset, ValidationSplitLastFraction) {
  auto ds = numbered(10);
  auto [train, val] = splitValidation(*ds, 0.3, false, 0);
  EXPECT_EQ(train.size(), 7);
  EXPECT_EQ(val.size(), 3);
  EXPECT_EQ(val.name(), "data.validation");
  std::vector<int64_t> v(val.field("id").data<int64_t>(), val.field("id").data<int64_t>() + 3);
  EXPECT_EQ(v, (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(train.field("id").data<int64_t>()[6], 6);
}

TEST(Dataset, ValidationSplitShuffledIsSeededAndDisjoint) {
  auto ds = numbered(100);
  auto [t1, v1] = splitValidation(*ds, 0.2, true, 42);
  auto [t2, v2] = splitValidation(*ds, 0.2, true, 42);
  auto [t3, v3] = splitValidation(*ds, 0.2, true, 43);
  EXPECT_EQ(v1.field("id"), v2.field("id"));
  EXPECT_NE(v1.field("id"), v3.field("id"));
  std::vector<int64_t> all;
  for (const Dataset *d : {&t1, &v1})
    for (int64_t i = 0; i < d->size(); ++i)
      all.push_back(d->field("id").data<int64_t>()[i]);
  EXPECT_EQ(v1.size(), 20);
  std::vector<int64_t> val(all.end() - 20, all.end());
  EXPECT_TRUE(std::is_sorted(val.begin(), val.end())); // file order kept
  std::vector<int64_t> tail(20);
  std::iota(tail.begin(), tail.end(), 80);
  EXPECT_NE(val, tail); // a random subset, not the last fifth
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 100; ++i)
    ASSERT_EQ(all[i], i);
  EXPECT_EQ(userError([&] { splitValidation(*ds, 0.001, true, 1); }).message,
            "a validation split of 0.001000 of 100 samples leaves no validation samples");
}

TEST(Dataset, LoadSyntheticWithSplitAndTest) {
  TrainConfig cfg = parseConfig(R"(seed: 5
data:
  train:
    format: synthetic
    synthetic: { kind: spirals, samples: 200, classes: 2 }
    fields: { points: x, label: label }
    transform: { points: { scale: 2 } }
    limit: 150
  validation: { split: 0.2 }
  test:
    format: synthetic
    synthetic: { kind: spirals, samples: 40, classes: 2, seed: 99 }
    fields: { points: x, label: label }
)",
                                "t.yaml", {}, "/base");
  LoadedData d = loadData(cfg);
  EXPECT_EQ(d.train.size(), 120);
  ASSERT_TRUE(d.validation.has_value());
  EXPECT_EQ(d.validation->size(), 30);
  ASSERT_TRUE(d.test.has_value());
  EXPECT_EQ(d.test->size(), 40);
  EXPECT_EQ(d.train.field("points").str(), "f32[120, 2]");
  EXPECT_EQ(d.train.field("label").dtype, DType::I64);
  // The scale applied: synthetic spirals lie within radius ~1.3, scaled ones beyond it.
  double maxAbs = 0;
  for (int64_t i = 0; i < 240; ++i)
    maxAbs = std::max(maxAbs, std::fabs(d.train.field("points").at(i)));
  EXPECT_GT(maxAbs, 1.4);
}

TEST(Dataset, TestMustMatchTrain) {
  ScratchDir dir;
  testing::writeText(dir.file("train.csv"), "1,2,0\n3,4,1\n");
  testing::writeText(dir.file("test.csv"), "1,2,5,0\n");
  TrainConfig cfg = parseConfig(R"(data:
  train:
    format: csv
    csv: { path: train.csv, columns: { x: [0, 1], label: 2 } }
    transform: { x: { dtype: f32 } }
  test:
    format: csv
    csv: { path: test.csv, columns: { x: [0, 1, 2], label: 3 } }
    transform: { x: { dtype: f32 } }
)",
                                "t.yaml", {}, dir.str());
  Diagnostic d = userError([&] { loadData(cfg); });
  EXPECT_EQ(d.loc.line, 7);
  EXPECT_EQ(d.message, "data.test: field 'x' is f32[1, 3] but in data.train it is f32[2, 2] "
                       "(samples must have the same dtype and shape)");
}

TEST(Dataset, ReaderErrorsNameTheConfigEntry) {
  TrainConfig cfg = parseConfig("data:\n  train:\n    format: idx\n    fields: { x: nope.idx }\n",
                                "t.yaml", {}, "/nonexistent");
  Diagnostic d = userError([&] { loadData(cfg); });
  EXPECT_EQ(d.loc.file, "/nonexistent/nope.idx");
  EXPECT_EQ(d.message, "cannot open: No such file or directory");
  EXPECT_EQ(d.notes, (std::vector<std::string>{"reading data.train (t.yaml:3:5)"}));
}

TEST(Dataset, CheckInputs) {
  Dataset ds("data.train");
  ds.add("x", HostArray(DType::F32, {6, 28, 28}));
  ds.add("label", HostArray(DType::I64, {6}));
  ds.add("seq", HostArray(DType::F32, {6, 5, 3}));
  ds.add("mask", HostArray(DType::F32, {6, 4, 3}));
  auto decl = [](const std::string &name, DType t, Shape s) {
    return InputDecl{name, TensorType{t, std::move(s)}};
  };
  Dim n = Dim::sym("N"), t = Dim::sym("T");
  EXPECT_TRUE(checkInputs(ds, {decl("x", DType::F32, {n, 28, 28}), decl("label", DType::I64, {n})})
                  .empty());
  std::vector<std::string> errors =
      checkInputs(ds, {decl("x", DType::F32, {n, 784}), decl("label", DType::F32, {n}),
                       decl("labl", DType::I64, {n}), decl("seq", DType::F32, {n, t, 3}),
                       decl("mask", DType::F32, {n, t, 3})});
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0], "input 'x' expects f32[N, 784], data field 'x' has shape [6, 28, 28] "
                       "(did you forget transform flatten?)");
  EXPECT_EQ(errors[1], "input 'label' expects f32[N], data field 'label' is i64[6] "
                       "(set dtype: f32 or a scale in the field's transform)");
  EXPECT_EQ(errors[2], "input 'labl' has no data field of that name (data.train has label, "
                       "mask, seq, x); did you mean 'label'?");
  EXPECT_EQ(errors[3], "input 'mask' expects f32[N, T, 3], data field 'mask' has shape "
                       "[6, 4, 3] (T is 5 in input 'seq')");
  errors =
      checkInputs(ds, {decl("x", DType::F32, {32, 28, 28}), decl("x", DType::F32, {n, 28})}, 64);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "input 'x' expects f32[32, 28, 28], a fixed batch of 32, but "
                       "data.batch_size is 64");
  EXPECT_EQ(errors[1], "input 'x' expects f32[N, 28], data field 'x' has shape [6, 28, 28]");
}

// ---------------------------------------------------------------------------------
// Batcher

TEST(Batcher, EveryEpochIsAPermutationAndOrdersDiffer) {
  auto ds = numbered(50);
  Batcher b(ds, options(8, true, false, 0));
  EXPECT_EQ(b.batchesPerEpoch(), 7);
  std::vector<std::vector<int64_t>> epochs(3);
  for (int e = 0; e < 3; ++e) {
    for (int i = 0; i < 7; ++i) {
      Batch batch = b.next();
      EXPECT_EQ(batch.at.epoch, e);
      EXPECT_EQ(batch.at.index, 8 * i);
      EXPECT_EQ(batch.size, i < 6 ? 8 : 2);
      EXPECT_EQ(batch.endOfEpoch, i == 6);
      std::vector<int64_t> got = ids(batch);
      // x travels with id: the same rows of every field.
      const HostArray &x = batch.fields.at("x");
      for (size_t r = 0; r < got.size(); ++r)
        ASSERT_EQ(x.data<float>()[2 * r + 1], -static_cast<float>(got[r]));
      epochs[e].insert(epochs[e].end(), got.begin(), got.end());
    }
    EXPECT_EQ(epochs[e], b.epochOrder(e));
    std::vector<int64_t> sorted = epochs[e];
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 50; ++i)
      ASSERT_EQ(sorted[i], i);
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  EXPECT_EQ(b.cursor(), (DataCursor{3, 0}));
}

TEST(Batcher, OrderIsAPureFunctionOfSeedAndEpoch) {
  auto ds = numbered(64);
  Batcher a(ds, options(16, true, false, 0, 7)), b(ds, options(16, true, false, 0, 7));
  Batcher c(ds, options(16, true, false, 0, 8));
  EXPECT_EQ(a.epochOrder(5), b.epochOrder(5));
  EXPECT_NE(a.epochOrder(5), c.epochOrder(5));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(ids(a.next()), ids(b.next()));
}

TEST(Batcher, NoShuffleKeepsDatasetOrder) {
  auto ds = numbered(5);
  Batcher b(ds, options(2, false, false, 0));
  EXPECT_EQ(ids(b.next()), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ids(b.next()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ids(b.next()), (std::vector<int64_t>{4}));
  EXPECT_EQ(ids(b.next()), (std::vector<int64_t>{0, 1})); // epoch 1, same order
}

TEST(Batcher, DropLast) {
  auto ds = numbered(10);
  Batcher b(ds, options(4, true, true, 0));
  EXPECT_EQ(b.batchesPerEpoch(), 2);
  Batch first = b.next(), second = b.next();
  EXPECT_EQ(first.size, 4);
  EXPECT_EQ(second.size, 4);
  EXPECT_TRUE(second.endOfEpoch);
  EXPECT_EQ(b.cursor(), (DataCursor{1, 0}));
  EXPECT_EQ(b.next().at, (DataCursor{1, 0}));
  Diagnostic d = userError([&] { Batcher tooBig(ds, options(11, true, true, 0)); });
  EXPECT_EQ(d.message, "data.train has 10 samples, fewer than batch_size 11, and drop_last "
                       "leaves no batch");
  Batcher small(ds, options(11, true, false, 0)); // without drop_last: one batch of 10
  EXPECT_EQ(small.next().size, 10);
}

TEST(Batcher, CursorResumeGivesTheSameBatches) {
  auto ds = numbered(37);
  for (int64_t prefetch : {0, 2}) {
    Batcher a(ds, options(5, true, false, prefetch, 3));
    for (int i = 0; i < 11; ++i) // into the second epoch (8 batches per epoch)
      a.next();
    DataCursor saved = a.cursor();
    EXPECT_EQ(saved, (DataCursor{1, 15}));
    std::vector<std::vector<int64_t>> expected;
    for (int i = 0; i < 12; ++i)
      expected.push_back(ids(a.next()));
    Batcher resumed(ds, options(5, true, false, prefetch, 3), saved);
    for (int i = 0; i < 12; ++i)
      EXPECT_EQ(ids(resumed.next()), expected[i]) << "batch " << i << " prefetch " << prefetch;
    a.seek(saved); // seeking the same batcher back works too
    EXPECT_EQ(ids(a.next()), expected[0]);
  }
}

TEST(Batcher, SeekOutsideTheDataIsAnError) {
  auto ds = numbered(10);
  Batcher b(ds, options(4, true, true, 0));
  Diagnostic d = userError([&] { b.seek(DataCursor{2, 9}); });
  EXPECT_EQ(d.message, "data position (epoch 2, sample 9) is outside data.train, which has 8 "
                       "samples per epoch (was the checkpoint made with other data?)");
  b.seek(DataCursor{2, 8}); // the end of epoch 2 is the start of epoch 3
  EXPECT_EQ(b.cursor(), (DataCursor{3, 0}));
}

TEST(Batcher, PrefetchGivesTheSameBatches) {
  auto ds = numbered(101);
  Batcher sync(ds, options(8, true, false, 0, 11)), async(ds, options(8, true, false, 3, 11));
  for (int i = 0; i < 40; ++i) { // three epochs and a bit
    Batch s = sync.next(), a = async.next();
    ASSERT_EQ(s.at, a.at);
    ASSERT_EQ(s.endOfEpoch, a.endOfEpoch);
    ASSERT_EQ(s.fields, a.fields);
    ASSERT_EQ(sync.cursor(), async.cursor());
  }
}

TEST(Batcher, PrefetchPropagatesExceptionsAfterEarlierBatches) {
  auto ds = numbered(20);
  BatcherOptions o = options(4, false, false, 2);
  o.prepare = [](Batch &b) {
    if (b.at.index == 8)
      throw UserError("cannot prepare the batch at 8");
  };
  Batcher b(ds, o);
  EXPECT_EQ(b.next().at.index, 0);
  EXPECT_EQ(b.next().at.index, 4);
  EXPECT_EQ(userError([&] { b.next(); }).message, "cannot prepare the batch at 8");
  EXPECT_EQ(userError([&] { b.next(); }).message, "cannot prepare the batch at 8"); // stays failed
  EXPECT_EQ(b.cursor(), (DataCursor{0, 8}));
  // Without prefetch the same error comes straight from next().
  o.prefetch = 0;
  Batcher s(ds, o, DataCursor{0, 8});
  EXPECT_EQ(userError([&] { s.next(); }).message, "cannot prepare the batch at 8");
}

TEST(Batcher, PrepareRunsOnEveryBatch) {
  auto ds = numbered(12);
  BatcherOptions o = options(4, true, false, 2);
  o.prepare = [](Batch &b) { b.fields.at("x").data<float>()[0] = 1000.0f; };
  Batcher b(ds, o);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(b.next().fields.at("x").data<float>()[0], 1000.0f);
}

TEST(Batcher, ShutsDownWithAFullQueueOrMidEpoch) {
  auto ds = numbered(1000);
  for (int i = 0; i < 20; ++i) {
    Batcher b(ds, options(10, true, false, 4, static_cast<uint64_t>(i)));
    if (i % 2)
      b.next();
    // The destructor stops the producer whether it is waiting for room or working.
  }
  SUCCEED();
}

// ---------------------------------------------------------------------------------
// The real data

TEST(FashionMnist, ReadsTheInstalledFiles) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "train-images-idx3-ubyte.gz") ||
      !std::filesystem::exists(dir + "train-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed under " << dir;
  RawArray images = readIdx(dir + "train-images-idx3-ubyte.gz");
  RawArray labels = readIdx(dir + "train-labels-idx1-ubyte.gz");
  EXPECT_EQ(images.type, FileType::U8);
  EXPECT_EQ(images.shape, (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(labels.shape, (std::vector<int64_t>{60000}));
  std::vector<int64_t> counts(10);
  for (int64_t i = 0; i < 60000; ++i) {
    double l = labels.at(i);
    ASSERT_GE(l, 0);
    ASSERT_LE(l, 9);
    counts[static_cast<size_t>(l)]++;
  }
  for (int64_t c : counts)
    EXPECT_EQ(c, 6000); // Fashion-MNIST's training set is balanced
  // Through the config: flattened and scaled to [0, 1].
  TrainConfig cfg = parseConfig(
      "data:\n  train:\n    format: idx\n    fields: { x: " + dir +
          "train-images-idx3-ubyte.gz, "
          "label: " +
          dir +
          "train-labels-idx1-ubyte.gz }\n"
          "    transform: { x: { scale: 0.00392156862, flatten: true } }\n    limit: 1000\n",
      "fashion.yaml");
  Dataset ds = loadSource(cfg.data.train);
  EXPECT_EQ(ds.field("x").str(), "f32[1000, 784]");
  EXPECT_EQ(ds.field("label").str(), "i64[1000]");
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < 784000; ++i) {
    lo = std::min(lo, ds.field("x").data<float>()[i]);
    hi = std::max(hi, ds.field("x").data<float>()[i]);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_NEAR(hi, 1.0f, 1e-6);
  EXPECT_TRUE(checkInputs(ds, {InputDecl{"x", TensorType{DType::F32, {Dim::sym("N"), 784}}},
                               InputDecl{"label", TensorType{DType::I64, {Dim::sym("N")}}}})
                  .empty());
}

} // namespace
} // namespace nng

// The training loop. One iteration: feed a batch, run forward + backward, add the
// loss to the epoch's sums, update the weights every `accumulate` micro-batches, log,
// and at the epoch's end evaluate and checkpoint. The data order, dropout masks and
// learning rate are functions of (seed, step, cursor), all saved in checkpoints, which
// is what makes a resumed run bit-identical to an uninterrupted one.
#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/resource.h>

#include "core/data/batcher.h"
#include "core/ops/registry.h"
#include "core/passes/pass_manager.h"
#include "core/print/nn_printer.h"
#include "core/train/checkpoint.h"
#include "core/train/optimizer.h"

namespace nng {

namespace {

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0; // Linux reports KiB
}

nlohmann::json numberOrNull(double v) {
  return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
}

// Correct predictions in a batch: argmax of the logits against the labels field.
int64_t countCorrect(Session &s, const Head &head, const Batch &b) {
  if (head.logits == kNone)
    return 0;
  const HostArray logits = s.fetch(head.logits);
  const HostArray &labels = b.fields.at(s.graph().value(head.labels).name);
  const int64_t n = logits.shape[0], classes = logits.shape[1];
  const float *l = logits.data<float>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float *row = l + i * classes;
    const int64_t best = std::max_element(row, row + classes) - row;
    correct += best == static_cast<int64_t>(labels.at(i));
  }
  return correct;
}

// The nodes listed by name in the profile: the most expensive ones, enough to show
// where a step goes without printing a large model's every node.
constexpr size_t kProfiledNodes = 12;

// Kernel time per step, most expensive first: per op, then the nodes that cost the
// most, each with the source line it comes from. Evaluation runs are not profiled
// separately: they count towards the forward nodes.
std::string profileTable(const Executor &ex, int64_t steps) {
  using NodeTime = Executor::NodeTime;
  const double perStep = static_cast<double>(std::max<int64_t>(steps, 1));
  const std::map<std::string, NodeTime> ops = ex.opProfile();
  double total = 0;
  for (const auto &op : ops)
    total += op.second.ms;
  auto share = [total](double ms) { return total > 0 ? 100 * ms / total : 0.0; };

  std::vector<std::pair<std::string, NodeTime>> rows(ops.begin(), ops.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto &a, const auto &b) { return a.second.ms > b.second.ms; });
  std::string out = "profile (kernel time per training step):\n"
                    "  op                          ms/step   share  calls/step\n";
  char line[256];
  for (const auto &[op, t] : rows) {
    std::snprintf(line, sizeof line, "  %-26s %8.3f  %5.1f%%  %10.1f\n", op.c_str(),
                  t.ms / perStep, share(t.ms), static_cast<double>(t.calls) / perStep);
    out += line;
  }
  std::snprintf(line, sizeof line, "  %-26s %8.3f\n", "total", total / perStep);
  out += line;

  const Graph &g = ex.graph();
  const std::vector<NodeTime> &times = ex.nodeProfile();
  std::vector<size_t> order(times.size());
  for (size_t n = 0; n < order.size(); ++n)
    order[n] = n;
  const size_t shown = std::min(kProfiledNodes, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                    [&](size_t a, size_t b) { return times[a].ms > times[b].ms; });
  const std::vector<std::string> names = printedNames(g);
  out += "  costliest nodes               op                   ms/step   share  source\n";
  for (size_t i = 0; i < shown; ++i) {
    const Node &node = g.nodes()[order[i]];
    const double ms = times[order[i]].ms;
    std::snprintf(line, sizeof line, "  %-29s %-18s %8.3f  %5.1f%%  %s\n",
                  names[static_cast<size_t>(node.output)].c_str(), node.op.c_str(), ms / perStep,
                  share(ms), node.loc.valid() ? node.loc.str().c_str() : "-");
    out += line;
  }
  out.pop_back(); // the notice adds the last newline
  return out;
}

double scalarOf(Session &s, ValueId v) { return s.exec().read<float>(v)[0]; }

std::string fmt(const char *f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

} // namespace

Head classificationHead(const Graph &g) {
  Head h;
  if (!g.loss() || g.value(*g.loss()).kind != ValueKind::Node)
    return h;
  // A classifier's loss: its labels are a fed input indexing the last axis of its logits.
  const Node &n = g.node(g.value(*g.loss()).producer);
  const OpDef *op = opRegistry().find(n.op);
  if (!op || !op->indexInput || op->indexInput->axis != -1)
    return h;
  const ValueId labels = n.inputs.at(op->indexInput->input);
  if (g.value(labels).kind == ValueKind::Input) {
    h.logits = n.inputs.at(op->indexInput->of);
    h.labels = labels;
  }
  return h;
}

Metrics evaluate(Session &s, const Dataset &data, int64_t batchSize, size_t forwardNodes) {
  const Graph &g = s.graph();
  const Head head = classificationHead(g);
  BatcherOptions bo;
  bo.batchSize = batchSize;
  bo.shuffle = false;
  Batcher batcher(std::make_shared<Dataset>(data), bo);
  KernelContext ctx;
  ctx.training = false;
  double lossSum = 0;
  int64_t correct = 0, samples = 0;
  for (;;) {
    Batch b = batcher.next();
    s.feed(b.fields);
    s.exec().run(ctx, 0, forwardNodes);
    if (g.loss())
      lossSum += scalarOf(s, *g.loss()) * static_cast<double>(b.size);
    correct += countCorrect(s, head, b);
    samples += b.size;
    if (b.endOfEpoch)
      break;
  }
  Metrics m;
  m.samples = samples;
  if (g.loss())
    m.loss = lossSum / static_cast<double>(samples);
  if (head.logits != kNone)
    m.accuracy = static_cast<double>(correct) / static_cast<double>(samples);
  return m;
}

nlohmann::ordered_json TrainResult::json() const {
  nlohmann::ordered_json j;
  j["model"] = model;
  j["epochs"] = epochs;
  j["steps"] = steps;
  j["train_loss"] = numberOrNull(train.loss);
  j["train_acc"] = numberOrNull(train.accuracy);
  j["val_loss"] = numberOrNull(validation.loss);
  j["val_acc"] = numberOrNull(validation.accuracy);
  j["test_loss"] = numberOrNull(test.loss);
  j["test_acc"] = numberOrNull(test.accuracy);
  j["samples_per_s"] = samplesPerSec;
  j["step_ms_median"] = stepMsMedian;
  j["seconds"] = seconds;
  j["peak_rss_mb"] = peakRssMb;
  j["checkpoint"] = checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(checkpoint);
  j["interrupted"] = interrupted;
  return j;
}

std::vector<std::string> trainingPipeline(const TrainConfig &cfg, const TrainOptions &opts) {
  for (size_t i = 0; i < cfg.passes.size(); ++i)
    if (!findPass(cfg.passes[i])) {
      std::string near = closestMatch(cfg.passes[i], passNames());
      throw UserError(Diagnostic{cfg.locOf("passes[" + std::to_string(i) + "]"),
                                 "passes: unknown pass '" + cfg.passes[i] + "'" +
                                     (near.empty() ? "" : "; did you mean '" + near + "'?"),
                                 {}});
    }
  std::vector<std::string> names = cfg.passes;
  names.insert(names.end(), opts.passes.begin(), opts.passes.end());
  names.push_back("grad");
  if (cfg.precision != Precision::Fp32 || opts.passOptions.amp)
    names.push_back("amp");
  return names;
}

PassOptions trainingPassOptions(const TrainConfig &cfg, const TrainOptions &opts) {
  PassOptions o = opts.passOptions;
  o.batch = cfg.data.batchSize;
  if (!o.amp && cfg.precision == Precision::Fp16)
    o.amp = DType::F16;
  if (!o.amp && cfg.precision == Precision::Bf16)
    o.amp = DType::BF16;
  return o;
}

size_t forwardPrefix(const Graph &g) {
  if (!g.loss())
    return g.nodes().size();
  std::vector<bool> needed(g.values().size(), false);
  needed[*g.loss()] = true;
  const Head head = classificationHead(g);
  if (head.logits != kNone)
    needed[head.logits] = true;
  size_t end = 0;
  for (size_t n = g.nodes().size(); n-- > 0;) {
    const Node &node = g.node(static_cast<NodeId>(n));
    if (!needed[node.output])
      continue;
    end = std::max(end, n + 1);
    for (ValueId in : node.inputs)
      needed[in] = true;
  }
  return end;
}

namespace {

// How the executor runs the training step: from one planned arena when the pipeline
// has `reuse`, on parallel streams when it has `schedule`. Values the trainer reads
// after a step that are not outputs must outlive it in the arena.
ExecutorOptions executorOptions(const Graph &g, const std::vector<std::string> &pipeline,
                                const PassOptions &options) {
  auto has = [&](const char *pass) {
    return std::find(pipeline.begin(), pipeline.end(), pass) != pipeline.end();
  };
  ExecutorOptions o;
  o.arena = has("reuse");
  o.streams = has("schedule") ? options.streams : 1;
  const Head head = classificationHead(g);
  if (head.logits != kNone)
    o.keepAlive.push_back(head.logits);
  if (ValueId finite = g.find("amp.finite"); finite != kNone)
    o.keepAlive.push_back(finite);
  return o;
}

} // namespace

TrainResult train(const Graph &model, TrainConfig cfg, const TrainOptions &opts) {
  const auto wallStart = std::chrono::steady_clock::now();
  setModelName(cfg, model.name);
  // What can be checked without the data comes first.
  if (!model.loss())
    throw UserError(Diagnostic{SourceLoc{model.values().empty() ? "" : model.values()[0].loc.file},
                               "model '" + model.name +
                                   "' has no 'minimize' statement: nothing to train",
                               {}});
  std::string why;
  if (!backendAvailable(resolveDevice(cfg.device), why))
    throw UserError(Diagnostic{cfg.locOf("device"), "device: " + why, {}});
  LoadedData data = loadData(cfg);

  std::vector<InputDecl> decls;
  for (ValueId in : model.inputs())
    decls.push_back({model.value(in).name, model.typeOf(in)});
  std::vector<std::string> problems = checkInputs(data.train, decls, cfg.data.batchSize);
  if (!problems.empty()) {
    std::string msg = "the training data does not fit the model:";
    for (const auto &p : problems)
      msg += "\n  " + p;
    throw UserError(Diagnostic{cfg.locOf("data.train"), msg, {}});
  }

  // The training step as one graph: the passes (autodiff among them, in canonical
  // order), then the optimizer's updates.
  Graph g = model;
  PassContext passes(trainingPassOptions(cfg, opts));
  passes.setExplaining(false); // nobody reads the notes here
  const std::vector<std::string> pipeline = canonicalPipeline(trainingPipeline(cfg, opts));
  runPipeline(g, pipeline, passes);
  const size_t forwardNodes = forwardPrefix(g);
  const size_t backwardEnd = g.nodes().size();
  appendOptimizerUpdate(g, cfg.optimizer);
  const ExecutorOptions execOptions = executorOptions(g, pipeline, passes.options());
  Session s(std::move(g), cfg.device, execOptions);
  s.initializeParams(cfg.seed);
  const Head head = classificationHead(s.graph());
  const ValueId lossId = *s.graph().loss();

  BatcherOptions bo;
  bo.batchSize = cfg.data.batchSize;
  bo.shuffle = cfg.data.shuffle;
  bo.dropLast = cfg.data.dropLast;
  bo.prefetch = cfg.data.prefetch;
  bo.seed = cfg.seed;
  auto trainData = std::make_shared<Dataset>(std::move(data.train));
  // The batcher starts where the checkpoint says; it is created after loading one.
  const int64_t batchesPerEpoch = Batcher(trainData, [&] {
                                    BatcherOptions o = bo;
                                    o.prefetch = 0;
                                    return o;
                                  }()).batchesPerEpoch();
  const int64_t accumulate = std::max<int64_t>(1, cfg.accumulate);
  const int64_t totalSteps =
      cfg.steps > 0 ? cfg.steps : std::max<int64_t>(1, cfg.epochs * batchesPerEpoch / accumulate);
  Optimizer optimizer(s, cfg, totalSteps, backwardEnd);
  struct {
    ValueId finite, scale;
  } lossScaling{s.graph().find("amp.finite"), s.graph().find("amp.loss_scale")};

  TrainState st;
  st.seed = cfg.seed;
  st.model = model.name;
  if (!opts.resume.empty()) {
    LoadedCheckpoint ck = loadCheckpoint(opts.resume);
    if (ck.state.model != model.name)
      throw UserError(ck.path + ": checkpoint of model '" + ck.state.model + "', not '" +
                      model.name + "'");
    s.loadWeights(ck.tensors, ck.path); // the optimizer's state is among the buffers
    st = ck.state;
    if (st.seed != cfg.seed)
      throw UserError(ck.path + ": checkpoint was made with seed " + std::to_string(st.seed) +
                      ", the config says " + std::to_string(cfg.seed));
  }
  Batcher batcher(trainData, bo, st.cursor);
  if (opts.profile)
    s.exec().enableProfile();

  std::ofstream metrics;
  if (!cfg.log.metrics.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(cfg.log.metrics).parent_path(), ec);
    metrics.open(cfg.log.metrics, opts.resume.empty() ? std::ios::trunc : std::ios::app);
    if (!metrics)
      throw UserError("cannot write metrics to '" + cfg.log.metrics + "'");
  }
  auto logLine = [&](const nlohmann::ordered_json &j) {
    if (metrics.is_open())
      metrics << j.dump() << "\n" << std::flush;
  };

  TrainResult r;
  r.model = model.name;
  Progress progress(opts.progress);
  const int64_t epochs = cfg.steps > 0 ? (totalSteps * accumulate + batchesPerEpoch - 1) /
                                             batchesPerEpoch
                                       : cfg.epochs;
  std::vector<double> stepMs;
  double trainSeconds = 0;
  int64_t trainSamples = 0;
  int64_t checkpointedStep = opts.resume.empty() ? -1 : st.step; // a resumed step is saved
  auto checkpointNow = [&]() {
    r.checkpoint = saveCheckpoint(cfg.checkpoint.dir, s.weights(), st, cfg.checkpoint.keep);
    checkpointedStep = st.step;
  };

  bool startOfEpoch = true;
  while (st.step < totalSteps) {
    if (startOfEpoch)
      progress.startEpoch(st.cursor.epoch + 1, epochs, batchesPerEpoch);
    startOfEpoch = false;
    const auto t0 = std::chrono::steady_clock::now();
    Batch b = batcher.next();
    s.feed(b.fields);
    KernelContext ctx;
    ctx.training = true;
    ctx.seed = cfg.seed;
    ctx.step = static_cast<uint64_t>(st.microStep);
    s.exec().run(ctx, 0, backwardEnd);
    const double loss = scalarOf(s, lossId);
    if (!std::isfinite(loss))
      throw UserError("the loss became " + fmt("%g", loss) + " at step " +
                      std::to_string(st.step + 1) +
                      " (try a smaller learning rate, or gradient clipping)");
    st.epochLossSum += loss * static_cast<double>(b.size);
    st.epochCorrect += countCorrect(s, head, b);
    st.epochSamples += b.size;
    optimizer.accumulateGradients();
    ++st.microStep;
    double lr = std::numeric_limits<double>::quiet_NaN();
    if (st.microStep % accumulate == 0)
      lr = optimizer.apply(++st.step);
    st.cursor = batcher.cursor();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    stepMs.push_back(ms);
    trainSeconds += ms / 1000.0;
    trainSamples += b.size;

    nlohmann::ordered_json line{{"event", "step"}, {"step", st.step},
                                {"epoch", b.at.epoch + 1}, {"loss", loss}};
    if (!std::isnan(lr))
      line["lr"] = lr;
    if (lossScaling.finite != kNone && !std::isnan(lr)) {
      // fp16 loss scaling skips the update of a step whose gradients overflowed.
      line["loss_scale"] = s.exec().read<float>(lossScaling.scale).at(0);
      if (!s.exec().read<uint8_t>(lossScaling.finite).at(0))
        line["skipped"] = true;
    }
    logLine(line);
    const int64_t batchInEpoch = b.at.index / cfg.data.batchSize + 1;
    progress.update(batchInEpoch, loss,
                    static_cast<double>(trainSamples) / std::max(trainSeconds, 1e-9));

    const bool lastStep = st.step >= totalSteps;
    if (b.endOfEpoch || lastStep) {
      const int64_t epoch = b.at.epoch + 1;
      r.train.loss = st.epochLossSum / static_cast<double>(st.epochSamples);
      r.train.accuracy = head.logits == kNone ? r.train.accuracy
                                              : static_cast<double>(st.epochCorrect) /
                                                    static_cast<double>(st.epochSamples);
      r.train.samples = st.epochSamples;
      std::string summary = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) +
                            ": train loss " + fmt("%.4f", r.train.loss);
      if (head.logits != kNone)
        summary += " acc " + fmt("%.4f", r.train.accuracy);
      nlohmann::ordered_json ej{{"event", "epoch"},      {"epoch", epoch},
                                {"step", st.step},       {"train_loss", r.train.loss},
                                {"train_acc", numberOrNull(r.train.accuracy)}};
      const bool evalNow = data.validation && cfg.evalEvery > 0 &&
                           (epoch % cfg.evalEvery == 0 || lastStep);
      if (evalNow) {
        r.validation = evaluate(s, *data.validation, cfg.data.batchSize, forwardNodes);
        summary += ", val loss " + fmt("%.4f", r.validation.loss);
        if (!std::isnan(r.validation.accuracy))
          summary += " acc " + fmt("%.4f", r.validation.accuracy);
        ej["val_loss"] = r.validation.loss;
        ej["val_acc"] = numberOrNull(r.validation.accuracy);
      }
      logLine(ej);
      progress.endEpoch(summary);
      if (b.endOfEpoch) {
        st.epochLossSum = 0;
        st.epochCorrect = st.epochSamples = 0;
        startOfEpoch = true;
        r.epochs = epoch;
        if (cfg.checkpoint.every > 0 && epoch % cfg.checkpoint.every == 0)
          checkpointNow();
      }
    }
    if (cfg.checkpoint.everySteps > 0 && st.microStep % accumulate == 0 &&
        st.step % cfg.checkpoint.everySteps == 0)
      checkpointNow();
    // A stop waits for the end of an accumulation window: partial sums are not saved.
    if (st.microStep % accumulate == 0 && opts.stopRequested && opts.stopRequested() &&
        st.step < totalSteps) {
      checkpointNow();
      r.interrupted = true;
      progress.notice("interrupted at step " + std::to_string(st.step) + "; checkpoint " +
                      r.checkpoint + "\nresume with: " + opts.command + " --resume " +
                      cfg.checkpoint.dir);
      break;
    }
  }
  r.steps = st.step;

  if (!r.interrupted) {
    if (checkpointedStep != st.step)
      checkpointNow();
    // The model's own params and buffers, without the optimizer's state. A param the
    // passes removed (prune: it reaches no output) keeps its initial value, so the
    // file loads into the model as written.
    TensorFile all = s.weights(), weights;
    for (ValueId p : model.params()) {
      const std::string &name = model.value(p).name;
      auto trained = all.find(name);
      weights[name] =
          trained != all.end() ? trained->second : initialTensor(model.value(p), cfg.seed);
    }
    writeSafetensors((std::filesystem::path(cfg.checkpoint.dir) / "model.safetensors").string(),
                     weights, {{"format", "nng-weights"}, {"nng.model", model.name}});
    if (data.test) {
      r.test = evaluate(s, *data.test, cfg.data.batchSize, forwardNodes);
      std::string line = "test: loss " + fmt("%.4f", r.test.loss);
      if (!std::isnan(r.test.accuracy))
        line += " acc " + fmt("%.4f", r.test.accuracy);
      progress.message(line);
      logLine({{"event", "test"}, {"test_loss", r.test.loss},
               {"test_acc", numberOrNull(r.test.accuracy)}});
    }
  }
  if (opts.profile)
    progress.notice(profileTable(s.exec(), static_cast<int64_t>(stepMs.size())));
  std::sort(stepMs.begin(), stepMs.end());
  r.stepMsMedian = stepMs.empty() ? 0 : stepMs[stepMs.size() / 2];
  r.samplesPerSec = trainSeconds > 0 ? static_cast<double>(trainSamples) / trainSeconds : 0;
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
  r.peakRssMb = peakRssMb();
  return r;
}

} // namespace nng

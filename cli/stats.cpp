// `nng stats FILE [--batch N] [--train] [pass flags] [--json] [--mem-budget SIZE]`:
// parameters, FLOPs and memory of a model. Loads the model, runs the pass flags and
// prints what core/stats computes.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/pass_flags.h"
#include "core/ir/rewrite.h"
#include "core/passes/autodiff.h"
#include "core/passes/pass_manager.h"
#include "core/stats/stats.h"

namespace nng::cli {

namespace {

struct StatsArgs {
  std::string file, model, config, optimizer, memBudget;
  PassFlags flags;
  bool train = false, json = false, explain = false;
  bool batchGiven = false;
};

// The optimizer and batch of the config: --config, else the one beside the model
// when it exists; nullopt without one (standard input has none beside it).
std::optional<TrainConfig> configOf(const StatsArgs &a) {
  if (!a.config.empty())
    return loadConfigFor(a.file, a.config, {});
  if (a.file == "-" || !std::filesystem::exists(defaultConfigFor(a.file)))
    return std::nullopt;
  return loadConfigFor(a.file, "", {});
}

int runStats(const StatsArgs &a) {
  std::optional<Graph> g = loadModelFile(a.file, a.model);
  if (!g)
    return kExitInputError;
  unnameTemporaries(*g); // as nng optimize does, so the tables agree

  std::vector<std::string> names = pipelineOf(a.flags);
  const bool train = a.train || !a.memBudget.empty();
  if (train)
    names.push_back("grad");
  const std::vector<std::string> pipeline = canonicalPipeline(names);
  const bool training =
      hasGradients(*g) || std::find(pipeline.begin(), pipeline.end(), "grad") != pipeline.end();

  StatsOptions o;
  o.batch = a.flags.batch;
  std::optional<TrainConfig> cfg;
  // The config gives a batch not given, and the optimizer of a training step.
  if (!a.batchGiven || (training && a.optimizer.empty()))
    cfg = configOf(a);
  if (cfg && !a.batchGiven)
    o.batch = cfg->data.batchSize;
  if (!a.optimizer.empty()) {
    o.optimizer.type = a.optimizer == "sgd"    ? OptimizerType::Sgd
                       : a.optimizer == "adam" ? OptimizerType::Adam
                                               : OptimizerType::AdamW;
    o.optimizerSource = OptimizerSource::Flag;
  } else if (cfg) {
    o.optimizer = cfg->optimizer;
    o.optimizerSource = OptimizerSource::Config;
    o.optimizerOrigin = cfg->file.empty() ? defaultConfigFor(a.file) : cfg->file;
  }

  PassFlags flags = a.flags;
  flags.batch = o.batch;
  // The checkpointing figures compare with the training graph before the checkpoint
  // pass: when the flags run it, keep that graph on the way.
  auto cut = std::find(pipeline.begin(), pipeline.end(), "checkpoint");
  PassContext ctx(optionsOf(flags));
  runPipeline(*g, std::vector<std::string>(pipeline.begin(), cut), ctx);
  std::optional<Graph> before;
  if (cut != pipeline.end()) {
    before = *g;
    runPipeline(*g, std::vector<std::string>(cut, pipeline.end()), ctx);
  }
  if (a.explain)
    printPassNotes(ctx);

  o.train = train || hasGradients(*g);
  if (!flags.checkpoint.empty())
    o.checkpointSpec = flags.checkpoint;
  o.beforeCheckpoint = before ? &*before : nullptr;
  o.streams = flags.streams;
  if (!a.memBudget.empty())
    o.memBudget = parseByteSize(a.memBudget);
  ModelStats s = computeStats(*g, o);
  s.passes = pipeline;
  return writeStdout(a.json ? statsJson(s) : statsText(s));
}

} // namespace

Command addStats(CLI::App &root) {
  auto a = std::make_shared<StatsArgs>();
  CLI::App *app = root.add_subcommand("stats", "Parameters, FLOPs and memory of a model");
  app->add_option("FILE", a->file, "source file; '-' reads standard input")->required();
  app->add_option("-m,--model", a->model, "which model of the file");
  addPassFlags(app, a->flags);
  app->add_flag("--train", a->train,
                "analyze the training step: gradients (runs the grad pass) and optimizer state");
  app->add_option("--optimizer", a->optimizer,
                  "the optimizer whose state --train counts: sgd (1 buffer per parameter), "
                  "adam or adamw (2); default: the config's, else sgd")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  app->add_option("--config", a->config,
                  "training config for the optimizer and batch (default: FILE's .yaml beside "
                  "it, when it exists)");
  app->add_option("--mem-budget", a->memBudget,
                  "choose the checkpoint segments that fit the training step in SIZE "
                  "(512MiB, 1.5GiB, 1000000); implies --train")
      ->check(CLI::Validator(
          [](std::string &v) {
            return parseByteSize(v) ? std::string()
                                    : "'" + v +
                                          "' is not a size (examples: 512MiB, 1.5GiB, "
                                          "1000000)";
          },
          "SIZE", "SIZE"));
  app->add_flag("--json", a->json, "print one JSON object instead of the report");
  app->add_flag("--explain", a->explain, "say on stderr what each pass did");
  app->footer("Sizes print in KiB/MiB/GiB; --json gives raw bytes and FLOPs. FLOPs and\n"
              "bytes bind every symbolic dimension (N) to the batch: --batch, else the\n"
              "config's data.batch_size, else 1. A graph that already holds gradients\n"
              "(from `nng grad` or --grad) is analyzed as a training step.\n\n"
              "Examples:\n"
              "  nng stats examples/mlp.nn --batch 128\n"
              "  nng stats examples/mlp.nn --train --optimizer adam --json\n"
              "  nng stats examples/resmlp.nn --train --mem-budget 64MiB\n"
              "  nng optimize --fuse m.nn | nng stats -");
  return {app, [a, app] {
            a->batchGiven = app->count("--batch") > 0;
            return runStats(*a);
          }};
}

} // namespace nng::cli

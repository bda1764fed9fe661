// `nng train FILE`: trains a model from its YAML config (FILE.yaml beside it unless
// --config names another). Progress and logs on stderr; the result on stdout (a
// summary, or one JSON object with --json). Ctrl-C (or SIGTERM) finishes the current
// step, writes a checkpoint and exits 130 with the command that resumes.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/pass_flags.h"
#include "core/data/config.h"
#include "core/train/trainer.h"

namespace nng::cli {

namespace {

std::atomic<bool> gInterrupted{false};

extern "C" void onInterrupt(int sig) {
  gInterrupted = true;
  std::signal(sig, SIG_DFL); // a second signal stops at once
}

struct TrainArgs {
  std::string file, config, model, device, resume;
  std::vector<std::string> sets;
  int64_t epochs = 0, steps = 0;
  bool printConfig = false, json = false, profile = false;
  PassFlags passes;
};

// The config the command line describes: the file, then --set, then the flags.
TrainConfig effectiveConfig(const TrainArgs &a) {
  std::vector<std::string> overrides = a.sets;
  if (!a.device.empty())
    overrides.push_back("device=" + a.device);
  if (!a.model.empty())
    overrides.push_back("model=" + a.model);
  TrainConfig cfg = loadConfigFor(a.file, a.config, overrides);
  // --epochs and --steps replace whichever of the two the config gave.
  if (a.epochs > 0) {
    cfg.epochs = a.epochs;
    cfg.steps = 0;
  }
  if (a.steps > 0) {
    cfg.steps = a.steps;
    cfg.epochs = 0;
  }
  return cfg;
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * v);
  return buf;
}

int runTrain(const TrainArgs &a) {
  TrainConfig cfg = effectiveConfig(a);
  std::optional<Graph> g = loadModelFile(a.file, cfg.model);
  if (!g)
    return kExitInputError;
  if (a.printConfig) {
    setModelName(cfg, g->name);
    return writeStdout(printConfig(cfg));
  }
  TrainOptions opts;
  opts.resume = a.resume;
  opts.profile = a.profile;
  opts.command = "nng train " + a.file;
  if (!a.config.empty())
    opts.command += " --config " + a.config;
  for (const std::string &set : a.sets)
    opts.command += " --set " + set;
  if (!a.model.empty())
    opts.command += " --model " + a.model;
  if (!a.device.empty())
    opts.command += " --device " + a.device;
  if (a.epochs > 0)
    opts.command += " --epochs " + std::to_string(a.epochs);
  if (a.steps > 0)
    opts.command += " --steps " + std::to_string(a.steps);
  opts.passes = pipelineOf(a.passes);
  opts.passOptions = optionsOf(a.passes);
  opts.command += flagsText(a.passes);
  switch (cfg.log.progress) {
  case ProgressMode::Auto:
    opts.progress = isatty(STDERR_FILENO) ? Progress::Style::Bar : Progress::Style::Plain;
    break;
  case ProgressMode::Bar: opts.progress = Progress::Style::Bar; break;
  case ProgressMode::Plain: opts.progress = Progress::Style::Plain; break;
  case ProgressMode::None: opts.progress = Progress::Style::None; break;
  }
  gInterrupted = false;
  // Ctrl-C, and a job scheduler's SIGTERM, end the run at the next step with a checkpoint.
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  opts.stopRequested = [] { return gInterrupted.load(); };
  TrainResult r = train(*g, cfg, opts);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  if (a.json) {
    int rc = writeStdout(r.json().dump() + "\n");
    return r.interrupted ? 130 : rc;
  }
  std::string out = "model " + r.model + ": " + std::to_string(r.steps) + " steps, " +
                    std::to_string(static_cast<long long>(r.samplesPerSec)) + " samples/s\n";
  if (!std::isnan(r.validation.accuracy))
    out += "validation accuracy: " + percent(r.validation.accuracy) + "\n";
  if (!std::isnan(r.test.accuracy))
    out += "test accuracy: " + percent(r.test.accuracy) + "\n";
  else if (!std::isnan(r.test.loss))
    out += "test loss: " + std::to_string(r.test.loss) + "\n";
  if (!r.checkpoint.empty())
    out += "checkpoint: " + r.checkpoint + "\n";
  int rc = writeStdout(out);
  return r.interrupted ? 130 : rc;
}

} // namespace

Command addTrain(CLI::App &root) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App *app = root.add_subcommand("train", "Train a model on the data its YAML config names");
  app->add_option("FILE", a->file, "model source file")->required();
  app->add_option("-c,--config", a->config, "training config (default: FILE with .yaml)");
  app->add_option("--set", a->sets, "override a config key: --set optimizer.lr=0.01 (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  app->add_option("--epochs", a->epochs, "train this many epochs (overrides the config)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40).description("at least 1"));
  app->add_option("--steps", a->steps, "train this many optimizer steps instead of epochs")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40).description("at least 1"));
  app->add_option("-d,--device", a->device, "cpu, cuda, cuda:N or auto (overrides the config)");
  app->add_option("-m,--model", a->model, "which model of the file (overrides the config)");
  app->add_option("--resume", a->resume,
                  "continue from a checkpoint file, or the newest in a checkpoint directory");
  app->add_flag("--print-config", a->printConfig,
                "print the effective config (defaults filled in) and exit");
  app->add_flag("--json", a->json, "print the result as one JSON object on stdout");
  app->add_flag("--profile", a->profile,
                "print the kernel time per training step of each op and of the\n"
                "costliest nodes, with their source lines, at the end (stderr)");
  addPassFlags(app, a->passes, /*forTraining=*/true);
  app->footer("Progress goes to stderr (a bar on a terminal, plain lines otherwise); metrics\n"
              "to the JSONL file of log.metrics; checkpoints to checkpoint.dir. Ctrl-C (or\n"
              "SIGTERM) ends the current step, writes a checkpoint and exits 130. Graph passes\n"
              "(-O2, --fuse, ...; docs/passes.md) add to the config's `passes`.\n\n"
              "Examples:\n"
              "  nng train examples/mlp.nn\n"
              "  nng train examples/mlp.nn --epochs 3 --json\n"
              "  nng train -O2 examples/mlp.nn\n"
              "  nng train examples/mlp.nn --set optimizer.lr=0.01 --set data.batch_size=64\n"
              "  nng train examples/mlp.nn --resume examples/runs/mlp\n"
              "  nng train examples/logreg.nn --print-config");
  return {app, [a] { return runTrain(*a); }};
}

} // namespace nng::cli

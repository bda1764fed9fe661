// Using trained weights: `nng eval` (loss and accuracy on the config's test set),
// `nng predict` (the model's outputs for new inputs) and `nng run` (any values of
// any graph, e.g. one printed by `nng grad`, on given inputs).
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/load.h"
#include "core/data/readers.h"
#include "core/ir/subgraph.h"
#include "core/train/trainer.h"

namespace nng::cli {

namespace {

// An array file as the model sees it: .npy as stored (floats as f32, integers as
// i64), .csv as a float matrix with every column (a header row is skipped).
HostArray readArrayFile(const std::string &path) {
  auto endsWith = [&](const std::string &ext) {
    return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (endsWith(".npy"))
    return applyTransform(readNpy(path), FieldTransform{});
  if (endsWith(".csv")) {
    // Count the columns from the first data line, then read them all as one field.
    std::ifstream in(path);
    if (!in)
      throw UserError("cannot read '" + path + "'");
    std::string first;
    std::getline(in, first);
    bool header = !first.empty() && (std::isalpha(static_cast<unsigned char>(first[0])) || first[0] == '"');
    if (header)
      std::getline(in, first);
    int64_t columns = 1;
    for (char c : first)
      columns += c == ',';
    CsvSpec spec;
    spec.path = path;
    spec.header = header;
    CsvColumns all;
    for (int64_t c = 0; c < columns; ++c)
      all.indices.push_back(c);
    spec.columns["x"] = all;
    FieldTransform tf;
    tf.dtype = DType::F32;
    return applyTransform(readCsv(spec).at("x"), tf);
  }
  throw UserError("'" + path + "': unknown array format (expected .npy or .csv)");
}

std::string weightsHelp() { return "safetensors file (a checkpoint written by nng train works)"; }

// ---- eval ----------------------------------------------------------------------------
struct EvalArgs {
  std::string file, config, model, weights;
  std::vector<std::string> sets;
  bool json = false;
};

int runEval(const EvalArgs &a) {
  std::vector<std::string> overrides = a.sets;
  if (!a.model.empty())
    overrides.push_back("model=" + a.model);
  TrainConfig cfg = loadConfigFor(a.file, a.config, overrides);
  std::optional<Graph> g = loadModelFile(a.file, cfg.model);
  if (!g)
    return kExitInputError;
  setModelName(cfg, g->name);
  if (!cfg.data.test)
    throw UserError(Diagnostic{cfg.locOf("data"), "the config has no data.test set to evaluate on", {}});
  Dataset test = loadSource(*cfg.data.test);
  const size_t forwardNodes = g->nodes().size();
  Session s(*g, cfg.device);
  s.loadWeights(readSafetensors(a.weights), a.weights);
  Metrics m = evaluate(s, test, cfg.data.batchSize, forwardNodes);
  if (a.json) {
    nlohmann::ordered_json j{{"model", g->name}, {"samples", m.samples},
                             {"test_loss", std::isnan(m.loss) ? nlohmann::json() : nlohmann::json(m.loss)},
                             {"test_acc", std::isnan(m.accuracy) ? nlohmann::json() : nlohmann::json(m.accuracy)}};
    return writeStdout(j.dump() + "\n");
  }
  char line[128];
  std::string out;
  std::snprintf(line, sizeof line, "test loss: %.4f (%lld samples)\n", m.loss,
                static_cast<long long>(m.samples));
  out += line;
  if (!std::isnan(m.accuracy)) {
    std::snprintf(line, sizeof line, "test accuracy: %.2f%%\n", 100 * m.accuracy);
    out += line;
  }
  return writeStdout(out);
}

// ---- predict -------------------------------------------------------------------------
struct PredictArgs {
  std::string file, model, weights, input, out, device = "auto";
};

int runPredict(const PredictArgs &a) {
  std::optional<Graph> full = loadModelFile(a.file, a.model);
  if (!full)
    return kExitInputError;
  if (full->outputs().empty())
    throw UserError(displayName(a.file) + ": model '" + full->name +
                    "' has no 'output' statement: nothing to predict");
  Graph g = subgraphFor(*full, {full->outputs()[0]});
  if (g.inputs().size() != 1) {
    std::string names;
    for (ValueId in : g.inputs())
      names += (names.empty() ? "" : ", ") + g.value(in).name;
    throw UserError("predict feeds one input, but '" + full->value(full->outputs()[0]).name +
                    "' needs " + std::to_string(g.inputs().size()) + " (" + names +
                    "); use 'nng run' with --feed");
  }
  Session s(g, a.device);
  s.loadWeights(readSafetensors(a.weights), a.weights);
  HostArray x = readArrayFile(a.input);
  s.feed({{g.value(g.inputs()[0]).name, x}});
  KernelContext ctx;
  ctx.training = false;
  s.exec().run(ctx);
  HostArray y = s.fetch(g.outputs()[0]);
  if (!a.out.empty()) {
    writeNpy(a.out, y);
    return kExitOk;
  }
  // CSV: one row per sample.
  std::ostringstream os;
  os.precision(7);
  const int64_t rows = y.shape.empty() ? 1 : y.shape[0];
  const int64_t cols = rows ? y.numel() / rows : 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      os << (c ? "," : "") << y.at(r * cols + c);
    os << "\n";
  }
  return writeStdout(os.str());
}

// ---- run -----------------------------------------------------------------------------
struct RunArgs {
  std::string file, model, weights, out, device = "auto";
  std::vector<std::string> feeds, fetches;
  uint64_t seed = 0;
  bool training = false;
};

int runRun(const RunArgs &a) {
  std::optional<Graph> full = loadModelFile(a.file, a.model);
  if (!full)
    return kExitInputError;
  std::vector<ValueId> roots;
  for (const std::string &name : a.fetches) {
    ValueId v = full->find(name);
    if (v == kNone)
      throw UserError("--fetch " + name + ": model '" + full->name + "' has no value '" + name + "'");
    roots.push_back(v);
  }
  Graph g = subgraphFor(*full, roots);
  std::map<std::string, HostArray> fields;
  for (const std::string &f : a.feeds) {
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError("--feed '" + f + "': expected NAME=FILE.npy");
    fields[f.substr(0, eq)] = readArrayFile(f.substr(eq + 1));
  }
  for (const auto &kv : fields)
    if (full->find(kv.first) == kNone || full->value(full->find(kv.first)).kind != ValueKind::Input)
      throw UserError("--feed " + kv.first + ": model '" + full->name + "' has no input '" +
                      kv.first + "'");
  Session s(g, a.device);
  if (a.weights.empty())
    s.initializeParams(a.seed);
  else
    s.loadWeights(readSafetensors(a.weights), a.weights);
  s.feed(fields);
  KernelContext ctx;
  ctx.training = a.training;
  ctx.seed = a.seed;
  s.exec().run(ctx);
  TensorFile out;
  for (ValueId v : g.outputs()) {
    HostArray h = s.fetch(v);
    out[g.value(v).name] = NamedTensor{h.dtype, h.shape, h.bytes};
  }
  writeSafetensors(a.out, out);
  return kExitOk;
}

} // namespace

Command addEval(CLI::App &root) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App *app = root.add_subcommand("eval", "Loss and accuracy of trained weights on the test set");
  app->add_option("FILE", a->file, "model source file")->required();
  app->add_option("-w,--weights", a->weights, weightsHelp())->required();
  app->add_option("-c,--config", a->config, "training config (default: FILE with .yaml)");
  app->add_option("--set", a->sets, "override a config key (repeatable)")->allow_extra_args(false);
  app->add_option("-m,--model", a->model, "which model of the file");
  app->add_flag("--json", a->json, "print the result as one JSON object");
  app->footer("Examples:\n"
              "  nng eval examples/mlp.nn --weights examples/runs/mlp/model.safetensors\n"
              "  nng eval examples/mlp.nn -w examples/runs/mlp/checkpoint-00001407.safetensors --json");
  return {app, [a] { return runEval(*a); }};
}

Command addPredict(CLI::App &root) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App *app = root.add_subcommand("predict", "Compute a model's output for new inputs");
  app->add_option("FILE", a->file, "model source file")->required();
  app->add_option("-w,--weights", a->weights, weightsHelp())->required();
  app->add_option("-i,--input", a->input, "inputs: F.npy, or F.csv (one sample per row)")
      ->required();
  app->add_option("-o,--out", a->out, "write the outputs to this .npy file (default: CSV on stdout)");
  app->add_option("-m,--model", a->model, "which model of the file");
  app->add_option("-d,--device", a->device, "cpu, cuda or auto");
  app->footer("Evaluates the model's first `output` value (in evaluation mode: no dropout,\n"
              "running batch-norm statistics) for the rows of the input file.\n\n"
              "Examples:\n"
              "  nng predict examples/logreg.nn -w examples/runs/logreg/model.safetensors -i new.csv\n"
              "  nng predict examples/mlp.nn -w w.safetensors -i images.npy -o logits.npy");
  return {app, [a] { return runPredict(*a); }};
}

Command addRun(CLI::App &root) {
  auto a = std::make_shared<RunArgs>();
  CLI::App *app = root.add_subcommand("run", "Evaluate any values of a graph on given inputs");
  app->add_option("FILE", a->file, "source file; '-' reads standard input")->required();
  app->add_option("--feed", a->feeds, "NAME=FILE.npy: an input's value (repeatable)")
      ->allow_extra_args(false);
  app->add_option("--fetch", a->fetches, "a value to compute (repeatable)")
      ->required()
      ->allow_extra_args(false);
  app->add_option("-o,--out", a->out, "safetensors file the fetched values are written to")
      ->required();
  app->add_option("-w,--weights", a->weights,
                  "parameters (default: the initializers, seeded with --seed)");
  app->add_option("--seed", a->seed, "seed for initializers and dropout");
  app->add_flag("--train", a->training, "training mode: dropout on, batch statistics");
  app->add_option("-m,--model", a->model, "which model of the file");
  app->add_option("-d,--device", a->device, "cpu, cuda or auto");
  app->footer("Only the nodes the fetched values need are run, so only their inputs must be\n"
              "fed. With `nng grad`, this is how scripts compare nng's gradients with other\n"
              "frameworks'.\n\n"
              "Examples:\n"
              "  nng run examples/mlp.nn -w w.safetensors --feed x=x.npy --fetch logits -o out.safetensors\n"
              "  nng grad examples/mlp.nn | nng run - --feed x=x.npy --feed label=y.npy \\\n"
              "      --fetch loss --fetch grad.fc1.weight -o grads.safetensors");
  return {app, [a] { return runRun(*a); }};
}

} // namespace nng::cli

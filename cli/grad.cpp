// `nng grad FILE`: the model with its backward graph, as flat nng source.
// `nng gradcheck FILE`: autodiff against finite differences, per parameter.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/load.h"
#include "core/passes/autodiff.h"
#include "core/train/gradcheck.h"

namespace nng::cli {

namespace {

struct GradArgs {
  std::string file, model, format = "nn";
};

int runGrad(const GradArgs &a) {
  std::optional<Graph> g = loadModelFile(a.file, a.model);
  if (!g)
    return kExitInputError;
  if (!differentiate(*g)) {
    std::cerr << displayName(a.file) << ": error: model '" << g->name
              << "' has no 'minimize' statement: nothing to differentiate\n";
    return kExitInputError;
  }
  return writeGraph(*g, a.format);
}

struct GradCheckArgs {
  std::string file, model;
  GradCheckOptions opts;
  double tolerance = 1e-6;
};

int runGradCheck(const GradCheckArgs &a) {
  std::optional<Graph> g = loadModelFile(a.file, a.model);
  if (!g)
    return kExitInputError;
  std::vector<ParamGradError> errors = gradCheck(*g, a.opts);
  std::string out = "parameter                         checked  max rel error  analytic       numeric\n";
  bool ok = true;
  char line[256];
  for (const auto &e : errors) {
    std::snprintf(line, sizeof line, "%-32s %8lld  %13.3e  %13.6e  %13.6e%s\n", e.param.c_str(),
                  static_cast<long long>(e.checked), e.maxRelError, e.analytic, e.numeric,
                  e.maxRelError < a.tolerance ? "" : "  FAIL");
    out += line;
    ok = ok && e.maxRelError < a.tolerance;
  }
  std::snprintf(line, sizeof line, "%s: every gradient within %.0e relative error\n",
                ok ? "ok" : "FAILED", a.tolerance);
  out += ok ? line : std::string("FAILED: some gradients differ from finite differences\n");
  int rc = writeStdout(out);
  return ok ? rc : kExitInputError;
}

} // namespace

Command addGrad(CLI::App &root) {
  auto a = std::make_shared<GradArgs>();
  CLI::App *app = root.add_subcommand(
      "grad", "Print a model with its backward graph (the gradients of every parameter)");
  app->add_option("FILE", a->file, "source file; '-' reads standard input")->required();
  app->add_option("-m,--model", a->model, "which model of the file");
  app->add_option("-f,--format", a->format, "output format: nn, dot or json")
      ->check(CLI::IsMember({"nn", "dot", "json"}));
  app->footer("The gradient of parameter P is the value grad.P, marked as an output. The\n"
              "printed source parses back: `nng grad m.nn | nng print -` works, and\n"
              "`nng run` evaluates it on given inputs.\n\n"
              "Examples:\n"
              "  nng grad examples/mlp.nn\n"
              "  nng grad examples/mlp.nn | nng run - --feed x=x.npy --feed label=y.npy "
              "--fetch grad.fc1.weight --out g.safetensors");
  return {app, [a] { return runGrad(*a); }};
}

Command addGradCheck(CLI::App &root) {
  auto a = std::make_shared<GradCheckArgs>();
  CLI::App *app = root.add_subcommand(
      "gradcheck", "Check a model's gradients against finite differences in float64");
  app->add_option("FILE", a->file, "source file; '-' reads standard input")->required();
  app->add_option("-m,--model", a->model, "which model of the file");
  app->add_option("--batch", a->opts.batch, "size bound to every symbolic dimension")
      ->check(CLI::PositiveNumber);
  app->add_option("--seed", a->opts.seed, "seed of the random inputs and parameters");
  app->add_option("--elements", a->opts.elementsPerParam, "probed elements per parameter")
      ->check(CLI::PositiveNumber);
  app->add_option("--tolerance", a->tolerance, "largest relative error accepted");
  app->footer("Runs the model in float64 on random inputs (labels drawn in range), compares\n"
              "each parameter's gradient with five-point central differences (eps 5e-4) on sampled\n"
              "elements, and prints the worst relative error |a-n|/max(|a|,|n|,1e-4) per\n"
              "parameter. Steps that cross a kink (ReLU, max-pool) are shrunk, but on large\n"
              "convolutional models a few such crossings can still show as errors near\n"
              "1e-4. Exits 1 when one exceeds the tolerance.\n\n"
              "Examples:\n"
              "  nng gradcheck examples/mlp.nn\n"
              "  nng gradcheck examples/resmlp.nn --batch 2 --elements 50");
  return {app, [a] { return runGradCheck(*a); }};
}

} // namespace nng::cli

// `nng print FILE`: prints one model as flat nng source (which parses back to the
// same graph), Graphviz DOT or JSON on stdout.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/load.h"

namespace nng::cli {

namespace {

struct PrintOptions {
  std::string file;
  std::string format = "nn";
  std::string model; // empty: the only (or last) model in the file
};

int runPrint(const PrintOptions &o) {
  std::optional<Graph> g = loadModelFile(o.file, o.model);
  return g ? writeGraph(*g, o.format) : kExitInputError;
}

} // namespace

Command addPrint(CLI::App &root) {
  auto opts = std::make_shared<PrintOptions>();
  CLI::App *app = root.add_subcommand(
      "print", "Print a model as flat nng source (default), Graphviz DOT or JSON");
  app->add_option("FILE", opts->file, "source file; '-' reads standard input")->required();
  app->add_option("-f,--format", opts->format, "output format: nn, dot or json")
      ->check(CLI::IsMember({"nn", "dot", "json"}))
      ->default_str("nn");
  app->add_option("-m,--model", opts->model,
                  "which model of the file (default: the only, or the last, one)");
  app->footer("The nn format is the flat form: no blocks, repeats or layer sugar, every\n"
              "parameter declared and every statement typed. It parses back to the same\n"
              "graph, so `nng print F | nng print -` prints the same text again.\n\n"
              "Examples:\n"
              "  nng print examples/mlp.nn\n"
              "  nng print examples/two_tower.nn --model two_tower --format json\n"
              "  nng print examples/cnn.nn -f dot | dot -Tsvg > cnn.svg\n"
              "  cat examples/mlp.nn | nng print -");
  return {app, [opts] { return runPrint(*opts); }};
}

} // namespace nng::cli

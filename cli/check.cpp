// `nng check FILE...`: parses, lowers and shape-checks every model in each file and
// prints one "ok" line per good file on stdout; diagnostics go to stderr.
#include <algorithm>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "core/ir/graph.h"
#include "dsl/frontend.h"

namespace nng::cli {

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  bool quiet = false;
};

std::string modelList(const std::vector<Graph> &models) {
  std::string s = models.size() == 1 ? "model " : std::to_string(models.size()) + " models: ";
  for (size_t i = 0; i < models.size(); ++i)
    s += (i ? ", " : "") + models[i].name;
  return s;
}

// Checks one file; returns its exit code.
int checkFile(const std::string &path, bool quiet) {
  dsl::Source src;
  try {
    src = dsl::readSource(path);
  } catch (const UserError &e) {
    printUserError(e);
    return kExitInputError;
  }
  DiagnosticSink sink;
  sink.addSource(src.path, src.text);
  std::vector<Graph> models = dsl::loadAllModels(src, sink);
  if (sink.hasErrors()) {
    std::cerr << sink.formatAll();
    return kExitInputError;
  }
  if (models.empty()) {
    std::cerr << displayName(path) << ": error: no model in file\n";
    return kExitInputError;
  }
  if (!quiet)
    std::cout << displayName(path) << ": ok (" << modelList(models) << ")\n" << std::flush;
  return kExitOk;
}

} // namespace

Command addCheck(CLI::App &root) {
  auto opts = std::make_shared<CheckOptions>();
  CLI::App *app = root.add_subcommand(
      "check", "Parse and shape-check every model in each FILE (nothing is run)");
  app->add_option("FILE", opts->files, "source files; '-' reads standard input")->required();
  app->add_flag("-q,--quiet", opts->quiet, "print nothing on success (the exit code tells)");
  app->footer("Prints 'FILE: ok (model NAME)' on stdout for each good file and the errors of\n"
              "the others on stderr; every file is checked even after a failure.\n"
              "Exit code: 0 when every file is good, 1 when any has an error.\n\n"
              "Examples:\n"
              "  nng check examples/mlp.nn\n"
              "  nng check -q examples/*.nn && echo all good\n"
              "  nng print model.nn | nng check -");
  return {app, [opts] {
            int code = kExitOk;
            for (const std::string &f : opts->files)
              code = std::max(code, checkFile(f, opts->quiet));
            return code;
          }};
}

} // namespace nng::cli

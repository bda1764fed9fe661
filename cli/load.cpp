// Model loading for the commands (see load.h).
#include "cli/load.h"

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/print/dot_printer.h"
#include "core/print/json_printer.h"
#include "core/print/nn_printer.h"
#include "dsl/frontend.h"

namespace nng::cli {

std::optional<Graph> loadModelFile(const std::string &file, const std::string &model) {
  dsl::Source src = dsl::readSource(file); // a UserError reaches main()
  DiagnosticSink sink;
  sink.addSource(src.path, src.text);
  std::optional<Graph> g = dsl::loadModel(src, model, sink);
  if (sink.hasErrors()) {
    std::cerr << sink.formatAll();
    return std::nullopt;
  }
  if (!g)
    std::cerr << displayName(file) << ": error: "
              << (model.empty() ? "no model in file" : "no model named '" + model + "'") << "\n";
  return g;
}

int writeGraph(const Graph &g, const std::string &format) {
  if (format == "dot")
    return writeStdout(printDot(g));
  if (format == "json")
    return writeStdout(printJson(g));
  return writeStdout(printNn(g));
}

std::string defaultConfigFor(const std::string &modelFile) {
  const std::string ext = ".nn";
  if (modelFile.size() > ext.size() &&
      modelFile.compare(modelFile.size() - ext.size(), ext.size(), ext) == 0)
    return modelFile.substr(0, modelFile.size() - ext.size()) + ".yaml";
  return modelFile + ".yaml";
}

TrainConfig loadConfigFor(const std::string &modelFile, const std::string &configFlag,
                          const std::vector<std::string> &overrides) {
  std::string path = configFlag.empty() ? defaultConfigFor(modelFile) : configFlag;
  if (configFlag.empty() && !std::filesystem::exists(path))
    throw UserError("no training config: " + path + " does not exist (write one beside the "
                    "model, or name one with --config; see docs/config.md)");
  return loadConfig(path, overrides);
}

} // namespace nng::cli

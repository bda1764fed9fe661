// Loading the model a command names, with its diagnostics printed: shared by the
// commands that take a FILE argument.
#pragma once

#include <optional>
#include <string>

#include "core/data/config.h"
#include "core/ir/graph.h"

namespace nng::cli {

// Reads and lowers FILE (or stdin for "-"), model `model` (empty: the only or last).
// Prints the diagnostics to stderr and returns nullopt on error.
std::optional<Graph> loadModelFile(const std::string &file, const std::string &model);

// Writes `g` to stdout as nng source ("nn"), Graphviz DOT ("dot") or JSON ("json").
int writeGraph(const Graph &g, const std::string &format);

// The config beside a model file: "dir/mlp.nn" -> "dir/mlp.yaml".
std::string defaultConfigFor(const std::string &modelFile);

// The training config of `modelFile`: `configFlag` when given, else the file beside
// the model (which must exist), with `overrides` (--set assignments) applied.
TrainConfig loadConfigFor(const std::string &modelFile, const std::string &configFlag,
                          const std::vector<std::string> &overrides);

} // namespace nng::cli

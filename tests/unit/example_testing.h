// Tests over the repository's example models and training runs of them. The test
// target defines NNG_SOURCE_DIR (the source tree, where examples/ lives).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nng::testing {

// The names of examples/*.nn ("cnn", "mlp", ...), sorted: parameters of tests that
// run every example, so a new example is covered without touching them.
inline std::vector<std::string> exampleNames() {
  std::vector<std::string> names;
  for (const auto &e :
       std::filesystem::directory_iterator(std::filesystem::path(NNG_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".nn")
      names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The "step" events of a training run's metrics file (log.metrics), in order.
inline std::vector<nlohmann::json> stepEvents(const std::string &metricsPath) {
  std::vector<nlohmann::json> steps;
  std::ifstream metrics(metricsPath);
  for (std::string line; std::getline(metrics, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.value("event", "") == "step")
      steps.push_back(std::move(j));
  }
  return steps;
}

} // namespace nng::testing

// `nng devices`: lists the CUDA devices nng can use, or says why there are none.
// It always exits 0: having no GPU is an answer, not an error.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cuda/devices.h"

namespace nng::cli {

namespace {

int runDevices(bool json) {
  std::string why;
  std::vector<cuda::DeviceInfo> devices = cuda::listDevices(why);
  if (json) {
    nlohmann::json out = nlohmann::json::object();
    out["built_with_cuda"] = cuda::builtWithCuda();
    out["devices"] = nlohmann::json::array();
    for (const auto &d : devices)
      out["devices"].push_back(
          {{"index", d.index},
           {"name", d.name},
           {"compute_capability", std::to_string(d.major) + "." + std::to_string(d.minor)},
           {"memory_bytes", d.memoryBytes},
           {"multiprocessors", d.multiprocessors}});
    if (devices.empty())
      out["reason"] = why;
    writeStdout(out.dump(2) + "\n");
    return kExitOk;
  }
  if (devices.empty()) {
    writeStdout("no CUDA device found: " + why + "\n");
    return kExitOk;
  }
  std::string text;
  for (const auto &d : devices) {
    char line[256];
    std::snprintf(line, sizeof line, "cuda:%d  %s  compute %d.%d  %.1f GiB  %d multiprocessors\n",
                  d.index, d.name.c_str(), d.major, d.minor,
                  static_cast<double>(d.memoryBytes) / (1024.0 * 1024.0 * 1024.0),
                  d.multiprocessors);
    text += line;
  }
  writeStdout(text);
  return kExitOk;
}

} // namespace

Command addDevices(CLI::App &root) {
  auto json = std::make_shared<bool>(false);
  CLI::App *app = root.add_subcommand("devices", "List the CUDA devices nng can use");
  app->add_flag("--json", *json, "print the list as JSON");
  app->footer("Prints one line per device (cuda:INDEX, name, compute capability, memory,\n"
              "multiprocessors), or 'no CUDA device found: REASON'. Always exits 0.\n\n"
              "Examples:\n"
              "  nng devices\n"
              "  nng devices --json");
  return {app, [json] { return runDevices(*json); }};
}

} // namespace nng::cli

// PLACEHOLDER until `nng stats` lands: refuses to run rather than printing nothing.
#include <memory>

#include "cli/commands.h"

namespace nng::cli {

Command addStats(CLI::App &root) {
  CLI::App *app = root.add_subcommand("stats", "Parameters, FLOPs and memory of a model");
  return {app, [] () -> int { throw UserError("nng stats is not implemented yet"); }};
}

} // namespace nng::cli

// `nng optimize FILE [pass flags]`: runs graph passes and prints the result.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/pass_flags.h"
#include "core/passes/pass_manager.h"

namespace nng::cli {

namespace {

struct OptimizeArgs {
  std::string file, model, format = "nn";
  PassFlags flags;
  bool explain = false;
};

int runOptimize(const OptimizeArgs &a) {
  std::optional<Graph> g = loadModelFile(a.file, a.model);
  if (!g)
    return kExitInputError;
  PassContext ctx(optionsOf(a.flags));
  runPipeline(*g, pipelineOf(a.flags), ctx);
  if (a.explain)
    printPassNotes(ctx);
  return writeGraph(*g, a.format);
}

} // namespace

Command addOptimize(CLI::App &root) {
  auto a = std::make_shared<OptimizeArgs>();
  CLI::App *app =
      root.add_subcommand("optimize", "Run graph passes on a model and print the optimized graph");
  app->add_option("FILE", a->file, "source file; '-' reads standard input")->required();
  app->add_option("-m,--model", a->model, "which model of the file");
  addPassFlags(app, a->flags);
  app->add_option("-f,--format", a->format, "output format: nn, dot or json")
      ->check(CLI::IsMember({"nn", "dot", "json"}));
  app->add_flag("--explain", a->explain,
                "say on stderr what each pass did, and why it declined where it did");
  app->footer("Passes run in a fixed order whatever the order of the flags: prune, grad,\n"
              "fuse, amp, checkpoint, reuse, schedule. So passes compose across a pipe:\n"
              "`nng optimize --fuse m.nn | nng optimize --fp16 -` prints what\n"
              "`nng optimize --fuse --fp16 m.nn` prints. docs/passes.md describes each.\n\n"
              "Examples:\n"
              "  nng optimize -O2 examples/mlp.nn\n"
              "  nng optimize --grad --fuse --explain examples/mlp.nn\n"
              "  nng optimize --grad --checkpoint=budget:64MiB --batch 128 examples/resmlp.nn\n"
              "  nng optimize --fuse m.nn | nng stats -");
  return {app, [a] { return runOptimize(*a); }};
}

} // namespace nng::cli

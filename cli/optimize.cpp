// `nng optimize FILE [pass flags]`: runs graph passes and prints the result.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/load.h"
#include "cli/pass_flags.h"
#include "core/ir/rewrite.h"
#include "core/passes/pass_manager.h"

namespace nng::cli {

namespace {

struct OptimizeArgs {
  std::string file, model, format = "nn";
  PassFlags flags;
  bool explain = false, time = false;
};

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

int runOptimize(const OptimizeArgs &a) {
  auto start = std::chrono::steady_clock::now();
  std::optional<Graph> g = loadModelFile(a.file, a.model);
  if (!g)
    return kExitInputError;
  unnameTemporaries(*g);
  const double loadMs = msSince(start);
  const size_t loadedNodes = g->nodes().size();
  PassContext ctx(optionsOf(a.flags));
  ctx.setExplaining(a.explain);
  runPipeline(*g, pipelineOf(a.flags), ctx);
  if (a.explain)
    printPassNotes(ctx);
  start = std::chrono::steady_clock::now();
  int rc = writeGraph(*g, a.format);
  if (a.time) {
    double total = loadMs;
    std::fprintf(stderr, "time: %-10s %9.1f ms  (read, parse, lower, verify: %zu nodes)\n",
                 "front end", loadMs, loadedNodes);
    for (const auto &[pass, ms] : ctx.times()) {
      std::fprintf(stderr, "time: %-10s %9.1f ms  (with the verifier after it)\n", pass.c_str(),
                   ms);
      total += ms;
    }
    std::fprintf(stderr, "time: %-10s %9.1f ms\n", "total", total);
    std::fprintf(stderr, "time: %-10s %9.1f ms  (not in the total)\n", "print", msSince(start));
  }
  return rc;
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
  app->add_flag("--time", a->time, "print on stderr the time of the front end and each pass");
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

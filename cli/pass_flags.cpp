// The pass flags shared by optimize, stats and train.
#include "cli/pass_flags.h"

#include <iostream>

#include "core/passes/pass_manager.h"

namespace nng::cli {

void addPassFlags(CLI::App *app, PassFlags &f, bool forTraining) {
  app->add_flag("--prune", f.prune, "dead code, constant folding, identities, CSE");
  if (!forTraining)
    app->add_flag("--grad", f.grad, "append the backward graph (autodiff)");
  app->add_flag("--fuse", f.fuse, "fuse dense+bias+activation, elementwise chains, softmax+CE");
  auto *fp16 = app->add_flag("--fp16", f.fp16, "mixed precision in float16, with loss scaling");
  auto *bf16 = app->add_flag("--bf16", f.bf16, "mixed precision in bfloat16");
  fp16->excludes(bf16);
  app->add_flag("--checkpoint{sqrt}", f.checkpoint,
                "gradient checkpointing: --checkpoint (sqrt(n) segments) or "
                "--checkpoint=budget:64MiB")
      ->option_text("[=budget:SIZE]");
  app->add_flag("--reuse", f.reuse, "memory planning: liveness, in place, one arena");
  app->add_option("--streams", f.streams, "schedule independent branches on N streams")
      ->check(CLI::Range(1, 64));
  app->add_option("-O", f.level, "optimization level: 0 none, 1 prune, 2 prune+fuse+reuse")
      ->check(CLI::Range(0, 2));
  app->add_option("--passes", f.passes, "passes by name, comma-separated")->delimiter(',');
  if (!forTraining)
    app->add_option("--batch", f.batch, "size of the batch dimension for byte counts")
        ->check(CLI::PositiveNumber);
}

std::vector<std::string> pipelineOf(const PassFlags &f) {
  std::vector<std::string> names = passesForLevel(f.level);
  names.insert(names.end(), f.passes.begin(), f.passes.end());
  auto add = [&](bool on, const char *name) {
    if (on)
      names.push_back(name);
  };
  add(f.prune, "prune");
  add(f.grad, "grad");
  add(f.fuse, "fuse");
  add(f.fp16 || f.bf16, "amp");
  add(!f.checkpoint.empty(), "checkpoint");
  add(f.reuse, "reuse");
  add(f.streams > 1, "schedule");
  return names;
}

PassOptions optionsOf(const PassFlags &f) {
  PassOptions o;
  o.streams = f.streams;
  if (!f.checkpoint.empty())
    o.checkpoint = f.checkpoint;
  if (f.fp16)
    o.amp = DType::F16;
  if (f.bf16)
    o.amp = DType::BF16;
  o.batch = f.batch;
  return o;
}

std::string flagsText(const PassFlags &f) {
  std::string s;
  if (f.level > 0)
    s += " -O" + std::to_string(f.level);
  if (!f.passes.empty()) {
    s += " --passes ";
    for (size_t i = 0; i < f.passes.size(); ++i)
      s += (i ? "," : "") + f.passes[i];
  }
  auto add = [&](bool on, const char *flag) {
    if (on)
      s += flag;
  };
  add(f.prune, " --prune");
  add(f.grad, " --grad");
  add(f.fuse, " --fuse");
  add(f.fp16, " --fp16");
  add(f.bf16, " --bf16");
  if (!f.checkpoint.empty())
    s += f.checkpoint == "sqrt" ? " --checkpoint" : " --checkpoint=" + f.checkpoint;
  add(f.reuse, " --reuse");
  if (f.streams > 1)
    s += " --streams " + std::to_string(f.streams);
  return s;
}

void printPassNotes(const PassContext &ctx) {
  for (const PassNote &n : ctx.notes()) {
    if (n.loc.valid())
      std::cerr << n.loc.file << ":" << n.loc.line << ": ";
    std::cerr << n.pass << ": " << n.message << "\n";
  }
}

} // namespace nng::cli

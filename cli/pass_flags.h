// The pass flags shared by `nng optimize`, `nng stats` and `nng train`: each flag
// names a pass (--fuse) or sets an option of one (--streams 2), -O picks a level.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/passes/pass.h"

namespace nng::cli {

struct PassFlags {
  bool prune = false, fuse = false, grad = false, fp16 = false, bf16 = false, reuse = false;
  std::string checkpoint; // empty: off; "sqrt" or "budget:64MiB"
  int streams = 1;
  int level = 0;
  std::vector<std::string> passes; // --passes a,b,c
  int64_t batch = 1;
};

// Adds the flags to `app`. `forTraining`: leave out --grad (training always
// differentiates) and --batch (the config's batch size counts).
void addPassFlags(CLI::App *app, PassFlags &f, bool forTraining = false);

// The passes the flags ask for (not yet in canonical order; runPipeline sorts).
std::vector<std::string> pipelineOf(const PassFlags &f);

// The options the flags set.
PassOptions optionsOf(const PassFlags &f);

// The flags as they would be typed (" --fuse --streams 2"), empty when none: the
// "resume with" command repeats them.
std::string flagsText(const PassFlags &f);

// Prints the --explain notes to stderr: "file:line: pass: message".
void printPassNotes(const PassContext &ctx);

} // namespace nng::cli

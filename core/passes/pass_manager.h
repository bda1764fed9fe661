// The pass manager: passes registered by name, the canonical pipeline order, the
// -O levels, and running a pipeline with the verifier after every pass.
#pragma once

#include <string>
#include <vector>

#include "core/passes/pass.h"

namespace nng {

// Every registered pass, in canonical pipeline order: prune, grad, fuse, amp,
// checkpoint, reuse, schedule. A pipeline always runs its passes in this order,
// whatever order they were asked for in, so that `nng optimize --a m.nn | nng
// optimize --b -` equals `nng optimize --a --b m.nn` whenever a precedes b.
const std::vector<PassInfo> &passRegistry();
const PassInfo *findPass(const std::string &name);
std::vector<std::string> passNames();

// The passes of an optimization level: 0 none, 1 prune, 2 prune, fuse and reuse.
std::vector<std::string> passesForLevel(int level);

// Sorts `names` into canonical order and drops duplicates. Throws UserError naming
// an unknown pass (with a "did you mean").
std::vector<std::string> canonicalPipeline(const std::vector<std::string> &names);

// Runs `names` (canonicalized) on `g`. After each pass the verifier must accept the
// graph; a pass that breaks it is a bug in nng (NNG_CHECK), not a user error.
void runPipeline(Graph &g, const std::vector<std::string> &names, PassContext &ctx);

} // namespace nng

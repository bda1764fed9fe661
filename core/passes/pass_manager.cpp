// The pass registry, -O levels and the pipeline runner.
#include "core/passes/pass_manager.h"

#include <algorithm>
#include <chrono>

#include "core/passes/passes.h"

namespace nng {

const std::vector<PassInfo> &passRegistry() {
  static const std::vector<PassInfo> passes = {prunePass(), gradPass(),       fusePass(),
                                               ampPass(),   checkpointPass(), reusePass(),
                                               schedulePass()};
  return passes;
}

const PassInfo *findPass(const std::string &name) {
  for (const PassInfo &p : passRegistry())
    if (p.name == name)
      return &p;
  return nullptr;
}

std::vector<std::string> passNames() {
  std::vector<std::string> names;
  for (const PassInfo &p : passRegistry())
    names.push_back(p.name);
  return names;
}

std::vector<std::string> passesForLevel(int level) {
  if (level <= 0)
    return {};
  if (level == 1)
    return {"prune"};
  return {"prune", "fuse", "reuse"};
}

std::vector<std::string> canonicalPipeline(const std::vector<std::string> &names) {
  for (const std::string &n : names)
    if (!findPass(n)) {
      std::string msg = "unknown pass '" + n + "'";
      std::string near = closestMatch(n, passNames());
      msg += near.empty() ? "" : "; did you mean '" + near + "'?";
      throw UserError(msg + " (passes: prune, grad, fuse, amp, checkpoint, reuse, schedule)");
    }
  std::vector<std::string> out;
  for (const PassInfo &p : passRegistry())
    if (std::find(names.begin(), names.end(), p.name) != names.end())
      out.push_back(p.name);
  return out;
}

void runPipeline(Graph &g, const std::vector<std::string> &names, PassContext &ctx) {
  for (const std::string &name : canonicalPipeline(names)) {
    ctx.setCurrentPass(name);
    const auto start = std::chrono::steady_clock::now();
    findPass(name)->run(g, ctx);
    std::vector<std::string> problems = verify(g);
    std::string all;
    for (const std::string &p : problems)
      all += "\n  " + p;
    NNG_CHECK(problems.empty(), "pass '" + name + "' left an invalid graph:" + all);
    ctx.recordTime(name, std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count());
  }
  ctx.setCurrentPass("");
}

} // namespace nng

// What every graph pass sees: its options and a place to explain what it did. A pass
// is a function Graph -> Graph (in place) registered by name in the pass manager
// (pass_manager.h); it must leave a graph that passes the verifier.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ir/graph.h"

namespace nng {

// Options of the whole pipeline; each pass reads the ones that concern it.
struct PassOptions {
  int streams = 1;                     // schedule: parallel streams
  std::string checkpoint = "sqrt";     // checkpoint: "sqrt" or "budget:64MiB"
  std::optional<DType> amp;            // amp: F16 or BF16
  int64_t batch = 1;                   // size bound to every symbolic dimension, for
                                       // passes that need bytes (reuse, checkpoint budgets)
};

// One line of `--explain`: which pass, where in the source, what it did or why it
// declined ("not fused: t3 has 2 consumers").
struct PassNote {
  std::string pass;
  SourceLoc loc; // the node's source location; empty for notes about the whole graph
  std::string message;
};

class PassContext {
public:
  explicit PassContext(PassOptions options = {}) : options_(std::move(options)) {}

  const PassOptions &options() const { return options_; }

  // Whether anyone reads the notes (`--explain`): passes may skip building messages
  // that cost time on large graphs when nobody does.
  bool explaining() const { return explaining_; }
  void setExplaining(bool on) { explaining_ = on; }

  // Records a note for --explain; cheap enough to call on every decision.
  void explain(const SourceLoc &loc, std::string message) {
    if (explaining_)
      notes_.push_back(PassNote{current_, loc, std::move(message)});
  }
  void explain(std::string message) { explain(SourceLoc{}, std::move(message)); }
  const std::vector<PassNote> &notes() const { return notes_; }

  // Wall time of each pass run, in run order (`nng optimize --time`).
  void recordTime(const std::string &pass, double ms) { times_.emplace_back(pass, ms); }
  const std::vector<std::pair<std::string, double>> &times() const { return times_; }

  // Set by the pass manager around each pass.
  void setCurrentPass(std::string name) { current_ = std::move(name); }

private:
  PassOptions options_;
  std::string current_;
  bool explaining_ = true;
  std::vector<PassNote> notes_;
  std::vector<std::pair<std::string, double>> times_;
};

// Returns true when it changed the graph. Throws UserError for problems the user
// can fix (a budget no segmentation fits, an op without a gradient rule).
using PassFn = std::function<bool(Graph &, PassContext &)>;

struct PassInfo {
  std::string name; // as in `--passes` and the config's `passes:` list
  std::string doc;  // one line for `nng optimize --help` and docs/passes.md
  PassFn run;
};

} // namespace nng
